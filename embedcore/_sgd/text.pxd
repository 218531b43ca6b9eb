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
        void keep_stream(bool keep)
        bool stream_kept()
        void end_file()
        int64_t encode_stream(const vector[int64_t]& order, vector[int32_t]& ids,
                              vector[int64_t]& offsets) except +

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
        void end_file() except +


cdef extern from "bindings/sgd_text.hpp" namespace "embedcore::text" nogil:
    cdef cppclass CountWorkers:
        CountWorkers(int threads, Utf8Policy policy, bool keep_ids) except +
        int64_t feed(VocabCounter& sink, const char* buf, size_t n, int64_t offset) except +

    cdef cppclass EncodeWorkers:
        EncodeWorkers(int threads, Utf8Policy policy, const Encoder& encoder) except +
        int64_t feed(Encoder& sink, const char* buf, size_t n, int64_t offset) except +

    size_t last_cut(const char* buf, size_t n)
