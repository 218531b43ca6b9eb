// Exact top-k selection over tiles of a score matrix (cosine top-k after a cuBLAS GEMM).
//
// The caller computes one tile of scores S = Q_tile D_tile^T with cuBLAS and launches
// `topk_merge_tile`, which merges the tile into the running top-k of each query row: one block
// per query row; each thread keeps a sorted list of the best k candidates among the columns it
// strides over (plus its share of the previous top-k), then k rounds of a block-wide arg-max
// over the threads' list heads produce the merged top-k in order. Order: higher score first,
// ties by lower database index. O(tile_cols + k log(threads) + k * (tile_cols / threads)) per
// row in the worst case; the list insertion is skipped for candidates below the k-th.
#include "common.cuh"

#define EC_TOPK_THREADS 128
#define EC_TOPK_MAX_K 256

// (sa, ia) ranks before (sb, ib); an index < 0 marks an empty slot, ranked last.
__device__ __forceinline__ bool ec_topk_before(float sa, ec_i64 ia, float sb, ec_i64 ib) {
    if (ib < 0) return ia >= 0;
    if (ia < 0) return false;
    return sa > sb || (sa == sb && ia < ib);
}

struct EcTopkList {
    float score[EC_TOPK_MAX_K];
    ec_i64 index[EC_TOPK_MAX_K];
    int size;
};

// insert (s, i) into the sorted list of at most k entries
__device__ __forceinline__ void ec_topk_insert(EcTopkList& list, int k, float s, ec_i64 i) {
    if (list.size == k && !ec_topk_before(s, i, list.score[k - 1], list.index[k - 1])) return;
    int pos = list.size < k ? list.size++ : k - 1;
    while (pos > 0 && ec_topk_before(s, i, list.score[pos - 1], list.index[pos - 1])) {
        list.score[pos] = list.score[pos - 1];
        list.index[pos] = list.index[pos - 1];
        --pos;
    }
    list.score[pos] = s;
    list.index[pos] = i;
}

// scores: tile_rows x tile_cols (row-major, contiguous), rows are queries row_offset.. of the
// full problem, columns database rows col_offset... best_scores / best_indices: n_queries x k,
// the running result (index -1 for an empty slot), merged in place. exclude (when has_exclude):
// one database row per query to leave out, -1 for none.
extern "C" __global__ void topk_merge_tile(const float* scores, int tile_rows, int tile_cols,
                                           ec_i64 row_offset, ec_i64 col_offset,
                                           const ec_i64* exclude, int has_exclude, int k,
                                           float* best_scores, ec_i64* best_indices) {
    __shared__ float head_score[EC_TOPK_THREADS];
    __shared__ ec_i64 head_index[EC_TOPK_THREADS];
    __shared__ int head_owner[EC_TOPK_THREADS];
    const int t = threadIdx.x;
    for (int r = blockIdx.x; r < tile_rows; r += gridDim.x) {
        const ec_i64 q = row_offset + r;
        float* out_s = best_scores + q * k;
        ec_i64* out_i = best_indices + q * k;
        const ec_i64 skip = has_exclude ? exclude[q] : -1;
        EcTopkList list;
        list.size = 0;
        for (int j = t; j < k; j += EC_TOPK_THREADS)
            if (out_i[j] >= 0) ec_topk_insert(list, k, out_s[j], out_i[j]);
        const float* row = scores + (ec_i64)r * tile_cols;
        for (int c = t; c < tile_cols; c += EC_TOPK_THREADS) {
            const ec_i64 idx = col_offset + c;
            if (idx != skip) ec_topk_insert(list, k, row[c], idx);
        }
        __syncthreads();  // every thread has read the previous result before it is overwritten
        int next = 0;
        for (int j = 0; j < k; ++j) {
            head_score[t] = next < list.size ? list.score[next] : 0.0f;
            head_index[t] = next < list.size ? list.index[next] : -1;
            head_owner[t] = t;
            __syncthreads();
            for (int half = EC_TOPK_THREADS / 2; half > 0; half >>= 1) {
                if (t < half && ec_topk_before(head_score[t + half], head_index[t + half],
                                               head_score[t], head_index[t])) {
                    head_score[t] = head_score[t + half];
                    head_index[t] = head_index[t + half];
                    head_owner[t] = head_owner[t + half];
                }
                __syncthreads();
            }
            if (t == 0) {
                out_s[j] = head_score[0];
                out_i[j] = head_index[0];
            }
            if (head_index[0] >= 0 && head_owner[0] == t) ++next;
            __syncthreads();  // head_* is rewritten in the next round
        }
    }
}
