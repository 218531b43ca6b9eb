# Declarations of the text kernel (csrc/embedcore/text.hpp) and its glue (csrc/bindings/sgd_text.hpp)
# for embedcore/_sgd/_text.pyx.
from libc.stdint cimport int32_t, int64_t
from libcpp cimport bool
from libcpp.vector cimport vector


cdef extern from "embedcore/text.hpp" namespace "embedcore::text" nogil:
    cdef enum class Utf8Policy(int):
        Strict
        Replace
        Ignore

    cdef cppclass StringTable:
        size_t size()
        int64_t count(size_t i)
        size_t length(size_t i)
        const char* data(size_t i)

    cdef cppclass VocabCounter:
        VocabCounter(int64_t prune_at, Utf8Policy policy)
        void add(const char* s, size_t n) except +
        void end_sentence()
        void reset_stream(Utf8Policy policy)
        const StringTable& table()
        int64_t total_words()
        int64_t sentences()
        int64_t prunes()
        vector[int64_t] sorted_vocabulary(int64_t min_count, int64_t max_size) except +

    cdef cppclass Encoder:
        Encoder(Utf8Policy policy)
        void add_word(const char* s, size_t n) except +
        size_t vocab_size()
        void add_token(const char* s, size_t n) except +
        void end_sentence() except +
        void reset_stream(Utf8Policy policy)
        int64_t n_ids()
        void take_ids(int32_t* out)
        vector[int64_t]& offsets()
        int64_t dropped()


cdef extern from "bindings/sgd_text.hpp" namespace "embedcore::text" nogil:
    int64_t feed_counter "embedcore::text::feed_checked<embedcore::text::VocabCounter>" (
        VocabCounter& sink, const char* buf, size_t n, bool last) except +
    int64_t feed_encoder "embedcore::text::feed_checked<embedcore::text::Encoder>" (
        Encoder& sink, const char* buf, size_t n, bool last) except +
