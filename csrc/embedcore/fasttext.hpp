// fastText's subword model (Bojanowski et al., "Enriching Word Vectors with Subword Information",
// TACL 2017): skip-gram and CBOW with negative sampling where the input vector of a word is the
// mean of its own row and the rows of its character n-grams.
//
// N-grams follow fastText's dictionary.cc exactly, so that row ids match its .bin files: the word
// is wrapped in '<' and '>', n-grams of min_n..max_n Unicode characters are taken at every
// character start (UTF-8 continuation bytes never start or split one), the single characters '<'
// and '>' are left out, and an n-gram's row is nwords + fnv1a32(bytes) % bucket, where the FNV-1a
// step xors the byte sign-extended from a signed char (fastText's quirk: bytes >= 0x80 xor
// 0xFFFFFF80 | b). The word "</s>" (fastText's end of line) has no n-grams.
//
// The rows of every vocabulary word (its own id first, then its n-gram rows) are computed once
// into a CSR index. One training step takes an input row list R (skip-gram: the centre word's
// subwords; CBOW: the subwords of all context words) and targets T (labels 1 then 0):
//   h = mean_{r in R} in_r;  g_t = (label_t - sigma(h . out_t)) alpha w_t;
//   dh = sum_t g_t out_t;  out_t += g_t h;  in_r += dh for every r in R
// (all products from the values before the step; every input row receives the whole gradient,
// as fastText does for its unsupervised models). Skip-gram takes the centre word's m context
// words as positives and K negatives shared by the m pairs, the negatives weighted w_k = the
// number of context words they differ from, so the step is the summed step of the m pairs
// (Ji et al. 2016's sharing); with cfg.shared false it takes K fresh negatives per pair, as
// fastText draws them (one step still: h is computed once per centre word). CBOW takes the centre
// word and K negatives, as fastText. Subsampling, reduced windows, the linear learning-rate decay,
// the noise table, the noise words drawn ahead of their step (their rows prefetched) and the
// sigmoid are the word2vec kernel's (sgns.hpp: subsample, Progress, NoiseAhead), whose SIMD
// primitives this kernel reuses. Compared with fastText, which recomputes h from every input row
// and scatters the gradient back to them once per (centre, context) pair, the input rows are
// read and written once per centre word: the step's cost is dominated by those random rows of
// the (words + bucket) x dim table, fetched for the next centre word while this one computes.
// Cost per skip-gram centre word: O((|R| + m + K) dim); per CBOW centre word O((|R| + K) dim).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "sgns.hpp"

namespace embedcore {
namespace fasttext {

// ---------------------------------------------------------------------------------------------
// Hashing and n-grams

// 32-bit FNV-1a over bytes, each byte sign-extended from signed char first (fastText's hash).
inline std::uint32_t hash(const char* s, std::size_t n) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(s[i])));
        h *= 16777619u;
    }
    return h;
}

inline bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Call emit(hash) for every n-gram of "<word>" (fastText's Dictionary::computeSubwords order).
template <class Emit>
inline void for_each_ngram(const char* word, std::size_t len, int min_n, int max_n, std::string& buf, Emit&& emit) {
    if (max_n < 1 || (len == 4 && std::memcmp(word, "</s>", 4) == 0)) return;
    buf.assign(1, '<');
    buf.append(word, len);
    buf.push_back('>');
    const std::size_t size = buf.size();
    const char* w = buf.data();
    for (std::size_t i = 0; i < size; ++i) {
        if (is_continuation(static_cast<unsigned char>(w[i]))) continue;
        std::size_t j = i;
        for (int n = 1; j < size && n <= max_n; ++n) {
            ++j;
            while (j < size && is_continuation(static_cast<unsigned char>(w[j]))) ++j;
            if (n >= min_n && !(n == 1 && (i == 0 || j == size))) emit(hash(w + i, j - i));
        }
    }
}

// The CSR rows of n words given as one UTF-8 blob with offsets[0..n]: word i gets row
// (self_base + i) first when include_self, then row_base + hash % bucket for each n-gram
// (none when bucket == 0). indptr has n + 1 entries; rows is filled.
inline void subword_rows(const char* blob, const std::int64_t* offsets, std::int64_t n, int min_n, int max_n,
                         std::int64_t bucket, std::int64_t row_base, bool include_self, std::int64_t self_base,
                         std::int64_t* indptr, std::vector<std::int32_t>& rows) {
    require(min_n >= 1 && max_n >= 0, "min_n must be >= 1 and max_n >= 0");
    require(bucket >= 0 && row_base >= 0 && row_base + bucket <= (std::int64_t{1} << 31) - 1,
            "row_base + bucket must fit int32");
    std::string buf;
    rows.clear();
    indptr[0] = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        require(offsets[i] <= offsets[i + 1], "word offsets must not decrease");
        if (include_self) rows.push_back(static_cast<std::int32_t>(self_base + i));
        if (bucket > 0)
            for_each_ngram(blob + offsets[i], static_cast<std::size_t>(offsets[i + 1] - offsets[i]), min_n, max_n, buf,
                           [&](std::uint32_t h) {
                               rows.push_back(static_cast<std::int32_t>(
                                   row_base + static_cast<std::int64_t>(h % static_cast<std::uint64_t>(bucket))));
                           });
        indptr[i + 1] = static_cast<std::int64_t>(rows.size());
    }
}

// ---------------------------------------------------------------------------------------------
// Starting rows

// x (rows x dim) uniform in [-1/dim, 1/dim) (fastText's and gensim's range), filled by `threads`
// threads. Block b of kInitBlock rows is drawn from its own stream (seed, b), two 24-bit values
// per draw, so the values depend on the seed alone, not on the thread count. (The n-gram table
// is large, 800 MB at the defaults: drawn on one thread it was a visible part of a short fit.)
constexpr std::int64_t kInitBlock = 4096;

inline void initial_rows(float* x, std::int64_t rows, int dim, std::uint64_t seed, int threads) {
    require(rows >= 0 && dim >= 1, "initial_rows: bad shape");
    const std::int64_t blocks = (rows + kInitBlock - 1) / kInitBlock;
    const float inv_dim = 1.0f / static_cast<float>(dim);
    parallel_blocks(blocks, threads, [&](std::int64_t b0, std::int64_t b1, int) {
        for (std::int64_t b = b0; b < b1; ++b) {
            SplitMix64 rng(stream_state(seed, static_cast<std::uint64_t>(b)));
            float* p = x + b * kInitBlock * dim;
            const std::int64_t n = (std::min(rows, (b + 1) * kInitBlock) - b * kInitBlock) * dim;
            for (std::int64_t i = 0; i < n; i += 2) {
                const std::uint64_t r = rng.next();
                // u in [0, 1) with 24 bits, 2u - 1 exact in float32
                p[i] = (static_cast<float>(r >> 40) * 0x1p-23f - 1.0f) * inv_dim;
                if (i + 1 < n) p[i + 1] = (static_cast<float>((r >> 8) & 0xFFFFFF) * 0x1p-23f - 1.0f) * inv_dim;
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// One step

struct Scratch {
    std::vector<float> h, dh, g;
    std::vector<const float*> out_rows;
    std::vector<std::int32_t> rows, targets;
    std::vector<float> weights;
    void reserve(int dim, int n_targets) {
        h.resize(static_cast<std::size_t>(dim));
        dh.resize(static_cast<std::size_t>(dim));
        g.resize(static_cast<std::size_t>(n_targets));
        out_rows.resize(static_cast<std::size_t>(n_targets));
        targets.resize(static_cast<std::size_t>(n_targets));
        weights.resize(static_cast<std::size_t>(n_targets));
    }
};

// The step of the header comment on input rows rows[0..n_rows) and targets[0..n_targets) (the
// first n_pos labelled 1) with weights; adds sum_t w_t * pair loss to loss_total.
template <class V>
EMBEDCORE_FORCE_INLINE void subword_step(float* in, float* out, int dim, const std::int32_t* rows, int n_rows,
                                         const std::int32_t* targets, const float* weights, int n_targets,
                                         int n_pos, float alpha, Scratch& s, double& loss_total) {
    if (n_rows <= 0 || n_targets <= 0) return;
    const SigmoidTable& sig = sigmoid_table();
    float* h = s.h.data();
    float* dh = s.dh.data();
    float* G = s.g.data();
    const float** out_rows = s.out_rows.data();
    // h = mean of the input rows, added in blocks of pointers (combine takes up to any count)
    const float scale = 1.0f / static_cast<float>(n_rows);
    {
        const float* block[16];
        for (int r0 = 0; r0 < n_rows; r0 += 16) {
            const int nb = std::min(16, n_rows - r0);
            for (int r = 0; r < nb; ++r) block[r] = in + static_cast<std::int64_t>(rows[r0 + r]) * dim;
            sgns::combine<V>(h, block, &scale, 0, nb, dim, r0 > 0);
        }
    }
    for (int t = 0; t < n_targets; ++t) out_rows[t] = out + static_cast<std::int64_t>(targets[t]) * dim;
    sgns::dots<V>(h, out_rows, n_targets, dim, G);
    float loss = 0.0f;
    for (int t = 0; t < n_targets; ++t) {
        if (weights[t] == 0.0f) {
            G[t] = 0.0f;
            continue;
        }
        float pair = 0.0f;
        G[t] = sig.gradient(G[t], t < n_pos ? 1.0f : 0.0f, alpha, pair) * weights[t];
        loss += pair * weights[t];
    }
    // dh from the old output rows, then the output rows, then every input row
    sgns::combine<V>(dh, out_rows, G, 1, n_targets, dim, false);
    for (int t = 0; t < n_targets; ++t)
        if (G[t] != 0.0f) sgns::axpy(out + static_cast<std::int64_t>(targets[t]) * dim, G[t], h, dim);
    for (int r = 0; r < n_rows; ++r) sgns::add(in + static_cast<std::int64_t>(rows[r]) * dim, dh, dim);
    loss_total += loss;
}

// One step for tests and references (baseline SIMD level); returns the step's loss.
inline double single_step(float* in, float* out, int dim, const std::int32_t* rows, int n_rows,
                          const std::int32_t* targets, const float* weights, int n_targets, int n_pos, float alpha) {
    require(dim >= 1 && n_rows >= 1 && n_targets >= 1 && n_pos >= 0 && n_pos <= n_targets,
            "single_step: bad sizes");
    Scratch s;
    s.reserve(dim, n_targets);
    double loss = 0.0;
    subword_step<simd::f32x4>(in, out, dim, rows, n_rows, targets, weights, n_targets, n_pos, alpha, s, loss);
    return loss;
}

// ---------------------------------------------------------------------------------------------
// Training over spans of the corpus

struct Data {
    sgns::Data words;                      // input = the (n_input_rows, dim) word + bucket rows
    std::int64_t n_input_rows = 0;
    const std::int64_t* sub_indptr = nullptr;  // vocab_size + 1
    const std::int32_t* sub_rows = nullptr;    // rows of every word's subwords, < n_input_rows
};

EMBEDCORE_FORCE_INLINE void prefetch_rows(const Data& d, std::int32_t w, int dim) {
    const float* in = d.words.input;
    for (std::int64_t j = d.sub_indptr[w]; j < d.sub_indptr[w + 1]; ++j)
        sgns::prefetch_row(in + static_cast<std::int64_t>(d.sub_rows[j]) * dim, dim);
}

// Train on tokens [begin, end) (cfg: dim, window, negative, skip_gram, shared, alpha, min_alpha,
// total_words of the word2vec kernel's Config). Windows do not cross sentences nor span ends.
template <class V>
EMBEDCORE_FORCE_INLINE void train_span_impl(const sgns::Config& cfg, const Data& d, std::int64_t begin,
                                            std::int64_t end, std::uint64_t& rng_state,
                                            std::atomic<std::int64_t>& done, double& loss) {
    if (begin >= end) return;
    const sgns::Data& wd = d.words;
    const int dim = cfg.dim, K = cfg.negative, W = cfg.window;
    SplitMix64 rng(rng_state);
    Scratch s;
    const bool per_pair = cfg.skip_gram && !cfg.shared;
    s.reserve(dim, 2 * W + (per_pair ? 2 * W * K : K) + 1);
    std::vector<std::int64_t> raw_pos;
    std::vector<std::int32_t> sent;
    // noise words drawn ahead, their output rows prefetched (per pair: the look-ahead grows to the
    // most noise words a step has taken, up to 2 * window * negative)
    sgns::NoiseAhead noise(per_pair ? 2 * W * K : K);
    double local_loss = 0.0;
    sgns::Progress progress(cfg, done, begin);
    std::int32_t* targets = s.targets.data();
    float* weights = s.weights.data();

    std::int64_t si = std::upper_bound(wd.offsets, wd.offsets + wd.n_sentences + 1, begin) - wd.offsets - 1;
    std::int64_t pos = begin;
    while (pos < end) {
        while (wd.offsets[si + 1] <= pos) ++si;
        const std::int64_t stop = std::min({wd.offsets[si + 1], end, pos + (std::int64_t{1} << 30)});
        sgns::subsample(wd, pos, stop, rng, sent, raw_pos);
        const int n = static_cast<int>(sent.size());
        for (int i = 0; i < n; ++i) {
            progress.at(cfg, done, pos + raw_pos[i]);
            const int reach = W - static_cast<int>(rng.below(static_cast<std::uint32_t>(W)));
            const int lo = std::max(0, i - reach), hi = std::min(n, i + reach + 1);
            const std::int32_t centre = sent[i];
            if (hi - lo <= 1) continue;
            int m = 0, n_neg = K;
            if (cfg.skip_gram) {
                for (int j = lo; j < hi; ++j)
                    if (j != i) {
                        targets[m] = sent[j];
                        weights[m++] = 1.0f;
                    }
                if (per_pair) {  // fastText's draw: K noise words per pair, one equal to its context word skipped
                    n_neg = m * K;
                    noise.take(n_neg, targets + m, rng, wd, dim);
                    for (int a = 0; a < m; ++a)
                        for (int k = m + a * K; k < m + (a + 1) * K; ++k)
                            weights[k] = targets[k] == targets[a] ? 0.0f : 1.0f;
                } else {
                    noise.take(K, targets + m, rng, wd, dim);
                    for (int k = 0; k < K; ++k) {
                        int differ = 0;
                        for (int a = 0; a < m; ++a) differ += targets[a] != targets[m + k];
                        weights[m + k] = static_cast<float>(differ);
                    }
                }
                const std::int64_t r0 = d.sub_indptr[centre];
                s.rows.assign(d.sub_rows + r0, d.sub_rows + d.sub_indptr[centre + 1]);
                if (i + 1 < n) prefetch_rows(d, sent[i + 1], dim);
            } else {
                s.rows.clear();
                for (int j = lo; j < hi; ++j)
                    if (j != i) s.rows.insert(s.rows.end(), d.sub_rows + d.sub_indptr[sent[j]],
                                              d.sub_rows + d.sub_indptr[sent[j] + 1]);
                targets[0] = centre;
                weights[0] = 1.0f;
                m = 1;
                noise.take(K, targets + 1, rng, wd, dim);
                for (int k = 0; k < K; ++k) weights[1 + k] = targets[1 + k] == centre ? 0.0f : 1.0f;
            }
            subword_step<V>(wd.input, wd.output, dim, s.rows.data(), static_cast<int>(s.rows.size()), targets, weights,
                            m + n_neg, cfg.skip_gram ? m : 1, progress.alpha, s, local_loss);
        }
        pos = stop;
        if (!std::isfinite(local_loss)) break;  // diverged: the caller sees the loss
    }
    progress.finish(done, end);
    rng_state = rng.state;
    loss += local_loss;
}

using SpanFn = void (*)(const sgns::Config&, const Data&, std::int64_t, std::int64_t, std::uint64_t&,
                        std::atomic<std::int64_t>&, double&);

inline void train_span_baseline(const sgns::Config& c, const Data& d, std::int64_t b, std::int64_t e,
                                std::uint64_t& r, std::atomic<std::int64_t>& done, double& l) {
    train_span_impl<simd::f32x4>(c, d, b, e, r, done, l);
}

#ifdef EMBEDCORE_GENERIC_VARIANTS
EMBEDCORE_TARGET_AVX2 inline void train_span_avx2(const sgns::Config& c, const Data& d, std::int64_t b,
                                                  std::int64_t e, std::uint64_t& r,
                                                  std::atomic<std::int64_t>& done, double& l) {
    train_span_impl<simd::f32x8>(c, d, b, e, r, done, l);
}
EMBEDCORE_TARGET_AVX512 inline void train_span_avx512(const sgns::Config& c, const Data& d, std::int64_t b,
                                                      std::int64_t e, std::uint64_t& r,
                                                      std::atomic<std::int64_t>& done, double& l) {
    train_span_impl<simd::f32x16>(c, d, b, e, r, done, l);
}
#endif

inline SpanFn span_fn(simd::Isa isa) {
#ifdef EMBEDCORE_GENERIC_VARIANTS
    if (isa == simd::Isa::Avx512) return train_span_avx512;
    if (isa == simd::Isa::Avx2) return train_span_avx2;
#endif
    (void)isa;
    return train_span_baseline;
}

// One chunk of training (see sgns::train_chunk: per-thread spans and random streams, words_done
// read and advanced, per-thread losses added). Returns the SIMD level used.
inline const char* train_chunk(const sgns::Config& cfg, const Data& d, const std::int64_t* starts,
                               const std::int64_t* ends, int threads, std::uint64_t* rng_states,
                               std::int64_t* words_done, double* loss, const std::string& level = "") {
    require(cfg.dim >= 1, "vector_size must be >= 1");
    require(cfg.window >= 1 && cfg.window <= (1 << 20), "window must be in [1, 2**20]");
    require(cfg.negative >= 0 && cfg.negative <= (1 << 20), "negative must be in [0, 2**20]");
    require(d.words.vocab_size >= 1 && d.words.vocab_size < (std::int64_t{1} << 31), "vocabulary size out of range");
    require(d.n_input_rows >= d.words.vocab_size, "the input matrix must have a row per word and bucket");
    require(threads >= 1, "threads must be >= 1");
    const simd::Isa isa = simd::select(level, sgns::kLevels, "fasttext");
    const SpanFn fn = span_fn(isa);
    std::atomic<std::int64_t> done(*words_done);
    parallel_blocks(threads, threads, [&](std::int64_t t0, std::int64_t t1, int) {
        for (std::int64_t t = t0; t < t1; ++t) fn(cfg, d, starts[t], ends[t], rng_states[t], done, loss[t]);
    });
    *words_done = done.load();
    return simd::isa_name(isa);
}

}  // namespace fasttext
}  // namespace embedcore
