// Random walks on the GPU (DeepWalk, Perozzi et al. 2014; node2vec, Grover and Leskovec 2016):
// the CPU kernel's algorithm (csrc/embedcore/walks.hpp), step for step, so that a walk is the
// same on both devices, bit for bit.
//
// One thread per walk, in a grid-stride loop over the walks of a launch. Walk i draws from its
// own SplitMix64 stream, started at stream_state(seed, first_index + i) (random.hpp of the CPU:
// mix64(mix64(seed ^ 0x5DEECE66D) + GOLDEN * (stream + 1)), advanced by GOLDEN per draw).
// First-order step from v: a position of v's row uniformly from the high 32 bits of a draw, kept
// when the low 32 bits fall below the row's alias probability, else its alias (weighted graphs).
// Second-order step from v, having come from t: proposals by the first-order step, accepted with
// probability alpha(t, x) / max(1/p, 1, 1/q) (53-bit uniform, no draw when alpha is the maximum),
// alpha = 1/p for x = t, 1 when t -> x is an edge (binary search in t's sorted row), 1/q else;
// after max_trials rejections the exact draw over v's row (sums in float64, in row order).
// Cost O(walk_length * log deg) per walk expected; memory: the CSR and the output.
#include "common.cuh"

struct EcWalkRng {
    ec_u64 state;
    __host__ __device__ __forceinline__ ec_u64 next() {
        state += EC_GOLDEN;
        return ecmath::mix64(state);
    }
};

__host__ __device__ __forceinline__ ec_u64 ec_walk_stream(ec_u64 seed, ec_u64 stream) {
    return ecmath::mix64(ecmath::mix64(seed ^ 0x5DEECE66DULL) + EC_GOLDEN * (stream + 1));
}

__host__ __device__ __forceinline__ double ec_unit(ec_u64 bits) {
    return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

struct EcWalkGraph {
    const ec_i64* indptr;
    const int* indices;
    const float* weights;        // null: unweighted
    const ec_u32* alias_prob;    // null: unweighted
    const int* alias_index;
};

__device__ __forceinline__ int ec_first_order(const EcWalkGraph& g, int v, EcWalkRng& rng) {
    const ec_i64 base = g.indptr[v];
    const ec_i64 deg = g.indptr[v + 1] - base;
    if (deg == 0) return -1;
    const ec_u64 r = rng.next();
    ec_i64 c = ecmath::below((ec_u32)(r >> 32), (ec_u32)deg);
    if (g.alias_prob != nullptr && (ec_u32)r >= g.alias_prob[base + c]) c = g.alias_index[base + c];
    return g.indices[base + c];
}

__device__ __forceinline__ bool ec_has_edge(const EcWalkGraph& g, int t, int x) {
    ec_i64 lo = g.indptr[t], hi = g.indptr[t + 1];  // search [lo, hi)
    while (lo < hi) {
        const ec_i64 mid = lo + (hi - lo) / 2;
        if (g.indices[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo < g.indptr[t + 1] && g.indices[lo] == x;
}

__device__ __forceinline__ double ec_alpha(const EcWalkGraph& g, double inv_p, double inv_q, int t, int x) {
    if (x == t) return inv_p;
    if (inv_q == 1.0) return 1.0;
    return ec_has_edge(g, t, x) ? 1.0 : inv_q;
}

__device__ int ec_second_order(const EcWalkGraph& g, double inv_p, double inv_q, double max_alpha, int max_trials,
                               int t, int v, EcWalkRng& rng) {
    const ec_i64 base = g.indptr[v], end = g.indptr[v + 1];
    if (end == base) return -1;
    for (int trial = 0; trial < max_trials; ++trial) {
        const int x = ec_first_order(g, v, rng);
        const double a = ec_alpha(g, inv_p, inv_q, t, x);
        if (a >= max_alpha || ec_unit(rng.next()) * max_alpha < a) return x;
    }
    double total = 0.0;
    for (ec_i64 e = base; e < end; ++e)
        total += ec_alpha(g, inv_p, inv_q, t, g.indices[e]) * (g.weights ? (double)g.weights[e] : 1.0);
    const double target = ec_unit(rng.next()) * total;
    double run = 0.0;
    for (ec_i64 e = base; e < end; ++e) {
        run += ec_alpha(g, inv_p, inv_q, t, g.indices[e]) * (g.weights ? (double)g.weights[e] : 1.0);
        if (target < run) return g.indices[e];
    }
    return g.indices[end - 1];
}

// Walk i (i < n_walks) from starts[i], written to out[i * walk_length ...] (entries past its
// length untouched), its length to lengths[i]. Start nodes must lie in [0, n_nodes) (the
// launcher checks them).
extern "C" __global__ void node2vec_walks(const ec_i64* indptr, const int* indices, const float* weights,
                                          const ec_u32* alias_prob, const int* alias_index, int has_weights,
                                          const int* starts, ec_i64 n_walks, int walk_length, double inv_p,
                                          double inv_q, int max_trials, ec_u64 seed, ec_u64 first_index, int* out,
                                          int* lengths) {
    EcWalkGraph g;
    g.indptr = indptr;
    g.indices = indices;
    g.weights = has_weights ? weights : nullptr;
    g.alias_prob = has_weights ? alias_prob : nullptr;
    g.alias_index = has_weights ? alias_index : nullptr;
    const bool biased = inv_p != 1.0 || inv_q != 1.0;
    const double max_alpha = inv_p > inv_q ? (inv_p > 1.0 ? inv_p : 1.0) : (inv_q > 1.0 ? inv_q : 1.0);
    const ec_i64 stride = (ec_i64)gridDim.x * blockDim.x;
    for (ec_i64 i = (ec_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n_walks; i += stride) {
        EcWalkRng rng;
        rng.state = ec_walk_stream(seed, first_index + (ec_u64)i);
        int* walk = out + i * (ec_i64)walk_length;
        walk[0] = starts[i];
        int n = 1;
        if (walk_length >= 2) {
            int x = ec_first_order(g, walk[0], rng);
            if (x >= 0) {
                walk[n++] = x;
                while (n < walk_length) {
                    x = biased ? ec_second_order(g, inv_p, inv_q, max_alpha, max_trials, walk[n - 2], walk[n - 1], rng)
                               : ec_first_order(g, walk[n - 1], rng);
                    if (x < 0) break;
                    walk[n++] = x;
                }
            }
        }
        lengths[i] = n;
    }
}
