"""KeyedVectors: keys (words), their vectors and similarity queries, with gensim's surface.

The file formats are in :mod:`embedcore.formats`: word2vec.c's text and binary formats and GloVe's
text (``load_word2vec_format`` / ``save_word2vec_format``), our own npy + JSON format
(``save`` / ``load``), and gensim's pickled saves (read by ``load`` when gensim is installed).
"""
import logging
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar, Union, cast, overload

import numpy as np
import numpy.typing as npt

from embedcore._threads import effective_workers
from embedcore._typing import AnyArray, Float64Array, FloatArray, Int64Array, Key, RealArray, StrPath
from embedcore._validation import as_float32_matrix, check_choice, check_int, check_path, describe
from embedcore.formats import gensim_native as _gensim_native
from embedcore.formats import native as _native_format
from embedcore.formats import word2vec as _word2vec_format
from embedcore.formats._errors import TruncatedVectorFileError, VectorFileDecodeError, VectorFileError
from embedcore.formats._words import RULE, as_word_list, first_bad_word, first_duplicate

if TYPE_CHECKING:
    from typing_extensions import Self

logger = logging.getLogger("embedcore")

_K = TypeVar("_K", bound=Key)
#: what `most_similar` takes as `positive` / `negative`: a key, a vector, a 2-D array of vectors, or a
#: list of keys, vectors or (key or vector, weight) pairs
QueryItems = Union[Key, npt.ArrayLike, Iterable[Union[Key, npt.ArrayLike, tuple[Union[Key, npt.ArrayLike], float]]],
                   None]

REAL = np.float32  # gensim's name for the default vector dtype
_UNICODE_ERRORS = ("strict", "replace", "ignore")
_FLOAT_DTYPES = (np.float16, np.float32, np.float64)

__all__ = ["KeyedVectors", "REAL", "TruncatedVectorFileError", "VectorFileDecodeError", "VectorFileError",
           "load_word2vec_format", "pseudorandom_weak_vector"]


class _EmptyWordListError(ValueError, ZeroDivisionError):
    """An empty word list where a mean is needed (gensim raises ZeroDivisionError there)."""


def _is_int_key(key: object) -> TypeGuard[int]:
    return isinstance(key, numbers.Integral) and not isinstance(key, bool)


def _is_key(item: object) -> TypeGuard[Key]:
    """A single key: a str or an int (numpy ints included), as in gensim."""
    return isinstance(item, str) or _is_int_key(item)


def as_item_list(value: Any, name: str) -> list[Any]:
    """None -> [], a key or a 1-D vector -> [it], a 2-D array -> its rows, any other sequence ->
    list(it) (gensim's rule)."""
    if value is None:
        return []
    if _is_key(value):
        return [value]
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            return [value]
        if value.ndim == 2:
            return list(value)
        raise ValueError(f"{name} must be a key, a vector, or a 2-D array of vectors, got {describe(value)}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be a word, a vector, or a list of words, vectors or (item, weight) "
                        f"pairs, got {type(value).__name__}") from None


def _check_key(key: object, name: str = "key") -> Key:
    """`key` when it is one KeyedVectors can hold: an int, or a str that follows the word rule."""
    if _is_int_key(key):
        return int(key)
    if not isinstance(key, str):
        raise TypeError(f"{name} must be a str or an int, got {type(key).__name__} {key!r}")
    bad = first_bad_word([key])
    if bad is not None:
        raise ValueError(f"{name} {bad[1]}; {RULE} (the file formats could not hold it)")
    return key


def _cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine of two vectors in float64: 0 when either is zero, exactly 1 for equal vectors
    (so ``similarity(w, w) == 1`` and ``distance(w, w) == 0``), clipped to [-1, 1]."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    if np.array_equal(a, b):
        return 1.0
    return float(np.clip(np.dot(a / na, b / nb), -1.0, 1.0))


def _check_keys(keys: Iterable[Any], name: str = "keys", allow_none: bool = False) -> list[Any]:
    """`keys` as a list of int and str keys (str following the word rule, checked in one pass over
    them all); None (an unfilled slot) only when `allow_none`. TypeError or ValueError naming the
    first bad key."""
    keys = list(keys)
    strings, where = [], []
    for i, key in enumerate(keys):
        if isinstance(key, str):
            strings.append(key)
            where.append(i)
        elif _is_int_key(key):
            keys[i] = int(key)
        elif not (key is None and allow_none):
            raise TypeError(f"{name}[{i}] must be a str or an int, got {type(key).__name__} {key!r}")
    bad = first_bad_word(strings)
    if bad is not None:
        raise ValueError(f"{name}[{where[bad[0]]}] {bad[1]}; {RULE} (the file formats could not hold it)")
    return keys


def _top_indices(scores: npt.NDArray[Any], k: int) -> Int64Array:
    """Indices of the `k` largest `scores`, largest first, ties by lower index."""
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[part].min()
        part = np.flatnonzero(scores >= threshold)  # every tie of the k-th score, so ties go by index
    else:
        part = np.arange(len(scores))
    order = np.lexsort((part, -scores[part].astype(np.float64)))
    return part[order][:k]


class KeyedVectors:
    """Keys (words) and their vectors, with cosine similarity queries and file input/output.

    gensim's ``KeyedVectors`` surface: ``kv["word"]``, ``kv.most_similar(...)``,
    ``kv.similarity(a, b)``, ``add_vectors``, ``kv[key] = vector``, ``get_vecattr``,
    ``save_word2vec_format`` / ``load_word2vec_format``, ``save`` / ``load`` and the rest, with
    gensim's signatures and results.

    Two ways to build one:

    - ``KeyedVectors(words, vectors)``: the words and their vectors at once (embedcore's form);
    - ``KeyedVectors(vector_size, count=0, dtype=np.float32)``: gensim's form, an empty set of
      `vector_size`-dimensional vectors (with `count` preallocated slots that ``add_vector``
      fills), to which ``add_vectors`` or ``kv[keys] = vectors`` add.

    Parameters
    ----------
    words : sequence of str, or int
        Distinct, non-empty words without ASCII whitespace (the file formats separate fields with
        it; other spaces such as U+00A0 may occur), in row order. An int here is gensim's
        `vector_size`.
    vectors : array-like, shape (len(words), vector_size), or int
        One finite row per word; stored as C-contiguous `dtype` (a copy only when needed, so a
        float32 C-contiguous array is shared, not copied). An int here (with an int `words`) is
        gensim's `count`.
    dtype : float16, float32 or float64, default float32
        The dtype the vectors are stored in. Queries compute on float32 unit vectors.
    mapfile_path : None
        gensim's argument, unused there too.
    vector_size, count : int, keyword only
        gensim's form by keyword: ``KeyedVectors(vector_size=100)``.

    Raises
    ------
    TypeError
        A word is not a str, or `vectors` is not numeric.
    ValueError
        Words repeat, are empty or hold whitespace; `vectors` is not 2-D, holds NaN or infinity,
        or its row count differs from the number of words.

    Notes
    -----
    Keys are str (following the word rule above) or int. As in gensim, an int that is not itself
    a key stands for the row with that index: ``kv[3]`` is the fourth vector and
    ``kv.most_similar(0)`` searches around the first.

    The row norms and unit-length vectors are computed on first use and cached. Every change
    made through this class (``kv.vectors = new``, ``kv[key] = vector``, ``add_vector(s)``,
    ``sort_by_descending_frequency``, ``unit_normalize_all``, ``intersect_word2vec_format``)
    refreshes them, and ``kv[key]`` returns a read-only view, as in gensim. After editing the
    array ``kv.vectors`` in place with numpy, call ``kv.fill_norms(force=True)``.

    Examples
    --------
    >>> kv = KeyedVectors(["king", "queen", "apple"], [[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]])
    >>> kv.most_similar("king", topn=1)[0][0]
    'queen'
    >>> empty = KeyedVectors(2)
    >>> empty["pear"] = np.array([0.5, 0.5])
    >>> len(empty), empty.index_to_key
    (1, ['pear'])
    """

    _words: list[Any]
    _index: dict[Key, int]
    _vectors: RealArray
    _vecattrs: dict[str, AnyArray]
    _normed: FloatArray | None
    _norms: Float64Array | None
    next_index: int

    def __init__(self, words: Iterable[str] | int | None = None, vectors: npt.ArrayLike | int | None = None,
                 dtype: npt.DTypeLike = np.float32, mapfile_path: None = None, *, vector_size: int | None = None,
                 count: int | None = None) -> None:
        dtype = self._check_dtype(dtype)
        if _is_int_key(words) or (words is None and vector_size is not None):
            size: object = vector_size
            if words is not None:
                if vector_size is not None:
                    raise TypeError("vector_size given twice (positionally and by keyword)")
                size = words
            slots: object = count
            if vectors is not None:
                if count is not None:
                    raise TypeError("count given twice (positionally and by keyword)")
                slots = vectors
            n_dims = check_int(size, "vector_size", minimum=1)
            n_slots = check_int(0 if slots is None else slots, "count", minimum=0)
            self._set([None] * n_slots, np.zeros((n_slots, n_dims), dtype=dtype), {}, next_index=0)
            return
        if count is not None or vector_size is not None:
            raise TypeError("vector_size and count are for gensim's form KeyedVectors(vector_size, count); "
                            "with words and vectors leave them out")
        if words is None or vectors is None:
            raise TypeError("KeyedVectors needs words and vectors, or gensim's vector_size")
        word_list = as_word_list(cast(Iterable[str], words))  # not an int key: checked above
        checked = self._check_vectors(cast(npt.ArrayLike, vectors), len(word_list), dtype)
        index: dict[Key, int] = dict(zip(word_list, range(len(word_list))))
        if len(index) != len(word_list):
            repeated = first_duplicate(word_list)
            assert repeated is not None  # the index is shorter than the list: a word repeats
            first, again = repeated
            raise ValueError(f"words must be distinct, but words[{again}] {word_list[again]!r} repeats "
                             f"words[{first}]")
        self._set(word_list, checked, index)

    def _set(self, keys: list[Any], vectors: RealArray, index: dict[Key, int],
             vecattrs: dict[str, AnyArray] | None = None, next_index: int | None = None) -> None:
        self._words = keys
        self._vectors = vectors
        self._index = index
        self._vecattrs = {} if vecattrs is None else vecattrs
        self.next_index = len(keys) if next_index is None else next_index
        self._normed = None
        self._norms = None

    @classmethod
    def _from_parts(cls, keys: Iterable[Any], vectors: RealArray, vecattrs: dict[str, AnyArray] | None = None,
                    next_index: int | None = None, source: str = "the keys") -> "Self":
        """A KeyedVectors over parts read from a file: keys are checked (str following the word
        rule, int, or None for an unfilled slot) and must be distinct (VectorFileError)."""
        try:
            key_list = _check_keys(keys, "key", allow_none=True)
        except (TypeError, ValueError) as exc:
            raise VectorFileError(f"{source}: {exc}") from None
        index = {k: i for i, k in enumerate(key_list) if k is not None}
        if len(index) != len(key_list) - key_list.count(None):
            rows = [i for i, k in enumerate(key_list) if k is not None]
            repeated = first_duplicate([key_list[i] for i in rows])
            assert repeated is not None  # the index is shorter than the keys: a key repeats
            first, again = repeated
            raise VectorFileError(f"{source}: key {key_list[rows[again]]!r} at row {rows[again]} repeats row "
                                  f"{rows[first]}")
        if vectors.ndim != 2 or len(vectors) != len(key_list):
            raise VectorFileError(f"{source}: {len(key_list)} keys but vectors of shape {vectors.shape}")
        kv = cls.__new__(cls)
        kv._set(list(key_list), vectors, index, dict(vecattrs or {}), next_index)
        return kv

    @staticmethod
    def _check_dtype(dtype: npt.DTypeLike) -> "np.dtype[Any]":
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be a float dtype (float16, float32, float64), got {dtype!r}") from None
        if dtype not in [np.dtype(t) for t in _FLOAT_DTYPES]:
            raise TypeError(f"dtype must be float16, float32 or float64, got {dtype}")
        return dtype

    @staticmethod
    def _check_vectors(vectors: npt.ArrayLike, n_words: int, dtype: npt.DTypeLike = np.float32,
                       name: str = "vectors") -> RealArray:
        if np.dtype(dtype) == np.float32:
            vectors = as_float32_matrix(vectors, name, allow_empty=True)
        else:
            checked = as_float32_matrix(vectors, name, allow_empty=True, check_finite=False)
            vectors = np.ascontiguousarray(np.asarray(vectors) if np.asarray(vectors).dtype.kind in "fiu"
                                           else checked, dtype=dtype)
            if vectors.size and not np.isfinite(vectors).all():
                raise ValueError(f"{name} contains NaN or infinity (in {np.dtype(dtype).name})")
        if vectors.shape[1] < 1:
            raise ValueError(f"{name} must have at least one column, got {describe(vectors)}")
        if vectors.shape[0] != n_words:
            raise ValueError(f"{name} must have one row per word ({n_words} rows), got "
                             f"{vectors.shape[0]} rows (shape {vectors.shape})")
        return vectors

    def _vectors_changed(self) -> None:
        """Forget the cached norms and unit vectors: the next query recomputes them."""
        self._normed = None
        self._norms = None

    # ----------------------------------------------------------------------------------- lookup
    @property
    def words(self) -> list[Key]:
        """list: the keys in row order (do not modify; use add_vectors, or build a new KeyedVectors)."""
        return self._words

    @property
    def index_to_key(self) -> list[Key]:
        """list: the keys in row order (gensim's name for :attr:`words`; do not modify)."""
        return self._words

    @property
    def key_to_index(self) -> dict[Key, int]:
        """dict: key -> row (gensim's name; do not modify)."""
        return self._index

    @property
    def vectors(self) -> RealArray:
        """ndarray, shape (len(self), vector_size): the vectors, C-contiguous.

        Assigning a new array validates it (one finite row per key), stores it in the current
        dtype and refreshes the cached unit vectors.
        """
        return self._vectors

    @vectors.setter
    def vectors(self, value: npt.ArrayLike) -> None:
        self._vectors = self._check_vectors(value, len(self._words), self._vectors.dtype)
        self._vectors_changed()

    @property
    def vector_size(self) -> int:
        """int: the dimension of the vectors."""
        return int(self._vectors.shape[1])

    @property
    def expandos(self) -> dict[str, AnyArray]:
        """dict: attribute name -> array with one value per key (gensim's name; use
        :meth:`get_vecattr` / :meth:`set_vecattr`)."""
        return self._vecattrs

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, key: object) -> bool:
        return self.has_index_for(key)

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, vector_size={self.vector_size})"

    def __str__(self) -> str:
        return f"{type(self).__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    def index(self, word: Key) -> int:
        """The row of `word` (a key of this KeyedVectors: no int-position fallback).

        Parameters
        ----------
        word : str or int

        Returns
        -------
        int

        Raises
        ------
        KeyError
            `word` is not in the vocabulary (the message names it).
        TypeError
            `word` is not a str or an int.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0], [2.0]]).index("b")
        1
        """
        try:
            return self._index[word]
        except KeyError:
            if not _is_key(word):
                raise TypeError(f"word must be a str, got {type(word).__name__} {word!r}") from None
            raise KeyError(f"word {word!r} is not in the vocabulary") from None
        except TypeError:  # unhashable
            raise TypeError(f"word must be a str, got {type(word).__name__}") from None

    def get_index(self, key: Key, default: int | None = None) -> int:
        """The row of `key`, as gensim finds it: the key's own row; else, for an int in
        ``range(len(self))``, that row; else `default` when given.

        Parameters
        ----------
        key : str or int
        default : int, optional

        Returns
        -------
        int

        Raises
        ------
        KeyError
            `key` is absent and no `default` is given.
        TypeError
            `key` is not a str or an int.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b"], [[1.0], [2.0]])
        >>> kv.get_index("b"), kv.get_index(0), kv.get_index("zzz", -1)
        (1, 0, -1)
        """
        try:
            row = self._index.get(key)
        except TypeError:  # unhashable
            raise TypeError(f"key must be a str or an int, got {type(key).__name__}") from None
        if row is not None:
            return row
        if _is_int_key(key) and 0 <= key < len(self._words):
            return int(key)
        if default is not None:
            return default
        if not _is_key(key):
            raise TypeError(f"key must be a str or an int, got {type(key).__name__} {key!r}")
        raise KeyError(f"key {key!r} is not in the vocabulary")

    def has_index_for(self, key: object) -> bool:
        """Whether :meth:`get_index` finds a row for `key` (gensim's ``key in kv``).

        Examples
        --------
        >>> kv = KeyedVectors(["a"], [[1.0]])
        >>> kv.has_index_for("a"), "b" in kv, 0 in kv
        (True, False, True)
        """
        try:
            return self.get_index(cast(Key, key), -1) >= 0  # a non-key raises TypeError
        except TypeError:
            return False

    def __getitem__(self, key: Key | Iterable[Key]) -> RealArray:
        """``kv[key]`` -> its vector (a read-only view of the row); ``kv[[k1, k2]]`` -> a 2-D array
        (a copy). Keys are str or int (an int that is not a key is a row index).

        Raises KeyError naming the first unknown key.
        """
        if _is_key(key):
            return self.get_vector(key)
        if isinstance(key, (list, tuple, np.ndarray)):
            rows = np.fromiter((self.get_index(k) for k in key), dtype=np.int64, count=len(key))
            return self._vectors[rows]
        raise TypeError(f"key must be a word (str), an int or a list of them, got {type(key).__name__}")

    def get_vector(self, key: Key, norm: bool = False) -> RealArray:
        """The vector of `key`; unit length when `norm` is True (zero stays zero).

        Parameters
        ----------
        key : str or int
        norm : bool, default False

        Returns
        -------
        ndarray, shape (vector_size,)
            A read-only view of the row (so the cached norms cannot go stale through it); with
            `norm` a new array, in the vectors' dtype.

        Raises
        ------
        KeyError
            `key` is not in the vocabulary.

        Examples
        --------
        >>> KeyedVectors(["a"], [[3.0, 4.0]]).get_vector("a", norm=True)
        array([0.6, 0.8], dtype=float32)
        """
        row = self.get_index(key)
        vector: RealArray = self._vectors[row]
        if norm:  # the rule of the cached unit vectors, so that both give the same values
            self.fill_norms()
            assert self._norms is not None  # filled just above
            length = self._norms[row]
            return (vector / length).astype(vector.dtype) if length > 0 else np.zeros_like(vector)
        view = vector.view()
        view.flags.writeable = False
        return view

    def get_mean_vector(self, keys: Key | npt.ArrayLike | Iterable[Key | npt.ArrayLike],
                        weights: npt.ArrayLike | None = None, pre_normalize: bool = True,
                        post_normalize: bool = False, ignore_missing: bool = True) -> RealArray:
        """The weighted mean of the vectors of `keys` (gensim's ``get_mean_vector``).

        Parameters
        ----------
        keys : list of str, int or ndarray
            Keys, or vectors used as given.
        weights : list or 1-D array of float, optional
            One weight per key (default 1 each). The sum is divided by the total absolute weight
            of the keys used.
        pre_normalize : bool, default True
            Use each key's unit vector.
        post_normalize : bool, default False
            Scale the result to unit length.
        ignore_missing : bool, default True
            Skip unknown keys; False raises KeyError for them.

        Returns
        -------
        ndarray, shape (vector_size,), the vectors' dtype (float32 when `post_normalize`)

        Raises
        ------
        ValueError
            No keys, or as many weights as keys not given.
        KeyError
            An unknown key with ``ignore_missing=False``.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b"], [[2.0, 0.0], [0.0, 4.0]])
        >>> kv.get_mean_vector(["a", "b"])
        array([0.5, 0.5], dtype=float32)
        """
        items: Any = keys  # from here a list of keys and vectors (or the sequence given)
        if isinstance(keys, np.ndarray) and keys.ndim == 2:
            items = list(keys)
        elif _is_key(keys):
            items = [keys]
        if len(items) == 0:
            raise ValueError("cannot compute mean with no input: keys is empty")
        weight_array = (np.ones(len(items)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1))
        if len(weight_array) != len(items):
            raise ValueError(f"keys and weights must have the same number of elements, got {len(items)} keys "
                             f"and {len(weight_array)} weights")
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total = 0.0
        for key, weight in zip(items, weight_array):
            if isinstance(key, np.ndarray):
                vector = self._as_query_vector(key, "keys")
            elif self.has_index_for(key):
                vector = self.get_vector(key, norm=pre_normalize).astype(np.float64)
            elif not ignore_missing:
                raise KeyError(f"key {key!r} is not in the vocabulary")
            else:
                continue
            mean += weight * vector
            total += abs(weight)
        if total > 0:
            mean /= total
        if post_normalize:
            length = np.linalg.norm(mean)
            return (mean / length if length > 0 else mean).astype(np.float32)
        return mean.astype(self._vectors.dtype)

    # ------------------------------------------------------------------------- adding vectors
    def add_vector(self, key: Key, vector: npt.ArrayLike) -> int:
        """Add one key and its vector: into the next preallocated slot when there is one
        (``KeyedVectors(vector_size, count)``), else at the end (a copy of every vector).

        Parameters
        ----------
        key : str or int
            A key not yet present.
        vector : array-like, shape (vector_size,)

        Returns
        -------
        int
            The row of the new vector.

        Raises
        ------
        ValueError
            `key` is already present (replace its vector with ``kv[key] = vector``), or the
            vector has the wrong length or NaN.

        Examples
        --------
        >>> kv = KeyedVectors(2, count=1)
        >>> kv.add_vector("a", [1.0, 2.0])
        0
        """
        key = _check_key(key)
        if key in self._index:
            raise ValueError(f"key {key!r} is already present (row {self._index[key]}); "
                             f"use kv[key] = vector to replace its vector")
        vector = np.asarray(vector)
        if vector.ndim != 1 or vector.shape[0] != self.vector_size:
            raise ValueError(f"vector must have {self.vector_size} values, got {describe(vector)}")
        row = self.next_index
        if row < len(self._words) and self._words[row] is None:
            self._vectors[row] = self._check_vectors(vector[None, :], 1, self._vectors.dtype, "vector")[0]
            self._words[row] = key
            self._index[key] = row
            self.next_index = row + 1
            self._vectors_changed()
            return row
        warnings.warn("Adding single vectors to a KeyedVectors which grows by one each time can be costly. "
                      "Consider adding in batches or preallocating to the required size.", UserWarning,
                      stacklevel=2)
        self.add_vectors([key], vector[None, :])
        self.next_index = len(self._words)
        return len(self._words) - 1

    def add_vectors(self, keys: Key | Iterable[Key], weights: npt.ArrayLike,
                    extras: Mapping[str, npt.ArrayLike] | None = None, replace: bool = False) -> None:
        """Add keys and their vectors; a key already present keeps its vector unless `replace`.

        Parameters
        ----------
        keys : str, int, or list of them
            Distinct keys (str keys follow the word rule of the constructor).
        weights : array-like, shape (len(keys), vector_size), or (vector_size,) for one key
            Converted to the vectors' dtype.
        extras : dict, optional
            Attribute name -> one value per key (stored as with :meth:`set_vecattr`).
        replace : bool, default False
            Overwrite the vectors (and extras) of keys already present.

        Raises
        ------
        ValueError
            A key repeats within `keys`, `weights` has the wrong shape or holds NaN/infinity.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
        >>> kv.index_to_key
        ['a', 'b']
        """
        if _is_key(keys):
            keys = [keys]
            weights = np.reshape(np.asarray(weights), (1, -1))
        key_list = _check_keys(cast(Iterable[Key], keys))
        rows = self._check_vectors(weights, len(key_list), self._vectors.dtype, "weights")
        if rows.shape[1] != self.vector_size:
            raise ValueError(f"weights must have {self.vector_size} columns (the vector size), got "
                             f"{describe(rows)}")
        if len(set(key_list)) != len(key_list):
            repeated = first_duplicate(key_list)
            assert repeated is not None  # the set is smaller than the list: a key repeats
            first, again = repeated
            raise ValueError(f"keys[{again}] {key_list[again]!r} repeats keys[{first}]")
        extra_arrays = {} if extras is None else {name: np.asarray(values) for name, values in extras.items()}
        for name, values in extra_arrays.items():
            if values.shape[:1] != (len(key_list),):
                raise ValueError(f"extras[{name!r}] must have one value per key ({len(key_list)}), got "
                                 f"{describe(values)}")
        present = np.fromiter((k in self._index for k in key_list), dtype=bool, count=len(key_list))
        new = np.flatnonzero(~present)
        old_rows = np.fromiter((self._index[key_list[i]] for i in np.flatnonzero(present)), dtype=np.int64)
        start = len(self._words)
        for offset, i in enumerate(new):
            self._index[key_list[i]] = start + offset
            self._words.append(key_list[i])
        if len(new):
            self._vectors = np.ascontiguousarray(np.concatenate([self._vectors, rows[new]]))
        self.allocate_vecattrs()  # every attribute grows to the new length (new values 0)
        self.allocate_vecattrs(list(extra_arrays), [values.dtype for values in extra_arrays.values()])
        for name, values in extra_arrays.items():
            self._vecattrs[name][start:] = values[new]
        if replace and len(old_rows):
            self._vectors[old_rows] = rows[present]
            for name, values in extra_arrays.items():
                self._vecattrs[name][old_rows] = values[present]
        self._vectors_changed()

    def __setitem__(self, keys: Key | list[Key], weights: npt.ArrayLike) -> None:
        """``kv[key] = vector`` or ``kv[[k1, k2]] = vectors``: add the keys, replacing the vectors
        of keys already present (``add_vectors(..., replace=True)``); the cached norms follow."""
        if not isinstance(keys, list):
            self.add_vectors([keys], np.reshape(np.asarray(weights), (1, -1)), replace=True)
        else:
            self.add_vectors(keys, weights, replace=True)

    # --------------------------------------------------------------------- per-key attributes
    def allocate_vecattrs(self, attrs: Iterable[str] | None = None, types: Iterable[Any] | None = None) -> None:
        """Make sure an array of one value per key exists for each attribute (gensim's rule:
        ``int`` is int64, ``str`` is object); with no arguments, resize the existing ones to
        ``len(self)`` (new values 0)."""
        if attrs is None:
            attrs = list(self._vecattrs)
            types = [self._vecattrs[a].dtype for a in attrs]
        n = len(self._words)
        for attr, kind in zip(attrs, cast(Iterable[Any], types)):  # types is given with attrs
            kind = np.int64 if kind is int else (object if kind is str else kind)
            kind = np.dtype(kind)
            if attr not in self._vecattrs:
                self._vecattrs[attr] = np.zeros(n, dtype=kind)
                continue
            previous = self._vecattrs[attr]
            if not np.can_cast(kind, previous.dtype, casting="same_kind"):
                raise TypeError(f"can't store {kind} values in attribute {attr!r}, which holds {previous.dtype}")
            if len(previous) != n:
                grown = np.zeros(n, dtype=previous.dtype)
                grown[:min(n, len(previous))] = previous[:n]
                self._vecattrs[attr] = grown

    def set_vecattr(self, key: Key, attr: str, val: Any) -> None:
        """Set attribute `attr` of `key` to `val` (e.g. ``set_vecattr("the", "count", 1061396)``).

        Examples
        --------
        >>> kv = KeyedVectors(["a"], [[1.0]])
        >>> kv.set_vecattr("a", "count", 7)
        >>> int(kv.get_vecattr("a", "count"))
        7
        """
        self.allocate_vecattrs([attr], [type(val)])
        self._vecattrs[attr][self.get_index(key)] = val

    def get_vecattr(self, key: Key, attr: str) -> Any:
        """The value of attribute `attr` for `key`.

        Raises
        ------
        KeyError
            Unknown key, or no such attribute.
        """
        row = self.get_index(key)
        if attr not in self._vecattrs:
            raise KeyError(f"no attribute {attr!r} (have {sorted(self._vecattrs)})")
        return self._vecattrs[attr][row]

    def _set_counts(self, counts: npt.ArrayLike | None = None) -> "Self":
        """Set the ``count`` attribute trained models' vectors carry, as gensim's do
        (``wv.get_vecattr(word, "count")``): the corpus counts when known, else descending dummy
        values (as :meth:`load_word2vec_format` without `fvocab`). Returns self."""
        if counts is None:
            counts = np.arange(len(self._words), 0, -1, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != (len(self._words),):
            raise ValueError(f"counts must hold one count per key ({len(self._words)}), got {describe(counts)}")
        self._vecattrs["count"] = counts.copy()
        return self

    def sort_by_descending_frequency(self) -> None:
        """Reorder the keys (and vectors and attributes) by descending ``count`` attribute; among
        equal counts the later key comes first, exactly as gensim orders them.

        Raises
        ------
        KeyError
            There is no ``count`` attribute.

        Examples
        --------
        >>> kv = KeyedVectors(["rare", "common"], [[1.0], [2.0]])
        >>> kv.set_vecattr("rare", "count", 1); kv.set_vecattr("common", "count", 9)
        >>> kv.sort_by_descending_frequency(); kv.index_to_key
        ['common', 'rare']
        """
        if not len(self):
            return
        if "count" not in self._vecattrs:
            raise KeyError("sort_by_descending_frequency needs the 'count' attribute (set_vecattr(key, 'count', n))")
        counts = np.asarray(self._vecattrs["count"], dtype=np.int64)
        order = np.lexsort((-np.arange(len(counts)), -counts))
        self._words = [self._words[i] for i in order]
        self._vecattrs = {name: values[order] for name, values in self._vecattrs.items()}
        self._vectors = np.ascontiguousarray(self._vectors[order])
        self._index = {key: i for i, key in enumerate(self._words) if key is not None}
        self._vectors_changed()

    def vectors_for_all(self, keys: Iterable[Key], allow_inference: bool = True,
                        copy_vecattrs: bool = False) -> "KeyedVectors":
        """A new KeyedVectors with the vectors of the given keys that are present (duplicates
        dropped, order kept), as gensim's ``vectors_for_all``.

        Parameters
        ----------
        keys : iterable of str or int
        allow_inference : bool, default True
            Whether an int may stand for a row (``key in kv``) rather than only a key
            (``key in kv.key_to_index``); models with subword vectors also infer unseen words.
        copy_vecattrs : bool, default False
            Copy the attributes; otherwise ``count`` is set to descending dummy values, as gensim
            does.

        Returns
        -------
        KeyedVectors

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b"], [[1.0], [2.0]])
        >>> kv.vectors_for_all(["b", "zzz", "b"]).index_to_key
        ['b']
        """
        chosen, seen = [], set()
        for key in keys:
            if key in seen:
                continue
            seen.add(key)
            if (self.has_index_for(key) if allow_inference else key in self._index):
                chosen.append(key)
        rows = np.fromiter((self.get_index(k) for k in chosen), dtype=np.int64, count=len(chosen))
        vecattrs = {"count": np.arange(len(chosen), 0, -1, dtype=np.int64)}
        if copy_vecattrs:
            vecattrs.update({name: values[rows] for name, values in self._vecattrs.items()})
        kv = type(self).__new__(type(self))
        kv._set(list(chosen), np.ascontiguousarray(self._vectors[rows]), {k: i for i, k in enumerate(chosen)},
                vecattrs)
        return kv

    def add_lifecycle_event(self, event_name: str, log_level: int = logging.INFO, **event: Any) -> None:
        """Record what happened to these vectors (gensim's lifecycle log): the event, with its
        time, is appended to ``lifecycle_events`` and logged.

        Examples
        --------
        >>> kv = KeyedVectors(["a"], [[1.0]])
        >>> kv.add_lifecycle_event("created", msg="by hand")
        >>> kv.lifecycle_events[0]["event"]
        'created'
        """
        import datetime
        event = dict(event, datetime=datetime.datetime.now().isoformat(), event=event_name)
        logger.log(log_level, "%s lifecycle event %s", type(self).__name__, event)
        self.__dict__.setdefault("lifecycle_events", []).append(event)

    # ------------------------------------------------------------------------------ unit vectors
    def fill_norms(self, force: bool = False) -> None:
        """Compute the row norms and unit vectors if missing, or again when `force` is True.

        Call ``fill_norms(force=True)`` after changing ``kv.vectors`` in place with numpy.

        Parameters
        ----------
        force : bool, default False

        Examples
        --------
        >>> kv = KeyedVectors(["a"], [[3.0, 4.0]])
        >>> kv.vectors[0] = [0.0, 2.0]
        >>> kv.fill_norms(force=True)
        >>> kv.norms
        array([2.], dtype=float32)
        """
        if self._normed is not None and not force:
            return
        v = self._vectors
        norms = np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64))
        safe = np.where(norms > 0, norms, 1.0)
        self._normed = np.ascontiguousarray(v / safe[:, None], dtype=np.float32)
        self._norms = norms

    @property
    def norms(self) -> FloatArray:
        """ndarray, float32, shape (len(self),): the Euclidean norm of each row (cached; assign
        None to drop the cache, as gensim code does)."""
        self.fill_norms()
        assert self._norms is not None  # filled just above
        return self._norms.astype(np.float32)

    @norms.setter
    def norms(self, value: npt.ArrayLike | None) -> None:
        if value is not None:
            raise ValueError("norms can only be reset (kv.norms = None); they follow the vectors")
        self._vectors_changed()

    def get_normed_vectors(self) -> FloatArray:
        """The vectors scaled to unit length (rows of zero norm stay zero), computed once and cached.

        Returns
        -------
        ndarray, float32, shape (len(self), vector_size)

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[3.0, 4.0], [0.0, 0.0]]).get_normed_vectors()
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
        """
        self.fill_norms()
        assert self._normed is not None  # filled just above
        return self._normed

    def unit_normalize_all(self) -> None:
        """Scale every vector to unit length in place (zero rows stay zero); the raw vectors are
        lost, so a model cannot sensibly train on from them.

        Examples
        --------
        >>> kv = KeyedVectors(["a"], [[3.0, 4.0]])
        >>> kv.unit_normalize_all(); kv.vectors
        array([[0.6, 0.8]], dtype=float32)
        """
        v = self._vectors
        norms = np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64))
        v /= np.where(norms > 0, norms, 1.0)[:, None].astype(v.dtype)
        self._vectors_changed()

    def init_sims(self, replace: bool = False) -> None:
        """gensim's older name: ``fill_norms()``, and ``unit_normalize_all()`` when `replace`."""
        warnings.warn("init_sims() is deprecated (as in gensim): use fill_norms(), or unit_normalize_all() "
                      "for replace=True", DeprecationWarning, stacklevel=2)
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    def plot(self, words: Sequence[str], path: StrPath, neighbours: int = 0, method: str = "pca",
             title: str | None = None, fmt: str | None = None, seed: int = 0) -> tuple[list[Key], Float64Array]:
        """Draw a 2-D map of `words` (and each one's `neighbours` nearest keys) to an image file.

        PCA through embedcore's randomized SVD, or t-SNE with openTSNE; needs matplotlib (the
        ``plot`` extra). See :func:`embedcore.plot.plot_words` for the parameters.

        Returns
        -------
        list of str, ndarray (n, 2)
            The keys drawn and their coordinates.
        """
        from embedcore.plot import plot_words
        return plot_words(self, words, path, neighbours=neighbours, method=method, title=title, fmt=fmt, seed=seed)

    # ----------------------------------------------------------------------------- similarity
    def _search(self, query_vectors: FloatArray, topn: int | None, exclude_ids: Any = None, start: int = 0,
                stop: int | None = None, workers: int | None = None) -> Any:
        """Rows most cosine-similar to each unit-length query: the one search every query uses.

        The search is embedcore.cosine_topk's exact kernel over the cached unit vectors of rows
        ``[start, stop)``. The kernel leaves out one row per query; when a query excludes more,
        the others are fetched in extra and dropped here.

        Parameters
        ----------
        query_vectors : ndarray, float32, shape (nq, vector_size), rows of unit length (or zero)
        topn : int >= 1, or None for the full similarity matrix
        exclude_ids : list (one per query) of int sequences, rows never returned for that query
        start, stop : int, the rows searched
        workers : int or None, threads of the search

        Returns
        -------
        ndarray (nq, stop - start) of float32 similarities when `topn` is None; else a list with,
        per query, ``(ids int64, scores float32)`` sorted by descending score (ties by row), at
        most `topn`.
        """
        from embedcore.backends.cpu import topk as _topk_checked

        normed = self.get_normed_vectors()[start:stop]
        query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if topn is None:
            return query_vectors @ normed.T
        n, nq = len(normed), len(query_vectors)
        if nq == 1 and workers is None:
            return [self._search_one(query_vectors[0], normed, topn, exclude_ids, start)]
        excluded = [np.empty(0, np.int64)] * nq
        first = np.full(nq, -1, dtype=np.int64)
        extra = 0
        if exclude_ids is not None:
            for q, ids in enumerate(exclude_ids):
                if len(ids):
                    ids = np.unique(np.asarray(ids, dtype=np.int64)) - start
                    ids = ids[(ids >= 0) & (ids < n)]
                    excluded[q] = ids
                    if len(ids):
                        first[q] = ids[0]
                        extra = max(extra, len(ids) - 1)
        any_excluded = bool((first >= 0).any())
        k = min(topn + extra, n - (1 if any_excluded else 0))
        if k <= 0 or nq == 0:
            return [(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in range(nq)]
        scores, ids = _topk_checked(query_vectors, normed, k, first if any_excluded else None, True,
                                    effective_workers(workers))
        results = []
        for q in range(nq):
            row_ids, row_scores = ids[q], scores[q]
            if len(excluded[q]) > 1:
                keep = ~np.isin(row_ids, excluded[q])
                row_ids, row_scores = row_ids[keep], row_scores[keep]
            results.append((row_ids[:topn] + start, row_scores[:topn]))
        return results

    @staticmethod
    def _search_one(query: FloatArray, normed: FloatArray, topn: int, exclude_ids: Any,
                    start: int) -> tuple[Int64Array, FloatArray]:
        """One query (most_similar's usual case): a matrix-vector product with the BLAS's own
        threads, as gensim does; a single product is memory-bound, so the blocked multi-threaded
        kernel would only add its start-up cost and the BLAS thread switch. The answer is the
        kernel's, bit for bit: the few rows whose float32 score can reach the k-th best go
        through the kernel, which rescores them exactly and sorts them, ties by lower row. NaN
        is a ValueError."""
        from embedcore.backends.cpu import topk as _topk_checked

        scores = normed @ query
        if math.isnan(scores.max(initial=-np.inf)):  # NaN propagates through max: one pass, no copy
            raise ValueError("the vectors contain NaN or infinity (changed in place? see fill_norms)")
        n = len(scores)
        excluded = set() if exclude_ids is None else {i - start for i in exclude_ids[0] if 0 <= i - start < n}
        for i in excluded:
            scores[i] = -np.inf  # below every cosine, so never among the first n - len(excluded)
        k = min(topn, n - len(excluded))
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        # a float32 product of unit rows is within (d + 10) 2^-24 of the exact cosine (the
        # kernel's bound); every row of the exact top k scores at least kth - 2 * bound here
        bound = 2.0 * (len(query) + 10) * 2.0 ** -24
        kth = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= kth - 2.0 * bound)
        exact, rows = _topk_checked(query[None, :], normed[candidates], k, None, True, 1)
        return candidates[rows[0]] + start, exact[0]

    def _check_topn(self, topn: int | None) -> int | None:
        if topn is None:
            return None
        return check_int(topn, "topn", minimum=0)

    def _check_restrict(self, restrict_vocab: int | None) -> int | None:
        if restrict_vocab is None:
            return None
        return check_int(restrict_vocab, "restrict_vocab", minimum=1)

    def _as_query_vector(self, item: Key | npt.ArrayLike, name: str) -> Float64Array:
        vector = np.asarray(item, dtype=np.float64)
        if vector.shape != (self.vector_size,):
            raise ValueError(f"{name} must be a word or a vector of length {self.vector_size}, got "
                             f"{describe(vector)}")
        if not np.isfinite(vector).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return vector

    def _weighted_items(self, positive: Any, negative: Any) -> list[tuple[Any, float]]:
        """[(key or vector, weight)] from most_similar's arguments (gensim's rule: +1 for
        positive, -1 for negative, or the weight of an ``(item, weight)`` pair as given)."""
        items: list[tuple[Any, float]] = [(item, 1.0) for item in as_item_list(positive, "positive")]
        items += [(item, -1.0) for item in as_item_list(negative, "negative")]
        out: list[tuple[Any, float]] = []
        for item, weight in items:
            pair: Any = item
            if (isinstance(pair, tuple) and len(pair) == 2 and (_is_key(pair[0]) or isinstance(pair[0], np.ndarray))
                    and isinstance(pair[1], numbers.Real)):
                item, weight = pair[0], float(pair[1])
            elif not (_is_key(item) or isinstance(item, (np.ndarray, list))):
                raise TypeError(f"positive must be a word, a vector, or a list of words, vectors or (item, "
                                f"weight) pairs, got an item of type {type(item).__name__}")
            out.append((item, weight))
        return out

    @overload
    def most_similar(self, positive: QueryItems = None, negative: QueryItems = None, topn: int = 10,
                     clip_start: int = 0, clip_end: int | None = None, restrict_vocab: int | None = None,
                     indexer: None = None) -> list[tuple[Key, float]]: ...

    @overload
    def most_similar(self, positive: QueryItems = None, negative: QueryItems = None, *, topn: None,
                     clip_start: int = 0, clip_end: int | None = None, restrict_vocab: int | None = None,
                     indexer: None = None) -> FloatArray: ...

    @overload
    def most_similar(self, positive: QueryItems = None, negative: QueryItems = None, topn: int | None = 10,
                     clip_start: int = 0, clip_end: int | None = None, restrict_vocab: int | None = None,
                     indexer: Any = None) -> list[tuple[Key, float]] | FloatArray: ...

    def most_similar(self, positive: QueryItems = None, negative: QueryItems = None, topn: int | None = 10,
                     clip_start: int = 0, clip_end: int | None = None, restrict_vocab: int | None = None,
                     indexer: Any = None) -> list[tuple[Key, float]] | FloatArray:
        """The `topn` keys most cosine-similar to the weighted mean of the inputs (gensim's rule).

        Each input key contributes its unit vector with weight +1 (`positive`) or -1
        (`negative`); a vector input contributes itself as given; an ``(item, weight)`` pair sets
        the weight. The sum divided by the total absolute weight is normalised to unit length and
        compared with every key's unit vector; input keys are left out of the answer.

        Parameters
        ----------
        positive, negative : key, vector, 2-D array of vectors, or list of keys, vectors or
            (item, weight) pairs
        topn : int or None, default 10
            How many keys to return; None returns the similarity to every key searched (input
            keys included) as a float32 array, as gensim does; 0 returns [].
        clip_start, clip_end : int, optional
            Search only rows ``[clip_start, clip_end)``.
        restrict_vocab : int, optional
            Search only the first `restrict_vocab` keys (the most frequent, in a trained model);
            overrides `clip_start` and `clip_end`.
        indexer : object with ``most_similar(vector, topn)``, optional
            An approximate index to answer instead (gensim's ``indexer``), used when `topn` is an
            int.

        Returns
        -------
        list of (key, float)
            Keys with their cosine similarity, most similar first; a float32 array when
            `topn` is None.

        Raises
        ------
        KeyError
            An input key is not in the vocabulary.
        ValueError
            No input at all, a vector of the wrong length or with NaN, a negative `topn`.

        Examples
        --------
        >>> kv = KeyedVectors(["king", "man", "woman", "queen"],
        ...                   [[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]])
        >>> kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
        'queen'
        """
        topn = self._check_topn(topn)
        restrict_vocab = self._check_restrict(restrict_vocab)
        if topn == 0:
            return []
        if restrict_vocab is not None:
            start, stop = 0, restrict_vocab
        else:
            start = check_int(clip_start, "clip_start", minimum=0)
            stop = len(self) if not clip_end else check_int(clip_end, "clip_end", minimum=0)
        normed = self.get_normed_vectors()
        if negative is None and _is_key(positive):
            # one key, the usual call: what the loop below computes for it, in fewer steps
            i = self.get_index(positive)
            mean, exclude = normed[i].astype(np.float64), [i]
        else:
            items = self._weighted_items(positive, negative)
            if not items:
                raise ValueError("most_similar needs at least one word or vector in positive or negative")
            mean = np.zeros(self.vector_size, dtype=np.float64)
            total = 0.0
            exclude = []
            for item, weight in items:
                if _is_key(item):
                    i = self.get_index(item)
                    exclude.append(i)
                    mean += weight * normed[i]
                else:
                    mean += weight * self._as_query_vector(item, "positive/negative vector")
                total += abs(weight)
            if total > 0:
                mean /= total
        norm = math.sqrt(mean @ mean)
        if norm > 0:
            mean /= norm
        query = mean.astype(np.float32)[None, :]
        if indexer is not None and topn is not None:
            answer: list[tuple[Key, float]] = indexer.most_similar(query[0], topn)
            return answer
        if topn is None:
            every: FloatArray = self._search(query, None, start=start, stop=stop)[0]
            return every
        ids, scores = self._search(query, topn, [exclude], start, stop)[0]
        return [(self._words[i], float(s)) for i, s in zip(ids.tolist(), scores.tolist())]

    def most_similar_batch(self, queries: Sequence[Key] | Sequence[npt.ArrayLike] | npt.NDArray[Any], topn: int = 10,
                           restrict_vocab: int | None = None,
                           workers: int | None = None) -> list[list[tuple[Key, float]]]:
        """`most_similar` for many words or vectors at once, answered by one search.

        Parameters
        ----------
        queries : list of str, or array-like of shape (nq, vector_size)
            Words (each left out of its own answer, as in ``most_similar(word)``) or vectors
            (nothing left out).
        topn : int, default 10
        restrict_vocab : int, optional
            Search only the first `restrict_vocab` words.
        workers : int or None
            Threads (None: all cores).

        Returns
        -------
        list of list of (str, float)
            One answer per query, most similar first.

        Raises
        ------
        KeyError
            A word is not in the vocabulary.
        ValueError
            Vectors of the wrong width or with NaN, a negative `topn`.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> [answer[0][0] for answer in kv.most_similar_batch(["a", "c"], topn=1)]
        ['b', 'b']
        """
        topn = check_int(topn, "topn", minimum=0)
        restrict_vocab = self._check_restrict(restrict_vocab)
        if isinstance(queries, str):
            raise TypeError("queries must be a list of words or a 2-D array of vectors, got a str; "
                            "use most_similar(word) for one word")
        if isinstance(queries, np.ndarray) and queries.dtype.kind in "fiu" or (
                not isinstance(queries, np.ndarray) and len(queries) and not _is_key(queries[0])):
            vectors = as_float32_matrix(cast(npt.ArrayLike, queries), "queries")
            if vectors.shape[1] != self.vector_size:
                raise ValueError(f"queries must have {self.vector_size} columns (the vector size), got "
                                 f"{describe(vectors)}")
            norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
            unit = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
            exclude = None
        else:
            ids = [self.get_index(word) for word in cast(Sequence[Key], queries)]
            # renormalised in float64 exactly as most_similar(word) builds its query
            unit = self.get_normed_vectors()[np.asarray(ids, dtype=np.int64)].astype(np.float64)
            norms = np.linalg.norm(unit, axis=1, keepdims=True)
            unit = (unit / np.where(norms > 0, norms, 1.0)).astype(np.float32)
            exclude = [[i] for i in ids]
        if topn == 0 or len(unit) == 0:
            return [[] for _ in range(len(unit))]
        found = self._search(unit, topn, exclude, 0, restrict_vocab, workers)
        words = self._words
        return [[(words[i], float(x)) for i, x in zip(ids.tolist(), scores.tolist())] for ids, scores in found]

    def similar_by_vector(self, vector: npt.ArrayLike, topn: int = 10,
                          restrict_vocab: int | None = None) -> list[tuple[Key, float]]:
        """The `topn` keys most cosine-similar to `vector` (no key is excluded).

        Parameters
        ----------
        vector : array-like, shape (vector_size,)
        topn : int or None, default 10
        restrict_vocab : int, optional

        Returns
        -------
        list of (str, float)

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).similar_by_vector([0.0, 2.0], topn=1)
        [('b', 1.0)]
        """
        vector = self._as_query_vector(vector, "vector")
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_key(self, key: Key, topn: int = 10, restrict_vocab: int | None = None) -> list[tuple[Key, float]]:
        """Same as ``most_similar(key, topn=topn)``.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [1.0, 1.0]]).similar_by_key("a")[0][0]
        'b'
        """
        if not _is_key(key):
            raise TypeError(f"key must be a str or an int, got {type(key).__name__}")
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word: Key, topn: int = 10,
                        restrict_vocab: int | None = None) -> list[tuple[Key, float]]:
        """Same as ``most_similar(word, topn=topn)`` (gensim's older name of :meth:`similar_by_key`).

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [1.0, 1.0]]).similar_by_word("a")[0][0]
        'b'
        """
        return self.similar_by_key(word, topn, restrict_vocab)

    @overload
    def most_similar_cosmul(self, positive: QueryItems = None, negative: QueryItems = None, topn: int = 10,
                            restrict_vocab: int | None = None) -> list[tuple[Key, float]]: ...

    @overload
    def most_similar_cosmul(self, positive: QueryItems = None, negative: QueryItems = None, *, topn: None,
                            restrict_vocab: int | None = None) -> Float64Array: ...

    def most_similar_cosmul(self, positive: QueryItems = None, negative: QueryItems = None, topn: int | None = 10,
                            restrict_vocab: int | None = None) -> list[tuple[Key, float]] | Float64Array:
        """The `topn` keys by 3CosMul (Levy and Goldberg 2014), as gensim's ``most_similar_cosmul``.

        Each candidate x scores ``prod_p cos'(x, p) / (prod_n cos'(x, n) + 1e-6)`` with
        ``cos'(x, y) = (1 + x.y / |x|) / 2``, where a key stands for its unit vector and a vector
        input is used as given (as gensim does; pass unit vectors for cosines). Input keys are
        left out of the answer.

        Parameters
        ----------
        positive, negative : key, vector, or list of them
        topn : int or None, default 10
            None returns every score as an array.
        restrict_vocab : int, optional
            Score only the first `restrict_vocab` keys (gensim accepts and ignores it).

        Returns
        -------
        list of (key, float), or ndarray when `topn` is None

        Raises
        ------
        ValueError
            No positive input.
        KeyError
            An unknown key.

        Examples
        --------
        >>> kv = KeyedVectors(["king", "man", "woman", "queen"],
        ...                   [[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]])
        >>> kv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
        'queen'
        """
        topn = self._check_topn(topn)
        restrict_vocab = self._check_restrict(restrict_vocab)
        if topn == 0:
            return []
        terms, exclude = [], set()
        for items, name in ((positive, "positive"), (negative, "negative")):
            vectors = []
            for item in as_item_list(items, name):
                if _is_key(item):
                    row = self.get_index(item)
                    exclude.add(row)
                    vectors.append(self.get_normed_vectors()[row].astype(np.float64))
                else:
                    vectors.append(self._as_query_vector(item, f"{name} vector"))
            terms.append(vectors)
        if not terms[0]:
            raise ValueError("cannot compute similarity with no input: positive is empty")
        normed = self.get_normed_vectors()[:restrict_vocab]
        # cosines by one float32 product per side (as gensim), combined in float64
        pos = (1.0 + (normed @ np.array(terms[0], dtype=np.float32).T).astype(np.float64)) / 2.0
        scores = np.prod(pos, axis=1)
        if terms[1]:
            neg = (1.0 + (normed @ np.array(terms[1], dtype=np.float32).T).astype(np.float64)) / 2.0
            scores = scores / (np.prod(neg, axis=1) + 1e-6)
        else:
            scores = scores / (1.0 + 1e-6)
        if topn is None:
            all_scores: Float64Array = scores
            return all_scores
        best = _top_indices(scores, topn + len(exclude))
        return [(self._words[i], float(scores[i])) for i in best.tolist() if i not in exclude][:topn]

    def similarity(self, w1: Key, w2: Key) -> float:
        """Cosine similarity of two keys (0 when either vector is zero; exactly 1 for a key with
        itself).

        Parameters
        ----------
        w1, w2 : str or int

        Returns
        -------
        float

        Raises
        ------
        KeyError
            A key is not in the vocabulary.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [1.0, 1.0]]).similarity("a", "b")  # doctest: +ELLIPSIS
        0.7071...
        """
        return _cosine(self._vectors[self.get_index(w1)], self._vectors[self.get_index(w2)])

    def distance(self, w1: Key, w2: Key) -> float:
        """Cosine distance ``1 - similarity(w1, w2)`` (0 for a key with itself).

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).distance("a", "b")
        1.0
        """
        return 1.0 - self.similarity(w1, w2)

    @staticmethod
    def cosine_similarities(vector_1: npt.ArrayLike, vectors_all: npt.ArrayLike) -> Float64Array:
        """Cosine similarity of `vector_1` with each row of `vectors_all` (computed in float64;
        rows of zero norm score 0).

        Parameters
        ----------
        vector_1 : array-like, shape (dim,)
        vectors_all : array-like, shape (n, dim)

        Returns
        -------
        ndarray, float64, shape (n,)

        Examples
        --------
        >>> KeyedVectors.cosine_similarities([1.0, 0.0], [[2.0, 0.0], [0.0, 3.0]])
        array([1., 0.])
        """
        v = np.asarray(vector_1, dtype=np.float64)
        all_ = np.asarray(vectors_all, dtype=np.float64)
        if v.ndim != 1 or all_.ndim != 2 or all_.shape[1] != v.shape[0]:
            raise ValueError(f"vector_1 must be 1-D and vectors_all 2-D with as many columns, got "
                             f"{describe(v)} and {describe(all_)}")
        denominator = np.linalg.norm(all_, axis=1) * np.linalg.norm(v)
        cosines: Float64Array = np.divide(all_ @ v, denominator, out=np.zeros(len(all_)), where=denominator > 0)
        return cosines

    def distances(self, word_or_vector: Key | npt.ArrayLike, other_words: Iterable[Key] = ()) -> Float64Array:
        """Cosine distances from a key or vector to each of `other_words` (to every key when
        empty, itself included).

        Parameters
        ----------
        word_or_vector : str, int or array-like
        other_words : iterable of keys, optional

        Returns
        -------
        ndarray, float64

        Raises
        ------
        KeyError
            An unknown key.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).distances("a")
        array([0., 1.])
        """
        if _is_key(word_or_vector):
            vector = self._vectors[self.get_index(word_or_vector)]
        else:
            vector = self._as_query_vector(word_or_vector, "word_or_vector")
        other_words = list(other_words) if other_words is not None else []
        others = self._vectors if not other_words else self._vectors[[self.get_index(w) for w in other_words]]
        return 1.0 - self.cosine_similarities(vector, others)

    def n_similarity(self, ws1: Iterable[Key], ws2: Iterable[Key]) -> float:
        """Cosine similarity between the means of the vectors of two key lists (gensim's rule:
        the mean of the raw vectors, not of unit vectors).

        Parameters
        ----------
        ws1, ws2 : list of keys, each non-empty

        Returns
        -------
        float

        Raises
        ------
        KeyError
            A key is not in the vocabulary.
        ValueError
            A list is empty (also a ZeroDivisionError, which gensim raises).

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> round(kv.n_similarity(["a", "b"], ["c"]), 6)
        1.0
        """
        means = []
        for name, keys in (("ws1", ws1), ("ws2", ws2)):
            if isinstance(keys, str):
                raise TypeError(f"{name} must be a list of keys, got a str")
            keys = list(keys)
            if not keys:
                raise _EmptyWordListError(f"{name} must hold at least one key, got an empty list")
            means.append(self._vectors[[self.get_index(k) for k in keys]].astype(np.float64).mean(axis=0))
        return _cosine(means[0], means[1])

    def closer_than(self, key1: Key, key2: Key) -> list[Key]:
        """The keys closer to `key1` than `key2` is (by cosine distance), `key1` left out.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> kv.closer_than("a", "c")
        ['b']
        """
        distances = self.distances(key1)
        i, j = self.get_index(key1), self.get_index(key2)
        return [self._words[r] for r in np.flatnonzero(distances < distances[j]).tolist() if r != i]

    def words_closer_than(self, word1: Key, word2: Key) -> list[Key]:
        """gensim's older name of :meth:`closer_than`."""
        return self.closer_than(word1, word2)

    def rank(self, key1: Key, key2: Key) -> int:
        """1 + the number of keys closer to `key1` than `key2` is.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> kv.rank("a", "b"), kv.rank("a", "c")
        (1, 2)
        """
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1: Key, keys_list: Sequence[_K]) -> _K:
        """The key of `keys_list` most similar to `key1` (the first among equals).

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> kv.most_similar_to_given("a", ["c", "b"])
        'b'
        """
        keys_list = list(keys_list)
        if not keys_list:
            raise ValueError("keys_list must hold at least one key")
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def relative_cosine_similarity(self, wa: Key, wb: Key, topn: int = 10) -> float:
        """similarity(wa, wb) divided by the summed similarity of wa's `topn` nearest keys
        (Leeuwenberg et al. 2016, equation 1).

        Raises
        ------
        ValueError
            `wa` has no neighbours (a one-key vocabulary, or ``topn=0``).

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> kv.relative_cosine_similarity("a", "b", topn=2)
        1.0
        """
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise ValueError("cannot calculate relative cosine similarity without any similar words")
        return self.similarity(wa, wb) / sum(sim for _, sim in sims)

    def rank_by_centrality(self, words: Sequence[Key], use_norm: bool = True) -> list[tuple[float, Key]]:
        """The keys present in `words`, most similar to their (unit) centroid first.

        Parameters
        ----------
        words : list of keys
            Unknown keys are left out (with a warning in the log).
        use_norm : bool, default True
            Use unit vectors for the centroid.

        Returns
        -------
        list of (float, key)

        Raises
        ------
        ValueError
            None of `words` is present.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> [w for _, w in kv.rank_by_centrality(["a", "b", "c"])]
        ['b', 'a', 'c']
        """
        used = [w for w in words if w in self]
        if len(used) != len(words):
            logger.warning("vectors for words %s are not present in the model, ignoring these words",
                           set(words) - set(used))
        if not used:
            raise ValueError("cannot select a word from an empty list: none of the words is present")
        vectors = np.vstack([self.get_vector(w, norm=use_norm) for w in used]).astype(np.float64)
        mean = vectors.mean(axis=0)
        length = np.linalg.norm(mean)
        if length > 0:
            mean /= length
        scores = vectors @ mean
        return sorted(zip(scores.tolist(), used), key=lambda pair: pair[0], reverse=True)

    def doesnt_match(self, words: Sequence[Key]) -> Key:
        """The key of `words` farthest from the centroid of them all.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
        >>> kv.doesnt_match(["a", "b", "c"])
        'c'
        """
        return self.rank_by_centrality(words)[-1][1]

    def wmdistance(self, document1: Sequence[Key], document2: Sequence[Key], norm: bool = True) -> float:
        """Word Mover's Distance between two documents (Kusner et al. 2015), solved by the POT
        package (``pip install POT``), as gensim's.

        Out-of-vocabulary words are dropped; a document left empty gives ``inf``; the ground
        distance is the Euclidean distance between (unit, when `norm`) vectors.

        Parameters
        ----------
        document1, document2 : list of str
        norm : bool, default True

        Returns
        -------
        float

        Raises
        ------
        ImportError
            POT is not installed.
        """
        from ot import emd2
        from scipy.spatial.distance import cdist

        document1 = [w for w in document1 if w in self]
        document2 = [w for w in document2 if w in self]
        if not document1 or not document2:
            logger.warning("At least one of the documents had no words that were in the vocabulary.")
            return float("inf")
        vocabulary = sorted(set(document1) | set(document2), key=str)
        if len(vocabulary) == 1:
            return 0.0
        position = {w: i for i, w in enumerate(vocabulary)}
        vectors = np.array([self.get_vector(w, norm=norm) for w in vocabulary], dtype=np.float64)
        first, second = sorted(set(document1), key=str), sorted(set(document2), key=str)
        distance = np.zeros((len(vocabulary), len(vocabulary)))
        rows, cols = [position[w] for w in first], [position[w] for w in second]
        distance[np.ix_(rows, cols)] = cdist(vectors[rows], vectors[cols])
        if abs(distance.sum()) < 1e-8:  # emd gets stuck on an all-zero cost matrix (gensim's guard)
            logger.info("The distance matrix is all zeros. Aborting (returning inf).")
            return float("inf")

        def frequencies(document: Sequence[Key]) -> Float64Array:
            d = np.zeros(len(vocabulary))
            for w in document:
                d[position[w]] += 1.0
            return d / len(document)

        return float(emd2(frequencies(document1), frequencies(document2), distance))

    # ------------------------------------------------------------------------------- evaluation
    def evaluate_word_analogies(self, analogies: StrPath, restrict_vocab: int = 300000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, similarity_function: str = "most_similar", *,
                                method: str = "3cosadd",
                                workers: int | None = None) -> tuple[float, list[dict[str, Any]]]:
        """Analogy accuracy on a Google-format file, scored as gensim scores it.

        See :func:`embedcore.evaluate.evaluate_word_analogies` (all questions are solved as one
        batch through the exact top-k kernel).

        Parameters
        ----------
        analogies : str or os.PathLike
        restrict_vocab : int, default 300000
            Questions with a word outside the first `restrict_vocab` keys are skipped (gensim's
            default).
        case_insensitive : bool, default True
        dummy4unknown : bool, default False
        similarity_function : str, default "most_similar"
            gensim's argument. gensim 4.4 accepts it and always scores with 3CosAdd; so do we,
            for identical numbers, and warn when it is not "most_similar": choose 3CosMul with
            ``method="3cosmul"``.
        method : {"3cosadd", "3cosmul"}, keyword only
        workers : int or None, keyword only

        Returns
        -------
        (float, list of dict)
            Overall accuracy, and per section ``{"section", "correct", "incorrect"}`` with the
            ``"Total accuracy"`` entry last.

        Examples
        --------
        >>> accuracy, sections = kv.evaluate_word_analogies("questions-words.txt")  # doctest: +SKIP
        """
        from embedcore.evaluate import evaluate_word_analogies
        if similarity_function != "most_similar":
            warnings.warn(f"similarity_function={similarity_function!r} is accepted for gensim's signature, and "
                          f"like gensim 4.4 the questions are still answered with 3CosAdd; pass "
                          f"method='3cosmul' for 3CosMul", UserWarning, stacklevel=2)
        return evaluate_word_analogies(self._words, self._vectors, analogies, restrict_vocab=restrict_vocab,
                                       method=method, case_insensitive=case_insensitive,
                                       dummy4unknown=dummy4unknown, workers=workers)

    def evaluate_word_pairs(self, pairs: StrPath, delimiter: str | None = None, encoding: str = "utf8",
                            restrict_vocab: int = 300000, case_insensitive: bool = True,
                            dummy4unknown: bool = False) -> tuple[Any, Any, float]:
        """Pearson and Spearman correlation of cosine similarities with human scores.

        See :func:`embedcore.evaluate.evaluate_word_pairs`.

        Parameters
        ----------
        pairs : str or os.PathLike
            ``word1 word2 score`` lines (tab or space separated; ``#`` lines skipped).
        delimiter : str or None
            None: a tab when the line has one, else whitespace (gensim's default is a tab).
        encoding : str, default "utf8"
        restrict_vocab : int, default 300000
        case_insensitive : bool, default True
        dummy4unknown : bool, default False

        Returns
        -------
        (pearson, spearman, oov_ratio)
            scipy's results ((statistic, pvalue) each) and the percentage of pairs with unknown words.

        Examples
        --------
        >>> pearson, spearman, oov = kv.evaluate_word_pairs("wordsim353.tsv")  # doctest: +SKIP
        """
        from embedcore.evaluate import evaluate_word_pairs
        return evaluate_word_pairs(self._words, self._vectors, pairs, delimiter=delimiter,
                                   restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
                                   dummy4unknown=dummy4unknown, encoding=encoding)

    # ------------------------------------------------------------------------------------- files
    def _storage_order(self, sort_attr: str | None, fvocab: StrPath | None) -> Int64Array:
        """Rows in the order gensim writes them: a leading run of int keys 0, 1, ... first, then
        by descending `sort_attr` (stable) when the attribute exists, else in row order. (gensim
        writes the leading run a second time among the others; each key is written once here.)"""
        n = len(self._words)
        leading = 0
        while leading < n and _is_int_key(self._words[leading]) and self._words[leading] == leading:
            leading += 1
        if sort_attr in self._vecattrs:
            values = np.asarray(self._vecattrs[sort_attr])[leading:].astype(np.float64)
            return np.concatenate([np.arange(leading), leading + np.argsort(-values, kind="stable")])
        if fvocab is not None:
            raise ValueError(f"cannot store vocabulary with {sort_attr!r} because that attribute does not exist")
        return np.arange(n)

    def save_word2vec_format(self, fname: StrPath, fvocab: StrPath | None = None, binary: bool = False,
                             total_vec: int | None = None, write_header: bool = True, prefix: str = "",
                             append: bool = False, sort_attr: str | None = "count", *, progress: bool = False) -> None:
        """Write the vectors in word2vec.c's text or binary format (gensim's signature).

        Text: a ``"count dimension"`` header line, then ``word v1 ... vd`` per line, each value
        the shortest decimal that reads back as the same float32 (float64 vectors: the same
        float64), so a round trip is exact. Binary: the same header, then per word its UTF-8
        bytes, a space, the little-endian float32 values and a newline, as word2vec.c writes. A
        path ending in ``.gz`` or ``.bz2`` is compressed. The file is replaced atomically
        (:func:`embedcore._io.atomic_write`): on any error, Ctrl-C or SIGTERM an existing file at
        `fname` is left untouched and no temporary file remains; a replaced file keeps its
        permissions and group, and a symlink is written through.

        Rows are written as gensim orders them: by descending `sort_attr` (``count``: most
        frequent first; stable, so vectors loaded from a file keep their order) when that
        attribute exists, else in row order.

        Parameters
        ----------
        fname : str or os.PathLike
        fvocab : str or os.PathLike, optional
            Also write ``word count`` lines (the `sort_attr` values) here.
        binary : bool, default False
        total_vec : int, optional
            The count written in the header (default: the number of keys).
        write_header : bool, default True
            False writes GloVe's header-less text.
        prefix : str, default ""
            Prepended to every word.
        append : bool, default False
            Add to the end of `fname` (and `fvocab`) instead of replacing it.
        sort_attr : str, default "count"
        progress : bool, default False, keyword only
            Show a progress bar (or log lines) while writing.

        Raises
        ------
        ValueError
            `binary` with ``write_header=False`` (the binary format needs its header); `fvocab`
            without the `sort_attr` attribute; a key the format cannot hold (a prefixed word with
            whitespace, an unfilled preallocated slot).
        OSError
            The file cannot be written.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(["a", "b"], [[0.5, -1.0], [2.0, 0.25]])
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
        >>> kv.save_word2vec_format(path)
        >>> open(path).read()
        '2 2\\na 0.5 -1\\nb 2 0.25\\n'
        """
        path = check_path(fname, "fname")
        if fvocab is not None:
            fvocab = check_path(fvocab, "fvocab")
        for name, value in (("binary", binary), ("write_header", write_header), ("append", append)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
        if binary and not write_header:
            raise ValueError("write_header=False is only possible for text (binary=False): the binary "
                             "format needs the header to know the dimension")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
        if total_vec is not None:
            total_vec = check_int(total_vec, "total_vec", minimum=0)
        if None in self._words:
            slot = self._words.index(None)
            raise ValueError(f"row {slot} was preallocated but never filled (add_vector); it has no key to save")
        order = self._storage_order(sort_attr, fvocab)
        words = [f"{prefix}{self._words[i]}" for i in order.tolist()]
        bad = first_bad_word(words)
        if bad is not None:
            raise ValueError(f"the word of row {int(order[bad[0]])} {bad[1]}; {RULE}")
        in_order = bool((order == np.arange(len(order))).all())
        vectors = self._vectors if in_order else self._vectors[order]
        if fvocab is not None:
            logger.info("storing vocabulary in %s", fvocab)
            _word2vec_format.write_counts(fvocab, words, self._vecattrs[cast(str, sort_attr)][order].tolist(), append)
        _word2vec_format.write(path, words, vectors, binary, write_header, progress, total_vec, append)

    @classmethod
    def load_word2vec_format(cls, fname: StrPath, fvocab: StrPath | None = None, binary: bool = False,
                             encoding: str = "utf8", unicode_errors: str = "strict", limit: int | None = None,
                             datatype: npt.DTypeLike = REAL, no_header: bool = False, *, errors: str | None = None,
                             progress: bool = False, workers: int | None = None) -> "Self":
        """Read vectors in word2vec.c's text or binary format, or GloVe's header-less text
        (gensim's signature and positional order).

        Compressed files (gzip, bz2: recognised by their content, then by a ``.gz`` or ``.bz2``
        name) are read transparently; the path is opened once, so a named pipe reads. Parsing is
        done in C++ in chunks, so memory is the vectors plus one chunk. Text fields may be
        separated by spaces or tabs, and lines may end in ``\\r\\n``; binary records may or may
        not end in a newline (word2vec.c writes one, gensim does not).

        Parameters
        ----------
        fname : str or os.PathLike
        fvocab : str or os.PathLike, optional
            A ``word count`` file (word2vec.c's ``-save-vocab``, gensim's `fvocab`): the counts
            become the ``count`` attribute. Without it, ``count`` holds descending dummy values,
            as in gensim.
        binary : bool, default False
        encoding : str, default "utf8"
            The encoding of the words (one in which byte 0x0A is the newline).
        unicode_errors : {"strict", "replace", "ignore"}, default "strict"
            What to do with words that are not valid in `encoding`: raise
            :class:`VectorFileDecodeError` (a UnicodeDecodeError), substitute U+FFFD, or drop the
            bad bytes.
        limit : int, optional
            Read only the first `limit` vectors.
        datatype : float16, float32 or float64, default float32
            The dtype of the vectors. Text values are rounded once from their decimal form.
        no_header : bool, default False
            The text file has no ``"count dimension"`` line (GloVe); the dimension is taken from
            the first line. Only for text.
        errors : str, optional, keyword only
            embedcore's earlier name of `unicode_errors`.
        progress : bool, default False, keyword only
            Show a progress bar (or log lines) while reading.
        workers : int, optional, keyword only
            Threads that parse text numbers (None: all usable cores; the result does not depend
            on it). Binary files are copied, not parsed, and use one thread.

        Returns
        -------
        KeyedVectors

        Raises
        ------
        VectorFileError
            (a ValueError) The file is corrupt: a header that is not two counts or disagrees with
            the body, a row with the wrong number of values, a value that is not a number or is
            NaN/infinite, a truncated binary record, an invalid word. The message names the path
            and the line (text) or byte offset (binary). A word that occurs twice is refused
            too, naming both places (gensim logs a warning and keeps the first: the two rows
            disagree, and we do not drop either silently).
        TruncatedVectorFileError
            (a VectorFileError and an EOFError, as gensim raises) The file ends before the
            vectors its header announces.
        VectorFileDecodeError
            (a VectorFileError and a UnicodeDecodeError, as gensim raises) A word is not valid
            in `encoding` with ``unicode_errors="strict"``.
        FileNotFoundError
            No file at `fname`.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "glove.txt")
        >>> _ = open(path, "w").write("the 0.1 0.2\\nof 0.3 0.4\\n")
        >>> kv = KeyedVectors.load_word2vec_format(path, no_header=True)
        >>> kv.words, kv.vector_size
        (['the', 'of'], 2)
        """
        path = check_path(fname, "fname")
        if fvocab is not None:
            fvocab = check_path(fvocab, "fvocab")
        for name, value in (("binary", binary), ("no_header", no_header)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
        if errors is not None:
            if unicode_errors != "strict" and unicode_errors != errors:
                raise TypeError("give unicode_errors or its older name errors, not both")
            unicode_errors = check_choice(errors, "errors", _UNICODE_ERRORS)
        check_choice(unicode_errors, "unicode_errors", _UNICODE_ERRORS)
        if not isinstance(encoding, str):
            raise TypeError(f"encoding must be a str, got {type(encoding).__name__}")
        "\n".encode(encoding)  # LookupError for an unknown encoding, before the file is read
        datatype = cls._check_dtype(datatype)
        if limit is not None:
            limit = check_int(limit, "limit", minimum=1)
        if binary and no_header:
            raise ValueError("no_header=True is only possible for text (binary=False): the binary "
                             "format always has a header")
        threads = effective_workers(workers)
        words, vectors, index = _word2vec_format.read(path, binary, no_header, unicode_errors, limit, progress,
                                                      threads, encoding, datatype)
        if fvocab is not None:
            counts = _word2vec_format.read_counts(fvocab, unicode_errors, encoding)
            missing = [w for w in words if w not in counts]
            if missing:
                logger.warning("vocabulary file %s is incomplete: %d words are missing (%r ...); their count is 0",
                               fvocab, len(missing), missing[:3])
            count = np.fromiter((counts.get(w, 0) for w in words), dtype=np.int64, count=len(words))
        else:  # gensim's dummy counts: descending, so that sorting by count keeps the file's order
            count = np.arange(len(words), 0, -1, dtype=np.int64)
        kv = cls.__new__(cls)
        kv._set(words, vectors, index, {"count": count})
        return kv

    def intersect_word2vec_format(self, fname: StrPath, lockf: float = 0.0, binary: bool = False,
                                  encoding: str = "utf8", unicode_errors: str = "strict") -> int:
        """Take the vectors of a word2vec file for the keys present here (no key is added).

        Parameters
        ----------
        fname : str or os.PathLike
        lockf : float, default 0.0
            gensim's lock factor for later training; accepted for its signature (embedcore's
            models do not train from an existing KeyedVectors, so there is nothing to lock).
        binary, encoding, unicode_errors
            As in :meth:`load_word2vec_format`.

        Returns
        -------
        int
            The number of vectors taken.

        Raises
        ------
        ValueError
            The file's dimension differs from `vector_size`.
        """
        other = type(self).load_word2vec_format(fname, binary=binary, encoding=encoding,
                                                unicode_errors=unicode_errors)
        if other.vector_size != self.vector_size:
            raise ValueError(f"incompatible vector size {other.vector_size} in file {fname} "
                             f"(these vectors have {self.vector_size})")
        pairs = [(self._index[w], i) for i, w in enumerate(other.words) if w in self._index]
        if pairs:
            mine, theirs = (np.array(side, dtype=np.int64) for side in zip(*pairs))
            self._vectors[mine] = other.vectors[theirs]
            self._vectors_changed()
        logger.info("merged %d vectors into %s matrix from %s", len(pairs), self._vectors.shape, fname)
        return len(pairs)

    def save(self, fname: StrPath, separately: object = None, sep_limit: object = None,
             ignore: "frozenset[str] | set[str]" = frozenset(), pickle_protocol: object = None) -> None:
        """Save in embedcore's format: JSON metadata at `fname`, the vectors in
        ``fname.vectors.npy`` (memory-mappable by :meth:`load`) and the per-key attributes in
        ``fname.vecattrs.npz`` (see :mod:`embedcore.formats.native`); the three files are
        replaced together, atomically. Nothing is pickled.

        Parameters
        ----------
        fname : str or os.PathLike
        separately, sep_limit, ignore, pickle_protocol
            gensim's pickle options, accepted for its signature and unused (the arrays always go
            to their own files).

        Raises
        ------
        TypeError
            An attribute holds Python objects (only numbers can be saved).

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.kv")
        >>> KeyedVectors(["a", "b"], [[1.0, 2.0], [3.0, 4.0]]).save(path)
        >>> KeyedVectors.load(path, mmap="r")["b"]
        memmap([3., 4.], dtype=float32)
        """
        path = check_path(fname, "fname")
        _native_format.save(path, self._words, self._vectors, self._vecattrs, self.next_index)

    @classmethod
    def load(cls, fname: StrPath, mmap: str | None = None) -> "Self":
        """Load what :meth:`save` wrote, or a gensim save (``KeyedVectors.save`` or a model's
        ``.save``: its ``.wv``) when gensim is installed.

        gensim's saves are pickles, which can run code as they load: load only files you trust,
        as with gensim itself. Ours are JSON and ``.npy``/``.npz`` files read without pickle.

        Parameters
        ----------
        fname : str or os.PathLike
        mmap : {None, "r", "r+", "c"}
            Memory-map the vectors instead of reading them ("r": read-only).

        Returns
        -------
        KeyedVectors

        Raises
        ------
        FileNotFoundError
            No file at `fname`, or a part of the save is missing.
        VectorFileError
            The file is neither a save of ours nor a gensim save, or a gensim save holds a key our
            formats cannot hold (a word with ASCII whitespace, or a repeated key).
        ImportError
            A gensim save, but gensim is not installed.
        """
        path = check_path(fname, "fname")
        check_choice(mmap, "mmap", _native_format.MMAP_MODES)
        with open(path, "rb") as f:
            head = f.read(64)
        if _native_format.looks_like_ours(head):
            keys, vectors, vecattrs, next_index = _native_format.load(path, mmap)
        elif _gensim_native.looks_like_gensim(head):
            keys, vectors, vecattrs, next_index = _gensim_native.load(path, mmap)
        else:
            raise VectorFileError(f"{path}: neither a KeyedVectors save of embedcore (JSON) nor a gensim save "
                                  f"(a pickle); for word2vec files use load_word2vec_format")
        return cls._from_parts(keys, vectors, vecattrs, next_index, source=os.fspath(path))


def load_word2vec_format(*args: Any, **kwargs: Any) -> KeyedVectors:
    """Same as :meth:`KeyedVectors.load_word2vec_format` (gensim's module-level alias)."""
    return KeyedVectors.load_word2vec_format(*args, **kwargs)


def _load_word2vec_format(cls: type[KeyedVectors], fname: StrPath, fvocab: StrPath | None = None, binary: bool = False,
                          encoding: str = "utf8", unicode_errors: str = "strict", limit: int | None = None,
                          datatype: npt.DTypeLike = REAL, no_header: bool = False,
                          binary_chunk_size: int | None = None) -> KeyedVectors:
    """gensim's internal reader function, for code that calls it directly; `binary_chunk_size` is
    accepted and unused (the reader's chunks are its own)."""
    return cls.load_word2vec_format(fname, fvocab, binary, encoding, unicode_errors, limit, datatype, no_header)


def pseudorandom_weak_vector(size: int, seed_string: str | None = None,
                             hashfxn: Callable[[Any], int] = hash) -> FloatArray:
    """A small random vector, uniform in [-0.5, 0.5) / size, from `seed_string` when given
    (gensim's helper for initialising vectors).

    Examples
    --------
    >>> pseudorandom_weak_vector(4, "seed").shape
    (4,)
    """
    size = check_int(size, "size", minimum=1)
    if seed_string:
        rng = np.random.Generator(np.random.SFC64(hashfxn(seed_string) & 0xFFFFFFFF))
    else:
        rng = np.random.default_rng()
    return cast(FloatArray, (rng.random(size).astype(REAL) - 0.5) / size)  # float32: python scalars are weak
