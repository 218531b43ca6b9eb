// The random-draw helpers of both devices.
//
// mix64 is SplitMix64's finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014): a bijection of 64-bit words whose outputs pass BigCrush for a counter input.
// The CPU streams step a counter per thread (csrc/embedcore/random.hpp); the GPU names every draw
// by (seed, stream, counter) (kernels/common.cuh). Both turn a draw into a decision with the two
// rules below, so a noise word and a subsampling decision mean the same on both devices.
#pragma once

#include "hd.hpp"

namespace ecmath {

#define EC_GOLDEN 0x9E3779B97F4A7C15ULL

EC_HD ec_u64 mix64(ec_u64 z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// A uniform integer in [0, n) from 32 random bits (multiply-shift; bias below n / 2^32).
EC_HD ec_u32 below(ec_u32 bits, ec_u32 n) { return (ec_u32)(((ec_u64)bits * (ec_u64)n) >> 32); }

// Walker's alias method: cell = below(cell_bits, n); keep it when accept_bits < prob[cell]
// (a probability out of 2^32), else take alias[cell]. O(1) per draw.
EC_HD int alias_draw(ec_u32 cell_bits, ec_u32 accept_bits, const ec_u32* prob, const int* alias, int n) {
    const ec_u32 cell = below(cell_bits, (ec_u32)n);
    return accept_bits < prob[cell] ? (int)cell : alias[cell];
}

// word2vec.c's subsampling: a token of word w is kept when 32 random bits fall below keep[w]
// (out of 2^32; 2^32 keeps every token).
EC_HD bool keep_token(ec_u32 bits, ec_u64 threshold) { return (ec_u64)bits < threshold; }

}  // namespace ecmath
