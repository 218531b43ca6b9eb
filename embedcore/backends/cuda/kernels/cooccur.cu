// Co-occurrence pairs as (key, weight) records, for a sort and a segmented sum on the device.
//
// For every token p in [begin, end) and every distance d in 1..window with p + d in the same
// sentence, the pair (a, b) = (ids[p], ids[p + d]) gets weight 1/d (or 1): key a * V + b, and
// with `symmetric` a second record b * V + a. Slots without a pair get the key 2^64 - 1 and
// weight 0 so that the output has a fixed layout (slot = ((p - begin) * window + d - 1) * copies
// + copy); they sort last and are dropped. This is GloVe's cooccur rule (Pennington et al. 2014)
// with the earlier word in the row. O(window) per token.
//
// The sums of the sorted runs: one warp per 32 consecutive runs; a lane adds up a short run by
// itself, the whole warp a long one (lanes stride over it, then a fixed butterfly), so a frequent
// pair's run of millions of records is not one thread's serial loop. The result depends only on
// the records and their order, not on timing.
#include "common.cuh"

#define EC_EMPTY_KEY 0xFFFFFFFFFFFFFFFFULL
#define EC_SHORT_RUN 32  // runs up to this length are summed by one lane

extern "C" __global__ void cooccur_pairs(const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                                         ec_i64 begin, ec_i64 end, int window, int symmetric,
                                         int distance_weighting, ec_i64 vocab_size,
                                         ec_u64* keys, double* weights) {
    const int copies = symmetric ? 2 : 1;
    const ec_i64 stride = (ec_i64)gridDim.x * blockDim.x;
    for (ec_i64 p = begin + (ec_i64)blockIdx.x * blockDim.x + threadIdx.x; p < end; p += stride) {
        const ec_i64 sentence_end = offsets[ec_sentence_of(offsets, n_sentences, p) + 1];
        const ec_i64 a = ids[p];
        ec_i64 slot = (p - begin) * window * copies;
        for (int d = 1; d <= window; ++d, slot += copies) {
            if (p + d < sentence_end) {
                const ec_i64 b = ids[p + d];
                const double w = distance_weighting ? 1.0 / d : 1.0;
                keys[slot] = (ec_u64)(a * vocab_size + b);
                weights[slot] = w;
                if (symmetric) {
                    keys[slot + 1] = (ec_u64)(b * vocab_size + a);
                    weights[slot + 1] = w;
                }
            } else {
                for (int c = 0; c < copies; ++c) {
                    keys[slot + c] = EC_EMPTY_KEY;
                    weights[slot + c] = 0.0;
                }
            }
        }
    }
}

// sums[s] = weights[starts[s]] + ... + weights[starts[s + 1] - 1] for the runs of sorted
// records: starts ascending, starts[n_segments] == n_records.
extern "C" __global__ void segment_sums(const double* weights, const ec_i64* starts, ec_i64 n_segments,
                                        double* sums) {
    const int lane = threadIdx.x & 31;
    const ec_i64 warp = ((ec_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const ec_i64 n_warps = ((ec_i64)gridDim.x * blockDim.x) >> 5;
    const ec_i64 n_groups = (n_segments + 31) / 32;
    for (ec_i64 group = warp; group < n_groups; group += n_warps) {  // uniform across the warp
        const ec_i64 s = group * 32 + lane;
        const ec_i64 first = s < n_segments ? starts[s] : 0, last = s < n_segments ? starts[s + 1] : 0;
        const bool short_run = last - first <= EC_SHORT_RUN;
        if (s < n_segments && short_run) {
            double total = 0.0;
            for (ec_i64 i = first; i < last; ++i) total += weights[i];
            sums[s] = total;
        }
        unsigned long_runs = __ballot_sync(EC_FULL_WARP, s < n_segments && !short_run);
        while (long_runs) {
            const int owner = __ffs(long_runs) - 1;
            long_runs &= long_runs - 1;
            const ec_i64 seg = group * 32 + owner;
            const ec_i64 a = starts[seg], b = starts[seg + 1];
            double part = 0.0;
            for (ec_i64 i = a + lane; i < b; i += 32) part += weights[i];
            part = ec_warp_sum_double(part);
            if (lane == owner) sums[seg] = part;
        }
    }
}
