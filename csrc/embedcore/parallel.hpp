// A parallel-for over [0, n) in contiguous blocks, one per thread, that carries the first
// exception thrown by any worker back to the caller once the region has ended.
//
// OpenMP when the build has it, a serial loop otherwise. The thread count is always passed in
// by the caller (never set globally), so each call honours its own `workers` argument.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>

#ifdef EMBEDCORE_OPENMP
#include <omp.h>
#endif

namespace embedcore {

inline bool have_openmp() {
#ifdef EMBEDCORE_OPENMP
    return true;
#else
    return false;
#endif
}

// Collects the first exception raised inside a parallel region.
class ExceptionSlot {
public:
    template <class F>
    void run(F&& f) noexcept {
        try {
            f();
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }
    bool failed() const { return static_cast<bool>(error_); }
    void rethrow() const {
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::mutex mutex_;
    std::exception_ptr error_;
};

// Calls body(begin, end, thread) on `threads` contiguous slices of [0, n).
template <class Body>
void parallel_blocks(std::int64_t n, int threads, Body&& body) {
    if (threads < 1) threads = 1;
    if (n <= 0) return;
    threads = static_cast<int>(std::min<std::int64_t>(threads, n));
    if (threads == 1) {
        body(std::int64_t{0}, n, 0);
        return;
    }
    ExceptionSlot slot;
#ifdef EMBEDCORE_OPENMP
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        const std::int64_t begin = n * t / nt, end = n * (t + 1) / nt;
        slot.run([&] { body(begin, end, t); });
    }
#else
    for (int t = 0; t < threads; ++t) {
        const std::int64_t begin = n * t / threads, end = n * (t + 1) / threads;
        slot.run([&] { body(begin, end, t); });
        if (slot.failed()) break;
    }
#endif
    slot.rethrow();
}

}  // namespace embedcore
