# Declarations of the random-walk kernel (csrc/embedcore/walks.hpp) for embedcore/_sgd/_walks.pyx.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libcpp cimport bool
from libcpp.string cimport string

from embedcore._sgd.word2vec cimport Config, Data


cdef extern from "embedcore/walks.hpp" namespace "embedcore::walks" nogil:
    cdef cppclass Graph "embedcore::walks::Graph":
        const int64_t* indptr
        const int32_t* indices
        const float* weights
        const uint32_t* alias_prob
        const int32_t* alias_index
        int64_t n_nodes

    cdef cppclass Bias "embedcore::walks::Bias":
        double inv_p
        double inv_q
        int max_trials

    void build_alias(const int64_t* indptr, const float* weights, int64_t n_nodes, uint32_t* prob,
                     int32_t* alias, int threads) except +
    void generate(const Graph& g, const Bias& b, const int32_t* starts, int64_t n, int length, uint64_t seed,
                  uint64_t first_index, int32_t* out, int32_t* lengths, int threads) except +
    void count_visits(const Graph& g, const Bias& b, const int32_t* starts, int64_t n, int length,
                      uint64_t seed, uint64_t first_index, int64_t* counts, int threads) except +
    const char* train(const Graph& g, const Bias& b, const int32_t* starts, int64_t n, int length, uint64_t seed,
                      uint64_t first_index, const Config& cfg, const Data& d, int threads,
                      uint64_t* train_states, int64_t* words_done, double* loss, int32_t* saved,
                      int32_t* saved_lengths, const string& level) except +


cdef extern from "embedcore/graph.hpp" namespace "embedcore::graph" nogil:
    cdef cppclass Adjacency "embedcore::graph::Adjacency":
        const int64_t* indptr
        const int32_t* indices
        const float* data
        int64_t n

    int64_t count_edges(const Adjacency& a, bool undirected, uint8_t* kind, int64_t* indptr, int threads) except +
    void fill_edges(const Adjacency& a, bool undirected, const uint8_t* kind, const int64_t* indptr,
                    int32_t* indices, float* weights, int threads) except +
