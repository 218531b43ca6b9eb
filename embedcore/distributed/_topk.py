"""Exact cosine top-k over a database held in row shards on Dask workers."""
import functools
import os
from typing import Any

import numpy as np
import numpy.typing as npt

from embedcore._typing import FloatArray, Int64Array
from embedcore._validation import as_float32_matrix, check_exclude, check_int, describe
from embedcore.backends import cpu
from embedcore.distributed._scheduler import delayed, resolve, tree_reduce
from embedcore.similarity import cosine_topk as _topk

_NO_ID = np.iinfo(np.int64).max


def _shard_shapes(shards):
    """(sources, shapes): what each task reads (an array, a .npy path, a Dask block) and its
    shape, from a list of arrays / .npy paths or a Dask array chunked by rows."""
    try:
        import dask.array as da
    except ImportError:  # dask without its array extra
        da = None
    if da is not None and isinstance(shards, da.Array):
        if shards.ndim != 2:
            raise ValueError(f"shards must be a 2-D Dask array, got {shards.ndim} dimensions")
        if any(np.isnan(c) for c in shards.chunks[0]):
            raise ValueError("shards has unknown chunk sizes; call shards.compute_chunk_sizes() first")
        if len(shards.chunks[1]) > 1:
            shards = shards.rechunk({1: -1})  # a task needs whole rows
        blocks = list(shards.to_delayed().ravel())
        return blocks, [(int(r), int(shards.shape[1])) for r in shards.chunks[0]]
    if isinstance(shards, np.ndarray):
        shards = [shards]
    if not isinstance(shards, (list, tuple)) or not shards:
        raise TypeError(f"shards must be a non-empty list of arrays or .npy paths, or a Dask array, "
                        f"got {type(shards).__name__}")
    sources, shapes = [], []
    for i, shard in enumerate(shards):
        if isinstance(shard, (str, os.PathLike)):
            path = os.path.abspath(os.fspath(shard))
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except FileNotFoundError:
                raise FileNotFoundError(f"shards[{i}]: no such file: {path!r}") from None
            except ValueError as exc:
                raise ValueError(f"shards[{i}]: {path!r} is not a .npy array file ({exc})") from None
            source = path
        else:
            try:
                array = np.asarray(shard)
            except Exception as exc:
                raise TypeError(f"shards[{i}] must be an array or a .npy path, got {type(shard).__name__}") from exc
            source = array
        if array.ndim != 2:
            raise ValueError(f"shards[{i}] must be a 2-D array, got {describe(array)}")
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise TypeError(f"shards[{i}] must hold real numbers, got {describe(array)}")
        sources.append(source)
        shapes.append(array.shape)
    return sources, shapes


def _shard_topk(queries, source, index, offset, k, exclude, normalized):
    """Top-k of one shard by embedcore.cosine_topk, with global row ids; an excluded row of this
    shard is moved to the end (score -inf) instead of being left out, so the kernel's k can be
    the same for every query."""
    database = np.load(source, mmap_mode="r", allow_pickle=False) if isinstance(source, str) else source
    try:
        scores, ids = _topk(queries, database, k=k, normalized=normalized, workers=1, device="cpu")
    except ValueError as exc:
        raise ValueError(f"shards[{index}]: {exc}") from None
    ids += offset
    if exclude is not None:
        hit = ids == exclude[:, None]
        scores[hit] = -np.inf
        ids[hit] = _NO_ID
    return scores, ids


def _merge_topk(k, *results):
    """The k best of several top-k lists: higher score first, then lower global id."""
    scores = np.concatenate([r[0] for r in results], axis=1)
    ids = np.concatenate([r[1] for r in results], axis=1)
    order = np.lexsort((ids, -scores), axis=-1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)


def cosine_topk(queries: npt.ArrayLike, shards: Any, k: int = 10, exclude: npt.ArrayLike | None = None,
                normalized: bool = False, client: Any = None, progress: bool = False) -> tuple[FloatArray, Int64Array]:
    """Exact cosine top-k over a database in row shards across Dask workers: the results of
    ``embedcore.cosine_topk(queries, concatenated shards, k, exclude, normalized)``.

    Each task runs embedcore's top-k kernel on one shard (its scores are the exact cosines of the
    rows as given, whatever the shard), and the per-shard lists are merged by a tree of k-way
    merges, ordered by score and then by lower global row id, as the kernel breaks ties.

    Parameters
    ----------
    queries : array-like, shape (nq, d)
        Query vectors (sent to every task).
    shards : list of arrays or .npy paths, or a Dask array
        The database rows, in order: in-memory arrays (each sent to one worker), paths of ``.npy``
        files that the workers memory-map (a shared filesystem), or a 2-D Dask array whose row
        chunks are the shards. Global row ids count rows across the shards in this order.
    k : int
        Results per query, ``1 <= k <= total rows`` (one less when a row is excluded).
    exclude : array-like of int, shape (nq,), optional
        For each query, one global row to leave out (``-1`` for none), as for ``cosine_topk``.
    normalized : bool
        Promise that every row already has unit length (or is zero), as for ``cosine_topk``.
    client, progress
        As for `build_vocab`.

    Returns
    -------
    scores : ndarray of float32, shape (nq, k)
    indices : ndarray of int64, shape (nq, k)
        Global row ids.

    Raises
    ------
    TypeError, ValueError, FileNotFoundError
        Bad arguments, named in the message (``shards[i]`` for a shard).
    """
    queries = as_float32_matrix(queries, "queries")
    if not isinstance(normalized, (bool, np.bool_)):
        raise TypeError(f"normalized must be a bool, got {type(normalized).__name__}")
    sources, shapes = _shard_shapes(shards)
    nq, d = queries.shape
    for i, shape in enumerate(shapes):
        if shape[1] != d:
            raise ValueError(f"queries and shards must have the same number of columns, got queries with "
                             f"{d} and shards[{i}] with {shape[1]}")
    offsets = np.concatenate([[0], np.cumsum([s[0] for s in shapes])]).astype(np.int64)
    nb = int(offsets[-1])
    k = check_int(k, "k", minimum=1)
    if k > nb:
        raise ValueError(f"k must be <= the number of database rows ({nb}), got {k}")
    if exclude is not None:
        exclude = check_exclude(exclude, nq, nb, cpu)
        if k == nb and nq and exclude.max() >= 0:
            raise ValueError(f"k must be <= {nb - 1} (the database rows left after exclude), got {k}")
    scheduler = resolve(client, progress)
    shared_queries = scheduler.share(queries)
    shared_exclude = None if exclude is None else scheduler.share(exclude)
    in_memory = [i for i, s in enumerate(sources) if isinstance(s, np.ndarray) and shapes[i][0] > 0]
    for i, spread in zip(in_memory, scheduler.spread([sources[i] for i in in_memory])):
        sources[i] = spread
    results = []
    for i, (source, (rows, _)) in enumerate(zip(sources, shapes)):
        if rows == 0:
            continue
        lo, hi = offsets[i], offsets[i + 1]
        hits = exclude is not None and bool(((exclude >= lo) & (exclude < hi)).any())
        # one more candidate where an excluded row may take a place
        results.append(delayed(_shard_topk)(shared_queries, source, i, int(lo), min(k + hits, rows),
                                            shared_exclude if hits else None, bool(normalized)))
    scores, ids = scheduler.compute([tree_reduce(results, functools.partial(_merge_topk, k), fan_in=8)])[0]
    return np.ascontiguousarray(scores, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64)
