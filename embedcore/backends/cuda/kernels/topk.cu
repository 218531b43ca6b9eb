// Exact top-k selection over tiles of a score matrix (cosine top-k after a cuBLAS GEMM).
//
// The caller computes one tile of scores S = Q_tile D_tile^T with cuBLAS and launches
// `topk_merge_tile`, which merges the tile into the running top-k of each query row: one block
// per query row. Order: higher score first, ties by lower database index; -0 and +0 tie.
//
// Candidates live in shared memory (2 kp entries, kp the power of two >= k, so k up to 1024 takes
// 24 KiB), never in per-thread lists. The common case (every tile after a row's first): the
// running k-th best is a threshold, the threads compact the few tile scores that beat it next to
// the previous top-k, and a bitonic sort of that small set gives the new top-k (one pass over the
// tile row). When more than 2 kp candidates beat the threshold (a row's first tile, or k near the
// tile width), a radix select on the scores' order-preserving 32-bit keys (four 8-bit passes,
// shared histograms) finds the k-th best key T; the candidates above T and, of those equal to T,
// the lowest-indexed ones (an ordered compaction in column order) are sorted as above.
// Cost per row: one read of the tile row plus O(c log^2 c) for c <= 2 kp candidates, or five
// reads when the radix select runs.
#include "common.cuh"

#define EC_TOPK_THREADS 256
#define EC_TOPK_WARPS (EC_TOPK_THREADS / 32)
#define EC_TOPK_MAX_K 1024

// (sa, ia) ranks before (sb, ib); an index < 0 marks an empty slot, ranked last.
__device__ __forceinline__ bool ec_topk_before(float sa, ec_i64 ia, float sb, ec_i64 ib) {
    if (ib < 0) return ia >= 0;
    if (ia < 0) return false;
    return sa > sb || (sa == sb && ia < ib);
}

// A 32-bit key whose unsigned order is the order of the scores (-0 mapped to +0).
__device__ __forceinline__ unsigned ec_score_key(float s) {
    const unsigned b = __float_as_uint(s == 0.0f ? 0.0f : s);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// Sorts s[0, n) / idx[0, n) (n a power of two) best first, by the whole block.
__device__ __forceinline__ void ec_bitonic_sort(float* s, ec_i64* idx, int n) {
    for (int size = 2; size <= n; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int i = threadIdx.x; i < n / 2; i += blockDim.x) {
                const int lo = 2 * stride * (i / stride) + (i % stride), hi = lo + stride;
                const bool best_first = (lo & size) == 0;
                const bool swap = best_first ? ec_topk_before(s[hi], idx[hi], s[lo], idx[lo])
                                             : ec_topk_before(s[lo], idx[lo], s[hi], idx[hi]);
                if (swap) {
                    const float ts = s[lo];
                    s[lo] = s[hi];
                    s[hi] = ts;
                    const ec_i64 ti = idx[lo];
                    idx[lo] = idx[hi];
                    idx[hi] = ti;
                }
            }
            __syncthreads();
        }
    }
}

// scores: tile_rows x tile_cols (row-major, contiguous), rows are queries row_offset.. of the
// full problem, columns database rows col_offset... best_scores / best_indices: n_queries x k,
// the running result, sorted, empty slots (index -1, score 0) last, merged in place. exclude
// (when has_exclude): one database row per query to leave out, -1 for none. Launch with
// EC_TOPK_THREADS threads and 12 * 2 * kp bytes of dynamic shared memory.
extern "C" __global__ void topk_merge_tile(const float* scores, int tile_rows, int tile_cols,
                                           ec_i64 row_offset, ec_i64 col_offset,
                                           const ec_i64* exclude, int has_exclude, int k,
                                           float* best_scores, ec_i64* best_indices) {
    EC_DYNAMIC_SHARED(float, shared);
    __shared__ unsigned hist[256];
    __shared__ int warp_counts[EC_TOPK_WARPS];
    __shared__ int s_count, s_prev, s_first_tie, s_ties_seen, s_remaining;
    __shared__ unsigned s_prefix;
    int kp = 1;
    while (kp < k) kp <<= 1;
    const int cap = 2 * kp;
    float* buf_s = shared;
    ec_i64* buf_i = (ec_i64*)(shared + cap);
    const int t = threadIdx.x, lane = t & 31, wid = t >> 5;
    for (int r = blockIdx.x; r < tile_rows; r += gridDim.x) {
        const ec_i64 q = row_offset + r;
        float* out_s = best_scores + q * k;
        ec_i64* out_i = best_indices + q * k;
        const ec_i64 skip = has_exclude ? exclude[q] : -1;
        const float* row = scores + (ec_i64)r * tile_cols;
        if (t == 0) s_prev = 0;
        __syncthreads();
        for (int j = t; j < k; j += EC_TOPK_THREADS)
            if (out_i[j] >= 0) atomicAdd(&s_prev, 1);
        __syncthreads();
        const int prev = s_prev;  // the valid entries: a sorted prefix
        // the running k-th best, when there are k: only what ranks before it can enter
        const float thr_s = prev == k ? out_s[k - 1] : 0.0f;
        const ec_i64 thr_i = prev == k ? out_i[k - 1] : -1;
        for (int j = t; j < prev; j += EC_TOPK_THREADS) {
            buf_s[j] = out_s[j];
            buf_i[j] = out_i[j];
        }
        if (t == 0) s_count = prev;
        __syncthreads();
        // the common case: compact the tile scores that beat the threshold after the old top-k
        for (int c = t; c < tile_cols; c += EC_TOPK_THREADS) {
            const ec_i64 idx = col_offset + c;
            const float s = row[c];
            if (idx != skip && ec_topk_before(s, idx, thr_s, thr_i)) {
                const int slot = atomicAdd(&s_count, 1);
                if (slot < cap) {
                    buf_s[slot] = s;
                    buf_i[slot] = idx;
                }
            }
        }
        __syncthreads();
        if (s_count > cap) {
            // too many: radix-select the k-th best key T among the old top-k and the tile's candidates
            if (t == 0) {
                s_prefix = 0u;
                s_remaining = k;
            }
            for (int shift = 24; shift >= 0; shift -= 8) {
                for (int i = t; i < 256; i += EC_TOPK_THREADS) hist[i] = 0u;
                __syncthreads();
                const unsigned high = shift == 24 ? 0u : (0xFFFFFFFFu << (shift + 8));
                const unsigned prefix = s_prefix & high;
                for (int j = t; j < prev; j += EC_TOPK_THREADS) {
                    const unsigned key = ec_score_key(out_s[j]);
                    if ((key & high) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
                }
                for (int c = t; c < tile_cols; c += EC_TOPK_THREADS) {
                    const ec_i64 idx = col_offset + c;
                    const float s = row[c];
                    if (idx == skip || !ec_topk_before(s, idx, thr_s, thr_i)) continue;
                    const unsigned key = ec_score_key(s);
                    if ((key & high) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
                }
                __syncthreads();
                if (t == 0) {
                    int remaining = s_remaining, b = 255;
                    for (; b > 0 && (int)hist[b] < remaining; --b) remaining -= (int)hist[b];
                    s_prefix = (s_prefix & high) | ((unsigned)b << shift);
                    s_remaining = remaining;
                }
                __syncthreads();
            }
            const unsigned T = s_prefix;
            const int ties = s_remaining;  // how many entries with key T belong to the top-k
            if (t == 0) {
                s_count = 0;
                s_first_tie = 0x7fffffff;
                s_ties_seen = 0;
            }
            __syncthreads();
            // everything above T (fewer than k entries), and where the old top-k's ties begin
            for (int j = t; j < prev; j += EC_TOPK_THREADS) {
                const unsigned key = ec_score_key(out_s[j]);
                if (key > T) {
                    const int slot = atomicAdd(&s_count, 1);
                    buf_s[slot] = out_s[j];
                    buf_i[slot] = out_i[j];
                } else if (key == T) {
                    atomicMin(&s_first_tie, j);
                }
            }
            for (int c = t; c < tile_cols; c += EC_TOPK_THREADS) {
                const ec_i64 idx = col_offset + c;
                const float s = row[c];
                if (idx == skip || !ec_topk_before(s, idx, thr_s, thr_i) || ec_score_key(s) <= T) continue;
                const int slot = atomicAdd(&s_count, 1);
                buf_s[slot] = s;
                buf_i[slot] = idx;
            }
            __syncthreads();
            // the first `ties` of the old top-k's ties (sorted, so lowest indices first)...
            for (int j = t; j < prev; j += EC_TOPK_THREADS) {
                if (ec_score_key(out_s[j]) == T && j - s_first_tie < ties) {
                    const int slot = atomicAdd(&s_count, 1);
                    buf_s[slot] = out_s[j];
                    buf_i[slot] = out_i[j];
                }
            }
            // ... and the first `ties` of the tile's, in column order (an ordered compaction)
            for (int c0 = 0; c0 < tile_cols; c0 += EC_TOPK_THREADS) {
                const int c = c0 + t;
                const ec_i64 idx = col_offset + c;
                const float s = c < tile_cols ? row[c] : 0.0f;
                const bool tie = c < tile_cols && idx != skip && ec_topk_before(s, idx, thr_s, thr_i) &&
                                 ec_score_key(s) == T;
                const unsigned ballot = __ballot_sync(EC_FULL_WARP, tie);
                if (lane == 0) warp_counts[wid] = __popc(ballot);
                __syncthreads();
                int rank = s_ties_seen + __popc(ballot & ((1u << lane) - 1u));
                for (int w = 0; w < wid; ++w) rank += warp_counts[w];
                if (tie && rank < ties) {
                    const int slot = atomicAdd(&s_count, 1);
                    buf_s[slot] = s;
                    buf_i[slot] = idx;
                }
                __syncthreads();
                if (t == 0)
                    for (int w = 0; w < EC_TOPK_WARPS; ++w) s_ties_seen += warp_counts[w];
                __syncthreads();
                if (s_ties_seen >= ties) break;  // uniform: read after the barrier by every thread
            }
            __syncthreads();
        }
        // sort the candidates (at most cap; padded with empty slots to a power of two)
        const int n = s_count;
        int padded = 1;
        while (padded < n) padded <<= 1;
        for (int j = n + t; j < padded; j += EC_TOPK_THREADS) {
            buf_s[j] = 0.0f;
            buf_i[j] = -1;
        }
        __syncthreads();
        ec_bitonic_sort(buf_s, buf_i, padded);
        for (int j = t; j < k; j += EC_TOPK_THREADS) {
            out_s[j] = j < padded ? buf_s[j] : 0.0f;
            out_i[j] = j < padded ? buf_i[j] : -1;
        }
        __syncthreads();  // shared state is reset for the next row
    }
}
