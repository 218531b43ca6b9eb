"""User x item interactions for recommenders: the `Interactions` type (a CSR matrix with id maps
both ways), train/test splits by user or by time, and ranking metrics (precision, recall, nDCG
and MAP at k) computed in one vectorised pass over every user."""
import io as _stdio
import os
from collections.abc import Hashable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embedcore._typing import AnyArray, Float64Array, MatrixLike, SparseMatrix, StrPath
from embedcore._validation import as_int_array, check_choice, check_float, check_int, describe


class Interactions:
    """Users x items interactions: a CSR matrix of non-negative float32 weights (rows are users,
    columns items; columns sorted, no repeats), the labels of users and items, and optionally
    the time of each stored entry.

    Build one with `from_arrays`, `from_pandas` or `from_file`; labels (any hashable numpy
    scalars: ints or strings) are numbered in sorted order. Repeated (user, item) pairs are
    merged: weights summed, the latest time kept.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, float32, shape (n_users, n_items)
    user_ids, item_ids : ndarray
        The label of each row / column.
    times : ndarray of float64 or None
        The time of each stored entry, aligned with ``matrix.data``.

    Example
    -------
    >>> import embedcore as ec
    >>> x = ec.Interactions.from_arrays(["ann", "bob", "ann"], ["tea", "tea", "jam"])
    >>> x.shape, x.user_index("bob"), x.item_ids.tolist()
    ((2, 2), 1, ['jam', 'tea'])
    """

    matrix: SparseMatrix
    user_ids: AnyArray
    item_ids: AnyArray
    times: Float64Array | None
    _user_index: dict[Hashable, int] | None
    _item_index: dict[Hashable, int] | None

    def __init__(self, matrix: MatrixLike, user_ids: npt.ArrayLike | None = None, item_ids: npt.ArrayLike | None = None,
                 times: npt.ArrayLike | None = None) -> None:
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
        if not matrix.has_canonical_format:
            if times is not None:
                raise ValueError("times need a matrix in canonical form (sorted columns, no repeated entries)")
            matrix.sum_duplicates()
        if matrix.nnz and not bool((matrix.data >= 0).all() & np.isfinite(matrix.data).all()):
            raise ValueError("weights must be finite and non-negative")
        self.matrix = matrix
        self.user_ids = np.arange(matrix.shape[0]) if user_ids is None else np.asarray(user_ids)
        self.item_ids = np.arange(matrix.shape[1]) if item_ids is None else np.asarray(item_ids)
        if self.user_ids.shape != (matrix.shape[0],) or self.item_ids.shape != (matrix.shape[1],):
            raise ValueError(f"user_ids and item_ids must label the {matrix.shape[0]} rows and {matrix.shape[1]} "
                             f"columns, got {describe(self.user_ids)} and {describe(self.item_ids)}")
        if times is not None:
            times = np.asarray(times, dtype=np.float64)
            if times.shape != (matrix.nnz,):
                raise ValueError(f"times must hold one entry per stored interaction ({matrix.nnz}), "
                                 f"got {describe(times)}")
        self.times = times
        self._user_index = self._item_index = None

    # --------------------------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls, users: npt.ArrayLike, items: npt.ArrayLike, weights: npt.ArrayLike | None = None,
                    times: npt.ArrayLike | None = None) -> "Interactions":
        """Interactions from parallel arrays of user labels, item labels, optional weights
        (default 1) and optional times.

        Raises
        ------
        ValueError
            Arrays of different lengths or not 1-D, negative, NaN or infinite weights or times.
        """
        users, items = np.asarray(users), np.asarray(items)
        if users.ndim != 1 or items.ndim != 1 or len(users) != len(items):
            raise ValueError(f"users and items must be 1-D arrays of one length, got {describe(users)} and "
                             f"{describe(items)}")
        n = len(users)
        if weights is None:
            weights = np.ones(n, np.float32)
        else:
            weights = _numbers(weights, "weights", n)
            if n and weights.min() < 0:
                row = int(np.argmin(weights))
                raise ValueError(f"weights must be non-negative, got {weights[row]} at position {row}")
        if times is not None:
            times = _numbers(times, "times", n, np.float64)
        user_ids, rows = np.unique(users, return_inverse=True)
        item_ids, cols = np.unique(items, return_inverse=True)
        shape = (len(user_ids), len(item_ids))
        matrix = sp.csr_matrix((weights.astype(np.float32), (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        if times is not None:
            # the latest time of each (user, item): last in an order sorted by key, then time
            keys = rows.astype(np.int64) * shape[1] + cols
            order = np.lexsort((times, keys))
            last = np.r_[keys[order][1:] != keys[order][:-1], True]
            times = times[order][last]  # keys ascending = the CSR's entry order
        return cls(matrix, user_ids, item_ids, times)

    @classmethod
    def from_pandas(cls, frame: Any, user: str = "user", item: str = "item", weight: str | None = None,
                    time: str | None = None) -> "Interactions":
        """Interactions from the columns of a pandas DataFrame (`weight` and `time` optional
        column names; times may be datetimes)."""
        for role, column in (("user", user), ("item", item), ("weight", weight), ("time", time)):
            if column is not None and column not in frame.columns:
                raise KeyError(f"{role} column {column!r} is not in the frame (columns: {list(frame.columns)})")
        times = None
        if time is not None:
            values = frame[time]
            times = (values.astype("int64").to_numpy() if str(values.dtype).startswith("datetime")
                     else values.to_numpy())
        return cls.from_arrays(frame[user].to_numpy(), frame[item].to_numpy(),
                               None if weight is None else frame[weight].to_numpy(), times)

    @classmethod
    def from_file(cls, path: StrPath) -> "Interactions":
        """Interactions from a text file of ``user item [weight]`` lines (spaces or tabs; blank
        lines and lines starting with ``#`` skipped; ``.gz``/``.bz2`` read transparently).
        Labels are kept as strings.

        Raises
        ------
        ValueError
            A malformed line (not 2 or 3 fields, a weight that is not a non-negative number),
            naming the file and line number.
        """
        from embedcore._io import open_source
        users, items, weights = [], [], []
        any_weight = False
        with open_source(path) as raw:
            text = _stdio.TextIOWrapper(raw, encoding="utf-8")
            for number, line in enumerate(text, 1):
                fields = line.split()
                if not fields or fields[0].startswith("#"):
                    continue
                if len(fields) not in (2, 3):
                    raise ValueError(f"{os.fspath(path)}, line {number}: expected 'user item [weight]', got "
                                     f"{len(fields)} fields: {line.strip()[:80]!r}")
                weight = 1.0
                if len(fields) == 3:
                    any_weight = True
                    try:
                        weight = float(fields[2])
                    except ValueError:
                        raise ValueError(f"{os.fspath(path)}, line {number}: the weight {fields[2][:40]!r} is "
                                         f"not a number") from None
                    if not (weight >= 0 and np.isfinite(weight)):
                        raise ValueError(f"{os.fspath(path)}, line {number}: the weight must be a finite "
                                         f"non-negative number, got {fields[2][:40]!r}")
                users.append(fields[0])
                items.append(fields[1])
                weights.append(weight)
        return cls.from_arrays(np.array(users, dtype=str), np.array(items, dtype=str),
                               np.array(weights, np.float32) if any_weight else None)

    # --------------------------------------------------------------------------- access
    @property
    def shape(self) -> tuple[int, int]:
        shape: tuple[int, int] = self.matrix.shape
        return shape

    @property
    def n_users(self) -> int:
        return self.shape[0]

    @property
    def n_items(self) -> int:
        return self.shape[1]

    @property
    def nnz(self) -> int:
        """Stored (user, item) pairs."""
        nnz: int = self.matrix.nnz
        return nnz

    def __repr__(self) -> str:
        return f"Interactions({self.n_users} users x {self.n_items} items, {self.nnz} interactions)"

    def user_index(self, label: Hashable) -> int:
        """The row of a user label (KeyError if absent)."""
        if self._user_index is None:
            self._user_index = {key: i for i, key in enumerate(self.user_ids.tolist())}
        return self._user_index[label]

    def item_index(self, label: Hashable) -> int:
        """The column of an item label (KeyError if absent)."""
        if self._item_index is None:
            self._item_index = {key: i for i, key in enumerate(self.item_ids.tolist())}
        return self._item_index[label]

    def _with_entries(self, keep: npt.NDArray[np.bool_]) -> "Interactions":
        """The same users and items with only the stored entries where `keep` is True."""
        m = self.matrix
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
        indptr = np.zeros(m.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=m.shape[0]), out=indptr[1:])
        matrix = sp.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)
        return Interactions(matrix, self.user_ids, self.item_ids, None if self.times is None else self.times[keep])


def _numbers(value: npt.ArrayLike, name: str, n: int, dtype: npt.DTypeLike = np.float32) -> AnyArray:
    array = np.asarray(value)
    if array.shape != (n,):
        raise ValueError(f"{name} must be a 1-D array with one entry per interaction ({n}), got {describe(array)}")
    if array.size and array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers, got {describe(array)}")
    array = array.astype(dtype)
    if array.size and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def train_test_split(interactions: Interactions, test_fraction: float = 0.2, by: str = "user",
                     seed: int = 0) -> tuple[Interactions, Interactions]:
    """Split interactions into train and test sets over the same users and items.

    Parameters
    ----------
    interactions : Interactions
    test_fraction : float in (0, 1)
    by : {"user", "time"}
        "user": each user with at least two interactions keeps ``round(test_fraction * n)`` of
        them, drawn at random, for the test set (at most n - 1, so every such user has training
        data). "time": the latest ``test_fraction`` of all interactions (by their times; ties in
        stored order) form the test set.
    seed : int

    Returns
    -------
    train, test : Interactions

    Raises
    ------
    ValueError
        A fraction outside (0, 1), an unknown `by`, or by="time" without times.
    """
    if not isinstance(interactions, Interactions):
        raise TypeError(f"interactions must be an embedcore.Interactions, got {type(interactions).__name__}")
    fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0, inclusive=False)
    by = check_choice(by, "by", ("user", "time"))
    seed = check_int(seed, "seed", minimum=0)
    m = interactions.matrix
    if by == "time":
        if interactions.times is None:
            raise ValueError("by='time' needs interaction times (build the Interactions with times)")
        n_test = int(round(fraction * m.nnz))
        order = np.argsort(interactions.times, kind="stable")
        test = np.zeros(m.nnz, bool)
        test[order[m.nnz - n_test:]] = True
    else:
        counts = np.diff(m.indptr)
        rows = np.repeat(np.arange(m.shape[0]), counts)
        # a random rank of each entry within its row: sort by (row, random key)
        keys = np.random.default_rng(seed).random(m.nnz)
        order = np.lexsort((keys, rows))
        rank = np.empty(m.nnz, np.int64)
        rank[order] = np.arange(m.nnz) - np.repeat(m.indptr[:-1], counts)
        n_test = np.minimum(np.rint(fraction * counts), np.maximum(counts - 1, 0)).astype(np.int64)
        test = rank < n_test[rows]
    return interactions._with_entries(~test), interactions._with_entries(test)


def ranking_metrics(item_ids: npt.ArrayLike, test: "Interactions | SparseMatrix",
                    k: int | None = None) -> dict[str, float]:
    """Precision, recall, nDCG and MAP at k of recommended items against held-out interactions,
    averaged over the users that have at least one test interaction.

    For a user with test items T and recommendations r_1..r_k (hits h_i = [r_i in T]):
    precision = sum h / k; recall = ``sum h / |T|``; nDCG = DCG / IDCG with DCG = sum h_i / log2(i + 1)
    and IDCG the DCG of ``min(|T|, k)`` hits; MAP = ``sum_i h_i * precision@i / min(|T|, k)``. Entries
    of -1 (empty slots) are misses.

    Parameters
    ----------
    item_ids : array-like of int, shape (n_users, >= k)
        Recommended items per user, best first (as `recommend_all` returns them).
    test : Interactions or sparse matrix, shape (n_users, n_items)
    k : int, optional
        Cut-off; default the number of columns of `item_ids`.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``ndcg``, ``map`` (floats) and ``users`` (users evaluated).
    """
    matrix = test.matrix if isinstance(test, Interactions) else sp.csr_matrix(test)
    matrix = matrix.copy() if not matrix.has_canonical_format else matrix
    matrix.sum_duplicates()
    ids = np.asarray(item_ids)
    if ids.ndim != 2 or ids.shape[0] != matrix.shape[0]:
        raise ValueError(f"item_ids must be a 2-D array with one row per user of test ({matrix.shape[0]}), "
                         f"got {describe(ids)}")
    ids = as_int_array(ids, "item_ids", dtype=np.int64, ndim=2)
    k = ids.shape[1] if k is None else check_int(k, "k", minimum=1, maximum=ids.shape[1])
    ids = ids[:, :k]
    n_users, n_items = matrix.shape
    if ids.size and (ids.min() < -1 or ids.max() >= n_items):
        raise ValueError(f"item_ids must hold items in [0, {n_items}) or -1, got values in [{ids.min()}, {ids.max()}]")
    # one pass: each recommendation looked up among the sorted (user, item) keys of the test set
    test_keys = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(matrix.indptr)) * n_items + matrix.indices
    keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + ids
    at = np.minimum(np.searchsorted(test_keys, keys), max(len(test_keys) - 1, 0))
    hits = (ids >= 0) & (test_keys[at] == keys) if len(test_keys) else np.zeros(ids.shape, bool)
    n_test = np.diff(matrix.indptr)
    users = n_test > 0
    if not users.any():
        raise ValueError("test holds no interactions")
    hits, n_test = hits[users], n_test[users]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.minimum(n_test, k) - 1]
    found = hits.sum(axis=1)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {
        "precision": float(np.mean(found / k)),
        "recall": float(np.mean(found / n_test)),
        "ndcg": float(np.mean((hits * discounts).sum(axis=1) / ideal)),
        "map": float(np.mean((precision_at * hits).sum(axis=1) / np.minimum(n_test, k))),
        "users": int(users.sum()),
    }
