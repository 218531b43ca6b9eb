"""Top items per user from user and item factors: `recommend_all` (every user, seen items left
out inside the selection) and `recommend` (chosen users, with implicit's filters), on the exact
top-k kernel of csrc/embedcore/topk.hpp in its inner-product mode."""
import numpy as np
import scipy.sparse as sp

from embedcore._threads import effective_workers
from embedcore._validation import as_csr, as_int_array, check_int, device_matrix, like_inputs
from embedcore.backends import get_backend


def _factors(user_factors, item_factors, backend):
    users = device_matrix(user_factors, "user_factors", backend, allow_empty=True)
    items = device_matrix(item_factors, "item_factors", backend)
    if users.shape[1] != items.shape[1]:
        raise ValueError(f"user_factors and item_factors must have the same number of factors (columns), got "
                         f"user_factors with {users.shape[1]} and item_factors with {items.shape[1]}")
    return users, items


def _exclusions(exclude, shape, backend, threads, name="exclude"):
    """`exclude` (the argument `name`) as the backend's CSR with sorted, distinct columns per row (every stored entry
    counts, whatever its value), checked to be `shape`."""
    if hasattr(exclude, "matrix") and hasattr(exclude, "user_ids"):  # an Interactions
        exclude = exclude.matrix
    if getattr(exclude, "dtype", None) == np.bool_:
        exclude = exclude.astype(np.float32)
    csr = as_csr(exclude, name, backend, threads, canonical=True, check_finite=False)
    if tuple(csr.shape) != tuple(shape):
        raise ValueError(f"{name} must be a users x items matrix of shape {tuple(shape)}, got shape "
                         f"{tuple(csr.shape)}")
    return csr


def recommend_all(user_factors, item_factors, k=10, exclude=None, workers=None, device="auto"):
    """The k items with the largest inner product for every user, leaving out excluded items.

    Scores are produced tile by tile (SGEMM) and consumed at once by the selection, so the users x
    items score matrix never exists: memory is the factors, the results and one score tile per
    thread, for any number of users. Each user's excluded items (a row of `exclude`, typically
    the items the user has already interacted with) are skipped inside the selection, with no
    masking pass. Every result is rescored exactly (the inner product of the rows as given,
    computed in float64 and rounded once), so scores and order do not depend on tiling or threads.

    Parameters
    ----------
    user_factors : array-like, shape (n_users, f)
        User vectors; converted once to C-contiguous float32.
    item_factors : array-like, shape (n_items, f)
        Item vectors.
    k : int, default 10
        Items per user, ``k >= 1``. When fewer than k items are left for a user (``k`` above the
        number of items, or most of them excluded), the remaining slots hold item -1 and score
        ``-inf``.
    exclude : sparse matrix or array-like, shape (n_users, n_items), optional
        Items to leave out, per user: every stored entry of a scipy.sparse matrix (any format,
        any value; a dense array's nonzeros), or an `embedcore.Interactions`.
    workers : int or None
        Threads: None or -1 all usable cores, ``n > 0`` that many.
    device : {"auto", "cpu", "cuda"}
        "cuda" runs on the GPU (cuBLAS tiles and a selection kernel, the candidates rescored as
        the CPU scores them, so both devices return the same items and scores).

    Returns
    -------
    scores : ndarray of float32, shape (n_users, k)
        Inner products, each row in descending order.
    item_ids : ndarray of int64, shape (n_users, k)
        The items, ties broken by lower item id.

    Raises
    ------
    ValueError
        Non-2-D or empty factors, a different number of factors, NaN or infinity, ``k < 1``, an
        ``exclude`` of the wrong shape or holding item ids out of range.
    TypeError
        Non-numeric factors or ``exclude``, a non-integer ``k``.
    RuntimeError
        ``device="cuda"`` without a usable GPU.

    Example
    -------
    >>> import numpy as np, scipy.sparse as sp, embedcore as ec
    >>> users = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> items = np.array([[3.0, 0.0], [2.0, 1.0], [0.0, 2.0]])
    >>> seen = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0]]))
    >>> scores, ids = ec.recommend_all(users, items, k=2, exclude=seen)
    >>> ids.tolist()
    [[1, 2], [2, 1]]
    """
    threads = effective_workers(workers)
    k = check_int(k, "k", minimum=1)
    shapes = [np.shape(x) if hasattr(x, "shape") else None for x in (user_factors, item_factors)]
    work = shapes[0][0] * shapes[1][0] * shapes[1][1] if all(s and len(s) == 2 for s in shapes) else None
    backend = get_backend(device, user_factors, item_factors, work=work)
    users, items = _factors(user_factors, item_factors, backend)
    skip = None if exclude is None else _exclusions(exclude, (users.shape[0], items.shape[0]), backend, threads)
    if skip is not None and skip.nnz == 0:
        skip = None
    result = backend.inner_topk(users, items, k, skip, threads)
    return like_inputs(backend, result, user_factors, item_factors)


def recommend(user_factors, item_factors, users, k=10, seen=None, filter_seen=True, filter_items=None, items=None,
              workers=None, device="auto"):
    """The top k items for some users, from any user and item factor matrices (embedcore's, or
    implicit's ``model.user_factors`` / ``model.item_factors``).

    Parameters
    ----------
    user_factors : array-like, shape (n_users, f)
    item_factors : array-like, shape (n_items, f)
    users : int or array-like of int
        Rows of `user_factors` to recommend for; an int gives 1-D results.
    k : int, default 10
        Items per user (slots beyond the items left hold item -1, score ``-inf``).
    seen : sparse matrix or Interactions, shape (n_users, n_items), optional
        What every user has interacted with (rows indexed by user id, like `user_factors`).
    filter_seen : bool, default True
        Leave out each user's stored entries of `seen` (needs `seen`).
    filter_items : array-like of int, optional
        Items never to recommend.
    items : array-like of int, optional
        Recommend only among these items.
    workers, device
        As in `recommend_all`.

    Returns
    -------
    scores : ndarray of float32, shape (len(users), k) or (k,)
    item_ids : ndarray of int64, shape (len(users), k) or (k,)
        Item ids of `item_factors`, by descending inner product, ties by lower item id.

    Raises
    ------
    ValueError
        User or item ids out of range, ``filter_seen=True`` without `seen`, and the errors of
        `recommend_all`.
    TypeError
        Non-integer ids, a non-bool `filter_seen`.

    Example
    -------
    >>> import numpy as np, embedcore as ec
    >>> scores, ids = ec.recommend(np.eye(2), np.array([[3.0, 0], [2, 1], [0, 2]]), 0, k=2, filter_items=[0])
    >>> ids.tolist()
    [1, 2]
    """
    if not isinstance(filter_seen, (bool, np.bool_)):
        raise TypeError(f"filter_seen must be a bool, got {type(filter_seen).__name__}")
    if filter_seen and seen is None:
        raise ValueError("filter_seen=True needs seen (the users x items interactions); pass filter_seen=False "
                         "to recommend among every item")
    threads = effective_workers(workers)
    k = check_int(k, "k", minimum=1)
    host = get_backend("cpu")  # ids and filters are worked out on the host; the search runs on `device`
    all_users, all_items = _factors(user_factors, item_factors, host)
    n_users, n_items = all_users.shape[0], all_items.shape[0]
    single = np.ndim(users) == 0
    rows = _ids(np.atleast_1d(host.asarray(users)), "users", n_users)
    candidates = np.arange(n_items, dtype=np.int64) if items is None else np.unique(_ids(items, "items", n_items))
    if filter_items is not None:
        candidates = np.setdiff1d(candidates, _ids(filter_items, "filter_items", n_items), assume_unique=True)
    exclude = None
    if filter_seen:
        exclude = _exclusions(seen, (n_users, n_items), host, threads, "seen").to_scipy()[rows]
    if len(candidates) < n_items and exclude is not None:
        # the same exclusions in the candidates' numbering (increasing, so ties keep their order)
        position = np.full(n_items, -1, dtype=np.int64)
        position[candidates] = np.arange(len(candidates))
        coo = exclude.tocoo()
        keep = position[coo.col] >= 0
        exclude = sp.csr_matrix((np.ones(int(keep.sum()), np.float32), (coo.row[keep], position[coo.col[keep]])),
                                shape=(len(rows), len(candidates)))
    if len(candidates) == 0:
        scores = np.full((len(rows), k), -np.inf, dtype=np.float32)
        ids = np.full((len(rows), k), -1, dtype=np.int64)
    else:
        database = all_items if len(candidates) == n_items else all_items[candidates]
        scores, ids = recommend_all(all_users[rows], database, k=k, exclude=exclude, workers=workers, device=device)
        scores, ids = host.to_host(scores), host.to_host(ids)
        ids = np.where(ids >= 0, candidates[np.maximum(ids, 0)], -1)
    if single:
        return scores[0], ids[0]
    return scores, ids


def _ids(value, name, n):
    """int64 ids in [0, n), 1-D, naming `name` in errors."""
    array = as_int_array(value, name, dtype=np.int64)
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= n:
            raise ValueError(f"{name} must hold ids in [0, {n}), got values in [{low}, {high}]")
    return array
