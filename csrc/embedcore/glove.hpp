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
// copy against the float64 reference. Records carry log x and f(x), computed once per fit. Rows
// are padded to a multiple of 16 floats (padding stays 0 in the vectors, 1 in the accumulators),
// so the dot and the updates run in whole AVX-512 / AVX2 vectors; the level is picked at run time
// (simd.hpp). Threads take contiguous slices of the (shuffled) records and update the shared
// arrays without locks. The CSR a fit starts from is checked (indptr monotone, columns in range)
// before any record is written, and every record's row and column before its step.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <algorithm>
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

// splitmix64 (random.hpp's generator as a free function): enough to shuffle records.
inline std::uint64_t next_random(std::uint64_t& state) { return ecmath::mix64(state += EC_GOLDEN); }

// A uniform integer in [0, n) (the bias n / 2**32 is negligible here).
inline std::uint32_t random_below(std::uint64_t& state, std::uint32_t n) {
    return ecmath::below(static_cast<std::uint32_t>(next_random(state) >> 32), n);
}

// Fills out[0, nnz) with the nonzeros of a CSR matrix (all values > 0) in a uniformly random
// order, each as (row, col, log x, f(x)). The shuffle is a bucket shuffle: every record goes to
// one of B random buckets (sequential writes to B cursors), then each bucket, small enough for
// the cache, is Fisher-Yates shuffled on its own; independent uniform bucket labels plus uniform
// shuffles within buckets give a uniform permutation. O(nnz), parallel over buckets, and the
// same output for a seed whatever the thread count.
template <class Value>
void prepare_records(const std::int64_t* indptr, const std::int32_t* indices, const Value* data, index_t n_rows,
                     index_t n_cols, float x_max, float alpha, std::uint64_t seed, Record* out, index_t nnz,
                     int threads) {
    require(x_max > 0.0f && alpha > 0.0f, "x_max and alpha must be positive");
    require(n_rows >= 0 && n_cols >= 0 && nnz >= 0, "cooc: negative dimension");
    require(indptr[0] == 0 && indptr[n_rows] == nnz, "cooc: indptr must run from 0 to nnz");
    // the records are counted from nnz and written row by row: a decreasing indptr would write
    // more records than there are slots
    for (index_t r = 0; r < n_rows; ++r)
        if (indptr[r] > indptr[r + 1])
            throw std::invalid_argument("cooc: indptr decreases at row " + std::to_string(r) + " (" +
                                        std::to_string(indptr[r]) + " > " + std::to_string(indptr[r + 1]) + ")");
    const std::uint32_t buckets = static_cast<std::uint32_t>(std::max<index_t>(1, std::min<index_t>(nnz / 16384, 1 << 16)));
    std::vector<index_t> start(static_cast<std::size_t>(buckets) + 1, 0);
    std::uint64_t state = seed * 0xD1B54A32D192ED03ULL + 1;
    for (index_t k = 0; k < nnz; ++k) ++start[random_below(state, buckets) + 1];
    for (std::uint32_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
    std::vector<index_t> cursor(start.begin(), start.end() - 1);
    state = seed * 0xD1B54A32D192ED03ULL + 1;  // the same labels again
    for (index_t r = 0; r < n_rows; ++r) {
        for (index_t k = indptr[r]; k < indptr[r + 1]; ++k) {
            const std::int32_t c = indices[k];
            const double x = static_cast<double>(data[k]);
            if (c < 0 || c >= n_cols) throw std::invalid_argument("cooc: a column index is out of range");
            if (!(x > 0.0) || !std::isfinite(x)) throw std::invalid_argument("cooc: counts must be positive and finite");
            Record& rec = out[cursor[random_below(state, buckets)]++];
            rec.row = static_cast<std::int32_t>(r);
            rec.col = c;
            rec.log_x = static_cast<float>(x);  // the count for now; replaced below
            rec.weight = 0.0f;
        }
    }
    const float log_x_max = std::log(x_max);
    parallel_blocks(buckets, threads, [&](index_t b0, index_t b1, int) {
        for (index_t b = b0; b < b1; ++b) {
            Record* first = out + start[static_cast<std::size_t>(b)];
            const index_t n = start[static_cast<std::size_t>(b) + 1] - start[static_cast<std::size_t>(b)];
            std::uint64_t local = seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(b + 1));
            for (index_t i = n - 1; i > 0; --i) std::swap(first[i], first[random_below(local, static_cast<std::uint32_t>(i + 1))]);
            for (index_t i = 0; i < n; ++i) {
                const float lx = std::log(first[i].log_x);
                first[i].log_x = lx;
                first[i].weight = ecmath::glove_weight(lx, log_x_max, alpha);
            }
        }
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

// One pass over records[0, n) with `threads` threads; returns sum 0.5 f diff^2 (float64).
// `level` forces a SIMD level ("" for the best, see simd::select); *chosen receives the one used.
inline double epoch(const Params& p, const Record* records, index_t n, float eta, float bias_eta, int threads,
                    const std::string& level = "", simd::Isa* chosen = nullptr) {
    require(p.stride > 0 && p.stride % 16 == 0, "stride must be a positive multiple of 16");
    require(eta > 0.0f, "learning rate must be positive");
    require(bias_eta > 0.0f, "bias learning rate must be positive");
    const simd::Isa isa = select_isa(level);
    if (chosen) *chosen = isa;
    const StepFn step = step_fn(isa);
    threads = std::max(1, threads);
    simd::AlignedArray<double> cost(static_cast<std::size_t>(threads) * 8);  // one cache line each
    parallel_blocks(n, threads, [&](index_t a, index_t b, int t) {
        double local = 0.0;
        constexpr index_t kAhead = 4;
        for (index_t k = a; k < b; ++k) {
            if (k + kAhead < b) {
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
            local += step(p, r, eta, bias_eta);
        }
        cost[static_cast<std::size_t>(t) * 8] = local;
    });
    double total = 0.0;
    for (int t = 0; t < threads; ++t) total += cost[static_cast<std::size_t>(t) * 8];
    return total;
}

}  // namespace glove
}  // namespace embedcore
