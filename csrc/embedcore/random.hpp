// Per-thread random streams for the SGD kernels.
//
// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
// a 64-bit counter passed through a bijective mixer (ecmath::mix64, shared with the GPU
// kernels). One add and three multiply-xorshift rounds per draw, full period 2^64, and streams
// for (seed, thread) are derived by mixing both into the state, so workers=1 with the same seed
// repeats exactly.
#pragma once

#include <cstdint>

#include "ecmath/random.hpp"

namespace embedcore {

inline std::uint64_t mix64(std::uint64_t z) { return ecmath::mix64(z); }

// The starting state of stream `stream` for a user seed.
inline std::uint64_t stream_state(std::uint64_t seed, std::uint64_t stream) {
    return mix64(mix64(seed ^ 0x5DEECE66DULL) + EC_GOLDEN * (stream + 1));
}

struct SplitMix64 {
    std::uint64_t state;
    explicit SplitMix64(std::uint64_t s) : state(s) {}
    std::uint64_t next() {
        state += EC_GOLDEN;
        return mix64(state);
    }
    // Uniform integer in [0, n) by the multiply-shift map (bias below 2^-32 for n < 2^32).
    std::uint32_t below(std::uint32_t n) { return ecmath::below(static_cast<std::uint32_t>(next() >> 32), n); }
};

}  // namespace embedcore
