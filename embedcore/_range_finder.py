"""Halko, Martinsson and Tropp's randomized range finder and the SVD of the small projected
matrix: the algorithm behind `embedcore.randomized_svd` and `embedcore.distributed.randomized_svd`.

It sees the matrix only through an operator with ``shape``, ``backend``, ``dot(Q)`` (A @ Q),
``tdot(Q)`` (A^T @ Q) and ``T`` (the operator of A^T), so the products can run in one process
(`embedcore.svd`) or block by block on Dask workers (`embedcore.distributed`) with the same steps
between them.
"""
from typing import Any

import numpy as np
from scipy import linalg


def thin_svd(backend, bt):
    """SVD of the tall n x p float32 matrix bt: (W float64 on the device, s, Zt) with
    bt = W diag(s) Zt, s descending.

    Through the eigenpairs of bt^T bt computed in float64 (a GEMM and a p x p eigensolver on
    the host), then W = bt Z / s; when the spread of the singular values makes that inaccurate
    (rank-deficient input), LAPACK's gesdd on float64 (on the host) instead."""
    b64 = backend.asarray(bt, np.float64)
    lam, z = linalg.eigh(backend.gram(b64, 1), check_finite=False)
    lam, z = lam[::-1], z[:, ::-1]
    if lam[0] > 0 and lam[-1] > lam[0] * 1e-12:
        s = np.sqrt(lam)
        w = backend.matmul(b64, backend.asarray(z / s), 1)
        return w, s, np.ascontiguousarray(z.T)
    w, s, zt = linalg.svd(backend.to_host(b64), full_matrices=False, check_finite=False, lapack_driver="gesdd")
    return backend.asarray(w), s, zt


def range_finder_svd(op: Any, k: int, n_oversamples: int, n_iter: int, seed: int, threads: int) -> tuple[Any, Any, Any]:
    """Halko, Martinsson and Tropp (2011), algorithm 4.4 (subspace iteration) with the
    re-normalisation between products done by the backend's `orthonormalize` (Gram whitening),
    then an orthonormal basis Q and the SVD of Q^T A. Works on the orientation with fewer
    columns. Returns float32 (U, S, Vt) with k components, U and Vt on the backend's device."""
    backend = op.backend
    m, n = op.shape
    transpose = m < n
    if transpose:
        op = op.T
        m, n = n, m
    p = min(k + n_oversamples, n)
    rng = np.random.default_rng(seed)
    q = backend.asarray(rng.standard_normal((n, p), dtype=np.float32))
    for _ in range(n_iter):
        q = backend.orthonormalize(op.dot(q), threads)
        q = backend.orthonormalize(op.tdot(q), threads)
    q = backend.orthonormalize(op.dot(q), threads, exact=True)    # m x p, orthonormal
    bt = op.tdot(q)                                                # n x p, (Q^T A)^T
    # bt = W diag(s) Zt, so Q^T A = Zt^T diag(s) W^T and A ~ (Q Zt^T) diag(s) W^T
    w, s, zt = thin_svd(backend, bt)
    u = backend.matmul(q, backend.asarray(zt[:k].T, np.float32), 1)         # m x k
    vt = backend.asarray(w[:, :k].T, np.float32)                            # k x n
    s = s[:k].astype(np.float32)
    if transpose:
        u, vt = backend.asarray(vt.T), backend.asarray(u.T)
    return flip_signs(backend, u, s, vt)


def flip_signs(backend, u, s, vt):
    """scikit-learn's svd_flip on the returned U: each column's largest |entry| is positive."""
    host_u = backend.to_host(u)
    rows = np.argmax(np.abs(host_u), axis=0)
    signs = np.sign(host_u[rows, np.arange(host_u.shape[1])])
    signs[signs == 0] = 1
    signs = backend.asarray(signs.astype(np.float32))
    u *= signs[np.newaxis, :]
    vt *= signs[:, np.newaxis]
    return u, s, vt
