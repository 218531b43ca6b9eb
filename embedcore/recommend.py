"""Top items per user from user and item factors: `recommend_all` (every user, seen items left
out inside the selection) and `recommend` (chosen users, with implicit's filters), on the exact
top-k kernel of csrc/embedcore/topk.hpp in its inner-product mode; and two models that make
the factors: `SVDRecommender` (PureSVD on embedcore.randomized_svd) and `Item2Vec` (skip-gram
on users' histories, on the word2vec kernel)."""
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embedcore._base import Model
from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, Int64Array, MatrixLike, SparseMatrix
from embedcore._validation import (as_csr, as_int_array, check_choice, check_float, check_int, device_matrix,
                                   like_inputs)
from embedcore.interactions import Interactions
from embedcore.backends import get_backend

if TYPE_CHECKING:
    from typing_extensions import Self


def _factors(user_factors: npt.ArrayLike, item_factors: npt.ArrayLike, backend: Any) -> tuple[Any, Any]:
    users = device_matrix(user_factors, "user_factors", backend, allow_empty=True)
    items = device_matrix(item_factors, "item_factors", backend)
    if users.shape[1] != items.shape[1]:
        raise ValueError(f"user_factors and item_factors must have the same number of factors (columns), got "
                         f"user_factors with {users.shape[1]} and item_factors with {items.shape[1]}")
    return users, items


def _exclusions(exclude: Any, shape: tuple[int, int], backend: Any, threads: int, name: str = "exclude") -> Any:
    """`exclude` (the argument `name`) as the backend's CSR with sorted, distinct columns per row
    (every stored entry counts, whatever its value), checked to be `shape`."""
    if isinstance(exclude, Interactions):
        exclude = exclude.matrix
    if getattr(exclude, "dtype", None) == np.bool_:
        exclude = exclude.astype(np.float32)
    csr = as_csr(exclude, name, backend, threads, canonical=True, check_finite=False)
    if tuple(csr.shape) != tuple(shape):
        raise ValueError(f"{name} must be a users x items matrix of shape {tuple(shape)}, got shape "
                         f"{tuple(csr.shape)}")
    return csr


def recommend_all(user_factors: npt.ArrayLike, item_factors: npt.ArrayLike, k: int = 10,
                  exclude: "Interactions | Any | None" = None, workers: int | None = None,
                  device: str = "auto") -> tuple[FloatArray, Int64Array]:
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
    shapes: list[Any] = [np.shape(x) if hasattr(x, "shape") else None for x in (user_factors, item_factors)]
    work = shapes[0][0] * shapes[1][0] * shapes[1][1] if all(s and len(s) == 2 for s in shapes) else None
    backend = get_backend(device, user_factors, item_factors, work=work)
    users, items = _factors(user_factors, item_factors, backend)
    skip = None if exclude is None else _exclusions(exclude, (users.shape[0], items.shape[0]), backend, threads)
    if skip is not None and skip.nnz == 0:
        skip = None
    result = backend.inner_topk(users, items, k, skip, threads)
    found: tuple[FloatArray, Int64Array] = like_inputs(backend, result, user_factors, item_factors)
    return found


def recommend(user_factors: npt.ArrayLike, item_factors: npt.ArrayLike, users: int | npt.ArrayLike, k: int = 10,
              seen: "Interactions | Any | None" = None, filter_seen: bool = True,
              filter_items: npt.ArrayLike | None = None, items: npt.ArrayLike | None = None,
              workers: int | None = None, device: str = "auto") -> tuple[FloatArray, Int64Array]:
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
    >>> scores, ids = ec.recommend(np.eye(2), np.array([[3.0, 0], [2, 1], [0, 2]]), 0, k=2, filter_seen=False,
    ...                         filter_items=[0])
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


def _ids(value: npt.ArrayLike, name: str, n: int) -> Int64Array:
    """int64 ids in [0, n), 1-D, naming `name` in errors."""
    array = as_int_array(value, name, dtype=np.int64)
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= n:
            raise ValueError(f"{name} must hold ids in [0, {n}), got values in [{low}, {high}]")
    return array


# ------------------------------------------------------------------------------------------------
# PureSVD

class _FactorModel(Model):
    """A recommender holding user_factors, item_factors and the interactions it was fitted on
    (`_seen`): recommendations go through `recommend` / `recommend_all`."""

    user_factors: FloatArray
    item_factors: FloatArray
    _seen: Any
    stats: dict[str, Any]
    workers: int | None
    device: str

    def recommend(self, users: int | npt.ArrayLike, k: int = 10, filter_seen: bool = True,
                  filter_items: npt.ArrayLike | None = None,
                  items: npt.ArrayLike | None = None) -> tuple[FloatArray, Int64Array]:
        """Top k items for `users` (see embedcore.recommend; seen = the fitted interactions)."""
        return recommend(self.user_factors, self.item_factors, users, k=k, seen=self._seen, filter_seen=filter_seen,
                         filter_items=filter_items, items=items, workers=self.workers, device=self.device)

    def recommend_all(self, k: int = 10, filter_seen: bool = True) -> tuple[FloatArray, Int64Array]:
        """Top k items for every user (see embedcore.recommend_all), the fitted interactions
        left out when `filter_seen`."""
        if not isinstance(filter_seen, (bool, np.bool_)):
            raise TypeError(f"filter_seen must be a bool, got {type(filter_seen).__name__}")
        return recommend_all(self.user_factors, self.item_factors, k=k, exclude=self._seen if filter_seen else None,
                             workers=self.workers, device=self.device)


WEIGHTINGS = (None, "bm25", "tfidf")


def weight_interactions(matrix: MatrixLike, weighting: str | None, bm25_k1: float = 100.0,
                        bm25_b: float = 0.8) -> SparseMatrix:
    """The interaction matrix re-weighted before factorisation (as implicit's bm25_weight and
    tfidf_weight): with idf(j) = log(n_users) - log(1 + users of item j),
    "bm25": x (k1 + 1) / (k1 ((1 - b) + b len(u) / mean len) + x) idf(j), len(u) the user's row sum;
    "tfidf": sqrt(x) idf(j); None: the matrix as it is. Returns a float32 CSR."""
    m = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    if weighting is None or m.nnz == 0:
        return m
    n_users = m.shape[0]
    idf = np.log(n_users) - np.log1p(np.bincount(m.indices, minlength=m.shape[1]))
    x = m.data.astype(np.float64)
    if weighting == "tfidf":
        m.data = (np.sqrt(x) * idf[m.indices]).astype(np.float32)
        return m
    rows = np.repeat(np.arange(n_users), np.diff(m.indptr))
    lengths = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    norm = (1.0 - bm25_b) + bm25_b * lengths / max(lengths.mean(), np.finfo(np.float64).tiny)
    m.data = (x * (bm25_k1 + 1.0) / (bm25_k1 * norm[rows] + x) * idf[m.indices]).astype(np.float32)
    return m


class SVDRecommender(_FactorModel):
    """PureSVD (Cremonesi, Koren and Turrin 2010): the truncated SVD X ~ U S V^T of the (optionally
    BM25- or TF-IDF-weighted) users x items interaction matrix, by embedcore.randomized_svd; a
    user's scores are x_u V V^T, so user factors are U S (= X V) and item factors V.

    Parameters
    ----------
    factors : int, default 64
    weighting : {None, "bm25", "tfidf"}, default None
        Re-weighting of the matrix before the SVD (see `weight_interactions`).
    bm25_k1, bm25_b : float
        BM25's saturation and length normalisation (implicit's defaults).
    n_iter, n_oversamples, seed, workers, device
        As in `randomized_svd`.

    Attributes
    ----------
    user_factors : ndarray float32 (n_users, factors)
    item_factors : ndarray float32 (n_items, factors)
    singular_values_ : ndarray float32 (factors,)
    stats : dict
        ``fit_seconds``.

    Example
    -------
    >>> import embedcore as ec
    >>> x, _ = ec.datasets.synthetic_interactions(500, 100, 5000, seed=0)
    >>> model = ec.SVDRecommender(factors=8).fit(x)
    >>> scores, ids = model.recommend_all(k=5)
    >>> ids.shape
    (500, 5)
    """

    _fitted_attributes = ("user_factors", "item_factors", "singular_values_")
    _state_attributes = _fitted_attributes + ("_seen",)

    singular_values_: FloatArray

    def __init__(self, factors: int = 64, weighting: str | None = None, bm25_k1: float = 100.0, bm25_b: float = 0.8,
                 n_iter: int = 4, n_oversamples: int = 10, seed: int = 0, workers: int | None = None,
                 device: str = "auto") -> None:
        self.factors = check_int(factors, "factors", minimum=1)
        self.weighting = check_choice(weighting, "weighting", WEIGHTINGS)
        self.bm25_k1 = check_float(bm25_k1, "bm25_k1", minimum=0.0)
        self.bm25_b = check_float(bm25_b, "bm25_b", minimum=0.0, maximum=1.0)
        self.n_iter = check_int(n_iter, "n_iter", minimum=0)
        self.n_oversamples = check_int(n_oversamples, "n_oversamples", minimum=0)
        self.seed = check_int(seed, "seed", minimum=0)
        effective_workers(workers)
        self.workers = workers
        self.device = self._check_device(device)
        self.stats = {}

    def fit(self, interactions: "Interactions | MatrixLike") -> "Self":
        """Factorise a users x items matrix (an `Interactions`, any scipy.sparse matrix or a
        dense array of non-negative weights). Returns self.

        Raises
        ------
        ValueError
            Negative, NaN or infinite weights; `factors` above min(n_users, n_items).
        """
        from embedcore.svd import randomized_svd
        matrix = interactions.matrix if isinstance(interactions, Interactions) else interactions
        threads = effective_workers(self.workers)
        seen = as_csr(matrix, "interactions", get_backend("cpu"), threads, canonical=True).to_scipy()
        if seen.nnz and seen.data.min() < 0:
            raise ValueError("interactions must hold non-negative weights")
        if self.factors > min(seen.shape):
            raise ValueError(f"factors must be <= min(n_users, n_items) = {min(seen.shape)}, got {self.factors}")
        start = time.perf_counter()
        weighted = weight_interactions(seen, self.weighting, self.bm25_k1, self.bm25_b)
        u, s, vt = randomized_svd(weighted, self.factors, n_oversamples=self.n_oversamples, n_iter=self.n_iter,
                                  seed=self.seed, workers=self.workers, device=self.device)
        u, s, vt = (x.get() if hasattr(x, "get") else np.asarray(x) for x in (u, s, vt))
        with self._fitting():
            self.user_factors = np.ascontiguousarray(u * s, dtype=np.float32)
            self.item_factors = np.ascontiguousarray(vt.T, dtype=np.float32)
            self.singular_values_ = np.asarray(s, dtype=np.float32)
            self._seen = seen
        self.stats = {"fit_seconds": time.perf_counter() - start}
        return self


# ------------------------------------------------------------------------------------------------
# item2vec

class Item2Vec(_FactorModel):
    """item2vec (Barkan and Koenigstein 2016): skip-gram with negative sampling on users'
    histories, each user's items one sentence, trained by embedcore's word2vec kernel (no Python
    lists: the histories go to the kernel as an encoded corpus straight from the CSR matrix).

    With ``window=None`` an item's context is its whole basket (the window spans the longest
    history, each history shuffled once per fit; word2vec draws each centre's window size at
    random up to it); with an int window and interaction times,
    histories are in time order and contexts are the `window` items before and after. A user's
    vector is the mean of the unit vectors of the user's items; items are scored by inner product
    with the unit item vectors (so by cosine, per user).

    Parameters
    ----------
    vector_size : int, default 64
    window : int or None, default None
    negative : int, default 5
    ns_exponent : float, default 0.75
        Exponent of the negative-sampling distribution (count ** ns_exponent); Caselles-Dupre et
        al. (2018) found values far from word2vec's 0.75 (even negative) best for items.
    sample : float, default 0.0
        Subsampling of frequent items (word2vec's `sample`; 0 keeps every interaction).
    epochs : int, default 10
    alpha, min_alpha, workers, seed, device
        As in `Word2Vec`.

    Attributes
    ----------
    item_factors : ndarray float32 (n_items, vector_size)
        Unit item vectors (zero for items nobody interacted with).
    user_factors : ndarray float32 (n_users, vector_size)
        The mean of each user's item vectors (zero for users without items).
    stats : dict
        ``train_seconds`` and word2vec's statistics.

    Example
    -------
    >>> import embedcore as ec
    >>> x, _ = ec.datasets.synthetic_interactions(300, 60, 3000, seed=0)
    >>> model = ec.Item2Vec(vector_size=8, epochs=2, workers=1).fit(x)
    >>> model.item_factors.shape
    (60, 8)
    """

    _fitted_attributes = ("user_factors", "item_factors")
    _state_attributes = _fitted_attributes + ("_seen",)

    def __init__(self, vector_size: int = 64, window: int | None = None, negative: int = 5, ns_exponent: float = 0.75,
                 sample: float = 0.0, epochs: int = 10, alpha: float = 0.025, min_alpha: float = 1e-4,
                 workers: int | None = None, seed: int = 1, device: str = "auto") -> None:
        self.vector_size = check_int(vector_size, "vector_size", minimum=1)
        self.window = None if window is None else check_int(window, "window", minimum=1)
        self.negative = check_int(negative, "negative", minimum=1)
        self.ns_exponent = check_float(ns_exponent, "ns_exponent")
        self.sample = check_float(sample, "sample", minimum=0.0)
        self.epochs = check_int(epochs, "epochs", minimum=1)
        self.alpha = check_float(alpha, "alpha", minimum=0.0, inclusive=False)
        self.min_alpha = check_float(min_alpha, "min_alpha", minimum=0.0, maximum=self.alpha)
        effective_workers(workers)
        self.workers = workers
        self.seed = check_int(seed, "seed", minimum=0)
        self.device = self._check_device(device)
        self.stats = {}

    def fit(self, interactions: "Interactions | MatrixLike") -> "Self":
        """Train on an `Interactions` (times order the histories when `window` is set) or a
        users x items sparse matrix (stored entries are the histories, in item order). Returns
        self.

        Raises
        ------
        ValueError
            No user with two or more items, negative weights.
        """
        from embedcore.corpus import EncodedCorpus
        from embedcore.vocab import Vocab
        from embedcore.word2vec import Word2Vec
        threads = effective_workers(self.workers)
        times = interactions.times if isinstance(interactions, Interactions) else None
        matrix = interactions.matrix if isinstance(interactions, Interactions) else interactions
        seen = as_csr(matrix, "interactions", get_backend("cpu"), threads, canonical=True).to_scipy()
        if seen.nnz and seen.data.min() < 0:
            raise ValueError("interactions must hold non-negative weights")
        lengths = np.diff(seen.indptr)
        if not (lengths >= 2).any():
            raise ValueError("interactions must give at least one user two or more items to learn from")
        n_users, n_items = seen.shape
        rows = np.repeat(np.arange(n_users), lengths)
        rng = np.random.default_rng(self.seed)
        if self.window is None:
            order = np.lexsort((rng.random(seen.nnz), rows))  # each basket shuffled
            window = int(lengths.max())
        else:
            order = np.lexsort((times, rows)) if times is not None else np.arange(seen.nnz)
            window = self.window
        items = seen.indices[order]
        counts = np.bincount(items, minlength=n_items)
        used = np.flatnonzero(counts)
        position = np.full(n_items, -1, np.int64)
        position[used] = np.arange(len(used))
        vocab = Vocab([str(i) for i in used.tolist()], counts[used])
        corpus = EncodedCorpus(position[items].astype(np.int32), seen.indptr.astype(np.int64))
        start = time.perf_counter()
        w2v = Word2Vec(vector_size=self.vector_size, window=window, negative=self.negative, sg=1, sample=self.sample,
                       min_count=1, epochs=self.epochs, alpha=self.alpha, min_alpha=self.min_alpha,
                       workers=self.workers, seed=self.seed, device=self.device, ns_exponent=self.ns_exponent)
        w2v.fit(corpus, vocab=vocab)
        vectors = np.asarray(w2v.input_vectors, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        item_factors = np.zeros((n_items, self.vector_size), np.float32)
        item_factors[used] = unit
        # a user's vector: the mean of the user's unit item vectors (a sparse product)
        means = sp.csr_matrix((np.ones(seen.nnz), seen.indices, seen.indptr), shape=seen.shape)
        means = sp.diags(1.0 / np.maximum(lengths, 1)) @ means
        with self._fitting():
            self.item_factors = item_factors
            self.user_factors = np.ascontiguousarray(means @ item_factors.astype(np.float64), dtype=np.float32)
            self._seen = seen
        self.stats = dict(w2v.stats, train_seconds=time.perf_counter() - start)
        return self
