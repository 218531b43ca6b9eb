# distutils: language = c++
"""GloVe (csrc/embedcore/glove.hpp): the check of a CSR matrix of counts, the seeded shuffled
order of its positive counts, one in-place AdaGrad epoch over the counts in that order (the CPU's
training), and the records of the counts in that order (what the GPU trains on). The arrays an
epoch updates are used as given or refused (embedcore._sgd._arrays.inplace); the kernel checks
the CSR it reads."""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.string cimport string

import numpy as np

from embedcore._sgd.glove cimport (Counts, Isa, Params, Record, check_counts, epoch, epoch_csr32, epoch_csr64,
                                   gather_records32, gather_records64, isa_name, select_isa, shuffle_order32,
                                   shuffle_order64)
from embedcore._sgd._arrays import inplace


cdef Params _params(word, context, word_bias, context_bias, word_gradsq, context_gradsq, word_bias_gradsq,
                    context_bias_gradsq) except *:
    """The eight parameter arrays as the kernel's Params, checked (see glove_train_epoch)."""
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
    cdef Params p
    p.n_words = n_words
    p.stride = stride
    if n_words == 0 or stride == 0:
        return p
    p.word = &w[0, 0]
    p.context = &c[0, 0]
    p.word_bias = &bw[0]
    p.context_bias = &bc[0]
    p.word_gradsq = &gw[0, 0]
    p.context_gradsq = &gc[0, 0]
    p.word_bias_gradsq = &gbw[0]
    p.context_bias_gradsq = &gbc[0]
    return p


cdef Counts _counts(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data, int64_t n_cols,
                    int64_t row_offset=0) except *:
    """A CSR matrix's arrays as the kernel's Counts (the kernel checks what they hold)."""
    cdef Counts m
    if indptr.shape[0] < 1 or data.shape[0] != indices.shape[0] or n_cols < 0 or row_offset < 0:
        raise ValueError("indptr, indices and data do not describe one CSR matrix")
    if indptr[0] != 0 or indptr[indptr.shape[0] - 1] != indices.shape[0]:
        raise ValueError(f"indptr must run from 0 to nnz ({indices.shape[0]}), got {indptr[0]} to "
                         f"{indptr[indptr.shape[0] - 1]}")
    m.indptr = &indptr[0]
    m.indices = &indices[0] if indices.shape[0] else NULL
    m.data = &data[0] if data.shape[0] else NULL
    m.n_rows = indptr.shape[0] - 1
    m.n_cols = n_cols
    m.row_offset = row_offset
    return m


def glove_check_counts(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data,
                       int64_t n_cols):
    """``(positive, bad)``: the number of counts > 0 (the nonzeros GloVe trains on) and the
    position of the first count that is negative, NaN or infinite (-1 when none is), after the
    CSR structure is checked (ValueError: indptr not from 0 to nnz or decreasing, columns out of
    range)."""
    cdef Counts m = _counts(indptr, indices, data, n_cols)
    cdef int64_t positive = 0
    cdef int64_t bad
    with nogil:
        bad = check_counts(m, &positive)
    return (positive if bad < 0 else -1), bad


def glove_order(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data, int64_t n_cols,
                uint64_t seed, out, int threads):
    """Fill `out` (uint32, or uint64 past 2**32 nonzeros; as many entries as the matrix has
    positive counts) with the positions of the positive counts in a seeded uniformly random order,
    the same for a seed whatever `threads`."""
    cdef Counts m = _counts(indptr, indices, data, n_cols)
    cdef uint32_t[::1] o32
    cdef uint64_t[::1] o64
    cdef int64_t n = len(out)
    if isinstance(out, np.ndarray) and out.dtype == np.uint64:
        o64 = inplace(out, "out", np.uint64, 1)
        with nogil:
            shuffle_order64(m, n, seed, &o64[0] if n else NULL, threads)
    else:
        o32 = inplace(out, "out", np.uint32, 1)
        with nogil:
            shuffle_order32(m, n, seed, &o32[0] if n else NULL, threads)


def glove_records(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data, int64_t n_cols,
                  order, float x_max, float alpha, out, int threads):
    """Fill `out` ((len(order), 4) int32 view of records, written in place) with the records
    (row, col, log x, f(x)) of the counts at the positions `order` (uint32 or uint64), in order."""
    cdef Counts m = _counts(indptr, indices, data, n_cols)
    cdef int32_t[:, ::1] o = inplace(out, "out", np.int32, 2)
    cdef const uint32_t[::1] k32
    cdef const uint64_t[::1] k64
    cdef int64_t n = len(order)
    if o.shape[0] != n or o.shape[1] != 4:
        raise ValueError(f"out must have shape ({n}, 4), got ({o.shape[0]}, {o.shape[1]})")
    if n == 0:
        return
    if order.dtype == np.uint64:
        k64 = order
        with nogil:
            gather_records64(m, &k64[0], n, x_max, alpha, <Record*>&o[0, 0], threads)
    else:
        k32 = order
        with nogil:
            gather_records32(m, &k32[0], n, x_max, alpha, <Record*>&o[0, 0], threads)


def glove_train_epoch(word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                      word_bias_gradsq, context_bias_gradsq, const int32_t[:, ::1] records,
                      float learning_rate, float bias_learning_rate, int threads, str simd=""):
    """Run one epoch in place over records; returns (sum of 0.5 f(x) diff**2, SIMD level used).

    `records` is an (n, 4) int32 view of records (row, col, log x as float32, f(x) as float32).
    The eight parameter arrays are float32, C-contiguous and writeable (else TypeError or
    ValueError, never a silent copy): the vectors and their AdaGrad accumulators
    (n_words, stride) with stride a multiple of 16, the biases (n_words,). `simd` forces a level
    ("" for the best this CPU runs; an unknown or unsupported level raises ValueError). A cost that
    is not finite means the run diverged.
    """
    cdef Params p = _params(word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                            word_bias_gradsq, context_bias_gradsq)
    if records.shape[1] != 4:
        raise ValueError(f"records must have 4 columns, got {records.shape[1]}")
    cdef string level = simd.encode()
    cdef Isa chosen = Isa.Baseline
    cdef double cost = 0.0
    cdef int64_t n = records.shape[0]
    if p.n_words == 0 or n == 0:
        return 0.0, isa_name(select_isa(level)).decode()  # nothing to train; the level is still checked
    cdef const Record* rec = <const Record*>&records[0, 0]
    with nogil:
        cost = epoch(p, rec, n, learning_rate, bias_learning_rate, threads, level, &chosen)
    return cost, isa_name(chosen).decode()


def glove_train_csr_epoch(word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                          word_bias_gradsq, context_bias_gradsq, const int64_t[::1] indptr,
                          const int32_t[::1] indices, const float[::1] data, int64_t n_cols, int64_t row_offset,
                          order, float x_max, float alpha, float learning_rate, float bias_learning_rate,
                          int threads, str simd=""):
    """Run one epoch in place over the counts of a CSR matrix (the model's rows ``row_offset ..``)
    at the positions `order` (uint32 or uint64, from glove_order), in that order; returns (sum of
    0.5 f(x) diff**2, SIMD level used). The steps are glove_train_epoch's on the records
    glove_records gives for the same order. Parameters as in glove_train_epoch."""
    cdef Params p = _params(word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                            word_bias_gradsq, context_bias_gradsq)
    cdef Counts m = _counts(indptr, indices, data, n_cols, row_offset)
    cdef string level = simd.encode()
    cdef Isa chosen = Isa.Baseline
    cdef double cost = 0.0
    cdef const uint32_t[::1] k32
    cdef const uint64_t[::1] k64
    cdef int64_t n = len(order)
    if p.n_words == 0 or n == 0:
        return 0.0, isa_name(select_isa(level)).decode()
    if order.dtype == np.uint64:
        k64 = order
        with nogil:
            cost = epoch_csr64(p, m, &k64[0], n, x_max, alpha, learning_rate, bias_learning_rate, threads, level,
                               &chosen)
    else:
        k32 = order
        with nogil:
            cost = epoch_csr32(p, m, &k32[0], n, x_max, alpha, learning_rate, bias_learning_rate, threads, level,
                               &chosen)
    return cost, isa_name(chosen).decode()
