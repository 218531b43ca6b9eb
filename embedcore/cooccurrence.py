"""Word-word co-occurrence counts (GloVe's `cooccur`) as a scipy CSR matrix."""
import logging
import os
import shutil
import tempfile
import time

import numpy as np
import scipy.sparse as sp

from embedcore import _native
from embedcore._device import resolve_device
from embedcore._progress import progress_bar
from embedcore._threads import effective_workers
from embedcore._validation import check_int, describe
from embedcore.corpus import EncodedCorpus

logger = logging.getLogger("embedcore")

# A shard's focal positions are packed in 32 bits by the kernel.
MAX_SHARD_TOKENS = (1 << 31) - 1
# Bytes the kernel needs per shard token (its position index) and per nonzero of a shard's run
# (int32 column + float64 value while it is built, then again while it is copied out).
INDEX_BYTES_PER_TOKEN = 8
RUN_BYTES_PER_NONZERO = 24


def _as_corpus(corpus):
    if isinstance(corpus, EncodedCorpus):
        return corpus
    if isinstance(corpus, tuple) and len(corpus) == 2:
        return EncodedCorpus(*corpus)
    raise TypeError(f"corpus must be an EncodedCorpus or an (ids, offsets) tuple, got {type(corpus).__name__}")


def cooccurrence(corpus, vocab_size, window=10, symmetric=True, distance_weighting=True, workers=None,
                 device="auto", max_memory=None, progress=False):
    """Weighted word-word co-occurrence counts, as GloVe's ``cooccur`` computes them.

    For every two tokens of one sentence at most `window` positions apart, word ``a`` first and
    word ``b`` after it, ``X[a, b]`` grows by ``1/d`` (``d`` the distance; 1 without
    `distance_weighting`); with `symmetric` ``X[b, a]`` grows by the same amount. Pairs never
    cross a sentence boundary.

    ``symmetric=False`` gives GloVe's ``cooccur -symmetric 0`` matrix ("left context only"): the
    row is the earlier word, so row ``a`` holds the words that follow ``a`` and column ``b``
    holds the left context of ``b``. Take the transpose for each row's left context.

    Parameters
    ----------
    corpus : EncodedCorpus or (ids, offsets)
        Token ids and sentence boundaries, e.g. from ``vocab.encode(source)``.
    vocab_size : int
        Number of rows and columns; every id must be below it.
    window : int
        Largest distance between the two tokens of a pair, >= 1.
    symmetric : bool
        Count each pair in both orders (True) or earlier word -> later word only.
    distance_weighting : bool
        Weight a pair by 1/distance (GloVe's rule) or by 1.
    workers : int, optional
        Threads; None uses all usable cores. The result does not depend on it.
    device : {'auto', 'cpu', 'cuda'}
        Counting runs on the CPU; ``'cuda'`` raises RuntimeError.
    max_memory : int, optional
        Bytes of working memory the count may use besides the corpus and the result. When the
        whole corpus needs more, it is counted in shards whose partial matrices go to temporary
        files (under ``tempfile.gettempdir()``) and are summed row by row at the end; the files
        are removed on success, on error and on KeyboardInterrupt. The matrix is the same up to
        float32 rounding of the sums.
    progress : bool
        Show a progress bar over the shards.

    Returns
    -------
    scipy.sparse.csr_matrix
        float32, shape (vocab_size, vocab_size), sorted column indices, no explicit zeros.
        scipy stores the indices as int32 while they fit and as int64 beyond 2**31 nonzeros.

    Raises
    ------
    TypeError
        corpus is not an EncodedCorpus or an (ids, offsets) pair; an argument has the wrong type.
    ValueError
        window < 1, vocab_size < 1, an id >= vocab_size, max_memory too small to hold one row
        accumulator per thread.
    RuntimeError
        device='cuda' (the CUDA path is not built yet) or CUDA is not usable.

    Examples
    --------
    >>> corpus = EncodedCorpus([0, 1, 2, 0], [0, 3, 4])
    >>> X = cooccurrence(corpus, vocab_size=3, window=2)
    >>> X.toarray()
    array([[0. , 1. , 0.5],
           [1. , 0. , 1. ],
           [0.5, 1. , 0. ]], dtype=float32)
    """
    corpus = _as_corpus(corpus)
    vocab_size = check_int(vocab_size, "vocab_size", minimum=1, maximum=(1 << 31) - 1)
    window = check_int(window, "window", minimum=1, maximum=65535)
    if not isinstance(symmetric, (bool, np.bool_)):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__}")
    if not isinstance(distance_weighting, (bool, np.bool_)):
        raise TypeError(f"distance_weighting must be a bool, got {type(distance_weighting).__name__}")
    threads = effective_workers(workers)
    if max_memory is not None:
        max_memory = check_int(max_memory, "max_memory", minimum=1)
    if resolve_device(device) == "cuda":
        raise RuntimeError("cooccurrence: the CUDA path is not built yet; use device='cpu'")
    ids, offsets = corpus.ids, corpus.offsets
    if len(ids) and int(ids.max()) >= vocab_size:
        raise ValueError(f"corpus ids must be < vocab_size={vocab_size}, got the id {int(ids.max())}")

    start = time.perf_counter()
    n = len(ids)
    fixed = 16 * vocab_size * threads + 8 * (vocab_size + 1)  # accumulators, bitmaps, histograms
    per_token = INDEX_BYTES_PER_TOKEN + RUN_BYTES_PER_NONZERO * (2 * window if symmetric else window)
    if max_memory is not None and fixed >= max_memory:
        raise ValueError(f"max_memory must exceed {fixed} bytes (one row accumulator of {vocab_size} "
                         f"words per thread, {threads} threads), got {max_memory}")
    one_pass = n <= MAX_SHARD_TOKENS and (max_memory is None or fixed + per_token * n <= max_memory)
    if one_pass:
        (indptr, indices, data), working = _native.cooccur_count(
            ids, offsets, 0, n, vocab_size, window, bool(symmetric), bool(distance_weighting), threads, False)
        shards = 1
    else:
        indptr, indices, data, working, shards = _count_in_shards(
            ids, offsets, vocab_size, window, bool(symmetric), bool(distance_weighting), threads,
            max_memory, fixed, per_token, progress)
    matrix = sp.csr_matrix((data, indices, indptr), shape=(vocab_size, vocab_size), copy=False)
    matrix.has_sorted_indices = True
    logger.info("co-occurrence: %d tokens, window %d, %d nonzeros in %.2f s (%d shard%s, %.0f MB working memory)",
                n, window, matrix.nnz, time.perf_counter() - start, shards, "" if shards == 1 else "s",
                working / 1e6)
    cooccurrence.last_stats = {"shards": shards, "working_bytes": int(working),
                               "seconds": time.perf_counter() - start}
    return matrix


cooccurrence.last_stats = {}


def _count_in_shards(ids, offsets, vocab_size, window, symmetric, distance_weighting, threads, max_memory,
                     fixed, per_token, progress):
    """Counts shards of focal positions, spills each partial matrix to a temporary file, then sums them.

    Shard sizes adapt to the nonzeros per token seen so far, so each shard's index and run fit the
    budget; the first shard assumes the worst case (every neighbour a new column).
    """
    n = len(ids)
    budget = (max_memory if max_memory is not None else 1 << 62) - fixed
    tmpdir = tempfile.mkdtemp(prefix="embedcore-cooccur-")
    runs, peak, shards = [], 0, 0
    bar = progress_bar(progress, total=n, desc="co-occurrence", unit="tok")
    try:
        begin = 0
        while begin < n:
            size = max(1, min(MAX_SHARD_TOKENS, n - begin, budget // per_token))
            end = begin + size
            (indptr, indices, data), working = _native.cooccur_count(
                ids, offsets, begin, end, vocab_size, window, symmetric, distance_weighting, threads, True)
            peak = max(peak, working)
            paths = []
            for name, array in (("indptr", indptr), ("indices", indices), ("data", data)):
                path = os.path.join(tmpdir, f"run{shards:05d}.{name}")
                array.tofile(path)
                paths.append((path, array.dtype, array.shape))
            runs.append(paths)
            # nonzeros per token of this shard, with a margin, sizes the next one
            per_token = INDEX_BYTES_PER_TOKEN + max(1.0, 1.25 * len(data) / size) * RUN_BYTES_PER_NONZERO
            per_token = int(np.ceil(per_token))
            del indptr, indices, data
            shards += 1
            bar.update(size)
            begin = end
        maps = [tuple(np.memmap(path, dtype=dtype, mode="r", shape=shape) if shape[0] else np.empty(shape, dtype)
                      for path, dtype, shape in paths)
                for paths in runs]
        indptr, indices, data = _native.cooccur_merge(maps, vocab_size, vocab_size, threads)
        del maps
        return indptr, indices, data, peak, shards
    finally:
        bar.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
