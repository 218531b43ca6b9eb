// Device helpers shared by the kernels: a counter-based random generator, the sentence lookup,
// reads of shared tables, and warp reductions.
//
// The random generator is a pure function of (seed, stream, counter): SplitMix64's finaliser
// (Steele, Lea, Flood 2014; ecmath::mix64, shared with the CPU) applied three times. Every random
// decision of a kernel is named by its counter, so a numpy reference can replay it exactly and
// results do not depend on the launch configuration. O(1) per draw, no state in memory.
//
// Tables that other warps update during a launch (the parameters of word2vec and GloVe) are read
// with ec_load (ld.global.cg: from L2, which is coherent, never from an SM's L1, which is not)
// and changed only by atomicAdd of a delta, so no update is lost to a stale read-modify-write.
//
// No standard headers: NVRTC compiles this without a host include path. The per-example math
// is in embedcore/include/ecmath (found by the loader in embedcore/backends/cuda/loader.py, or with
// nvcc -I embedcore/include).
#pragma once

#include "ecmath/random.hpp"

// Dynamic shared memory of a kernel (a macro so that the CPU emulator of tests/cpp can map it).
#ifndef EC_DYNAMIC_SHARED
#define EC_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#define EC_FULL_WARP 0xffffffffu

// h = mix(mix(mix(seed ^ G) ^ (stream + G)) ^ (counter + G))
__host__ __device__ __forceinline__ ec_u64 ec_random(ec_u64 seed, ec_u64 stream, ec_u64 counter) {
    ec_u64 h = ecmath::mix64(seed ^ EC_GOLDEN);
    h = ecmath::mix64(h ^ (stream + EC_GOLDEN));
    return ecmath::mix64(h ^ (counter + EC_GOLDEN));
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

// A read of a table other warps update (see above).
__device__ __forceinline__ float ec_load(const float* p) { return __ldcg(p); }

// Sum of v over the 32 lanes of a full warp; every lane gets the sum (a fixed butterfly order,
// so the result does not depend on timing).
__device__ __forceinline__ float ec_warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(EC_FULL_WARP, v, offset);
    return v;
}
__device__ __forceinline__ double ec_warp_sum_double(double v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(EC_FULL_WARP, v, offset);
    return v;
}

// x . y for rows of n floats held by this warp (shared memory or its own registers' copies),
// lanes striding over the elements; every lane gets the result.
__device__ __forceinline__ float ec_warp_dot(const float* x, const float* y, int n, int lane) {
    float s = 0.0f;
    for (int c = lane; c < n; c += 32) s += x[c] * y[c];
    return ec_warp_sum(s);
}

// The same with y a row of a table other warps update (read with ec_load).
__device__ __forceinline__ float ec_warp_dot_table(const float* x, const float* y, int n, int lane) {
    float s = 0.0f;
    for (int c = lane; c < n; c += 32) s += x[c] * ec_load(y + c);
    return ec_warp_sum(s);
}
