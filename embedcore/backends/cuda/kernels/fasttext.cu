// fastText's subword model on the GPU: skip-gram and CBOW with negative sampling over words and
// their character n-gram rows, Hogwild.
//
// The CPU kernel's step (csrc/embedcore/fasttext.hpp, Bojanowski et al. 2017) with the
// per-example math of ecmath/sgns.hpp. For the centre word at position p with input rows R
// (skip-gram: the centre word's subword rows; CBOW: the subword rows of every context word) and
// targets T (skip-gram: the m context words, label 1, then `negative` noise words shared by the m
// pairs, label 0, each weighted by the number of context words it differs from; CBOW: the centre
// word, then the noise words, weight 0 for one equal to the centre word):
//   h = mean_{r in R} in_r;  g_t = (label_t - sigma(h . out_t)) alpha w_t  (old rows)
//   dh = sum_t g_t out_t;  out_t += g_t h;  in_r += dh for every r in R.
// One warp per centre word, lanes striding over the dimensions, warps over positions in a
// grid-stride loop; rows are read with ec_load and changed by atomicAdd of the delta (see
// common.cuh). Windows, noise words and subsampling are drawn as in sgns.cu (the same counters),
// so the two kernels see the same token stream and windows for a seed.
// Cost per centre word: O((|R| + |T|) dim).
#include "sgns.cu"

// Dynamic shared memory per warp: 2 * dim floats (h, dh), then max_targets floats (g) and
// max_targets ints (targets), max_targets = 2 * window + negative + 1.
extern "C" __global__ void fasttext_train(const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                                          ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                                          const ec_i64* sub_indptr, const int* sub_rows,
                                          const ec_u32* noise_prob, const int* noise_alias, int vocab_size,
                                          int window, int negative, float alpha, int skip_gram, ec_u64 seed,
                                          ec_u64 epoch, double* loss) {
    EC_DYNAMIC_SHARED(float, shared);
    const int lane = threadIdx.x & 31, warp_in_block = threadIdx.x >> 5;
    const int max_targets = 2 * window + negative + 1;
    const int floats_per_warp = 2 * dim + max_targets;
    const int warps_per_block = blockDim.x >> 5;
    float* h = shared + warp_in_block * floats_per_warp;  // dim: the hidden layer
    float* dh = h + dim;                                   // dim: its gradient
    float* G = dh + dim;                                   // max_targets: the weighted gradients
    int* targets = (int*)(shared + warps_per_block * floats_per_warp) + warp_in_block * max_targets;
    const ecmath::ComputedSigmoid sigmoid;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    double local_loss = 0.0;  // lane 0's tally
    for (ec_i64 p = begin + warp; p < end; p += n_warps) {
        ec_i64 lo, hi;
        ec_window(offsets, n_sentences, p, window, seed, epoch, lo, hi);
        const int m = (int)(hi - lo - 1);
        if (m <= 0) continue;  // no context word: no step (uniform across the warp)
        const int centre = ids[p];
        const int n_pos = skip_gram ? m : 1;
        const int n_targets = n_pos + negative;
        // targets: the positives, then the noise words (lanes draw them in parallel)
        if (lane == 0) {
            if (skip_gram) {
                int a = 0;
                for (ec_i64 q = lo; q < hi; ++q)
                    if (q != p) targets[a++] = ids[q];
            } else {
                targets[0] = centre;
            }
        }
        for (int j = 1 + lane; j <= negative; j += 32)
            targets[n_pos + j - 1] =
                ec_noise_word(ec_random(seed, 4 * epoch + 2, (ec_u64)p * 256 + j), noise_prob, noise_alias, vocab_size);
        __syncwarp();
        // h = mean of the input rows
        int n_rows = 0;
        if (skip_gram) {
            n_rows = (int)(sub_indptr[centre + 1] - sub_indptr[centre]);
        } else {
            for (ec_i64 q = lo; q < hi; ++q)
                if (q != p) n_rows += (int)(sub_indptr[ids[q] + 1] - sub_indptr[ids[q]]);
        }
        const float scale = 1.0f / (float)n_rows;
        for (int k = lane; k < dim; k += 32) {
            float s = 0.0f;
            for (ec_i64 q = skip_gram ? p : lo; q < (skip_gram ? p + 1 : hi); ++q) {
                if (!skip_gram && q == p) continue;
                const int w = ids[q];
                for (ec_i64 j = sub_indptr[w]; j < sub_indptr[w + 1]; ++j)
                    s += ec_load(input + (ec_i64)sub_rows[j] * dim + k);
            }
            h[k] = s * scale;
            dh[k] = 0.0f;
        }
        __syncwarp();
        // every target's gradient from the old rows, and dh = sum_t g_t out_t
        for (int t = 0; t < n_targets; ++t) {
            const int target = targets[t];
            float weight = 1.0f;
            if (t >= n_pos) {  // a noise word counts once per positive it differs from
                int differ = 0;
                for (int a = 0; a < n_pos; ++a) differ += targets[a] != target;
                weight = (float)differ;
            }
            float g = 0.0f;
            if (weight != 0.0f) {  // uniform across the warp
                const float f = ec_warp_dot_table(h, output + (ec_i64)target * dim, dim, lane);
                double pair_loss = 0.0;
                g = ecmath::sgns_gradient(f, t < n_pos ? 1.0f : 0.0f, alpha, pair_loss, sigmoid) * weight;
                if (lane == 0) local_loss += pair_loss * weight;
                for (int k = lane; k < dim; k += 32) dh[k] += g * ec_load(output + (ec_i64)target * dim + k);
            }
            if (lane == 0) G[t] = g;
        }
        __syncwarp();
        // out_t += g_t h, then every input row += dh
        for (int t = 0; t < n_targets; ++t) {
            if (G[t] == 0.0f) continue;
            float* row = output + (ec_i64)targets[t] * dim;
            for (int k = lane; k < dim; k += 32) atomicAdd(row + k, G[t] * h[k]);
        }
        for (ec_i64 q = skip_gram ? p : lo; q < (skip_gram ? p + 1 : hi); ++q) {
            if (!skip_gram && q == p) continue;
            const int w = ids[q];
            for (ec_i64 j = sub_indptr[w]; j < sub_indptr[w + 1]; ++j) {
                float* row = input + (ec_i64)sub_rows[j] * dim;
                for (int k = lane; k < dim; k += 32) atomicAdd(row + k, dh[k]);
            }
        }
        __syncwarp();  // h, dh, G and targets are rewritten for the next centre word
    }
    if (lane == 0 && local_loss != 0.0) atomicAdd(loss, local_loss);
}
