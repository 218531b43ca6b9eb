# distutils: language = c++
"""GloVe: one in-place AdaGrad epoch over shuffled co-occurrence records, and the records of a
CSR matrix (csrc/embedcore/glove.hpp). The arrays an epoch updates are used as given or refused
(embedcore._sgd._arrays.inplace); the kernel checks the records and the CSR it reads."""
from libc.stdint cimport int32_t, int64_t, uint64_t
from libcpp.string cimport string

import numpy as np

from embedcore._sgd.glove cimport Isa, Params, Record, epoch, isa_name, prepare_records, select_isa
from embedcore._sgd._arrays import inplace


def glove_train_epoch(word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                      word_bias_gradsq, context_bias_gradsq, const int32_t[:, ::1] records,
                      float learning_rate, float bias_learning_rate, int threads, str simd=""):
    """Run one epoch in place; returns (sum of 0.5 f(x) diff**2, SIMD level used).

    `records` is an (n, 4) int32 view of records (row, col, log x as float32, f(x) as float32).
    The eight parameter arrays are float32, C-contiguous and writeable (else TypeError or
    ValueError, never a silent copy): the vectors and their AdaGrad accumulators
    (n_words, stride) with stride a multiple of 16, the biases (n_words,). `simd` forces a level
    ("" for the best this CPU runs; an unknown or unsupported level raises ValueError). A cost that
    is not finite means the run diverged.
    """
    cdef float[:, ::1] w = inplace(word, "word", np.float32, 2)
    cdef int64_t n_words = w.shape[0]
    cdef int64_t stride = w.shape[1]
    cdef float[:, ::1] c = inplace(context, "context", np.float32, 2)
    cdef float[:, ::1] gw = inplace(word_gradsq, "word_gradsq", np.float32, 2)
    cdef float[:, ::1] gc = inplace(context_gradsq, "context_gradsq", np.float32, 2)
    cdef float[::1] bw = inplace(word_bias, "word_bias", np.float32, 1)
    cdef float[::1] bc = inplace(context_bias, "context_bias", np.float32, 1)
    cdef float[::1] gbw = inplace(word_bias_gradsq, "word_bias_gradsq", np.float32, 1)
    cdef float[::1] gbc = inplace(context_bias_gradsq, "context_bias_gradsq", np.float32, 1)
    for name, arr in (("context", c), ("word_gradsq", gw), ("context_gradsq", gc)):
        if arr.shape[0] != n_words or arr.shape[1] != stride:
            raise ValueError(f"{name} must have the shape of word ({n_words}, {stride}), "
                             f"got ({arr.shape[0]}, {arr.shape[1]})")
    for name, vec in (("word_bias", bw), ("context_bias", bc), ("word_bias_gradsq", gbw),
                      ("context_bias_gradsq", gbc)):
        if vec.shape[0] != n_words:
            raise ValueError(f"{name} must have {n_words} entries, got {vec.shape[0]}")
    if records.shape[1] != 4:
        raise ValueError(f"records must have 4 columns, got {records.shape[1]}")
    cdef string level = simd.encode()
    cdef Isa chosen = Isa.Baseline
    cdef double cost = 0.0
    cdef Params p
    cdef const Record* rec
    cdef int64_t n = records.shape[0]
    if n_words == 0 or n == 0:
        return 0.0, isa_name(select_isa(level)).decode()  # nothing to train; the level is still checked
    p.word = &w[0, 0]
    p.context = &c[0, 0]
    p.word_bias = &bw[0]
    p.context_bias = &bc[0]
    p.word_gradsq = &gw[0, 0]
    p.context_gradsq = &gc[0, 0]
    p.word_bias_gradsq = &gbw[0]
    p.context_bias_gradsq = &gbc[0]
    p.n_words = n_words
    p.stride = stride
    rec = <const Record*>&records[0, 0]
    with nogil:
        cost = epoch(p, rec, n, learning_rate, bias_learning_rate, threads, level, &chosen)
    return cost, isa_name(chosen).decode()


def glove_records(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data, int64_t n_cols,
                  float x_max, float alpha, uint64_t seed, out, int threads):
    """Fill `out` ((nnz, 4) int32 view of records, written in place) with the CSR matrix's nonzeros
    (all > 0) as (row, col, log x, f(x)) in a seeded uniformly random order. The kernel checks the
    CSR (indptr from 0 to nnz, never decreasing; columns in range) before writing any record."""
    cdef int32_t[:, ::1] o = inplace(out, "out", np.int32, 2)
    cdef int64_t n_rows = indptr.shape[0] - 1
    cdef int64_t nnz = indices.shape[0]
    if n_rows < 0 or data.shape[0] != nnz or o.shape[0] != nnz or o.shape[1] != 4:
        raise ValueError("glove_records: indptr, indices, data and out do not describe one matrix")
    if nnz == 0:
        return
    with nogil:
        prepare_records(&indptr[0], &indices[0], &data[0], n_rows, n_cols, x_max, alpha, seed,
                        <Record*>&o[0, 0], nnz, threads)
