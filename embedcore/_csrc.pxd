# Declarations of the C++ kernels (csrc/embedcore/*.hpp) that the Cython module drives.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.string cimport string
from libcpp cimport bool
from libcpp.vector cimport vector


cdef extern from "embedcore/text.hpp" namespace "embedcore::text" nogil:
    cdef enum class Utf8Policy(int):
        Strict
        Replace
        Ignore

    cdef cppclass Entry "embedcore::text::StringTable::Entry":
        int64_t length
        int64_t count
        int64_t first

    cdef cppclass StringTable:
        size_t size()
        const Entry& entry(size_t i)
        const char* data(const Entry& e)

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
        vector[int32_t]& ids()
        vector[int64_t]& offsets()
        int64_t dropped()


cdef extern from *:
    """
    #include "embedcore/text.hpp"
    // Feed a chunk; return -1, or the byte offset of invalid UTF-8 under the strict policy.
    template <class Sink>
    static std::int64_t embedcore_feed(Sink& sink, const char* buf, std::size_t n, bool last) {
        try {
            sink.feed(buf, n, last);
            return -1;
        } catch (const embedcore::text::Utf8Error& e) {
            return e.offset;
        }
    }
    """
    int64_t feed_counter "embedcore_feed<embedcore::text::VocabCounter>" (
        VocabCounter& sink, const char* buf, size_t n, bool last) except + nogil
    int64_t feed_encoder "embedcore_feed<embedcore::text::Encoder>" (
        Encoder& sink, const char* buf, size_t n, bool last) except + nogil


cdef extern from "embedcore/sgns.hpp" namespace "embedcore::sgns" nogil:
    cdef cppclass W2VConfig "embedcore::sgns::Config":
        int dim
        int window
        int negative
        bool skip_gram
        bool cbow_mean
        bool shared
        int cbow_batch
        float alpha
        float min_alpha
        int64_t total_words

    cdef cppclass W2VData "embedcore::sgns::Data":
        float* input
        float* output
        int64_t vocab_size
        const uint64_t* keep
        const uint32_t* noise_prob
        const int32_t* noise_alias
        const int32_t* ids
        const int64_t* offsets
        int64_t n_sentences

    void w2v_build_noise_table "embedcore::sgns::build_noise_table" (
        const int64_t* counts, int64_t n, double power, uint32_t* prob, int32_t* alias) except +
    void w2v_build_keep_table "embedcore::sgns::build_keep_table" (
        const int64_t* counts, int64_t n, double sample, int64_t total, uint64_t* keep) except +
    const char* w2v_train_chunk "embedcore::sgns::train_chunk" (
        const W2VConfig& cfg, const W2VData& d, const int64_t* starts, const int64_t* ends, int threads,
        uint64_t* rng_states, int64_t* words_done, double* loss, const string& prefer) except +
    double w2v_single_step "embedcore::sgns::single_step" (
        float* input, float* output, int dim, bool skip_gram, bool shared, bool mean, int32_t centre,
        const int32_t* ctx, int m, const int32_t* negs, int K, float alpha) except +
    uint64_t w2v_stream_state "embedcore::stream_state" (uint64_t seed, uint64_t stream)
