"""Algorithms the two backends share, written once over an array module (numpy or CuPy).

Each backend passes its array module `xp` and its own primitives (a GEMM, a kernel launch); the
arithmetic that decides results is here, so the CPU and the GPU compute the same thing:

- `learning_rate`: word2vec's linear decay of the step size over the raw tokens trained.
- `orthonormalize`: the range finder's normaliser (Gram whitening, Cholesky-QR2, QR fallback),
  with the small eigenproblems solved on the host in float64 on both devices.
- `exact_scores`, `select_exact_topk`: top-k candidates rescored as the cosine of the rows as
  given in float64, summed in the CPU kernel's lane order (csrc/embedcore/topk.hpp), so a score
  has the same bits on both devices; ties go to the lower index.
- `topk_slack`: the bound on the distance between a float32 GEMM score of unit rows and the exact
  cosine, which tells which candidates a float32 pass may have ranked out of place.
"""
import math

import numpy as np
from scipy import linalg


# ----------------------------------------------------------------------------------------------
# word2vec

def learning_rate(alpha, min_alpha, done, total):
    """alpha decayed linearly to min_alpha over `total` raw tokens, after `done` of them (float32
    arithmetic of the CPU kernel's current_alpha)."""
    if total <= 0:
        return float(np.float32(alpha))
    frac = min(1.0, done / total)
    return float(np.float32(max(alpha - (alpha - min_alpha) * frac, min_alpha)))


# ----------------------------------------------------------------------------------------------
# randomized SVD

# |entries| in [2^-40, 2^40]: squares and sums of up to 2^40 of them stay normal float32 numbers
_SAFE_EXPONENT = 40


def power_of_two_scale(largest):
    """A power of two s with largest * s in [1, 2) when largest is outside the float32-safe
    range [2^-40, 2^40], else 1; multiplying by it is exact."""
    if not largest > 0 or not math.isfinite(largest):
        return 1.0
    exponent = math.frexp(largest)[1] - 1  # largest = m * 2^exponent, m in [1, 2)
    if -_SAFE_EXPONENT <= exponent <= _SAFE_EXPONENT:
        return 1.0
    return math.ldexp(1.0, -exponent)


def whitening(gram):
    """W = V diag(1/sqrt(max(l, floor))) for the eigenpairs (l, V) of a float64 Gram matrix y^T y,
    so that y W spans the columns of y and is far better conditioned; None when y == 0.
    Eigenvalues below ``floor = 1e-10 max(l)`` (noise at float32 precision, or a rank-deficient
    y) are damped rather than divided by zero."""
    lam, vec = linalg.eigh(gram, check_finite=False)
    if not lam[-1] > 0:
        return None
    floor = max(float(lam[-1]) * 1e-10, 1e-60)
    return vec / np.sqrt(np.maximum(lam, floor))


def orthonormalize(y, exact, gram, times, absmax, qr):
    """A basis of the column span of the tall float32 y (m x p, m >= p).

    exact=False: one Gram whitening (the power-iteration normaliser: two small GEMMs where a QR
    of the tall y costs far more). exact=True: an orthonormal basis by whitening twice
    (Cholesky-QR2), checked, and by Householder QR when y is too ill-conditioned for it.
    y is first scaled by a power of two when its entries would under- or overflow float32
    squares (whitening does not depend on the scale).

    `gram(y)` -> float64 (p, p) y^T y on the host; `times(y, w)` -> y @ w for a small float64 w
    (float32 result on y's device); `absmax(y)` -> float; `qr(y)` -> orthonormal Q (float32).
    """
    scale = power_of_two_scale(absmax(y))
    if scale != 1.0:
        y = y * np.float32(scale)
    for _ in range(2 if exact else 1):
        w = whitening(gram(y))
        if w is None:  # y == 0: nothing to normalise
            break
        y = times(y, w)
    if not exact:
        return y
    check = gram(y)
    if np.abs(check - np.eye(check.shape[0])).max() < 1e-4:
        return y
    return qr(y)


# ----------------------------------------------------------------------------------------------
# exact cosine top-k

# the CPU kernel's fixed reduction tree over its eight lanes (lane l takes the terms j = l mod 8)
def _reduce_lanes(lanes):
    return ((lanes[:, 0] + lanes[:, 4]) + (lanes[:, 2] + lanes[:, 6])) + \
           ((lanes[:, 1] + lanes[:, 5]) + (lanes[:, 3] + lanes[:, 7]))


def lane_dots(xp, a, a_rows, b, b_rows):
    """float64 a[a_rows[i]] . b[b_rows[i]] for every i, summed as the CPU kernel sums: products of
    two float32 are exact in float64, lane l adds the terms j = l mod 8 in order, then a fixed tree
    (so the result has the same bits on every device)."""
    n, d = a_rows.shape[0], a.shape[1]
    lanes = xp.zeros((n, 8), dtype=xp.float64)
    full = d - d % 8
    for j in range(0, full, 8):
        lanes += a[a_rows, j:j + 8].astype(xp.float64) * b[b_rows, j:j + 8].astype(xp.float64)
    if d > full:
        lanes[:, :d - full] += a[a_rows, full:].astype(xp.float64) * b[b_rows, full:].astype(xp.float64)
    return _reduce_lanes(lanes)


def squared_norms(xp, x):
    """float64 squared norms of the rows of x, in the CPU kernel's lane order."""
    rows = xp.arange(x.shape[0])
    return lane_dots(xp, x, rows, x, rows)


def exact_scores(xp, queries, database, query_sq, database_sq, rows, cols):
    """float32 cosine of queries[rows[i]] and database[cols[i]] rounded once from float64, 0 for
    a zero row (the CPU kernel's exact_score and cosine_from)."""
    dots = lane_dots(xp, queries, rows, database, cols)
    a, b = query_sq[rows], database_sq[cols]
    positive = (a > 0) & (b > 0)
    denominator = xp.sqrt(xp.where(positive, a * b, 1.0))
    return xp.where(positive, dots / denominator, 0.0).astype(xp.float32)


def topk_slack(d):
    """Bound on |float32 GEMM score - exact cosine| for unit rows of dimension d (topk.hpp)."""
    return float(np.float32((d + 10) * 2.0 ** -24 * 1.01))


def select_exact_topk(xp, queries, database, query_sq, database_sq, rows, cols, k, n_queries):
    """The top k of each query among candidate pairs (rows[i], cols[i]) by exact cosine, ties by
    lower database row: (scores float32 (n_queries, k), indices int64 (n_queries, k)). Every
    query must have at least k candidates, each pair listed once."""
    scores = exact_scores(xp, queries, database, query_sq, database_sq, rows, cols)
    # -0.0 and 0.0 are one score: a sort on bit patterns must not tell them apart
    order = xp.lexsort(xp.stack([cols.astype(xp.float64), -(scores.astype(xp.float64)) + 0.0,
                                 rows.astype(xp.float64)]))
    counts = xp.bincount(rows, minlength=n_queries)
    starts = xp.cumsum(counts) - counts
    take = (starts[:, None] + xp.arange(k)[None, :]).ravel()
    picked = order[take]
    return scores[picked].reshape(n_queries, k), cols[picked].astype(xp.int64).reshape(n_queries, k)


def unit_rows(xp, x, squared_norm, block=1 << 16):
    """float32 rows of x scaled to unit length through float64 (zero rows stay zero; no overflow
    for rows of extreme magnitude), `block` rows at a time."""
    out = xp.empty(x.shape, dtype=xp.float32)
    for r0 in range(0, x.shape[0], block):
        sq = squared_norm[r0:r0 + block]
        inverse = xp.where(sq > 0, 1.0 / xp.sqrt(xp.where(sq > 0, sq, 1.0)), 0.0)
        out[r0:r0 + block] = x[r0:r0 + block].astype(xp.float64) * inverse[:, None]
    return out


# candidates kept per query beyond k by the float32 pass, so that the exact rescoring rarely
# needs a query's whole row
TOPK_EXTRA = 16


def _listed_candidates(xp, unit_q, unit_db, k, exclude, tq, tb, max_list, merge, slack2):
    """The float32 pass: each query's best `width` rows by tile merges. Returns the candidate
    pairs (rows, cols) of the queries whose list is complete, the cut (k-th float32 score minus
    twice the error bound) of every query, and the queries whose list is not complete."""
    nq, nb = unit_q.shape[0], unit_db.shape[0]
    width = min(max_list, nb, k + TOPK_EXTRA)
    best_s = xp.zeros((nq, width), dtype=xp.float32)
    best_i = xp.full((nq, width), -1, dtype=xp.int64)
    for q0 in range(0, nq, tq):
        for b0 in range(0, nb, tb):
            tile = unit_q[q0:q0 + tq] @ unit_db[b0:b0 + tb].T
            merge(xp.ascontiguousarray(tile, dtype=xp.float32), q0, b0, exclude, width, best_s, best_i)
    available = xp.full(nq, nb, dtype=xp.int64)
    if exclude is not None:
        available -= (exclude >= 0).astype(xp.int64)
    found = (best_i >= 0).sum(axis=1)
    if bool((found < xp.minimum(available, width)).any()):
        raise ValueError("cosine_topk found fewer candidates than rows (NaN scores)")
    threshold = best_s[:, k - 1].astype(xp.float64) - slack2
    last = best_s[xp.arange(nq), xp.maximum(found - 1, 0)].astype(xp.float64)
    complete = (found == available) | (last < threshold)
    rows = xp.repeat(xp.arange(nq, dtype=xp.int64), width).reshape(nq, width)
    keep = (best_i >= 0) & complete[:, None]
    return rows[keep], best_i[keep], threshold, xp.flatnonzero(~complete)


def exact_topk(xp, queries, database, k, exclude, normalized, tile_queries, tile_database, max_list, merge):
    """Exact cosine top-k on `xp`'s device: float32 GEMM tiles select candidates, which are
    rescored exactly (`select_exact_topk`), giving the CPU kernel's scores and order.

    `merge(tile, row_offset, col_offset, exclude, width, best_scores, best_indices)` merges a
    float32 score tile into each query's running best `width` (score descending, ties by lower
    index, -1 for an empty slot; the GPU's topk_merge_tile kernel), with width <= max_list.
    A query's list is complete when it holds every row it may return, or when its last score is
    more than twice the float32 error bound below its k-th: no row outside it can then be in the
    exact top k. Other queries are rescored over every row within that bound of their k-th.

    queries, database: C-contiguous finite float32 (nq, d) / (nb, d); exclude: int64 (nq,) of
    rows in [-1, nb) or None; 1 <= k <= nb (nb - 1 for a query with an excluded row).
    """
    nq, d = queries.shape
    nb = database.shape[0]
    query_sq, database_sq = squared_norms(xp, queries), squared_norms(xp, database)
    if normalized:
        unit_q, unit_db = queries, database
    else:
        unit_q, unit_db = unit_rows(xp, queries, query_sq), unit_rows(xp, database, database_sq)
    tq = max(1, min(nq, int(tile_queries)))
    tb = max(1, min(nb, int(tile_database)))
    slack2 = 2.0 * topk_slack(d)
    if k <= max_list:
        rows, cols, threshold, redo = _listed_candidates(xp, unit_q, unit_db, k, exclude, tq, tb, max_list, merge,
                                                         slack2)
    else:  # more than a list holds: every query is rescored over its rows near the k-th
        rows = cols = xp.zeros(0, dtype=xp.int64)
        threshold, redo = None, xp.arange(nq)
    if redo.shape[0]:
        found_rows, found_cols = [rows], [cols]
        block_rows = max(1, (tq * tb) // nb)  # score blocks no larger than a GEMM tile
        for r0 in range(0, redo.shape[0], block_rows):
            block = redo[r0:r0 + block_rows]
            scores = unit_q[block] @ unit_db.T
            if exclude is not None:
                skip = exclude[block]
                scores[xp.flatnonzero(skip >= 0), skip[skip >= 0]] = -xp.inf
            if threshold is None:
                kth = -xp.partition(-scores, k - 1, axis=1)[:, k - 1]
                cut = kth.astype(xp.float64) - slack2
            else:
                cut = threshold[block]
            r, c = xp.nonzero(scores >= cut[:, None])
            found_rows.append(block[r].astype(xp.int64))
            found_cols.append(c.astype(xp.int64))
        rows, cols = xp.concatenate(found_rows), xp.concatenate(found_cols)
    return select_exact_topk(xp, queries, database, query_sq, database_sq, rows, cols, k, nq)


# ----------------------------------------------------------------------------------------------
# PPMI

def ppmi(xp, indptr, indices, data, n_rows, n_cols, cds, shift, segment_sums):
    """Positive PMI of a canonical CSR (see embedcore.ppmi) with deterministic float64 sums:
    row sums over the rows' runs, column sums over the entries grouped by column in row order,
    each run added in order by `segment_sums(values, starts)`. Returns (indptr int64, indices
    int32, data float32) of the positive entries, column order of each row kept."""
    values = data.astype(xp.float64)
    if values.shape[0] and not bool(xp.isfinite(values).all() & (values >= 0).all()):
        raise ValueError("ppmi: counts must be finite and non-negative")
    starts = indptr.astype(xp.int64)
    row_sums = segment_sums(values, starts)
    columns = indices.astype(xp.int64)
    by_column = xp.lexsort(xp.stack([xp.arange(columns.shape[0], dtype=xp.int64), columns]))
    column_starts = xp.concatenate([xp.zeros(1, dtype=xp.int64),
                                    xp.cumsum(xp.bincount(columns, minlength=n_cols)).astype(xp.int64)])
    col_sums = segment_sums(xp.ascontiguousarray(values[by_column]), column_starts)
    smoothed = col_sums ** cds
    total = float(smoothed.sum())
    rows = xp.searchsorted(starts[1:], xp.arange(columns.shape[0], dtype=xp.int64), side="right")
    with _ignore_float_errors(xp):
        # explicit zeros give log 0 = -inf and are dropped with the non-positive values
        pmi = xp.log(values * total / (row_sums[rows] * smoothed[columns])) - math.log(shift)
    keep = pmi > 0
    out_indptr = xp.searchsorted(rows[keep], xp.arange(n_rows + 1, dtype=xp.int64)).astype(xp.int64)
    return out_indptr, indices[keep].astype(xp.int32), pmi[keep].astype(xp.float32)


def _ignore_float_errors(xp):
    import contextlib
    return np.errstate(all="ignore") if xp is np else contextlib.nullcontext()
