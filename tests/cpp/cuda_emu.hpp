// A small SIMT emulator, so that the CUDA kernels (embedcore/backends/cuda/kernels/*.cu) run on a CPU
// in the tests: the .cu files are compiled as C++ with this header included first.
//
// The blocks of a launch run one after another; the threads of a block run as cooperative fibers
// in one OS thread (started with ucontext, then switched with _setjmp/_longjmp, which do not
// touch the signal mask and so cost no system call), each until it reaches a barrier (__syncthreads, __syncwarp, or a
// warp collective: shuffles and ballots exchange values through a per-thread slot between two
// warp barriers). Fibers run in a random order each round, so a read that a missing barrier
// leaves racing with a write shows up as a wrong result. A barrier some threads can never reach
// (divergent __syncthreads, a warp collective after a lane exited, a deadlock) is an error the
// launch reports. Atomics are plain read-modify-writes (one OS thread), __ldcg a plain load.
// What it cannot show: concurrency between blocks (they run in turn) and memory-model effects.
#pragma once

#include <setjmp.h>
#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace ec_emu {

enum class Wait { Running, Warp, Block, Done };

struct Fiber {
    ucontext_t start;  // where it begins
    jmp_buf resume;    // where it continues once started
    bool started = false;
    std::vector<char> stack;
    Wait wait = Wait::Running;
    unsigned tid = 0;
};

struct BlockState {
    dim3 block_idx, block_dim, grid_dim;
    std::vector<Fiber> fibers;
    jmp_buf scheduler;
    ucontext_t scheduler_context;  // only for starting fibers
    unsigned current = 0;
    std::vector<unsigned char> dynamic_shared;
    std::vector<std::uint64_t> exchange;  // one slot per thread for warp collectives
    std::function<void()> body;
    std::string error;
};

inline BlockState*& state() {
    static BlockState* current = nullptr;
    return current;
}

inline std::mt19937& order_rng() {
    static std::mt19937 rng(12345);
    return rng;
}

inline Fiber& me() { return state()->fibers[state()->current]; }

inline void wait_for(Wait what) {
    BlockState& b = *state();
    Fiber& f = me();
    f.wait = what;
    if (!_setjmp(f.resume)) _longjmp(b.scheduler, 1);
}

inline void entry() {
    BlockState& b = *state();
    b.body();
    me().wait = Wait::Done;
    _longjmp(b.scheduler, 1);
}

// Runs fiber t until it waits or ends.
inline void step(BlockState& b, unsigned t) {
    b.current = t;
    Fiber& f = b.fibers[t];
    if (_setjmp(b.scheduler)) return;
    if (f.started) _longjmp(f.resume, 1);
    f.started = true;
    swapcontext(&b.scheduler_context, &f.start);  // never returns here: the fiber longjmps back
}

// Releases the barriers every thread they concern has reached; false when none can be released.
inline bool release(BlockState& b) {
    const unsigned n = static_cast<unsigned>(b.fibers.size());
    bool released = false;
    for (unsigned w0 = 0; w0 < n; w0 += 32) {
        unsigned at_warp = 0, others = 0;
        for (unsigned t = w0; t < std::min(n, w0 + 32); ++t) {
            if (b.fibers[t].wait == Wait::Warp) ++at_warp;
            else ++others;
        }
        if (at_warp == 0) continue;
        if (others > 0) {
            b.error = "a warp barrier or collective that lanes of warp " + std::to_string(w0 / 32) +
                      " do not reach (they wait elsewhere or exited)";
            return false;
        }
        for (unsigned t = w0; t < std::min(n, w0 + 32); ++t) b.fibers[t].wait = Wait::Running;
        released = true;
    }
    if (released) return true;
    unsigned at_block = 0, done = 0;
    for (auto& f : b.fibers) {
        if (f.wait == Wait::Block) ++at_block;
        if (f.wait == Wait::Done) ++done;
    }
    if (at_block == 0) return false;
    if (done > 0) {
        b.error = "__syncthreads after some threads of the block exited";
        return false;
    }
    for (auto& f : b.fibers) f.wait = Wait::Running;
    return true;
}

inline void run_block(BlockState& b) {
    const unsigned n = b.block_dim.x;
    b.fibers.resize(n);
    b.exchange.assign(n, 0);
    for (unsigned t = 0; t < n; ++t) {
        Fiber& f = b.fibers[t];
        f.tid = t;
        f.wait = Wait::Running;
        f.started = false;
        f.stack.resize(256 * 1024);
        getcontext(&f.start);
        f.start.uc_stack.ss_sp = f.stack.data();
        f.start.uc_stack.ss_size = f.stack.size();
        f.start.uc_link = nullptr;
        makecontext(&f.start, entry, 0);
    }
    std::vector<unsigned> order(n);
    for (;;) {
        order.clear();
        for (unsigned t = 0; t < n; ++t)
            if (b.fibers[t].wait == Wait::Running) order.push_back(t);
        std::shuffle(order.begin(), order.end(), order_rng());
        for (unsigned t : order) step(b, t);
        bool all_done = true;
        for (auto& f : b.fibers) all_done &= f.wait == Wait::Done;
        if (all_done) return;
        if (!release(b)) {
            if (b.error.empty()) b.error = "deadlock: no barrier can be released";
            throw std::runtime_error(b.error);
        }
    }
}

// Runs body on every thread of a grid x block launch with `shared` bytes of dynamic shared
// memory (filled with 0xFF bytes, NaN as floats, so a read before a write shows).
inline void launch(dim3 grid, dim3 block, std::size_t shared, std::function<void()> body) {
    if (block.x == 0 || block.x % 32 != 0) throw std::runtime_error("block size must be a multiple of 32");
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        BlockState b;
        b.block_idx = dim3(bx);
        b.block_dim = block;
        b.grid_dim = grid;
        b.dynamic_shared.assign(shared + 16, 0xFF);
        b.body = body;
        state() = &b;
        try {
            run_block(b);
        } catch (...) {
            state() = nullptr;
            throw;
        }
        state() = nullptr;
    }
}

inline dim3 thread_index() { return dim3(me().tid); }

template <class T>
inline std::uint64_t to_bits(T v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}
template <class T>
inline T from_bits(std::uint64_t bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

template <class T>
inline T shuffle_from(T v, unsigned source_lane) {
    BlockState& b = *state();
    const unsigned tid = me().tid;
    b.exchange[tid] = to_bits(v);
    wait_for(Wait::Warp);
    const T out = from_bits<T>(b.exchange[(tid & ~31u) | (source_lane & 31u)]);
    wait_for(Wait::Warp);
    return out;
}

}  // namespace ec_emu

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static  // one block runs at a time: a static is that block's shared variable
#define EC_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(ec_emu::state()->dynamic_shared.data())

#define threadIdx (ec_emu::thread_index())
#define blockIdx (ec_emu::state()->block_idx)
#define blockDim (ec_emu::state()->block_dim)
#define gridDim (ec_emu::state()->grid_dim)

inline void __syncthreads() { ec_emu::wait_for(ec_emu::Wait::Block); }
inline void __syncwarp(unsigned = 0xffffffffu) { ec_emu::wait_for(ec_emu::Wait::Warp); }

template <class T>
inline T __shfl_xor_sync(unsigned, T v, int lane_mask) {
    return ec_emu::shuffle_from(v, (ec_emu::me().tid & 31u) ^ static_cast<unsigned>(lane_mask));
}
template <class T>
inline T __shfl_sync(unsigned, T v, int source_lane) {
    return ec_emu::shuffle_from(v, static_cast<unsigned>(source_lane));
}
inline unsigned __ballot_sync(unsigned, bool predicate) {
    ec_emu::BlockState& b = *ec_emu::state();
    const unsigned tid = ec_emu::me().tid;
    b.exchange[tid] = predicate ? 1 : 0;
    ec_emu::wait_for(ec_emu::Wait::Warp);
    unsigned bits = 0;
    for (unsigned l = 0; l < 32; ++l) bits |= static_cast<unsigned>(b.exchange[(tid & ~31u) + l] & 1u) << l;
    ec_emu::wait_for(ec_emu::Wait::Warp);
    return bits;
}

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(unsigned x) { return __builtin_ffs(static_cast<int>(x)); }
inline float __int_as_float(int x) { return ec_emu::from_bits<float>(static_cast<std::uint32_t>(x)); }
inline unsigned __float_as_uint(float x) { return static_cast<unsigned>(ec_emu::to_bits(x)); }
inline float __ldcg(const float* p) { return *p; }

template <class T>
inline T atomicAdd(T* p, T v) {
    const T old = *p;
    *p = old + v;
    return old;
}
inline int atomicMin(int* p, int v) {
    const int old = *p;
    *p = std::min(old, v);
    return old;
}
