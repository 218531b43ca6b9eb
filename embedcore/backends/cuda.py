"""The CUDA backend: the primitive operations of embedcore on CuPy arrays.

This is the only module that imports CuPy, and it does so lazily: importing it costs nothing
and works without CuPy. Dense linear algebra, sorting and sparse products use what CuPy
provides (cuBLAS, CUB, cuSPARSE, cuSOLVER); the kernels CuPy lacks are CUDA C files in
``kernels/`` compiled at run time by NVRTC (``cupy.RawModule``), so no CUDA is needed to build
or install embedcore. Each kernel has one typed launch wrapper here (``launch_*``) that checks
shapes, dtypes and contiguity, casts scalars to the kernel's C types and computes the grid.

The functions take and return CuPy arrays (``cupyx.scipy.sparse`` for sparse matrices) and
follow the semantics of the CPU functions they mirror; the public API converts numpy input and
output around them. Inputs a function only reads are converted once when needed; arrays it
updates in place must already have the right dtype, shape and layout.
"""
import functools
import logging
import math
import re
import warnings
from pathlib import Path

import numpy as np

logger = logging.getLogger("embedcore")

# False until benchmarks/gpu_check.py has passed on a real GPU: until then device="auto" keeps
# numpy work on the CPU and the paths here run only for device="cuda" or CuPy inputs.
VALIDATED_ON_GPU = False

KERNEL_DIR = Path(__file__).resolve().parent / "kernels"
KERNEL_FILES = ("topk.cu", "cooccur.cu", "glove.cu", "sgns.cu")
COMPILE_OPTIONS = ("-std=c++17",)

# Must match the #defines of the kernels.
TOPK_THREADS = 128
TOPK_MAX_K = 256
EMPTY_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)
MAX_NEGATIVE = 255  # noise draws are counted p * 256 + j

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$')
_PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\s*$")


# ----------------------------------------------------------------------------------------------
# availability

@functools.lru_cache(maxsize=None)
def _probe():
    """(usable, reason). A broken CUDA install warns once here instead of failing later."""
    try:
        import cupy
    except ImportError:
        return False, "CuPy is not installed (pip install 'embedcore[cuda12]' or 'embedcore[cuda13]')"
    except Exception as exc:  # a broken CUDA install can raise anything at import
        warnings.warn(f"embedcore: CuPy failed to import ({exc}); using the CPU", RuntimeWarning)
        return False, f"CuPy failed to import: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        warnings.warn(f"embedcore: CUDA is not usable ({exc}); using the CPU", RuntimeWarning)
        return False, f"CUDA is not usable: {exc}"
    if count < 1:
        return False, "no CUDA device is visible"
    return True, ""


def HAS_CUDA():
    """True when CuPy imports and at least one GPU is visible."""
    return _probe()[0]


def require():
    """Raise RuntimeError with the reason when CUDA is not usable."""
    ok, reason = _probe()
    if not ok:
        raise RuntimeError(f"device='cuda' but {reason}")


def _cupy():
    require()
    import cupy
    return cupy


def is_device_array(value):
    """True for a CuPy ndarray or cupyx sparse matrix (checked without importing CuPy)."""
    module = type(value).__module__ or ""
    return module == "cupy" or module.startswith(("cupy.", "cupyx.", "cupy._"))


def device_name():
    """The name of the current GPU, e.g. 'NVIDIA H100 80GB HBM3'."""
    cp = _cupy()
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def to_host(value):
    """numpy array / scipy.sparse matrix of a CuPy array / cupyx sparse matrix (others as they are)."""
    if not is_device_array(value):
        return value
    return value.get()


def to_device(value, dtype=None):
    """CuPy array of an array-like (a scipy.sparse matrix becomes a cupyx.scipy.sparse CSR)."""
    cp = _cupy()
    import scipy.sparse as sp
    if sp.issparse(value):
        from cupyx.scipy import sparse as csp
        csr = value.tocsr()
        if dtype is not None:
            csr = csr.astype(dtype)
        return csp.csr_matrix(csr)
    return cp.ascontiguousarray(cp.asarray(value, dtype=dtype))


# ----------------------------------------------------------------------------------------------
# kernel loader

def kernel_source(filename):
    """The text NVRTC compiles for ``kernels/<filename>``.

    Local includes (``#include "x.cuh"``) are inlined once each, and every piece of text is
    preceded by a ``#line`` directive naming its file, so that a compile error points at the
    right line of the right file. Inlining (rather than an include path) also makes CuPy's
    compile cache, keyed by the source text, see changes to the headers.

    Parameters
    ----------
    filename : str
        A file of the kernels directory, e.g. ``"topk.cu"``.

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        The file, or a file it includes, does not exist.
    """
    return _expand(filename, set())


def _expand(filename, seen):
    path = KERNEL_DIR / filename
    if not path.is_file():
        raise FileNotFoundError(f"CUDA source {filename} not found in {KERNEL_DIR}")
    seen.add(filename)
    out = [f'#line 1 "{filename}"']
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _INCLUDE.match(line)
        if match:
            if match.group(1) not in seen:
                out.append(_expand(match.group(1), seen))
            out.append(f'#line {number + 1} "{filename}"')
        elif _PRAGMA_ONCE.match(line):
            out.append("")  # each file is inlined once anyway
        else:
            out.append(line)
    return "\n".join(out)


@functools.lru_cache(maxsize=None)
def _module(filename, options):
    cp = _cupy()
    logger.debug("compiling CUDA kernels of %s with %s", filename, " ".join(options))
    return cp.RawModule(code=kernel_source(filename), options=options)


@functools.lru_cache(maxsize=None)
def _kernel(filename, name, options=COMPILE_OPTIONS):
    """The compiled kernel `name` of `filename` (compiled once per (file, options))."""
    return _module(filename, tuple(options)).get_function(name)


def compile_all():
    """Compile every kernel now (so that timings exclude NVRTC); returns the kernel names."""
    names = {
        "topk.cu": ("topk_merge_tile",),
        "cooccur.cu": ("cooccur_pairs", "segment_sums"),
        "glove.cu": ("glove_epoch",),
        "sgns.cu": ("w2v_keep_mask", "sgns_skipgram", "sgns_cbow"),
    }
    for filename, kernels in names.items():
        for name in kernels:
            _kernel(filename, name)
    return [n for kernels in names.values() for n in kernels]


# ----------------------------------------------------------------------------------------------
# argument checks for the launch wrappers

def _describe(array):
    kind = type(array).__module__.split(".")[0]
    return f"{kind} {array.dtype} with shape {tuple(array.shape)}"


def _check(array, name, dtype, shape=None, ndim=None):
    """A CuPy array of `dtype`, C-contiguous, of the given shape (None entries match anything)."""
    cp = _cupy()
    if not isinstance(array, cp.ndarray):
        raise TypeError(f"{name} must be a CuPy array, got {type(array).__name__}")
    if array.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must be {np.dtype(dtype).name}, got {_describe(array)}")
    if ndim is None and shape is not None:
        ndim = len(shape)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {_describe(array)}")
    if shape is not None:
        for got, want in zip(array.shape, shape):
            if want is not None and got != want:
                raise ValueError(f"{name} must have shape {tuple('*' if s is None else s for s in shape)}, "
                                 f"got {_describe(array)}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous, got a strided {_describe(array)}")
    return array


def _as_input(value, name, dtype, ndim):
    """A read-only input as a C-contiguous CuPy array of dtype (converted once when needed)."""
    cp = _cupy()
    array = cp.asarray(value)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {_describe(array)}")
    return cp.ascontiguousarray(array, dtype=dtype)


@functools.lru_cache(maxsize=None)
def _max_blocks(device_id):
    cp = _cupy()
    sms = cp.cuda.Device(device_id).attributes["MultiProcessorCount"]
    return 32 * sms


def _grid(n_items, items_per_block):
    """Blocks for a grid-stride loop over n_items: enough to fill the GPU, at least one."""
    cp = _cupy()
    blocks = -(-int(n_items) // int(items_per_block))
    return max(1, min(blocks, _max_blocks(cp.cuda.Device().id)))


# ----------------------------------------------------------------------------------------------
# cosine top-k

def launch_topk_merge_tile(scores, row_offset, col_offset, exclude, k, best_scores, best_indices):
    """Merge a (rows x cols) tile of scores into the running top-k of its query rows.

    scores: float32 (rows, cols), rows are queries row_offset.., columns database rows
    col_offset..; exclude: int64 (n_queries,) or None; best_scores float32 / best_indices int64
    (n_queries, k), updated in place (index -1 marks an empty slot).
    """
    cp = _cupy()
    _check(scores, "scores", np.float32, ndim=2)
    _check(best_scores, "best_scores", np.float32, ndim=2)
    n_queries = best_scores.shape[0]
    _check(best_indices, "best_indices", np.int64, shape=(n_queries, k))
    if best_scores.shape[1] != k:
        raise ValueError(f"best_scores must have k={k} columns, got {_describe(best_scores)}")
    if not 1 <= k <= TOPK_MAX_K:
        raise ValueError(f"k must be in [1, {TOPK_MAX_K}] on the GPU, got {k}")
    rows, cols = scores.shape
    if row_offset < 0 or row_offset + rows > n_queries:
        raise ValueError(f"tile rows [{row_offset}, {row_offset + rows}) outside the {n_queries} queries")
    if exclude is None:
        exclude_arg, has_exclude = cp.empty(1, dtype=cp.int64), 0
    else:
        exclude_arg, has_exclude = _check(exclude, "exclude", np.int64, shape=(n_queries,)), 1
    if rows == 0 or cols == 0:
        return
    kernel = _kernel("topk.cu", "topk_merge_tile")
    kernel((min(rows, 65535),), (TOPK_THREADS,),
           (scores, np.int32(rows), np.int32(cols), np.int64(row_offset), np.int64(col_offset),
            exclude_arg, np.int32(has_exclude), np.int32(k), best_scores, best_indices))


def normalize_rows(x):
    """Rows of a float32 CuPy matrix scaled to unit length; zero rows stay zero."""
    cp = _cupy()
    norms = cp.sqrt((x * x).sum(axis=1))
    norms = cp.where(norms > 0, norms, cp.float32(1.0)).astype(cp.float32)
    return x / norms[:, None]


def topk(queries, database, k, exclude=None, normalized=False, tile_queries=4096, tile_elements=1 << 26):
    """Exact top-k database rows by cosine similarity: ``ec.cosine_topk`` on the GPU.

    Scores of a tile of queries against a tile of database rows come from one cuBLAS SGEMM and
    are merged into the running top-k by the ``topk_merge_tile`` kernel; the full score matrix
    is never stored.

    Parameters
    ----------
    queries : cupy.ndarray float32 (nq, d)
    database : cupy.ndarray float32 (nb, d)
    k : int
        1 <= k <= min(nb, 256).
    exclude : cupy.ndarray int64 (nq,), optional
        One database row per query to leave out, -1 for none.
    normalized : bool
        The rows already have unit length (or are zero): skip normalising.
    tile_queries, tile_elements : int
        Queries per tile and the largest score tile (elements); small values exercise tiling.

    Returns
    -------
    scores : cupy.ndarray float32 (nq, k)
        Descending per row; zero rows score 0.
    indices : cupy.ndarray int64 (nq, k)
        Ties by lower database row.

    Raises
    ------
    ValueError
        Mismatched shapes, k out of range, or fewer than k candidates for a query.
    """
    cp = _cupy()
    queries = _as_input(queries, "queries", cp.float32, 2)
    database = _as_input(database, "database", cp.float32, 2)
    nq, d = queries.shape
    nb = database.shape[0]
    if database.shape[1] != d:
        raise ValueError(f"queries and database must have the same number of columns, got {d} and "
                         f"{database.shape[1]}")
    if not 1 <= k <= min(nb, TOPK_MAX_K):
        raise ValueError(f"k must be in [1, min(database rows, {TOPK_MAX_K})] = [1, {min(nb, TOPK_MAX_K)}] "
                         f"on the GPU, got {k}")
    if exclude is not None:
        exclude = _as_input(exclude, "exclude", cp.int64, 1)
        if exclude.shape[0] != nq:
            raise ValueError(f"exclude must have one entry per query ({nq}), got {exclude.shape[0]}")
    if not normalized:
        queries, database = normalize_rows(queries), normalize_rows(database)
    best_scores = cp.zeros((nq, k), dtype=cp.float32)
    best_indices = cp.full((nq, k), -1, dtype=cp.int64)
    tq = max(1, min(nq, int(tile_queries)))
    tb = max(1, min(nb, int(tile_elements) // tq))
    buffer = cp.empty(tq * tb, dtype=cp.float32)  # one allocation; each tile is a contiguous view
    for q0 in range(0, nq, tq):
        q_tile = queries[q0:q0 + tq]
        for b0 in range(0, nb, tb):
            db_tile = database[b0:b0 + tb]
            rows, cols = q_tile.shape[0], db_tile.shape[0]
            out = buffer[:rows * cols].reshape(rows, cols)
            cp.dot(q_tile, db_tile.T, out=out)  # cuBLAS SGEMM
            launch_topk_merge_tile(out, q0, b0, exclude, k, best_scores, best_indices)
    if nq and int(best_indices[:, -1].min()) < 0:
        raise ValueError("cosine_topk found fewer than k candidates for a query (k too large for the "
                         "rows left after exclude, or NaN scores)")
    return best_scores, best_indices


# ----------------------------------------------------------------------------------------------
# co-occurrence counting

def launch_cooccur_pairs(ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size,
                         keys, weights):
    """Write the (key, weight) records of the pairs whose earlier token is in [begin, end)."""
    n_tokens = ids.shape[0]
    _check(ids, "ids", np.int32, ndim=1)
    _check(offsets, "offsets", np.int64, ndim=1)
    copies = 2 if symmetric else 1
    n_slots = (end - begin) * window * copies
    _check(keys, "keys", np.uint64, shape=(n_slots,))
    _check(weights, "weights", np.float64, shape=(n_slots,))
    if not 0 <= begin <= end <= n_tokens:
        raise ValueError(f"token range [{begin}, {end}) outside the {n_tokens} tokens")
    if end == begin:
        return
    kernel = _kernel("cooccur.cu", "cooccur_pairs")
    kernel((_grid(end - begin, 256),), (256,),
           (ids, offsets, np.int64(offsets.shape[0] - 1), np.int64(begin), np.int64(end), np.int32(window),
            np.int32(bool(symmetric)), np.int32(bool(distance_weighting)), np.int64(vocab_size), keys, weights))


def launch_segment_sums(weights, starts, sums):
    """sums[s] = weights[starts[s]:starts[s + 1]].sum(), each run summed in order."""
    _check(weights, "weights", np.float64, ndim=1)
    _check(starts, "starts", np.int64, ndim=1)
    n_segments = starts.shape[0] - 1
    _check(sums, "sums", np.float64, shape=(n_segments,))
    if n_segments <= 0:
        return
    kernel = _kernel("cooccur.cu", "segment_sums")
    kernel((_grid(n_segments, 256),), (256,), (weights, starts, np.int64(n_segments), sums))


def _check_offsets(offsets, n_tokens):
    """Sentence offsets must run from 0 to n_tokens: the kernels index tokens through them."""
    if offsets.ndim != 1 or offsets.shape[0] < 1 or int(offsets[0]) != 0 or int(offsets[-1]) != n_tokens:
        raise ValueError(f"offsets must be 1-D and run from 0 to the number of tokens ({n_tokens})")


def _reduce_sorted(keys, weights):
    """(unique keys, summed weights) of records sorted by key."""
    cp = _cupy()
    n = keys.shape[0]
    if n == 0:
        return keys, weights
    boundary = cp.empty(n, dtype=cp.bool_)
    boundary[0] = True
    cp.not_equal(keys[1:], keys[:-1], out=boundary[1:])
    starts = cp.flatnonzero(boundary).astype(cp.int64)
    starts = cp.concatenate([starts, cp.array([n], dtype=cp.int64)])
    sums = cp.empty(starts.shape[0] - 1, dtype=cp.float64)
    launch_segment_sums(weights, starts, sums)
    return keys[starts[:-1]], sums


def _sort_reduce(keys, weights):
    cp = _cupy()
    order = cp.argsort(keys)
    return _reduce_sorted(keys[order], weights[order])


def cooccurrence(ids, offsets, vocab_size, window=10, symmetric=True, distance_weighting=True,
                 chunk_records=1 << 26):
    """Weighted co-occurrence counts: ``ec.cooccurrence`` on the GPU.

    The tokens are taken in chunks; for each, a kernel writes one (row * V + col, weight)
    record per pair, CuPy sorts them, and a segmented sum adds up equal keys in float64; the
    chunks' sums are merged the same way. The result is cast to float32 at the end, so it
    matches the CPU count (float64 accumulators) up to the order of float64 additions.

    Parameters
    ----------
    ids : cupy.ndarray int32 (n_tokens,)
    offsets : cupy.ndarray int64 (n_sentences + 1,)
        Sentence boundaries, from 0 to n_tokens.
    vocab_size : int
    window : int
    symmetric, distance_weighting : bool
        As for the CPU function.
    chunk_records : int
        Records per chunk (16 bytes each, plus the sort's workspace).

    Returns
    -------
    cupyx.scipy.sparse.csr_matrix
        float32, (vocab_size, vocab_size), sorted indices, no explicit zeros.

    Raises
    ------
    ValueError
        More than 2**31 - 1 nonzeros (cupyx's CSR has int32 indices), bad offsets.
    """
    cp = _cupy()
    from cupyx.scipy import sparse as csp
    ids = _as_input(ids, "ids", cp.int32, 1)
    offsets = _as_input(offsets, "offsets", cp.int64, 1)
    n_tokens = ids.shape[0]
    _check_offsets(offsets, n_tokens)
    if vocab_size * vocab_size >= 2 ** 64 - 1:
        raise ValueError(f"vocab_size={vocab_size} is too large for 64-bit pair keys")
    copies = 2 if symmetric else 1
    chunk_tokens = max(1, int(chunk_records) // (window * copies))
    parts_keys, parts_sums, pending = [], [], 0
    for begin in range(0, n_tokens, chunk_tokens):
        end = min(n_tokens, begin + chunk_tokens)
        n_slots = (end - begin) * window * copies
        keys = cp.empty(n_slots, dtype=cp.uint64)
        weights = cp.empty(n_slots, dtype=cp.float64)
        launch_cooccur_pairs(ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size,
                             keys, weights)
        n_valid = n_slots - int(cp.count_nonzero(keys == EMPTY_KEY))
        order = cp.argsort(keys)  # the empty slots sort last
        keys, weights = keys[order[:n_valid]], weights[order[:n_valid]]
        del order
        keys, weights = _reduce_sorted(keys, weights)
        parts_keys.append(keys)
        parts_sums.append(weights)
        pending += keys.shape[0]
        if len(parts_keys) > 1 and pending > chunk_records:
            merged = _sort_reduce(cp.concatenate(parts_keys), cp.concatenate(parts_sums))
            parts_keys, parts_sums, pending = [merged[0]], [merged[1]], merged[0].shape[0]
    if len(parts_keys) > 1:
        keys, sums = _sort_reduce(cp.concatenate(parts_keys), cp.concatenate(parts_sums))
    elif parts_keys:
        keys, sums = parts_keys[0], parts_sums[0]
    else:
        keys, sums = cp.empty(0, dtype=cp.uint64), cp.empty(0, dtype=cp.float64)
    nnz = keys.shape[0]
    if nnz >= 2 ** 31:
        raise ValueError(f"the count has {nnz} nonzeros; the GPU's CSR holds at most 2**31 - 1 "
                         f"(use device='cpu')")
    v = cp.uint64(vocab_size)
    rows = (keys // v).astype(cp.int64)
    cols = (keys % v).astype(cp.int32)
    indptr = cp.searchsorted(rows, cp.arange(vocab_size + 1, dtype=cp.int64)).astype(cp.int32)
    return csp.csr_matrix((sums.astype(cp.float32), cols, indptr), shape=(vocab_size, vocab_size))


# ----------------------------------------------------------------------------------------------
# GloVe

def launch_glove_epoch(records, word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                       word_bias_gradsq, context_bias_gradsq, eta, bias_eta, cost, sequential=False):
    """One AdaGrad pass over `records` (int32 (nnz, 4)), updating the eight arrays in place.

    Vectors and accumulators: float32 (n_words, stride); biases and their accumulators: float32
    (n_words,); cost: float64 (1,), added to. `sequential` runs one warp, which processes the
    records strictly in order (for checks against the serial CPU epoch).
    """
    _check(records, "records", np.int32, shape=(None, 4))
    _check(word, "word_vectors", np.float32, ndim=2)
    n_words, stride = word.shape
    for name, array in (("context_vectors", context), ("word_gradsq", word_gradsq),
                        ("context_gradsq", context_gradsq)):
        _check(array, name, np.float32, shape=(n_words, stride))
    for name, array in (("word_biases", word_bias), ("context_biases", context_bias),
                        ("word_bias_gradsq", word_bias_gradsq), ("context_bias_gradsq", context_bias_gradsq)):
        _check(array, name, np.float32, shape=(n_words,))
    _check(cost, "cost", np.float64, shape=(1,))
    nnz = records.shape[0]
    if nnz == 0:
        return
    kernel = _kernel("glove.cu", "glove_epoch")
    threads = 32 if sequential else 256
    blocks = 1 if sequential else _grid(nnz, threads // 32)
    kernel((blocks,), (threads,),
           (records, np.int64(nnz), word, context, word_bias, context_bias, word_gradsq, context_gradsq,
            word_bias_gradsq, context_bias_gradsq, np.int32(stride), np.float32(eta), np.float32(bias_eta),
            cost))


def glove_records(cooc, x_max, alpha, seed):
    """GloVe's training records of a co-occurrence matrix, shuffled: int32 (nnz, 4) holding
    (row, col, log x, f(x)) with the two floats as their bit patterns; f(x) = min(1, (x/x_max)^alpha).
    The order is a permutation drawn on the host from `seed`, so it does not depend on the GPU."""
    cp = _cupy()
    csr = cooc if is_device_array(cooc) else to_device(cooc)
    csr = csr.tocsr()
    csr.sum_duplicates()
    x = csr.data.astype(cp.float64)
    keep = x > 0
    nnz = int(keep.sum())
    if nnz == 0:
        raise ValueError("cooc has no positive counts to train on")
    row_of = cp.searchsorted(csr.indptr[1:].astype(cp.int64), cp.arange(csr.nnz, dtype=cp.int64), side="right")
    records = cp.empty((nnz, 4), dtype=cp.int32)
    records[:, 0] = row_of[keep].astype(cp.int32)
    records[:, 1] = csr.indices[keep].astype(cp.int32)
    xs = x[keep]
    records[:, 2] = cp.log(xs).astype(cp.float32).view(cp.int32)
    records[:, 3] = cp.minimum(1.0, (xs / x_max) ** alpha).astype(cp.float32).view(cp.int32)
    order = cp.asarray(np.random.default_rng(seed).permutation(nnz))
    return cp.ascontiguousarray(records[order])


def glove_epoch(records, params, eta, bias_eta, sequential=False):
    """One GloVe epoch on the GPU; returns the summed cost ``sum 0.5 f(x) diff**2`` (float).

    Parameters
    ----------
    records : cupy.ndarray int32 (nnz, 4)
        From `glove_records`.
    params : dict of cupy.ndarray
        ``word``, ``context`` (float32 (n_words, stride)), ``word_bias``, ``context_bias``
        (float32 (n_words,)), and their AdaGrad accumulators ``word_gradsq``,
        ``context_gradsq``, ``word_bias_gradsq``, ``context_bias_gradsq`` (starting at 1);
        updated in place.
    eta : float
        Learning rate of the vectors.
    bias_eta : float
        Learning rate of the biases (`GloVe.bias_learning_rate`).
    sequential : bool
        One warp, records strictly in order (reproduces the serial CPU epoch up to rounding).
    """
    cp = _cupy()
    cost = cp.zeros(1, dtype=cp.float64)
    launch_glove_epoch(records, params["word"], params["context"], params["word_bias"],
                       params["context_bias"], params["word_gradsq"], params["context_gradsq"],
                       params["word_bias_gradsq"], params["context_bias_gradsq"], eta, bias_eta, cost,
                       sequential)
    return float(cost[0])


# ----------------------------------------------------------------------------------------------
# word2vec

def launch_w2v_keep_mask(ids, keep_table, seed, epoch, mask):
    """mask[p] = 1 when token p survives subsampling in `epoch` (uint8 (n_tokens,))."""
    _check(ids, "ids", np.int32, ndim=1)
    _check(keep_table, "keep_table", np.uint64, ndim=1)
    _check(mask, "mask", np.uint8, shape=(ids.shape[0],))
    n = ids.shape[0]
    if n == 0:
        return
    kernel = _kernel("sgns.cu", "w2v_keep_mask")
    kernel((_grid(n, 256),), (256,), (ids, np.int64(n), keep_table, np.uint64(seed), np.uint64(epoch), mask))


def subsample(ids, offsets, keep_table, seed, epoch):
    """(kept ids, their sentence offsets) for one epoch's subsampling of the token stream."""
    cp = _cupy()
    mask = cp.empty(ids.shape[0], dtype=cp.uint8)
    launch_w2v_keep_mask(ids, keep_table, seed, epoch, mask)
    kept = mask.astype(cp.bool_)
    before = cp.concatenate([cp.zeros(1, dtype=cp.int64), cp.cumsum(kept, dtype=cp.int64)])
    return cp.ascontiguousarray(ids[kept]), cp.ascontiguousarray(before[offsets])


def sgns_shared_bytes(sg, dim, negative, warps_per_block):
    """Dynamic shared memory of a word2vec block (see sgns.cu)."""
    n_targets = 1 + negative
    floats = (2 * n_targets * dim + dim) if sg else 2 * dim
    return warps_per_block * (4 * floats + 4 * n_targets)


_SHARED_LIMIT = 48 * 1024  # bytes of shared memory every CUDA card gives a block without opt-in


def _warps_per_block(sg, dim, negative, sequential):
    if sequential:
        return 1
    for warps in (8, 4, 2, 1):
        if sgns_shared_bytes(sg, dim, negative, warps) <= _SHARED_LIMIT:
            return warps
    raise ValueError(f"vector_size={dim} with negative={negative} needs "
                     f"{sgns_shared_bytes(sg, dim, negative, 1)} bytes of shared memory per warp on the "
                     f"GPU, more than {_SHARED_LIMIT}; lower one of them or use device='cpu'")


def launch_sgns(ids, offsets, begin, end, input_vectors, output_vectors, noise_prob, noise_alias, window,
                negative, alpha, sg, cbow_mean, seed, epoch, loss, sequential=False):
    """Train centre positions [begin, end) of the token stream (skip-gram or CBOW), in place."""
    n_tokens = ids.shape[0]
    _check(ids, "ids", np.int32, ndim=1)
    _check(offsets, "offsets", np.int64, ndim=1)
    _check(input_vectors, "input_vectors", np.float32, ndim=2)
    vocab_size, dim = input_vectors.shape
    _check(output_vectors, "output_vectors", np.float32, shape=(vocab_size, dim))
    _check(noise_prob, "noise_prob", np.uint32, shape=(vocab_size,))
    _check(noise_alias, "noise_alias", np.int32, shape=(vocab_size,))
    _check(loss, "loss", np.float64, shape=(1,))
    if not 0 <= begin <= end <= n_tokens:
        raise ValueError(f"token range [{begin}, {end}) outside the {n_tokens} tokens")
    if not 0 <= negative <= MAX_NEGATIVE:
        raise ValueError(f"negative must be in [0, {MAX_NEGATIVE}] on the GPU, got {negative}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if end == begin:
        return
    warps = _warps_per_block(sg, dim, negative, sequential)
    blocks = 1 if sequential else _grid(end - begin, warps)
    shared = sgns_shared_bytes(sg, dim, negative, warps)
    common = (ids, offsets, np.int64(offsets.shape[0] - 1), np.int64(begin), np.int64(end), input_vectors,
              output_vectors, np.int32(dim), noise_prob, noise_alias, np.int32(vocab_size), np.int32(window),
              np.int32(negative), np.float32(alpha))
    if sg:
        kernel = _kernel("sgns.cu", "sgns_skipgram")
        args = common + (np.uint64(seed), np.uint64(epoch), loss)
    else:
        kernel = _kernel("sgns.cu", "sgns_cbow")
        args = common + (np.int32(bool(cbow_mean)), np.uint64(seed), np.uint64(epoch), loss)
    kernel((blocks,), (32 * warps,), args, shared_mem=shared)


def sgns_epoch(ids, offsets, input_vectors, output_vectors, noise_prob, noise_alias, keep_table, window,
               negative, alpha, min_alpha, sg, cbow_mean, seed, epoch, words_before, total_words,
               chunk_tokens=1 << 21, sequential=False):
    """One word2vec epoch on the GPU (the semantics of ``ec.Word2Vec``'s shared-negative kernel).

    Subsamples the stream with `keep_table` (thresholds out of 2**32, as the CPU builds them),
    then trains the kept tokens in chunks; the learning rate falls linearly from `alpha` to
    `min_alpha` over `total_words` raw tokens and is held constant within a chunk.

    Parameters
    ----------
    ids : cupy.ndarray int32 (n_tokens,)
    offsets : cupy.ndarray int64 (n_sentences + 1,)
    input_vectors, output_vectors : cupy.ndarray float32 (vocab, dim)
        Updated in place.
    noise_prob : cupy.ndarray uint32 (vocab,), noise_alias : cupy.ndarray int32 (vocab,)
        The alias table of the noise distribution.
    keep_table : cupy.ndarray uint64 (vocab,)
    window, negative : int
    alpha, min_alpha : float
    sg : bool
        Skip-gram (True) or CBOW.
    cbow_mean : bool
    seed, epoch : int
        Name the random draws (see sgns.cu).
    words_before, total_words : int
        Raw tokens trained before this epoch and over the whole training (for the learning rate).
    chunk_tokens : int
        Kept tokens per kernel launch.
    sequential : bool
        One warp, centre words strictly in order (for checks against a serial reference).

    Returns
    -------
    (loss, n_kept) : (float, int)
        The summed negative-sampling loss and the tokens left after subsampling.
    """
    cp = _cupy()
    n_raw = ids.shape[0]
    _check_offsets(offsets, n_raw)
    kept_ids, kept_offsets = subsample(ids, offsets, keep_table, seed, epoch)
    n_kept = kept_ids.shape[0]
    loss = cp.zeros(1, dtype=cp.float64)
    for begin in range(0, n_kept, chunk_tokens):
        end = min(n_kept, begin + chunk_tokens)
        raw_done = words_before + (begin * n_raw) // max(1, n_kept)
        rate = max(min_alpha, alpha - (alpha - min_alpha) * raw_done / max(1, total_words))
        launch_sgns(kept_ids, kept_offsets, begin, end, input_vectors, output_vectors, noise_prob, noise_alias,
                    window, negative, rate, sg, cbow_mean, seed, epoch, loss, sequential)
    return float(loss[0]), n_kept


def word2vec_train(ids, offsets, input_vectors, output_vectors, noise_prob, noise_alias, keep_table, window,
                   negative, alpha, min_alpha, epochs, sg=True, cbow_mean=True, seed=1, on_epoch_end=None):
    """Train word2vec for `epochs` epochs on the GPU (see `sgns_epoch`); returns the per-epoch losses.

    The arguments are those of `sgns_epoch` (numpy tables are copied to the GPU once; the two
    vector tables must already be CuPy arrays, updated in place). `on_epoch_end(epoch, loss)` is
    called after each epoch.
    """
    cp = _cupy()
    ids = _as_input(ids, "ids", cp.int32, 1)
    offsets = _as_input(offsets, "offsets", cp.int64, 1)
    noise_prob = _as_input(noise_prob, "noise_prob", cp.uint32, 1)
    noise_alias = _as_input(noise_alias, "noise_alias", cp.int32, 1)
    keep_table = _as_input(keep_table, "keep_table", cp.uint64, 1)
    n_tokens = ids.shape[0]
    total = n_tokens * epochs
    losses = []
    for epoch in range(epochs):
        loss, _ = sgns_epoch(ids, offsets, input_vectors, output_vectors, noise_prob, noise_alias, keep_table,
                             window, negative, alpha, min_alpha, sg, cbow_mean, seed, epoch, epoch * n_tokens, total)
        losses.append(loss)
        if on_epoch_end is not None:
            on_epoch_end(epoch, loss)
    return losses


# ----------------------------------------------------------------------------------------------
# PPMI and randomized SVD

def ppmi(cooc, cds=0.75, shift=1.0):
    """Positive PMI with context-distribution smoothing: ``ec.ppmi`` on the GPU.

    ``PMI(w, c) = log(C[w, c] * sum_c' n(c')**cds / (n(w) * n(c)**cds)) - log(shift)`` with row
    sums n(w) and column sums n(c), in float64; only positive entries are kept.

    Parameters
    ----------
    cooc : cupyx.scipy.sparse matrix or scipy.sparse matrix (copied to the GPU)
    cds, shift : float

    Returns
    -------
    cupyx.scipy.sparse.csr_matrix
        float32, same shape, column order of each row kept.
    """
    cp = _cupy()
    from cupyx.scipy import sparse as csp
    csr = cooc if is_device_array(cooc) else to_device(cooc)
    csr = csr.tocsr().astype(cp.float64)
    csr.sum_duplicates()
    n_rows, n_cols = csr.shape
    data = csr.data
    row_sums = cp.zeros(n_rows, dtype=cp.float64)
    col_sums = cp.zeros(n_cols, dtype=cp.float64)
    rows = cp.searchsorted(csr.indptr[1:].astype(cp.int64), cp.arange(csr.nnz, dtype=cp.int64), side="right")
    cp.add.at(row_sums, rows, data)
    cp.add.at(col_sums, csr.indices, data)
    smoothed = col_sums ** cds
    total = smoothed.sum()
    # explicit zeros give log 0 = -inf and are dropped with the non-positive values
    pmi = cp.log(data * total / (row_sums[rows] * smoothed[csr.indices])) - math.log(shift)
    keep = pmi > 0
    kept_rows = rows[keep]
    indptr = cp.searchsorted(kept_rows, cp.arange(n_rows + 1, dtype=cp.int64)).astype(cp.int32)
    return csp.csr_matrix((pmi[keep].astype(cp.float32), csr.indices[keep].astype(cp.int32), indptr),
                          shape=(n_rows, n_cols))


def randomized_svd(X, k, n_oversamples=10, n_iter=4, seed=0):
    """Truncated SVD by random projection and power iterations: ``ec.randomized_svd`` on the GPU.

    Halko, Martinsson and Tropp (2011), algorithm 4.4: products with X and X^T by cuSPARSE or
    cuBLAS, a QR (cuSOLVER) after each product, then the SVD of the small Q^T X. The random
    projection is drawn on the host with ``numpy.random.default_rng(seed)`` exactly as the CPU
    path draws it. Signs follow scikit-learn's ``svd_flip``.

    Parameters
    ----------
    X : cupy.ndarray or cupyx.scipy.sparse matrix (or numpy / scipy.sparse, copied), shape (m, n)
    k : int
        1 <= k <= min(m, n).
    n_oversamples, n_iter, seed : int

    Returns
    -------
    U : cupy.ndarray float32 (m, k), S : float32 (k,), Vt : float32 (k, n)
    """
    cp = _cupy()
    from cupyx.scipy import sparse as csp
    if is_device_array(X):
        A = X.tocsr().astype(cp.float32) if csp.issparse(X) else cp.ascontiguousarray(X, dtype=cp.float32)
    else:
        A = to_device(X, dtype=np.float32)
    m, n = A.shape
    if not 1 <= k <= min(m, n):
        raise ValueError(f"k must be in [1, min(X.shape) = {min(m, n)}], got {k}")
    transpose = m < n
    At = A.T.tocsr() if csp.issparse(A) else A.T
    if transpose:
        A, At = At, A
        m, n = n, m
    p = min(k + n_oversamples, n)
    omega = np.random.default_rng(seed).standard_normal((n, p), dtype=np.float32)
    q = cp.asarray(omega)
    for _ in range(n_iter):
        q, _r = cp.linalg.qr(A @ q)
        q, _r = cp.linalg.qr(At @ q)
    q, _r = cp.linalg.qr(A @ q)                               # m x p, orthonormal
    bt = cp.ascontiguousarray((At @ q).astype(cp.float64))    # n x p = (Q^T A)^T
    w, s, zt = cp.linalg.svd(bt, full_matrices=False)         # bt = W diag(s) Zt
    u = q @ cp.ascontiguousarray(zt[:k].T.astype(cp.float32))  # A ~ (Q Zt^T) diag(s) W^T
    vt = cp.ascontiguousarray(w[:, :k].T.astype(cp.float32))
    s = s[:k].astype(cp.float32)
    if transpose:
        u, vt = cp.ascontiguousarray(vt.T), cp.ascontiguousarray(u.T)
    rows = cp.argmax(cp.abs(u), axis=0)
    signs = cp.sign(u[rows, cp.arange(u.shape[1])])
    signs[signs == 0] = 1
    return cp.ascontiguousarray(u * signs[None, :]), s, cp.ascontiguousarray(vt * signs[:, None])


# ----------------------------------------------------------------------------------------------
# entry points of the public API (device="cuda"): validate, convert, numpy in -> numpy out

def _device_matrix(value, name):
    """A validated C-contiguous float32 CuPy matrix of a CuPy or host array (host input is
    checked on the host by the shared validators, then copied once)."""
    cp = _cupy()
    if not is_device_array(value):
        from embedcore._validation import as_float32_matrix
        return cp.asarray(as_float32_matrix(value, name))
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {_describe(value)}")
    if value.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got {_describe(value)}")
    if value.size == 0:
        raise ValueError(f"{name} must not be empty, got {_describe(value)}")
    value = cp.ascontiguousarray(value, dtype=cp.float32)
    if not bool(cp.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return value


def cosine_topk(queries, database, k=10, exclude=None, normalized=False):
    """``ec.cosine_topk(..., device="cuda")``: CuPy in, CuPy out; numpy in, numpy out.

    Validates as the CPU function does (plus k <= 256, the GPU selection's limit) and runs
    `topk`. See ``embedcore.cosine_topk`` for the parameters.
    """
    cp = _cupy()
    from embedcore._validation import check_int
    on_host = not (is_device_array(queries) or is_device_array(database))
    if not isinstance(normalized, (bool, np.bool_)):
        raise TypeError(f"normalized must be a bool, got {type(normalized).__name__}")
    q = _device_matrix(queries, "queries")
    db = _device_matrix(database, "database")
    nq, d = q.shape
    nb = db.shape[0]
    if db.shape[1] != d:
        raise ValueError(f"queries and database must have the same number of columns, got queries with {d} "
                         f"and database with {db.shape[1]}")
    k = check_int(k, "k", minimum=1)
    if k > nb:
        raise ValueError(f"k must be <= the number of database rows ({nb}), got {k}")
    if k > TOPK_MAX_K:
        raise ValueError(f"k must be <= {TOPK_MAX_K} with device='cuda', got {k}")
    if exclude is not None:
        ex = cp.asarray(exclude)
        if ex.ndim != 1 or ex.shape[0] != nq:
            raise ValueError(f"exclude must be a 1-D integer array with one entry per query ({nq}), "
                             f"got {_describe(ex)}")
        if ex.size and ex.dtype.kind not in "iu":
            raise TypeError(f"exclude must hold integers, got {_describe(ex)}")
        if ex.size and (int(ex.min()) < -1 or int(ex.max()) >= nb):
            raise ValueError(f"exclude must hold database rows in [0, {nb}) or -1 for none, "
                             f"got values in [{int(ex.min())}, {int(ex.max())}]")
        exclude = cp.ascontiguousarray(ex, dtype=cp.int64)
        if k == nb and nq and int(exclude.max()) >= 0:
            raise ValueError(f"k must be <= {nb - 1} (the database rows left after exclude), got {k}")
    scores, indices = topk(q, db, k, exclude, bool(normalized))
    return (scores.get(), indices.get()) if on_host else (scores, indices)


def count_cooccurrence(ids, offsets, vocab_size, window, symmetric, distance_weighting):
    """``ec.cooccurrence(..., device="cuda")`` on a validated host corpus: a scipy CSR matrix."""
    matrix = cooccurrence(ids, offsets, vocab_size, window, symmetric, distance_weighting)
    return matrix.get()


def truncated_svd(X, k, n_oversamples, n_iter, seed):
    """``ec.randomized_svd(..., device="cuda")``: CuPy in, CuPy out; numpy / scipy in, numpy out."""
    import scipy.sparse as sp
    cp = _cupy()
    on_host = not is_device_array(X)
    if on_host and not sp.issparse(X):
        X = _device_matrix(X, "X")
    elif on_host:
        if X.ndim != 2 or min(X.shape) == 0:
            raise ValueError(f"X must be a non-empty 2-D matrix, got shape {X.shape}")
        X = to_device(X, dtype=np.float32)
    if getattr(X, "ndim", 2) != 2 or min(X.shape) == 0:
        raise ValueError(f"X must be a non-empty 2-D matrix, got shape {X.shape}")
    values = X.data if not isinstance(X, cp.ndarray) else X
    if not bool(cp.isfinite(values).all()):
        raise ValueError("X contains NaN or infinity")
    U, S, Vt = randomized_svd(X, k, n_oversamples, n_iter, seed)
    return (U.get(), S.get(), Vt.get()) if on_host else (U, S, Vt)


class GloveTrainer:
    """The parameters of a GloVe model on the GPU while it trains.

    Copies the model's eight arrays and the records to the device; `epoch` runs one epoch there
    and returns ``(cost, "cuda")`` as the CPU epoch returns ``(cost, simd)``; `finish` copies the
    arrays back into the model's (host) arrays.
    """

    NAMES = (("word", "_word"), ("context", "_context"), ("word_bias", "word_biases"),
             ("context_bias", "context_biases"), ("word_gradsq", "_word_gradsq"),
             ("context_gradsq", "_context_gradsq"), ("word_bias_gradsq", "_word_bias_gradsq"),
             ("context_bias_gradsq", "_context_bias_gradsq"))

    def __init__(self, model, records):
        cp = _cupy()
        self.model = model
        self.records = cp.asarray(np.ascontiguousarray(records).view(np.int32).reshape(len(records), 4))
        self.params = {name: cp.asarray(getattr(model, attr)) for name, attr in self.NAMES}

    def epoch(self, learning_rate, bias_learning_rate):
        return glove_epoch(self.records, self.params, learning_rate, bias_learning_rate), "cuda"

    def finish(self):
        for name, attr in self.NAMES:
            getattr(self.model, attr)[...] = self.params[name].get()


def train_word2vec_model(model, corpus):
    """``Word2Vec._train`` on the GPU for a model with ``device="cuda"``.

    The same initial vectors, noise and subsampling tables (``model._tables()``), learning-rate
    schedule, callbacks, loss history and stats as the CPU path; the random draws are the
    kernels' own (see sgns.cu), so results agree with the CPU statistically, not bit for bit.
    Skip-gram always shares each centre word's negatives across its window. The vectors are
    copied back to ``model.input_vectors`` / ``model.syn1neg`` (numpy) after every epoch.

    Raises
    ------
    ValueError
        ``negative_sharing=False`` (CPU only), ``negative > 255``, or a vector size and negative
        count whose skip-gram block does not fit in a GPU block's shared memory.
    """
    import time
    from embedcore._progress import call_epoch_end, progress_bar
    from embedcore.word2vec import initial_vectors
    cp = _cupy()
    if not model.negative_sharing:
        raise ValueError("negative_sharing=False (word2vec.c's per-pair update) runs on the CPU only; "
                         "use device='cpu'")
    if model.negative > MAX_NEGATIVE:
        raise ValueError(f"negative must be <= {MAX_NEGATIVE} with device='cuda', got {model.negative}")
    _warps_per_block(bool(model.sg), model.vector_size, model.negative, False)  # fits shared memory
    n_words, dim = len(model.vocab), model.vector_size
    inp = cp.asarray(initial_vectors(n_words, dim, model.seed))
    out = cp.zeros((n_words, dim), dtype=cp.float32)
    keep, prob, alias = model._tables()
    keep, prob, alias = cp.asarray(keep), cp.asarray(prob), cp.asarray(alias)
    ids = cp.asarray(np.ascontiguousarray(corpus.ids, dtype=np.int32))
    offsets = cp.asarray(np.ascontiguousarray(corpus.offsets, dtype=np.int64))
    n_tokens = int(ids.shape[0])
    total = n_tokens * model.epochs
    words_done = 0
    interrupted = False
    model.loss_history = []
    kind = "skip-gram" if model.sg else "CBOW"
    bar = progress_bar(model.progress, total, f"training {kind} on the GPU", "word")
    start = time.perf_counter()
    try:
        for epoch in range(model.epochs):
            loss, _ = sgns_epoch(ids, offsets, inp, out, prob, alias, keep, model.window, model.negative,
                                 model.alpha, model.min_alpha, bool(model.sg), bool(model.cbow_mean), model.seed,
                                 epoch, epoch * n_tokens, total)
            words_done += n_tokens
            bar.update(n_tokens)
            model.loss_history.append(loss)
            logger.info("word2vec epoch %d/%d on the GPU: loss %.6g", epoch + 1, model.epochs, loss)
            model.input_vectors, model.syn1neg = inp.get(), out.get()
            model._finish_stats(words_done, time.perf_counter() - start, "cuda", 1, False)
            call_epoch_end(model.callbacks, model, epoch)
    except KeyboardInterrupt:
        interrupted = True
        logger.warning("word2vec training interrupted after %d of %d words; the vectors are usable",
                       words_done, total)
    finally:
        bar.close()
    model.input_vectors, model.syn1neg = inp.get(), out.get()
    model._finish_stats(words_done, time.perf_counter() - start, "cuda", 1, interrupted)


# The product size (queries x database rows x dimension) from which device="auto" moves numpy
# inputs of cosine_topk to the GPU: below it, the copy to the device costs more than the search
# saves (a KeyedVectors.most_similar call, for instance, stays on the CPU).
AUTO_TOPK_MIN_WORK = 10 ** 10


def topk_on_gpu(device, queries, database):
    """Whether ``cosine_topk(..., device=device)`` runs on the GPU: "cuda" always (raising when
    no GPU is usable), "cpu" never, "auto" for CuPy inputs, and for numpy inputs of at least
    AUTO_TOPK_MIN_WORK multiply-adds when a GPU is usable."""
    from embedcore._device import resolve_device
    resolved = resolve_device(device, queries, database)
    if device != "auto" or resolved == "cpu" or is_device_array(queries) or is_device_array(database):
        return resolved == "cuda"
    shape_q, shape_d = np.shape(queries), np.shape(database)
    if len(shape_q) != 2 or len(shape_d) != 2:
        return False  # the CPU path reports the error
    return shape_q[0] * shape_d[0] * shape_d[1] >= AUTO_TOPK_MIN_WORK
