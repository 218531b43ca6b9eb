"""PPMI weighting, randomized truncated SVD, and SVDEmbedding (count-based word vectors, LSA and
matrix-factorisation embeddings).

The heavy work of the SVD is sparse x dense products, done by the multithreaded float32 CSR
kernels of ``embedcore._native``; the small dense factorisations go to LAPACK through scipy.
"""
import contextlib
import logging
import time

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from embedcore import _native
from embedcore._threads import effective_workers
from embedcore._validation import as_float32_matrix, check_choice, check_float, check_int, describe

logger = logging.getLogger("embedcore")

_INT32_MAX = np.iinfo(np.int32).max


# ---------------------------------------------------------------------------------------------
# Input handling


class _Csr:
    """A CSR matrix as the kernels take it: int64 indptr, int32 indices, float32 data."""

    __slots__ = ("indptr", "indices", "data", "shape")

    def __init__(self, indptr, indices, data, shape):
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape

    @property
    def nnz(self):
        return len(self.data)

    def matmul(self, dense, threads, out=None):
        """self @ dense for a C-contiguous float32 (n_cols x p) array."""
        if out is None:
            out = np.empty((self.shape[0], dense.shape[1]), dtype=np.float32)
        _native.csr_matmul(self.indptr, self.indices, self.data, self.shape[1], dense, out, threads)
        return out

    def transpose(self, threads):
        indptr, indices, data = _native.csr_transpose(self.indptr, self.indices, self.data,
                                                      self.shape[0], self.shape[1], threads)
        return _Csr(indptr, indices, data, (self.shape[1], self.shape[0]))

    def to_scipy(self):
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def _is_matrix(value):
    return sp.issparse(value) or isinstance(value, np.ndarray)


def _as_csr(value, name, threads, canonical=False, check_finite=True):
    """A validated _Csr from any scipy.sparse matrix/array or 2-D array-like (converted once)."""
    if sp.issparse(value):
        if value.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got a sparse array with shape {value.shape}")
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
            raise TypeError(f"{name} must hold real numbers, got sparse {value.dtype}")
        csr = value.tocsr()
    else:
        csr = sp.csr_matrix(as_float32_matrix(value, name, allow_empty=True, check_finite=check_finite))
    if canonical and not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    n_rows, n_cols = csr.shape
    if n_rows > _INT32_MAX or n_cols > _INT32_MAX:
        raise ValueError(f"{name} has shape {csr.shape}; each dimension must be below 2**31")
    data = np.ascontiguousarray(csr.data, dtype=np.float32)
    if check_finite and data.size and not np.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or infinity")
    indptr = np.ascontiguousarray(csr.indptr, dtype=np.int64)
    indices = csr.indices
    if indices.dtype != np.int32:
        if indices.size and (indices.min() < 0 or indices.max() > _INT32_MAX):
            raise ValueError(f"{name} has column indices outside [0, {n_cols})")
        indices = indices.astype(np.int32)
    indices = np.ascontiguousarray(indices)
    try:
        _native.check_csr(indptr, indices, n_rows, n_cols, threads)
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid CSR matrix: {exc}") from None
    return _Csr(indptr, indices, data, (n_rows, n_cols))


def _cpu_only(device, name):
    """Check `device`; the SVD runs on the CPU only for now, so an explicit 'cuda' is an error."""
    check_choice(device, "device", ("auto", "cpu", "cuda"))
    if device == "cuda":
        from embedcore._device import resolve_device
        resolve_device("cuda")  # says why when CUDA itself is not usable
        raise RuntimeError(f"{name}: the CUDA path is not built yet; use device='cpu' or 'auto'")
    return "cpu"


@contextlib.contextmanager
def _blas_threads(threads):
    """Hold BLAS to `threads` threads while the dense steps run (when threadpoolctl is present)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


# ---------------------------------------------------------------------------------------------
# PPMI


def ppmi(cooc, cds=0.75, shift=1.0, workers=None):
    """Positive pointwise mutual information of a co-occurrence matrix.

    ``PMI(w, c) = log(C[w, c] * sum_c' n(c')**cds / (n(w) * n(c)**cds)) - log(shift)`` where
    ``n(w)`` are the row sums and ``n(c)`` the column sums of ``C``; entries with PMI <= 0 are
    left out of the result (Levy, Goldberg and Dagan, TACL 2015: context-distribution smoothing
    ``cds`` and the shift of shifted PPMI). Computed in one parallel pass over the rows, sums in
    float64; the result is the same for any `workers`.

    Parameters
    ----------
    cooc : scipy.sparse matrix or 2-D array-like, shape (n_words, n_contexts)
        Non-negative co-occurrence counts (duplicates in COO/CSR input are added up).
    cds : float
        Context-distribution smoothing exponent, > 0 (1 is plain PMI).
    shift : float
        The PMI is shifted by ``-log(shift)``; > 0 (Levy et al.'s ``k``, 1 means no shift).
    workers : int, optional
        Threads; None for all usable cores.

    Returns
    -------
    scipy.sparse.csr_matrix
        float32, same shape as `cooc`, only positive entries, column order of each row kept.

    Raises
    ------
    ValueError
        `cooc` is not 2-D, holds negative, NaN or infinite counts; `cds` or `shift` not > 0.
    TypeError
        `cooc` does not hold real numbers.

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
    csr = _as_csr(cooc, "cooc", threads, canonical=True, check_finite=False)
    try:
        indptr, indices, data = _native.ppmi(csr.indptr, csr.indices, csr.data, csr.shape[0],
                                             csr.shape[1], cds, shift, threads)
    except ValueError as exc:
        raise ValueError(f"cooc must hold finite, non-negative counts ({exc})") from None
    return sp.csr_matrix((data, indices, indptr), shape=csr.shape)


# ---------------------------------------------------------------------------------------------
# Randomized SVD


class _SparseOperator:
    """A sparse matrix with its transpose, for products on both sides."""

    def __init__(self, csr, csr_t, threads):
        self.csr, self.csr_t, self.threads = csr, csr_t, threads
        self.shape = csr.shape

    def dot(self, dense):
        return self.csr.matmul(dense, self.threads)

    def tdot(self, dense):
        return self.csr_t.matmul(dense, self.threads)

    @property
    def T(self):
        return _SparseOperator(self.csr_t, self.csr, self.threads)


class _DenseOperator:
    """A dense float32 matrix; products by BLAS."""

    def __init__(self, array):
        self.array = array
        self.shape = array.shape

    def dot(self, dense):
        return self.array @ dense

    def tdot(self, dense):
        return self.array.T @ dense

    @property
    def T(self):
        return _DenseOperator(self.array.T)


def _lu_basis(y):
    """P L of y = P L U: the same column span as y, well conditioned (sklearn's LU normaliser)."""
    pl, _ = linalg.lu(y, permute_l=True, check_finite=False, overwrite_a=True)
    return np.ascontiguousarray(pl, dtype=np.float32)


def _qr_basis(y):
    """An orthonormal basis of the column span of y."""
    q, _ = linalg.qr(y, mode="economic", check_finite=False, overwrite_a=True)
    return np.ascontiguousarray(q, dtype=np.float32)


def _range_finder_svd(op, k, n_oversamples, n_iter, seed):
    """Halko, Martinsson and Tropp (2011), algorithm 4.3 with LU re-normalisation between the
    power iterations (4.4 with LU in place of QR, as scikit-learn does), then the SVD of Q^T A.
    Works on the orientation with fewer columns. Returns float32 (U, S, Vt) with k components."""
    m, n = op.shape
    transpose = m < n
    if transpose:
        op = op.T
        m, n = n, m
    p = min(k + n_oversamples, n)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, p), dtype=np.float32)
    for _ in range(n_iter):
        q = _lu_basis(op.dot(q))
        q = _lu_basis(op.tdot(q))
    q = _qr_basis(op.dot(q))                      # m x p, orthonormal
    bt = op.tdot(q)                               # n x p, (Q^T A)^T
    # SVD of the small factor in float64: bt = W diag(s) Zt, so Q^T A = Zt^T diag(s) W^T
    w, s, zt = linalg.svd(bt.astype(np.float64), full_matrices=False, check_finite=False,
                          lapack_driver="gesdd")
    u = q @ np.ascontiguousarray(zt[:k].T, dtype=np.float32)   # m x k
    vt = np.ascontiguousarray(w[:, :k].T, dtype=np.float32)     # k x n
    s = s[:k].astype(np.float32)
    if transpose:
        u, vt = np.ascontiguousarray(vt.T), np.ascontiguousarray(u.T)
    return _flip_signs(u, s, vt)


def _flip_signs(u, s, vt):
    """scikit-learn's svd_flip on the returned U: each column's largest |entry| is positive."""
    rows = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[rows, np.arange(u.shape[1])])
    signs[signs == 0] = 1
    u *= signs[np.newaxis, :]
    vt *= signs[:, np.newaxis]
    return u, s, vt


def _operator(X, name, threads):
    if sp.issparse(X):
        csr = _as_csr(X, name, threads)
        return _SparseOperator(csr, csr.transpose(threads), threads)
    return _DenseOperator(as_float32_matrix(X, name))


def randomized_svd(X, k, n_oversamples=10, n_iter=4, seed=0, workers=None, device="auto"):
    """Truncated SVD by random projection and power iterations, for sparse or dense matrices.

    Halko, Martinsson and Tropp's randomized range finder with ``n_iter`` power iterations,
    re-normalised by LU between them as scikit-learn's ``randomized_svd`` does, then an exact
    SVD of the small projected matrix. Sparse products run in embedcore's multithreaded float32
    CSR kernels (both ``A @ Q`` and ``A.T @ Q``, the latter on a transposed copy made once),
    dense products in BLAS, the small factorisations in LAPACK. Signs follow scikit-learn's
    ``svd_flip``: the largest-magnitude entry of each column of U is positive.

    Parameters
    ----------
    X : scipy.sparse matrix or 2-D array-like, shape (m, n)
        The matrix; converted once to float32 (CSR for sparse input).
    k : int
        Number of singular triplets, 1 <= k <= min(m, n).
    n_oversamples : int
        Extra random directions (>= 0); the subspace has ``min(k + n_oversamples, m, n)``
        columns.
    n_iter : int
        Power iterations (>= 0); more make the result more accurate when the spectrum decays
        slowly.
    seed : int
        Seed of the random projection. Same seed and input give the same output for any
        `workers` (the sparse kernels are deterministic; BLAS is held to `workers` threads when
        threadpoolctl is installed, and ``workers=1`` is bit-reproducible).
    workers : int, optional
        Threads; None for all usable cores.
    device : {'auto', 'cpu', 'cuda'}
        'auto' and 'cpu' run on the CPU; the CUDA path is not built yet ('cuda' raises).

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
        ``device='cuda'``.

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
    _cpu_only(device, "randomized_svd")
    if not _is_matrix(X) and not hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        raise TypeError(f"X must be a scipy.sparse matrix or a 2-D array, got {type(X).__name__}")
    if sp.issparse(X) and X.ndim == 2 and min(X.shape) == 0:
        raise ValueError(f"X must not be empty, got shape {X.shape}")
    start = time.perf_counter()
    op = _operator(X, "X", threads)
    if k > min(op.shape):
        raise ValueError(f"k must be <= min(X.shape) = {min(op.shape)}, got {k}")
    with _blas_threads(threads):
        result = _range_finder_svd(op, k, n_oversamples, n_iter, seed)
    logger.info("randomized_svd: %d x %d, k=%d, %d power iterations, %.2f s", op.shape[0],
                op.shape[1], k, n_iter, time.perf_counter() - start)
    return result
