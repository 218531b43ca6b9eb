// C++ glue of the Cython text module (embedcore/_sgd/_text.pyx): feeding a chunk to a counter or
// an encoder reports invalid UTF-8 as a byte offset instead of an exception, so that the module
// can raise ValueError naming the file (which the C++ side does not know).
#pragma once

#include <cstddef>
#include <cstdint>

#include "embedcore/text.hpp"

namespace embedcore {
namespace text {

// Feeds a chunk to `sink` (a VocabCounter or an Encoder); returns -1, or the absolute byte offset
// of invalid UTF-8 under the strict policy. Other exceptions propagate.
template <class Sink>
std::int64_t feed_checked(Sink& sink, const char* buf, std::size_t n, bool last) {
    try {
        sink.feed(buf, n, last);
        return -1;
    } catch (const Utf8Error& e) {
        return e.offset;
    }
}

}  // namespace text
}  // namespace embedcore
