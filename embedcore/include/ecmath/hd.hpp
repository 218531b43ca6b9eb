// The basis of the per-example math shared by the CPU kernels (csrc/embedcore/*.hpp, compiled by
// the C++ compiler) and the GPU kernels (embedcore/backends/cuda/kernels/*.cu, compiled by NVRTC at
// run time, or by nvcc): EC_HD marks a function both compilers take, fixed-width integer names,
// and the few math functions used, without any standard header under NVRTC (it has no host
// include path).
//
// Why here: these headers are package data, so the GPU loader finds them in an installed wheel
// as in a source tree (the C++ build adds embedcore/include to its include path, nvcc takes
// -I embedcore/include). Rules for what goes in: scalar functions of a few values (no loops over
// rows, no memory layout, no threads), so that both devices compute one example the same way and
// tests/test_kernel_math.py can check each function on the CPU against a float64 reference.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define EC_HD __host__ __device__ __forceinline__
#else
#define EC_HD inline
#endif

#if !defined(__CUDACC_RTC__)
#include <math.h>
#endif

typedef long long ec_i64;
typedef unsigned long long ec_u64;
typedef unsigned int ec_u32;

namespace ecmath {

// exp and log1p in the precision of the argument (double on the host builds the CPU's tables;
// the GPU evaluates the same formulas in float).
EC_HD float exp_of(float x) { return expf(x); }
EC_HD double exp_of(double x) { return exp(x); }
EC_HD float log1p_of(float x) { return log1pf(x); }
EC_HD double log1p_of(double x) { return log1p(x); }

// max and min with the semantics of the x86 SIMD instructions (maxps, minps): the second
// operand when the comparison is false, NaN included, so scalar and vector code agree exactly.
EC_HD float max_like_simd(float a, float b) { return a > b ? a : b; }
EC_HD float min_like_simd(float a, float b) { return a < b ? a : b; }

}  // namespace ecmath
