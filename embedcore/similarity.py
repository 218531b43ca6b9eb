"""Exact cosine top-k search (the CPU kernel of csrc/embedcore/topk.hpp, or the GPU's tiles)."""
import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from embedcore import _memory
from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, Int64Array
from embedcore._validation import check_exclude, check_int, device_matrix, like_inputs
from embedcore.backends import get_backend

logger = logging.getLogger("embedcore")


def _work(queries: Any, database: Any) -> int:
    """Multiply-adds of a search (nq x nb x d), 0 when the shapes are not those of matrices."""
    try:
        shape_q, shape_d = np.shape(queries), np.shape(database)
    except ValueError:  # ragged input: the validation reports it
        return 0
    return shape_q[0] * shape_d[0] * shape_d[1] if len(shape_q) == 2 and len(shape_d) == 2 else 0


def topk_bytes(queries: Any, database: Any, k: object, normalized: bool, threads: int) -> int:
    """Host bytes a CPU `cosine_topk` allocates, 0 when the shapes are not those of matrices:
    a float32 copy of each input that is not a C-contiguous float32 numpy array (4 * rows * d),
    the results (12 bytes per query and k), the normalised queries (4 * nq * d), per thread a
    database tile and its scores (4 * (1024 * d + 256 * 1024) with the CPU's tiles), and the
    per-thread candidates of a search split over the database (12 * threads * nq * k).

    ``copies + 12 * nq * k * (1 + threads) + 4 * nq * d + 4 * threads * (1024 * d + 256 * 1024)``
    """
    try:
        shape_q, shape_d = np.shape(queries), np.shape(database)
    except ValueError:  # ragged input: the validation reports it
        return 0
    if len(shape_q) != 2 or len(shape_d) != 2:
        return 0
    (nq, d), nb = shape_q, shape_d[0]
    k = k if isinstance(k, (int, np.integer)) and 0 < k <= nb else 1

    def copy(x: object, rows: int) -> int:
        ready = isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous
        return 0 if ready else 4 * rows * d

    buffers = 12 * nq * k * (1 + threads) + 4 * threads * (1024 * d + 256 * 1024)
    return int(copy(queries, nq) + copy(database, nb) + buffers + (0 if normalized else 4 * nq * d))


def cosine_topk(queries: npt.ArrayLike, database: npt.ArrayLike, k: int = 10, exclude: npt.ArrayLike | None = None,
                normalized: bool = False, workers: int | None = None,
                device: str = "auto") -> tuple[FloatArray, Int64Array]:
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
        "cuda" runs on the GPU (cuBLAS tiles and a selection kernel, the candidates rescored as
        the CPU scores them, so both devices return the same scores and rows; `workers` unused;
        CuPy inputs give CuPy results, numpy inputs numpy results). "auto" takes the GPU, when
        one is usable, for CuPy inputs and for numpy inputs of at least 1e10 multiply-adds
        (nq x nb x d); smaller searches stay on the CPU, where copying the database would cost
        more than the search (see ``embedcore.backends.get_backend``).

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
        ``device="cuda"`` without a usable GPU.
    MemoryError
        The float32 copies of the inputs and the buffers of the search (:func:`topk_bytes`)
        exceed the available memory; raised before they are allocated.

    Example
    -------
    >>> import numpy as np, embedcore as ec
    >>> db = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    >>> scores, idx = ec.cosine_topk(np.array([[1, 0.1]]), db, k=2)
    >>> idx.tolist()
    [[0, 2]]
    """
    if not isinstance(normalized, (bool, np.bool_)):
        raise TypeError(f"normalized must be a bool, got {type(normalized).__name__}")
    threads = effective_workers(workers)
    backend = get_backend(device, queries, database, work=_work(queries, database))
    if backend.NAME == "cpu":
        _memory.require(topk_bytes(queries, database, k, normalized, threads), "cosine_topk",
                        ["pass float32 C-contiguous arrays (no copy is made of them)",
                         "search fewer queries at a time"])
    # NaN/inf are caught by the backends as they read the rows (no extra pass over the database)
    q = device_matrix(queries, "queries", backend, check_finite=False)
    db = device_matrix(database, "database", backend, check_finite=False)
    nq, d = q.shape
    nb, db_dim = db.shape
    if d != db_dim:
        raise ValueError(f"queries and database must have the same number of columns, got "
                         f"queries with {d} and database with {db_dim}")
    k = check_int(k, "k", minimum=1)
    if k > nb:
        raise ValueError(f"k must be <= the number of database rows ({nb}), got {k}")
    rows_left_out = None if exclude is None else check_exclude(exclude, nq, nb, backend)
    if rows_left_out is not None and k == nb and nq and int(rows_left_out.max()) >= 0:
        raise ValueError(f"k must be <= {nb - 1} (the database rows left after exclude), got {k}")
    result = backend.topk(q, db, k, rows_left_out, bool(normalized), threads)
    found: tuple[FloatArray, Int64Array] = like_inputs(backend, result, queries, database)
    return found
