# distutils: language = c++
"""word2vec (skip-gram / CBOW with negative sampling): tables and training chunks
(csrc/embedcore/sgns.hpp).

The Python layer (embedcore/word2vec.py) validates everything; these functions check what would
otherwise reach memory unchecked (shapes, spans), refuse in-place arrays they would have to copy
(embedcore._sgd._arrays.inplace), and the kernel checks every id it reads.
"""
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.string cimport string

import numpy as np

from embedcore._sgd.word2vec cimport (Config, Data, build_keep_table, build_noise_table, single_step,
                                      stream_state, train_chunk)
from embedcore._sgd._arrays import inplace


def word2vec_noise_table(const int64_t[::1] counts, double power=0.75):
    """Alias table (prob uint32, alias int32) for P(w) proportional to counts[w]**power."""
    cdef int64_t n = counts.shape[0]
    prob = np.empty(n, dtype=np.uint32)
    alias = np.empty(n, dtype=np.int32)
    cdef uint32_t[::1] p = prob
    cdef int32_t[::1] a = alias
    if n == 0:
        raise ValueError("counts must not be empty")
    with nogil:
        build_noise_table(&counts[0], n, power, &p[0], &a[0])
    return prob, alias


def word2vec_keep_table(const int64_t[::1] counts, double sample, int64_t total):
    """Subsampling thresholds (uint64, out of 2**32): word w is kept when a 32-bit draw is below."""
    cdef int64_t n = counts.shape[0]
    keep = np.empty(n, dtype=np.uint64)
    cdef uint64_t[::1] k = keep
    if n:
        with nogil:
            build_keep_table(&counts[0], n, sample, total, &k[0])
    return keep


def word2vec_stream_states(uint64_t seed, int threads):
    """Starting states of the per-thread random streams for a seed."""
    return np.array([stream_state(seed, t) for t in range(threads)], dtype=np.uint64)


def word2vec_train_chunk(input_vectors, output_vectors,
                         const uint64_t[::1] keep, const uint32_t[::1] noise_prob,
                         const int32_t[::1] noise_alias, const int32_t[::1] ids,
                         const int64_t[::1] offsets, const int64_t[::1] starts, const int64_t[::1] ends,
                         rng_states, loss, int64_t words_done,
                         bint skip_gram, bint cbow_mean, bint shared, int cbow_batch, int window,
                         int negative, float alpha, float min_alpha, int64_t total_words,
                         str simd=""):
    """Train thread t on tokens [starts[t], ends[t]); returns (words_done, SIMD level used).

    input_vectors, output_vectors (float32 (vocab, dim)), rng_states (uint64) and loss (float64,
    one entry per thread) are updated in place, so they must be writeable C-contiguous arrays of
    exactly those dtypes (TypeError or ValueError otherwise). loss[t] gets thread t's summed pair
    losses added: a loss that is not finite means the run diverged (the thread stopped its span
    there; the vectors hold NaN or infinity). An id outside [0, vocab) raises ValueError. `simd`
    forces a level ("" for the best this CPU runs; an unknown or unsupported level raises
    ValueError).
    """
    cdef float[:, ::1] inp = inplace(input_vectors, "input_vectors", np.float32, 2)
    cdef float[:, ::1] out = inplace(output_vectors, "output_vectors", np.float32, 2)
    cdef uint64_t[::1] states = inplace(rng_states, "rng_states", np.uint64, 1)
    cdef double[::1] losses = inplace(loss, "loss", np.float64, 1)
    cdef Config cfg
    cdef Data d
    cdef int threads = starts.shape[0]
    cdef int64_t vocab = inp.shape[0]
    cdef string level = simd.encode()
    cdef const char* name
    if (out.shape[0] != vocab or out.shape[1] != inp.shape[1] or keep.shape[0] != vocab
            or noise_prob.shape[0] != vocab or noise_alias.shape[0] != vocab):
        raise ValueError("word2vec tables and matrices must all have one row per vocabulary word")
    if vocab < 1 or inp.shape[1] < 1:
        raise ValueError(f"input_vectors must have at least one row and one column, got ({vocab}, {inp.shape[1]})")
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
    cfg.cbow_mean = cbow_mean
    cfg.shared = shared
    cfg.cbow_batch = cbow_batch
    cfg.alpha = alpha
    cfg.min_alpha = min_alpha
    cfg.total_words = total_words
    d.input = &inp[0, 0]
    d.output = &out[0, 0]
    d.vocab_size = vocab
    d.keep = &keep[0]
    d.noise_prob = &noise_prob[0]
    d.noise_alias = &noise_alias[0]
    d.ids = &ids[0] if ids.shape[0] else NULL
    d.offsets = &offsets[0]
    d.n_sentences = offsets.shape[0] - 1
    with nogil:
        name = train_chunk(cfg, d, &starts[0], &ends[0], threads, &states[0], &words_done, &losses[0], level)
    return words_done, name.decode()


def word2vec_step(input_vectors, output_vectors, int32_t centre, const int32_t[::1] contexts,
                  const int32_t[::1] negatives, float alpha, bint skip_gram=True, bint shared=False,
                  bint cbow_mean=True, str simd=""):
    """One SGD step on one centre word with the given contexts and negatives (tests, references).

    Skip-gram without sharing takes len(contexts) * K negatives (K per context word, in order);
    otherwise K. The two matrices are updated in place. `simd` forces a level as in
    `word2vec_train_chunk`. Returns the step's loss."""
    cdef string level = simd.encode()
    cdef float[:, ::1] inp = inplace(input_vectors, "input_vectors", np.float32, 2)
    cdef float[:, ::1] out = inplace(output_vectors, "output_vectors", np.float32, 2)
    cdef int m = contexts.shape[0]
    cdef int n_neg = negatives.shape[0]
    cdef int K
    cdef int64_t vocab = inp.shape[0]
    cdef int32_t dummy = 0
    if m < 1:
        raise ValueError("contexts must not be empty")
    K = n_neg // m if (skip_gram and not shared) else n_neg
    if skip_gram and not shared and K * m != n_neg:
        raise ValueError("exact skip-gram takes len(contexts) * K negatives")
    for w in list(contexts) + list(negatives) + [centre]:
        if not 0 <= w < vocab:
            raise ValueError(f"word id {w} out of range for {vocab} rows")
    if out.shape[0] != vocab or out.shape[1] != inp.shape[1]:
        raise ValueError("input and output vectors must have the same shape")
    return single_step(&inp[0, 0], &out[0, 0], inp.shape[1], skip_gram, shared, cbow_mean, centre,
                       &contexts[0], m, &negatives[0] if n_neg else &dummy, K, alpha, level)
