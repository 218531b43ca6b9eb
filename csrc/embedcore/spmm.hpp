// Sparse x dense products for truncated SVD and projections: Y = A X with A a float32 CSR matrix
// (m x n, nnz nonzeros) and X a row-major float32 matrix (n x p), and the same kernel for a tall
// dense A times a small X; the transpose of a CSR matrix
// (its CSC form, which is the CSR of A^T), so that A^T X is the same product; and a CSR check.
//
// Product: output row i is sum_k data[k] * X[indices[k], :] over the row's nonzeros, accumulated
// in SIMD registers across the p columns (AVX-512 or AVX2+FMA copies picked at run time, see
// simd.hpp; a plain loop at baseline), in float32 as scipy does for float32 operands. The rows are split
// among threads by nonzero count and every output row is written by exactly one thread in a fixed
// order, so the result is bit-identical for any thread count. Cost: 2 * nnz * p flops; the
// reads of X rows are random, so rows a few nonzeros ahead are prefetched.
// Transpose: a counting sort by column (Gustavson, "Two fast algorithms for sparse matrices",
// 1978) with per-thread column counts, so each thread scatters its own row block to precomputed
// slots: no atomics, and the same output (row indices ascending within a column) for any thread
// count. Cost: O(nnz + threads * n) time, threads * n counters of extra memory.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace embedcore {
namespace spmm {

using simd::Isa;

// The levels the products have copies of (written with intrinsics), and the one they run at for
// `forced` ("" for the best this CPU runs; see simd::select).
constexpr unsigned kLevels = simd::kIntrinsicLevels;
inline Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "sparse product"); }

// Row boundaries cutting [0, n_rows) into `parts` contiguous ranges of about equal work, where a
// row's work is its nonzero count plus one (so long runs of empty rows still get spread).
inline std::vector<index_t> balanced_row_splits(index_t n_rows, const index_t* indptr, int parts) {
    std::vector<index_t> splits(static_cast<std::size_t>(parts) + 1, n_rows);
    splits[0] = 0;
    const index_t total = indptr[n_rows] - indptr[0] + n_rows;
    index_t lo = 0;
    for (int t = 1; t < parts; ++t) {
        const index_t target = total * t / parts;
        // first row i >= lo with (indptr[i] - indptr[0] + i) >= target
        index_t a = lo, b = n_rows;
        while (a < b) {
            const index_t mid = a + (b - a) / 2;
            if (indptr[mid] - indptr[0] + mid < target) a = mid + 1; else b = mid;
        }
        splits[static_cast<std::size_t>(t)] = lo = a;
    }
    return splits;
}

// Prefetch distance in nonzeros: far enough to hide a memory access behind the FMAs of the rows
// in between, near enough that the lines are still in L1 when used.
#ifndef EMBEDCORE_SPMM_PREFETCH
#define EMBEDCORE_SPMM_PREFETCH 12
#endif
constexpr index_t kPrefetch = EMBEDCORE_SPMM_PREFETCH;

namespace detail {

// Column-block widths: as many floats as the registers hold as accumulators beside the
// broadcast value and the tail mask (AVX2: 14 of the 16 ymm registers, so that the 110 columns of
// k = 100 plus 10 oversamples take one pass over A, not two; AVX-512: 8 of 32 zmm).
constexpr index_t kBlockAvx512 = 128, kBlockAvx2 = 112, kBlockScalar = 64;

// The left operand: CSR (indptr, indices, data), or with kDense a row-major dense matrix `data`
// with row stride `lda` and `q` columns, read as if every row held all q columns.
struct Left {
    const index_t* indptr;
    const std::int32_t* indices;
    const float* data;
    index_t lda, q;
    bool accumulate;  // Y += A X: the accumulators start from Y's row instead of zero
};

#ifdef EMBEDCORE_INTRINSIC_VARIANTS
// Rows [r0, r1) of Y[:, c0:c0+w] = A X[:, c0:c0+w]; 1 <= w <= 16 * NV, NV vectors of 16 floats.
template <int NV, bool kDense>
EMBEDCORE_TARGET_AVX512 void rows_avx512(Left A, const float* X, index_t ldx, float* Y, index_t ldy,
                                                     index_t r0, index_t r1, index_t c0, int w) {
    const int tail = w - 16 * (NV - 1);  // 1..16 columns in the last vector
    const __mmask16 tail_mask = static_cast<__mmask16>(tail >= 16 ? 0xFFFFu : ((1u << tail) - 1u));
    const float* Xc = X + c0;
    for (index_t i = r0; i < r1; ++i) {
        float* y = Y + i * ldy + c0;
        __m512 acc[NV];
        for (int v = 0; v < NV - 1; ++v) acc[v] = A.accumulate ? _mm512_loadu_ps(y + 16 * v) : _mm512_setzero_ps();
        acc[NV - 1] = A.accumulate ? _mm512_maskz_loadu_ps(tail_mask, y + 16 * (NV - 1)) : _mm512_setzero_ps();
        const index_t begin = kDense ? i * A.lda : A.indptr[i];
        const index_t end = kDense ? begin + A.q : A.indptr[i + 1];
        for (index_t k = begin; k < end; ++k) {
            if (!kDense && k + kPrefetch < end) {
                const char* p = reinterpret_cast<const char*>(Xc + static_cast<index_t>(A.indices[k + kPrefetch]) * ldx);
                for (int v = 0; v < NV; ++v) simd::prefetch(p + 64 * v);
                simd::prefetch(p + 4 * (w - 1));
            }
            const __m512 a = _mm512_set1_ps(A.data[k]);
            const float* x = Xc + (kDense ? k - begin : static_cast<index_t>(A.indices[k])) * ldx;
            for (int v = 0; v < NV - 1; ++v) acc[v] = _mm512_fmadd_ps(a, _mm512_loadu_ps(x + 16 * v), acc[v]);
            acc[NV - 1] = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(tail_mask, x + 16 * (NV - 1)), acc[NV - 1]);
        }
        for (int v = 0; v < NV - 1; ++v) _mm512_storeu_ps(y + 16 * v, acc[v]);
        _mm512_mask_storeu_ps(y + 16 * (NV - 1), tail_mask, acc[NV - 1]);
    }
}

// The same with 8-float AVX2 vectors; the tail goes through vmaskmov, which never touches the
// masked-off floats (so reading past the last row of X is impossible).
template <int NV, bool kDense>
EMBEDCORE_TARGET_AVX2 void rows_avx2(Left A, const float* X, index_t ldx, float* Y, index_t ldy,
                                                   index_t r0, index_t r1, index_t c0, int w) {
    const int tail = w - 8 * (NV - 1);  // 1..8 columns in the last vector
    alignas(32) std::int32_t lanes[8];
    for (int l = 0; l < 8; ++l) lanes[l] = l < tail ? -1 : 0;
    const __m256i tail_mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
    const float* Xc = X + c0;
    for (index_t i = r0; i < r1; ++i) {
        float* y = Y + i * ldy + c0;
        __m256 acc[NV];
        for (int v = 0; v < NV - 1; ++v) acc[v] = A.accumulate ? _mm256_loadu_ps(y + 8 * v) : _mm256_setzero_ps();
        acc[NV - 1] = A.accumulate ? _mm256_maskload_ps(y + 8 * (NV - 1), tail_mask) : _mm256_setzero_ps();
        const index_t begin = kDense ? i * A.lda : A.indptr[i];
        const index_t end = kDense ? begin + A.q : A.indptr[i + 1];
        for (index_t k = begin; k < end; ++k) {
            if (!kDense && k + kPrefetch < end) {
                const char* p = reinterpret_cast<const char*>(Xc + static_cast<index_t>(A.indices[k + kPrefetch]) * ldx);
                for (int v = 0; v < NV; v += 2) simd::prefetch(p + 32 * v);
                simd::prefetch(p + 4 * (w - 1));
            }
            const __m256 a = _mm256_set1_ps(A.data[k]);
            const float* x = Xc + (kDense ? k - begin : static_cast<index_t>(A.indices[k])) * ldx;
            for (int v = 0; v < NV - 1; ++v) acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(x + 8 * v), acc[v]);
            acc[NV - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(x + 8 * (NV - 1), tail_mask), acc[NV - 1]);
        }
        for (int v = 0; v < NV - 1; ++v) _mm256_storeu_ps(y + 8 * v, acc[v]);
        _mm256_maskstore_ps(y + 8 * (NV - 1), tail_mask, acc[NV - 1]);
    }
}

// Picks the instantiation with nv = ceil(w / vector width) vectors.
template <int NV, bool kDense>
void dispatch_avx512(Left A, const float* X, index_t ldx, float* Y, index_t ldy, index_t r0, index_t r1,
                     index_t c0, int w, int nv) {
    if constexpr (NV > 1) {
        if (nv < NV) return dispatch_avx512<NV - 1, kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w, nv);
    }
    rows_avx512<NV, kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w);
}

template <int NV, bool kDense>
void dispatch_avx2(Left A, const float* X, index_t ldx, float* Y, index_t ldy, index_t r0, index_t r1,
                   index_t c0, int w, int nv) {
    if constexpr (NV > 1) {
        if (nv < NV) return dispatch_avx2<NV - 1, kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w, nv);
    }
    rows_avx2<NV, kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w);
}
#endif

// Portable fallback: a column block of at most kBlockScalar floats accumulated in a local array.
template <bool kDense>
void rows_scalar(Left A, const float* X, index_t ldx, float* Y, index_t ldy, index_t r0, index_t r1, index_t c0,
                 int w) {
    float acc[kBlockScalar];
    for (index_t i = r0; i < r1; ++i) {
        if (A.accumulate)
            std::memcpy(acc, Y + i * ldy + c0, sizeof(float) * static_cast<std::size_t>(w));
        else
            std::fill(acc, acc + w, 0.0f);
        const index_t begin = kDense ? i * A.lda : A.indptr[i];
        const index_t end = kDense ? begin + A.q : A.indptr[i + 1];
        for (index_t k = begin; k < end; ++k) {
            const float a = A.data[k];
            const float* x = X + (kDense ? k - begin : static_cast<index_t>(A.indices[k])) * ldx + c0;
            for (int c = 0; c < w; ++c) acc[c] += a * x[c];
        }
        std::memcpy(Y + i * ldy + c0, acc, sizeof(float) * static_cast<std::size_t>(w));
    }
}

// Rows [r0, r1) of Y = A X over all p columns, in column blocks as wide as the registers allow.
// Each output element is summed over its row's nonzeros in stored order whatever the block
// width, so the widths decide speed only.
template <bool kDense>
void rows_all_columns(Isa isa, Left A, const float* X, index_t ldx, float* Y, index_t ldy, index_t r0, index_t r1,
                      index_t p) {
    const index_t block = isa == Isa::Avx512 ? kBlockAvx512 : isa == Isa::Avx2 ? kBlockAvx2 : kBlockScalar;
    for (index_t c0 = 0; c0 < p; c0 += block) {
        const int w = static_cast<int>(std::min(block, p - c0));
#ifdef EMBEDCORE_INTRINSIC_VARIANTS
        if (isa == Isa::Avx512) {
            dispatch_avx512<kBlockAvx512 / 16, kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w, (w + 15) / 16);
            continue;
        }
        if (isa == Isa::Avx2) {
            dispatch_avx2<kBlockAvx2 / 8, kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w, (w + 7) / 8);
            continue;
        }
#endif
        rows_scalar<kDense>(A, X, ldx, Y, ldy, r0, r1, c0, w);
    }
}

}  // namespace detail

// Checks that (indptr, indices) describe a CSR matrix with n_rows rows and n_cols columns:
// indptr starts at 0, never decreases and ends at nnz, and every column index is in [0, n_cols).
// O(n_rows + nnz); every kernel below runs it first, since the arrays come from a caller who may
// have changed them after any earlier check (scipy builds a CSR with a decreasing indptr without
// complaint).
inline void check_csr(index_t n_rows, index_t n_cols, const index_t* indptr, const std::int32_t* indices,
                      index_t nnz, int threads) {
    require(n_rows >= 0 && n_cols >= 0, "CSR matrix with a negative dimension");
    require(indptr[0] == 0, "CSR indptr must start at 0, got " + std::to_string(indptr[0]));
    require(indptr[n_rows] == nnz, "CSR indptr must end at nnz = " + std::to_string(nnz) + ", got " +
                                       std::to_string(indptr[n_rows]));
    for (index_t i = 0; i < n_rows; ++i)
        if (indptr[i] > indptr[i + 1])
            throw std::invalid_argument("CSR indptr decreases at row " + std::to_string(i) + " (" +
                                        std::to_string(indptr[i]) + " > " + std::to_string(indptr[i + 1]) + ")");
    if (nnz < (index_t{1} << 22)) threads = 1;  // a few ms of work: not worth waking threads
    parallel_blocks(nnz, threads, [&](index_t begin, index_t end, int) {
        for (index_t k = begin; k < end; ++k) {
            const std::int32_t j = indices[k];
            if (j < 0 || j >= n_cols)
                throw std::invalid_argument("CSR column index " + std::to_string(j) + " at position " +
                                            std::to_string(k) + " is outside [0, " + std::to_string(n_cols) + ")");
        }
    });
}

// Y (n_rows x p, row stride ldy) = A X, A in CSR (n_rows x n_cols), X (n_cols x p, row stride ldx);
// with `accumulate`, Y += A X, each output entry continuing the same chain of float32 multiply-adds
// from Y's value, so that A^T X summed over consecutive row blocks of A (each block's transpose
// times its rows of X, added in block order) is bit-identical to one product with the whole A^T.
// The CSR is checked first (check_csr), then the shapes it is given.
inline void csr_matmul(index_t n_rows, index_t n_cols, const index_t* indptr, const std::int32_t* indices,
                       const float* data, const float* X, index_t ldx, index_t p, float* Y, index_t ldy,
                       int threads, Isa isa, bool accumulate = false) {
    require(n_rows >= 0 && n_cols >= 0 && p >= 0, "csr_matmul: negative dimension");
    require(ldx >= p && ldy >= p, "csr_matmul: row stride smaller than the number of columns");
    check_csr(n_rows, n_cols, indptr, indices, indptr[n_rows], threads);
    if (n_rows == 0 || p == 0) return;
    if (threads < 1) threads = 1;
    // Small products are not worth waking threads for.
    const index_t nnz = indptr[n_rows] - indptr[0];
    if ((nnz + n_rows) * p < (index_t{1} << 16)) threads = 1;
    threads = static_cast<int>(std::min<index_t>(threads, n_rows));
    const std::vector<index_t> splits = balanced_row_splits(n_rows, indptr, threads);
    const detail::Left A{indptr, indices, data, 0, 0, accumulate};
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t part = begin; part < end; ++part)
            detail::rows_all_columns<false>(isa, A, X, ldx, Y, ldy, splits[part], splits[part + 1], p);
    });
}

// Y (n_rows x p, row stride ldy) = A X for a dense row-major A (n_rows x q, row stride lda) and
// X (q x p, row stride ldx): the same register-blocked kernel, for a tall A and a small X (which
// then stays in cache), as in multiplying a tall basis by a small square matrix.
inline void dense_matmul(index_t n_rows, index_t q, const float* A, index_t lda, const float* X, index_t ldx,
                         index_t p, float* Y, index_t ldy, int threads, Isa isa) {
    require(n_rows >= 0 && q >= 0 && p >= 0, "dense_matmul: negative dimension");
    require(lda >= q && ldx >= p && ldy >= p, "dense_matmul: row stride smaller than the number of columns");
    if (n_rows == 0 || p == 0) return;
    if (q == 0) {
        for (index_t i = 0; i < n_rows; ++i) std::fill(Y + i * ldy, Y + i * ldy + p, 0.0f);
        return;
    }
    if (threads < 1) threads = 1;
    if (n_rows * q * p < (index_t{1} << 18)) threads = 1;
    threads = static_cast<int>(std::min<index_t>(threads, n_rows));
    const detail::Left left{nullptr, nullptr, A, lda, q, false};
    parallel_blocks(n_rows, threads, [&](index_t begin, index_t end, int) {
        detail::rows_all_columns<true>(isa, left, X, ldx, Y, ldy, begin, end, p);
    });
}

// The CSR of A^T (n_cols x n_rows) from the CSR of A: t_indptr has n_cols + 1 entries, t_indices
// and t_data nnz each. Row indices of A must fit in int32. The CSR is checked first (check_csr).
inline void csr_transpose(index_t n_rows, index_t n_cols, const index_t* indptr, const std::int32_t* indices,
                          const float* data, index_t* t_indptr, std::int32_t* t_indices, float* t_data,
                          int threads) {
    require(n_rows <= INT32_MAX, "csr_transpose: more rows than int32 indices can hold");
    check_csr(n_rows, n_cols, indptr, indices, indptr[n_rows], threads);
    if (threads < 1) threads = 1;
    const index_t nnz = indptr[n_rows];
    if (nnz < (index_t{1} << 18)) threads = 1;
    threads = static_cast<int>(std::max<index_t>(1, std::min<index_t>(threads, n_rows)));
    const std::vector<index_t> splits = balanced_row_splits(n_rows, indptr, threads);
    // next[t * n_cols + c]: where thread t writes its next entry of column c
    std::vector<index_t> next(static_cast<std::size_t>(threads) * static_cast<std::size_t>(n_cols), 0);
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t) {
            index_t* count = next.data() + t * n_cols;
            for (index_t k = indptr[splits[t]]; k < indptr[splits[t + 1]]; ++k) ++count[indices[k]];
        }
    });
    index_t pos = 0;
    for (index_t c = 0; c < n_cols; ++c) {
        t_indptr[c] = pos;
        for (int t = 0; t < threads; ++t) {
            index_t& slot = next[static_cast<std::size_t>(t) * n_cols + c];
            const index_t count = slot;
            slot = pos;
            pos += count;
        }
    }
    t_indptr[n_cols] = pos;
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t) {
            index_t* slot = next.data() + t * n_cols;
            for (index_t i = splits[t]; i < splits[t + 1]; ++i) {
                for (index_t k = indptr[i]; k < indptr[i + 1]; ++k) {
                    const index_t dst = slot[indices[k]]++;
                    t_indices[dst] = static_cast<std::int32_t>(i);
                    t_data[dst] = data[k];
                }
            }
        }
    });
}

}  // namespace spmm
}  // namespace embedcore
