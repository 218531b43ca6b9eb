// word2vec on the GPU: skip-gram and CBOW with negative sampling, Hogwild.
//
// Semantics of the CPU kernel (word2vec.c's rules, Mikolov et al. 2013): a reduced window
// b in 1..window per centre word, `negative` noise words from an alias table of unigram^0.75
// (a noise word equal to the centre word is skipped), the logistic gradient saturated outside
// [-6, 6]. Skip-gram shares the centre word's negatives across its context words (Ji et al.
// 2016): the 1 + negative output rows are copied to shared memory once per window, every
// context row takes its step against those copies, and the summed output gradients are added
// back at the end of the window:
//   g_cj = (label_j - sigma(in_c . out_j)) alpha;  in_c += sum_j g_cj out_j;  out_j += sum_c g_cj in_c
// (both from the values before the window's step). CBOW: h = sum (or mean) of the context rows,
// for each target j in order g_j = (label_j - sigma(h . out_j)) alpha, e += g_j out_j,
// out_j += g_j h; then every context row += e (divided by the context size for the mean).
//
// One warp per centre word, lanes striding over the dimensions; warps take centre positions in a
// grid-stride loop and update the global tables without locks. Random draws are counter-based
// (common.cuh): window of position p: ec_random(seed, 4 * epoch + 1, p); noise word j of p:
// ec_random(seed, 4 * epoch + 2, p * 256 + j); subsampling of token p: ec_random(seed,
// 4 * epoch + 0, p). Positions index the (subsampled) token stream of the epoch.
// Cost: O(window * (negative + 1) * dim) per skip-gram centre word, O((window + negative) * dim)
// per CBOW centre word.
#include "common.cuh"

#define EC_MAX_EXP 6.0f

// keep[p] = 1 when token p survives subsampling: the high 32 bits of its draw are below
// keep_table[ids[p]] (a threshold out of 2^32, 2^32 meaning always).
extern "C" __global__ void w2v_keep_mask(const int* ids, ec_i64 n_tokens, const ec_u64* keep_table,
                                         ec_u64 seed, ec_u64 epoch, unsigned char* keep) {
    const ec_i64 stride = (ec_i64)gridDim.x * blockDim.x;
    for (ec_i64 p = (ec_i64)blockIdx.x * blockDim.x + threadIdx.x; p < n_tokens; p += stride) {
        const ec_u64 draw = ec_random(seed, 4 * epoch + 0, (ec_u64)p) >> 32;
        keep[p] = draw < keep_table[ids[p]] ? 1 : 0;
    }
}

// A noise word from the alias table: cell = (low 32 bits * V) >> 32, kept when the high 32 bits
// are below prob[cell], else alias[cell].
__host__ __device__ __forceinline__ int ec_noise_word(ec_u64 draw, const ec_u32* prob, const int* alias, int vocab_size) {
    const ec_u32 cell = (ec_u32)((((ec_u64)(ec_u32)draw) * (ec_u64)vocab_size) >> 32);
    return (ec_u32)(draw >> 32) < prob[cell] ? (int)cell : alias[cell];
}

// alpha * (label - sigma(f)), saturated outside [-MAX_EXP, MAX_EXP]; adds -log sigma(+-f) to loss.
__device__ __forceinline__ float ec_gradient(float f, float label, float alpha, float& loss) {
    const float z = label > 0.0f ? f : -f;  // the loss is softplus(-z)
    loss += z > 0.0f ? log1pf(expf(-z)) : -z + log1pf(expf(z));
    if (f > EC_MAX_EXP) return (label - 1.0f) * alpha;
    if (f < -EC_MAX_EXP) return label * alpha;
    return (label - 1.0f / (1.0f + expf(-f))) * alpha;
}

// The centre word at p, its window [lo, hi) and targets (targets[0] = centre, then the noise
// words, -1 for a noise word equal to the centre).
__device__ __forceinline__ void ec_window(const int* ids, const ec_i64* offsets, ec_i64 n_sentences, ec_i64 p,
                                          int window, ec_u64 seed, ec_u64 epoch, ec_i64& lo, ec_i64& hi) {
    const ec_i64 s = ec_sentence_of(offsets, n_sentences, p);
    const int b = 1 + (int)(ec_random(seed, 4 * epoch + 1, (ec_u64)p) % (ec_u64)window);
    lo = p - b > offsets[s] ? p - b : offsets[s];
    hi = p + b + 1 < offsets[s + 1] ? p + b + 1 : offsets[s + 1];
}

__device__ __forceinline__ void ec_targets(int centre, ec_i64 p, int negative, const ec_u32* prob, const int* alias,
                                           int vocab_size, ec_u64 seed, ec_u64 epoch, int* targets) {
    targets[0] = centre;
    for (int j = 1; j <= negative; ++j) {
        const int w = ec_noise_word(ec_random(seed, 4 * epoch + 2, (ec_u64)p * 256 + j), prob, alias, vocab_size);
        targets[j] = w == centre ? -1 : w;
    }
}

// Skip-gram over centre positions [begin, end) of the token stream ids (n_tokens, sentences at
// offsets). Dynamic shared memory per warp: 2 * (1 + negative) * dim + dim floats and
// 1 + negative ints (see sgns_shared_bytes in the launcher).
extern "C" __global__ void sgns_skipgram(const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                                         ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                                         const ec_u32* noise_prob, const int* noise_alias, int vocab_size,
                                         int window, int negative, float alpha, ec_u64 seed, ec_u64 epoch,
                                         double* loss) {
    extern __shared__ float shared[];
    const int lane = threadIdx.x & 31, warp_in_block = threadIdx.x >> 5;
    const int n_targets = 1 + negative;
    const int floats_per_warp = 2 * n_targets * dim + dim;
    const int warps_per_block = blockDim.x >> 5;
    float* rows = shared + warp_in_block * floats_per_warp;  // n_targets x dim: output rows
    float* grads = rows + n_targets * dim;                    // n_targets x dim: their gradients
    float* in_grad = grads + n_targets * dim;                 // dim: the context row's gradient
    int* targets = (int*)(shared + warps_per_block * floats_per_warp) + warp_in_block * n_targets;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    float local_loss = 0.0f;
    for (ec_i64 p = begin + warp; p < end; p += n_warps) {
        ec_i64 lo, hi;
        ec_window(ids, offsets, n_sentences, p, window, seed, epoch, lo, hi);
        if (lane == 0) ec_targets(ids[p], p, negative, noise_prob, noise_alias, vocab_size, seed, epoch, targets);
        __syncwarp();
        for (int j = 0; j < n_targets; ++j)
            for (int k = lane; k < dim; k += 32) {
                rows[j * dim + k] = targets[j] >= 0 ? output[(ec_i64)targets[j] * dim + k] : 0.0f;
                grads[j * dim + k] = 0.0f;
            }
        __syncwarp();
        for (ec_i64 q = lo; q < hi; ++q) {
            if (q == p) continue;
            float* in_row = input + (ec_i64)ids[q] * dim;
            for (int k = lane; k < dim; k += 32) in_grad[k] = 0.0f;
            for (int j = 0; j < n_targets; ++j) {
                if (targets[j] < 0) continue;
                const float f = ec_warp_dot(in_row, rows + j * dim, dim, lane);
                float step_loss = 0.0f;
                const float g = ec_gradient(f, j == 0 ? 1.0f : 0.0f, alpha, step_loss);
                if (lane == 0) local_loss += step_loss;
                for (int k = lane; k < dim; k += 32) {
                    in_grad[k] += g * rows[j * dim + k];
                    grads[j * dim + k] += g * in_row[k];
                }
            }
            __syncwarp();  // every lane has read in_row before it changes
            for (int k = lane; k < dim; k += 32) in_row[k] += in_grad[k];
            __syncwarp();
        }
        for (int j = 0; j < n_targets; ++j) {
            if (targets[j] < 0) continue;
            for (int k = lane; k < dim; k += 32) output[(ec_i64)targets[j] * dim + k] += grads[j * dim + k];
        }
        __syncwarp();  // shared rows and targets are rewritten for the next centre word
    }
    if (lane == 0 && local_loss != 0.0f) atomicAdd(loss, (double)local_loss);
}

// CBOW over centre positions [begin, end). Dynamic shared memory per warp: 2 * dim floats and
// 1 + negative ints.
extern "C" __global__ void sgns_cbow(const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                                     ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                                     const ec_u32* noise_prob, const int* noise_alias, int vocab_size,
                                     int window, int negative, float alpha, int cbow_mean, ec_u64 seed,
                                     ec_u64 epoch, double* loss) {
    extern __shared__ float shared[];
    const int lane = threadIdx.x & 31, warp_in_block = threadIdx.x >> 5;
    const int n_targets = 1 + negative;
    const int warps_per_block = blockDim.x >> 5;
    float* h = shared + warp_in_block * 2 * dim;  // dim: the context sum or mean
    float* e = h + dim;                            // dim: its gradient
    int* targets = (int*)(shared + warps_per_block * 2 * dim) + warp_in_block * n_targets;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    float local_loss = 0.0f;
    for (ec_i64 p = begin + warp; p < end; p += n_warps) {
        ec_i64 lo, hi;
        ec_window(ids, offsets, n_sentences, p, window, seed, epoch, lo, hi);
        const int n_context = (int)(hi - lo - 1);
        if (n_context <= 0) continue;  // uniform across the warp
        if (lane == 0) ec_targets(ids[p], p, negative, noise_prob, noise_alias, vocab_size, seed, epoch, targets);
        const float scale = cbow_mean ? 1.0f / n_context : 1.0f;
        for (int k = lane; k < dim; k += 32) {
            float s = 0.0f;
            for (ec_i64 q = lo; q < hi; ++q)
                if (q != p) s += input[(ec_i64)ids[q] * dim + k];
            h[k] = s * scale;
            e[k] = 0.0f;
        }
        __syncwarp();
        for (int j = 0; j < n_targets; ++j) {
            if (targets[j] < 0) continue;
            float* out_row = output + (ec_i64)targets[j] * dim;
            const float f = ec_warp_dot(h, out_row, dim, lane);
            float step_loss = 0.0f;
            const float g = ec_gradient(f, j == 0 ? 1.0f : 0.0f, alpha, step_loss);
            if (lane == 0) local_loss += step_loss;
            for (int k = lane; k < dim; k += 32) {
                e[k] += g * out_row[k];
                out_row[k] += g * h[k];
            }
            __syncwarp();
        }
        for (ec_i64 q = lo; q < hi; ++q) {
            if (q == p) continue;
            float* in_row = input + (ec_i64)ids[q] * dim;
            for (int k = lane; k < dim; k += 32) in_row[k] += e[k] * scale;
        }
        __syncwarp();
    }
    if (lane == 0 && local_loss != 0.0f) atomicAdd(loss, (double)local_loss);
}
