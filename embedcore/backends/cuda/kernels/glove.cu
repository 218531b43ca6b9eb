// One GloVe epoch: AdaGrad over co-occurrence records, one warp per record, Hogwild.
//
// For a record (i, j, log x, f(x)) (Pennington, Socher, Manning 2014; Stanford glove.c):
//   diff = w_i . w~_j + b_i + b~_j - log x,   cost += 0.5 f diff^2,   fdiff = f diff
//   g = eta clip(fdiff w~_j, +-100);  w_i -= g / sqrt(G_i);  G_i += g^2   (same for w~_j)
//   h = eta_b fdiff;  b_i -= h / sqrt(Gb_i);  Gb_i += h^2                  (and for b~_j)
// with both gradients taken from the values before the step, as the CPU kernel does. The 32
// lanes of a warp share the `stride` columns of a row; warps take records in a grid-stride loop
// and update the shared arrays without locks. Launched with a single warp, the records are
// processed strictly in order, which reproduces the serial CPU epoch up to float rounding.
// O(nnz * stride) per epoch.
#include "common.cuh"

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
    double local_cost = 0.0;
    for (ec_i64 r = warp; r < nnz; r += n_warps) {
        const ec_i64 row = records[4 * r], col = records[4 * r + 1];
        const float log_x = __int_as_float(records[4 * r + 2]);
        const float weight = __int_as_float(records[4 * r + 3]);
        float* w = word + row * stride;
        float* c = context + col * stride;
        float* gw = word_gradsq + row * stride;
        float* gc = context_gradsq + col * stride;
        const float dot = ec_warp_dot(w, c, stride, lane);
        const float diff = dot + word_bias[row] + context_bias[col] - log_x;
        const float fdiff = weight * diff;
        local_cost += 0.5 * (double)fdiff * diff;
        for (int k = lane; k < stride; k += 32) {
            const float t1 = fminf(fmaxf(fdiff * c[k], -100.0f), 100.0f) * eta;  // glove.c's clip
            const float t2 = fminf(fmaxf(fdiff * w[k], -100.0f), 100.0f) * eta;
            w[k] -= t1 / sqrtf(gw[k]);
            c[k] -= t2 / sqrtf(gc[k]);
            gw[k] += t1 * t1;
            gc[k] += t2 * t2;
        }
        if (lane == 0) {
            const float h = bias_eta * fdiff;
            word_bias[row] -= h / sqrtf(word_bias_gradsq[row]);
            context_bias[col] -= h / sqrtf(context_bias_gradsq[col]);
            word_bias_gradsq[row] += h * h;
            context_bias_gradsq[col] += h * h;
        }
        __syncwarp();  // the bias update is visible to the warp's next record
    }
    if (lane == 0 && local_cost != 0.0) atomicAdd(cost, local_cost);
}
