"""Word-word co-occurrence counts (GloVe's `cooccur`) as a scipy CSR matrix."""
import io
import logging
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embedcore import _memory, _native
from embedcore._io import anonymous_temp_file
from embedcore._progress import progress_bar
from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, Int32Array, Int64Array, SparseMatrix, StrPath
from embedcore._validation import check_int
from embedcore.backends import get_backend
from embedcore.corpus import EncodedCorpus
from embedcore.sharded import ShardedMatrix, ShardWriter

logger = logging.getLogger("embedcore")

# Bytes a count needs per 64-bit word of a packed occurrence of a row's word, per nonzero of a row
# (int32 column + float32 value while built, then copied out block by block; the growth slack of
# the largest block comes on top) and per row (row counts, row nonzeros, indptr). A range of a
# bounded count sizes its row blocks from the row bound once and writes them out as they are:
# 8 bytes per nonzero of the bound.
ENTRY_BYTES_PER_WORD = 8
ROW_BYTES_PER_NONZERO = 12
RANGE_BYTES_PER_BOUNDED_NONZERO = 8
ROW_BYTES = 40
# A row's nonzeros are bounded by how many of its neighbours are not among the 64, or the 2048,
# most frequent words (the tiers of the neighbour tallies).
NEIGHBOUR_TIERS = (64, 2048)


def _as_corpus(corpus: "EncodedCorpus | tuple[npt.ArrayLike, npt.ArrayLike]") -> EncodedCorpus:
    if isinstance(corpus, EncodedCorpus):
        return corpus
    if isinstance(corpus, tuple) and len(corpus) == 2:
        return EncodedCorpus(*corpus)
    raise TypeError(f"corpus must be an EncodedCorpus or an (ids, offsets) tuple, got {type(corpus).__name__}")


def cooccurrence(corpus: "EncodedCorpus | tuple[npt.ArrayLike, npt.ArrayLike]", vocab_size: int, window: int = 10,
                 symmetric: bool = True, distance_weighting: bool = True, workers: int | None = None,
                 device: str = "auto", max_memory: int | None = None, progress: bool = False,
                 out_dir: StrPath | None = None) -> "SparseMatrix | ShardedMatrix":
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
        ``'cuda'`` counts on the GPU (pair records, sort, segmented sums in float64; the same
        matrix up to the order of float64 additions; `workers`, `max_memory` and `progress`
        unused there, at most 2**31 - 1 nonzeros); ``'auto'`` uses it when a GPU is usable and
        `max_memory` is not given.
    max_memory : int, optional
        Bytes of working memory the count may use besides the corpus and the result. When the
        whole count needs more, one scan of the corpus, in chunks that fit, sorts the word
        occurrences of each chunk by word into a temporary file (under
        ``tempfile.gettempdir()``) and tallies the neighbours of each occurrence. The tallies
        bound each row's nonzeros before it is counted (one column at most per neighbour
        position, and at most one per word among the 64, or the 2048, most frequent words
        however often they occur), and the rows are cut into ranges whose occurrences and
        bounded rows fit. Each range gathers its occurrences from the file and is counted, its
        finished rows going to another file, read back in order into the result, so the peak is
        about the result plus `max_memory`. The files have no name (they are unlinked as they
        are opened), so nothing is left behind whatever ends the count, SIGKILL included.
        Without `max_memory`, a count whose in-memory estimate (see
        :func:`in_memory_count_bytes`; it bounds each row by its neighbour positions) exceeds the
        available memory (``embedcore._memory.available_bytes``) is counted this way within half
        of it, so that the exact result can be checked before it is allocated.
        GloVe's cooccur spills sorted runs of records and merges them; rows counted by range
        are final, so nothing needs merging, and the matrix is bit-identical to the unbounded
        count.
    progress : bool
        Show a progress bar of a bounded count.
    out_dir : str or os.PathLike, optional
        Write the result there (a new or empty directory) as a
        :class:`embedcore.sharded.ShardedMatrix` and return that. A count in row ranges (a
        `max_memory` too small for one in-memory count) writes each range as a shard when it is
        counted, so the result is never whole in memory; otherwise the counted matrix is
        written in shards. On any error the files written are removed.

    Returns
    -------
    scipy.sparse.csr_matrix or ShardedMatrix
        float32, shape (vocab_size, vocab_size), sorted column indices, no explicit zeros.
        scipy stores the indices as int32 while they fit and as int64 beyond 2**31 nonzeros.
        A ShardedMatrix of the same matrix with `out_dir`.

    Raises
    ------
    TypeError
        corpus is not an EncodedCorpus or an (ids, offsets) pair; an argument has the wrong type.
    ValueError
        window < 1, vocab_size < 1, an id >= vocab_size, max_memory too small to hold one row
        accumulator per thread, the largest row and the planner's word tables.
    RuntimeError
        device='cuda' and CUDA is not usable.
    MemoryError
        The result (8 bytes per nonzero besides its indptr), or the least memory a count in
        row ranges needs, exceeds the memory available; raised before it is allocated, the
        message naming both sizes.

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
    # "auto" keeps a count bounded by max_memory on the CPU, which honours the bound
    backend = get_backend("cpu" if device == "auto" and max_memory is not None else device)
    ids, offsets = corpus.ids, corpus.offsets
    if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(f"corpus ids must be in [0, vocab_size={vocab_size}), got ids in "
                         f"[{int(ids.min())}, {int(ids.max())}]")

    start = time.perf_counter()
    args = (window, bool(symmetric), bool(distance_weighting), threads)
    bounded = None
    if backend.NAME == "cpu" and max_memory is None:
        counts = _native.cooccur_word_counts(ids, vocab_size, threads)
        need = in_memory_count_bytes(counts, window, symmetric, threads)
        available = _memory.available_bytes()
        if need > available:
            # the estimate bounds every row by its neighbour positions, which can far exceed the
            # real row: the bounded count tallies the neighbours and checks the exact result
            budget = available // 2
            logger.info("co-occurrence: an in-memory count may need %d bytes, %d are available: counting "
                        "in row ranges within %d bytes", need, available, budget)
            try:
                bounded = _count_by_row_ranges(ids, offsets, vocab_size, args, budget, progress, counts, out_dir)
            except ValueError as exc:
                raise MemoryError(f"cooccurrence needs more memory than is available ({available} bytes): "
                                  f"an in-memory count needs up to {need} bytes, and a count in row ranges "
                                  f"within {budget} bytes cannot run ({exc}); use a smaller vocab_size or "
                                  f"window") from None
        del counts
    elif max_memory is not None and backend.NAME == "cpu":
        bounded = _count_by_row_ranges(ids, offsets, vocab_size, args, max_memory, progress, out_dir=out_dir)
    if bounded is not None:
        indptr, indices, data, working, shards = bounded
        if out_dir is None:
            matrix = sp.csr_matrix((data, indices, indptr), shape=(vocab_size, vocab_size), copy=False)
        else:
            matrix = data  # the ShardedMatrix
    else:
        counts, working = backend.cooccur_counts(ids, offsets, vocab_size, *args)
        matrix, shards = backend.to_host(counts), 1
    if out_dir is None or bounded is None:
        matrix.has_sorted_indices = True
    if out_dir is not None and bounded is None:
        matrix = ShardedMatrix.from_scipy(matrix, out_dir)
    seconds = time.perf_counter() - start
    logger.info("co-occurrence: %d tokens, window %d, %d nonzeros in %.2f s (%d row range%s, %.0f MB working memory)",
                len(ids), window, matrix.nnz, seconds, shards, "" if shards == 1 else "s", working / 1e6)
    cooccurrence.last_stats = {  # type: ignore[attr-defined]  # (mypy has no function attributes)
        "shards": shards, "working_bytes": int(working), "seconds": seconds}
    return matrix


cooccurrence.last_stats = {}  # type: ignore[attr-defined]


def _fixed_bytes(vocab_size: int, threads: int) -> int:
    """Row accumulators and bitmaps (per thread), and the row bounds held while counting."""
    return 13 * vocab_size * threads + 12 * vocab_size


def _sort_bytes(vocab_size: int, threads: int) -> int:
    """Word counts, tiers, neighbour tallies and a chunk's word starts, and per thread a sorting
    cursor and tallies (more than the planning after the scan takes)."""
    return (29 + 16 * threads) * vocab_size + 8


def _entry_words(window: int, n_tokens: int) -> int:
    """64-bit words per packed occurrence, as the kernel packs them."""
    return 2 if window > 4095 or n_tokens >= (1 << 40) else 1


def _loose_row_bound(counts: Int64Array, vocab_size: int, window: int, symmetric: bool) -> Int64Array:
    """Nonzeros of each row at most: one per neighbour position, one per word."""
    reach = 2 * window if symmetric else window
    return np.minimum(vocab_size, reach * counts)


def in_memory_count_bytes(counts: Int64Array, window: int, symmetric: bool, threads: int) -> int:
    """Bytes one in-memory count needs at most, its result included (`counts`: each word's
    occurrences): the accumulators (`_fixed_bytes`), 8 bytes per 64-bit word of each occurrence
    sorted by word, ROW_BYTES + 8 per thread per row, and 12 bytes per nonzero of the loose row
    bound (each row at most min(vocab_size, its neighbour positions)).

    ``fixed + 8 * words * n_tokens + (40 + 8 * threads) * V + 12 * sum(min(V, reach * count))``
    """
    vocab_size, n_tokens = len(counts), int(counts.sum())
    words = _entry_words(window, n_tokens)
    return (_fixed_bytes(vocab_size, threads) + ENTRY_BYTES_PER_WORD * words * n_tokens
            + (ROW_BYTES + 8 * threads) * vocab_size
            + ROW_BYTES_PER_NONZERO * int(_loose_row_bound(counts, vocab_size, window, symmetric).sum()))


def _fits_in_memory(counts: Int64Array, window: int, symmetric: bool, threads: int, max_memory: int) -> bool:
    """Whether one in-memory count (all occurrences sorted by word, every row) fits max_memory."""
    return in_memory_count_bytes(counts, window, symmetric, threads) <= max_memory


def _neighbour_tiers(counts: Int64Array) -> tuple[npt.NDArray[np.uint8], list[int]]:
    """Tier 0 for the most frequent words, 1 for the next, 2 for the rest; and for j = 1, 2 how
    many words have a tier below j."""
    tier_of = np.full(len(counts), len(NEIGHBOUR_TIERS), dtype=np.uint8)
    top = np.arange(len(counts))
    for tier in reversed(range(len(NEIGHBOUR_TIERS))):  # each tier's words among those of the next
        k = NEIGHBOUR_TIERS[tier]
        if k < len(top):
            top = top[np.argpartition(-counts[top], k - 1)[:k]]
        tier_of[top] = tier
    return tier_of, [int(np.count_nonzero(tier_of < j)) for j in range(1, len(NEIGHBOUR_TIERS) + 1)]


def _row_bound(tallies: npt.NDArray[np.uint32], sizes: list[int], vocab_size: int) -> Int64Array:
    """Nonzeros of each row at most, from its neighbour tallies: each neighbour position adds at
    most one column, and the words of tiers below j at most their number of columns in all."""
    tallies = tallies.reshape(-1, 3)
    bound = np.minimum(tallies[:, 0], vocab_size).astype(np.int64)
    for j, size in enumerate(sizes, start=1):
        rest = tallies[:, j].astype(np.int64)  # int64: a saturated tally plus the size must not wrap
        rest += size
        np.minimum(bound, rest, out=bound)
    return bound


def _plan_row_ranges(need: Int64Array, budget: int) -> list[tuple[int, int]]:
    """Consecutive row ranges [lo, hi) whose needs sum to at most budget (each row's need does)."""
    ends = np.cumsum(need)
    ranges, lo, base = [], 0, 0
    while lo < len(need):
        hi = int(np.searchsorted(ends, base + budget, side="right"))
        ranges.append((lo, hi))
        base, lo = int(ends[hi - 1]), hi
    return ranges


def _read_into(f: io.BufferedRandom, offset: int, array: npt.NDArray[Any]) -> None:
    """Fills `array` from the bytes of file f at offset."""
    f.seek(offset)
    if f.readinto(memoryview(array).cast("B")) != array.nbytes:
        raise OSError("co-occurrence: a spill file was truncated")


def _count_by_row_ranges(ids: Int32Array, offsets: Int64Array, vocab_size: int, args: tuple[int, bool, bool, int],
                         max_memory: int, progress: bool, counts: Int64Array | None = None,
                         out_dir: StrPath | None = None) -> tuple[Any, Any, Any, int, int] | None:
    """Bounded count. One scan of the corpus, in chunks that fit max_memory, sorts each chunk's
    word occurrences by word into a temporary file (after the chunk's word starts) and tallies
    each occurrence's neighbours by tier; the tallies bound each row's nonzeros, which plans the
    row ranges; each range gathers its runs from every chunk and is counted, its finished rows
    going to another file; the rows are read back in order into the result.

    Returns indptr, indices, data, the peak working bytes and the number of row ranges; or None
    when one in-memory count fits max_memory. With `out_dir`, each range is written as a shard
    of a ShardedMatrix there instead, returned in place of `data` (indptr and indices None)."""
    window, symmetric, _, threads = args
    if counts is None:
        counts = _native.cooccur_word_counts(ids, vocab_size, threads)
    if _fits_in_memory(counts, window, symmetric, threads, max_memory):
        return None
    V, n = vocab_size, len(ids)
    words = _entry_words(window, n)
    entry_bytes = ENTRY_BYTES_PER_WORD * words
    fixed = _fixed_bytes(V, threads)
    budget = max_memory - fixed
    sort_bytes = _sort_bytes(V, threads)
    largest_row = int((entry_bytes * counts + RANGE_BYTES_PER_BOUNDED_NONZERO
                       * _loose_row_bound(counts, V, window, symmetric)).max())

    def layout(memory: int) -> tuple[int, int, int, int]:
        """Scan chunk (tokens), bytes per row, bytes per range, and the need of a range holding
        only the largest row, under `memory`."""
        chunk = min(max(n, 1), (memory - sort_bytes) // entry_bytes, (1 << 31) - 1)
        n_chunks = -(-n // chunk) if chunk > 0 else 0
        # per row: its occurrences, its nonzeros, and where each chunk's run of them begins;
        # per range: where each chunk's runs end
        row_bytes = ROW_BYTES + 8 * n_chunks
        range_bytes = 8 * n_chunks
        return chunk, row_bytes, range_bytes, row_bytes + range_bytes + largest_row

    chunk, row_bytes, range_bytes, largest = layout(max_memory)
    if chunk < 1 or budget < largest:
        # a larger budget means fewer chunks and smaller rows, so this need is enough for itself
        minimum = max(fixed + largest, sort_bytes + entry_bytes)
        minimum = max(minimum, fixed + layout(minimum)[3])
        raise ValueError(f"max_memory must be at least {minimum} bytes here (a row accumulator of {V} words "
                         f"for each of {threads} threads, the largest row, and the word tables), got {max_memory}")
    tier_of, sizes = _neighbour_tiers(counts)
    tallies = np.zeros(3 * V, dtype=np.uint32)
    bar = progress_bar(progress, total=2 * n, desc="co-occurrence", unit="token")
    peak = 0
    writer = None
    try:
        writer = None if out_dir is None else ShardWriter(out_dir, (V, V))
        # nameless files: the system frees them however the process ends, SIGKILL included
        with anonymous_temp_file() as occurrences, anonymous_temp_file() as rows:
            chunk_at = []  # file offset of each chunk: its V + 1 word starts, then its entries
            for a in range(0, n, chunk):
                b = min(n, a + chunk)
                entries, word_start = _native.cooccur_sort_occurrences(ids, offsets, a, b, V, window, symmetric,
                                                                       tier_of, tallies, threads)
                chunk_at.append(occurrences.tell())
                occurrences.write(word_start)
                occurrences.write(entries)
                peak = max(peak, sort_bytes + entries.nbytes)
                del entries, word_start
                bar.update(b - a)
            bound = _row_bound(tallies, sizes, V)
            del tallies, tier_of
            need = RANGE_BYTES_PER_BOUNDED_NONZERO * bound
            need += entry_bytes * counts
            need += row_bytes
            plan = _plan_row_ranges(need, budget - range_bytes)
            del need, counts
            indptr = np.empty(V + 1, dtype=np.int64)
            indptr[0] = 0
            for lo, hi in plan:
                # the range's word starts in each chunk, then its runs of occurrences
                starts = np.empty((len(chunk_at), hi - lo + 1), dtype=np.int64)
                for c, at in enumerate(chunk_at):
                    _read_into(occurrences, at + 8 * lo, starts[c])
                entries = np.empty(int((starts[:, -1] - starts[:, 0]).sum()) * words, dtype=np.uint64)
                filled = 0
                for c, at in enumerate(chunk_at):
                    first, k = int(starts[c, 0]), int(starts[c, -1] - starts[c, 0])
                    _read_into(occurrences, at + 8 * (V + 1) + entry_bytes * first,
                               entries[filled * words:(filled + k) * words])
                    starts[c] += filled - first
                    filled += k
                (piece, index_blocks, data_blocks), working = _native.cooccur_count_occurrences(
                    ids, entries, starts, bound[lo:hi], lo, hi, V, *args)
                peak = max(peak, bound.nbytes + working)  # the kernel counts the entries and starts too
                del entries, starts
                if writer is not None:
                    writer.write(_range_matrix(piece, index_blocks, data_blocks, V), row_begin=lo)
                # the range's columns, then its values, a block at a time, each released once written
                for blocks in (index_blocks, data_blocks):
                    blocks.reverse()
                    while blocks:
                        rows.write(blocks.pop())
                indptr[lo + 1:hi + 1] = piece[1:] + indptr[lo]
                del piece
                bar.update(filled)
            if writer is not None:
                writer.commit()
                return None, None, writer.result, peak, len(plan)
            nnz = int(indptr[-1])
            # the result: int32 column + float32 value per nonzero (indptr is already held)
            _memory.require(8 * nnz, f"cooccurrence: the result of {nnz} nonzeros (8 bytes each)",
                            ["pass out_dir= to write it as row-range shards", "use a smaller vocab_size or window"])
            indices = np.empty(nnz, dtype=np.int32)
            data = np.empty(nnz, dtype=np.float32)
            at = 0
            for lo, hi in plan:
                for array in (indices[indptr[lo]:indptr[hi]], data[indptr[lo]:indptr[hi]]):
                    _read_into(rows, at, array)
                    at += array.nbytes
        return indptr, indices, data, peak, len(plan)
    except BaseException:
        if writer is not None and writer.result is None:
            writer.abort()
        raise
    finally:
        bar.close()


def _range_matrix(piece: Int64Array, index_blocks: list[Int32Array], data_blocks: list[FloatArray],
                  vocab_size: int) -> Any:
    """The CSR of a counted row range from its indptr (from 0) and its blocks of columns and
    values; each block is released once copied, so the range is held about once."""
    nnz = int(piece[-1])
    arrays = []
    for blocks, dtype in ((index_blocks, np.int32), (data_blocks, np.float32)):
        out, at = np.empty(nnz, dtype=dtype), 0
        blocks.reverse()
        while blocks:
            block = blocks.pop()
            out[at:at + len(block)] = block
            at += len(block)
        arrays.append(out)
    matrix = sp.csr_matrix((arrays[1], arrays[0], piece), shape=(len(piece) - 1, vocab_size), copy=False)
    matrix.has_sorted_indices = True
    return matrix
