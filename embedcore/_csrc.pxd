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


cdef extern from *:
    """
    #include "embedcore/glove.hpp"
    // One GloVe epoch; *level receives the instruction set used (0 scalar, 1 avx2, 2 avx512).
    static double embedcore_glove_epoch(const embedcore::glove::Params& p, const void* records,
                                        std::int64_t n, float eta, float bias_eta, int threads,
                                        const char* simd, int* level) {
        std::string chosen;
        const double cost = embedcore::glove::epoch(
            p, static_cast<const embedcore::glove::Record*>(records), n, eta, bias_eta, threads, simd, &chosen);
        *level = chosen == "avx512" ? 2 : chosen == "avx2" ? 1 : 0;
        return cost;
    }
    static void embedcore_glove_records(const std::int64_t* indptr, const std::int32_t* indices,
                                        const float* data, std::int64_t n_rows, std::int64_t n_cols,
                                        float x_max, float alpha, std::uint64_t seed, void* out,
                                        std::int64_t nnz, int threads) {
        embedcore::glove::prepare_records<float>(indptr, indices, data, n_rows, n_cols, x_max, alpha, seed,
                                                 static_cast<embedcore::glove::Record*>(out), nnz, threads);
    }
    """
    cdef cppclass GloveParams "embedcore::glove::Params":
        float* word
        float* context
        float* word_bias
        float* context_bias
        float* word_gradsq
        float* context_gradsq
        float* word_bias_gradsq
        float* context_bias_gradsq
        int64_t n_words
        int64_t stride

    void glove_prepare_records "embedcore_glove_records" (
        const int64_t* indptr, const int32_t* indices, const float* data, int64_t n_rows, int64_t n_cols,
        float x_max, float alpha, uint64_t seed, void* out, int64_t nnz, int threads) except + nogil

    double glove_epoch "embedcore_glove_epoch" (const GloveParams& p, const void* records, int64_t n,
                                                  float eta, float bias_eta, int threads,
                                                  const char* simd, int* level) except + nogil
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
