"""Type aliases shared by the annotations of the public modules (numpy's types via numpy.typing).

Only for annotations: nothing here is checked at run time (the functions validate their inputs
themselves and raise errors that name the argument).
"""
import os
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Protocol, TypedDict, Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
"""float32 array: vectors, scores, co-occurrence values."""
Float64Array = npt.NDArray[np.float64]
"""float64 array: sums and statistics kept in double precision."""
Int32Array = npt.NDArray[np.int32]
"""int32 array: token ids, CSR column indices."""
Int64Array = npt.NDArray[np.int64]
"""int64 array: counts, offsets, CSR ``indptr``, result row indices."""
IntArray = npt.NDArray[np.integer[Any]]
"""integer array of any width."""
AnyArray = npt.NDArray[Any]
"""numpy array of any dtype."""
RealArray = npt.NDArray[np.floating[Any]]
"""floating-point array of any width (KeyedVectors may hold float16, float32 or float64)."""

SparseMatrix = Any
"""A scipy.sparse matrix or array (scipy ships no type information, so to mypy this is Any)."""
MatrixLike = Any
"""A matrix in any form a function converts: scipy.sparse, a dense array-like, or on a GPU a CuPy
array or cupyx.scipy.sparse matrix (no type information either: Any to mypy)."""

Key = Union[str, int]
"""A KeyedVectors key: a str (a word) or an int (as in gensim)."""

StrPath = Union[str, "os.PathLike[str]"]
"""A file system path: str or os.PathLike."""
Sentences = Iterable[Sequence[str]]
"""Sentences in memory: an iterable of token lists."""
Source = Union[StrPath, Sequence[StrPath], Sentences]
"""A corpus source: a text file, a list of text files, or an iterable of token lists."""


class EpochEndCallback(Protocol):
    """gensim's callback style: an object whose ``on_epoch_end(model)`` runs after each epoch."""

    def on_epoch_end(self, model: Any, /) -> object: ...


Callback = Union[Callable[[Any, int], object], EpochEndCallback]
"""An epoch callback: a callable ``f(model, epoch)`` or an object with ``on_epoch_end(model)``."""

class BuildInfo(TypedDict):
    """What ``embedcore.build_info()`` returns."""

    version: str
    openmp: bool
    simd: str
    simd_kernels: dict[str, str]
    cuda: bool
    max_threads: int


__all__ = ["AnyArray", "BuildInfo", "Callback", "EpochEndCallback", "Float64Array", "FloatArray",
           "Int32Array", "Int64Array", "IntArray", "Key", "MatrixLike", "RealArray", "Sentences", "Source",
           "SparseMatrix", "StrPath"]
