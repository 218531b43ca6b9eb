// One GloVe training epoch: AdaGrad over the nonzeros of a co-occurrence matrix, Hogwild.
//
// Objective (Pennington, Socher, Manning 2014; Stanford glove.c): for each nonzero x = X[i, j],
//   J += f(x) (w_i . w~_j + b_i + b~_j - log x)^2,  f(x) = min(1, (x / x_max)^alpha).
// Each nonzero takes one AdaGrad step as glove.c does: with fdiff = f(x) * diff,
//   g = eta * clip(fdiff * w~_j, +-100);  w_i -= g / sqrt(G_i);  G_i += g^2   (same for w~_j),
//   h = eta_b * fdiff;  b_i -= h / sqrt(Gb_i);  Gb_i += h^2   (and for b~_j),
// both gradients taken from the values before the step. Stanford's current glove.c leaves eta
// out of the bias step (eta_b = 1); GloVe 1.2 and the paper scale it too (eta_b = eta). The epoch returns sum 0.5 f(x) diff^2
// (glove.c's reported cost is this over the number of nonzeros). O(nnz * dim) per epoch.
//
// The per-record math is the shared ecmath/glove.hpp (the GPU kernel uses the same functions);
// the AVX2 and AVX-512 copies compute the same formulas with intrinsics, and tests check every
// copy against the float64 reference. Rows are padded to a multiple of 16 floats (padding stays 0
// in the vectors, 1 in the accumulators), so the dot and the updates run in whole AVX-512 / AVX2
// vectors; the level is picked at run time (simd.hpp).
//
// The CPU trains straight from the CSR matrix of counts: what a fit adds per nonzero is its place
// in one seeded shuffled order (a 4-byte index, 8 bytes past 2**32 nonzeros), not a record. Each
// thread takes a contiguous slice of the order and, batch by batch, gathers the records of its
// next nonzeros (row from indptr, column, log x and f(x) from the count) into a small buffer it
// then trains on; the row of a nonzero is found by a binary search of indptr between the rows of
// the nonzeros 64 apart around it (a table of nnz / 64 ints built per epoch). The GPU
// gets the same records, gathered once in the same order. Threads update the shared arrays
// without locks (Hogwild). The CSR is checked (indptr monotone, columns in range, counts finite
// and non-negative) before an order is built, and every record's row and column before its step.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

#include "common.hpp"
#include "ecmath/glove.hpp"
#include "ecmath/random.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace embedcore {
namespace glove {

struct Record {
    std::int32_t row;
    std::int32_t col;
    float log_x;
    float weight;  // f(x)
};
static_assert(sizeof(Record) == 16, "Record is four 32-bit fields");

// glove.c's default bound on each component of a vector gradient (before eta).
constexpr float kGradClip = EC_GLOVE_GRAD_CLIP;

struct Params {
    float* word;            // n_words x stride
    float* context;         // n_words x stride
    float* word_bias;       // n_words
    float* context_bias;    // n_words
    float* word_gradsq;     // n_words x stride, starts at 1
    float* context_gradsq;  // n_words x stride, starts at 1
    float* word_bias_gradsq;
    float* context_bias_gradsq;
    index_t n_words;
    index_t stride;         // floats per row, a multiple of 16
};

// The bias part of a step, h = eta_b * f(x) * diff (scalar; shared by every SIMD level).
inline void step_biases(const Params& p, const Record& r, float h) {
    p.word_bias[r.row] += ecmath::adagrad_delta(h, p.word_bias_gradsq[r.row]);
    p.context_bias[r.col] += ecmath::adagrad_delta(h, p.context_bias_gradsq[r.col]);
    p.word_bias_gradsq[r.row] += ecmath::adagrad_gradsq_delta(h);
    p.context_bias_gradsq[r.col] += ecmath::adagrad_gradsq_delta(h);
}

// One step on one nonzero; returns 0.5 f diff^2. The vector part is the only SIMD part.
inline double step_scalar(const Params& p, const Record& r, float eta, float bias_eta) {
    float* w = p.word + r.row * p.stride;
    float* c = p.context + r.col * p.stride;
    float* gw = p.word_gradsq + r.row * p.stride;
    float* gc = p.context_gradsq + r.col * p.stride;
    float dot = 0.0f;
    for (index_t k = 0; k < p.stride; ++k) dot += w[k] * c[k];
    const float diff = dot + p.word_bias[r.row] + p.context_bias[r.col] - r.log_x;
    const float fdiff = r.weight * diff;
    const double cost = ecmath::glove_cost(fdiff, diff);
    for (index_t k = 0; k < p.stride; ++k) {
        const float t1 = ecmath::glove_vector_grad(fdiff, c[k], eta);
        const float t2 = ecmath::glove_vector_grad(fdiff, w[k], eta);
        w[k] += ecmath::adagrad_delta(t1, gw[k]);
        c[k] += ecmath::adagrad_delta(t2, gc[k]);
        gw[k] += ecmath::adagrad_gradsq_delta(t1);
        gc[k] += ecmath::adagrad_gradsq_delta(t2);
    }
    step_biases(p, r, ecmath::glove_bias_grad(fdiff, bias_eta));
    return cost;
}

#ifdef EMBEDCORE_INTRINSIC_VARIANTS
EMBEDCORE_TARGET_AVX2 inline double step_avx2(const Params& p, const Record& r, float eta, float bias_eta) {
    float* w = p.word + r.row * p.stride;
    float* c = p.context + r.col * p.stride;
    float* gw = p.word_gradsq + r.row * p.stride;
    float* gc = p.context_gradsq + r.col * p.stride;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (index_t k = 0; k < p.stride; k += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(c + k), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + k + 8), _mm256_loadu_ps(c + k + 8), acc1);
    }
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    const float diff = _mm_cvtss_f32(s) + p.word_bias[r.row] + p.context_bias[r.col] - r.log_x;
    const float fdiff = r.weight * diff;
    const double cost = ecmath::glove_cost(fdiff, diff);
    const __m256 f = _mm256_set1_ps(fdiff), e = _mm256_set1_ps(eta);
    const __m256 hi = _mm256_set1_ps(kGradClip), lo = _mm256_set1_ps(-kGradClip);
    for (index_t k = 0; k < p.stride; k += 8) {
        const __m256 wv = _mm256_loadu_ps(w + k), cv = _mm256_loadu_ps(c + k);
        const __m256 g1 = _mm256_loadu_ps(gw + k), g2 = _mm256_loadu_ps(gc + k);
        const __m256 t1 = _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(f, cv), lo), hi), e);
        const __m256 t2 = _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(f, wv), lo), hi), e);
        _mm256_storeu_ps(w + k, _mm256_sub_ps(wv, _mm256_div_ps(t1, _mm256_sqrt_ps(g1))));
        _mm256_storeu_ps(c + k, _mm256_sub_ps(cv, _mm256_div_ps(t2, _mm256_sqrt_ps(g2))));
        _mm256_storeu_ps(gw + k, _mm256_fmadd_ps(t1, t1, g1));
        _mm256_storeu_ps(gc + k, _mm256_fmadd_ps(t2, t2, g2));
    }
    step_biases(p, r, ecmath::glove_bias_grad(fdiff, bias_eta));
    return cost;
}

EMBEDCORE_DIAGNOSTIC_PUSH_UNINITIALIZED
EMBEDCORE_TARGET_AVX512 inline double step_avx512(const Params& p, const Record& r, float eta, float bias_eta) {
    float* w = p.word + r.row * p.stride;
    float* c = p.context + r.col * p.stride;
    float* gw = p.word_gradsq + r.row * p.stride;
    float* gc = p.context_gradsq + r.col * p.stride;
    __m512 acc = _mm512_setzero_ps();
    for (index_t k = 0; k < p.stride; k += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(w + k), _mm512_loadu_ps(c + k), acc);
    const float diff = _mm512_reduce_add_ps(acc) + p.word_bias[r.row] + p.context_bias[r.col] - r.log_x;
    const float fdiff = r.weight * diff;
    const double cost = ecmath::glove_cost(fdiff, diff);
    const __m512 f = _mm512_set1_ps(fdiff), e = _mm512_set1_ps(eta);
    const __m512 hi = _mm512_set1_ps(kGradClip), lo = _mm512_set1_ps(-kGradClip);
    for (index_t k = 0; k < p.stride; k += 16) {
        const __m512 wv = _mm512_loadu_ps(w + k), cv = _mm512_loadu_ps(c + k);
        const __m512 g1 = _mm512_loadu_ps(gw + k), g2 = _mm512_loadu_ps(gc + k);
        const __m512 t1 = _mm512_mul_ps(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(f, cv), lo), hi), e);
        const __m512 t2 = _mm512_mul_ps(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(f, wv), lo), hi), e);
        _mm512_storeu_ps(w + k, _mm512_sub_ps(wv, _mm512_div_ps(t1, _mm512_sqrt_ps(g1))));
        _mm512_storeu_ps(c + k, _mm512_sub_ps(cv, _mm512_div_ps(t2, _mm512_sqrt_ps(g2))));
        _mm512_storeu_ps(gw + k, _mm512_fmadd_ps(t1, t1, g1));
        _mm512_storeu_ps(gc + k, _mm512_fmadd_ps(t2, t2, g2));
    }
    step_biases(p, r, ecmath::glove_bias_grad(fdiff, bias_eta));
    return cost;
}
EMBEDCORE_DIAGNOSTIC_POP
#endif

// The counts a fit trains on: a CSR matrix whose rows are the model's rows row_offset ..
// row_offset + n_rows (a whole matrix, or one row-range shard of it) and whose columns are words.
struct Counts {
    const std::int64_t* indptr;   // n_rows + 1, from 0
    const std::int32_t* indices;  // nnz
    const float* data;            // nnz
    index_t n_rows;
    index_t n_cols;
    index_t row_offset;

    index_t nnz() const { return indptr[n_rows]; }
};

// Throws unless indptr runs from 0 to nnz without decreasing (read before anything indexes
// through it) and every column is in [0, n_cols).
inline void check_structure(const Counts& m) {
    require(m.n_rows >= 0 && m.n_cols >= 0 && m.row_offset >= 0, "cooc: negative dimension");
    require(m.indptr[0] == 0, "cooc: indptr must start at 0");
    for (index_t r = 0; r < m.n_rows; ++r)
        if (m.indptr[r] > m.indptr[r + 1])
            throw std::invalid_argument("cooc: indptr decreases at row " + std::to_string(r) + " (" +
                                        std::to_string(m.indptr[r]) + " > " + std::to_string(m.indptr[r + 1]) + ")");
    for (index_t k = 0, nnz = m.nnz(); k < nnz; ++k)
        if (m.indices[k] < 0 || m.indices[k] >= m.n_cols)
            throw std::invalid_argument("cooc: a column index is out of range");
}

// Checks the structure and the counts: returns the position of the first count that is negative,
// NaN or infinite (-1 when none is), and *positive receives the number of counts > 0, the
// nonzeros a fit trains on (explicit zeros have no log and are left out).
inline index_t check_counts(const Counts& m, index_t* positive) {
    check_structure(m);
    index_t n = 0;
    for (index_t k = 0, nnz = m.nnz(); k < nnz; ++k) {
        const float x = m.data[k];
        if (!(x >= 0.0f) || !std::isfinite(x)) return k;
        n += x > 0.0f;
    }
    *positive = n;
    return -1;
}

// splitmix64 (random.hpp's generator as a free function): enough to shuffle.
inline std::uint64_t next_random(std::uint64_t& state) { return ecmath::mix64(state += EC_GOLDEN); }

// A uniform integer in [0, n) (the bias n / 2**32 is negligible here).
inline std::uint32_t random_below(std::uint64_t& state, std::uint32_t n) {
    return ecmath::below(static_cast<std::uint32_t>(next_random(state) >> 32), n);
}

// Fills out[0, n) with the positions (in the CSR arrays) of the n positive counts of m, in a
// uniformly random order. The shuffle is a bucket shuffle: every position goes to one of B random
// buckets (sequential writes to B cursors), then each bucket, small enough for the cache, is
// Fisher-Yates shuffled on its own; independent uniform bucket labels plus uniform shuffles within
// buckets give a uniform permutation. O(nnz), parallel over buckets, and the same output for a
// seed whatever the thread count. `n` must be check_counts' count (checked as positions are placed).
template <class Index>
void shuffle_order(const Counts& m, index_t n, std::uint64_t seed, Index* out, int threads) {
    check_structure(m);
    const index_t nnz = m.nnz();
    require(n >= 0 && n <= nnz, "glove order: the count of positive counts does not fit the matrix");
    require(static_cast<std::uint64_t>(nnz) - 1 <= std::numeric_limits<Index>::max() || nnz == 0,
            "glove order: the index type is too narrow for this matrix's nonzeros");
    const std::uint32_t buckets = static_cast<std::uint32_t>(std::max<index_t>(1, std::min<index_t>(n / 16384, 1 << 16)));
    std::vector<index_t> start(static_cast<std::size_t>(buckets) + 1, 0);
    std::uint64_t state = seed * 0xD1B54A32D192ED03ULL + 1;
    for (index_t i = 0; i < n; ++i) ++start[random_below(state, buckets) + 1];
    for (std::uint32_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
    std::vector<index_t> cursor(start.begin(), start.end() - 1);
    state = seed * 0xD1B54A32D192ED03ULL + 1;  // the same labels again
    index_t placed = 0;
    for (index_t k = 0; k < nnz; ++k) {
        if (!(m.data[k] > 0.0f)) continue;
        // a matrix whose counts changed since they were counted would overrun a bucket
        if (++placed > n) throw std::invalid_argument("cooc: the counts changed while the order was built");
        const std::uint32_t b = random_below(state, buckets);
        out[cursor[b]++] = static_cast<Index>(k);
    }
    if (placed != n) throw std::invalid_argument("cooc: the counts changed while the order was built");
    parallel_blocks(buckets, threads, [&](index_t b0, index_t b1, int) {
        for (index_t b = b0; b < b1; ++b) {
            Index* first = out + start[static_cast<std::size_t>(b)];
            const index_t size = start[static_cast<std::size_t>(b) + 1] - start[static_cast<std::size_t>(b)];
            std::uint64_t local = seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(b + 1));
            for (index_t i = size - 1; i > 0; --i)
                std::swap(first[i], first[random_below(local, static_cast<std::uint32_t>(i + 1))]);
        }
    });
}

// The row table keeps the row of every 64th nonzero (4 bytes per 64 nonzeros).
constexpr int kRowHintShift = 6;

// hint[b] = the row of nonzero min(b * 64, nnz - 1), for b in [0, (nnz - 1) / 64 + 2), so the row of
// nonzero k lies in [hint[k / 64], hint[k / 64 + 1]]. Needs a checked structure.
inline std::vector<std::int32_t> row_hints(const Counts& m) {
    const index_t nnz = m.nnz();
    const index_t blocks = nnz == 0 ? 0 : ((nnz - 1) >> kRowHintShift) + 2;
    std::vector<std::int32_t> hint(static_cast<std::size_t>(blocks));
    index_t r = 0;
    for (index_t b = 0; b < blocks; ++b) {
        const index_t k = std::min(b << kRowHintShift, nnz - 1);
        while (m.indptr[r + 1] <= k) ++r;
        hint[static_cast<std::size_t>(b)] = static_cast<std::int32_t>(r);
    }
    return hint;
}

// The records of the nonzeros order[0, n) (positions in m's arrays): row (with m.row_offset),
// column, log x and f(x). Throws for a position outside the
// matrix or a count that is not positive.
template <class Index>
inline void gather(const Counts& m, const std::int32_t* hint, const Index* order, index_t n, float log_x_max,
                   float alpha, Record* out) {
    const index_t nnz = m.nnz();
    for (index_t i = 0; i < n; ++i) {
        const index_t k = static_cast<index_t>(order[i]);
        if (k < 0 || k >= nnz) throw std::invalid_argument("glove: an order position is outside the matrix");
        const index_t b = k >> kRowHintShift;
        const std::int64_t* first = m.indptr + hint[b] + 1;
        const std::int64_t* last = m.indptr + hint[b + 1] + 1;
        const index_t row = (std::upper_bound(first, last, static_cast<std::int64_t>(k)) - m.indptr) - 1;
        const float x = m.data[k];
        if (!(x > 0.0f) || !std::isfinite(x)) throw std::invalid_argument("cooc: counts must be positive and finite");
        const float lx = std::log(x);
        Record& rec = out[i];
        rec.row = static_cast<std::int32_t>(row + m.row_offset);
        rec.col = m.indices[k];
        rec.log_x = lx;
        rec.weight = ecmath::glove_weight(lx, log_x_max, alpha);
    }
}

// out[0, n) = the records of order[0, n), gathered over `threads` threads (the GPU's input).
template <class Index>
void gather_records(const Counts& m, const Index* order, index_t n, float x_max, float alpha, Record* out,
                    int threads) {
    require(x_max > 0.0f && alpha > 0.0f, "x_max and alpha must be positive");
    check_structure(m);
    const std::vector<std::int32_t> hint = row_hints(m);
    const float log_x_max = std::log(x_max);
    parallel_blocks(n, threads, [&](index_t a, index_t b, int) {
        gather(m, hint.data(), order + a, b - a, log_x_max, alpha, out + a);
    });
}

using StepFn = double (*)(const Params&, const Record&, float, float);

// The levels this kernel has copies of (the vector part is written with intrinsics).
constexpr unsigned kLevels = simd::kIntrinsicLevels;

// The level this kernel runs at for `forced` ("" for the best this CPU runs; see simd::select).
inline simd::Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "GloVe"); }

inline StepFn step_fn(simd::Isa isa) {
#ifdef EMBEDCORE_INTRINSIC_VARIANTS
    if (isa == simd::Isa::Avx512) return &step_avx512;
    if (isa == simd::Isa::Avx2) return &step_avx2;
#endif
    (void)isa;
    return &step_scalar;
}

// Steps on records[0, n) in order, adding their 0.5 f diff^2 to `cost` one by one (so batches
// sum exactly as one run of records does).
inline void train_records(const Params& p, const Record* records, index_t n, StepFn step, float eta,
                          float bias_eta, double& cost) {
    constexpr index_t kAhead = 4;
    for (index_t k = 0; k < n; ++k) {
        if (k + kAhead < n) {
            // the rows the step after next touches, so their loads overlap this step's work
            const Record& q = records[k + kAhead];
            if (static_cast<std::uint64_t>(q.row) < static_cast<std::uint64_t>(p.n_words) &&
                static_cast<std::uint64_t>(q.col) < static_cast<std::uint64_t>(p.n_words))
                for (index_t off = 0; off < p.stride; off += 16) {
                    simd::prefetch_for_write(p.word + q.row * p.stride + off);
                    simd::prefetch_for_write(p.context + q.col * p.stride + off);
                    simd::prefetch_for_write(p.word_gradsq + q.row * p.stride + off);
                    simd::prefetch_for_write(p.context_gradsq + q.col * p.stride + off);
                }
        }
        const Record& r = records[k];
        if (r.row < 0 || r.row >= p.n_words || r.col < 0 || r.col >= p.n_words)
            throw std::invalid_argument("glove: a record's row or column is outside the vocabulary");
        cost += step(p, r, eta, bias_eta);
    }
}

// Runs `body(a, b)` -> cost over contiguous slices of [0, n) on `threads` threads; the summed cost.
template <class Body>
double sum_over_slices(index_t n, int threads, Body&& body) {
    threads = std::max(1, threads);
    simd::AlignedArray<double> cost(static_cast<std::size_t>(threads) * 8);  // one cache line each
    parallel_blocks(n, threads, [&](index_t a, index_t b, int t) { cost[static_cast<std::size_t>(t) * 8] = body(a, b); });
    double total = 0.0;
    for (int t = 0; t < threads; ++t) total += cost[static_cast<std::size_t>(t) * 8];
    return total;
}

inline StepFn checked_step(const Params& p, float eta, float bias_eta, const std::string& level, simd::Isa* chosen) {
    require(p.stride > 0 && p.stride % 16 == 0, "stride must be a positive multiple of 16");
    require(eta > 0.0f, "learning rate must be positive");
    require(bias_eta > 0.0f, "bias learning rate must be positive");
    const simd::Isa isa = select_isa(level);
    if (chosen) *chosen = isa;
    return step_fn(isa);
}

// One pass over records[0, n) with `threads` threads; returns sum 0.5 f diff^2 (float64).
// `level` forces a SIMD level ("" for the best, see simd::select); *chosen receives the one used.
inline double epoch(const Params& p, const Record* records, index_t n, float eta, float bias_eta, int threads,
                    const std::string& level = "", simd::Isa* chosen = nullptr) {
    const StepFn step = checked_step(p, eta, bias_eta, level, chosen);
    return sum_over_slices(n, threads, [&](index_t a, index_t b) {
        double cost = 0.0;
        train_records(p, records + a, b - a, step, eta, bias_eta, cost);
        return cost;
    });
}

// Records a thread gathers at a time before it trains on them (2 KB on its stack).
constexpr index_t kBatch = 128;

// One pass over the nonzeros of m in the order order[0, n) (positions in m's arrays, as
// shuffle_order writes them), with `threads` threads; returns sum 0.5 f diff^2 (float64). Steps
// are those of `epoch` on the records `gather_records` would give, in the same order.
template <class Index>
double epoch_csr(const Params& p, const Counts& m, const Index* order, index_t n, float x_max, float alpha, float eta,
                 float bias_eta, int threads, const std::string& level = "", simd::Isa* chosen = nullptr) {
    const StepFn step = checked_step(p, eta, bias_eta, level, chosen);
    require(x_max > 0.0f && alpha > 0.0f, "x_max and alpha must be positive");
    check_structure(m);
    require(m.row_offset + m.n_rows <= p.n_words, "glove: the matrix has rows outside the vocabulary");
    const std::vector<std::int32_t> hint = row_hints(m);
    const float log_x_max = std::log(x_max);
    return sum_over_slices(n, threads, [&](index_t a, index_t b) {
        Record batch[kBatch];
        double cost = 0.0;
        for (index_t i = a; i < b; i += kBatch) {
            const index_t size = std::min(kBatch, b - i);
            gather(m, hint.data(), order + i, size, log_x_max, alpha, batch);
            train_records(p, batch, size, step, eta, bias_eta, cost);
        }
        return cost;
    });
}

}  // namespace glove
}  // namespace embedcore
