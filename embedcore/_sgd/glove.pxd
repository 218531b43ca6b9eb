# Declarations of the GloVe kernel (csrc/embedcore/glove.hpp) for embedcore/_sgd/_glove.pyx.
from libc.stdint cimport int32_t, int64_t, uint64_t
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

    void prepare_records "embedcore::glove::prepare_records<float>" (
        const int64_t* indptr, const int32_t* indices, const float* data, int64_t n_rows, int64_t n_cols,
        float x_max, float alpha, uint64_t seed, Record* out, int64_t nnz, int threads) except +

    Isa select_isa(const string& forced) except +
    double epoch(const Params& p, const Record* records, int64_t n, float eta, float bias_eta, int threads,
                 const string& level, Isa* chosen) except +
