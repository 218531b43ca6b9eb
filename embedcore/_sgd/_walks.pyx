# distutils: language = c++
"""Random walks (DeepWalk / node2vec) and skip-gram trained on them (csrc/embedcore/walks.hpp).

The Python layer (embedcore/graph.py, embedcore/node2vec.py) validates the graph once (a sound
CSR with sorted rows and positive weights); these functions check the shapes and spans that
would otherwise reach memory unchecked, refuse in-place arrays they would have to copy
(embedcore._sgd._arrays.inplace), and the kernel checks every start node.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libcpp.string cimport string

import numpy as np

from embedcore._sgd.walks cimport (Adjacency, Bias, Graph, build_alias, count_edges, count_visits, fill_edges,
                                   generate, train)
from embedcore._sgd.word2vec cimport Config, Data
from embedcore._sgd._arrays import inplace


cdef Graph _graph(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] weights,
                  const uint32_t[::1] alias_prob, const int32_t[::1] alias_index) except *:
    cdef Graph g
    cdef int64_t n_edges = indices.shape[0]
    if indptr.shape[0] < 2:
        raise ValueError("indptr must have n_nodes + 1 >= 2 entries")
    if indptr[0] != 0 or indptr[indptr.shape[0] - 1] != n_edges:
        raise ValueError("indptr must run from 0 to len(indices)")
    if weights is not None and weights.shape[0] != n_edges:
        raise ValueError("weights must have one entry per edge")
    if (alias_prob is None) != (alias_index is None) or (alias_prob is not None and weights is None):
        raise ValueError("alias_prob and alias_index come together, with weights")
    if alias_prob is not None and (alias_prob.shape[0] != n_edges or alias_index.shape[0] != n_edges):
        raise ValueError("alias tables must have one entry per edge")
    g.indptr = &indptr[0]
    g.indices = &indices[0] if n_edges else NULL
    g.weights = &weights[0] if weights is not None and n_edges else NULL
    g.alias_prob = &alias_prob[0] if alias_prob is not None and n_edges else NULL
    g.alias_index = &alias_index[0] if alias_index is not None and n_edges else NULL
    g.n_nodes = indptr.shape[0] - 1
    return g


cdef Bias _bias(double p, double q, int max_trials) except *:
    cdef Bias b
    if not (p > 0 and q > 0):
        raise ValueError(f"p and q must be > 0, got p={p}, q={q}")
    b.inv_p = 1.0 / p
    b.inv_q = 1.0 / q
    b.max_trials = max_trials
    return b


def walks_csr(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data, bint undirected,
              bint with_weights, int threads, int64_t max_edges=2 ** 31 - 1):
    """The walk graph of a canonical CSR adjacency (sorted rows, no duplicates, values >= 0):
    (indptr int64, indices int32, weights float32 or None), rows sorted, zero entries dropped;
    `undirected` stores every edge both ways with the larger of its two weights. Built in two
    passes straight into the exactly sized output (scratch: a byte per input entry). ValueError
    when it would hold more than `max_edges` edges."""
    cdef Adjacency a
    cdef int64_t n = indptr.shape[0] - 1
    cdef int64_t nnz = indices.shape[0]
    if n < 1 or indptr[0] != 0 or indptr[n] != nnz or data.shape[0] != nnz:
        raise ValueError("indptr must run from 0 to len(indices) = len(data) over at least one row")
    a.indptr = &indptr[0]
    a.indices = &indices[0] if nnz else NULL
    a.data = &data[0] if nnz else NULL
    a.n = n
    out_indptr = np.empty(n + 1, dtype=np.int64)
    kind = np.empty(max(nnz, 1), dtype=np.uint8)
    cdef int64_t[::1] op = out_indptr
    cdef uint8_t[::1] kv = kind
    cdef int64_t total
    with nogil:
        total = count_edges(a, undirected, &kv[0], &op[0], threads)
    if total > max_edges:
        raise ValueError(f"the graph has {total} stored edges; at most {max_edges} are supported")
    out_indices = np.empty(total, dtype=np.int32)
    out_weights = np.empty(total, dtype=np.float32) if with_weights else None
    cdef int32_t[::1] oi = out_indices
    cdef float[::1] ow
    cdef float* weights_ptr = NULL
    if with_weights and total:
        ow = out_weights
        weights_ptr = &ow[0]
    if total:
        with nogil:
            fill_edges(a, undirected, &kv[0], &op[0], &oi[0], weights_ptr, threads)
    return out_indptr, out_indices, out_weights


def walks_alias(const int64_t[::1] indptr, const float[::1] weights, int threads):
    """The per-row alias tables (prob uint32, alias int32, one entry per edge) of a weighted CSR."""
    cdef int64_t n_edges = weights.shape[0]
    prob = np.empty(n_edges, dtype=np.uint32)
    alias = np.empty(n_edges, dtype=np.int32)
    cdef uint32_t[::1] pv = prob
    cdef int32_t[::1] av = alias
    if indptr.shape[0] < 2 or indptr[0] != 0 or indptr[indptr.shape[0] - 1] != n_edges:
        raise ValueError("indptr must run from 0 to len(weights)")
    if n_edges:
        with nogil:
            build_alias(&indptr[0], &weights[0], indptr.shape[0] - 1, &pv[0], &av[0], threads)
    return prob, alias


def walks_generate(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] weights,
                   const uint32_t[::1] alias_prob, const int32_t[::1] alias_index, const int32_t[::1] starts,
                   int walk_length, double p, double q, uint64_t seed, uint64_t first_index, int threads,
                   int max_trials=16):
    """Walks from each start node: (walks int32 (n, walk_length), lengths int32 (n,)); the
    entries of walk i past lengths[i] are undefined. Walk i uses the stream (seed, first_index + i)."""
    cdef Graph g = _graph(indptr, indices, weights, alias_prob, alias_index)
    cdef Bias b = _bias(p, q, max_trials)
    cdef int64_t n = starts.shape[0]
    if walk_length < 1:
        raise ValueError(f"walk_length must be >= 1, got {walk_length}")
    walks = np.zeros((n, walk_length), dtype=np.int32)
    lengths = np.zeros(n, dtype=np.int32)
    cdef int32_t[:, ::1] w = walks
    cdef int32_t[::1] lv = lengths
    if n:
        with nogil:
            generate(g, b, &starts[0], n, walk_length, seed, first_index, &w[0, 0], &lv[0], threads)
    return walks, lengths


def walks_count_visits(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] weights,
                       const uint32_t[::1] alias_prob, const int32_t[::1] alias_index,
                       const int32_t[::1] starts, int walk_length, double p, double q, uint64_t seed,
                       uint64_t first_index, int threads, int max_trials=16):
    """Visits of each node (int64, n_nodes) by the walks `walks_generate` would return."""
    cdef Graph g = _graph(indptr, indices, weights, alias_prob, alias_index)
    cdef Bias b = _bias(p, q, max_trials)
    cdef int64_t n = starts.shape[0]
    if walk_length < 1:
        raise ValueError(f"walk_length must be >= 1, got {walk_length}")
    counts = np.zeros(g.n_nodes, dtype=np.int64)
    cdef int64_t[::1] cv = counts
    if n:
        with nogil:
            count_visits(g, b, &starts[0], n, walk_length, seed, first_index, &cv[0], threads)
    return counts


def walks_train_chunk(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] weights,
                      const uint32_t[::1] alias_prob, const int32_t[::1] alias_index,
                      const int32_t[::1] starts, int walk_length, double p, double q, uint64_t seed,
                      uint64_t first_index, input_vectors, output_vectors, const uint64_t[::1] keep,
                      const uint32_t[::1] noise_prob, const int32_t[::1] noise_alias, int window, int negative,
                      float alpha, float min_alpha, int64_t total_words, int64_t words_done, train_states, loss,
                      saved=None, saved_lengths=None, int max_trials=16, bint shared=True, str simd=""):
    """Generate the walks from `starts` (as `walks_generate`) and train skip-gram on them (with
    the negatives of a centre word shared by its contexts, or word2vec.c's per-pair negatives
    when not `shared`), in place on input_vectors / output_vectors (float32 (n_nodes, dim)).

    Thread t (one per entry of train_states, uint64, and loss, float64; both updated in place)
    takes the t-th contiguous part of `starts`. Returns (words_done, SIMD level used): the nodes
    trained so far in the run, for the learning-rate decay over `total_words`. `saved` (int32
    (len(starts), walk_length)) and `saved_lengths` (int32 (len(starts),)), when given, receive
    the walks."""
    cdef Graph g = _graph(indptr, indices, weights, alias_prob, alias_index)
    cdef Bias b = _bias(p, q, max_trials)
    cdef float[:, ::1] inp = inplace(input_vectors, "input_vectors", np.float32, 2)
    cdef float[:, ::1] out = inplace(output_vectors, "output_vectors", np.float32, 2)
    cdef uint64_t[::1] states = inplace(train_states, "train_states", np.uint64, 1)
    cdef double[::1] losses = inplace(loss, "loss", np.float64, 1)
    cdef int32_t[:, ::1] sv
    cdef int32_t[::1] sl
    cdef int32_t* saved_ptr = NULL
    cdef int32_t* saved_len_ptr = NULL
    cdef int threads = states.shape[0]
    cdef int64_t n = starts.shape[0]
    cdef int64_t vocab = inp.shape[0]
    cdef string level = simd.encode()
    cdef const char* name
    cdef Config cfg
    cdef Data d
    if walk_length < 1:
        raise ValueError(f"walk_length must be >= 1, got {walk_length}")
    if (vocab != g.n_nodes or out.shape[0] != vocab or out.shape[1] != inp.shape[1] or keep.shape[0] != vocab
            or noise_prob.shape[0] != vocab or noise_alias.shape[0] != vocab):
        raise ValueError("the matrices and tables must all have one row per node")
    if inp.shape[1] < 1:
        raise ValueError("input_vectors must have at least one column")
    if threads < 1 or losses.shape[0] != threads:
        raise ValueError("train_states and loss must have one entry per thread (at least one)")
    if (saved is None) != (saved_lengths is None):
        raise ValueError("saved and saved_lengths come together")
    if saved is not None:
        sv = inplace(saved, "saved", np.int32, 2)
        sl = inplace(saved_lengths, "saved_lengths", np.int32, 1)
        if sv.shape[0] != n or sv.shape[1] != walk_length or sl.shape[0] != n:
            raise ValueError(f"saved must have shape ({n}, {walk_length}) and saved_lengths ({n},)")
        if n:
            saved_ptr = &sv[0, 0]
            saved_len_ptr = &sl[0]
    if n == 0:
        return words_done, ""
    cfg.dim = inp.shape[1]
    cfg.window = window
    cfg.negative = negative
    cfg.skip_gram = True
    cfg.cbow_mean = True
    cfg.shared = shared
    cfg.cbow_batch = 1
    cfg.alpha = alpha
    cfg.min_alpha = min_alpha
    cfg.total_words = total_words
    d.input = &inp[0, 0]
    d.output = &out[0, 0]
    d.vocab_size = vocab
    d.keep = &keep[0]
    d.noise_prob = &noise_prob[0]
    d.noise_alias = &noise_alias[0]
    with nogil:
        name = train(g, b, &starts[0], n, walk_length, seed, first_index, cfg, d, threads, &states[0],
                     &words_done, &losses[0], saved_ptr, saved_len_ptr, level)
    return words_done, name.decode()
