// Skip-gram and CBOW with negative sampling (word2vec), trained by Hogwild SGD.
//
// Semantics follow word2vec.c (Mikolov et al. 2013): noise words drawn from unigram^0.75, frequent
// words kept with probability (sqrt(f/t) + 1) * t/f, a reduced window drawn per centre word, a
// learning rate decaying linearly with the raw words processed over all epochs, CBOW on the mean or
// sum of the context, and the sigmoid table with saturated gradients outside [-6, 6]. Each CBOW
// context row receives the hidden layer's whole gradient, also when the hidden layer is the mean
// (word2vec.c's rule, which gensim keeps for cbow_mean=1).
//
// Two update schemes:
//  * exact: word2vec.c's per-pair loop, fresh negatives for every (context, centre) pair; a pair's
//    K + 1 scores are taken in one sweep over the context row and its updates in a second.
//  * shared: the negatives drawn for a centre word are shared by all of its context words
//    (Ji et al., "Parallelizing Word2Vec in Shared and Distributed Memory", 2016). A skip-gram step
//    becomes three small dense products on a (contexts x dim) block of input rows and a
//    ((1 + negative) x dim) block of output rows: D = In Out^T, G = (labels - sigma(D)) alpha,
//    In += G Out, Out += G^T In. CBOW groups `cbow_batch` consecutive centre words sharing one set
//    of negatives. Every output row is read once per step instead of once per pair.
// Cost per epoch: O(tokens * window * (negative + 1) * dim) flops for skip-gram,
// O(tokens * (window + negative) * dim) for CBOW; memory: the two matrices plus O(threads * chunk).
//
// Threads: each owns a contiguous span of the token stream and updates the shared matrices without
// locks (Hogwild, Recht et al. 2011). The per-pair gradient, the CBOW scale and the random-draw
// rules are the shared math of ecmath/ (the GPU kernels use the same functions). The inner loops
// are compiled once per SIMD level (simd.hpp: AVX-512, AVX2+FMA, baseline) from one template over
// the vector width, and the level is picked at run time. The kernel checks the ids it reads
// (a corpus changed after validation raises instead of reading out of bounds) and stops a span
// once its loss is no longer finite (a diverged run), which the caller sees in the loss tally.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "ecmath/random.hpp"
#include "ecmath/sgns.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "sigmoid.hpp"
#include "simd.hpp"

namespace embedcore {
namespace sgns {

// ---------------------------------------------------------------------------------------------
// Tables

// Walker/Vose alias table for P(w) proportional to counts[w]^power: draw a cell i uniformly, keep i
// when a 32-bit uniform falls below prob[i], else take alias[i]. O(n) to build, O(1) per draw.
inline void build_noise_table(const std::int64_t* counts, std::int64_t n, double power,
                              std::uint32_t* prob, std::int32_t* alias) {
    require(n >= 1, "noise table: the vocabulary is empty");
    std::vector<double> p(static_cast<std::size_t>(n));
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        require(counts[i] >= 0, "noise table: counts must be non-negative");
        p[i] = std::pow(static_cast<double>(counts[i]), power);
        total += p[i];
    }
    require(total > 0.0, "noise table: all counts are zero");
    std::vector<std::int64_t> small, large;
    for (std::int64_t i = 0; i < n; ++i) {
        p[i] = p[i] * static_cast<double>(n) / total;
        (p[i] < 1.0 ? small : large).push_back(i);
    }
    const double scale = 4294967296.0;
    auto to_u32 = [&](double x) {
        const double v = std::floor(x * scale + 0.5);
        return static_cast<std::uint32_t>(std::min(std::max(v, 0.0), scale - 1.0));
    };
    while (!small.empty() && !large.empty()) {
        const std::int64_t s = small.back(), l = large.back();
        small.pop_back();
        large.pop_back();
        prob[s] = to_u32(p[s]);
        alias[s] = static_cast<std::int32_t>(l);
        p[l] = (p[l] + p[s]) - 1.0;
        (p[l] < 1.0 ? small : large).push_back(l);
    }
    // what is left has probability 1 up to rounding
    for (auto v : {&small, &large})
        for (std::int64_t i : *v) {
            prob[i] = 0xFFFFFFFFu;
            alias[i] = static_cast<std::int32_t>(i);
        }
}

// keep[w] = min(1, (sqrt(f/t) + 1) * t/f) * 2^32 with f = counts[w] / total (word2vec.c's rule);
// a token is kept when the high 32 bits of a draw are below keep[w]. sample <= 0 keeps everything.
inline void build_keep_table(const std::int64_t* counts, std::int64_t n, double sample,
                             std::int64_t total, std::uint64_t* keep) {
    const std::uint64_t always = std::uint64_t{1} << 32;
    for (std::int64_t i = 0; i < n; ++i) {
        if (sample <= 0.0 || counts[i] <= 0 || total <= 0) {
            keep[i] = always;
            continue;
        }
        const double f = static_cast<double>(counts[i]) / static_cast<double>(total);
        const double p = (std::sqrt(f / sample) + 1.0) * sample / f;
        keep[i] = p >= 1.0 ? always : static_cast<std::uint64_t>(p * 4294967296.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Vector primitives, written once over the vector type V: f32x16 in the AVX-512 copy, f32x8 in
// the AVX2 copy, f32x4 at baseline, so that every value lives in one register of the target.

using simd::f32x16;
using simd::f32x4;
using simd::f32x8;

template <class V>
EMBEDCORE_FORCE_INLINE float dot(const float* a, const float* b, int n) {
    constexpr int L = simd::lanes<V>();
    V acc = {0};
    int c = 0;
    for (; c + L <= n; c += L) acc += simd::load<V>(a + c) * simd::load<V>(b + c);
    float s = 0.0f;
    for (; c < n; ++c) s += a[c] * b[c];
    return s + simd::hsum(acc);
}

EMBEDCORE_FORCE_INLINE void prefetch_row(const float* p, int n) {
    for (int c = 0; c < n; c += 16) simd::prefetch(p + c);
}

// out[j] = x . rows[j] for R rows at once: the loads of x are shared. Chunks of L floats, then 8
// and 4, then single ones, so common sizes (50, 100, 300) need at most two scalar steps.
template <class V, int R>
EMBEDCORE_FORCE_INLINE void dots_block(const float* x, const float* const* rows, int n, float* out) {
    constexpr int L = simd::lanes<V>();
    V a[R];
    for (int r = 0; r < R; ++r) a[r] = V{0};
    int c = 0;
    for (; c + L <= n; c += L) {
        const V v = simd::load<V>(x + c);
        for (int r = 0; r < R; ++r) a[r] += v * simd::load<V>(rows[r] + c);
    }
    float s[R];
    for (int r = 0; r < R; ++r) s[r] = simd::hsum(a[r]);
    // (discarded below the vector width, so no wider type appears in a narrower copy)
    if constexpr (L > 8) {
        if (c + 8 <= n) {
            const f32x8 v = simd::load<f32x8>(x + c);
            for (int r = 0; r < R; ++r) s[r] += simd::hsum(v * simd::load<f32x8>(rows[r] + c));
            c += 8;
        }
    }
    if constexpr (L > 4) {
        if (c + 4 <= n) {
            const f32x4 v = simd::load<f32x4>(x + c);
            for (int r = 0; r < R; ++r) s[r] += simd::hsum(v * simd::load<f32x4>(rows[r] + c));
            c += 4;
        }
    }
    for (; c < n; ++c)
        for (int r = 0; r < R; ++r) s[r] += x[c] * rows[r][c];
    for (int r = 0; r < R; ++r) out[r] = s[r];
}

template <class V>
EMBEDCORE_FORCE_INLINE void dots(const float* x, const float* const* rows, int nrows, int n, float* out) {
    int j = 0;
    for (; j + 3 <= nrows; j += 3) dots_block<V, 3>(x, rows + j, n, out + j);
    if (nrows - j == 2) dots_block<V, 2>(x, rows + j, n, out + j);
    else if (nrows - j == 1) dots_block<V, 1>(x, rows + j, n, out + j);
}

// y = (accumulate ? y : 0) + sum_j w[j * stride] * rows[j], one pass over y
template <class V>
EMBEDCORE_FORCE_INLINE void combine(float* y, const float* const* rows, const float* w, int stride, int nrows,
                                    int n, bool accumulate) {
    constexpr int L = simd::lanes<V>();
    int c = 0;
    for (; c + L <= n; c += L) {
        V acc = {0};
        if (accumulate) acc = simd::load<V>(y + c);
        for (int j = 0; j < nrows; ++j) acc += w[j * stride] * simd::load<V>(rows[j] + c);
        simd::store<V>(y + c, acc);
    }
    if constexpr (L > 8) {
        if (c + 8 <= n) {
            f32x8 acc = {0};
            if (accumulate) acc = simd::load<f32x8>(y + c);
            for (int j = 0; j < nrows; ++j) acc += w[j * stride] * simd::load<f32x8>(rows[j] + c);
            simd::store<f32x8>(y + c, acc);
            c += 8;
        }
    }
    if constexpr (L > 4) {
        if (c + 4 <= n) {
            f32x4 acc = {0};
            if (accumulate) acc = simd::load<f32x4>(y + c);
            for (int j = 0; j < nrows; ++j) acc += w[j * stride] * simd::load<f32x4>(rows[j] + c);
            simd::store<f32x4>(y + c, acc);
            c += 4;
        }
    }
    for (; c < n; ++c) {
        float acc = accumulate ? y[c] : 0.0f;
        for (int j = 0; j < nrows; ++j) acc += w[j * stride] * rows[j][c];
        y[c] = acc;
    }
}

// y += g * x
EMBEDCORE_FORCE_INLINE void axpy(float* EMBEDCORE_RESTRICT y, float g, const float* EMBEDCORE_RESTRICT x, int n) {
    for (int c = 0; c < n; ++c) y[c] += g * x[c];
}

// y += x
EMBEDCORE_FORCE_INLINE void add(float* EMBEDCORE_RESTRICT y, const float* EMBEDCORE_RESTRICT x, int n) {
    for (int c = 0; c < n; ++c) y[c] += x[c];
}

// ---------------------------------------------------------------------------------------------
// One SGD step. Every step reads the rows it needs, computes all deltas from the values before
// the step, then adds the deltas (so a word that appears twice in a step gets both). Returns
// nothing; adds the pair losses -log sigma(+-f) to `loss`. Negatives equal to the positive word
// are skipped, as in word2vec.c.

struct Scratch {
    std::vector<float> g, d_in, d_out, hidden;
    std::vector<float*> in_rows, out_rows;
    void reserve(int rows_in, int rows_out, int pairs, int dim) {
        in_rows.resize(static_cast<std::size_t>(rows_in));
        out_rows.resize(static_cast<std::size_t>(rows_out));
        g.resize(static_cast<std::size_t>(pairs));
        d_in.resize(static_cast<std::size_t>(rows_in) * dim);
        d_out.resize(static_cast<std::size_t>(rows_out) * dim);
        hidden.resize(static_cast<std::size_t>(rows_in) * dim);
    }
};

// One (context, centre) pair of word2vec.c's loop as word2vec.c writes it: target by target, each
// target's score read after the previous targets' updates. `rows` are the pair's targets (the
// centre first, negatives equal to it already left out).
template <class V>
EMBEDCORE_FORCE_INLINE void sg_pair_sequential(float* ia, float* const* rows, int nt, int dim, float alpha,
                                               float* neu1e, const SigmoidTable& sig, float& loss) {
    std::fill(neu1e, neu1e + dim, 0.0f);
    for (int k = 0; k < nt; ++k) {
        float* ot = rows[k];
        const float g = sig.gradient(dot<V>(ia, ot, dim), k == 0 ? 1.0f : 0.0f, alpha, loss);
        axpy(neu1e, g, ot, dim);
        axpy(ot, g, ia, dim);
    }
    add(ia, neu1e, dim);
}

// The same pair when its nt target rows are distinct (the usual case), in two sweeps over the
// input row x instead of 2 nt + 1: no target's score depends on another target's update then, so
//   f_k = x . o_k for every k (x read once per block of up to 8 rows: pair_dots),
//   g_k = (label_k - sigma(f_k)) * alpha,
//   then per element: e = sum_k g_k o_k (old o_k), o_k += g_k x (old x), x += e (pair_update).
// e sums in k order from 0 and each o_k and x update is word2vec.c's, so with up to 8 targets
// only the scores' summation order differs from sg_pair_sequential (dots_block's, as in the
// shared mode).
//
// One block of R rows of the update sweep: o_r += g_r x and dst = (accumulate ? dst : 0) + e.
// dst is x itself when the pair has one block (x is loaded before dst is written), else a
// buffer that the caller adds to x once every block has read the old x.
template <class V, int R>
EMBEDCORE_FORCE_INLINE void pair_update_block(const float* x, float* const* rows_in, int dim, const float* g_in,
                                              float* dst, bool accumulate) {
    constexpr int L = simd::lanes<V>();
    // local copies: a store through a vector type (which may alias anything) could otherwise
    // change g_in and rows_in for all the compiler knows, and it would read them again after
    // every store
    float g[R];
    float* rows[R];
    for (int r = 0; r < R; ++r) {
        g[r] = g_in[r];
        rows[r] = rows_in[r];
    }
    int c = 0;
    for (; c + L <= dim; c += L) {
        const V xv = simd::load<V>(x + c);
        V e = V{0};
        for (int r = 0; r < R; ++r) {
            const V o = simd::load<V>(rows[r] + c);
            e += g[r] * o;
            simd::store<V>(rows[r] + c, o + g[r] * xv);
        }
        simd::store<V>(dst + c, accumulate ? simd::load<V>(dst + c) + e : e);
    }
    // (narrower tails discarded below the vector width, as in dots_block)
    if constexpr (L > 8) {
        if (c + 8 <= dim) {
            const f32x8 xv = simd::load<f32x8>(x + c);
            f32x8 e = f32x8{0};
            for (int r = 0; r < R; ++r) {
                const f32x8 o = simd::load<f32x8>(rows[r] + c);
                e += g[r] * o;
                simd::store<f32x8>(rows[r] + c, o + g[r] * xv);
            }
            simd::store<f32x8>(dst + c, accumulate ? simd::load<f32x8>(dst + c) + e : e);
            c += 8;
        }
    }
    if constexpr (L > 4) {
        if (c + 4 <= dim) {
            const f32x4 xv = simd::load<f32x4>(x + c);
            f32x4 e = f32x4{0};
            for (int r = 0; r < R; ++r) {
                const f32x4 o = simd::load<f32x4>(rows[r] + c);
                e += g[r] * o;
                simd::store<f32x4>(rows[r] + c, o + g[r] * xv);
            }
            simd::store<f32x4>(dst + c, accumulate ? simd::load<f32x4>(dst + c) + e : e);
            c += 4;
        }
    }
    for (; c < dim; ++c) {
        const float xc = x[c];
        float e = 0.0f;
        for (int r = 0; r < R; ++r) {
            const float o = rows[r][c];
            e += g[r] * o;
            rows[r][c] = o + g[r] * xc;
        }
        dst[c] = accumulate ? dst[c] + e : e;
    }
}

// The scores f_k = x . rows[k], k < nt, x read once per block of up to 8 rows (K = 5 negatives
// make 6 rows: one block).
template <class V>
EMBEDCORE_FORCE_INLINE void pair_dots(const float* x, float* const* rows, int nt, int dim, float* f) {
    int j = 0;
    for (; j + 8 <= nt; j += 8) dots_block<V, 8>(x, rows + j, dim, f + j);
    switch (nt - j) {
        case 7: dots_block<V, 7>(x, rows + j, dim, f + j); break;
        case 6: dots_block<V, 6>(x, rows + j, dim, f + j); break;
        case 5: dots_block<V, 5>(x, rows + j, dim, f + j); break;
        case 4: dots_block<V, 4>(x, rows + j, dim, f + j); break;
        case 3: dots_block<V, 3>(x, rows + j, dim, f + j); break;
        case 2: dots_block<V, 2>(x, rows + j, dim, f + j); break;
        case 1: dots_block<V, 1>(x, rows + j, dim, f + j); break;
        default: break;
    }
}

// The update sweep of a fused pair with gradients g[0..nt): one sweep when nt <= 8; with more
// rows, each block of 8 adds its e to `e_buf` and x gets the sum after the last block.
template <class V>
EMBEDCORE_FORCE_INLINE void pair_update(float* x, float* const* rows, int nt, int dim, const float* g,
                                        float* e_buf) {
    float* dst = nt <= 8 ? x : e_buf;
    bool accumulate = nt <= 8;
    int j = 0;
    for (; j + 8 <= nt; j += 8, accumulate = true)
        pair_update_block<V, 8>(x, rows + j, dim, g + j, dst, accumulate);
    switch (nt - j) {
        case 7: pair_update_block<V, 7>(x, rows + j, dim, g + j, dst, accumulate); break;
        case 6: pair_update_block<V, 6>(x, rows + j, dim, g + j, dst, accumulate); break;
        case 5: pair_update_block<V, 5>(x, rows + j, dim, g + j, dst, accumulate); break;
        case 4: pair_update_block<V, 4>(x, rows + j, dim, g + j, dst, accumulate); break;
        case 3: pair_update_block<V, 3>(x, rows + j, dim, g + j, dst, accumulate); break;
        case 2: pair_update_block<V, 2>(x, rows + j, dim, g + j, dst, accumulate); break;
        case 1: pair_update_block<V, 1>(x, rows + j, dim, g + j, dst, accumulate); break;
        default: break;
    }
    if (dst != x) add(x, e_buf, dim);
}

// Skip-gram, word2vec.c's update: for each context word c, negatives negs[a*K .. a*K+K). A pair
// whose targets are distinct (all but a few on a large vocabulary) runs fused; a pair with a
// negative drawn twice runs word2vec.c's sequential loop, whose second score of that target sees
// the first update. Same draws, same skipped negatives, same loss terms in the same order.
template <class V>
EMBEDCORE_FORCE_INLINE void sg_step_exact(float* in, float* out, int dim, std::int32_t centre,
                                    const std::int32_t* ctx, int m, const std::int32_t* negs, int K,
                                    float alpha, Scratch& s, double& loss_total) {
    float loss = 0.0f;  // this step's pairs; the caller's tally is float64
    const SigmoidTable& sig = sigmoid_table();
    float** rows = s.out_rows.data();
    float* g = s.g.data();
    float* const centre_row = out + static_cast<std::int64_t>(centre) * dim;
    for (int a = 0; a < m; ++a) {
        float* ia = in + static_cast<std::int64_t>(ctx[a]) * dim;
        // the pair's targets: the centre, then the negatives that differ from it (word2vec.c
        // skips those), noting whether one was drawn twice
        const std::int32_t* na = negs + static_cast<std::int64_t>(a) * K;
        rows[0] = centre_row;
        int nt = 1;
        bool repeated = false;
        for (int k = 0; k < K; ++k) {
            const std::int32_t t = na[k];
            if (t == centre) continue;
            float* row = out + static_cast<std::int64_t>(t) * dim;
            for (int j = 1; j < nt; ++j) repeated |= rows[j] == row;
            rows[nt++] = row;
        }
        if (EMBEDCORE_UNLIKELY(repeated)) {
            sg_pair_sequential<V>(ia, rows, nt, dim, alpha, s.d_in.data(), sig, loss);
            continue;
        }
        pair_dots<V>(ia, rows, nt, dim, g);
        g[0] = sig.gradient(g[0], 1.0f, alpha, loss);
        for (int k = 1; k < nt; ++k) g[k] = sig.gradient(g[k], 0.0f, alpha, loss);
        pair_update<V>(ia, rows, nt, dim, g, s.d_in.data());
    }
    loss_total += loss;
}

// Skip-gram with the negatives negs[0..K) shared by all m context words.
template <class V>
EMBEDCORE_FORCE_INLINE void sg_step_shared(float* in, float* out, int dim, std::int32_t centre,
                                     const std::int32_t* ctx, int m, const std::int32_t* negs, int K,
                                     float alpha, Scratch& s, double& loss_total) {
    float loss = 0.0f;  // this step's pairs; the caller's tally is float64
    const SigmoidTable& sig = sigmoid_table();
    const int nt = K + 1;
    float* G = s.g.data();
    float* d_out = s.d_out.data();
    float** in_rows = s.in_rows.data();
    float** out_rows = s.out_rows.data();
    for (int a = 0; a < m; ++a) in_rows[a] = in + static_cast<std::int64_t>(ctx[a]) * dim;
    out_rows[0] = out + static_cast<std::int64_t>(centre) * dim;
    for (int k = 1; k < nt; ++k) out_rows[k] = out + static_cast<std::int64_t>(negs[k - 1]) * dim;
    // D = In Out^T, then G = (label - sigma(D)) * alpha in place
    for (int a = 0; a < m; ++a) {
        float* row = G + a * nt;
        dots<V>(in_rows[a], out_rows, nt, dim, row);
        row[0] = sig.gradient(row[0], 1.0f, alpha, loss);
        for (int k = 1; k < nt; ++k)
            row[k] = negs[k - 1] == centre ? 0.0f : sig.gradient(row[k], 0.0f, alpha, loss);
    }
    // dOut = G^T In from the old input rows; then In += G Out from the old output rows; Out += dOut
    for (int k = 0; k < nt; ++k)
        combine<V>(d_out + static_cast<std::int64_t>(k) * dim, in_rows, G + k, nt, m, dim, false);
    for (int a = 0; a < m; ++a) combine<V>(in_rows[a], out_rows, G + a * nt, 1, nt, dim, true);
    for (int k = 0; k < nt; ++k) add(out_rows[k], d_out + static_cast<std::int64_t>(k) * dim, dim);
    loss_total += loss;
}

// CBOW for B centre words: centre b has contexts ctx[ctx_off[b] .. ctx_off[b+1]) and negatives
// negs[b*K .. b*K+K), or negs[0..K) for all of them when `shared`. B = 1 is word2vec.c's CBOW
// step (up to the order in which a negative drawn twice is updated).
template <class V>
EMBEDCORE_FORCE_INLINE void cbow_step(float* in, float* out, int dim, const std::int32_t* centres, int B,
                                const std::int32_t* ctx, const int* ctx_off, const std::int32_t* negs,
                                int K, bool shared, bool mean, float alpha, Scratch& s, double& loss_total) {
    float loss = 0.0f;  // this step's pairs; the caller's tally is float64
    const SigmoidTable& sig = sigmoid_table();
    const int nt = K + 1;
    float* G = s.g.data();
    float* H = s.hidden.data();
    float* dH = s.d_in.data();
    float** in_rows = s.in_rows.data();   // context rows, then the B hidden rows
    float** out_rows = s.out_rows.data();
    // h_b = sum (or mean) of the context rows
    for (int b = 0; b < B; ++b) {
        const int j0 = ctx_off[b], cw = ctx_off[b + 1] - j0;
        for (int j = 0; j < cw; ++j) in_rows[j] = in + static_cast<std::int64_t>(ctx[j0 + j]) * dim;
        const float scale = ecmath::cbow_hidden_scale(cw, mean);
        combine<V>(H + static_cast<std::int64_t>(b) * dim, in_rows, &scale, 0, cw, dim, false);
    }
    // scores and gradients, then dh_b = sum_k g_bk out_t, all from the old output rows
    for (int b = 0; b < B; ++b) {
        const std::int32_t* nb = negs + (shared ? 0 : b * K);
        out_rows[0] = out + static_cast<std::int64_t>(centres[b]) * dim;
        for (int k = 1; k < nt; ++k) out_rows[k] = out + static_cast<std::int64_t>(nb[k - 1]) * dim;
        float* row = G + b * nt;
        const float* h = H + static_cast<std::int64_t>(b) * dim;
        dots<V>(h, out_rows, nt, dim, row);
        row[0] = sig.gradient(row[0], 1.0f, alpha, loss);
        for (int k = 1; k < nt; ++k)
            row[k] = nb[k - 1] == centres[b] ? 0.0f : sig.gradient(row[k], 0.0f, alpha, loss);
        combine<V>(dH + static_cast<std::int64_t>(b) * dim, out_rows, row, 1, nt, dim, false);
    }
    // output rows: out_t += sum_b g_bt h_b (h does not change during the update)
    for (int b = 0; b < B; ++b) {
        const float* h = H + static_cast<std::int64_t>(b) * dim;
        axpy(out + static_cast<std::int64_t>(centres[b]) * dim, G[b * nt], h, dim);
        if (!shared)
            for (int k = 1; k < nt; ++k)
                if (G[b * nt + k] != 0.0f)
                    axpy(out + static_cast<std::int64_t>(negs[b * K + k - 1]) * dim, G[b * nt + k], h, dim);
    }
    if (shared) {
        for (int b = 0; b < B; ++b) in_rows[b] = H + static_cast<std::int64_t>(b) * dim;
        for (int k = 1; k < nt; ++k)
            combine<V>(out + static_cast<std::int64_t>(negs[k - 1]) * dim, in_rows, G + k, nt, B, dim, true);
    }
    // context rows: in_c += dh_b, undivided for the mean as well (word2vec.c and gensim do the same)
    for (int b = 0; b < B; ++b) {
        const float* dh = dH + static_cast<std::int64_t>(b) * dim;
        for (int j = ctx_off[b]; j < ctx_off[b + 1]; ++j) add(in + static_cast<std::int64_t>(ctx[j]) * dim, dh, dim);
    }
    loss_total += loss;
}

// One step on one centre word with given contexts and negatives (for tests and references):
// skip-gram takes m*K negatives (exact) or K (shared); CBOW takes K. Returns the step's loss.
// (single_step, below, picks the SIMD level.)
template <class V>
EMBEDCORE_FORCE_INLINE double single_step_impl(float* in, float* out, int dim, bool skip_gram, bool shared,
                                               bool mean, std::int32_t centre, const std::int32_t* ctx, int m,
                                               const std::int32_t* negs, int K, float alpha) {
    Scratch s;
    s.reserve(m, K + 1 + K, m * (K + 1), dim);
    double loss = 0.0;
    if (skip_gram) {
        if (shared) sg_step_shared<V>(in, out, dim, centre, ctx, m, negs, K, alpha, s, loss);
        else sg_step_exact<V>(in, out, dim, centre, ctx, m, negs, K, alpha, s, loss);
    } else {
        const int off[2] = {0, m};
        cbow_step<V>(in, out, dim, &centre, 1, ctx, off, negs, K, shared, mean, alpha, s, loss);
    }
    return loss;
}

// ---------------------------------------------------------------------------------------------
// Training over spans of the corpus

struct Config {
    int dim = 100;
    int window = 5;
    int negative = 5;
    bool skip_gram = true;
    bool cbow_mean = true;
    bool shared = true;       // shared negatives per centre word (or per CBOW group)
    int cbow_batch = 1;       // CBOW centre words per group when shared
    float alpha = 0.025f;
    float min_alpha = 1e-4f;
    std::int64_t total_words = 0;  // raw tokens x epochs: the denominator of the decay
};

struct Data {
    float* input = nullptr;   // vocab_size x dim, updated in place
    float* output = nullptr;  // vocab_size x dim, updated in place
    std::int64_t vocab_size = 0;
    const std::uint64_t* keep = nullptr;        // subsampling thresholds, vocab_size
    const std::uint32_t* noise_prob = nullptr;  // alias table, vocab_size
    const std::int32_t* noise_alias = nullptr;
    const std::int32_t* ids = nullptr;
    const std::int64_t* offsets = nullptr;  // n_sentences + 1
    std::int64_t n_sentences = 0;
};

// A noise word: the alias draw of the shared math, cell from the high 32 bits of a draw.
EMBEDCORE_FORCE_INLINE std::int32_t draw_noise(SplitMix64& rng, const Data& d) {
    const std::uint64_t r = rng.next();
    return ecmath::alias_draw(static_cast<std::uint32_t>(r >> 32), static_cast<std::uint32_t>(r), d.noise_prob,
                              d.noise_alias, static_cast<int>(d.vocab_size));
}

inline float current_alpha(const Config& cfg, std::int64_t done) {
    if (cfg.total_words <= 0) return cfg.alpha;
    const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(cfg.total_words));
    const double a = cfg.alpha - (cfg.alpha - cfg.min_alpha) * frac;
    return static_cast<float>(std::max<double>(a, cfg.min_alpha));
}

// How often (raw words) a thread publishes its progress and recomputes the learning rate.
constexpr std::int64_t kAlphaInterval = 10000;

// ---------------------------------------------------------------------------------------------
// Pieces of a span's loop shared with the fastText kernel (fasttext.hpp)

// A thread's learning rate: every kAlphaInterval raw words it adds its progress to the shared
// count and recomputes alpha from the total; `finish` publishes the rest of the span.
struct Progress {
    std::int64_t published;
    float alpha;
    Progress(const Config& cfg, std::atomic<std::int64_t>& done, std::int64_t begin)
        : published(begin), alpha(current_alpha(cfg, done.load(std::memory_order_relaxed))) {}
    EMBEDCORE_FORCE_INLINE void at(const Config& cfg, std::atomic<std::int64_t>& done, std::int64_t here) {
        if (here - published >= kAlphaInterval) {
            const std::int64_t step = here - published;
            alpha = current_alpha(cfg, done.fetch_add(step, std::memory_order_relaxed) + step);
            published = here;
        }
    }
    void finish(std::atomic<std::int64_t>& done, std::int64_t end) {
        done.fetch_add(end - published, std::memory_order_relaxed);
    }
};

// The kept tokens of [pos, stop) into `sent` and their offsets from pos into `raw_pos` (the
// subsampling draw, one per token). The corpus may have changed since it was validated: every
// id is checked before it indexes a table.
EMBEDCORE_FORCE_INLINE void subsample(const Data& d, std::int64_t pos, std::int64_t stop, SplitMix64& rng,
                                      std::vector<std::int32_t>& sent, std::vector<std::int64_t>& raw_pos) {
    sent.clear();
    raw_pos.clear();
    for (std::int64_t p = pos; p < stop; ++p) {
        const std::int32_t w = d.ids[p];
        if (EMBEDCORE_UNLIKELY(static_cast<std::uint64_t>(static_cast<std::uint32_t>(w)) >=
                               static_cast<std::uint64_t>(d.vocab_size)))
            throw std::invalid_argument("corpus ids must lie in [0, vocab_size=" + std::to_string(d.vocab_size) +
                                        "), got " + std::to_string(w) + " at position " + std::to_string(p));
        if (ecmath::keep_token(static_cast<std::uint32_t>(rng.next() >> 32), d.keep[w])) {
            sent.push_back(w);
            raw_pos.push_back(p - pos);
        }
    }
}

// Noise words drawn ahead of their use, so that their output rows load from memory while the
// steps before them compute. take(n) hands out the n oldest draws (drawing now whatever is
// missing) and draws n more, prefetching their rows: with a constant n this is "draw the next
// step's noise words during this step"; with a varying n the look-ahead grows to the largest n
// taken so far. The draws are consumed in the order they were made.
class NoiseAhead {
public:
    explicit NoiseAhead(int max_take) : buf_(static_cast<std::size_t>(std::max(max_take, 1))) {}

    EMBEDCORE_FORCE_INLINE void take(int n, std::int32_t* dst, SplitMix64& rng, const Data& d, int dim) {
        const int cap = static_cast<int>(buf_.size());
        for (; count_ < n; ++count_) buf_[wrap(head_ + count_, cap)] = draw_noise(rng, d);
        for (int k = 0; k < n; ++k) dst[k] = buf_[wrap(head_ + k, cap)];
        head_ = wrap(head_ + n, cap);
        count_ -= n;
        for (int k = 0; k < n; ++k, ++count_) {
            const std::int32_t w = draw_noise(rng, d);
            buf_[wrap(head_ + count_, cap)] = w;
            prefetch_row(d.output + static_cast<std::int64_t>(w) * dim, dim);
        }
    }

private:
    static int wrap(int i, int cap) { return i >= cap ? i - cap : i; }
    std::vector<std::int32_t> buf_;
    int head_ = 0, count_ = 0;
};

// Train on tokens [begin, end). Windows do not cross sentence boundaries nor the span's ends.
template <class V>
EMBEDCORE_FORCE_INLINE void train_span_impl(const Config& cfg, const Data& d, std::int64_t begin,
                                      std::int64_t end, std::uint64_t& rng_state,
                                      std::atomic<std::int64_t>& done, double& loss) {
    if (begin >= end) return;
    const int dim = cfg.dim, K = cfg.negative, W = cfg.window;
    const int B = cfg.skip_gram ? 1 : std::max(1, cfg.shared ? cfg.cbow_batch : 1);
    SplitMix64 rng(rng_state);
    Scratch s;
    const int max_ctx = 2 * W;
    s.reserve(std::max(max_ctx, B), std::max(K + 1, B + B * K), std::max(max_ctx, B) * (K + 1), dim);
    std::vector<std::int64_t> raw_pos;
    std::vector<std::int32_t> sent, ctx(static_cast<std::size_t>(max_ctx) * B),
        negs(static_cast<std::size_t>(std::max(max_ctx, B)) * std::max(K, 1)), centres(B);
    std::vector<int> ctx_off(B + 1);
    NoiseAhead noise(K);  // the shared modes' noise words, one step ahead
    double local_loss = 0.0;
    Progress progress(cfg, done, begin);

    std::int64_t si = std::upper_bound(d.offsets, d.offsets + d.n_sentences + 1, begin) - d.offsets - 1;
    std::int64_t pos = begin;
    while (pos < end) {
        while (d.offsets[si + 1] <= pos) ++si;
        // a sentence longer than 2^30 tokens is trained in pieces of 2^30 (windows break there)
        const std::int64_t stop = std::min({d.offsets[si + 1], end, pos + (std::int64_t{1} << 30)});
        // subsample the sentence piece; remember raw positions for the learning-rate schedule
        subsample(d, pos, stop, rng, sent, raw_pos);
        const int n = static_cast<int>(sent.size());
        int group = 0;
        ctx_off[0] = 0;
        // (a macro, not a lambda: a lambda would be compiled without the caller's SIMD target)
#define EMBEDCORE_FLUSH_CBOW()                                                                          \
    do {                                                                                                \
        if (cfg.shared) {                                                                               \
            noise.take(K, negs.data(), rng, d, dim);                                                    \
        } else {                                                                                        \
            for (int k = 0; k < group * K; ++k) negs[k] = draw_noise(rng, d);                           \
        }                                                                                               \
        cbow_step<V>(d.input, d.output, dim, centres.data(), group, ctx.data(), ctx_off.data(), negs.data(), \
                  K, cfg.shared, cfg.cbow_mean, progress.alpha, s, local_loss);                         \
        group = 0;                                                                                      \
    } while (0)
        for (int i = 0; i < n; ++i) {
            progress.at(cfg, done, pos + raw_pos[i]);
            const float alpha = progress.alpha;
            const int reach = W - static_cast<int>(rng.below(static_cast<std::uint32_t>(W)));
            const int lo = std::max(0, i - reach), hi = std::min(n, i + reach + 1);
            const std::int32_t centre = sent[i];
            if (cfg.skip_gram) {
                int m = 0;
                for (int j = lo; j < hi; ++j)
                    if (j != i) ctx[m++] = sent[j];
                if (m == 0) continue;
                if (cfg.shared) {
                    // negatives are drawn one centre word ahead so that their rows can be fetched
                    // from memory while this word's products are computed
                    noise.take(K, negs.data(), rng, d, dim);
                    if (i + 1 < n) prefetch_row(d.output + static_cast<std::int64_t>(sent[i + 1]) * dim, dim);
                    sg_step_shared<V>(d.input, d.output, dim, centre, ctx.data(), m, negs.data(), K, alpha, s,
                                   local_loss);
                } else {
                    for (int k = 0; k < m * K; ++k) negs[k] = draw_noise(rng, d);
                    sg_step_exact<V>(d.input, d.output, dim, centre, ctx.data(), m, negs.data(), K, alpha, s,
                                  local_loss);
                }
            } else {
                int m = ctx_off[group];
                for (int j = lo; j < hi; ++j)
                    if (j != i) ctx[m++] = sent[j];
                if (m == ctx_off[group]) continue;
                centres[group] = centre;
                ctx_off[++group] = m;
                if (group == B) EMBEDCORE_FLUSH_CBOW();
            }
        }
        if (group > 0) EMBEDCORE_FLUSH_CBOW();  // the sentence ended inside a group
#undef EMBEDCORE_FLUSH_CBOW
        pos = stop;
        // a non-finite loss means the vectors diverged: stop here, the caller sees the loss
        if (!std::isfinite(local_loss)) break;
    }
    progress.finish(done, end);
    rng_state = rng.state;
    loss += local_loss;
}

using SpanFn = void (*)(const Config&, const Data&, std::int64_t, std::int64_t, std::uint64_t&,
                        std::atomic<std::int64_t>&, double&);

// The levels this kernel has copies of (it is written with the portable vector types).
constexpr unsigned kLevels = simd::kGenericLevels;

inline void train_span_baseline(const Config& c, const Data& d, std::int64_t b, std::int64_t e,
                                std::uint64_t& r, std::atomic<std::int64_t>& done, double& l) {
    train_span_impl<f32x4>(c, d, b, e, r, done, l);
}

#ifdef EMBEDCORE_GENERIC_VARIANTS
EMBEDCORE_TARGET_AVX2 inline void train_span_avx2(const Config& c, const Data& d, std::int64_t b, std::int64_t e,
                                                  std::uint64_t& r, std::atomic<std::int64_t>& done, double& l) {
    train_span_impl<f32x8>(c, d, b, e, r, done, l);
}
EMBEDCORE_TARGET_AVX512 inline void train_span_avx512(const Config& c, const Data& d, std::int64_t b,
                                                      std::int64_t e, std::uint64_t& r,
                                                      std::atomic<std::int64_t>& done, double& l) {
    train_span_impl<f32x16>(c, d, b, e, r, done, l);
}
#endif

// The level this kernel runs at for `forced` ("" for the best this CPU runs; see simd::select).
inline simd::Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "word2vec"); }

inline SpanFn span_fn(simd::Isa isa) {
#ifdef EMBEDCORE_GENERIC_VARIANTS
    if (isa == simd::Isa::Avx512) return train_span_avx512;
    if (isa == simd::Isa::Avx2) return train_span_avx2;
#endif
    (void)isa;
    return train_span_baseline;
}

using StepFn = double (*)(float*, float*, int, bool, bool, bool, std::int32_t, const std::int32_t*, int,
                          const std::int32_t*, int, float);

inline double single_step_baseline(float* in, float* out, int dim, bool sg, bool shared, bool mean,
                                   std::int32_t centre, const std::int32_t* ctx, int m, const std::int32_t* negs,
                                   int K, float alpha) {
    return single_step_impl<f32x4>(in, out, dim, sg, shared, mean, centre, ctx, m, negs, K, alpha);
}

#ifdef EMBEDCORE_GENERIC_VARIANTS
EMBEDCORE_TARGET_AVX2 inline double single_step_avx2(float* in, float* out, int dim, bool sg, bool shared, bool mean,
                                                     std::int32_t centre, const std::int32_t* ctx, int m,
                                                     const std::int32_t* negs, int K, float alpha) {
    return single_step_impl<f32x8>(in, out, dim, sg, shared, mean, centre, ctx, m, negs, K, alpha);
}
EMBEDCORE_TARGET_AVX512 inline double single_step_avx512(float* in, float* out, int dim, bool sg, bool shared,
                                                         bool mean, std::int32_t centre, const std::int32_t* ctx,
                                                         int m, const std::int32_t* negs, int K, float alpha) {
    return single_step_impl<f32x16>(in, out, dim, sg, shared, mean, centre, ctx, m, negs, K, alpha);
}
#endif

// One step on one centre word (see single_step_impl) at the SIMD level `level` (see
// simd::select; "" for the best this CPU runs), so that tests reach every copy of the steps.
inline double single_step(float* in, float* out, int dim, bool skip_gram, bool shared, bool mean,
                          std::int32_t centre, const std::int32_t* ctx, int m, const std::int32_t* negs, int K,
                          float alpha, const std::string& level = "") {
    require(dim >= 1 && m >= 1 && K >= 0, "single_step: bad sizes");
    const simd::Isa isa = select_isa(level);
    StepFn fn = single_step_baseline;
#ifdef EMBEDCORE_GENERIC_VARIANTS
    if (isa == simd::Isa::Avx512) fn = single_step_avx512;
    if (isa == simd::Isa::Avx2) fn = single_step_avx2;
#endif
    (void)isa;
    return fn(in, out, dim, skip_gram, shared, mean, centre, ctx, m, negs, K, alpha);
}

// One chunk of training: thread t trains on tokens [starts[t], ends[t]) with its random stream
// rng_states[t]. words_done (raw words over all epochs so far) is read and advanced; loss[t] gets
// thread t's summed pair losses added (not finite once the run diverged: its span stops there).
// `level` forces a SIMD level (see simd::select). Returns the SIMD level used.
inline const char* train_chunk(const Config& cfg, const Data& d, const std::int64_t* starts,
                               const std::int64_t* ends, int threads, std::uint64_t* rng_states,
                               std::int64_t* words_done, double* loss, const std::string& level = "") {
    require(cfg.dim >= 1, "vector_size must be >= 1");
    require(cfg.window >= 1 && cfg.window <= (1 << 20), "window must be in [1, 2**20]");
    require(cfg.negative >= 0 && cfg.negative <= (1 << 20), "negative must be in [0, 2**20]");
    require(cfg.cbow_batch >= 1, "cbow_batch must be >= 1");
    require(d.vocab_size >= 1 && d.vocab_size < (std::int64_t{1} << 31), "vocabulary size out of range");
    require(threads >= 1, "threads must be >= 1");
    const simd::Isa isa = select_isa(level);
    const SpanFn fn = span_fn(isa);
    std::atomic<std::int64_t> done(*words_done);
    parallel_blocks(threads, threads, [&](std::int64_t t0, std::int64_t t1, int) {
        for (std::int64_t t = t0; t < t1; ++t) fn(cfg, d, starts[t], ends[t], rng_states[t], done, loss[t]);
    });
    *words_done = done.load();
    return simd::isa_name(isa);
}

}  // namespace sgns
}  // namespace embedcore
