// word2vec on the GPU: skip-gram and CBOW with negative sampling, Hogwild.
//
// The CPU kernel's semantics (csrc/embedcore/sgns.hpp, word2vec.c's rules, Mikolov et al. 2013)
// with the per-example math of ecmath/sgns.hpp, the same functions the CPU runs: a reduced window
// b in 1..window per centre word (a centre word with no context is skipped), `negative` noise
// words from an alias table of unigram^0.75 (one equal to the centre word is skipped), the
// gradient of word2vec.c's sigmoid cells, saturated outside [-6, 6].
//
// Skip-gram shares the centre word's negatives across its context words (Ji et al. 2016), and
// takes the step the CPU's shared step takes, every product from the values before the step:
//   g_cj = (label_j - sigma(in_c . out_j)) alpha;  in_c += sum_j g_cj out_j;  out_j += sum_c g_cj in_c
// CBOW: h = scale * sum of the context rows (scale 1/n for the mean, 1 for the sum); for every
// target g_j = (label_j - sigma(h . out_j)) alpha from the old rows; e = sum_j g_j out_j;
// out_j += g_j h; then every context row += e, the whole gradient for the mean too (word2vec.c).
//
// One warp per centre word, lanes striding over the dimensions; warps take centre positions in a
// grid-stride loop. Rows other warps update are read with ec_load (L2) and changed by atomicAdd
// of the step's delta (common.cuh), so concurrent steps on a frequent word add up instead of
// overwriting each other. The launcher caps the warps in flight by the vocabulary size, so a
// small problem is not trained as one stale full-batch step. The loss is summed in float64.
// Random draws are counter-based (common.cuh): window of position p: ec_random(seed, 4 * epoch
// + 1, p); noise word j of p: ec_random(seed, 4 * epoch + 2, p * 256 + j), drawn by the lanes in
// parallel; subsampling of token p: ec_random(seed, 4 * epoch + 0, p). Positions index the
// (subsampled) token stream of the epoch.
// Cost: O(window * (negative + 1) * dim) per skip-gram centre word, O((window + negative) * dim)
// per CBOW centre word.
#include "common.cuh"
#include "ecmath/sgns.hpp"

// keep[p] = 1 when token p survives subsampling (ecmath::keep_token on the high 32 bits of its
// draw against keep_table[ids[p]], a threshold out of 2^32).
extern "C" __global__ void w2v_keep_mask(const int* ids, ec_i64 n_tokens, const ec_u64* keep_table,
                                         ec_u64 seed, ec_u64 epoch, unsigned char* keep) {
    const ec_i64 stride = (ec_i64)gridDim.x * blockDim.x;
    for (ec_i64 p = (ec_i64)blockIdx.x * blockDim.x + threadIdx.x; p < n_tokens; p += stride) {
        const ec_u64 draw = ec_random(seed, 4 * epoch + 0, (ec_u64)p);
        keep[p] = ecmath::keep_token((ec_u32)(draw >> 32), keep_table[ids[p]]) ? 1 : 0;
    }
}

// A noise word from a 64-bit draw: the alias draw of the shared math with the cell from the low
// 32 bits and the acceptance from the high 32 bits.
__host__ __device__ __forceinline__ int ec_noise_word(ec_u64 draw, const ec_u32* prob, const int* alias,
                                                      int vocab_size) {
    return ecmath::alias_draw((ec_u32)draw, (ec_u32)(draw >> 32), prob, alias, vocab_size);
}

// The window [lo, hi) of the centre word at p, within its sentence.
__device__ __forceinline__ void ec_window(const ec_i64* offsets, ec_i64 n_sentences, ec_i64 p, int window,
                                          ec_u64 seed, ec_u64 epoch, ec_i64& lo, ec_i64& hi) {
    const ec_i64 s = ec_sentence_of(offsets, n_sentences, p);
    const int b = 1 + (int)(ec_random(seed, 4 * epoch + 1, (ec_u64)p) % (ec_u64)window);
    lo = p - b > offsets[s] ? p - b : offsets[s];
    hi = p + b + 1 < offsets[s + 1] ? p + b + 1 : offsets[s + 1];
}

// targets[0] = the centre word, targets[1..negative] its noise words (-1 for one equal to the
// centre word), drawn by the lanes in parallel. The caller syncs the warp before reading them.
__device__ __forceinline__ void ec_targets(int centre, ec_i64 p, int negative, const ec_u32* prob, const int* alias,
                                           int vocab_size, ec_u64 seed, ec_u64 epoch, int* targets, int lane) {
    if (lane == 0) targets[0] = centre;
    for (int j = 1 + lane; j <= negative; j += 32) {
        const int w = ec_noise_word(ec_random(seed, 4 * epoch + 2, (ec_u64)p * 256 + j), prob, alias, vocab_size);
        targets[j] = w == centre ? -1 : w;
    }
}

// Skip-gram over centre positions [begin, end) of the token stream ids (n_tokens, sentences at
// offsets). Dynamic shared memory per warp: 2 * (1 + negative) * dim + dim + 2 * window *
// (1 + negative) floats and 1 + negative ints (sgns_shared_bytes in the launcher).
extern "C" __global__ void sgns_skipgram(const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                                         ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                                         const ec_u32* noise_prob, const int* noise_alias, int vocab_size,
                                         int window, int negative, float alpha, ec_u64 seed, ec_u64 epoch,
                                         double* loss) {
    EC_DYNAMIC_SHARED(float, shared);
    const int lane = threadIdx.x & 31, warp_in_block = threadIdx.x >> 5;
    const int n_targets = 1 + negative;
    const int floats_per_warp = 2 * n_targets * dim + dim + 2 * window * n_targets;
    const int warps_per_block = blockDim.x >> 5;
    float* rows = shared + warp_in_block * floats_per_warp;  // n_targets x dim: the old output rows
    float* grads = rows + n_targets * dim;                    // n_targets x dim: their deltas
    float* in_vals = grads + n_targets * dim;                 // dim: a context row (old values)
    float* G = in_vals + dim;                                 // contexts x n_targets: the gradients
    int* targets = (int*)(shared + warps_per_block * floats_per_warp) + warp_in_block * n_targets;
    const ecmath::ComputedSigmoid sigmoid;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    double local_loss = 0.0;  // lane 0's tally, float64 over the whole launch
    for (ec_i64 p = begin + warp; p < end; p += n_warps) {
        ec_i64 lo, hi;
        ec_window(offsets, n_sentences, p, window, seed, epoch, lo, hi);
        if (hi - lo - 1 <= 0) continue;  // no context word: no step (uniform across the warp)
        ec_targets(ids[p], p, negative, noise_prob, noise_alias, vocab_size, seed, epoch, targets, lane);
        __syncwarp();
        for (int j = 0; j < n_targets; ++j) {
            const int t = targets[j];
            for (int k = lane; k < dim; k += 32) {
                rows[j * dim + k] = t >= 0 ? ec_load(output + (ec_i64)t * dim + k) : 0.0f;
                grads[j * dim + k] = 0.0f;
            }
        }
        __syncwarp();
        // (1) every pair's gradient from the old rows; the output deltas G^T In
        int a = 0;
        for (ec_i64 q = lo; q < hi; ++q) {
            if (q == p) continue;
            const float* in_row = input + (ec_i64)ids[q] * dim;
            for (int k = lane; k < dim; k += 32) in_vals[k] = ec_load(in_row + k);
            __syncwarp();
            for (int j = 0; j < n_targets; ++j) {
                float g = 0.0f;
                if (targets[j] >= 0) {  // uniform across the warp
                    const float f = ec_warp_dot(in_vals, rows + j * dim, dim, lane);
                    double pair_loss = 0.0;
                    g = ecmath::sgns_gradient(f, j == 0 ? 1.0f : 0.0f, alpha, pair_loss, sigmoid);
                    if (lane == 0) local_loss += pair_loss;
                    for (int k = lane; k < dim; k += 32) grads[j * dim + k] += g * in_vals[k];
                }
                if (lane == 0) G[a * n_targets + j] = g;
            }
            ++a;
            __syncwarp();  // in_vals is rewritten next; G is visible to every lane
        }
        // (2) every context row += G Out (old output rows)
        a = 0;
        for (ec_i64 q = lo; q < hi; ++q) {
            if (q == p) continue;
            float* in_row = input + (ec_i64)ids[q] * dim;
            for (int k = lane; k < dim; k += 32) {
                float d = 0.0f;
                for (int j = 0; j < n_targets; ++j) d += G[a * n_targets + j] * rows[j * dim + k];
                atomicAdd(in_row + k, d);
            }
            ++a;
        }
        // (3) every target row += its delta
        for (int j = 0; j < n_targets; ++j) {
            const int t = targets[j];
            if (t < 0) continue;
            for (int k = lane; k < dim; k += 32) atomicAdd(output + (ec_i64)t * dim + k, grads[j * dim + k]);
        }
        __syncwarp();  // shared rows, G and targets are rewritten for the next centre word
    }
    if (lane == 0 && local_loss != 0.0) atomicAdd(loss, local_loss);
}

// CBOW over centre positions [begin, end). Dynamic shared memory per warp: 2 * dim + 1 +
// negative floats and 1 + negative ints.
extern "C" __global__ void sgns_cbow(const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                                     ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                                     const ec_u32* noise_prob, const int* noise_alias, int vocab_size,
                                     int window, int negative, float alpha, int cbow_mean, ec_u64 seed,
                                     ec_u64 epoch, double* loss) {
    EC_DYNAMIC_SHARED(float, shared);
    const int lane = threadIdx.x & 31, warp_in_block = threadIdx.x >> 5;
    const int n_targets = 1 + negative;
    const int floats_per_warp = 2 * dim + n_targets;
    const int warps_per_block = blockDim.x >> 5;
    float* h = shared + warp_in_block * floats_per_warp;  // dim: the hidden layer
    float* e = h + dim;                                    // dim: its gradient (each lane its own k)
    float* G = e + dim;                                    // n_targets: the gradients
    int* targets = (int*)(shared + warps_per_block * floats_per_warp) + warp_in_block * n_targets;
    const ecmath::ComputedSigmoid sigmoid;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    double local_loss = 0.0;
    for (ec_i64 p = begin + warp; p < end; p += n_warps) {
        ec_i64 lo, hi;
        ec_window(offsets, n_sentences, p, window, seed, epoch, lo, hi);
        const int n_context = (int)(hi - lo - 1);
        if (n_context <= 0) continue;  // uniform across the warp
        ec_targets(ids[p], p, negative, noise_prob, noise_alias, vocab_size, seed, epoch, targets, lane);
        const float scale = ecmath::cbow_hidden_scale(n_context, cbow_mean != 0);
        for (int k = lane; k < dim; k += 32) {
            float s = 0.0f;
            for (ec_i64 q = lo; q < hi; ++q)
                if (q != p) s += ec_load(input + (ec_i64)ids[q] * dim + k);
            h[k] = s * scale;
        }
        __syncwarp();
        for (int j = 0; j < n_targets; ++j) {
            float g = 0.0f;
            if (targets[j] >= 0) {  // uniform across the warp
                const float f = ec_warp_dot_table(h, output + (ec_i64)targets[j] * dim, dim, lane);
                double pair_loss = 0.0;
                g = ecmath::sgns_gradient(f, j == 0 ? 1.0f : 0.0f, alpha, pair_loss, sigmoid);
                if (lane == 0) local_loss += pair_loss;
            }
            if (lane == 0) G[j] = g;
        }
        __syncwarp();
        // e = sum_j g_j out_j from the old rows, then out_j += g_j h (each lane its own components)
        for (int k = lane; k < dim; k += 32) {
            float ek = 0.0f;
            for (int j = 0; j < n_targets; ++j)
                if (targets[j] >= 0) ek += G[j] * ec_load(output + (ec_i64)targets[j] * dim + k);
            for (int j = 0; j < n_targets; ++j)
                if (targets[j] >= 0 && G[j] != 0.0f) atomicAdd(output + (ec_i64)targets[j] * dim + k, G[j] * h[k]);
            e[k] = ek;
        }
        // every context row receives the whole gradient of h (not divided for the mean)
        for (ec_i64 q = lo; q < hi; ++q) {
            if (q == p) continue;
            float* in_row = input + (ec_i64)ids[q] * dim;
            for (int k = lane; k < dim; k += 32) atomicAdd(in_row + k, e[k]);
        }
        __syncwarp();  // h, G and targets are rewritten for the next centre word
    }
    if (lane == 0 && local_loss != 0.0) atomicAdd(loss, local_loss);
}
