// Random walks on a graph (DeepWalk, Perozzi et al. 2014; node2vec, Grover and Leskovec 2016),
// generated in blocks and trained straight away by the skip-gram kernel (sgns.hpp).
//
// The graph is a CSR adjacency: row v lists the out-neighbours of v in increasing order with
// positive weights. A walk of length L starts at a node and takes up to L - 1 steps; it stops
// early at a node without out-neighbours (a dangling node of a directed graph; an isolated
// node's walk is the node alone).
//
// First-order step (DeepWalk, and node2vec's first step): the next node x is drawn with
// probability w(v, x) / sum_y w(v, y): uniformly for an unweighted graph, by a Walker/Vose alias
// table per row for a weighted one (8 bytes per edge, built once in O(edges)).
//
// Second-order step (node2vec, p != 1 or q != 1), from v having come from t: x is drawn with
// probability proportional to alpha(t, x) w(v, x), where alpha = 1/p when x = t, 1 when t -> x is
// an edge (x at distance 1 from t), 1/q otherwise. No per-edge table of these probabilities is
// built (that costs O(sum of squared degrees); GraphVite runs out of memory on it). Instead:
//  * rejection sampling (KnightKing, Yang et al. 2019): propose x by the first-order step and
//    accept it with probability alpha(t, x) / max(1/p, 1, 1/q); the distance test is a binary
//    search in t's sorted row;
//  * after `max_trials` rejections, the step is drawn exactly on the fly (PecanPy's SparseOTF):
//    the unnormalised probabilities of v's row are summed and one is picked. Every accepted
//    proposal and the fallback draw are distributed exactly as the target, so the mixture is too.
// Memory O(nodes + edges); time per step O(log deg) expected, O(deg log deg) at worst.
//
// Randomness: every walk has its own stream, stream_state(seed, walk index), so the walks of a
// seed are the same whatever the number of threads. Training uses the per-thread streams of
// sgns.hpp; with one thread the whole run is bit-identical for a seed.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"
#include "random.hpp"
#include "sgns.hpp"

namespace embedcore {
namespace walks {

struct Graph {
    const std::int64_t* indptr = nullptr;   // n_nodes + 1
    const std::int32_t* indices = nullptr;  // sorted within each row
    const float* weights = nullptr;         // per edge, > 0; nullptr: unweighted
    const std::uint32_t* alias_prob = nullptr;  // per edge, with weights: the row's alias table
    const std::int32_t* alias_index = nullptr;  // per edge: position within the row
    std::int64_t n_nodes = 0;
};

struct Bias {
    double inv_p = 1.0;
    double inv_q = 1.0;
    int max_trials = 16;  // rejected proposals before the exact draw (0: always exact)
    bool second_order() const { return inv_p != 1.0 || inv_q != 1.0; }
    double max_alpha() const { return std::max({inv_p, 1.0, inv_q}); }
};

// ---------------------------------------------------------------------------------------------
// Alias tables

// The alias table of each row of a weighted CSR (rows [r0, r1)): a draw picks position c of the
// row uniformly and keeps it when 32 random bits fall below prob[c], else takes alias[c].
inline void build_row_alias(const std::int64_t* indptr, const float* weights, std::int64_t r0, std::int64_t r1,
                            std::uint32_t* prob, std::int32_t* alias) {
    std::vector<double> p;
    std::vector<std::int32_t> small, large;
    const double scale = 4294967296.0;
    for (std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t base = indptr[r];
        const std::int32_t deg = static_cast<std::int32_t>(indptr[r + 1] - base);
        if (deg == 0) continue;
        double total = 0.0;
        for (std::int32_t i = 0; i < deg; ++i) total += weights[base + i];
        p.assign(static_cast<std::size_t>(deg), 0.0);
        small.clear();
        large.clear();
        for (std::int32_t i = 0; i < deg; ++i) {
            p[i] = weights[base + i] * static_cast<double>(deg) / total;
            (p[i] < 1.0 ? small : large).push_back(i);
        }
        while (!small.empty() && !large.empty()) {
            const std::int32_t s = small.back(), l = large.back();
            small.pop_back();
            large.pop_back();
            const double v = std::floor(p[s] * scale + 0.5);
            prob[base + s] = static_cast<std::uint32_t>(std::min(std::max(v, 0.0), scale - 1.0));
            alias[base + s] = l;
            p[l] = (p[l] + p[s]) - 1.0;
            (p[l] < 1.0 ? small : large).push_back(l);
        }
        for (auto* rest : {&small, &large})
            for (std::int32_t i : *rest) {  // probability 1 up to rounding
                prob[base + i] = 0xFFFFFFFFu;
                alias[base + i] = i;
            }
    }
}

inline void build_alias(const std::int64_t* indptr, const float* weights, std::int64_t n_nodes,
                        std::uint32_t* prob, std::int32_t* alias, int threads) {
    parallel_blocks(n_nodes, threads, [&](std::int64_t r0, std::int64_t r1, int) {
        build_row_alias(indptr, weights, r0, r1, prob, alias);
    });
}

// ---------------------------------------------------------------------------------------------
// Steps

// A uniform double in [0, 1) from 53 random bits.
inline double unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0); }

// The first-order step from v: a neighbour, or -1 when v has none.
inline std::int32_t first_order(const Graph& g, std::int32_t v, SplitMix64& rng) {
    const std::int64_t base = g.indptr[v];
    const std::int64_t deg = g.indptr[v + 1] - base;
    if (deg == 0) return -1;
    const std::uint64_t r = rng.next();
    std::int64_t c = ecmath::below(static_cast<std::uint32_t>(r >> 32), static_cast<std::uint32_t>(deg));
    if (g.alias_prob != nullptr && static_cast<std::uint32_t>(r) >= g.alias_prob[base + c])
        c = g.alias_index[base + c];
    return g.indices[base + c];
}

// Whether t -> x is an edge (binary search in t's sorted row).
inline bool has_edge(const Graph& g, std::int32_t t, std::int32_t x) {
    const std::int32_t* lo = g.indices + g.indptr[t];
    const std::int32_t* hi = g.indices + g.indptr[t + 1];
    return std::binary_search(lo, hi, x);
}

// node2vec's alpha(t, x): the return, in-out and stay-close factors.
inline double alpha_of(const Graph& g, const Bias& b, std::int32_t t, std::int32_t x) {
    if (x == t) return b.inv_p;
    if (b.inv_q == 1.0) return 1.0;  // distance 1 and 2 weigh the same: no search needed
    return has_edge(g, t, x) ? 1.0 : b.inv_q;
}

// The exact second-order step from v (came from t), computed on the fly over v's row.
inline std::int32_t second_order_exact(const Graph& g, const Bias& b, std::int32_t t, std::int32_t v,
                                       SplitMix64& rng) {
    const std::int64_t base = g.indptr[v], end = g.indptr[v + 1];
    double total = 0.0;
    for (std::int64_t e = base; e < end; ++e)
        total += alpha_of(g, b, t, g.indices[e]) * (g.weights ? g.weights[e] : 1.0);
    const double target = unit(rng.next()) * total;
    double run = 0.0;
    for (std::int64_t e = base; e < end; ++e) {
        run += alpha_of(g, b, t, g.indices[e]) * (g.weights ? g.weights[e] : 1.0);
        if (target < run) return g.indices[e];
    }
    return g.indices[end - 1];  // target rounded up to the total
}

// The second-order step from v (came from t): rejection sampling, then the exact draw.
inline std::int32_t second_order(const Graph& g, const Bias& b, double max_alpha, std::int32_t t, std::int32_t v,
                                 SplitMix64& rng) {
    if (g.indptr[v + 1] == g.indptr[v]) return -1;
    for (int trial = 0; trial < b.max_trials; ++trial) {
        const std::int32_t x = first_order(g, v, rng);
        const double a = alpha_of(g, b, t, x);
        // accept with probability a / max_alpha (certain when a is the maximum: no draw)
        if (a >= max_alpha || unit(rng.next()) * max_alpha < a) return x;
    }
    return second_order_exact(g, b, t, v, rng);
}

// One walk from `start`: writes up to `length` nodes to out, returns how many.
inline int walk_one(const Graph& g, const Bias& b, std::int32_t start, int length, SplitMix64& rng,
                    std::int32_t* out) {
    out[0] = start;
    if (length < 2) return 1;
    std::int32_t x = first_order(g, start, rng);
    if (x < 0) return 1;
    out[1] = x;
    const bool biased = b.second_order();
    const double max_alpha = b.max_alpha();
    int n = 2;
    while (n < length) {
        x = biased ? second_order(g, b, max_alpha, out[n - 2], out[n - 1], rng) : first_order(g, out[n - 1], rng);
        if (x < 0) break;
        out[n++] = x;
    }
    return n;
}

inline void check_graph(const Graph& g, const Bias& b) {
    require(g.n_nodes >= 1 && g.n_nodes < (std::int64_t{1} << 31), "the graph must have 1 to 2**31 - 1 nodes");
    require(b.inv_p > 0.0 && b.inv_q > 0.0 && std::isfinite(b.inv_p) && std::isfinite(b.inv_q),
            "p and q must be positive and finite");
    require((g.alias_prob == nullptr) == (g.alias_index == nullptr), "alias tables must come together");
    require(g.alias_prob == nullptr || g.weights != nullptr, "alias tables need the weights");
}

inline void check_starts(const std::int32_t* starts, std::int64_t n, std::int64_t n_nodes) {
    for (std::int64_t i = 0; i < n; ++i)
        if (static_cast<std::uint32_t>(starts[i]) >= static_cast<std::uint64_t>(n_nodes))
            throw std::invalid_argument("start nodes must lie in [0, " + std::to_string(n_nodes) + "), got " +
                                        std::to_string(starts[i]) + " at position " + std::to_string(i));
}

// Walks from starts[i], i in [0, n): walk i uses the stream stream_state(seed, first_index + i)
// and is written to out[i * length ...], its length to lengths[i].
inline void generate(const Graph& g, const Bias& b, const std::int32_t* starts, std::int64_t n, int length,
                     std::uint64_t seed, std::uint64_t first_index, std::int32_t* out, std::int32_t* lengths,
                     int threads) {
    check_graph(g, b);
    require(length >= 1, "walk_length must be >= 1");
    check_starts(starts, n, g.n_nodes);
    parallel_blocks(n, threads, [&](std::int64_t i0, std::int64_t i1, int) {
        for (std::int64_t i = i0; i < i1; ++i) {
            SplitMix64 rng(stream_state(seed, first_index + static_cast<std::uint64_t>(i)));
            lengths[i] = walk_one(g, b, starts[i], length, rng, out + i * length);
        }
    });
}

// How often each node is visited by the walks from starts[0..n) (streams as in `generate`):
// counts[v] (n_nodes entries) gets the visits added.
inline void count_visits(const Graph& g, const Bias& b, const std::int32_t* starts, std::int64_t n, int length,
                         std::uint64_t seed, std::uint64_t first_index, std::int64_t* counts, int threads) {
    check_graph(g, b);
    require(length >= 1, "walk_length must be >= 1");
    check_starts(starts, n, g.n_nodes);
    const int used = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n)));
    std::vector<std::vector<std::int64_t>> local(static_cast<std::size_t>(used));
    parallel_blocks(n, used, [&](std::int64_t i0, std::int64_t i1, int t) {
        std::vector<std::int64_t>& c = local[static_cast<std::size_t>(t)];
        c.assign(static_cast<std::size_t>(g.n_nodes), 0);
        std::vector<std::int32_t> buf(static_cast<std::size_t>(length));
        for (std::int64_t i = i0; i < i1; ++i) {
            SplitMix64 rng(stream_state(seed, first_index + static_cast<std::uint64_t>(i)));
            const int m = walk_one(g, b, starts[i], length, rng, buf.data());
            for (int j = 0; j < m; ++j) ++c[static_cast<std::size_t>(buf[j])];
        }
    });
    for (const auto& c : local)
        for (std::size_t v = 0; v < c.size(); ++v) counts[v] += c[v];
}

// ---------------------------------------------------------------------------------------------
// Walks streamed into skip-gram

// Walks per block: a thread generates this many walks, then trains on them (a block of 80-node
// walks is 40 KiB of ids: it stays in the L2 cache between the two phases).
constexpr int kBlockWalks = 128;

// Generate the walks from starts[0..n) (streams as in `generate`) and train skip-gram on them,
// block by block (cfg.shared: shared or per-pair negatives). The blocks of kBlockWalks walks are
// handed out in order by a shared counter, so a thread that the machine slows down takes fewer
// of them instead of holding the others up at the end. Thread t trains with the random stream
// train_states[t] and adds its pair losses to loss[t]; with one thread the blocks come in order
// and the run is bit-identical for a seed. `words_done` (nodes trained over the whole run) is
// read and advanced; the learning rate falls over cfg.total_words as in sgns.hpp. `d` holds the
// matrices and tables (its ids and offsets are set here, per block). When `saved` is not null,
// walk i is also written to saved[i * length ...] and its length to saved_lengths[i]. Returns
// the SIMD level used.
inline const char* train(const Graph& g, const Bias& b, const std::int32_t* starts, std::int64_t n, int length,
                         std::uint64_t seed, std::uint64_t first_index, const sgns::Config& cfg,
                         const sgns::Data& d, int threads, std::uint64_t* train_states, std::int64_t* words_done,
                         double* loss, std::int32_t* saved, std::int32_t* saved_lengths,
                         const std::string& level = "") {
    check_graph(g, b);
    require(length >= 1, "walk_length must be >= 1");
    require(d.vocab_size == g.n_nodes, "the vectors must have one row per node");
    require(cfg.dim >= 1, "vector_size must be >= 1");
    require(cfg.window >= 1 && cfg.window <= (1 << 20), "window must be in [1, 2**20]");
    require(cfg.negative >= 0 && cfg.negative <= (1 << 20), "negative must be in [0, 2**20]");
    require(cfg.skip_gram, "walks train skip-gram");
    require(threads >= 1, "threads must be >= 1");
    check_starts(starts, n, g.n_nodes);
    const simd::Isa isa = sgns::select_isa(level);
    const sgns::SpanFn fn = sgns::span_fn(isa);
    std::atomic<std::int64_t> done(*words_done);
    std::atomic<std::int64_t> next_block(0);
    std::atomic<bool> diverged(false);
    const std::int64_t n_blocks = (n + kBlockWalks - 1) / kBlockWalks;
    parallel_blocks(threads, threads, [&](std::int64_t t0, std::int64_t t1, int) {
        for (std::int64_t t = t0; t < t1; ++t) {
            std::vector<std::int32_t> ids(static_cast<std::size_t>(kBlockWalks) * length);
            std::vector<std::int64_t> offsets(kBlockWalks + 1);
            sgns::Data block = d;
            block.ids = ids.data();
            block.offsets = offsets.data();
            // a run that diverged stops every thread: the caller sees the loss
            while (!diverged.load(std::memory_order_relaxed)) {
                const std::int64_t k = next_block.fetch_add(1, std::memory_order_relaxed);
                if (k >= n_blocks) break;
                const std::int64_t i = k * kBlockWalks;
                const int m = static_cast<int>(std::min<std::int64_t>(kBlockWalks, n - i));
                offsets[0] = 0;
                for (int w = 0; w < m; ++w) {
                    SplitMix64 rng(stream_state(seed, first_index + static_cast<std::uint64_t>(i + w)));
                    std::int32_t* walk = ids.data() + offsets[w];
                    const int len = walk_one(g, b, starts[i + w], length, rng, walk);
                    offsets[w + 1] = offsets[w] + len;
                    if (saved != nullptr) {
                        std::copy(walk, walk + len, saved + (i + w) * length);
                        saved_lengths[i + w] = len;
                    }
                }
                block.n_sentences = m;
                fn(cfg, block, 0, offsets[m], train_states[t], done, loss[t]);
                if (!std::isfinite(loss[t])) diverged.store(true, std::memory_order_relaxed);
            }
        }
    });
    *words_done = done.load();
    return simd::isa_name(isa);
}

}  // namespace walks
}  // namespace embedcore
