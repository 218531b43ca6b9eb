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
from embedcore._validation import check_int
from embedcore.corpus import EncodedCorpus

logger = logging.getLogger("embedcore")

# Bytes a row range needs per occurrence of its words and per 64-bit word of its packed form
# (read from its file, then sorted by word)
# and per nonzero of
# its rows (int32 column + float32 value while built, then copied out block by block; the growth
# slack of the largest block comes on top).
INDEX_BYTES_PER_TOKEN = 16
ROW_BYTES_PER_NONZERO = 12


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
        whole count needs more, the rows are counted in ranges sized from the word counts so
        that each range's occurrences and rows fit (a row's nonzeros are at most
        min(vocab_size, 2 * window * its word's count)). One scan of the corpus writes each word
        occurrence to its range's temporary file (under ``tempfile.gettempdir()``); each range
        is then counted from its file and its finished rows go to another file, read back in
        order into the result, so the peak is about the result plus `max_memory`. The files are
        removed on success, on error and on KeyboardInterrupt. GloVe's cooccur spills sorted
        runs of records and merges them; rows counted by range are final, so nothing needs
        merging, and the matrix is bit-identical to the unbounded count.
    progress : bool
        Show a progress bar of a bounded count.

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
        accumulator per thread and the largest row.
    RuntimeError
        device='cuda' (the CUDA path is not built yet) or CUDA is not usable.

    Notes
    -----
    After each call ``cooccurrence.last_stats`` holds ``shards`` (row ranges counted),
    ``working_bytes`` (peak working memory as the kernels account it) and ``seconds``.

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
    args = (window, bool(symmetric), bool(distance_weighting), threads)
    plan = None if max_memory is None else _plan_row_ranges(ids, vocab_size, window, symmetric, threads, max_memory)
    if plan is None or len(plan) == 1:
        (indptr, indices, data), working = _native.cooccur_count(ids, offsets, 0, vocab_size, vocab_size, *args)
        shards = 1
    else:
        budget = max_memory - _fixed_bytes(vocab_size, threads)
        indptr, indices, data, working = _count_by_row_ranges(ids, offsets, vocab_size, plan, args, progress, budget)
        shards = len(plan)
    matrix = sp.csr_matrix((data, indices, indptr), shape=(vocab_size, vocab_size), copy=False)
    matrix.has_sorted_indices = True
    seconds = time.perf_counter() - start
    logger.info("co-occurrence: %d tokens, window %d, %d nonzeros in %.2f s (%d row range%s, %.0f MB working memory)",
                len(ids), window, matrix.nnz, seconds, shards, "" if shards == 1 else "s", working / 1e6)
    cooccurrence.last_stats = {"shards": shards, "working_bytes": int(working), "seconds": seconds}
    return matrix


cooccurrence.last_stats = {}


def _fixed_bytes(vocab_size, threads):
    """Row accumulators and bitmaps (per thread), word counts and the word -> range table."""
    return 13 * vocab_size * threads + 12 * vocab_size


def _entry_words(window, n_tokens):
    """64-bit words per packed occurrence, as the kernel packs them."""
    return 2 if window > 4095 or n_tokens >= (1 << 40) else 1


def _plan_row_ranges(ids, vocab_size, window, symmetric, threads, max_memory):
    """Row ranges [lo, hi) whose count fits max_memory, from an upper bound of each row's need."""
    counts = np.bincount(ids, minlength=vocab_size).astype(np.int64)
    reach = 2 * window if symmetric else window
    words = _entry_words(window, len(ids))
    need = (INDEX_BYTES_PER_TOKEN * words * counts + ROW_BYTES_PER_NONZERO * np.minimum(vocab_size, reach * counts)
            + 40)
    fixed = _fixed_bytes(vocab_size, threads)
    budget = max_memory - fixed
    if budget < need.max():
        raise ValueError(f"max_memory must be at least {fixed + int(need.max())} bytes here (a row accumulator "
                         f"of {vocab_size} words for each of {threads} threads, and the largest row), "
                         f"got {max_memory}")
    if need.sum() <= budget:
        return [(0, vocab_size)]
    ranges, lo, used = [], 0, 0
    for r, b in enumerate(need.tolist()):
        if used + b > budget:
            ranges.append((lo, r))
            lo, used = r, 0
        used += b
    ranges.append((lo, vocab_size))
    return ranges


def _count_by_row_ranges(ids, offsets, vocab_size, plan, args, progress, budget):
    """Bounded count: one scan of the corpus sorts each word occurrence into its row range's
    temporary file; then each range is counted from its file and its finished rows go to another
    file; the rows are read back in order into the result."""
    window = args[0]
    tmpdir = tempfile.mkdtemp(prefix="embedcore-cooccur-")
    range_start = np.array([lo for lo, _ in plan] + [vocab_size], dtype=np.int64)
    n = len(ids)
    chunk = max(1, budget // (INDEX_BYTES_PER_TOKEN * _entry_words(window, len(ids))))
    pieces, peak = [], 0
    bar = progress_bar(progress, total=n + len(plan), desc="co-occurrence", unit="step")
    try:
        occurrence_paths = [os.path.join(tmpdir, f"occ{i:05d}") for i in range(len(plan))]
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            entries, counts = _native.cooccur_partition(ids, offsets, a, b, range_start, vocab_size, window)
            words = len(entries) // max(1, b - a)
            at = 0
            for path, k in zip(occurrence_paths, counts.tolist()):
                if k:  # opened per chunk, so that many ranges never hold many files open
                    with open(path, "ab") as f:
                        entries[at:at + k * words].tofile(f)
                    at += k * words
            peak = max(peak, entries.nbytes + 4 * vocab_size)
            del entries
            bar.update(b - a)
        for i, (lo, hi) in enumerate(plan):
            if os.path.exists(occurrence_paths[i]):
                occurrences = np.fromfile(occurrence_paths[i], dtype=np.uint64)
                os.remove(occurrence_paths[i])
            else:  # no word of the range occurs
                occurrences = np.zeros(0, dtype=np.uint64)
            (indptr, indices, data), working = _native.cooccur_count_occurrences(
                ids, occurrences, lo, hi, vocab_size, *args)
            peak = max(peak, working)  # the kernel counts its copy of the occurrences and ours
            del occurrences
            path = os.path.join(tmpdir, f"rows{i:05d}")
            with open(path, "wb") as f:
                indices.tofile(f)
                data.tofile(f)
            pieces.append((path, indptr))
            del indices, data
            bar.update(1)
        nnz = sum(int(p[-1]) for _, p in pieces)
        indptr = np.empty(vocab_size + 1, dtype=np.int64)
        indices = np.empty(nnz, dtype=np.int32)
        data = np.empty(nnz, dtype=np.float32)
        indptr[0] = at = 0
        for (path, piece), (lo, hi) in zip(pieces, plan):
            k = int(piece[-1])
            indptr[lo + 1:hi + 1] = piece[1:] + at
            with open(path, "rb") as f:
                for array in (indices[at:at + k], data[at:at + k]):
                    if f.readinto(memoryview(array).cast("B")) != array.nbytes:
                        raise OSError(f"co-occurrence: temporary file {path} was truncated")
            os.remove(path)
            at += k
        return indptr, indices, data, peak
    finally:
        bar.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
