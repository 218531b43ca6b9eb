"""Exact cosine top-k search (the C++ kernel in csrc/embedcore/topk.hpp)."""
import functools
import logging

import numpy as np

from embedcore._device import resolve_device
from embedcore._threads import effective_workers
from embedcore._validation import as_float32_matrix, check_int, describe

logger = logging.getLogger("embedcore")

# Rows per SGEMM tile: a (query block x database tile) score block of 256 x 1024 floats (1 MiB)
# stays in a core's L2 cache while the selection pass reads it.
_TILE_QUERIES = 256
_TILE_DATABASE = 1024


@functools.lru_cache(maxsize=None)
def _native_with_blas():
    """The _native module, with scipy's SGEMM handed to the kernel once."""
    from embedcore import _native

    try:
        from scipy.linalg import cython_blas

        _native.topk_set_sgemm(cython_blas.__pyx_capi__["sgemm"])
    except (ImportError, KeyError, AttributeError) as exc:  # pragma: no cover - scipy is a dependency
        logger.warning("embedcore: scipy's BLAS is unavailable (%s); cosine_topk uses a slow product", exc)
    return _native


@functools.lru_cache(maxsize=None)
def _blas_controller():
    """A threadpoolctl controller for the loaded BLAS libraries (found once)."""
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def _single_threaded_blas():
    """Context in which the BLAS runs one thread: the kernel calls it from its own threads."""
    return _blas_controller().limit(limits=1, user_api="blas")


def _check_exclude(exclude, nq, nb):
    array = np.asarray(exclude)
    if array.ndim != 1 or array.shape[0] != nq:
        raise ValueError(f"exclude must be a 1-D integer array with one entry per query ({nq}), "
                         f"got {describe(array)}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"exclude must hold integers, got {describe(array)}")
    if array.size and (array.min() < -1 or array.max() >= nb):
        raise ValueError(f"exclude must hold database rows in [0, {nb}) or -1 for none, "
                         f"got values in [{array.min()}, {array.max()}]")
    return np.ascontiguousarray(array, dtype=np.int64)


def cosine_topk(queries, database, k=10, exclude=None, normalized=False, workers=None, device="auto"):
    """Exact top-k database rows by cosine similarity for every query row.

    Candidates are found from float32 inner products of unit-normalised rows, computed tile by
    tile (SGEMM) and selected as each tile is produced, so the full score matrix is never stored;
    every result is then rescored as the cosine of the rows as given, in double precision, so
    scores do not depend on tiling or thread count and identical rows tie exactly.

    Parameters
    ----------
    queries : array-like, shape (nq, d)
        Query vectors; converted once to C-contiguous float32.
    database : array-like, shape (nb, d)
        Database vectors.
    k : int, default 10
        Results per query, ``1 <= k <= nb`` (``k <= nb - 1`` when a row is excluded).
    exclude : array-like of int, shape (nq,), optional
        For each query, one database row to leave out of its results (for example the query
        word itself); ``-1`` leaves nothing out for that query.
    normalized : bool, default False
        Promise that every row of both arrays has unit length (or is zero), which skips the
        normalisation. The promise is not verified (NaN and infinity still are).
    workers : int or None
        Threads: None or -1 all usable cores, ``n > 0`` that many, ``-n`` all but ``n - 1``.
    device : {"auto", "cpu", "cuda"}
        Only the CPU kernel exists so far: "auto" runs on the CPU, and "cuda" raises
        RuntimeError (saying why: no usable GPU, or the CUDA path not being built yet).

    Returns
    -------
    scores : ndarray of float32, shape (nq, k)
        Cosine similarities, each row in descending order; rows of zero norm score 0.
    indices : ndarray of int64, shape (nq, k)
        The database rows, ties broken by lower row index.

    Raises
    ------
    ValueError
        Non-2-D or empty inputs, a dimension mismatch, NaN or infinity, ``k`` out of range, or
        an ``exclude`` of the wrong length or with rows out of range.
    TypeError
        Non-numeric inputs, a non-integer ``k`` or ``exclude``.
    RuntimeError
        ``device="cuda"`` (not built yet, or no usable GPU).

    Example
    -------
    >>> import numpy as np, embedcore as ec
    >>> db = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    >>> scores, idx = ec.cosine_topk(np.array([[1, 0.1]]), db, k=2)
    >>> idx.tolist()
    [[0, 2]]
    """
    # "auto" means the CPU until a CUDA path exists; an explicit "cuda" is checked, then refused
    if device != "auto" and resolve_device(device) == "cuda":
        raise RuntimeError("the CUDA path of cosine_topk is not built yet; use device='cpu'")
    if not isinstance(normalized, (bool, np.bool_)):
        raise TypeError(f"normalized must be a bool, got {type(normalized).__name__}")
    threads = effective_workers(workers)
    # NaN/inf are caught by the kernel as it reads the rows (no extra pass over the database)
    queries = as_float32_matrix(queries, "queries", check_finite=False)
    database = as_float32_matrix(database, "database", check_finite=False)
    nq, d = queries.shape
    nb, db_dim = database.shape
    if d != db_dim:
        raise ValueError(f"queries and database must have the same number of columns, got "
                         f"queries with {d} and database with {db_dim}")
    k = check_int(k, "k", minimum=1)
    if k > nb:
        raise ValueError(f"k must be <= the number of database rows ({nb}), got {k}")
    if exclude is not None:
        exclude = _check_exclude(exclude, nq, nb)
        if k == nb and nq and exclude.max() >= 0:
            raise ValueError(f"k must be <= {nb - 1} (the database rows left after exclude), got {k}")

    return _topk_checked(queries, database, k, exclude, bool(normalized), threads)


def _topk_checked(queries, database, k, exclude, normalized, threads):
    """The kernel call behind cosine_topk, for callers whose arguments are already valid:
    C-contiguous float32 finite 2-D arrays of equal width, 1 <= k <= nb (nb - 1 with an exclude),
    exclude None or int64 of length nq in [-1, nb)."""
    nq = len(queries)
    scores = np.empty((nq, k), dtype=np.float32)
    indices = np.empty((nq, k), dtype=np.int64)
    native = _native_with_blas()
    with _single_threaded_blas():
        native.cosine_topk(queries, database, k, exclude, normalized, threads, scores, indices,
                           _TILE_QUERIES, _TILE_DATABASE)
    if nq and indices[:, -1].min() < 0:  # only possible when normalized=True was untrue
        raise ValueError("cosine_topk found fewer than k finite scores: with normalized=True the rows "
                         "must have unit length")
    return scores, indices
