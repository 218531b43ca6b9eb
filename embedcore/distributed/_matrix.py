"""PPMI and randomized SVD of a matrix held as row blocks on Dask workers.

A matrix (a scipy CSR on the client, or a ShardedMatrix on shared storage) becomes row blocks,
one task each; the marginals, PPMI weighting and the sparse products run block by block in
embedcore's kernels, and the client keeps only vectors and the small dense matrices of the SVD.
"""
import os
from typing import Any

import numpy as np
import scipy.sparse as sp

from embedcore import sharded
from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, StrPath
from embedcore._validation import as_csr, check_float, check_int
from embedcore.backends import blas_threads, cpu
from embedcore.distributed._scheduler import delayed, resolve, tree_reduce
from embedcore.sharded import ShardedMatrix
from embedcore._range_finder import range_finder_svd

_INT32_MAX = np.iinfo(np.int32).max


class RowBlocks:
    """A matrix as delayed CSR blocks of consecutive rows: `bounds[i]..bounds[i+1]` is block i."""

    def __init__(self, shape, bounds, blocks):
        self.shape, self.bounds, self.blocks = shape, bounds, blocks


def balanced_bounds(weights, parts):
    """Boundaries of at most `parts` consecutive ranges of about equal total weight, each
    holding at least one item."""
    n = len(weights)
    parts = max(1, min(parts, n))
    ends = np.cumsum(np.asarray(weights, dtype=np.float64))
    targets = ends[-1] * np.arange(1, parts) / parts if n else np.zeros(0)
    cuts = np.searchsorted(ends, targets, side="right") + 1
    return sorted({0, n} | {int(c) for c in cuts if 0 < c < n})


def _default_parts(scheduler):
    if scheduler.client is not None:
        return max(1, sum(scheduler.client.nthreads().values()))
    return 1 if scheduler.local == "sync" else (os.cpu_count() or 1)


def _load_shard(path, i):
    return ShardedMatrix(path).shard(i)


def _check_sparse(matrix, name):
    """A 2-D scipy.sparse matrix of real numbers (converted to CSR) or a ShardedMatrix."""
    if isinstance(matrix, ShardedMatrix):
        return matrix
    if not sp.issparse(matrix):
        raise TypeError(f"{name} must be a scipy.sparse matrix or a ShardedMatrix, got {type(matrix).__name__}")
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got a sparse array with shape {matrix.shape}")
    if not np.issubdtype(matrix.dtype, np.number) or np.issubdtype(matrix.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got sparse {matrix.dtype}")
    if max(matrix.shape) > _INT32_MAX:
        raise ValueError(f"{name} has shape {matrix.shape}; each dimension must be below 2**31")
    return matrix.tocsr()


def row_blocks(matrix, scheduler):
    """RowBlocks of a CSR (cut by nonzeros into one block per worker thread and sent to the
    workers) or of a ShardedMatrix (one block per non-empty shard, each read by its task)."""
    if isinstance(matrix, ShardedMatrix):
        keep = [i for i, (lo, hi) in enumerate(matrix.row_ranges) if hi > lo]
        bounds = [0] + [matrix.row_ranges[i][1] for i in keep]
        return RowBlocks(matrix.shape, bounds, [delayed(_load_shard)(matrix.path, i) for i in keep])
    bounds = balanced_bounds(np.diff(matrix.indptr) + 1, _default_parts(scheduler))
    pieces = scheduler.spread([matrix[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])])
    return RowBlocks(matrix.shape, bounds, pieces)


def _gather_rows(pieces, shape):
    """Row blocks (CSR, in order) stacked into one CSR matrix of `shape`."""
    if not pieces:
        return sp.csr_matrix(shape, dtype=np.float32)
    csr = sp.vstack(pieces, format="csr")
    csr.has_sorted_indices = all(p.has_sorted_indices for p in pieces)
    return csr


# ---------------------------------------------------------------------------------------------
# PPMI


def _canonical(block, row_begin, name):
    """The block as ppmi() takes its input: duplicates summed, columns sorted, then float32;
    counts that PPMI cannot weight are refused, naming the row in the whole matrix."""
    csr = block.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    csr = csr.astype(np.float32, copy=False)
    data = csr.data
    bad = ~np.isfinite(data) | (data < 0)
    if bad.any():
        k = int(np.argmax(bad))
        row = int(np.searchsorted(csr.indptr, k, side="right") - 1) + row_begin
        raise ValueError(f"{name} must hold finite, non-negative counts, got {data[k]} in row {row}")
    return csr


def _column_sums(*parts):
    """Column sums in float64 of CSR blocks, or the sum of earlier such sums."""
    total = None
    for part in parts:
        sums = part if isinstance(part, np.ndarray) else np.bincount(
            part.indices, weights=part.data.astype(np.float64), minlength=part.shape[1])
        total = sums if total is None else total + sums
    return total


def _ppmi_block(block, column_sums, cds, shift):
    """PPMI of a row block with the whole matrix's column sums, by the second step of embedcore's
    PPMI kernel (the one the single-machine ppmi runs after summing the columns); row sums are the
    block's own."""
    csr = cpu.csr_matrix(block)  # checked and canonical (_canonical)
    weighted = cpu.ppmi_with_column_sums(csr, np.ascontiguousarray(column_sums, dtype=np.float64), cds, shift, 1)
    out = sp.csr_matrix((weighted.data, weighted.indices, weighted.indptr), shape=block.shape)
    out.has_sorted_indices = True
    return out


def _ppmi_write(out_dir, index, row_begin, block, column_sums, cds, shift):
    return sharded.write_shard(out_dir, index, row_begin, _ppmi_block(block, column_sums, cds, shift))


def ppmi(matrix: Any, cds: float = 0.75, shift: float = 1.0, client: Any = None, out_dir: StrPath | None = None,
         progress: bool = False) -> "sp.csr_matrix | ShardedMatrix":
    """Positive PMI of a co-occurrence matrix held as row blocks on Dask workers: the matrix of
    ``embedcore.ppmi(matrix, cds, shift)`` on one machine.

    One pass sums the columns of every block (float64, added by a tree of tasks); the client
    sends the column sums back, and each block is weighted by embedcore's PPMI kernel with the
    whole matrix's marginals (row sums are the block's own). The result is bit-identical to the
    single-machine PPMI whenever the float64 column sums are exact, as they are for counts of
    ordinary corpora (sums of float32 values spanning fewer than 53 bits); otherwise it differs
    by the order of float64 additions.

    Parameters
    ----------
    matrix : scipy.sparse matrix or ShardedMatrix
        Non-negative counts, words x contexts. A scipy matrix is cut into one row block per
        worker thread and sent to the workers; a ShardedMatrix is read shard by shard by the
        tasks.
    cds, shift : float
        As for ``embedcore.ppmi`` (> 0).
    client : distributed.Client, 'threads' or 'sync', optional
        As for `build_vocab`.
    out_dir : str or os.PathLike, optional
        A new or empty directory (local and shared with the workers, or an fsspec URL): the
        result is written there as a ShardedMatrix with the input's row blocks, and removed again
        if the weighting fails. Without it, the blocks are gathered into one CSR matrix.
    progress : bool
        As for `build_vocab`.

    Returns
    -------
    scipy.sparse.csr_matrix or ShardedMatrix
        float32, the shape of `matrix`, only positive entries.

    Raises
    ------
    TypeError
        `matrix` is not a scipy.sparse matrix or a ShardedMatrix, or does not hold real numbers.
    ValueError
        Negative, NaN or infinite counts (the row is named); `cds` or `shift` not > 0;
        `out_dir` not empty.
    """
    matrix = _check_sparse(matrix, "matrix")
    cds = check_float(cds, "cds", minimum=0.0, inclusive=False)
    shift = check_float(shift, "shift", minimum=0.0, inclusive=False)
    scheduler = resolve(client, progress)
    if out_dir is None:
        return _ppmi_blocks(scheduler, matrix, cds, shift, None)
    path, created = sharded.prepare_directory(out_dir, "out_dir")
    try:
        return _ppmi_blocks(scheduler, matrix, cds, shift, path)
    except BaseException:
        sharded.discard(path, remove_dir=created)
        raise


def _ppmi_blocks(scheduler, matrix, cds, shift, out_dir):
    blocks = row_blocks(matrix, scheduler)
    checked = scheduler.persist([delayed(_canonical)(b, lo, "matrix")
                                 for b, lo in zip(blocks.blocks, blocks.bounds)])
    if not checked:
        empty = sp.csr_matrix(matrix.shape, dtype=np.float32)
        return empty if out_dir is None else sharded.commit(
            out_dir, matrix.shape, [sharded.write_shard(out_dir, 0, 0, empty)])
    column_sums = scheduler.compute([tree_reduce([delayed(_column_sums)(b) for b in checked], _column_sums)])[0]
    shared = scheduler.share(column_sums)
    if out_dir is None:
        pieces = scheduler.compute([delayed(_ppmi_block)(b, shared, cds, shift) for b in checked])
        return _gather_rows(pieces, matrix.shape).astype(np.float32, copy=False)
    entries = scheduler.compute([delayed(_ppmi_write)(out_dir, i, lo, b, shared, cds, shift)
                                 for i, (b, lo) in enumerate(zip(checked, blocks.bounds))])
    return sharded.commit(out_dir, matrix.shape, entries)


# ---------------------------------------------------------------------------------------------
# Randomized SVD


def _kernel_csr(block):
    """The block as the product kernels take it (validated once, kept on the worker)."""
    return as_csr(block, "matrix", cpu, 1)


def _column_nonzeros(*parts):
    total = None
    for part in parts:
        counts = part if isinstance(part, np.ndarray) else np.bincount(part.indices, minlength=part.shape[1])
        total = counts if total is None else total + counts
    return total


def _transpose_pieces(block, row_begin, column_bounds):
    """The block's transpose cut at `column_bounds`: for each column range, (indptr, rows, data)
    of the rows of A^T it holds, rows numbered in the whole matrix."""
    t = cpu.csr_transpose(block, 1)  # counting sort by column: rows ascending within each column
    pieces = []
    for lo, hi in zip(column_bounds[:-1], column_bounds[1:]):
        start, end = int(t.indptr[lo]), int(t.indptr[hi])
        pieces.append((t.indptr[lo:hi + 1] - start, t.indices[start:end] + np.int32(row_begin), t.data[start:end]))
    return tuple(pieces)


def _assemble_transposed(n_rows, n_cols, *pieces):
    """Rows of A^T from the pieces of consecutive row blocks of A (in block order): in each row
    the entries of earlier blocks come first, so columns ascend as in the single-machine
    transpose, entry for entry (duplicates kept, as there)."""
    counts = [np.diff(indptr) for indptr, _, _ in pieces]
    rows = np.concatenate([np.repeat(np.arange(n_rows, dtype=np.int64), c) for c in counts])
    # a stable sort by row merges the pieces' sorted runs and keeps the block order within a row
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(sum(counts), out=indptr[1:])
    cols = np.concatenate([p[1] for p in pieces])[order]
    data = np.concatenate([p[2] for p in pieces])[order]
    csr = sp.csr_matrix((data, cols, indptr), shape=(n_rows, n_cols), copy=False)
    return cpu.csr_matrix(csr)  # built from checked blocks


def _matmul(block, dense):
    return cpu.csr_matmul(block, dense, 1)


class DistributedOperator:
    """A matrix as row blocks of A and of A^T on the workers, with the two products the
    randomized SVD needs: each block's product is a task, the client stacks the results."""

    backend = cpu  # the dense steps between products run on the client's CPU

    def __init__(self, scheduler, blocks, transposed_blocks, shape):
        self.scheduler, self.blocks, self.transposed_blocks, self.shape = scheduler, blocks, transposed_blocks, shape

    def _product(self, blocks, dense, n_rows):
        # each power iteration sends a new (n x p) block, in the graph of its own product
        shared = self.scheduler.share(np.ascontiguousarray(dense, dtype=np.float32))
        pieces = self.scheduler.compute([delayed(_matmul)(b, shared) for b in blocks])
        if not pieces:
            return np.zeros((n_rows, dense.shape[1]), dtype=np.float32)
        return np.concatenate(pieces, axis=0)

    def dot(self, dense):
        return self._product(self.blocks, dense, self.shape[0])

    def tdot(self, dense):
        return self._product(self.transposed_blocks, dense, self.shape[1])

    @property
    def T(self):
        return DistributedOperator(self.scheduler, self.transposed_blocks, self.blocks, self.shape[::-1])


def distributed_operator(scheduler, matrix):
    """Row blocks of the matrix and of its transpose, persisted on the workers. The transpose is
    a shuffle: each block's transpose is cut into column ranges (balanced by nonzeros), and each
    range's pieces from all blocks make one block of A^T."""
    blocks = row_blocks(matrix, scheduler)
    m, n = matrix.shape
    kernel_blocks = scheduler.persist([delayed(_kernel_csr)(b) for b in blocks.blocks])
    if not kernel_blocks:
        return DistributedOperator(scheduler, [], [], (m, n))
    col_nnz = scheduler.compute([tree_reduce([delayed(_column_nonzeros)(b) for b in kernel_blocks],
                                             _column_nonzeros)])[0]
    column_bounds = balanced_bounds(col_nnz + 1, len(kernel_blocks))
    split = [delayed(_transpose_pieces, nout=len(column_bounds) - 1)(b, lo, column_bounds)
             for b, lo in zip(kernel_blocks, blocks.bounds)]
    transposed = scheduler.persist([
        delayed(_assemble_transposed)(hi - lo, m, *[pieces[c] for pieces in split])
        for c, (lo, hi) in enumerate(zip(column_bounds[:-1], column_bounds[1:]))])
    return DistributedOperator(scheduler, kernel_blocks, transposed, (m, n))


def randomized_svd(matrix: Any, k: int, n_oversamples: int = 10, n_iter: int = 4, seed: int = 0, client: Any = None,
                   progress: bool = False) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Truncated SVD of a sparse matrix held as row blocks on Dask workers: the factors of
    ``embedcore.randomized_svd(matrix, k, n_oversamples, n_iter, seed)`` on one machine.

    Halko, Martinsson and Tropp's randomized range finder, as ``embedcore.randomized_svd`` runs
    it and with its code: the products ``A @ Q`` and ``A.T @ Q`` are tasks, one per row block of
    A and of A^T (the transpose is made once, by a shuffle of column ranges between the tasks),
    computed by embedcore's CSR kernel; the client broadcasts each ``Q`` (n x p, float32),
    stacks the products and runs the small dense steps (whitening, the p x p eigensolvers). Each
    output row of a product is computed exactly as on one machine, so with the same seed the
    factors are the single-machine ones (bit-identical when the client's BLAS computes the small
    products as it would there).

    Parameters
    ----------
    matrix : scipy.sparse matrix or ShardedMatrix
        The matrix, float32 in the products.
    k : int
        Number of singular triplets, 1 <= k <= min(matrix.shape).
    n_oversamples, n_iter, seed
        As for ``embedcore.randomized_svd``.
    client, progress
        As for `build_vocab`.

    Returns
    -------
    U : ndarray, float32, shape (m, k)
    S : ndarray, float32, shape (k,)
    Vt : ndarray, float32, shape (k, n)

    Raises
    ------
    TypeError
        `matrix` is not a scipy.sparse matrix or a ShardedMatrix; arguments of the wrong type.
    ValueError
        Empty `matrix`, NaN or infinity in it, `k` out of range, negative `n_iter` or
        `n_oversamples`.
    """
    matrix = _check_sparse(matrix, "matrix")
    k = check_int(k, "k", minimum=1)
    n_oversamples = check_int(n_oversamples, "n_oversamples", minimum=0)
    n_iter = check_int(n_iter, "n_iter", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    if min(matrix.shape) == 0:
        raise ValueError(f"matrix must not be empty, got shape {matrix.shape}")
    if k > min(matrix.shape):
        raise ValueError(f"k must be <= min(matrix.shape) = {min(matrix.shape)}, got {k}")
    scheduler = resolve(client, progress)
    if sp.issparse(matrix) and matrix.nnz and not np.isfinite(matrix.data).all():
        raise ValueError("matrix contains NaN or infinity")
    op = distributed_operator(scheduler, matrix)
    # as embedcore.randomized_svd: the dense steps on one BLAS thread, the row kernels with all
    with blas_threads(1):
        return range_finder_svd(op, k, n_oversamples, n_iter, seed, effective_workers(None))
