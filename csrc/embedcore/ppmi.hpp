// Positive pointwise mutual information of a co-occurrence matrix, with context-distribution
// smoothing and a shift (Levy, Goldberg and Dagan, "Improving distributional similarity with
// lessons learned from word embeddings", TACL 2015):
//   PMI(w, c) = log( C[w,c] * sum_c' n(c')^cds / (n(w) * n(c)^cds) ) - log(shift)
// with n(w) the row sums and n(c) the column sums of C; only entries with PMI > 0 are kept.
//
// Two steps, so that a matrix too large for memory can be weighted one row block (shard) at a
// time with the same arithmetic as in memory:
// (1) add_column_sums: the column sums in float64, as partial sums over a fixed number of row
// groups added in group order, so the sums (and everything after) do not depend on the thread
// count; called once per row block, adding into one array.
// (2) ppmi_with_column_sums, given the whole matrix's column sums: the row sums (float64, each
// row's own), then the PMI of every nonzero, counting the positive ones per row (the log in
// float32 by a vectorisable polynomial, relative error ~1e-7, so results match a float64 formula
// to ~1e-6), then after a prefix sum over the rows, the positive entries packed in input order.
// `ppmi` is both steps on one matrix. Each pass is parallel over row blocks of about equal
// nonzero count.
// Cost: O(nnz + n_cols) time per call with one log per nonzero (and one log and exp per column in
// step 2; the column-sum partials are sized so that their cost stays within O(nnz + n_cols)); the
// caller's output arrays have room for nnz entries.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "ecmath/ppmi.hpp"
#include "parallel.hpp"
#include "simd.hpp"
#include "spmm.hpp"

namespace embedcore {
namespace ppmi {

// Where the result goes: indptr has n_rows + 1 entries; indices and data have room for nnz
// entries (the input's count, an upper bound), of which the first indptr[n_rows] are filled.
struct Output {
    index_t* indptr;
    std::int32_t* indices;
    float* data;
};

// Column-sum partials live in at most this many float64 arrays of n_cols entries: at most 16, no
// more than the nonzeros fill (nnz / n_cols, so that zeroing and adding them up costs no more than
// the pass over the nonzeros: with a large vocabulary and a small matrix or shard, one array), and
// fewer when n_cols is large, so they stay under 256 MiB. A function of the shape and nnz only,
// not the threads.
inline int column_sum_groups(index_t n_cols, index_t nnz) {
    const index_t columns = std::max<index_t>(n_cols, 1);
    const index_t budget = (index_t{256} << 20) / 8;
    return static_cast<int>(std::max<index_t>(1, std::min<index_t>({16, budget / columns, nnz / columns})));
}

namespace detail {

// log(x) for finite x > 0 as Cephes' logf computes it (relative error about 1e-7): split
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then a degree-9 polynomial in m - 1. Branch-free,
// so loops over it vectorise; subnormal x is scaled by 2^24 first.
EMBEDCORE_FORCE_INLINE float log_positive(float x) {
    const bool tiny = x < 1.17549435e-38f;
    x = tiny ? x * 16777216.0f : x;
    std::uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    float e = static_cast<float>(static_cast<std::int32_t>(bits >> 23) - 126) - (tiny ? 24.0f : 0.0f);
    bits = (bits & 0x007FFFFFu) | 0x3F000000u;  // m in [0.5, 1)
    float m;
    std::memcpy(&m, &bits, sizeof m);
    const bool low = m < 0.70710678f;
    e = low ? e - 1.0f : e;
    const float f = low ? m + m - 1.0f : m - 1.0f;
    const float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    return f + y + 0.693359375f * e;
}

// Rows [r0, r1): pmi[k] for each nonzero (0 where not positive), kept[i] = positive entries of
// row i. The row offset is taken in float64 before the float32 inner loop. The value of an entry
// is the shared ecmath::ppmi_value. Written once, compiled at baseline and for AVX2 (where the
// column terms are gathered); AVX-512 runs the intrinsics version below (16 logs at a time).
EMBEDCORE_FORCE_INLINE void pmi_rows_body(index_t r0, index_t r1, const index_t* indptr,
                                          const std::int32_t* EMBEDCORE_RESTRICT indices,
                                          const float* EMBEDCORE_RESTRICT data, const double* row_sum,
                                          double log_total, double log_shift, const float* EMBEDCORE_RESTRICT col_term,
                                          float* EMBEDCORE_RESTRICT pmi, index_t* kept) {
    for (index_t i = r0; i < r1; ++i) {
        const float row_offset = static_cast<float>(ecmath::ppmi_row_offset(log_total, row_sum[i], log_shift));
        const index_t begin = indptr[i], end = indptr[i + 1];
        std::int32_t count = 0;  // a row has fewer than 2^31 nonzeros
#if defined(_OPENMP)
#pragma omp simd reduction(+ : count)
#endif
        for (index_t k = begin; k < end; ++k) {
            const float c = data[k];
            // log 0 = -inf: a zero count is dropped
            const float v = c > 0.0f ? ecmath::ppmi_value(log_positive(c > 0.0f ? c : 1.0f), row_offset, col_term[indices[k]]) : 0.0f;
            pmi[k] = v;
            count += v > 0.0f;
        }
        kept[i] = count;
    }
}

#define EMBEDCORE_PMI_ROWS_ARGS                                                                                   \
    index_t r0, index_t r1, const index_t *indptr, const std::int32_t *indices, const float *data,               \
        const double *row_sum, double log_total, double log_shift, const float *col_term, float *pmi, index_t *kept
#define EMBEDCORE_PMI_ROWS_CALL r0, r1, indptr, indices, data, row_sum, log_total, log_shift, col_term, pmi, kept

using PmiRows = void (*)(index_t, index_t, const index_t*, const std::int32_t*, const float*, const double*,
                         double, double, const float*, float*, index_t*);

inline void pmi_rows_baseline(EMBEDCORE_PMI_ROWS_ARGS) { pmi_rows_body(EMBEDCORE_PMI_ROWS_CALL); }

#ifdef EMBEDCORE_GENERIC_VARIANTS
EMBEDCORE_TARGET_AVX2 inline void pmi_rows_avx2(EMBEDCORE_PMI_ROWS_ARGS) { pmi_rows_body(EMBEDCORE_PMI_ROWS_CALL); }
#endif

#ifdef EMBEDCORE_INTRINSIC_VARIANTS
EMBEDCORE_DIAGNOSTIC_PUSH_UNINITIALIZED
// log_positive on 16 lanes (the same Cephes polynomial).
EMBEDCORE_TARGET_AVX512 inline __m512 log_positive16(__m512 x) {
    const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
    x = _mm512_mask_mul_ps(x, tiny, x, _mm512_set1_ps(16777216.0f));
    const __m512i bits = _mm512_castps_si512(x);
    __m512 e = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(126)));
    e = _mm512_mask_sub_ps(e, tiny, e, _mm512_set1_ps(24.0f));
    const __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x007FFFFF)),
                                                         _mm512_set1_epi32(0x3F000000)));
    const __mmask16 low = _mm512_cmp_ps_mask(m, _mm512_set1_ps(0.70710678f), _CMP_LT_OQ);
    e = _mm512_mask_sub_ps(e, low, e, _mm512_set1_ps(1.0f));
    __m512 f = _mm512_sub_ps(m, _mm512_set1_ps(1.0f));
    f = _mm512_mask_add_ps(f, low, f, m);
    const __m512 z = _mm512_mul_ps(f, f);
    __m512 y = _mm512_set1_ps(7.0376836292e-2f);
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.1514610310e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.1676998740e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.2420140846e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.4249322787e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.6668057665e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(2.0000714765e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-2.4999993993e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(3.3333331174e-1f));
    y = _mm512_mul_ps(_mm512_mul_ps(y, f), z);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
    y = _mm512_fmadd_ps(z, _mm512_set1_ps(-0.5f), y);
    return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(f, y));
}

// ecmath::ppmi_value on 16 entries at a time.
EMBEDCORE_TARGET_AVX512 inline void pmi_rows_avx512(EMBEDCORE_PMI_ROWS_ARGS) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    for (index_t i = r0; i < r1; ++i) {
        const __m512 row_offset =
            _mm512_set1_ps(static_cast<float>(ecmath::ppmi_row_offset(log_total, row_sum[i], log_shift)));
        const index_t end = indptr[i + 1];
        std::int32_t count = 0;
        for (index_t k = indptr[i]; k < end; k += 16) {
            const __mmask16 lanes = end - k >= 16 ? static_cast<__mmask16>(0xFFFF)
                                                  : static_cast<__mmask16>((1u << (end - k)) - 1u);
            const __m512 c = _mm512_maskz_loadu_ps(lanes, data + k);
            const __m512i idx = _mm512_maskz_loadu_epi32(lanes, indices + k);
            const __mmask16 positive = _mm512_mask_cmp_ps_mask(lanes, c, zero, _CMP_GT_OQ);
            const __m512 ct = _mm512_mask_i32gather_ps(zero, positive, idx, col_term, 4);
            const __m512 value = _mm512_sub_ps(_mm512_add_ps(log_positive16(_mm512_mask_blend_ps(positive, one, c)),
                                                             row_offset), ct);
            const __mmask16 keep = _mm512_mask_cmp_ps_mask(positive, value, zero, _CMP_GT_OQ);
            _mm512_mask_storeu_ps(pmi + k, lanes, _mm512_maskz_mov_ps(keep, value));
            count += simd::popcount32(static_cast<std::uint32_t>(keep));
        }
        kept[i] = count;
    }
}
EMBEDCORE_DIAGNOSTIC_POP
#endif

inline PmiRows pmi_rows_fn(simd::Isa isa) {
#ifdef EMBEDCORE_INTRINSIC_VARIANTS
    if (isa == simd::Isa::Avx512) return &pmi_rows_avx512;
#endif
#ifdef EMBEDCORE_GENERIC_VARIANTS
    if (isa == simd::Isa::Avx2) return &pmi_rows_avx2;
#endif
    (void)isa;
    return &pmi_rows_baseline;
}

}  // namespace detail

// The levels this kernel has copies of: the AVX-512 one is written with intrinsics, the AVX2 one
// is the portable body compiled for AVX2. The level it runs at for `forced` ("" for the best this
// CPU runs; see simd::select).
constexpr unsigned kLevels = simd::kBaselineOnly | (simd::kIntrinsicLevels & simd::level_bit(simd::Isa::Avx512)) |
                             (simd::kGenericLevels & simd::level_bit(simd::Isa::Avx2));
inline simd::Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "PPMI"); }

namespace detail {

// Throws unless every count is finite and non-negative, naming the row (numbered from
// `row_base`, the block's first row in the whole matrix).
EMBEDCORE_FORCE_INLINE void check_count(float v, index_t row) {
    if (!(v >= 0.0f) || !std::isfinite(v))
        throw std::invalid_argument("ppmi: counts must be finite and non-negative, got " + std::to_string(v) +
                                    " in row " + std::to_string(row));
}

}  // namespace detail

// Step (1): col_sums[c] += the sum of column c of this CSR (n_cols float64 entries, which the
// caller zeroes before the first block). Called once for a matrix in memory, once per row block
// (shard) for a matrix streamed from disk; the counts are checked on the way. The sum of each call
// is formed in a fixed order (partials over row groups fixed by the shape, added in group order),
// so it does not depend on the thread count.
inline void add_column_sums(index_t n_rows, index_t n_cols, const index_t* indptr, const std::int32_t* indices,
                            const float* data, int threads, double* col_sums) {
    require(n_rows >= 0 && n_cols >= 0, "ppmi: negative dimension");
    if (threads < 1) threads = 1;
    spmm::check_csr(n_rows, n_cols, indptr, indices, indptr[n_rows], threads);
    const index_t nnz = indptr[n_rows];
    if (n_rows == 0 || nnz == 0) return;
    if (nnz < (index_t{1} << 18)) threads = 1;
    // Row groups are fixed by the shape; threads take whole groups.
    const int groups =
        static_cast<int>(std::max<index_t>(1, std::min<index_t>(column_sum_groups(n_cols, nnz), n_rows)));
    const std::vector<index_t> group_rows = spmm::balanced_row_splits(n_rows, indptr, groups);
    std::vector<double> partial(static_cast<std::size_t>(groups) * static_cast<std::size_t>(n_cols), 0.0);
    parallel_blocks(groups, std::min(threads, groups), [&](index_t begin, index_t end, int) {
        for (index_t g = begin; g < end; ++g) {
            double* col = partial.data() + g * n_cols;
            for (index_t i = group_rows[g]; i < group_rows[g + 1]; ++i)
                for (index_t k = indptr[i]; k < indptr[i + 1]; ++k) {
                    const float v = data[k];
                    detail::check_count(v, i);
                    col[indices[k]] += v;
                }
        }
    });
    for (index_t c = 0; c < n_cols; ++c) {
        double s = 0.0;
        for (int g = 0; g < groups; ++g) s += partial[static_cast<std::size_t>(g) * n_cols + c];
        col_sums[c] += s;
    }
}

// Step (2): the positive PMI of the rows of this CSR, given the column sums of the whole matrix
// (col_sums, n_cols entries, from add_column_sums over every row block). Row sums are the rows'
// own, so a row block is weighted exactly as those rows are in the whole matrix. Returns the
// number of entries kept, out.indptr[n_rows]. The CSR is checked first.
inline index_t ppmi_with_column_sums(index_t n_rows, index_t n_cols, const index_t* indptr,
                                     const std::int32_t* indices, const float* data, const double* col_sums,
                                     double cds, double shift, int threads, Output out,
                                     simd::Isa isa = select_isa("")) {
    require(std::isfinite(cds) && cds > 0, "ppmi: cds must be a positive finite number");
    require(std::isfinite(shift) && shift > 0, "ppmi: shift must be a positive finite number");
    require(n_rows >= 0 && n_cols >= 0, "ppmi: negative dimension");
    if (threads < 1) threads = 1;
    spmm::check_csr(n_rows, n_cols, indptr, indices, indptr[n_rows], threads);
    const index_t nnz = indptr[n_rows];
    std::fill(out.indptr, out.indptr + n_rows + 1, index_t{0});
    if (n_rows == 0 || nnz == 0) return 0;
    if (nnz < (index_t{1} << 18)) threads = 1;
    threads = static_cast<int>(std::max<index_t>(1, std::min<index_t>(threads, n_rows)));

    std::vector<float> col_term(static_cast<std::size_t>(n_cols));  // cds * log n(c)
    double smoothed_total = 0.0;                                    // sum_c n(c)^cds
    for (index_t c = 0; c < n_cols; ++c) {
        const double s = col_sums[c];
        require(s >= 0 && std::isfinite(s), "ppmi: column sums must be finite and non-negative");
        if (s > 0) {
            const double term = cds * std::log(s);
            col_term[static_cast<std::size_t>(c)] = static_cast<float>(term);
            smoothed_total += std::exp(term);
        } else {
            col_term[static_cast<std::size_t>(c)] = 0.0f;  // no nonzero of C is in this column
        }
    }
    if (!(smoothed_total > 0)) return 0;
    const double log_total = std::log(smoothed_total), log_shift = std::log(shift);

    // Row sums in float64, each row's in its own order (the same in any block that holds the row).
    const std::vector<index_t> splits = spmm::balanced_row_splits(n_rows, indptr, threads);
    std::vector<double> row_sum(static_cast<std::size_t>(n_rows), 0.0);
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t)
            for (index_t i = splits[t]; i < splits[t + 1]; ++i) {
                double s = 0.0;
                for (index_t k = indptr[i]; k < indptr[i + 1]; ++k) {
                    detail::check_count(data[k], i);
                    s += data[k];
                }
                row_sum[static_cast<std::size_t>(i)] = s;
            }
    });

    // PMI of every nonzero, written at its input position into out.data (the output has at most
    // nnz entries, so that array doubles as the scratch); kept[i] = positive entries of row i.
    float* values = out.data;
    std::int32_t* columns = out.indices;
    const auto rows = detail::pmi_rows_fn(isa);
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t)
            rows(splits[t], splits[t + 1], indptr, indices, data, row_sum.data(), log_total, log_shift,
                 col_term.data(), values, out.indptr + 1);
    });
    for (index_t i = 0; i < n_rows; ++i) out.indptr[i + 1] += out.indptr[i];

    // Compact: each thread packs the positive entries of its own row block to the front of that
    // block (in place: the write position never passes the read position), then the packed blocks
    // slide down to their final offsets in thread order.
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t) {
            const index_t first = indptr[splits[t]], last = indptr[splits[t + 1]];
            index_t dst = first;
            for (index_t k = first; k < last; ++k) {
                const float value = values[k];
                values[dst] = value;
                columns[dst] = indices[k];
                dst += value > 0.0f;
            }
        }
    });
    for (int t = 0; t < threads; ++t) {
        const index_t src = indptr[splits[t]], dst = out.indptr[splits[t]];
        const index_t count = out.indptr[splits[t + 1]] - dst;
        if (src != dst && count > 0) {
            std::memmove(values + dst, values + src, sizeof(float) * static_cast<std::size_t>(count));
            std::memmove(columns + dst, columns + src, sizeof(std::int32_t) * static_cast<std::size_t>(count));
        }
    }
    return out.indptr[n_rows];
}

// The positive PMI of a matrix in memory: both steps on the one matrix. Returns the number of
// entries kept, out.indptr[n_rows]. The CSR is checked first.
inline index_t ppmi(index_t n_rows, index_t n_cols, const index_t* indptr, const std::int32_t* indices,
                    const float* data, double cds, double shift, int threads, Output out,
                    simd::Isa isa = select_isa("")) {
    require(std::isfinite(cds) && cds > 0, "ppmi: cds must be a positive finite number");
    require(std::isfinite(shift) && shift > 0, "ppmi: shift must be a positive finite number");
    require(n_rows >= 0 && n_cols >= 0, "ppmi: negative dimension");
    std::vector<double> col_sums(static_cast<std::size_t>(n_cols), 0.0);
    add_column_sums(n_rows, n_cols, indptr, indices, data, threads, col_sums.data());
    return ppmi_with_column_sums(n_rows, n_cols, indptr, indices, data, col_sums.data(), cds, shift, threads,
                                 out, isa);
}

}  // namespace ppmi
}  // namespace embedcore
