// One GloVe training epoch: AdaGrad over the nonzeros of a co-occurrence matrix, Hogwild.
//
// Objective (Pennington, Socher, Manning 2014; Stanford glove.c): for each nonzero x = X[i, j],
//   J += f(x) (w_i . w~_j + b_i + b~_j - log x)^2,  f(x) = min(1, (x / x_max)^alpha).
// Each nonzero takes one AdaGrad step as glove.c does: with fdiff = eta * f(x) * diff,
//   g = fdiff * w~_j;  w_i -= g / sqrt(G_i);  G_i += g^2   (and symmetrically for w~_j),
//   b_i -= fdiff / sqrt(Gb_i);  Gb_i += fdiff^2,
// both gradients taken from the values before the step. The epoch returns sum 0.5 f(x) diff^2
// (glove.c's reported cost is this over the number of nonzeros). O(nnz * dim) per epoch.
//
// Records carry log x and f(x), computed once per fit. Rows are padded to a multiple of 16
// floats (padding stays 0 in the vectors, 1 in the accumulators), so the dot and the updates
// run in whole AVX-512 / AVX2 vectors; the instruction set is picked at run time. Threads take
// contiguous slices of the (shuffled) records and update the shared arrays without locks.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define EMBEDCORE_GLOVE_X86 1
#endif

namespace embedcore {
namespace glove {

struct Record {
    std::int32_t row;
    std::int32_t col;
    float log_x;
    float weight;  // f(x)
};
static_assert(sizeof(Record) == 16, "Record is four 32-bit fields");

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

// One step on one nonzero; returns 0.5 f diff^2. The vector part is the only SIMD part.
inline double step_scalar(const Params& p, const Record& r, float eta) {
    float* w = p.word + r.row * p.stride;
    float* c = p.context + r.col * p.stride;
    float* gw = p.word_gradsq + r.row * p.stride;
    float* gc = p.context_gradsq + r.col * p.stride;
    float dot = 0.0f;
    for (index_t k = 0; k < p.stride; ++k) dot += w[k] * c[k];
    const float diff = dot + p.word_bias[r.row] + p.context_bias[r.col] - r.log_x;
    float fdiff = r.weight * diff;
    const double cost = 0.5 * static_cast<double>(fdiff) * diff;
    fdiff *= eta;
    for (index_t k = 0; k < p.stride; ++k) {
        const float t1 = fdiff * c[k], t2 = fdiff * w[k];
        w[k] -= t1 / std::sqrt(gw[k]);
        c[k] -= t2 / std::sqrt(gc[k]);
        gw[k] += t1 * t1;
        gc[k] += t2 * t2;
    }
    p.word_bias[r.row] -= fdiff / std::sqrt(p.word_bias_gradsq[r.row]);
    p.context_bias[r.col] -= fdiff / std::sqrt(p.context_bias_gradsq[r.col]);
    p.word_bias_gradsq[r.row] += fdiff * fdiff;
    p.context_bias_gradsq[r.col] += fdiff * fdiff;
    return cost;
}

#ifdef EMBEDCORE_GLOVE_X86
__attribute__((target("avx2,fma"))) inline double step_avx2(const Params& p, const Record& r, float eta) {
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
    float fdiff = r.weight * diff;
    const double cost = 0.5 * static_cast<double>(fdiff) * diff;
    fdiff *= eta;
    const __m256 f = _mm256_set1_ps(fdiff);
    for (index_t k = 0; k < p.stride; k += 8) {
        const __m256 wv = _mm256_loadu_ps(w + k), cv = _mm256_loadu_ps(c + k);
        const __m256 g1 = _mm256_loadu_ps(gw + k), g2 = _mm256_loadu_ps(gc + k);
        const __m256 t1 = _mm256_mul_ps(f, cv), t2 = _mm256_mul_ps(f, wv);
        _mm256_storeu_ps(w + k, _mm256_sub_ps(wv, _mm256_div_ps(t1, _mm256_sqrt_ps(g1))));
        _mm256_storeu_ps(c + k, _mm256_sub_ps(cv, _mm256_div_ps(t2, _mm256_sqrt_ps(g2))));
        _mm256_storeu_ps(gw + k, _mm256_fmadd_ps(t1, t1, g1));
        _mm256_storeu_ps(gc + k, _mm256_fmadd_ps(t2, t2, g2));
    }
    p.word_bias[r.row] -= fdiff / std::sqrt(p.word_bias_gradsq[r.row]);
    p.context_bias[r.col] -= fdiff / std::sqrt(p.context_bias_gradsq[r.col]);
    p.word_bias_gradsq[r.row] += fdiff * fdiff;
    p.context_bias_gradsq[r.col] += fdiff * fdiff;
    return cost;
}

__attribute__((target("avx512f"))) inline double step_avx512(const Params& p, const Record& r, float eta) {
    float* w = p.word + r.row * p.stride;
    float* c = p.context + r.col * p.stride;
    float* gw = p.word_gradsq + r.row * p.stride;
    float* gc = p.context_gradsq + r.col * p.stride;
    __m512 acc = _mm512_setzero_ps();
    for (index_t k = 0; k < p.stride; k += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(w + k), _mm512_loadu_ps(c + k), acc);
    const float diff = _mm512_reduce_add_ps(acc) + p.word_bias[r.row] + p.context_bias[r.col] - r.log_x;
    float fdiff = r.weight * diff;
    const double cost = 0.5 * static_cast<double>(fdiff) * diff;
    fdiff *= eta;
    const __m512 f = _mm512_set1_ps(fdiff);
    for (index_t k = 0; k < p.stride; k += 16) {
        const __m512 wv = _mm512_loadu_ps(w + k), cv = _mm512_loadu_ps(c + k);
        const __m512 g1 = _mm512_loadu_ps(gw + k), g2 = _mm512_loadu_ps(gc + k);
        const __m512 t1 = _mm512_mul_ps(f, cv), t2 = _mm512_mul_ps(f, wv);
        _mm512_storeu_ps(w + k, _mm512_sub_ps(wv, _mm512_div_ps(t1, _mm512_sqrt_ps(g1))));
        _mm512_storeu_ps(c + k, _mm512_sub_ps(cv, _mm512_div_ps(t2, _mm512_sqrt_ps(g2))));
        _mm512_storeu_ps(gw + k, _mm512_fmadd_ps(t1, t1, g1));
        _mm512_storeu_ps(gc + k, _mm512_fmadd_ps(t2, t2, g2));
    }
    p.word_bias[r.row] -= fdiff / std::sqrt(p.word_bias_gradsq[r.row]);
    p.context_bias[r.col] -= fdiff / std::sqrt(p.context_bias_gradsq[r.col]);
    p.word_bias_gradsq[r.row] += fdiff * fdiff;
    p.context_bias_gradsq[r.col] += fdiff * fdiff;
    return cost;
}
#endif

using StepFn = double (*)(const Params&, const Record&, float);

// The step for `simd` ("" picks the widest this CPU runs; "avx512", "avx2", "scalar" force one).
inline StepFn pick_step(const std::string& simd, std::string* chosen) {
    std::string level = simd;
#ifdef EMBEDCORE_GLOVE_X86
    __builtin_cpu_init();
    const bool has512 = __builtin_cpu_supports("avx512f");
    const bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (level.empty()) level = has512 ? "avx512" : has2 ? "avx2" : "scalar";
    require(level != "avx512" || has512, "simd='avx512' but this CPU lacks AVX-512F");
    require(level != "avx2" || has2, "simd='avx2' but this CPU lacks AVX2/FMA");
    if (chosen) *chosen = level;
    if (level == "avx512") return &step_avx512;
    if (level == "avx2") return &step_avx2;
#else
    if (level.empty()) level = "scalar";
    if (chosen) *chosen = level;
#endif
    require(level == "scalar", "simd must be '', 'avx512', 'avx2' or 'scalar', got '" + level + "'");
    return &step_scalar;
}

// One pass over records[0, n) with `threads` threads; returns sum 0.5 f diff^2 (float64).
inline double epoch(const Params& p, const Record* records, index_t n, float eta, int threads,
                    const std::string& simd = "", std::string* chosen = nullptr) {
    require(p.stride > 0 && p.stride % 16 == 0, "stride must be a positive multiple of 16");
    require(eta > 0.0f, "learning rate must be positive");
    const StepFn step = pick_step(simd, chosen);
    threads = std::max(1, threads);
    std::vector<double> cost(static_cast<std::size_t>(threads) * 8, 0.0);  // one cache line each
    parallel_blocks(n, threads, [&](index_t a, index_t b, int t) {
        double local = 0.0;
        constexpr index_t kAhead = 4;
        for (index_t k = a; k < b; ++k) {
            if (k + kAhead < b) {
                // the rows the step after next touches, so their loads overlap this step's work
                const Record& q = records[k + kAhead];
                for (index_t off = 0; off < p.stride; off += 16) {
                    __builtin_prefetch(p.word + q.row * p.stride + off, 1);
                    __builtin_prefetch(p.context + q.col * p.stride + off, 1);
                    __builtin_prefetch(p.word_gradsq + q.row * p.stride + off, 1);
                    __builtin_prefetch(p.context_gradsq + q.col * p.stride + off, 1);
                }
            }
            const Record& r = records[k];
            if (r.row < 0 || r.row >= p.n_words || r.col < 0 || r.col >= p.n_words)
                throw std::invalid_argument("glove: a record's row or column is outside the vocabulary");
            local += step(p, r, eta);
        }
        cost[static_cast<std::size_t>(t) * 8] = local;
    });
    double total = 0.0;
    for (int t = 0; t < threads; ++t) total += cost[static_cast<std::size_t>(t) * 8];
    return total;
}

}  // namespace glove
}  // namespace embedcore
