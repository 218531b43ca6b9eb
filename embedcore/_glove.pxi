# GloVe: one in-place AdaGrad epoch over shuffled co-occurrence records (csrc/embedcore/glove.hpp).
from libc.stdint cimport uint64_t
from embedcore._csrc cimport GloveParams, glove_epoch, glove_prepare_records

_GLOVE_SIMD = ("scalar", "avx2", "avx512")


def glove_train_epoch(float[:, ::1] word, float[:, ::1] context, float[::1] word_bias,
                      float[::1] context_bias, float[:, ::1] word_gradsq, float[:, ::1] context_gradsq,
                      float[::1] word_bias_gradsq, float[::1] context_bias_gradsq,
                      const int32_t[:, ::1] records, float learning_rate, float bias_learning_rate, int threads,
                      str simd=""):
    """Run one epoch in place; returns (sum of 0.5 f(x) diff**2, instruction set used).

    `records` is an (n, 4) int32 view of records (row, col, log x as float32, f(x) as float32).
    The eight parameter arrays are float32, C-contiguous and writable: the vectors and their
    AdaGrad accumulators (n_words, stride) with stride a multiple of 16, the biases (n_words,).
    """
    cdef int64_t n_words = word.shape[0]
    cdef int64_t stride = word.shape[1]
    for name, arr in (("context", context), ("word_gradsq", word_gradsq), ("context_gradsq", context_gradsq)):
        if arr.shape[0] != n_words or arr.shape[1] != stride:
            raise ValueError(f"{name} must have the shape of word ({n_words}, {stride}), "
                             f"got ({arr.shape[0]}, {arr.shape[1]})")
    for name, vec in (("word_bias", word_bias), ("context_bias", context_bias),
                      ("word_bias_gradsq", word_bias_gradsq), ("context_bias_gradsq", context_bias_gradsq)):
        if vec.shape[0] != n_words:
            raise ValueError(f"{name} must have {n_words} entries, got {vec.shape[0]}")
    if records.shape[1] != 4:
        raise ValueError(f"records must have 4 columns, got {records.shape[1]}")
    if n_words == 0 or records.shape[0] == 0:
        return 0.0, simd or "scalar"
    cdef GloveParams p
    p.word = &word[0, 0]
    p.context = &context[0, 0]
    p.word_bias = &word_bias[0]
    p.context_bias = &context_bias[0]
    p.word_gradsq = &word_gradsq[0, 0]
    p.context_gradsq = &context_gradsq[0, 0]
    p.word_bias_gradsq = &word_bias_gradsq[0]
    p.context_bias_gradsq = &context_bias_gradsq[0]
    p.n_words = n_words
    p.stride = stride
    cdef bytes simd_b = simd.encode()
    cdef const char* simd_c = simd_b
    cdef const void* rec = &records[0, 0]
    cdef int64_t n = records.shape[0]
    cdef int level = 0
    cdef double cost
    with nogil:
        cost = glove_epoch(p, rec, n, learning_rate, bias_learning_rate, threads, simd_c, &level)
    return cost, _GLOVE_SIMD[level]


def glove_records(const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] data, int64_t n_cols,
                  float x_max, float alpha, uint64_t seed, int32_t[:, ::1] out, int threads):
    """Fill `out` ((nnz, 4) int32 view of records) with the CSR matrix's nonzeros (all > 0) as
    (row, col, log x, f(x)) in a seeded uniformly random order."""
    cdef int64_t n_rows = indptr.shape[0] - 1
    cdef int64_t nnz = indices.shape[0]
    if n_rows < 0 or data.shape[0] != nnz or out.shape[0] != nnz or out.shape[1] != 4:
        raise ValueError("glove_records: indptr, indices, data and out do not describe one matrix")
    if nnz == 0:
        return
    with nogil:
        glove_prepare_records(&indptr[0], &indices[0], &data[0], n_rows, n_cols, x_max, alpha, seed,
                              <void*>&out[0, 0], nnz, threads)
