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
from embedcore.sharded import ShardedMatrix

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


_BLAS_CONTROLLER = []


def _blas_threads(threads):
    """A context holding BLAS to `threads` threads (a no-op without threadpoolctl)."""
    if not _BLAS_CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS_CONTROLLER.append(ThreadpoolController())
        except ImportError:
            _BLAS_CONTROLLER.append(None)
    controller = _BLAS_CONTROLLER[0]
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=threads, user_api="blas")


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
        Non-negative co-occurrence counts (duplicates in COO/CSR input are added up). A
        ``cupyx.scipy.sparse`` matrix is weighted on the GPU and the result stays there.
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
    from embedcore.backends import cuda
    if cuda.is_device_array(cooc):  # CuPy in, CuPy out
        return cuda.ppmi(cooc, cds=cds, shift=shift)
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
    """A dense float32 matrix; products by BLAS with `threads` threads."""

    def __init__(self, array, threads):
        self.array, self.threads = array, threads
        self.shape = array.shape

    def dot(self, dense):
        with _blas_threads(self.threads):
            return self.array @ dense

    def tdot(self, dense):
        with _blas_threads(self.threads):
            return self.array.T @ dense

    @property
    def T(self):
        return _DenseOperator(self.array.T, self.threads)


def _gram(y):
    """y^T y in float64 (BLAS sgemm on the float32 operand, then a symmetric float64 result)."""
    g = (y.T @ y).astype(np.float64)
    return (g + g.T) * 0.5


def _tall_times_small(y, w, threads):
    """y @ w for a tall float32 y and a small w, by the multithreaded row kernel."""
    out = np.empty((y.shape[0], w.shape[1]), dtype=np.float32)
    _native.dense_matmul(np.ascontiguousarray(y, dtype=np.float32), np.ascontiguousarray(w, dtype=np.float32),
                         out, threads)
    return out


def _whiten(y, threads):
    """y @ W with W = V diag(1/sqrt(max(l, floor))) from the eigenpairs (l, V) of y^T y: the same
    column span as y, far better conditioned. This is the power-iteration normaliser; it costs
    two small GEMMs where a QR or LU of the tall y costs far more, and directions whose
    eigenvalue is below ``floor = 1e-10 * max(l)`` (noise at float32 precision, or a
    rank-deficient y) are damped rather than divided by zero."""
    lam, vec = linalg.eigh(_gram(y), check_finite=False)
    if not lam[-1] > 0:  # y == 0: nothing to normalise
        return y
    floor = max(float(lam[-1]) * 1e-10, 1e-60)  # 1/sqrt(floor) stays in float32 range
    w = vec / np.sqrt(np.maximum(lam, floor))
    return _tall_times_small(y, w, threads)


def _orthonormal_basis(y, threads):
    """An orthonormal basis of the column span of y (m x p, m >= p): Cholesky-QR2 by whitening
    twice, checked; Householder QR (LAPACK) when y is too ill-conditioned for it."""
    q = _whiten(_whiten(y, threads), threads)
    gram = _gram(q)
    if np.abs(gram - np.eye(gram.shape[0])).max() < 1e-4:
        return np.ascontiguousarray(q)
    logger.debug("randomized_svd: ill-conditioned range basis, using Householder QR")
    q, _ = linalg.qr(y, mode="economic", check_finite=False)
    return np.ascontiguousarray(q, dtype=np.float32)


def _thin_svd(bt):
    """SVD of the tall n x p matrix bt: (W, s, Zt) with bt = W diag(s) Zt, s descending.

    Through the eigenpairs of bt^T bt computed in float64 (a GEMM and a p x p eigensolver), then
    W = bt Z / s; when the spread of the singular values makes that inaccurate (rank-deficient
    input), LAPACK's gesdd on float64 instead."""
    b64 = bt.astype(np.float64)
    lam, z = linalg.eigh(b64.T @ b64, check_finite=False)
    lam, z = lam[::-1], z[:, ::-1]
    if lam[0] > 0 and lam[-1] > lam[0] * 1e-12:
        s = np.sqrt(lam)
        w = (b64 @ z) / s
        return w, s, np.ascontiguousarray(z.T)
    return linalg.svd(b64, full_matrices=False, check_finite=False, lapack_driver="gesdd")


def _range_finder_svd(op, k, n_oversamples, n_iter, seed, threads):
    """Halko, Martinsson and Tropp (2011), algorithm 4.4 (subspace iteration) with the
    re-normalisation between products done by Gram whitening (see _whiten), then an orthonormal
    basis Q and the SVD of Q^T A. Works on the orientation with fewer columns.
    Returns float32 (U, S, Vt) with k components."""
    m, n = op.shape
    transpose = m < n
    if transpose:
        op = op.T
        m, n = n, m
    p = min(k + n_oversamples, n)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, p), dtype=np.float32)
    for _ in range(n_iter):
        q = _whiten(op.dot(q), threads)
        q = _whiten(op.tdot(q), threads)
    q = _orthonormal_basis(op.dot(q), threads)    # m x p
    bt = op.tdot(q)                               # n x p, (Q^T A)^T
    # bt = W diag(s) Zt, so Q^T A = Zt^T diag(s) W^T and A ~ (Q Zt^T) diag(s) W^T
    w, s, zt = _thin_svd(bt)
    u = _tall_times_small(q, zt[:k].T, threads)                 # m x k
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
    return _DenseOperator(as_float32_matrix(X, name), threads)


def randomized_svd(X, k, n_oversamples=10, n_iter=4, seed=0, workers=None, device="auto"):
    """Truncated SVD by random projection and power iterations, for sparse or dense matrices.

    Halko, Martinsson and Tropp's randomized range finder with ``n_iter`` power (subspace)
    iterations, re-normalised between products (scikit-learn uses LU there; here a whitening by
    the eigenvectors of the small Gram matrix, which spans the same subspace at a fraction of the
    cost), then an orthonormal basis Q and an exact SVD of the small matrix ``Q.T @ X``. Sparse products run in embedcore's multithreaded float32
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
        Seed of the random projection. For sparse `X`, same seed and input give bit-identical
        output for any `workers` (the sparse kernels are deterministic, the small dense steps
        run on one BLAS thread when threadpoolctl is installed); for dense `X`, with ``workers=1``.
    workers : int, optional
        Threads; None for all usable cores.
    device : {'auto', 'cpu', 'cuda'}
        'cuda' runs on the GPU (cuSPARSE / cuBLAS products, cuSOLVER QR; CuPy input gives CuPy
        output); 'auto' uses it when a GPU is usable.

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
    from embedcore._device import resolve_device
    if resolve_device(device, X) == "cuda":
        from embedcore.backends import cuda
        return cuda.truncated_svd(X, k, n_oversamples, n_iter, seed)
    if not _is_matrix(X) and not hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        raise TypeError(f"X must be a scipy.sparse matrix or a 2-D array, got {type(X).__name__}")
    if sp.issparse(X) and X.ndim == 2 and min(X.shape) == 0:
        raise ValueError(f"X must not be empty, got shape {X.shape}")
    start = time.perf_counter()
    op = _operator(X, "X", threads)
    if k > min(op.shape):
        raise ValueError(f"k must be <= min(X.shape) = {min(op.shape)}, got {k}")
    # The dense steps between products are small (p x p results); one BLAS thread does them
    # without competing with the threads of the sparse kernels.
    with _blas_threads(1):
        result = _range_finder_svd(op, k, n_oversamples, n_iter, seed, threads)
    logger.info("randomized_svd: %d x %d, k=%d, %d power iterations, %.2f s", op.shape[0],
                op.shape[1], k, n_iter, time.perf_counter() - start)
    return result


# ---------------------------------------------------------------------------------------------
# SVDEmbedding


def _is_source(value):
    """A text source (path, list of paths, iterable of sentences) rather than a matrix."""
    import os
    if isinstance(value, (str, os.PathLike)):
        return True
    if _is_matrix(value) or hasattr(value, "__array__"):
        return False
    if isinstance(value, (list, tuple)) and value:
        first = value[0]
        return isinstance(first, (str, os.PathLike)) or (
            isinstance(first, (list, tuple)) and (not first or isinstance(first[0], str)))
    return False


class SVDEmbedding:
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
        'cuda' counts co-occurrences and runs the SVD on the GPU (the PPMI weighting stays on the
        CPU); 'auto' does so when a GPU is usable.

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

    def __init__(self, vector_size=100, window=5, min_count=5, cds=0.75, eig=0.5, shift=1.0,
                 n_iter=5, n_oversamples=10, seed=0, workers=None, device="auto"):
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
        check_choice(device, "device", ("auto", "cpu", "cuda"))
        self.device = device
        self.words = None
        self.components_ = None
        self.singular_values_ = None
        self._left = None
        self.stats = {}

    def fit(self, X, vocab=None):
        """Fit on a co-occurrence matrix with its vocabulary, or on any matrix.

        Parameters
        ----------
        X : scipy.sparse matrix, 2-D array-like, EncodedCorpus, or text source
            With `vocab`: co-occurrence counts, one row per word (PPMI, then SVD). Without:
            the matrix to factorise as it is (LSA, recommendation). A text source (path, list
            of paths, iterable of sentences) builds its vocabulary with `min_count` and an
            encoded corpus (with `vocab`) is counted with :func:`cooccurrence` (`window`, 1/d
            weights, symmetric), then PPMI and SVD as for a matrix. A `ShardedMatrix` (from
            ``embedcore.distributed.cooccurrence(..., out_dir=...)``) is weighted and factorised
            block by block on Dask (:mod:`embedcore.distributed`, which needs the dask extra;
            the PPMI matrix is gathered on the client; `workers` and `device` are not used).
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
        from embedcore._device import resolve_device
        from embedcore.corpus import EncodedCorpus
        resolve_device(self.device)  # device='cuda' without a GPU fails before any work
        count_seconds = 0.0
        on_dask = isinstance(X, ShardedMatrix)  # row-range shards: PPMI and SVD block by block on Dask
        if on_dask:
            from embedcore import distributed
        elif isinstance(X, EncodedCorpus) or _is_source(X):
            X, vocab, count_seconds = self._count(X, vocab)
        elif not (_is_matrix(X) or hasattr(X, "__array__") or isinstance(X, (list, tuple))):
            raise TypeError(f"X must be a scipy.sparse matrix, a 2-D array, an EncodedCorpus or a "
                            f"text source, got {type(X).__name__}")
        words = None
        if vocab is not None:
            words = list(vocab.words) if hasattr(vocab, "words") else list(vocab)
            n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
            if len(words) != n_rows:
                raise ValueError(f"vocab must have one word per row of X ({n_rows}), "
                                 f"got {len(words)} words")
        start = time.perf_counter()
        matrix = X
        if words is not None:
            matrix = (distributed.ppmi(X, cds=self.cds, shift=self.shift) if on_dask
                      else ppmi(X, cds=self.cds, shift=self.shift, workers=self.workers))
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
                                      device=self.device)
        self.stats = {"count_seconds": count_seconds, "ppmi_seconds": ppmi_seconds,
                      "svd_seconds": time.perf_counter() - start,
                      "nnz": int(matrix.nnz) if hasattr(matrix, "nnz") else int(np.prod(shape))}
        self.words, self._left, self.singular_values_, self.components_ = words, u, s, vt
        logger.info("SVDEmbedding: %d x %d matrix, %d dimensions, %.2f s", shape[0], shape[1],
                    self.vector_size, self.stats["ppmi_seconds"] + self.stats["svd_seconds"])
        return self

    def _count(self, source, vocab):
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

    def _check_fitted(self):
        if self.components_ is None:
            raise AttributeError("this SVDEmbedding is not fitted yet; call fit() first")

    @property
    def wv(self):
        """KeyedVectors of the rows: ``U * S**eig`` (needs a fit with a vocabulary)."""
        self._check_fitted()
        if self.words is None:
            raise AttributeError("wv needs words: fit(cooc, vocab=...) gives word vectors; after "
                                 "fit(matrix) use fit_transform() or transform()")
        from embedcore.keyedvectors import KeyedVectors
        weights = self.singular_values_.astype(np.float64) ** self.eig
        return KeyedVectors(self.words, (self._left * weights.astype(np.float32)))

    def fit_transform(self, X, vocab=None):
        """Fit, then return the rows of the factorised matrix projected: ``U * S`` (float32).

        Parameters and errors as :meth:`fit`.
        """
        self.fit(X, vocab=vocab)
        return self._left * self.singular_values_

    def transform(self, rows):
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
        AttributeError
            Not fitted.
        """
        self._check_fitted()
        n_features = self.components_.shape[1]
        threads = effective_workers(self.workers)
        basis = np.ascontiguousarray(self.components_.T)
        if sp.issparse(rows):
            if rows.ndim != 2 or rows.shape[1] != n_features:
                raise ValueError(f"rows must have {n_features} columns, got shape {rows.shape}")
            return _as_csr(rows, "rows", threads).matmul(basis, threads)
        array = as_float32_matrix(rows, "rows", allow_empty=True)
        if array.shape[1] != n_features:
            raise ValueError(f"rows must have {n_features} columns, got {describe(array)}")
        with _blas_threads(threads):
            return array @ basis


def cli_train(args):
    """`embedcore train SOURCE --model svd`: vocabulary, counts (window 5 by default), PPMI, SVD."""
    from embedcore.cooccurrence import cooccurrence
    from embedcore.vocab import Vocab
    source = args.source if len(args.source) > 1 else args.source[0]
    vocab = Vocab.from_corpus(source, min_count=args.min_count, max_size=args.max_vocab, progress=True)
    if len(vocab) == 0:
        raise ValueError(f"source: no word occurs at least --min-count={args.min_count} times")
    window = args.window or 5
    cooc = cooccurrence(vocab.encode(source, progress=True), len(vocab), window=window,
                        workers=args.workers, progress=True)
    dim = min(args.dim, len(vocab))
    model = SVDEmbedding(vector_size=dim, window=window, workers=args.workers,
                         seed=max(args.seed, 0)).fit(cooc, vocab=vocab)
    return model.wv, {"nonzeros": cooc.nnz, "ppmi_nonzeros": model.stats["nnz"],
                      "svd_seconds": model.stats["svd_seconds"]}


def demo_model(synth, workers):
    """`embedcore demo`'s PPMI-SVD step: window 5, dim 100, on the synthetic corpus."""
    model = SVDEmbedding(vector_size=min(100, len(synth.vocab)), workers=workers)
    return model.fit(synth.corpus, vocab=synth.vocab).wv
