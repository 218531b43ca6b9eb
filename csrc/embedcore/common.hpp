// Shared basics for every kernel: index types, argument checks, and the SIMD level the CPU offers.
//
// Kernels are plain C++17 with no Python in them. A bad argument that reaches a kernel throws
// std::invalid_argument; the bindings turn that into ValueError.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace embedcore {

using index_t = std::int64_t;

// The const char* overload keeps checks with literal messages free of allocations on hot paths.
inline void require(bool ok, const char* message) {
    if (!ok) throw std::invalid_argument(message);
}
inline void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

// The widest vector instruction set this CPU runs, as used by runtime dispatch.
inline const char* simd_level() {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
    if (__builtin_cpu_supports("sse4.2")) return "sse4.2";
    return "sse2";
#elif defined(__aarch64__) || defined(_M_ARM64)
    return "neon";
#else
    return "scalar";
#endif
}

}  // namespace embedcore
