// Co-occurrence pairs as (key, weight) records, for a sort and a segmented sum on the device.
//
// For every token p in [begin, end) and every distance d in 1..window with p + d in the same
// sentence, the pair (a, b) = (ids[p], ids[p + d]) gets weight 1/d (or 1): key a * V + b, and
// with `symmetric` a second record b * V + a. Slots without a pair get the key 2^64 - 1 and
// weight 0 so that the output has a fixed layout (slot = ((p - begin) * window + d - 1) * copies
// + copy); they sort last and are dropped. This is GloVe's cooccur rule (Pennington et al. 2014)
// with the earlier word in the row. O(window) per token.
#include "common.cuh"

#define EC_EMPTY_KEY 0xFFFFFFFFFFFFFFFFULL

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

// sums[segment[i]] += weights[i] for sorted records: one thread per segment start, summing its
// run in order (the order of the records after a stable sort), so the result is deterministic.
// starts: the first record of each segment, ascending; starts[n_segments] == n_records.
extern "C" __global__ void segment_sums(const double* weights, const ec_i64* starts, ec_i64 n_segments,
                                        double* sums) {
    const ec_i64 stride = (ec_i64)gridDim.x * blockDim.x;
    for (ec_i64 s = (ec_i64)blockIdx.x * blockDim.x + threadIdx.x; s < n_segments; s += stride) {
        double total = 0.0;
        for (ec_i64 i = starts[s]; i < starts[s + 1]; ++i) total += weights[i];
        sums[s] = total;
    }
}
