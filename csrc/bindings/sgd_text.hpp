// C++ glue of the Cython text module (embedcore/_sgd/_text.pyx): the workers of the parallel text
// pass, kept from block to block of a file. Feeding a block reports invalid UTF-8 as a byte offset
// instead of an exception, so that the module can raise ValueError naming the file (which the C++
// side does not know).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "embedcore/text.hpp"

namespace embedcore {
namespace text {

// The workers of the parallel pass, one per thread, kept from block to block.
class CountWorkers {
public:
    CountWorkers(int threads, Utf8Policy policy, bool keep_ids)
        : workers_(static_cast<std::size_t>(threads < 1 ? 1 : threads), ChunkWorker<false>(policy, keep_ids)),
          policy_(policy) {}
    // A block of a file (see feed_block); -1 or the file offset of invalid UTF-8.
    std::int64_t feed(VocabCounter& sink, const char* buf, std::size_t n, std::int64_t offset) {
        return feed_block(sink, workers_, buf, n, offset, policy_);
    }

private:
    std::vector<ChunkWorker<false>> workers_;
    Utf8Policy policy_;
};

class EncodeWorkers {
public:
    EncodeWorkers(int threads, Utf8Policy policy, const Encoder& encoder)
        : workers_(static_cast<std::size_t>(threads < 1 ? 1 : threads),
                   ChunkWorker<true>(policy, true, &encoder.table())),
          policy_(policy) {}
    std::int64_t feed(Encoder& sink, const char* buf, std::size_t n, std::int64_t offset) {
        return feed_block(sink, workers_, buf, n, offset, policy_);
    }

private:
    std::vector<ChunkWorker<true>> workers_;
    Utf8Policy policy_;
};

}  // namespace text
}  // namespace embedcore
