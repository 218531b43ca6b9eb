// One GloVe epoch: AdaGrad over co-occurrence records, one warp per record, Hogwild.
//
// For a record (i, j, log x, f(x)) the step of Stanford's glove.c (Pennington, Socher, Manning
// 2014) with the per-example math of ecmath/glove.hpp, the functions the CPU kernel runs:
//   diff = w_i . w~_j + b_i + b~_j - log x,   cost += 0.5 f diff^2,   fdiff = f diff
//   t = eta clip(fdiff w~_j, +-100);  w_i -= t / sqrt(G_i);  G_i += t^2   (same for w~_j)
//   h = eta_b fdiff;  b_i -= h / sqrt(Gb_i);  Gb_i += h^2                  (and for b~_j)
// with both gradients taken from the values before the step. The 32 lanes of a warp share the
// `stride` columns of a row (each lane reads and updates only its own columns); lane 0 reads the
// biases, the warp gets diff from it by a shuffle, and lane 0 alone updates them. Rows and
// biases other warps update are read with ec_load and changed by atomicAdd of the step's delta
// (common.cuh). Warps take records in a grid-stride loop; the launcher caps the warps in flight
// by the vocabulary size. Launched with a single warp, the records are processed strictly in
// order, which reproduces the serial CPU epoch up to float rounding. O(nnz * stride) per epoch.
#include "common.cuh"
#include "ecmath/glove.hpp"

// records: nnz x 4 int32 (row, col, log x as float bits, f(x) as float bits). Vectors and
// accumulators: n_words x stride, contiguous. cost: one double, added to.
extern "C" __global__ void glove_epoch(const int* records, ec_i64 nnz, float* word, float* context,
                                       float* word_bias, float* context_bias, float* word_gradsq,
                                       float* context_gradsq, float* word_bias_gradsq,
                                       float* context_bias_gradsq, int stride, float eta, float bias_eta,
                                       double* cost) {
    const int lane = threadIdx.x & 31;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    double local_cost = 0.0;  // lane 0's tally
    for (ec_i64 r = warp; r < nnz; r += n_warps) {
        const ec_i64 row = records[4 * r], col = records[4 * r + 1];
        const float log_x = __int_as_float(records[4 * r + 2]);
        const float weight = __int_as_float(records[4 * r + 3]);
        float* w = word + row * stride;
        float* c = context + col * stride;
        float* gw = word_gradsq + row * stride;
        float* gc = context_gradsq + col * stride;
        float s = 0.0f;
        for (int k = lane; k < stride; k += 32) s += ec_load(w + k) * ec_load(c + k);
        const float dot = ec_warp_sum(s);
        float diff = 0.0f;
        if (lane == 0) diff = dot + ec_load(word_bias + row) + ec_load(context_bias + col) - log_x;
        diff = __shfl_sync(EC_FULL_WARP, diff, 0);  // lane 0 alone reads and writes the biases
        const float fdiff = weight * diff;
        for (int k = lane; k < stride; k += 32) {
            const float wk = ec_load(w + k), ck = ec_load(c + k);
            const float t1 = ecmath::glove_vector_grad(fdiff, ck, eta);
            const float t2 = ecmath::glove_vector_grad(fdiff, wk, eta);
            atomicAdd(w + k, ecmath::adagrad_delta(t1, ec_load(gw + k)));
            atomicAdd(c + k, ecmath::adagrad_delta(t2, ec_load(gc + k)));
            atomicAdd(gw + k, ecmath::adagrad_gradsq_delta(t1));
            atomicAdd(gc + k, ecmath::adagrad_gradsq_delta(t2));
        }
        if (lane == 0) {
            local_cost += ecmath::glove_cost(fdiff, diff);
            const float h = ecmath::glove_bias_grad(fdiff, bias_eta);
            atomicAdd(word_bias + row, ecmath::adagrad_delta(h, ec_load(word_bias_gradsq + row)));
            atomicAdd(context_bias + col, ecmath::adagrad_delta(h, ec_load(context_bias_gradsq + col)));
            atomicAdd(word_bias_gradsq + row, ecmath::adagrad_gradsq_delta(h));
            atomicAdd(context_bias_gradsq + col, ecmath::adagrad_gradsq_delta(h));
        }
        __syncwarp();
    }
    if (lane == 0 && local_cost != 0.0) atomicAdd(cost, local_cost);
}
