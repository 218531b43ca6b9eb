# Declarations of the GloVe kernel (csrc/embedcore/glove.hpp) for embedcore/_sgd/_glove.pyx.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.string cimport string


cdef extern from "embedcore/simd.hpp" namespace "embedcore::simd" nogil:
    cdef enum class Isa "embedcore::simd::Isa":
        Baseline
        Avx2
        Avx512
    const char* isa_name(Isa isa)


cdef extern from "embedcore/glove.hpp" namespace "embedcore::glove" nogil:
    cdef struct Record "embedcore::glove::Record":
        int32_t row
        int32_t col
        float log_x
        float weight

    cdef cppclass Params "embedcore::glove::Params":
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

    cdef cppclass Counts "embedcore::glove::Counts":
        const int64_t* indptr
        const int32_t* indices
        const float* data
        int64_t n_rows
        int64_t n_cols
        int64_t row_offset

    int64_t check_counts(const Counts& m, int64_t* positive) except +
    void shuffle_order32 "embedcore::glove::shuffle_order<uint32_t>" (
        const Counts& m, int64_t n, uint64_t seed, uint32_t* out, int threads) except +
    void shuffle_order64 "embedcore::glove::shuffle_order<uint64_t>" (
        const Counts& m, int64_t n, uint64_t seed, uint64_t* out, int threads) except +
    void gather_records32 "embedcore::glove::gather_records<uint32_t>" (
        const Counts& m, const uint32_t* order, int64_t n, float x_max, float alpha, Record* out, int threads) except +
    void gather_records64 "embedcore::glove::gather_records<uint64_t>" (
        const Counts& m, const uint64_t* order, int64_t n, float x_max, float alpha, Record* out, int threads) except +
    double epoch_csr32 "embedcore::glove::epoch_csr<uint32_t>" (
        const Params& p, const Counts& m, const uint32_t* order, int64_t n, float x_max, float alpha, float eta,
        float bias_eta, int threads, const string& level, Isa* chosen) except +
    double epoch_csr64 "embedcore::glove::epoch_csr<uint64_t>" (
        const Params& p, const Counts& m, const uint64_t* order, int64_t n, float x_max, float alpha, float eta,
        float bias_eta, int threads, const string& level, Isa* chosen) except +

    Isa select_isa(const string& forced) except +
    double epoch(const Params& p, const Record* records, int64_t n, float eta, float bias_eta, int threads,
                 const string& level, Isa* chosen) except +
