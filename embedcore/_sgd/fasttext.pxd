# Declarations of the fastText subword kernel (csrc/embedcore/fasttext.hpp) for
# embedcore/_sgd/_fasttext.pyx.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp cimport bool
from libcpp.string cimport string
from libcpp.vector cimport vector

from embedcore._sgd.word2vec cimport Config, Data as WordData


cdef extern from "embedcore/fasttext.hpp" namespace "embedcore::fasttext" nogil:
    cdef cppclass Data "embedcore::fasttext::Data":
        WordData words
        int64_t n_input_rows
        const int64_t* sub_indptr
        const int32_t* sub_rows

    uint32_t hash(const char* s, size_t n)
    void initial_rows(float* x, int64_t rows, int dim, uint64_t seed, int threads) except +
    void subword_rows(const char* blob, const int64_t* offsets, int64_t n, int min_n, int max_n, int64_t bucket,
                      int64_t row_base, bool include_self, int64_t self_base, int64_t* indptr,
                      vector[int32_t]& rows) except +
    double single_step(float* inp, float* out, int dim, const int32_t* rows, int n_rows, const int32_t* targets,
                       const float* weights, int n_targets, int n_pos, float alpha) except +
    const char* train_chunk(const Config& cfg, const Data& d, const int64_t* starts, const int64_t* ends,
                            int threads, uint64_t* rng_states, int64_t* words_done, double* loss,
                            const string& level) except +
