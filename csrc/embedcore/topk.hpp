// Exact top-k by cosine similarity: for each query row, the k database rows with the largest
// inner product of unit-normalised rows, sorted by descending score, ties by lower row index.
// The same search by raw inner product (Problem::inner_product, for user x item factors), with
// a sorted list of database rows per query to leave out (Problem::skip_indptr/skip_indices, a
// CSR): the list is walked with a cursor as candidates arrive in increasing row order, so an
// excluded row costs one comparison when it passes the threshold and nothing otherwise.
//
// Algorithm: the score matrix is produced tile by tile (a query block of `tile_queries` rows
// against a database tile of `tile_database` rows, one SGEMM each) and every tile is consumed at
// once by a selection pass, so the nq x nb matrix never exists and memory stays bounded. The
// selection keeps per query a binary heap of its k best candidates whose root (the worst of them)
// is the threshold: a SIMD compare of each score row against the threshold rejects almost every
// score, and only the few survivors touch the heap (threshold-first selection as in faiss's and
// BLAS-based k-NN searches). Database rows are scanned in increasing order inside a range, so a
// strict `>` against the threshold breaks ties by lower index; ranges searched by different
// threads are merged with the same order.
//
// Exactness: a tile score depends (in its last bits) on where a row sits in a tile and on the
// rounding of the normalised copies, so the compare runs against the threshold less a bound on
// that float32 error, and each survivor is rescored once: the cosine of the rows as given, in
// double with a fixed summation order, rounded to float. Results carry these scores, which do
// not depend on tiling or threads; equal rows tie exactly.
//
// Ties: rows whose scores differ by less than the float32 bound (equal, zero, near-duplicate
// rows) would all pass that compare and each cost a rescore that loses (7-14x the time of random
// rows). A tile that wastes many rescores switches the search to centred tiles (centre_tile):
// the tile's mean is taken out and multiplied with the query in double, so the bound shrinks
// with the spread of the tile's rows; and the threshold is the midpoint between the k-th score
// and the next float, so a candidate that can only tie with the k-th score (and would lose the
// tie to the lower row already kept) is rejected by the compare itself.
//
// Parallelism: over query slices when there are many queries, over database slices (then a
// merge) when there are few. SGEMM is called from inside each thread, so the BLAS behind the
// function pointer must run single-threaded for the duration of the call (the caller arranges it).
//
// Complexity: 2 * nq * nb * d flops for the products, O(nq * nb) compares, and for rows in
// random order (or tied rows in centred tiles) O(nq * k log(nb / k)) survivors, each rescored
// in O(d) and inserted in O(log k).
// Memory: one tile per thread plus 16 k bytes of candidates per query in flight.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "embedcore/common.hpp"
#include "embedcore/parallel.hpp"
#include "embedcore/simd.hpp"

namespace embedcore {
namespace topk {

// Fortran SGEMM as exported by BLAS (column-major; every argument by pointer).
using sgemm_fn = void (*)(char* transa, char* transb, int* m, int* n, int* k, float* alpha,
                          float* a, int* lda, float* b, int* ldb, float* beta, float* c, int* ldc);

struct Cand {
    float score;
    index_t index;
};

// The total order of results: higher score first, then lower index.
inline bool better(const Cand& a, const Cand& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
}

// The k best candidates of one query so far, as a binary heap whose root is the worst of them;
// `thr` is the root's score once the heap holds k entries (-inf before).
struct Buffer {
    Cand* cand;
    index_t count;
    float thr;
    // the query's excluded rows not yet passed (sorted; skip == skip_end when none are left)
    const std::int32_t* skip;
    const std::int32_t* skip_end;
};

inline void heap_insert(Cand* h, index_t i, Cand x) {
    // the worse element rises towards the root
    while (i > 0) {
        const index_t parent = (i - 1) / 2;
        if (!better(h[parent], x)) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

inline void heap_replace_root(Cand* h, index_t n, Cand x) {
    index_t i = 0;
    for (;;) {
        index_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && better(h[child], h[child + 1])) ++child;  // the worse child
        if (!better(x, h[child])) break;
        h[i] = h[child];
        i = child;
    }
    h[i] = x;
}

// What a scan of one score row needs besides the row.
struct ScanContext {
    Buffer* buf;
    index_t exclude;      // database row to skip, -1 for none
    index_t k;
    double offset;        // added to a tile score: the query's product with the tile's centre
    double bound;         // bound on |offset + tile score - exact score before its rounding|
    const float* query;   // the query row as given
    double query_sq;      // its squared norm (squared_norm)
    const float* rows;    // the database rows as given, row 0 = database row `base`
    const double* row_sq; // their squared norms (row 0 = database row `base`), or nullptr
    index_t d;
    bool inner;           // score by inner product instead of cosine
    float cut;            // tile scores <= cut cannot beat the threshold (cut_for)
    index_t wasted;       // rescored candidates that did not beat the threshold
};

// The largest tile score that cannot give an exact score above the threshold thr. An exact
// score is a double v rounded once to float, and v < mid (the midpoint of thr and the next
// float) rounds to at most thr, so a candidate with offset + tile <= mid - bound loses, ties
// with thr included: equal rows are rejected by the compare, without a rescore.
inline float cut_for(const ScanContext& c) {
    const float thr = c.buf->thr;
    if (thr == -std::numeric_limits<float>::infinity()) return thr;
    const double mid = 0.5 * (double(thr) + double(std::nextafter(thr, std::numeric_limits<float>::infinity())));
    const double v = mid - c.offset - c.bound;
    float f = float(v);
    if (double(f) > v) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    return f;
}

// True when database row idx is left out for this query. Candidates of a query arrive in
// increasing row order, so the cursor into its sorted exclusion list only moves forward.
inline bool skipped(ScanContext& c, index_t idx) {
    if (idx == c.exclude) return true;
    Buffer& b = *c.buf;
    while (b.skip != b.skip_end && index_t(*b.skip) < idx) ++b.skip;
    return b.skip != b.skip_end && index_t(*b.skip) == idx;
}

// The score every result carries: the cosine of the rows as given, computed in double and
// rounded once: dot / sqrt(|a|^2 |b|^2), each sum over eight lanes (lane l takes the terms
// j = l mod 8) added by a fixed tree. Products of two floats are exact in double, so fused and
// unfused multiply-adds agree and every SIMD variant below returns the same bits. The score does
// not depend on where a row falls in a tile or a thread's range, nor on rounding in a normalised
// copy: equal rows (and rows equal up to a power-of-two scale) tie exactly, and ties go to the
// lower index.
inline double reduce_lanes(const double* l) {
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

inline float cosine_from(double dot, double a_sq, double b_sq) {
    return (a_sq > 0.0 && b_sq > 0.0) ? float(dot / std::sqrt(a_sq * b_sq)) : 0.0f;
}

// The exact score of one pair: the inner product rounded once, or the cosine.
inline float score_from(bool inner, double dot, double a_sq, double b_sq) {
    return inner ? float(dot) : cosine_from(dot, a_sq, b_sq);
}

inline float exact_score(const float* a, const float* b, index_t d, double a_sq, bool inner) {
    double dot[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sq[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t j = 0;
    for (; j + 8 <= d; j += 8)
        for (int l = 0; l < 8; ++l) {
            dot[l] += double(a[j + l]) * double(b[j + l]);
            sq[l] += double(b[j + l]) * double(b[j + l]);
        }
    for (int l = 0; j + l < d; ++l) {
        dot[l] += double(a[j + l]) * double(b[j + l]);
        sq[l] += double(b[j + l]) * double(b[j + l]);
    }
    return score_from(inner, reduce_lanes(dot), a_sq, reduce_lanes(sq));
}

// Keeps an exactly scored candidate that beats the threshold. Rows arrive in increasing index
// order, so a strict `>` keeps the lower index of a tie.
inline void accept(ScanContext& c, float s, index_t idx) {
    Buffer& b = *c.buf;
    if (!(s > b.thr)) {
        ++c.wasted;
        return;
    }
    if (b.count < c.k) {
        heap_insert(b.cand, b.count, Cand{s, idx});
        if (++b.count == c.k) b.thr = b.cand[0].score;
    } else {
        heap_replace_root(b.cand, b.count, Cand{s, idx});
        b.thr = b.cand[0].score;
    }
    c.cut = cut_for(c);
}

// A zero row or a zero query scores exactly 0 (cosine and inner product): no rescore needed.
inline bool zero_pair(const ScanContext& c, index_t j) {
    return (c.row_sq && c.row_sq[j] == 0.0) || c.query_sq == 0.0;
}

// A score that passed the tile-level compare (tile score > cut): rescored exactly, then kept
// when it beats the threshold.
inline void push(ScanContext& c, index_t base, index_t j) {
    if (skipped(c, base + j)) return;
    if (zero_pair(c, j)) return accept(c, 0.0f, base + j);
    accept(c, exact_score(c.query, c.rows + j * c.d, c.d, c.query_sq, c.inner), base + j);
}

// Appends the scores of one row that beat the threshold; row[j] belongs to database row base + j.
inline void scan_scalar(const float* row, index_t n, index_t base, ScanContext& c) {
    for (index_t j = 0; j < n; ++j) {
        if (row[j] > c.cut) push(c, base, j);
    }
}

#ifdef EMBEDCORE_INTRINSIC_VARIANTS
EMBEDCORE_TARGET_AVX2
inline float exact_score_avx2(const float* a, const float* b, index_t d, double a_sq, bool inner) {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    __m256d sq_lo = _mm256_setzero_pd(), sq_hi = _mm256_setzero_pd();
    index_t j = 0;
    for (; j + 8 <= d; j += 8) {
        const __m256d b0 = _mm256_cvtps_pd(_mm_loadu_ps(b + j)), b1 = _mm256_cvtps_pd(_mm_loadu_ps(b + j + 4));
        lo = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + j)), b0, lo);
        hi = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + j + 4)), b1, hi);
        sq_lo = _mm256_fmadd_pd(b0, b0, sq_lo);
        sq_hi = _mm256_fmadd_pd(b1, b1, sq_hi);
    }
    alignas(32) double dot[8], sq[8];
    _mm256_store_pd(dot, lo);
    _mm256_store_pd(dot + 4, hi);
    _mm256_store_pd(sq, sq_lo);
    _mm256_store_pd(sq + 4, sq_hi);
    for (int l = 0; j + l < d; ++l) {
        dot[l] += double(a[j + l]) * double(b[j + l]);
        sq[l] += double(b[j + l]) * double(b[j + l]);
    }
    return score_from(inner, reduce_lanes(dot), a_sq, reduce_lanes(sq));
}

EMBEDCORE_TARGET_AVX2
inline void push_avx2(ScanContext& c, index_t base, index_t j) {
    if (skipped(c, base + j)) return;
    if (zero_pair(c, j)) return accept(c, 0.0f, base + j);
    accept(c, exact_score_avx2(c.query, c.rows + j * c.d, c.d, c.query_sq, c.inner), base + j);
}

// GCC 12 reports the unset upper half that _mm512_cvtps_pd starts from as "maybe uninitialized"
EMBEDCORE_DIAGNOSTIC_PUSH_UNINITIALIZED
EMBEDCORE_TARGET_AVX512
inline float exact_score_avx512(const float* a, const float* b, index_t d, double a_sq, bool inner) {
    __m512d acc = _mm512_setzero_pd(), sq_acc = _mm512_setzero_pd();
    index_t j = 0;
    for (; j + 8 <= d; j += 8) {
        const __m512d bv = _mm512_cvtps_pd(_mm256_loadu_ps(b + j));
        acc = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + j)), bv, acc);
        sq_acc = _mm512_fmadd_pd(bv, bv, sq_acc);
    }
    alignas(64) double dot[8], sq[8];
    _mm512_store_pd(dot, acc);
    _mm512_store_pd(sq, sq_acc);
    for (int l = 0; j + l < d; ++l) {
        dot[l] += double(a[j + l]) * double(b[j + l]);
        sq[l] += double(b[j + l]) * double(b[j + l]);
    }
    return score_from(inner, reduce_lanes(dot), a_sq, reduce_lanes(sq));
}

EMBEDCORE_TARGET_AVX512
inline void push_avx512(ScanContext& c, index_t base, index_t j) {
    if (skipped(c, base + j)) return;
    if (zero_pair(c, j)) return accept(c, 0.0f, base + j);
    accept(c, exact_score_avx512(c.query, c.rows + j * c.d, c.d, c.query_sq, c.inner), base + j);
}

EMBEDCORE_TARGET_AVX2
inline void scan_avx2(const float* row, index_t n, index_t base, ScanContext& c) {
    index_t j = 0;
    __m256 t = _mm256_set1_ps(c.cut);
    for (; j + 32 <= n; j += 32) {
        const int m0 = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j), t, _CMP_GT_OQ));
        const int m1 = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j + 8), t, _CMP_GT_OQ));
        const int m2 = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j + 16), t, _CMP_GT_OQ));
        const int m3 = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j + 24), t, _CMP_GT_OQ));
        unsigned mask = unsigned(m0) | (unsigned(m1) << 8) | (unsigned(m2) << 16) | (unsigned(m3) << 24);
        if (mask == 0) continue;
        while (mask) {
            const int bit = simd::ctz32(mask);
            mask &= mask - 1;
            // the threshold may have risen since the compare: re-check before the exact score
            if (row[j + bit] > c.cut) push_avx2(c, base, j + bit);
        }
        t = _mm256_set1_ps(c.cut);
    }
    for (; j < n; ++j) {
        if (row[j] > c.cut) push_avx2(c, base, j);
    }
}

EMBEDCORE_TARGET_AVX512
inline void scan_avx512(const float* row, index_t n, index_t base, ScanContext& c) {
    index_t j = 0;
    __m512 t = _mm512_set1_ps(c.cut);
    for (; j + 64 <= n; j += 64) {
        const __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), t, _CMP_GT_OQ);
        const __mmask16 m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 16), t, _CMP_GT_OQ);
        const __mmask16 m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 32), t, _CMP_GT_OQ);
        const __mmask16 m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j + 48), t, _CMP_GT_OQ);
        std::uint64_t mask = std::uint64_t(m0) | (std::uint64_t(m1) << 16) |
                             (std::uint64_t(m2) << 32) | (std::uint64_t(m3) << 48);
        if (mask == 0) continue;
        while (mask) {
            const int bit = simd::ctz64(mask);
            mask &= mask - 1;
            if (row[j + bit] > c.cut) push_avx512(c, base, j + bit);
        }
        t = _mm512_set1_ps(c.cut);
    }
    for (; j < n; j += 16) {
        const index_t left = std::min<index_t>(16, n - j);
        const __mmask16 valid = static_cast<__mmask16>((1u << left) - 1u);
        unsigned mask = _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, row + j), t, _CMP_GT_OQ);
        while (mask) {
            const int bit = simd::ctz32(mask);
            mask &= mask - 1;
            if (row[j + bit] > c.cut) push_avx512(c, base, j + bit);
        }
        t = _mm512_set1_ps(c.cut);
    }
}
EMBEDCORE_DIAGNOSTIC_POP
#endif

using scan_fn = void (*)(const float*, index_t, index_t, ScanContext&);

// The levels this kernel has copies of: the scans are written with intrinsics, the few-query
// products with the portable loops below compiled per level. The level it runs at for `forced`
// ("" for the best this CPU runs; see simd::select).
constexpr unsigned kLevels = simd::kIntrinsicLevels & simd::kGenericLevels;
inline simd::Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "top-k"); }

inline scan_fn scan_for(simd::Isa isa) {
#ifdef EMBEDCORE_INTRINSIC_VARIANTS
    if (isa == simd::Isa::Avx512) return scan_avx512;
    if (isa == simd::Isa::Avx2) return scan_avx2;
#endif
    (void)isa;
    return scan_scalar;
}

// Inverse L2 norm of one row, 0 for a zero row. Squares of floats are exact in double, so the
// eight-lane sum (lane l takes j = l mod 8, fixed reduction tree) gives the same bits whatever
// the instruction set or the fusing of multiply-adds: a row normalised here is always the same
// row. Throws for NaN/inf (squares of large finite floats cannot overflow a double).
inline double squared_norm(const float* x, index_t d) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t j = 0;
    for (; j + 8 <= d; j += 8)
        for (int l = 0; l < 8; ++l) lane[l] += double(x[j + l]) * double(x[j + l]);
    for (int l = 0; j + l < d; ++l) lane[l] += double(x[j + l]) * double(x[j + l]);
    return ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
}

inline float inverse_norm(const float* x, index_t d, const char* name, index_t row) {
    const double sq = squared_norm(x, d);
    require(std::isfinite(sq), std::string(name) + " contains NaN or infinity (row " + std::to_string(row) + ")");
    return sq > 0.0 ? float(1.0 / std::sqrt(sq)) : 0.0f;
}

// The first of n rows of length d holding NaN or infinity, or -1. x * 0 is NaN exactly for
// non-finite x, so a sum of such products detects them without branches.
inline index_t first_non_finite_row(const float* x, index_t n, index_t d) {
    for (index_t i = 0; i < n; ++i) {
        const float* r = x + i * d;
        float acc[16] = {};
        index_t j = 0;
        for (; j + 16 <= d; j += 16)
            for (int l = 0; l < 16; ++l) acc[l] += r[j + l] * 0.0f;
        for (int l = 0; j + l < d; ++l) acc[l] += r[j + l] * 0.0f;
        float total = 0;
        for (int l = 0; l < 16; ++l) total += acc[l];
        if (total != 0.0f) return i;  // NaN compares unequal
    }
    return -1;
}

inline void require_finite_rows(const float* x, index_t n, index_t d, const char* name, index_t first_row) {
    const index_t bad = first_non_finite_row(x, n, d);
    require(bad < 0, std::string(name) + " contains NaN or infinity (row " + std::to_string(first_row + bad) + ")");
}

// dst[i] = src[i] * inverse_norm(src[i]) for n rows of length d.
inline void normalize_rows(const float* src, index_t n, index_t d, float* dst, const char* name,
                           index_t first_row) {
    for (index_t i = 0; i < n; ++i) {
        const float* x = src + i * d;
        const float inv = inverse_norm(x, d, name, first_row + i);
        float* y = dst + i * d;
        for (index_t j = 0; j < d; ++j) y[j] = x[j] * inv;
    }
}

// Scores of up to kFewQueries normalised queries against nt raw database rows, reading each row
// once (a GEMM would first copy the tile to normalise it, then pack it): for few queries the
// search is bound by memory, not arithmetic. scores is mb x nt. Rows are normalised on the fly;
// these scores only feed the threshold compare, the survivors are rescored exactly. Returns the
// first row holding NaN/inf, or -1. Written once, compiled per SIMD level (the 16-lane loops
// vectorise to the width of the target).
constexpr index_t kFewQueries = 4;

EMBEDCORE_FORCE_INLINE index_t few_query_scores_body(const float* rows, index_t nt, index_t d, const float* qn,
                                                     index_t mb, bool normalized, float* scores) {
    for (index_t r = 0; r < nt; ++r) {
        const float* x = rows + r * d;
        float acc[kFewQueries][16] = {};
        float sq[16] = {};
        index_t j = 0;
        for (; j + 16 <= d; j += 16) {
            for (int l = 0; l < 16; ++l) sq[l] += x[j + l] * x[j + l];
            for (index_t q = 0; q < mb; ++q)
                for (int l = 0; l < 16; ++l) acc[q][l] += qn[q * d + j + l] * x[j + l];
        }
        for (int l = 0; j + l < d; ++l) {
            sq[l] += x[j + l] * x[j + l];
            for (index_t q = 0; q < mb; ++q) acc[q][l] += qn[q * d + j + l] * x[j + l];
        }
        float inv = 1.0f;
        float total = 0;
        for (int l = 0; l < 16; ++l) total += sq[l];
        if (normalized) {
            // no normalising, but the squares still reveal NaN/inf
            if (!std::isfinite(total) && !std::isfinite(squared_norm(x, d))) return r;
        } else {
            if (!(std::isfinite(total) && total > 0)) {
                // float squares overflow for large finite values: the double sum decides
                const double exact = squared_norm(x, d);
                if (!std::isfinite(exact)) return r;
                inv = exact > 0.0 ? float(1.0 / std::sqrt(exact)) : 0.0f;
            } else {
                inv = 1.0f / std::sqrt(total);
            }
        }
        for (index_t q = 0; q < mb; ++q) {
            float dot = 0;
            for (int l = 0; l < 16; ++l) dot += acc[q][l];
            scores[q * nt + r] = dot * inv;
        }
    }
    return -1;
}

using few_query_fn = index_t (*)(const float*, index_t, index_t, const float*, index_t, bool, float*);

inline index_t few_query_scores_baseline(const float* rows, index_t nt, index_t d, const float* qn, index_t mb,
                                         bool normalized, float* scores) {
    return few_query_scores_body(rows, nt, d, qn, mb, normalized, scores);
}
#ifdef EMBEDCORE_GENERIC_VARIANTS
EMBEDCORE_TARGET_AVX2 inline index_t few_query_scores_avx2(const float* rows, index_t nt, index_t d, const float* qn,
                                                           index_t mb, bool normalized, float* scores) {
    return few_query_scores_body(rows, nt, d, qn, mb, normalized, scores);
}
EMBEDCORE_TARGET_AVX512 inline index_t few_query_scores_avx512(const float* rows, index_t nt, index_t d,
                                                               const float* qn, index_t mb, bool normalized,
                                                               float* scores) {
    return few_query_scores_body(rows, nt, d, qn, mb, normalized, scores);
}
#endif

inline few_query_fn few_query_for(simd::Isa isa) {
#ifdef EMBEDCORE_GENERIC_VARIANTS
    if (isa == simd::Isa::Avx512) return few_query_scores_avx512;
    if (isa == simd::Isa::Avx2) return few_query_scores_avx2;
#endif
    (void)isa;
    return few_query_scores_baseline;
}

// Column-major C(m x n) = A^T B for A (d x m) and B (d x n) stored with leading dimension d: the
// product used when no BLAS pointer was given (tests of the header alone).
inline void gemm_tn_fallback(int m, int n, int d, const float* a, const float* b, float* c, int ldc) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            float s = 0;
            for (int l = 0; l < d; ++l) s += a[index_t(i) * d + l] * b[index_t(j) * d + l];
            c[index_t(j) * ldc + i] = s;
        }
}

// A centred copy of a database tile: rows x_i (divided by their norm for cosine, in double)
// minus their mean m rounded to float, each rounded once to float. Near-duplicate, clustered
// and equal rows become short rows r_i, and q . x_i = q . m + q . r_i, where q . m is taken in
// double (centre_product) and the float error of q . r_i scales with |r_i| instead of |x_i|: the
// bound on a tile score shrinks with the tile's radius max |r_i|, so rows that differ below
// float32 resolution are told apart by the compare instead of all being rescored. Writes the
// copy to out, the rows' squared norms (squared_norm) to sq and m to centre; returns the radius
// (rounded up). Throws for NaN/inf.
inline double centre_tile(const float* rows, index_t nt, index_t d, bool cosine, float* out, double* sq,
                          float* centre, double* sums, const char* name, index_t first_row) {
    std::fill(sums, sums + d, 0.0);
    for (index_t i = 0; i < nt; ++i) {
        const float* x = rows + i * d;
        sq[i] = squared_norm(x, d);
        require(std::isfinite(sq[i]), std::string(name) + " contains NaN or infinity (row " +
                                          std::to_string(first_row + i) + ")");
        const double s = !cosine ? 1.0 : (sq[i] > 0.0 ? 1.0 / std::sqrt(sq[i]) : 0.0);
        for (index_t j = 0; j < d; ++j) sums[j] += double(x[j]) * s;
    }
    for (index_t j = 0; j < d; ++j) centre[j] = float(sums[j] / double(nt));
    double widest = 0.0;
    for (index_t i = 0; i < nt; ++i) {
        const float* x = rows + i * d;
        const double s = !cosine ? 1.0 : (sq[i] > 0.0 ? 1.0 / std::sqrt(sq[i]) : 0.0);
        float* r = out + i * d;
        double len = 0.0;
        for (index_t j = 0; j < d; ++j) {
            r[j] = float(double(x[j]) * s - double(centre[j]));
            len += double(r[j]) * double(r[j]);
        }
        widest = std::max(widest, len);
    }
    return std::sqrt(widest) * (1.0 + 1e-12);
}

// q . m / |q| (cosine) or q . m (inner product) in double: the part of every score of a centred
// tile that the tile scores leave out.
inline double centre_product(const float* q, const float* centre, index_t d, double q_sq, bool inner) {
    double dot = 0.0;
    for (index_t j = 0; j < d; ++j) dot += double(q[j]) * double(centre[j]);
    if (inner) return dot;
    return q_sq > 0.0 ? dot / std::sqrt(q_sq) : 0.0;
}

struct Problem {
    const float* queries;   // nq x d, C order
    index_t nq;
    const float* database;  // nb x d, C order
    index_t nb;
    index_t d;
    index_t k;
    const index_t* exclude;  // nq entries (-1: none) or nullptr
    // rows to leave out per query, a CSR (nq + 1 offsets, sorted rows of each query), or nullptr
    const std::int64_t* skip_indptr;
    const std::int32_t* skip_indices;
    bool inner_product;      // score by inner product of the rows as given (not cosine)
    double database_norm;    // with inner_product: the largest row norm of the database
    bool normalized;         // rows are unit length already
    int threads;
    index_t tile_queries;    // query rows per SGEMM
    index_t tile_database;   // database rows per SGEMM
    sgemm_fn sgemm;          // nullptr: the portable fallback product
    simd::Isa isa;           // the SIMD level of the scans (select_isa)
    float* out_scores;       // nq x k
    index_t* out_indices;    // nq x k
};

// Top-k of queries [q0, q1) (already normalised, `qn` points at query 0) over database rows
// [d0, d1), written as `width` sorted entries per query at out_s/out_i (row of q0 first); entries
// past the candidates found are score -inf, index -1.
inline void search_range(const Problem& p, const float* qn, index_t q0, index_t q1, index_t d0,
                         index_t d1, index_t width, float* out_s, index_t* out_i) {
    const scan_fn scan = scan_for(p.isa);
    const few_query_fn few_query_scores = few_query_for(p.isa);
    const index_t d = p.d, k = p.k;
    const index_t range = d1 - d0;
    const index_t cap = std::max<index_t>(1, std::min(k, range));
    const index_t tq = std::max<index_t>(1, p.tile_queries);
    const index_t tb = std::max<index_t>(1, std::min(p.tile_database, range));
    // queries whose buffers are alive at once: bounded to ~64 MiB of candidates per thread
    const index_t budget = std::max<index_t>(tq, (index_t(64) << 20) / (cap * index_t(sizeof(Cand))));
    const index_t super = std::max<index_t>(1, std::min(budget, q1 - q0));

    std::vector<float> tile(size_t(tb * d));  // normalised or centred copy of a database tile
    std::vector<double> tile_sq(static_cast<size_t>(tb));
    std::vector<float> centre(static_cast<size_t>(d));
    std::vector<double> sums(static_cast<size_t>(d));
    std::vector<float> scores(size_t(std::max(std::min(tq, super), std::min(kFewQueries, super)) * tb));
    std::vector<Cand> cand(size_t(super * cap));
    std::vector<Buffer> buf(static_cast<size_t>(super));
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const double u = std::ldexp(1.0, -24);
    // |fl(q.x) - q.x| <= d u ||q|| ||x|| for any summation order (u = 2^-24), with room for the
    // final rounding of both scores; rows are unit length (or zero)
    // plus a few units for the rounding of the normalised copies and of the exact cosine
    const float slack = float(double(d + 10) * u * 1.01);
    // what the double sums behind the exact score, the centre's product and the centred rows
    // may be off by (a few d units of 2^-53), with a wide margin
    const double tiny = double(d + 16) * std::ldexp(1.0, -48);
    const bool inner = p.inner_product;
    // rows are read as given (no normalised copy) for inner products too
    const bool raw = p.normalized || inner;
    // Centred tiles (see centre_tile) once a tile wasted many rescores on candidates that did not
    // beat the threshold: rows closer than float32 can tell apart, equal and zero rows.
    bool centred = false;

    std::vector<double> query_sq(static_cast<size_t>(super));
    std::vector<float> query_slack(static_cast<size_t>(super));
    std::vector<double> query_scale(static_cast<size_t>(super));  // bound per unit of the tile's radius
    std::vector<double> query_tiny(static_cast<size_t>(super));
    for (index_t s0 = q0; s0 < q1; s0 += super) {
        const index_t s1 = std::min(q1, s0 + super);
        const bool few = s1 - s0 <= kFewQueries;
        for (index_t q = s0; q < s1; ++q) {
            const std::int32_t *skip = nullptr, *skip_end = nullptr;
            if (p.skip_indptr) {
                skip = std::lower_bound(p.skip_indices + p.skip_indptr[q], p.skip_indices + p.skip_indptr[q + 1],
                                        std::int32_t(d0));
                skip_end = p.skip_indices + p.skip_indptr[q + 1];
            }
            buf[size_t(q - s0)] = Buffer{cand.data() + (q - s0) * cap, 0, neg_inf, skip, skip_end};
            const double sq = squared_norm(p.queries + q * d, d);
            query_sq[size_t(q - s0)] = sq;
            // inner products of rows of any length: the bound scales with |q| max |x|
            query_slack[size_t(q - s0)] = inner ? float(double(slack) * std::sqrt(sq) * p.database_norm) : slack;
            // with centred tiles the tile score is qn . r for the searched copy qn of the query and
            // rows r of norm <= radius: off by (d + 4) u |qn| radius (products, sums, the rounding
            // of r and of the score), plus |qn - q / |q|| radius where qn is a rounded unit copy
            const float* qv = qn + q * d;
            const float* qr = p.queries + q * d;
            const double inv = (!inner && sq > 0.0) ? 1.0 / std::sqrt(sq) : 1.0;
            double qn_sq = 0.0, off_sq = 0.0;
            for (index_t j = 0; j < d; ++j) {
                qn_sq += double(qv[j]) * double(qv[j]);
                const double e = double(qv[j]) - (inner ? double(qr[j]) : double(qr[j]) * inv);
                off_sq += e * e;
            }
            query_scale[size_t(q - s0)] =
                (double(d + 4) * u * std::sqrt(qn_sq) + std::sqrt(off_sq) * (1.0 + 1e-6)) * 1.01;
            query_tiny[size_t(q - s0)] = inner ? tiny * std::sqrt(sq) * p.database_norm : tiny;
        }
        for (index_t t0 = d0; t0 < d1; t0 += tb) {
            const index_t nt = std::min(d1, t0 + tb) - t0;
            const float* dt = p.database + t0 * d;
            index_t wasted = 0;
            double radius = 0.0;
            if (centred) {
                radius = centre_tile(dt, nt, d, !inner, tile.data(), tile_sq.data(), centre.data(), sums.data(),
                                     "database", t0);
                dt = tile.data();
            }
            // the scan of one query's score row against this tile
            auto scan_query = [&](index_t q, const float* row) {
                const size_t at = size_t(q - s0);
                ScanContext c{&buf[at], p.exclude ? p.exclude[q] : -1, cap, 0.0, double(query_slack[at]),
                              p.queries + q * d, query_sq[at], p.database + t0 * d, nullptr, d, inner, neg_inf, 0};
                if (centred) {
                    c.offset = centre_product(p.queries + q * d, centre.data(), d, query_sq[at], inner);
                    c.bound = query_scale[at] * radius + query_tiny[at];
                    c.row_sq = tile_sq.data();
                }
                c.cut = cut_for(c);
                scan(row, nt, t0, c);
                wasted += c.wasted;
            };
            if (few) {
                // read the raw rows once, normalising on the fly (or the centred copy)
                const index_t bad = few_query_scores(dt, nt, d, qn + s0 * d, s1 - s0, raw || centred, scores.data());
                require(bad < 0, "database contains NaN or infinity (row " + std::to_string(t0 + bad) + ")");
                for (index_t q = s0; q < s1; ++q) scan_query(q, scores.data() + (q - s0) * nt);
            } else {
                if (!raw && !centred) {
                    normalize_rows(dt, nt, d, tile.data(), "database", t0);
                    dt = tile.data();
                } else if (s0 == q0 && !centred) {
                    require_finite_rows(dt, nt, d, "database", t0);  // once per tile and thread
                }
                for (index_t b0 = s0; b0 < s1; b0 += tq) {
                    const index_t mb = std::min(s1, b0 + tq) - b0;
                    // scores (mb x nt, C order) are, column-major, the nt x mb product op(A) B with
                    // A = D_tile^T stored d x nt (transposed) and B = Q_block^T stored d x mb
                    int m_ = int(nt), n_ = int(mb), k_ = int(d), lda = int(d), ldb = int(d), ldc = int(nt);
                    if (p.sgemm) {
                        char ta = 'T', tn = 'N';
                        float one = 1.0f, zero = 0.0f;
                        p.sgemm(&ta, &tn, &m_, &n_, &k_, &one, const_cast<float*>(dt), &lda,
                                const_cast<float*>(qn + b0 * d), &ldb, &zero, scores.data(), &ldc);
                    } else {
                        gemm_tn_fallback(m_, n_, k_, dt, qn + b0 * d, scores.data(), ldc);
                    }
                    for (index_t i = 0; i < mb; ++i) scan_query(b0 + i, scores.data() + i * nt);
                }
            }
            // candidates arrive in random order for random rows, so rescores that lose are rare;
            // many of them mean rows that tie or nearly tie: centre the tiles from now on, once
            // the lost rescores cost more than centring (a few passes over the tile; with one or
            // two queries rescoring every row is cheaper)
            if (!centred && wasted > std::max(4 * nt, (s1 - s0) * nt / 32) + 64) centred = true;
        }
        for (index_t q = s0; q < s1; ++q) {
            Buffer& b = buf[size_t(q - s0)];
            const index_t keep = std::min(b.count, width);
            std::sort(b.cand, b.cand + b.count, [](const Cand& x, const Cand& y) { return better(x, y); });
            float* os = out_s + (q - q0) * width;
            index_t* oi = out_i + (q - q0) * width;
            for (index_t j = 0; j < keep; ++j) {
                os[j] = b.cand[j].score;
                oi[j] = b.cand[j].index;
            }
            for (index_t j = keep; j < width; ++j) {
                os[j] = neg_inf;
                oi[j] = -1;
            }
        }
    }
}

// The sound structure of an exclusion CSR: offsets from 0, never decreasing, rows of each query
// in [0, nb) and strictly increasing (the scan's cursor relies on the order).
inline void require_sorted_csr(const std::int64_t* indptr, const std::int32_t* indices, index_t nq, index_t nb) {
    require(indptr[0] == 0, "top-k: the exclusion lists must start at offset 0");
    for (index_t q = 0; q < nq; ++q) {
        require(indptr[q + 1] >= indptr[q], "top-k: the exclusion offsets must not decrease");
        for (std::int64_t e = indptr[q]; e < indptr[q + 1]; ++e) {
            require(indices[e] >= 0 && index_t(indices[e]) < nb, "top-k: an excluded row is out of range");
            require(e == indptr[q] || indices[e] > indices[e - 1], "top-k: excluded rows must be sorted and distinct");
        }
    }
}

// The whole search: validates, normalises the queries once (cosine), and runs search_range in
// parallel. Rows with fewer than k candidates (everything left out) end in score -inf, index -1.
inline void search(const Problem& problem) {
    Problem p = problem;
    require(p.nq >= 0 && p.nb >= 1 && p.d >= 1, "cosine_topk: empty database or zero dimension");
    require(p.k >= 1 && p.k <= p.nb, "cosine_topk: k must be in [1, nb]");
    require(p.nb <= std::numeric_limits<int>::max() && p.d <= std::numeric_limits<int>::max(),
            "cosine_topk: database too large for a 32-bit BLAS");
    if (p.exclude) {
        for (index_t q = 0; q < p.nq; ++q) {
            require(p.exclude[q] >= -1 && p.exclude[q] < p.nb, "cosine_topk: exclude holds a row out of range");
            require(p.exclude[q] < 0 || p.k < p.nb, "cosine_topk: k must be < nb when a row is excluded");
        }
    }
    if (p.skip_indptr) require_sorted_csr(p.skip_indptr, p.skip_indices, p.nq, p.nb);
    if (p.nq == 0) return;
    const int threads = std::max(1, p.threads);
    const index_t d = p.d;

    if (p.inner_product) {
        // the largest database row norm scales the float32 error bound (NaN/inf are caught here)
        std::vector<double> largest(size_t(threads), 0.0);
        parallel_blocks(p.nb, threads, [&](index_t b, index_t e, int t) {
            require_finite_rows(p.database + b * d, e - b, d, "database", b);
            for (index_t i = b; i < e; ++i) largest[size_t(t)] = std::max(largest[size_t(t)], squared_norm(p.database + i * d, d));
        });
        p.database_norm = std::sqrt(*std::max_element(largest.begin(), largest.end()));
    }
    std::vector<float> qbuf;
    const float* qn = p.queries;
    if (!p.normalized && !p.inner_product) {
        qbuf.resize(size_t(p.nq * d));
        parallel_blocks(p.nq, threads, [&](index_t b, index_t e, int) {
            normalize_rows(p.queries + b * d, e - b, d, qbuf.data() + b * d, "queries", b);
        });
        qn = qbuf.data();
    } else {
        parallel_blocks(p.nq, threads, [&](index_t b, index_t e, int) {
            require_finite_rows(p.queries + b * d, e - b, d, "queries", b);
        });
    }

    // few queries: split the database (each thread reads a slice) and merge afterwards
    const bool split_database = threads > 1 && p.nq < index_t(threads) * p.tile_queries &&
                                p.nb >= index_t(threads) * 1024;
    if (!split_database) {
        const index_t blocks = std::min<index_t>(p.nq, threads);
        parallel_blocks(blocks, threads, [&](index_t b, index_t e, int) {
            for (index_t t = b; t < e; ++t) {
                const index_t q0 = p.nq * t / blocks, q1 = p.nq * (t + 1) / blocks;
                search_range(p, qn, q0, q1, 0, p.nb, p.k, p.out_scores + q0 * p.k,
                             p.out_indices + q0 * p.k);
            }
        });
        return;
    }
    const index_t parts = threads;
    std::vector<float> part_s(size_t(parts * p.nq * p.k));
    std::vector<index_t> part_i(size_t(parts * p.nq * p.k));
    parallel_blocks(parts, threads, [&](index_t b, index_t e, int) {
        for (index_t t = b; t < e; ++t) {
            const index_t d0 = p.nb * t / parts, d1 = p.nb * (t + 1) / parts;
            search_range(p, qn, 0, p.nq, d0, d1, p.k, part_s.data() + t * p.nq * p.k,
                         part_i.data() + t * p.nq * p.k);
        }
    });
    parallel_blocks(p.nq, threads, [&](index_t b, index_t e, int) {
        std::vector<Cand> all(size_t(parts * p.k));
        for (index_t q = b; q < e; ++q) {
            index_t n = 0;
            for (index_t t = 0; t < parts; ++t)
                for (index_t j = 0; j < p.k; ++j) {
                    const index_t at = (t * p.nq + q) * p.k + j;
                    if (part_i[size_t(at)] >= 0) all[size_t(n++)] = Cand{part_s[size_t(at)], part_i[size_t(at)]};
                }
            require(n >= p.k || p.skip_indptr, "cosine_topk: fewer than k candidates (non-finite scores?)");
            const index_t keep = std::min(n, p.k);
            std::partial_sort(all.begin(), all.begin() + keep, all.begin() + n,
                              [](const Cand& x, const Cand& y) { return better(x, y); });
            for (index_t j = 0; j < keep; ++j) {
                p.out_scores[q * p.k + j] = all[size_t(j)].score;
                p.out_indices[q * p.k + j] = all[size_t(j)].index;
            }
            for (index_t j = keep; j < p.k; ++j) {
                p.out_scores[q * p.k + j] = -std::numeric_limits<float>::infinity();
                p.out_indices[q * p.k + j] = -1;
            }
        }
    });
}

}  // namespace topk
}  // namespace embedcore
