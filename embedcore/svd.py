"""PPMI weighting, randomized truncated SVD, and SVDEmbedding (count-based word vectors, LSA and
matrix-factorisation embeddings).

The heavy work of the SVD is sparse x dense products, done by the backend's multithreaded float32
CSR kernels (or cuSPARSE); the small dense factorisations are solved on the host in float64.
"""
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import scipy.sparse as sp

from embedcore import _memory, sharded
from embedcore._base import Model
from embedcore._range_finder import range_finder_svd
from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, MatrixLike, Source, SparseMatrix, StrPath
from embedcore._validation import (as_csr, as_float32_matrix, check_float, check_int, describe, device_matrix,
                                   is_device_array, like_inputs)
from embedcore.backends import blas_threads, cpu, get_backend
from embedcore.sharded import ShardedMatrix

if TYPE_CHECKING:
    from typing_extensions import Self

    from embedcore.corpus import EncodedCorpus
    from embedcore.keyedvectors import KeyedVectors
    from embedcore.vocab import Vocab

logger = logging.getLogger("embedcore")


# ---------------------------------------------------------------------------------------------
# PPMI


def ppmi(cooc: MatrixLike | ShardedMatrix, cds: float = 0.75, shift: float = 1.0, workers: int | None = None,
         device: str = "auto", out_dir: StrPath | None = None) -> SparseMatrix | ShardedMatrix:
    """Positive pointwise mutual information of a co-occurrence matrix.

    ``PMI(w, c) = log(C[w, c] * sum_c' n(c')**cds / (n(w) * n(c)**cds)) - log(shift)`` where
    ``n(w)`` are the row sums and ``n(c)`` the column sums of ``C``; entries with PMI <= 0 are
    left out of the result (Levy, Goldberg and Dagan, TACL 2015: context-distribution smoothing
    ``cds`` and the shift of shifted PPMI). Computed in two steps, the column sums (float64) and
    then the weighting of the rows given them, each parallel over the rows; the result is the
    same for any `workers`.

    A matrix too large for memory is given as a :class:`~embedcore.sharded.ShardedMatrix`
    (``cooccurrence(..., out_dir=...)`` writes one) and weighted one shard at a time: one
    reading of the shards adds up the column sums, a second weights each shard with them. With
    `out_dir` the result is written there as a ShardedMatrix with the same row ranges, so that
    only one shard and its result are in memory at once. The result is bit-identical to the
    in-memory one whenever each column's float64 sum is exact (integer counts, for instance);
    otherwise the shards' sums are added in another order, which can change a column sum by
    about 1e-16 of it and a PMI value by about one unit in the last place of a float32.

    Parameters
    ----------
    cooc : scipy.sparse matrix, 2-D array-like or ShardedMatrix, shape (n_words, n_contexts)
        Non-negative co-occurrence counts (duplicates in COO/CSR input are added up). A
        ``cupyx.scipy.sparse`` matrix or a CuPy array is weighted on the GPU and the result
        stays there; a ShardedMatrix is weighted on the CPU, one shard at a time.
    cds : float
        Context-distribution smoothing exponent, > 0 (1 is plain PMI).
    shift : float
        The PMI is shifted by ``-log(shift)``; > 0 (Levy et al.'s ``k``, 1 means no shift).
    workers : int, optional
        Threads; None for all usable cores.
    device : {'auto', 'cpu', 'cuda'}
        Where to compute (see ``embedcore.backends.get_backend``); the GPU gives the same
        result up to float rounding (float64 sums, deterministic). With a ShardedMatrix or
        `out_dir`, the CPU.
    out_dir : str or os.PathLike, optional
        A new or empty directory (local or an fsspec URL): the result is written there as a
        ShardedMatrix, one shard per row range (a ShardedMatrix input's own ranges; ranges of
        about 256 MB for a matrix in memory), and nothing is left there if the weighting fails.

    Returns
    -------
    scipy.sparse.csr_matrix or ShardedMatrix
        float32, same shape as `cooc`, only positive entries, column order of each row kept
        (a ``cupyx.scipy.sparse.csr_matrix`` for GPU input; a ShardedMatrix with `out_dir`).

    Raises
    ------
    ValueError
        `cooc` is not 2-D, holds negative, NaN or infinite counts (for shards, the shard and
        the row are named), is a CSR matrix whose structure is not sound (e.g. an indptr that
        decreases); `cds` or `shift` not > 0; `out_dir` not empty; ``device='cuda'`` with a
        ShardedMatrix or `out_dir`.
    TypeError
        `cooc` does not hold real numbers.
    MemoryError
        What the weighting holds (:func:`ppmi_bytes`, or :func:`streamed_ppmi_bytes` for
        shards) exceeds the available memory; raised before it is allocated, naming `out_dir`
        and a ShardedMatrix input where they would make it fit.

    Examples
    --------
    >>> import numpy as np, embedcore as ec
    >>> m = ec.ppmi(np.array([[4.0, 1.0], [1.0, 4.0]]), cds=1.0)
    >>> np.round(m.toarray(), 3)
    array([[0.47, 0.  ],
           [0.  , 0.47]], dtype=float32)
    """
    cds = check_float(cds, "cds", minimum=0.0, inclusive=False)
    shift = check_float(shift, "shift", minimum=0.0, inclusive=False)
    threads = effective_workers(workers)
    if isinstance(cooc, ShardedMatrix) or out_dir is not None:
        _check_streaming_device(device, "ppmi of a ShardedMatrix or with out_dir")
        return _ppmi_streamed(cooc, cds, shift, threads, out_dir)
    backend = get_backend(device, cooc)
    csr = as_csr(cooc, "cooc", backend, threads, canonical=True, check_finite=False)
    if backend.NAME == "cpu":
        _memory.require(ppmi_bytes(csr.shape, csr.nnz), f"ppmi of {csr.nnz} nonzeros ({csr.shape[0]} x {csr.shape[1]})",
                        ["pass out_dir= to write the result as row-range shards",
                         "give cooc as a ShardedMatrix (cooccurrence(..., out_dir=...)), weighted one shard "
                         "at a time",
                         "weight a smaller matrix (fewer words or a smaller window)"])
    try:
        result = backend.ppmi(csr, cds, shift, threads)
    except ValueError as exc:
        raise ValueError(f"cooc must hold finite, non-negative counts ({exc})") from None
    return like_inputs(backend, result, cooc)


def ppmi_bytes(shape: tuple[int, int], nnz: int) -> int:
    """Bytes `ppmi` allocates for an n_rows x n_cols matrix of `nnz` nonzeros in memory: the result
    (int32 column + float32 value per nonzero of the input, an upper bound, and an int64 indptr),
    the column sums with their partial sums over g = max(1, min(16, 2**25 // n_cols, nnz // n_cols,
    n_rows)) row groups (float64) and their float32 logarithms, and the row sums (float64).

    ``8 * nnz + 8 * (n_rows + 1) + 8 * (g + 1) * n_cols + 4 * n_cols + 8 * n_rows``
    """
    n_rows, n_cols = shape
    return 8 * nnz + 8 * (n_rows + 1) + 8 * (_column_sum_groups(n_rows, n_cols, nnz) + 1) * n_cols \
        + 4 * n_cols + 8 * n_rows


def _column_sum_groups(n_rows: int, n_cols: int, nnz: int) -> int:
    """The row groups of the column-sum partials (csrc/embedcore/ppmi.hpp, column_sum_groups)."""
    columns = max(n_cols, 1)
    return max(1, min(16, (256 << 20) // 8 // columns, nnz // columns, n_rows))


def streamed_ppmi_bytes(shape: tuple[int, int], shards: Sequence[tuple[int, int]], in_memory_result: bool = False) -> int:
    """Bytes `ppmi` holds at once when it weights a matrix row block by row block: the column sums
    (float64, with a block's partials over g row groups as in :func:`ppmi_bytes` and their float32
    logarithms), and for the
    largest block (`shards`: ``(n_rows, nnz)`` of each) the block read into memory (12 bytes per
    nonzero and 8 per row and one), its float32 copy when it must be converted (4 per nonzero),
    its weighted rows (8 per nonzero and per row and one) and row sums (8 per row); with
    `in_memory_result`, the whole result gathered in memory (8 per nonzero, 8 per row and one).

    ``8 * n_cols + max over blocks (8 * g * n_cols + 4 * n_cols + 24 * nnz + 24 * (rows + 1))
    [+ 8 * nnz + 8 * (n_rows + 1)]``
    """
    n_rows, n_cols = shape
    block = 0
    for rows, nnz in shards:
        block = max(block, 8 * _column_sum_groups(rows, n_cols, nnz) * n_cols + 4 * n_cols + 24 * nnz
                    + 24 * (rows + 1))
    total = 8 * n_cols + block
    if in_memory_result:
        total += 8 * sum(nnz for _, nnz in shards) + 8 * (n_rows + 1)
    return total


def _check_streaming_device(device: str, what: str) -> None:
    """The CPU for work that streams over shards: ValueError for 'cuda' or an unknown name."""
    if device == "cuda":
        raise ValueError(f"{what} runs on the CPU: pass device='cpu' or 'auto' (or the matrix in memory, "
                         f"e.g. matrix.to_scipy(), to compute on the GPU)")
    get_backend(device)  # an unknown name: ValueError
    if device not in ("auto", "cpu"):
        raise ValueError(f"device must be 'auto' or 'cpu' for {what}, got {device!r}")


def _csr_rows(csr: Any, lo: int, hi: int) -> Any:
    """Rows lo..hi of a kernel CSR, sharing its column and value arrays."""
    a, b = int(csr.indptr[lo]), int(csr.indptr[hi])
    return cpu.Csr(csr.indptr[lo:hi + 1] - a, csr.indices[a:b], csr.data[a:b], (hi - lo, csr.shape[1]))


def _row_blocks(matrix: Any, name: str, threads: int, canonical: bool = False,
                check_finite: bool = True) -> Iterator[tuple[int, int, int, Any, str]]:
    """``(index, row_begin, row_end, kernel csr, label)`` for each row block of a ShardedMatrix
    (its shards, each read and validated when it is reached) or of a kernel CSR in memory (row
    ranges of about `sharded.DEFAULT_SHARD_BYTES`)."""
    if isinstance(matrix, ShardedMatrix):
        for i, (lo, hi) in enumerate(matrix.row_ranges):
            label = f"{name} shard {i} (rows {lo}..{hi})"
            yield i, lo, hi, as_csr(matrix.shard(i), label, cpu, threads, canonical=canonical,
                                    check_finite=check_finite), label
        return
    for i, (lo, hi) in enumerate(_row_ranges(matrix)):
        yield i, lo, hi, _csr_rows(matrix, lo, hi), f"{name} rows {lo}..{hi}"


def _row_ranges(csr: Any) -> list[tuple[int, int]]:
    """Row ranges of a matrix in memory taken as blocks: about `sharded.DEFAULT_SHARD_BYTES` each,
    as `ShardedMatrix.from_scipy` would write them."""
    bounds = sharded.plan_row_ranges(np.diff(csr.indptr) * 12 + 8, sharded.DEFAULT_SHARD_BYTES)
    return list(zip(bounds[:-1], bounds[1:]))


def _block_shapes(matrix: Any) -> list[tuple[int, int]]:
    """``(n_rows, nnz)`` of each row block `_row_blocks` gives."""
    if isinstance(matrix, ShardedMatrix):
        return [(hi - lo, nnz) for (lo, hi), nnz in zip(matrix.row_ranges, matrix.shard_nnz)]
    return [(hi - lo, int(matrix.indptr[hi] - matrix.indptr[lo])) for lo, hi in _row_ranges(matrix)]


def _count_step(step: Callable[..., Any], label: str, csr: Any, row_begin: int, *args: Any) -> Any:
    """step(csr, *args) for a block of counts: a bad count is a ValueError naming the block and
    the row in the whole matrix."""
    try:
        return step(csr, *args)
    except ValueError as exc:
        bad = ~np.isfinite(csr.data) | (csr.data < 0)
        if not bad.any():
            raise ValueError(f"{label}: {exc}") from None
        k = int(np.argmax(bad))
        row = int(np.searchsorted(csr.indptr, k, side="right") - 1) + row_begin
        raise ValueError(f"{label} must hold finite, non-negative counts, got {csr.data[k]} in row {row}") from None


def _ppmi_streamed(cooc: Any, cds: float, shift: float, threads: int,
                   out_dir: StrPath | None) -> SparseMatrix | ShardedMatrix:
    """ppmi() of a ShardedMatrix, or of a matrix in memory with out_dir, one row block at a time:
    one reading adds up the column sums, a second weights each block with them."""
    if not isinstance(cooc, ShardedMatrix):
        cooc = as_csr(cooc, "cooc", cpu, threads, canonical=True, check_finite=False)
    n_rows, n_cols = cooc.shape
    shapes = _block_shapes(cooc)
    hints = ["smaller shards (cooccurrence(..., max_memory=..., out_dir=...) writes more of them)"]
    if out_dir is None:
        hints.insert(0, "pass out_dir= to write the result as row-range shards instead of holding it")
    _memory.require(streamed_ppmi_bytes(cooc.shape, shapes, in_memory_result=out_dir is None),
                    f"ppmi of {len(shapes)} row blocks of at most {max((z for _, z in shapes), default=0)} "
                    f"nonzeros ({n_rows} x {n_cols})", hints)

    def blocks() -> Iterator[tuple[int, int, int, Any, str]]:
        return _row_blocks(cooc, "cooc", threads, canonical=True, check_finite=False)

    path, created = (None, False) if out_dir is None else sharded.prepare_directory(out_dir, "out_dir")
    try:
        column_sums = np.zeros(n_cols, dtype=np.float64)
        for _, lo, _, csr, label in blocks():
            _count_step(cpu.ppmi_add_column_sums, label, csr, lo, column_sums, threads)
            del csr  # one block in memory at a time: dropped before the next is read
        if path is None:
            return _ppmi_gathered(cooc, blocks(), column_sums, cds, shift, threads)
        with sharded.ShardWriter(path, cooc.shape, name="out_dir") as writer:
            for _, lo, _, csr, label in blocks():
                weighted = _count_step(cpu.ppmi_with_column_sums, label, csr, lo, column_sums, cds, shift, threads)
                del csr
                writer.write(_scipy(weighted), row_begin=lo)
                del weighted
        return writer.result
    except BaseException:
        if path is not None:
            sharded.discard(path, remove_dir=created)
        raise


def _ppmi_gathered(cooc: Any, blocks: Iterator[tuple[int, int, int, Any, str]], column_sums: np.ndarray,
                   cds: float, shift: float, threads: int) -> SparseMatrix:
    """The weighted blocks as one scipy CSR, in arrays sized for every nonzero of `cooc` (an upper
    bound) whose filled prefix is returned."""
    indptr = np.zeros(cooc.shape[0] + 1, dtype=np.int64)
    indices = np.empty(cooc.nnz, dtype=np.int32)
    data = np.empty(cooc.nnz, dtype=np.float32)
    at = 0
    for _, lo, hi, csr, label in blocks:
        weighted = _count_step(cpu.ppmi_with_column_sums, label, csr, lo, column_sums, cds, shift, threads)
        del csr
        k = weighted.nnz
        indices[at:at + k] = weighted.indices
        data[at:at + k] = weighted.data
        indptr[lo + 1:hi + 1] = weighted.indptr[1:] + at
        at += k
        del weighted
    result = sp.csr_matrix((data[:at], indices[:at], indptr), shape=cooc.shape, copy=False)
    result.has_sorted_indices = True
    return result


def _scipy(csr: Any) -> SparseMatrix:
    """A kernel CSR as a scipy CSR (arrays shared)."""
    out = sp.csr_matrix((csr.data, csr.indices, csr.indptr), shape=csr.shape, copy=False)
    out.has_sorted_indices = True
    return out


# ---------------------------------------------------------------------------------------------
# Randomized SVD


class _Operator:
    """A matrix (the backend's CSR, with its transpose made once, or a dense array) for products
    on both sides."""

    def __init__(self, backend: Any, matrix: Any, transposed: Any, threads: int) -> None:
        self.backend, self.matrix, self.transposed, self.threads = backend, matrix, transposed, threads
        self.shape = matrix.shape

    @classmethod
    def of(cls, backend: Any, matrix: Any, threads: int) -> "_Operator":
        if backend.issparse(matrix):
            return cls(backend, matrix, backend.csr_transpose(matrix, threads), threads)
        return cls(backend, matrix, matrix.T, threads)

    def _times(self, a: Any, dense: Any) -> Any:
        if self.backend.issparse(a):
            return self.backend.csr_matmul(a, dense, self.threads)
        return self.backend.matmul(a, dense, self.threads)

    def dot(self, dense: Any) -> Any:
        return self._times(self.matrix, dense)

    def tdot(self, dense: Any) -> Any:
        return self._times(self.transposed, dense)

    @property
    def T(self) -> "_Operator":
        return _Operator(self.backend, self.transposed, self.matrix, self.threads)


def randomized_svd(X: MatrixLike, k: int, n_oversamples: int = 10, n_iter: int = 4, seed: int = 0,
                   workers: int | None = None, device: str = "auto") -> tuple[FloatArray, FloatArray, FloatArray]:
    """Truncated SVD by random projection and power iterations, for sparse or dense matrices.

    Halko, Martinsson and Tropp's randomized range finder with ``n_iter`` power (subspace)
    iterations, re-normalised between products (scikit-learn uses LU there; here a whitening by
    the eigenvectors of the small Gram matrix, which spans the same subspace at a fraction of the
    cost), then an orthonormal basis Q and an exact SVD of the small matrix ``Q.T @ X``. Sparse
    products run in embedcore's multithreaded float32 CSR kernels (both ``A @ Q`` and
    ``A.T @ Q``, the latter on a transposed copy made once), dense products in BLAS, the small
    factorisations in LAPACK in float64; the same algorithm runs on the GPU. Matrices of any
    scale are handled: the range basis is rescaled by a power of two where float32 squares would
    under- or overflow. Signs follow scikit-learn's ``svd_flip``: the largest-magnitude entry of
    each column of U is positive.

    A :class:`~embedcore.sharded.ShardedMatrix` is factorised with one shard in memory at a
    time: ``A @ Q`` shard by shard into its rows, ``A.T @ Q`` as each shard's transpose times its
    rows of Q, accumulated over the shards (:func:`streamed_svd_bytes`), with results
    bit-identical to those for ``X.to_scipy()`` (the same float32 multiply-adds in the same order).

    Parameters
    ----------
    X : scipy.sparse matrix, 2-D array-like or ShardedMatrix, shape (m, n)
        The matrix; converted once to float32 (CSR for sparse input; each shard when it is read
        for a ShardedMatrix, which is factorised on the CPU).
    k : int
        Number of singular triplets, 1 <= k <= min(m, n).
    n_oversamples : int
        Extra random directions (>= 0); the subspace has ``min(k + n_oversamples, m, n)``
        columns.
    n_iter : int
        Power iterations (>= 0); more make the result more accurate when the spectrum decays
        slowly.
    seed : int
        Seed of the random projection. For sparse `X`, same seed and input give bit-identical
        output for any `workers` (the sparse kernels are deterministic, the small dense steps
        are single-threaded BLAS calls on fixed blocks when threadpoolctl is installed); for
        dense `X`, with ``workers=1``.
    workers : int, optional
        Threads; None for all usable cores.
    device : {'auto', 'cpu', 'cuda'}
        'cuda' runs on the GPU (cuSPARSE / cuBLAS products, the same whitening and small float64
        factorisations as the CPU; CuPy input gives CuPy output); 'auto' uses it for CuPy input
        and when a GPU is usable (see ``embedcore.backends.get_backend``).

    Returns
    -------
    U : ndarray, float32, shape (m, k)
    S : ndarray, float32, shape (k,)
        Singular values, descending.
    Vt : ndarray, float32, shape (k, n)

    Raises
    ------
    ValueError
        `X` not 2-D, empty, or with NaN/inf; `k` < 1 or > min(X.shape); negative `n_iter` or
        `n_oversamples`.
    TypeError
        Arguments of the wrong type.
    RuntimeError
        ``device='cuda'`` without a usable GPU.
    MemoryError
        The transposed copy and the dense blocks (:func:`svd_working_bytes`; for a ShardedMatrix
        :func:`streamed_svd_bytes`) exceed the available memory; raised before they are
        allocated, naming a ShardedMatrix input where it would make the products fit.

    Examples
    --------
    >>> import numpy as np, embedcore as ec
    >>> X = np.diag([3.0, 2.0, 1.0])
    >>> U, S, Vt = ec.randomized_svd(X, 2)
    >>> np.round(S, 4)
    array([3., 2.], dtype=float32)
    """
    k = check_int(k, "k", minimum=1)
    n_oversamples = check_int(n_oversamples, "n_oversamples", minimum=0)
    n_iter = check_int(n_iter, "n_iter", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    threads = effective_workers(workers)
    if isinstance(X, ShardedMatrix):
        _check_streaming_device(device, "randomized_svd of a ShardedMatrix")
        return _randomized_svd_shards(X, k, n_oversamples, n_iter, seed, threads)
    sparse = _is_sparse(X)
    if not (sparse or is_device_array(X) or hasattr(X, "__array__") or isinstance(X, (list, tuple))):
        raise TypeError(f"X must be a scipy.sparse matrix or a 2-D array, got {type(X).__name__}")
    backend = get_backend(device, X)
    if sparse and X.ndim == 2 and min(X.shape) == 0:
        raise ValueError(f"X must not be empty, got shape {X.shape}")
    start = time.perf_counter()
    matrix = as_csr(X, "X", backend, threads) if sparse else device_matrix(X, "X", backend)
    if k > min(matrix.shape):
        raise ValueError(f"k must be <= min(X.shape) = {min(matrix.shape)}, got {k}")
    if backend.NAME == "cpu":
        hints = ["a smaller k or n_oversamples"]
        if sparse:
            hints.insert(0, "give X as a ShardedMatrix (ShardedMatrix.from_scipy, or cooccurrence / ppmi with "
                            "out_dir=): its products are taken one shard at a time, without the transposed copy")
        _memory.require(svd_working_bytes(matrix.shape, matrix.nnz if sparse else 0, k, n_oversamples),
                        f"randomized_svd of a {matrix.shape[0]} x {matrix.shape[1]} matrix with k={k}", hints)
    op = _Operator.of(backend, matrix, threads)
    # The dense steps between products are small (p x p results); each BLAS call runs on one
    # thread, without competing with the threads of the sparse kernels (the tall x small products
    # run as fixed row blocks shared by `threads` threads), so the bits do not depend on `threads`.
    with blas_threads(1):
        result = range_finder_svd(op, k, n_oversamples, n_iter, seed, threads)
    logger.info("randomized_svd: %d x %d, k=%d, %d power iterations, %.2f s", op.shape[0],
                op.shape[1], k, n_iter, time.perf_counter() - start)
    factors: tuple[FloatArray, FloatArray, FloatArray] = like_inputs(backend, result, X)
    return factors


def svd_working_bytes(shape: tuple[int, int], nnz: int, k: int, n_oversamples: int) -> int:
    """Bytes `randomized_svd` allocates besides its float32 input: for sparse input the
    transposed copy (int32 column + float32 value per nonzero, int64 indptr), and the blocks of
    p = min(k + n_oversamples, m, n) columns: per row of either side a float32 product, its
    orthonormalised copy and a float64 basis (16 bytes per entry).

    ``(8 * nnz + 8 * (n + 1) if sparse) + 16 * (m + n) * p``
    """
    m, n = shape
    p = min(k + n_oversamples, m, n)
    return (8 * nnz + 8 * (n + 1) if nnz else 0) + 16 * (m + n) * p


def streamed_svd_bytes(shape: tuple[int, int], shards: Sequence[tuple[int, int]], k: int, n_oversamples: int,
                       threads: int) -> int:
    """Bytes `randomized_svd` holds at once for a ShardedMatrix (`shards`: ``(n_rows, nnz)`` of
    each): the dense blocks of p = min(k + n_oversamples, m, n) columns as for a matrix in memory
    (16 bytes per entry, :func:`svd_working_bytes`), and for the largest shard the shard read into
    memory (12 bytes per nonzero, 8 per row and one), the temporaries of its check for NaN and
    infinity (5 per nonzero), its transpose (12 per nonzero, 8 per column and one) and the
    transpose's per-thread column counters (8 per column and thread).

    ``16 * (m + n) * p + max over shards (29 * nnz + 8 * (rows + 1)) + 8 * (n + 1) + 8 * threads * n``
    """
    m, n = shape
    p = min(k + n_oversamples, m, n)
    block = max((29 * nnz + 8 * (rows + 1) for rows, nnz in shards), default=0)
    return 16 * (m + n) * p + block + 8 * (n + 1) + 8 * threads * n


class _ShardOperator:
    """A ShardedMatrix A for the range finder, one shard in memory at a time: ``A @ Q`` row block
    by row block, ``A^T @ Q`` as the sum over shards of each shard's transpose times its rows of Q,
    accumulated in shard order into one output (the same float32 multiply-adds, in the same order,
    as one product with the whole transpose, so the results are bit-identical to the in-memory
    operator's). The transposed operator swaps the two."""

    backend = cpu

    def __init__(self, matrix: ShardedMatrix, threads: int, transposed: bool = False) -> None:
        self.matrix, self.threads, self.transposed = matrix, threads, transposed
        self.shape = matrix.shape[::-1] if transposed else matrix.shape

    def _shards(self) -> Iterator[tuple[int, int, Any]]:
        """``(row_begin, row_end, csr)`` of each shard with rows; nothing here holds a shard
        once the caller has moved on to the next one."""
        for block in _row_blocks(self.matrix, "X", self.threads):
            if block[2] > block[1]:
                yield block[1:4]
            del block

    def _times(self, dense: Any) -> FloatArray:  # A @ dense
        dense = np.ascontiguousarray(dense, dtype=np.float32)
        out = np.zeros((self.matrix.shape[0], dense.shape[1]), dtype=np.float32)
        for lo, hi, csr in self._shards():
            cpu.csr_matmul_into(csr, dense, out[lo:hi], self.threads)
            del csr  # one shard in memory at a time: dropped before the next is read
        return out

    def _transposed_times(self, dense: Any) -> FloatArray:  # A^T @ dense
        dense = np.ascontiguousarray(dense, dtype=np.float32)
        out = np.zeros((self.matrix.shape[1], dense.shape[1]), dtype=np.float32)
        for lo, hi, csr in self._shards():
            transposed = cpu.csr_transpose(csr, self.threads)
            del csr
            cpu.csr_matmul_into(transposed, dense[lo:hi], out, self.threads, accumulate=True)
            del transposed
        return out

    def dot(self, dense: Any) -> FloatArray:
        return self._transposed_times(dense) if self.transposed else self._times(dense)

    def tdot(self, dense: Any) -> FloatArray:
        return self._times(dense) if self.transposed else self._transposed_times(dense)

    @property
    def T(self) -> "_ShardOperator":
        return _ShardOperator(self.matrix, self.threads, not self.transposed)


def _randomized_svd_shards(X: ShardedMatrix, k: int, n_oversamples: int, n_iter: int, seed: int,
                           threads: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """randomized_svd() of a ShardedMatrix: the range finder over `_ShardOperator`."""
    if min(X.shape) == 0:
        raise ValueError(f"X must not be empty, got shape {X.shape}")
    if k > min(X.shape):
        raise ValueError(f"k must be <= min(X.shape) = {min(X.shape)}, got {k}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"X must hold real numbers, got shards of {X.dtype}")
    shapes = _block_shapes(X)
    _memory.require(streamed_svd_bytes(X.shape, shapes, k, n_oversamples, threads),
                    f"randomized_svd of a {X.shape[0]} x {X.shape[1]} ShardedMatrix ({X.n_shards} shards of at "
                    f"most {max(z for _, z in shapes)} nonzeros) with k={k}",
                    ["a smaller k or n_oversamples",
                     "smaller shards (cooccurrence(..., max_memory=..., out_dir=...) writes more of them)"])
    start = time.perf_counter()
    op = _ShardOperator(X, threads)
    with blas_threads(1):
        result = range_finder_svd(op, k, n_oversamples, n_iter, seed, threads)
    logger.info("randomized_svd: %d x %d in %d shards, k=%d, %d power iterations, %.2f s", X.shape[0],
                X.shape[1], X.n_shards, k, n_iter, time.perf_counter() - start)
    return result


def _current_dask_client() -> Any:
    """The dask.distributed Client this process has started or runs under, or None (none started,
    or dask.distributed never imported: a process with a Client has imported it)."""
    module = sys.modules.get("distributed")
    if module is None or not hasattr(module, "default_client"):
        return None
    try:
        return module.default_client()
    except ValueError:  # no Client
        return None


def _is_sparse(value: object) -> bool:
    return sp.issparse(value) or (is_device_array(value) and hasattr(value, "tocsr"))


# ---------------------------------------------------------------------------------------------
# SVDEmbedding


def _is_source(value: object) -> bool:
    """A text source (path, list of paths, iterable of sentences) rather than a matrix."""
    import os
    if isinstance(value, (str, os.PathLike)):
        return True
    if _is_sparse(value) or hasattr(value, "__array__"):
        return False
    if isinstance(value, (list, tuple)) and value:
        first = value[0]
        return isinstance(first, (str, os.PathLike)) or (
            isinstance(first, (list, tuple)) and (not first or isinstance(first[0], str)))
    return False


class SVDEmbedding(Model):
    """Truncated SVD embeddings: PPMI-SVD word vectors, latent semantic analysis, and
    matrix-factorisation embeddings for recommendation.

    ``fit(source)`` counts co-occurrences in a text corpus (see :func:`cooccurrence`) and
    continues as ``fit(cooc, vocab=vocab)``, which weights a word-context matrix by PPMI (see
    :func:`ppmi`), takes its rank-`vector_size` randomized SVD ``U S Vt`` (see
    :func:`randomized_svd`) and gives word vectors ``U * S**eig`` in :attr:`wv` (Levy, Goldberg
    and Dagan found ``eig=0.5`` clearly better than the classical ``eig=1``).
    ``fit(matrix)`` without a vocabulary takes the SVD of any sparse or dense matrix as it is
    (term-document counts or tf-idf for LSA, user-item interactions for recommendation):
    :attr:`components_` and :attr:`singular_values_` as scikit-learn's ``TruncatedSVD`` has
    them, and :meth:`transform` projects new rows.

    Parameters
    ----------
    vector_size : int
        Number of dimensions (singular triplets).
    window, min_count : int
        Co-occurrence window and minimum word count when fitting a text source.
    cds : float
        Context-distribution smoothing of the PPMI (> 0).
    eig : float
        Exponent of the singular values in the word vectors ``U * S**eig``.
    shift : float
        PPMI shift ``k`` (> 0): values are ``PMI - log(k)``, positive ones kept.
    n_iter : int
        Power iterations of the randomized SVD.
    n_oversamples : int
        Extra random directions of the randomized SVD.
    seed : int
        Seed of the random projection.
    workers : int, optional
        Threads; None for all usable cores.
    device : {'auto', 'cpu', 'cuda'}
        'cuda' counts co-occurrences, weights them and runs the SVD on the GPU; 'auto' does so
        when a GPU is usable.

    Attributes
    ----------
    wv : KeyedVectors
        Word vectors (after ``fit`` with a vocabulary).
    components_ : ndarray, float32, shape (vector_size, n_features)
        Right singular vectors ``Vt``.
    singular_values_ : ndarray, float32, shape (vector_size,)
    stats : dict
        ``count_seconds``, ``ppmi_seconds``, ``svd_seconds``, ``nnz`` of the factorised matrix.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, embedcore as ec
    >>> cooc = sp.random(50, 50, density=0.3, random_state=0) * 100
    >>> model = ec.SVDEmbedding(vector_size=8).fit(cooc, vocab=[f"w{i}" for i in range(50)])
    >>> model.wv.vectors.shape
    (50, 8)
    >>> lsa = ec.SVDEmbedding(vector_size=5).fit(np.random.default_rng(0).random((20, 30)))
    >>> lsa.transform(np.ones((2, 30))).shape
    (2, 5)
    """

    _fitted_attributes = ("wv", "words", "components_", "singular_values_")
    _state_attributes = ("words", "_word_counts", "components_", "singular_values_", "_left")

    words: list[str] | None
    components_: FloatArray
    singular_values_: FloatArray
    stats: dict[str, Any]

    def __init__(self, vector_size: int = 100, window: int = 5, min_count: int = 5, cds: float = 0.75,
                 eig: float = 0.5, shift: float = 1.0, n_iter: int = 5, n_oversamples: int = 10, seed: int = 0,
                 workers: int | None = None, device: str = "auto") -> None:
        self.vector_size = check_int(vector_size, "vector_size", minimum=1)
        self.window = check_int(window, "window", minimum=1)
        self.min_count = check_int(min_count, "min_count", minimum=1)
        self.cds = check_float(cds, "cds", minimum=0.0, inclusive=False)
        self.eig = check_float(eig, "eig")
        self.shift = check_float(shift, "shift", minimum=0.0, inclusive=False)
        self.n_iter = check_int(n_iter, "n_iter", minimum=0)
        self.n_oversamples = check_int(n_oversamples, "n_oversamples", minimum=0)
        self.seed = check_int(seed, "seed", minimum=0)
        effective_workers(workers)
        self.workers = workers
        self.device = self._check_device(device)
        self.stats = {}

    def fit(self, X: MatrixLike, vocab: "Vocab | Sequence[str] | None" = None) -> "Self":
        """Fit on a co-occurrence matrix with its vocabulary, or on any matrix.

        Parameters
        ----------
        X : scipy.sparse matrix, 2-D array-like, EncodedCorpus, or text source
            With `vocab`: co-occurrence counts, one row per word (PPMI, then SVD). Without:
            the matrix to factorise as it is (LSA, recommendation). A text source (path, list
            of paths, iterable of sentences) builds its vocabulary with `min_count` and an
            encoded corpus (with `vocab`) is counted with :func:`cooccurrence` (`window`, 1/d
            weights, symmetric), then PPMI and SVD as for a matrix. A `ShardedMatrix` (from
            ``cooccurrence(..., out_dir=...)``) is weighted and factorised on the CPU with one
            shard in memory at a time: its PPMI is written as shards to a temporary directory
            (under ``tempfile.gettempdir()``, removed at the end), then factorised as
            :func:`randomized_svd` does a ShardedMatrix; the result is that of the matrix in
            memory (see :func:`ppmi` for when it is bit-identical). In a process connected to a
            dask.distributed cluster (a ``Client`` started), the same steps run there instead,
            each shard a task (:mod:`embedcore.distributed`, the dask extra; the PPMI matrix is
            gathered on the client; `workers` and `device` are not used).
        vocab : Vocab or list of str, optional
            The words of the rows of `X` (or of the ids of an encoded corpus).

        Returns
        -------
        SVDEmbedding
            self.

        Raises
        ------
        ValueError
            Bad matrix (see :func:`ppmi`, :func:`randomized_svd`), `vector_size` larger than
            the matrix allows, or a vocabulary whose length is not the number of rows.
        TypeError
            `X` is neither a matrix nor a corpus; an encoded corpus without `vocab`.
        """
        from embedcore.corpus import EncodedCorpus
        count_seconds = 0.0
        streamed = isinstance(X, ShardedMatrix)  # row-range shards: PPMI and SVD one shard at a time
        on_dask = streamed and _current_dask_client() is not None  # or each shard a task on the cluster
        if on_dask:
            from embedcore import distributed
        elif streamed:
            _check_streaming_device(self.device, "SVDEmbedding.fit of a ShardedMatrix")
        elif isinstance(X, EncodedCorpus) or _is_source(X):
            X, vocab, count_seconds = self._count(X, vocab)
        elif not (_is_sparse(X) or hasattr(X, "__array__") or isinstance(X, (list, tuple))):
            raise TypeError(f"X must be a scipy.sparse matrix, a 2-D array, a ShardedMatrix, an EncodedCorpus or "
                            f"a text source, got {type(X).__name__}")
        words = None
        if vocab is not None:
            words = list(vocab.words) if hasattr(vocab, "words") else list(vocab)
            n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
            if len(words) != n_rows:
                raise ValueError(f"vocab must have one word per row of X ({n_rows}), "
                                 f"got {len(words)} words")
        if isinstance(X, ShardedMatrix) and min(X.shape) and self.vector_size > min(X.shape):
            raise ValueError(f"vector_size must be <= min(X.shape) = {min(X.shape)}, got {self.vector_size}")
        scratch = None
        try:
            start = time.perf_counter()
            matrix = X
            if words is not None:
                if on_dask:
                    matrix = distributed.ppmi(X, cds=self.cds, shift=self.shift)
                elif streamed:  # the PPMI shards go to a temporary directory, removed after the SVD
                    scratch = tempfile.mkdtemp(prefix="embedcore-ppmi-")
                    matrix = ppmi(X, cds=self.cds, shift=self.shift, workers=self.workers, device="cpu",
                                  out_dir=os.path.join(scratch, "ppmi"))
                else:
                    matrix = ppmi(X, cds=self.cds, shift=self.shift, workers=self.workers, device=self.device)
            ppmi_seconds = time.perf_counter() - start
            shape = matrix.shape
            if len(shape) == 2 and min(shape) and self.vector_size > min(shape):
                raise ValueError(f"vector_size must be <= min(X.shape) = {min(shape)}, "
                                 f"got {self.vector_size}")
            start = time.perf_counter()
            if on_dask:
                u, s, vt = distributed.randomized_svd(matrix, self.vector_size, n_oversamples=self.n_oversamples,
                                                      n_iter=self.n_iter, seed=self.seed)
            else:
                u, s, vt = randomized_svd(matrix, self.vector_size, n_oversamples=self.n_oversamples,
                                          n_iter=self.n_iter, seed=self.seed, workers=self.workers,
                                          device="cpu" if streamed else self.device)
            svd_seconds = time.perf_counter() - start
            nnz = int(matrix.nnz) if hasattr(matrix, "nnz") else int(np.prod(shape))
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        u, s, vt = (cast(Any, x).get() if is_device_array(x) else x for x in (u, s, vt))  # the model's arrays: numpy
        self.stats = {"count_seconds": count_seconds, "ppmi_seconds": ppmi_seconds,
                      "svd_seconds": svd_seconds, "nnz": nnz}
        with self._fitting():
            self.words, self._left, self.singular_values_, self.components_ = words, u, s, vt
            self._word_counts = getattr(vocab, "counts", None) if words is not None else None
        logger.info("SVDEmbedding: %d x %d matrix, %d dimensions, %.2f s", shape[0], shape[1],
                    self.vector_size, self.stats["ppmi_seconds"] + self.stats["svd_seconds"])
        return self

    def _count(self, source: "Source | EncodedCorpus", vocab: "Vocab | Sequence[str] | None") -> tuple[Any, Any, float]:
        """(co-occurrence matrix, vocab, seconds) of a text source or an encoded corpus."""
        from embedcore.cooccurrence import cooccurrence
        from embedcore.corpus import EncodedCorpus, check_restartable
        from embedcore.vocab import Vocab
        start = time.perf_counter()
        threads = effective_workers(self.workers)
        if isinstance(source, EncodedCorpus):
            if vocab is None:
                raise TypeError("vocab is required to fit an encoded corpus (a Vocab or a list of words)")
            corpus = source
        else:
            check_restartable(source)
            vocab = Vocab.from_corpus(source, min_count=self.min_count)
            if len(vocab) == 0:
                raise ValueError(f"source: no word occurs at least min_count={self.min_count} times")
            corpus = vocab.encode(source)
        n_words = len(vocab.words) if hasattr(vocab, "words") else len(vocab)
        cooc = cooccurrence(corpus, n_words, window=self.window, workers=threads, device=self.device)
        return cooc, vocab, time.perf_counter() - start

    @property
    def wv(self) -> "KeyedVectors":
        """KeyedVectors of the rows: ``U * S**eig`` (needs a fit with a vocabulary)."""
        if self.words is None:
            raise AttributeError("wv needs words: fit(cooc, vocab=...) gives word vectors; after "
                                 "fit(matrix) use fit_transform() or transform()")
        from embedcore.keyedvectors import KeyedVectors
        weights = self.singular_values_.astype(np.float64) ** self.eig
        kv = KeyedVectors(self.words, (self._left * weights.astype(np.float32)))
        return kv._set_counts(self.__dict__.get("_word_counts"))  # dummy counts after fit(cooc, vocab=list)

    def fit_transform(self, X: MatrixLike, vocab: "Vocab | Sequence[str] | None" = None) -> FloatArray:
        """Fit, then return the rows of the factorised matrix projected: ``U * S`` (float32).

        Parameters and errors as :meth:`fit`.
        """
        self.fit(X, vocab=vocab)
        projected: FloatArray = self._left * self.singular_values_
        return projected

    def transform(self, rows: MatrixLike) -> FloatArray:
        """Project rows onto the components: ``rows @ components_.T`` (scikit-learn's
        ``TruncatedSVD.transform``), e.g. new documents for LSA or new users for recommendation.

        Parameters
        ----------
        rows : scipy.sparse matrix or 2-D array-like, shape (n, n_features)
            Rows in the space of the matrix that was factorised (PPMI-weighted when the model
            was fitted with a vocabulary).

        Returns
        -------
        ndarray, float32, shape (n, vector_size)

        Raises
        ------
        ValueError
            Wrong number of columns, NaN or infinity.
        NotFittedError
            Not fitted.
        """
        n_features = self.components_.shape[1]
        threads = effective_workers(self.workers)
        cpu = get_backend("cpu")
        basis = np.ascontiguousarray(self.components_.T)
        if sp.issparse(rows):
            if rows.ndim != 2 or rows.shape[1] != n_features:
                raise ValueError(f"rows must have {n_features} columns, got shape {rows.shape}")
            from_sparse: FloatArray = cpu.csr_matmul(as_csr(rows, "rows", cpu, threads), basis, threads)
            return from_sparse
        array = as_float32_matrix(rows, "rows", allow_empty=True)
        if array.shape[1] != n_features:
            raise ValueError(f"rows must have {n_features} columns, got {describe(array)}")
        from_dense: FloatArray = cpu.matmul(array, basis, threads)
        return from_dense
