// Per-thread random streams for the SGD kernels.
//
// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
// a 64-bit counter passed through a bijective mixer. One add and three multiply-xorshift rounds per
// draw, full period 2^64, and streams for (seed, thread) are derived by mixing both into the state,
// so workers=1 with the same seed repeats exactly.
#pragma once

#include <cstdint>

namespace embedcore {

inline std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// The starting state of stream `stream` for a user seed.
inline std::uint64_t stream_state(std::uint64_t seed, std::uint64_t stream) {
    return mix64(mix64(seed ^ 0x5DEECE66DULL) + 0x9E3779B97F4A7C15ULL * (stream + 1));
}

struct SplitMix64 {
    std::uint64_t state;
    explicit SplitMix64(std::uint64_t s) : state(s) {}
    std::uint64_t next() {
        state += 0x9E3779B97F4A7C15ULL;
        return mix64(state);
    }
    // Uniform integer in [0, n) by the multiply-shift map (bias below 2^-32 for n < 2^32).
    std::uint32_t below(std::uint32_t n) {
        return static_cast<std::uint32_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
    }
};

}  // namespace embedcore
