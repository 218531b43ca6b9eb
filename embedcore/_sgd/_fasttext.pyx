# distutils: language = c++
"""fastText's subword model: n-gram rows and training chunks (csrc/embedcore/fasttext.hpp).

The Python layer (embedcore/fasttext.py) validates everything; these functions check what would
otherwise reach memory unchecked (shapes, spans, row ids), refuse in-place arrays they would have
to copy (embedcore._sgd._arrays.inplace), and the kernel checks every corpus id it reads.
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.string cimport string
from libcpp.vector cimport vector

import numpy as np

from embedcore._sgd.fasttext cimport Data, hash, initial_rows, single_step, subword_rows, train_chunk
from embedcore._sgd.word2vec cimport Config
from embedcore._sgd._arrays import inplace


def fasttext_hash(bytes data):
    """fastText's 32-bit FNV-1a hash of `data` (bytes sign-extended from signed char)."""
    return int(hash(data, len(data)))


def fasttext_initial_vectors(int64_t rows, int dim, uint64_t seed, int threads=1):
    """A new float32 (rows, dim) array uniform in [-1/dim, 1/dim), the same for a seed whatever
    `threads` fills it."""
    if rows < 0 or dim < 1 or threads < 1:
        raise ValueError(f"need rows >= 0, dim >= 1 and threads >= 1, got {rows}, {dim}, {threads}")
    out = np.empty((rows, dim), dtype=np.float32)
    if rows == 0:
        return out
    cdef float[:, ::1] x = out
    with nogil:
        initial_rows(&x[0, 0], rows, dim, seed, threads)
    return out


def fasttext_subword_rows(words, int min_n, int max_n, int64_t bucket, int64_t row_base, bint include_self=True,
                          int64_t self_base=0):
    """The CSR (indptr int64, rows int32) of the input rows of `words` (a list of str): word i
    gets row self_base + i first when `include_self`, then row_base + hash % bucket for each of
    its n-grams (fastText's order; none for "</s>" or bucket 0)."""
    encoded = [w.encode("utf-8") for w in words]
    cdef bytes blob = b"".join(encoded)
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    if encoded:
        np.cumsum(np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    cdef int64_t[::1] off = offsets
    cdef int64_t n = len(encoded)
    indptr = np.empty(n + 1, dtype=np.int64)
    cdef int64_t[::1] ip = indptr
    cdef vector[int32_t] rows
    cdef const char* data = blob
    with nogil:
        subword_rows(data, &off[0], n, min_n, max_n, bucket, row_base, include_self, self_base, &ip[0], rows)
    out = np.empty(rows.size(), dtype=np.int32)
    cdef int32_t[::1] o = out
    cdef size_t i
    for i in range(rows.size()):
        o[i] = rows[i]
    return indptr, out


def fasttext_train_chunk(input_vectors, output_vectors, const int64_t[::1] sub_indptr, const int32_t[::1] sub_rows,
                         const uint64_t[::1] keep, const uint32_t[::1] noise_prob,
                         const int32_t[::1] noise_alias, const int32_t[::1] ids,
                         const int64_t[::1] offsets, const int64_t[::1] starts, const int64_t[::1] ends,
                         rng_states, loss, int64_t words_done, bint skip_gram, bint shared, int window,
                         int negative, float alpha, float min_alpha, int64_t total_words, str simd=""):
    """Train thread t on tokens [starts[t], ends[t]); returns (words_done, SIMD level used).

    input_vectors float32 (words + buckets, dim), output_vectors float32 (words, dim),
    rng_states (uint64) and loss (float64, one per thread) are updated in place, so they must be
    writeable C-contiguous arrays of exactly those dtypes (TypeError or ValueError otherwise).
    sub_indptr/sub_rows is the CSR of every word's input rows (fasttext_subword_rows); a row
    outside the input matrix raises ValueError, as does a corpus id outside [0, words).
    `shared`: skip-gram shares each centre word's noise words among its pairs (else K per pair).
    """
    cdef float[:, ::1] inp = inplace(input_vectors, "input_vectors", np.float32, 2)
    cdef float[:, ::1] out = inplace(output_vectors, "output_vectors", np.float32, 2)
    cdef uint64_t[::1] states = inplace(rng_states, "rng_states", np.uint64, 1)
    cdef double[::1] losses = inplace(loss, "loss", np.float64, 1)
    cdef Config cfg
    cdef Data d
    cdef int threads = starts.shape[0]
    cdef int64_t vocab = out.shape[0]
    cdef string level = simd.encode()
    cdef const char* name
    if (out.shape[1] != inp.shape[1] or inp.shape[0] < vocab or keep.shape[0] != vocab
            or noise_prob.shape[0] != vocab or noise_alias.shape[0] != vocab or sub_indptr.shape[0] != vocab + 1):
        raise ValueError("fastText tables must have one row per vocabulary word and input_vectors at least as many")
    if vocab < 1 or inp.shape[1] < 1:
        raise ValueError(f"output_vectors must have at least one row and one column, got ({vocab}, {out.shape[1]})")
    if sub_indptr[0] != 0 or sub_indptr[vocab] != sub_rows.shape[0]:
        raise ValueError("sub_indptr must run from 0 to len(sub_rows)")
    if np.any(np.diff(np.asarray(sub_indptr)) < 1):
        raise ValueError("every word must have at least one input row")
    if sub_rows.shape[0] and (np.asarray(sub_rows).min() < 0 or np.asarray(sub_rows).max() >= inp.shape[0]):
        raise ValueError(f"sub_rows must lie in [0, {inp.shape[0]})")
    if ends.shape[0] != threads or states.shape[0] < threads or losses.shape[0] < threads or threads < 1:
        raise ValueError("starts, ends, rng_states and loss must have one entry per thread")
    if offsets.shape[0] < 1 or offsets[0] != 0 or offsets[offsets.shape[0] - 1] != ids.shape[0]:
        raise ValueError("offsets must run from 0 to len(ids)")
    for t in range(threads):
        if not (0 <= starts[t] <= ends[t] <= ids.shape[0]):
            raise ValueError(f"span {t} [{starts[t]}, {ends[t]}) is outside the corpus")
    cfg.dim = inp.shape[1]
    cfg.window = window
    cfg.negative = negative
    cfg.skip_gram = skip_gram
    cfg.shared = shared
    cfg.alpha = alpha
    cfg.min_alpha = min_alpha
    cfg.total_words = total_words
    d.words.input = &inp[0, 0]
    d.words.output = &out[0, 0]
    d.words.vocab_size = vocab
    d.words.keep = &keep[0]
    d.words.noise_prob = &noise_prob[0]
    d.words.noise_alias = &noise_alias[0]
    d.words.ids = &ids[0] if ids.shape[0] else NULL
    d.words.offsets = &offsets[0]
    d.words.n_sentences = offsets.shape[0] - 1
    d.n_input_rows = inp.shape[0]
    d.sub_indptr = &sub_indptr[0]
    d.sub_rows = &sub_rows[0]
    with nogil:
        name = train_chunk(cfg, d, &starts[0], &ends[0], threads, &states[0], &words_done, &losses[0], level)
    return words_done, name.decode()


def fasttext_step(input_vectors, output_vectors, const int32_t[::1] rows, const int32_t[::1] targets,
                  const float[::1] weights, int n_pos, float alpha):
    """One SGD step (tests, references): h = mean of input rows `rows`; targets[:n_pos] labelled
    1, the rest 0, each pair's gradient times weights[t]. Both matrices are updated in place.
    Returns the step's weighted loss."""
    cdef float[:, ::1] inp = inplace(input_vectors, "input_vectors", np.float32, 2)
    cdef float[:, ::1] out = inplace(output_vectors, "output_vectors", np.float32, 2)
    if rows.shape[0] < 1 or targets.shape[0] < 1:
        raise ValueError("rows and targets must not be empty")
    if weights.shape[0] != targets.shape[0]:
        raise ValueError("weights must have one entry per target")
    if not 0 <= n_pos <= targets.shape[0]:
        raise ValueError("n_pos must lie in [0, len(targets)]")
    if out.shape[1] != inp.shape[1]:
        raise ValueError("input and output vectors must have the same number of columns")
    if min(rows) < 0 or max(rows) >= inp.shape[0]:
        raise ValueError(f"rows must lie in [0, {inp.shape[0]})")
    if min(targets) < 0 or max(targets) >= out.shape[0]:
        raise ValueError(f"targets must lie in [0, {out.shape[0]})")
    return single_step(&inp[0, 0], &out[0, 0], inp.shape[1], &rows[0], rows.shape[0], &targets[0], &weights[0],
                       targets.shape[0], n_pos, alpha)
