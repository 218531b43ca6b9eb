"""The CPU backend: embedcore's primitive operations over the C++ kernels.

Thin wrappers over ``embedcore._native`` (pybind11) and ``embedcore._sgd`` (Cython): arrays are
numpy arrays, sparse matrices `Csr` (int64 indptr, int32 indices, float32 data, as the kernels
take them). The operations trust their caller (a model or public function) to have validated
the input; the kernels check only what would otherwise reach memory unchecked. The same names
and signatures as ``backends/cuda/ops.py`` (see ``backends.OPS``).

The one BLAS-thread controller of embedcore lives here (`blas_threads`): our OpenMP loops never
run around a multithreaded BLAS call, and concurrent callers restore the BLAS's thread count.
"""
import concurrent.futures
import contextlib
import functools
import logging
import threading
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import linalg

from embedcore import _native, _sgd
from embedcore.backends import _shared
from embedcore.backends.cuda.probe import is_device_array

logger = logging.getLogger("embedcore")

NAME = "cpu"

# Raw tokens per thread per call into the word2vec kernel: small enough that progress, Ctrl-C
# and the learning-rate schedule stay responsive, large enough that the call costs nothing.
SGNS_CHUNK_TOKENS = 1 << 19
# The fewest tokens a word2vec thread takes: a thread's span cuts the windows at its ends, so a
# thread per token would train nothing.
SGNS_MIN_TOKENS_PER_THREAD = 1 << 10

# Rows per SGEMM call of the range finder's tall x small products (_times_small): 4096 rows of 110
# floats (1.8 MB) per call keep the BLAS's packing cost small and give each of a few threads
# several blocks.
SMALL_GEMM_ROWS = 4096

# Rows per SGEMM tile of cosine top-k: a (query block x database tile) score block of 256 x
# 1024 floats (1 MiB) stays in a core's L2 cache while the selection pass reads it.
TOPK_TILES = (256, 1024)


# ----------------------------------------------------------------------------------------------
# BLAS threads

class _BlasThreads:
    """Thread limits for the BLAS that hold under nesting and concurrency.

    The BLAS's thread count is one setting of the process, and a limit restores on exit what
    it saw on entry: two limits that overlap in time from two Python threads leave the count
    changed (the second saw the first's value). Limits are therefore taken one at a time (a
    re-entrant lock, so that a limit nested in the same thread works); a concurrent caller
    waits for the running one, which uses every core anyway."""

    def __init__(self):
        self._lock = threading.RLock()

    @functools.cached_property
    def controller(self):
        try:
            from threadpoolctl import ThreadpoolController
            return ThreadpoolController()
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            return None

    @contextlib.contextmanager
    def limit(self, threads):
        controller = self.controller
        if controller is None:
            yield
            return
        with self._lock, controller.limit(limits=threads, user_api="blas"):
            yield


_BLAS = _BlasThreads()


def blas_threads(threads):
    """Context in which the BLAS runs at most `threads` threads (see _BlasThreads)."""
    return _BLAS.limit(int(threads))


# ----------------------------------------------------------------------------------------------
# arrays

class Csr:
    """A CSR matrix as the kernels take it: int64 indptr, int32 indices, float32 data."""

    __slots__ = ("indptr", "indices", "data", "shape")

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: Any) -> None:
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, tuple(shape)

    @property
    def nnz(self):
        return len(self.data)

    @property
    def ndim(self):
        return 2

    def to_scipy(self):
        matrix = sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape, copy=False)
        return matrix


def asarray(value, dtype=None):
    """A C-contiguous numpy array of `value` (a copy only when needed; CuPy arrays come to the
    host)."""
    if is_device_array(value):
        value = value.get()
    return np.ascontiguousarray(value, dtype=dtype)


def to_host(value):
    """numpy arrays / scipy.sparse matrices of this backend's results."""
    if isinstance(value, Csr):
        return value.to_scipy()
    if isinstance(value, tuple):
        return tuple(to_host(v) for v in value)
    return value


def issparse(value):
    """True for this backend's sparse matrices and any scipy.sparse matrix."""
    return isinstance(value, Csr) or sp.issparse(value)


def csr_matrix(value):
    """The backend's CSR of a sparse matrix or a dense 2-D array (converted, not validated:
    indices must fit int32)."""
    if isinstance(value, Csr):
        return value
    if is_device_array(value):
        value = value.get()
    csr = value.tocsr() if sp.issparse(value) else sp.csr_matrix(np.asarray(value, dtype=np.float32))
    return Csr(np.ascontiguousarray(csr.indptr, dtype=np.int64), np.ascontiguousarray(csr.indices, dtype=np.int32),
               np.ascontiguousarray(csr.data, dtype=np.float32), csr.shape)


# ----------------------------------------------------------------------------------------------
# word2vec

def word2vec_tables(counts, sample, power=0.75):
    """(keep, noise_prob, noise_alias): subsampling thresholds (uint64, out of 2**32) and the
    alias table of counts**power (uint32 prob, int32 alias)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    prob, alias = _sgd.word2vec_noise_table(counts, power)
    keep = _sgd.word2vec_keep_table(counts, sample, int(counts.sum()))
    return keep, prob, alias


class SgnsData(NamedTuple):
    """What `sgns_epoch` trains on: the corpus, the tables, the configuration, and per thread a
    span of the corpus and a random stream (advanced by every epoch)."""
    ids: np.ndarray
    offsets: np.ndarray
    keep: np.ndarray
    noise_prob: np.ndarray
    noise_alias: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    rng_states: np.ndarray
    threads: int
    chunk_tokens: int
    config: dict


def sgns_setup(ids, offsets, tables, *, vector_size, window, negative, sg, cbow_mean, shared, seed, threads,
               sequential=False, chunk_tokens=None, cbow_batch=1, simd=""):
    """Prepare word2vec training of a corpus (int32 ids, int64 sentence offsets) with the tables
    of `word2vec_tables`. Threads are clamped to the work: each takes at least
    SGNS_MIN_TOKENS_PER_THREAD tokens; `sequential` trains the tokens in order on one thread.
    The returned data's `threads` is the number used."""
    ids = np.ascontiguousarray(ids, dtype=np.int32)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n_tokens = len(ids)
    threads = 1 if sequential else max(1, min(int(threads), n_tokens // SGNS_MIN_TOKENS_PER_THREAD))
    bounds = (np.arange(threads + 1, dtype=np.int64) * n_tokens) // threads
    keep, prob, alias = tables
    config = dict(window=window, negative=negative, sg=bool(sg), cbow_mean=bool(cbow_mean), shared=bool(shared),
                  cbow_batch=cbow_batch, simd=simd, vector_size=vector_size)
    return SgnsData(ids, offsets, keep, prob, alias, bounds[:-1].copy(), bounds[1:].copy(),
                    _sgd.word2vec_stream_states(seed, threads), threads,
                    int(chunk_tokens or SGNS_CHUNK_TOKENS), config)


def sgns_epoch(data, input_vectors, output_vectors, epoch, words_before, total_words, alpha, min_alpha):
    """One word2vec epoch, in place on the two float32 (vocab, dim) tables, as a generator: it
    yields the raw tokens trained by each step and returns ``(loss, variant)``, the summed
    negative-sampling loss (float64) and the SIMD variant used. The learning rate falls linearly
    from `alpha` to `min_alpha` over `total_words` raw tokens, `words_before` of them trained
    before this epoch."""
    cfg = data.config
    loss = np.zeros(data.threads, dtype=np.float64)
    pos = data.starts.copy()
    words_done, variant = words_before, ""
    while np.any(pos < data.ends):
        stop = np.minimum(pos + data.chunk_tokens, data.ends)
        words_done, variant = _sgd.word2vec_train_chunk(
            input_vectors, output_vectors, data.keep, data.noise_prob, data.noise_alias, data.ids, data.offsets,
            pos, stop, data.rng_states, loss, words_done, cfg["sg"], cfg["cbow_mean"], cfg["shared"],
            cfg["cbow_batch"], cfg["window"], cfg["negative"], alpha, min_alpha, total_words, cfg["simd"])
        yield int((stop - pos).sum())
        pos = stop
    return float(loss.sum()), variant


# ----------------------------------------------------------------------------------------------
# fastText (subword skip-gram / CBOW)

class FastTextData(NamedTuple):
    """What `fasttext_epoch` trains on: the word2vec data (corpus, tables, spans, streams) and
    the CSR of every word's input rows (its own row, then its n-gram rows)."""
    words: SgnsData
    sub_indptr: np.ndarray
    sub_rows: np.ndarray

    @property
    def threads(self):
        return self.words.threads


def fasttext_setup(ids, offsets, tables, subwords, *, vector_size, window, negative, sg, shared, seed, threads,
                   sequential=False, chunk_tokens=None, simd=""):
    """Prepare fastText training (see sgns_setup) with `subwords` = (indptr int64, rows int32),
    the input rows of every vocabulary word; `shared`: skip-gram shares a centre word's noise
    words among its pairs."""
    words = sgns_setup(ids, offsets, tables, vector_size=vector_size, window=window, negative=negative, sg=sg,
                       cbow_mean=True, shared=shared, seed=seed, threads=threads, sequential=sequential,
                       chunk_tokens=chunk_tokens, simd=simd)
    indptr, rows = subwords
    return FastTextData(words, np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(rows, dtype=np.int32))


def fasttext_epoch(data, input_vectors, output_vectors, epoch, words_before, total_words, alpha, min_alpha):
    """One fastText epoch in place on the float32 input (words + buckets, dim) and output
    (words, dim) tables, as a generator like sgns_epoch: yields raw tokens per step, returns
    ``(loss, variant)``."""
    w = data.words
    cfg = w.config
    loss = np.zeros(w.threads, dtype=np.float64)
    pos = w.starts.copy()
    words_done, variant = words_before, ""
    while np.any(pos < w.ends):
        stop = np.minimum(pos + w.chunk_tokens, w.ends)
        words_done, variant = _sgd.fasttext_train_chunk(
            input_vectors, output_vectors, data.sub_indptr, data.sub_rows, w.keep, w.noise_prob, w.noise_alias,
            w.ids, w.offsets, pos, stop, w.rng_states, loss, words_done, cfg["sg"], cfg["shared"], cfg["window"],
            cfg["negative"], alpha, min_alpha, total_words, cfg["simd"])
        yield int((stop - pos).sum())
        pos = stop
    return float(loss.sum()), variant

# random walks (DeepWalk / node2vec)

class WalkGraph(NamedTuple):
    """A graph as the walk kernels read it: CSR (int64 indptr, int32 sorted indices), float32
    weights and the per-row alias tables (uint32 prob, int32 alias), the last three None when
    unweighted."""
    indptr: np.ndarray
    indices: np.ndarray
    weights: object
    alias_prob: object
    alias_index: object

    @property
    def n_nodes(self):
        return len(self.indptr) - 1


def walks_csr(csr: Any, undirected: bool, with_weights: bool,
              threads: int) -> "tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32] | None]":
    """(indptr int64, indices int32, weights float32 or None) numpy arrays of the walk graph of a
    canonical Csr with values >= 0: zero entries dropped, rows sorted, every edge stored both
    ways (with the larger of its two weights) when `undirected`; built without edge-sized
    temporaries. ValueError past 2**31 - 1 stored edges."""
    return _sgd.walks_csr(csr.indptr, csr.indices, csr.data, bool(undirected), bool(with_weights), threads)


def walk_graph(indptr, indices, weights, threads):
    """The WalkGraph of a validated CSR adjacency (sorted rows, positive weights or None)."""
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    if weights is None:
        return WalkGraph(indptr, indices, None, None, None)
    weights = np.ascontiguousarray(weights, dtype=np.float32)
    prob, alias = _sgd.walks_alias(indptr, weights, threads)
    return WalkGraph(indptr, indices, weights, prob, alias)


def walks(graph, starts, walk_length, p, q, seed, first_index, threads):
    """The walks from `starts` (int32 nodes): (int32 (n, walk_length) nodes, int32 (n,) lengths),
    numpy arrays; entries past a walk's length are 0. Walk i draws from the stream
    (seed, first_index + i), so the walks do not depend on `threads`."""
    g = graph
    return _sgd.walks_generate(g.indptr, g.indices, g.weights, g.alias_prob, g.alias_index,
                               np.ascontiguousarray(starts, dtype=np.int32), walk_length, p, q, seed, first_index,
                               threads)


def walk_visits(graph, starts, walk_length, p, q, seed, first_index, threads):
    """Visits of each node (int64 numpy array) by the walks `walks` would return."""
    g = graph
    return _sgd.walks_count_visits(g.indptr, g.indices, g.weights, g.alias_prob, g.alias_index,
                                   np.ascontiguousarray(starts, dtype=np.int32), walk_length, p, q, seed,
                                   first_index, threads)


class Node2VecData(NamedTuple):
    """What `node2vec_train` trains on: the graph, the word2vec tables, per thread a random
    stream (advanced by every call) and the configuration."""
    graph: WalkGraph
    keep: np.ndarray
    noise_prob: np.ndarray
    noise_alias: np.ndarray
    rng_states: np.ndarray
    threads: int
    chunk_walks: int
    config: dict


def node2vec_setup(graph, tables, *, vector_size, window, negative, walk_length, p, q, seed, walk_seed, threads,
                   shared=True, simd=""):
    """Prepare skip-gram training on the walks of a WalkGraph with the tables of
    `word2vec_tables` (counts: the nodes' expected visits): training streams from `seed`, walks
    from `walk_seed` (as `walks` draws them). Each call of `node2vec_train` takes about
    SGNS_CHUNK_TOKENS nodes per thread. `shared`: negatives shared by a centre word's contexts
    (else word2vec.c's per-pair negatives)."""
    keep, prob, alias = tables
    chunk_walks = max(1, SGNS_CHUNK_TOKENS // walk_length) * threads
    config = dict(vector_size=vector_size, window=window, negative=negative, walk_length=walk_length, p=p, q=q,
                  walk_seed=walk_seed, shared=bool(shared), simd=simd)
    return Node2VecData(graph, keep, prob, alias, _sgd.word2vec_stream_states(seed, threads), int(threads),
                        chunk_walks, config)


def node2vec_train(data, input_vectors, output_vectors, starts, first_index, words_before, total_words, alpha,
                   min_alpha, on_walks=None):
    """Generate the walks from `starts` (as `walks` does, walk i from the stream
    (walk_seed, first_index + i)) and train skip-gram on them, in place on the
    float32 (n_nodes, dim) tables, as a generator: it yields the walks done by each step and
    returns ``(loss, words_done, variant)``: the summed pair losses, the nodes trained in the run
    so far (`words_before` of them before this call) and the SIMD variant. The learning rate
    falls from `alpha` to `min_alpha` over `total_words` nodes. `on_walks(walks, lengths)`, when
    given, receives each step's walks (numpy arrays as `walks` returns them)."""
    g, cfg = data.graph, data.config
    starts = np.ascontiguousarray(starts, dtype=np.int32)
    loss = np.zeros(data.threads, dtype=np.float64)
    words_done, variant = words_before, ""
    for begin in range(0, len(starts), data.chunk_walks):
        part = starts[begin:begin + data.chunk_walks]
        saved = lengths = None
        if on_walks is not None:
            saved = np.zeros((len(part), cfg["walk_length"]), dtype=np.int32)
            lengths = np.zeros(len(part), dtype=np.int32)
        words_done, variant = _sgd.walks_train_chunk(
            g.indptr, g.indices, g.weights, g.alias_prob, g.alias_index, part, cfg["walk_length"], cfg["p"],
            cfg["q"], cfg["walk_seed"], first_index + begin, input_vectors, output_vectors, data.keep, data.noise_prob,
            data.noise_alias, cfg["window"], cfg["negative"], alpha, min_alpha, total_words, words_done,
            data.rng_states, loss, saved, lengths, shared=cfg["shared"], simd=cfg["simd"])
        if on_walks is not None:
            on_walks(saved, lengths)
        yield len(part)
    return float(loss.sum()), words_done, variant


# ----------------------------------------------------------------------------------------------
# co-occurrence and GloVe

def cooccur_counts(ids, offsets, vocab_size, window, symmetric, distance_weighting, threads):
    """Co-occurrence counts of a corpus (ids < vocab_size): (Csr float32 with sorted columns and
    no explicit zeros, peak working bytes)."""
    (indptr, indices, data), working = _native.cooccur_count(
        np.ascontiguousarray(ids, dtype=np.int32), np.ascontiguousarray(offsets, dtype=np.int64), 0, vocab_size,
        vocab_size, window, bool(symmetric), bool(distance_weighting), threads)
    return Csr(indptr, indices, data, (vocab_size, vocab_size)), int(working)


def glove_check_counts(csr: Any) -> tuple[int, int]:
    """``(positive, bad)`` of a host CSR of counts: the number of counts > 0 (what GloVe trains
    on; explicit zeros are left out) and the position of the first count that is negative, NaN or
    infinite (-1 when none is; `positive` is then -1)."""
    return _sgd.glove_check_counts(csr.indptr, csr.indices, csr.data, csr.shape[1])


def glove_order(csr, positive, seed, threads):
    """The positions of the `positive` counts > 0 of a checked host CSR (`glove_check_counts`) in
    one seeded random order: uint32, or uint64 when the matrix has 2**32 nonzeros or more."""
    order = np.empty(positive, dtype=np.uint32 if csr.nnz <= 1 << 32 else np.uint64)
    _sgd.glove_order(csr.indptr, csr.indices, csr.data, csr.shape[1], seed, order, threads)
    return order


class GloveCounts(NamedTuple):
    """What the CPU's `glove_epoch` trains on: a host CSR of counts whose rows are the model's
    rows ``row_offset ..`` and the order of its positive counts (`glove_order`)."""
    csr: Csr
    order: np.ndarray
    x_max: float
    alpha: float
    row_offset: int = 0

    @property
    def nnz(self):
        return len(self.order)


def glove_records(csr: Any, x_max: float, alpha: float, seed: int, threads: int,
                  positive: int | None = None) -> Any:
    """What `glove_epoch` trains on for a checked host CSR of counts: its positive counts in one
    seeded random order (a `GloveCounts`, 4 bytes per nonzero beyond the matrix). `positive` is
    `glove_check_counts`' count (computed when not given)."""
    if positive is None:
        positive = glove_check_counts(csr)[0]
    return GloveCounts(csr, glove_order(csr, positive, seed, threads), x_max, alpha)


def glove_record_array(counts, threads):
    """The records of a `GloveCounts` in its order: int32 (nnz, 4) rows (row, col, log x, f(x)),
    the two floats as their bit patterns, f(x) = min(1, (x/x_max)^alpha); 16 bytes per nonzero
    (the GPU's input)."""
    csr = counts.csr
    records = np.empty((counts.nnz, 4), dtype=np.int32)
    _sgd.glove_records(csr.indptr, csr.indices, csr.data, csr.shape[1], counts.order, counts.x_max, counts.alpha,
                       records, threads)
    if counts.row_offset:
        records[:, 0] += counts.row_offset
    return records


GLOVE_PARAMS = ("word", "context", "word_bias", "context_bias", "word_gradsq", "context_gradsq",
                "word_bias_gradsq", "context_bias_gradsq")


def glove_epoch(records: Any, params: dict[str, Any], learning_rate: float, bias_learning_rate: float, threads: int,
                sequential: bool = False, simd: str = "") -> tuple[float, str]:
    """One GloVe AdaGrad epoch over `records` (a `GloveCounts`, or int32 (nnz, 4) records as
    `glove_record_array` makes them), in place on `params` (a dict of GLOVE_PARAMS: float32
    vectors and accumulators (n_words, stride), biases (n_words,)); returns ``(cost, variant)``:
    the summed 0.5 f(x) diff**2 and the SIMD variant used. `sequential` takes the records in order
    on one thread."""
    p = params
    arrays = (p["word"], p["context"], p["word_bias"], p["context_bias"], p["word_gradsq"], p["context_gradsq"],
              p["word_bias_gradsq"], p["context_bias_gradsq"])
    threads = 1 if sequential else threads
    if isinstance(records, GloveCounts):
        csr = records.csr
        return _sgd.glove_train_csr_epoch(*arrays, csr.indptr, csr.indices, csr.data, csr.shape[1],
                                          records.row_offset, records.order, records.x_max, records.alpha,
                                          learning_rate, bias_learning_rate, threads, simd)
    return _sgd.glove_train_epoch(*arrays, records, learning_rate, bias_learning_rate, threads, simd)


# ----------------------------------------------------------------------------------------------
# sparse matrices

def check_csr(indptr, indices, n_rows, n_cols, threads):
    """Raise ValueError unless (indptr int64, indices int32) is the structure of an n_rows x
    n_cols CSR matrix: indptr from 0 to len(indices), never decreasing, columns in range."""
    _native.check_csr(indptr, indices, n_rows, n_cols, threads)


def ppmi(csr, cds, shift, threads):
    """Positive PMI of a canonical CSR of finite non-negative counts (see embedcore.ppmi); ValueError
    for negative or non-finite counts. Both steps below on the one matrix."""
    indptr, indices, data = _native.ppmi(csr.indptr, csr.indices, csr.data, csr.shape[0], csr.shape[1], cds,
                                         shift, threads)
    return Csr(indptr, indices, data, csr.shape)


def ppmi_add_column_sums(csr: Any, column_sums: np.ndarray, threads: int) -> None:
    """PPMI step 1: column_sums (float64, one per column of csr) += the column sums of csr, in an
    order that does not depend on `threads`; ValueError for negative or non-finite counts."""
    _native.ppmi_add_column_sums(csr.indptr, csr.indices, csr.data, csr.shape[0], csr.shape[1], column_sums,
                                 threads)


def ppmi_with_column_sums(csr: Any, column_sums: np.ndarray, cds: float, shift: float, threads: int) -> Any:
    """PPMI step 2: the positive PMI of the rows of csr (a row block of a matrix), given the whole
    matrix's column sums; ValueError for negative or non-finite counts."""
    indptr, indices, data = _native.ppmi_with_column_sums(csr.indptr, csr.indices, csr.data, csr.shape[0],
                                                          csr.shape[1], column_sums, cds, shift, threads)
    return Csr(indptr, indices, data, csr.shape)


def csr_matmul(csr, dense, threads):
    """csr @ dense for a float32 (n_cols, p) array: float32 (n_rows, p)."""
    dense = np.ascontiguousarray(dense, dtype=np.float32)
    out = np.empty((csr.shape[0], dense.shape[1]), dtype=np.float32)
    _native.csr_matmul(csr.indptr, csr.indices, csr.data, csr.shape[1], dense, out, threads)
    return out


def csr_matmul_into(csr: Any, dense: Any, out: np.ndarray, threads: int, accumulate: bool = False) -> np.ndarray:
    """out[:] = csr @ dense (CPU only; `out` float32, C-contiguous, (n_rows, p)); with `accumulate`,
    out += csr @ dense, each entry's float32 multiply-adds continuing from out's value, so a product
    accumulated over consecutive row blocks of a matrix's transpose, in block order, is bit-identical
    to the one product with the whole transpose."""
    dense = np.ascontiguousarray(dense, dtype=np.float32)
    _native.csr_matmul(csr.indptr, csr.indices, csr.data, csr.shape[1], dense, out, threads, accumulate=accumulate)
    return out


def csr_transpose(csr: Any, threads: int) -> Any:
    """The Csr of csr^T."""
    indptr, indices, data = _native.csr_transpose(csr.indptr, csr.indices, csr.data, csr.shape[0], csr.shape[1],
                                                  threads)
    return Csr(indptr, indices, data, (csr.shape[1], csr.shape[0]))


# ----------------------------------------------------------------------------------------------
# dense linear algebra

def matmul(a, b, threads):
    """a @ b by the BLAS with `threads` threads (a may be a transposed view)."""
    with blas_threads(threads):
        return a @ b


def gram(y, threads):
    """y^T y as a symmetric float64 (p, p) numpy array, computed in y's precision."""
    with blas_threads(threads):
        g = (y.T @ y).astype(np.float64)
    return (g + g.T) * 0.5


def _times_small(y, w, threads):
    # y @ w for a tall float32 y and a small w: single-threaded SGEMMs over fixed blocks of
    # SMALL_GEMM_ROWS rows, shared by `threads` threads. The BLAS's packed GEMM runs this 2-3x
    # faster per thread than the row kernel (_native.dense_matmul), and fixed blocks on one BLAS
    # thread each give the same bits for any `threads`.
    y = np.ascontiguousarray(y, dtype=np.float32)
    w = np.ascontiguousarray(w, dtype=np.float32)
    out = np.empty((y.shape[0], w.shape[1]), dtype=np.float32)
    starts = range(0, y.shape[0], SMALL_GEMM_ROWS)

    def block(start):
        np.matmul(y[start:start + SMALL_GEMM_ROWS], w, out=out[start:start + SMALL_GEMM_ROWS])

    with blas_threads(1):
        if threads <= 1 or len(starts) <= 1:
            for start in starts:
                block(start)
        else:
            with concurrent.futures.ThreadPoolExecutor(min(threads, len(starts))) as pool:
                list(pool.map(block, starts))  # list(): re-raises a block's exception
    return out


def _householder(y):
    logger.debug("randomized_svd: ill-conditioned range basis, using Householder QR")
    q, _ = linalg.qr(y, mode="economic", check_finite=False)
    return np.ascontiguousarray(q, dtype=np.float32)


def orthonormalize(y, threads, exact=False):
    """A basis of the column span of a tall float32 y (see _shared.orthonormalize): whitened
    once (exact=False) or orthonormal (exact=True)."""
    return _shared.orthonormalize(
        y, exact, gram=lambda a: gram(a, 1), times=lambda a, w: _times_small(a, w, threads),
        absmax=lambda a: float(max(a.max(initial=0.0), -a.min(initial=0.0))), qr=_householder)


# ----------------------------------------------------------------------------------------------
# search

@functools.lru_cache(maxsize=None)
def _native_with_blas():
    """The _native module, with scipy's SGEMM handed to the top-k kernel once."""
    try:
        from scipy.linalg import cython_blas
        _native.topk_set_sgemm(cython_blas.__pyx_capi__["sgemm"])
    except (ImportError, KeyError, AttributeError) as exc:  # pragma: no cover - scipy is a dependency
        logger.warning("embedcore: scipy's BLAS is unavailable (%s); cosine_topk uses a slow product", exc)
    return _native


def topk(queries: Any, database: Any, k: int, exclude: Any, normalized: bool, threads: int,
         tiles: tuple[int, int] | None = None) -> tuple[Any, Any]:
    """Exact cosine top-k of C-contiguous float32 rows (see embedcore.cosine_topk):
    (scores float32 (nq, k), indices int64 (nq, k)), ties by lower index. exclude: int64 (nq,)
    or None; 1 <= k <= nb (nb - 1 where a row is excluded). ValueError for NaN or infinity.
    `tiles`: (query rows, database rows) per GEMM tile."""
    nq = len(queries)
    tile_queries, tile_database = tiles or TOPK_TILES
    scores = np.empty((nq, k), dtype=np.float32)
    indices = np.empty((nq, k), dtype=np.int64)
    native = _native_with_blas()
    # the kernel calls the BLAS from its own threads, so the BLAS must run one thread; a product
    # this small runs on one anyway (OpenBLAS threads from 2^18 multiply-adds), and switching
    # the limit would cost more than the search (KeyedVectors.most_similar rescoring a few rows)
    small = nq * len(database) * queries.shape[1] <= 1 << 16
    with contextlib.nullcontext() if small else blas_threads(1):
        native.cosine_topk(queries, database, k, exclude, normalized, threads, scores, indices, tile_queries,
                           tile_database)
    if nq and indices[:, -1].min() < 0:  # only possible when normalized=True was untrue
        raise ValueError("cosine_topk found fewer than k finite scores: with normalized=True the rows "
                         "must have unit length")
    return scores, indices


def inner_topk(queries, database, k, skip, threads, tiles=None):
    """Exact inner-product top-k of C-contiguous float32 rows (see embedcore.recommend_all):
    (scores float32 (nq, k), indices int64 (nq, k)), each row by descending score, ties by
    lower index; the exact scores are the inner products rounded once from float64. skip: a Csr
    of rows to leave out per query (nq rows, sorted distinct columns) or None; k >= 1. Slots
    beyond a query's candidates (or the nb rows) hold score -inf, index -1. ValueError for NaN
    or infinity. `tiles`: (query rows, database rows) per GEMM tile."""
    nq = len(queries)
    tile_queries, tile_database = tiles or TOPK_TILES
    scores = np.full((nq, k), -np.inf, dtype=np.float32)
    indices = np.full((nq, k), -1, dtype=np.int64)
    if k > len(database):  # the kernel fills the first nb slots
        found = inner_topk(queries, database, len(database), skip, threads, tiles)
        scores[:, :len(database)], indices[:, :len(database)] = found
        return scores, indices
    indptr, columns = (None, None) if skip is None else (skip.indptr, skip.indices)
    native = _native_with_blas()
    with blas_threads(1):  # the kernel calls the BLAS from its own threads
        native.inner_topk(queries, database, k, indptr, columns, threads, scores, indices, tile_queries,
                          tile_database)
    return scores, indices
