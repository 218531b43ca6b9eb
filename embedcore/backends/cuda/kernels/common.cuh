// Device helpers shared by the kernels: fixed-width integer names, a counter-based random
// generator, the sentence lookup and warp reductions.
//
// The random generator is a pure function of (seed, stream, counter): SplitMix64's finaliser
// (Steele, Lea, Flood 2014) applied three times. Every random decision of a kernel is named by
// its counter, so a numpy reference can replay it exactly and results do not depend on the
// launch configuration. O(1) per draw, no state in memory.
//
// No standard headers: NVRTC compiles this without a host include path. The scalar helpers are
// also host functions, so that a host program can check them against the Python references.
#pragma once

typedef long long ec_i64;
typedef unsigned long long ec_u64;
typedef unsigned int ec_u32;

#define EC_GOLDEN 0x9E3779B97F4A7C15ULL

__host__ __device__ __forceinline__ ec_u64 ec_mix64(ec_u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// h = mix(mix(mix(seed ^ G) ^ (stream + G)) ^ (counter + G))
__host__ __device__ __forceinline__ ec_u64 ec_random(ec_u64 seed, ec_u64 stream, ec_u64 counter) {
    ec_u64 h = ec_mix64(seed ^ EC_GOLDEN);
    h = ec_mix64(h ^ (stream + EC_GOLDEN));
    return ec_mix64(h ^ (counter + EC_GOLDEN));
}

// The sentence s holding token p: offsets[s] <= p < offsets[s + 1] (offsets ascending, with
// offsets[0] == 0 and offsets[n_sentences] == n_tokens). Binary search, O(log n_sentences).
__host__ __device__ __forceinline__ ec_i64 ec_sentence_of(const ec_i64* offsets, ec_i64 n_sentences, ec_i64 p) {
    ec_i64 lo = 0, hi = n_sentences - 1;
    while (lo < hi) {
        const ec_i64 mid = lo + (hi - lo + 1) / 2;
        if (offsets[mid] <= p) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

// Sum of v over the 32 lanes of a full warp; every lane gets the sum.
__device__ __forceinline__ float ec_warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// x . y for rows of n floats, lanes striding over the elements; every lane gets the result.
__device__ __forceinline__ float ec_warp_dot(const float* x, const float* y, int n, int lane) {
    float s = 0.0f;
    for (int c = lane; c < n; c += 32) s += x[c] * y[c];
    return ec_warp_sum(s);
}
