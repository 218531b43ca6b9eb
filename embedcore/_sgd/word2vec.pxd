# Declarations of the word2vec kernel (csrc/embedcore/sgns.hpp) for embedcore/_sgd/_word2vec.pyx.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp cimport bool
from libcpp.string cimport string


cdef extern from "embedcore/sgns.hpp" namespace "embedcore::sgns" nogil:
    cdef cppclass Config "embedcore::sgns::Config":
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

    cdef cppclass Data "embedcore::sgns::Data":
        float* input
        float* output
        int64_t vocab_size
        const uint64_t* keep
        const uint32_t* noise_prob
        const int32_t* noise_alias
        const int32_t* ids
        const int64_t* offsets
        int64_t n_sentences

    void build_noise_table(const int64_t* counts, int64_t n, double power, uint32_t* prob,
                           int32_t* alias) except +
    void build_keep_table(const int64_t* counts, int64_t n, double sample, int64_t total,
                          uint64_t* keep) except +
    const char* train_chunk(const Config& cfg, const Data& d, const int64_t* starts, const int64_t* ends,
                            int threads, uint64_t* rng_states, int64_t* words_done, double* loss,
                            const string& level) except +
    double single_step(float* input, float* output, int dim, bool skip_gram, bool shared, bool mean,
                       int32_t centre, const int32_t* ctx, int m, const int32_t* negs, int K,
                       float alpha, const string& level) except +


cdef extern from "embedcore/random.hpp" namespace "embedcore" nogil:
    uint64_t stream_state(uint64_t seed, uint64_t stream)
