// Shared basics for every kernel: the index type and argument checks.
//
// Kernels are plain C++17 with no Python in them. A bad argument that reaches a kernel throws
// std::invalid_argument; the bindings turn that into ValueError. Instruction sets and compiler
// builtins live in simd.hpp.
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

}  // namespace embedcore
