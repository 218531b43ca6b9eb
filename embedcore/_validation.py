"""Input checks shared by every public function. Messages name the argument and what came."""
import numbers
import os
from collections.abc import Collection, Iterable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from embedcore._typing import Callback, FloatArray

_T = TypeVar("_T")


def describe(array: object) -> str:
    """'float64 with shape (10,)' for an array, the type name for anything else."""
    if hasattr(array, "dtype") and hasattr(array, "shape"):
        return f"{array.dtype} with shape {tuple(array.shape)}"
    return type(array).__name__


def as_float32_matrix(value: npt.ArrayLike, name: str, allow_empty: bool = False,
                      check_finite: bool = True) -> FloatArray:
    """C-contiguous float32 2-D array (a copy only when needed); NaN/inf are rejected."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a 2-D array of numbers, got {type(value).__name__}") from exc
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {describe(array)}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got {describe(array)}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got {describe(array)}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if check_finite and array.size and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def as_int_array(value: npt.ArrayLike, name: str, dtype: npt.DTypeLike = np.int32, ndim: int = 1) -> npt.NDArray[Any]:
    """C-contiguous integer array of the given dtype; floats that are not whole are rejected."""
    array = np.asarray(value)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D integer array, got {describe(array)}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got {describe(array)}")
    info = np.iinfo(dtype)
    if array.size and (array.min() < info.min or array.max() > info.max):
        raise ValueError(f"{name} holds values outside the {np.dtype(dtype).name} range")
    return np.ascontiguousarray(array, dtype=dtype)


def check_int(value: object, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """An int (bools rejected) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(value: object, name: str, minimum: float | None = None, maximum: float | None = None,
                inclusive: bool = True) -> float:
    """A finite real number within the bounds (inclusive unless said otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (not inclusive and value == minimum)):
        raise ValueError(f"{name} must be {'>=' if inclusive else '>'} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (not inclusive and value == maximum)):
        raise ValueError(f"{name} must be {'<=' if inclusive else '<'} {maximum}, got {value}")
    return value


def check_choice(value: _T, name: str, choices: Collection[object]) -> _T:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_path(value: object, name: str) -> str:
    """A str or os.PathLike, returned as str."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    return os.fspath(value)


def check_callbacks(callbacks: Iterable[Callback] | None) -> list[Callback]:
    """A list of epoch-end callbacks: callables `f(model, epoch)` or objects with `on_epoch_end`."""
    callbacks = [] if callbacks is None else list(callbacks)
    for i, cb in enumerate(callbacks):
        if not (callable(cb) or hasattr(cb, "on_epoch_end")):
            raise TypeError(f"callbacks[{i}] must be callable or have on_epoch_end, got {type(cb).__name__}")
    return callbacks


# ----------------------------------------------------------------------------------------------
# inputs that may live on a device (CuPy) as well as on the host

def is_device_array(value: object) -> bool:
    """True for a CuPy array or cupyx sparse matrix (checked without importing CuPy)."""
    from embedcore.backends import is_device_array as check
    return check(value)


def device_matrix(value: Any, name: str, backend: Any, allow_empty: bool = False, check_finite: bool = True) -> Any:
    """A C-contiguous float32 2-D array on `backend`'s device: host input is checked on the host
    (`as_float32_matrix`) and copied once if the backend is a GPU; CuPy input is checked where it
    is."""
    if not is_device_array(value):
        return backend.asarray(as_float32_matrix(value, name, allow_empty, check_finite))
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {describe(value)}")
    if value.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got {describe(value)}")
    if not allow_empty and value.size == 0:
        raise ValueError(f"{name} must not be empty, got {describe(value)}")
    array = backend.asarray(value, np.float32)
    if check_finite and array.size and not bool(((array - array) == 0).all()):  # x - x is NaN for inf, NaN
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def like_inputs(backend: Any, result: Any, *inputs: Any) -> Any:
    """`result` where the inputs were: CuPy results stay on the GPU when an input was a CuPy
    array; otherwise numpy / scipy.sparse."""
    if any(is_device_array(x) for x in inputs):
        return result
    return backend.to_host(result)


_INT32_MAX = np.iinfo(np.int32).max


def as_csr(value: Any, name: str, backend: Any, threads: int, canonical: bool = False,
           check_finite: bool = True) -> Any:
    """The backend's CSR matrix (float32 data, int32 indices) of a sparse matrix (scipy or cupyx,
    any format) or a dense 2-D array-like, validated where the input lives: 2-D, real, each
    dimension below 2**31, a CSR structure that indexes only its own arrays (indptr from 0 to
    nnz, never decreasing; columns in range) checked before anything reads through it, and with
    `check_finite` no NaN or infinity. `canonical` sums duplicate entries (and sorts columns),
    once, after the structure is known to be sound.

    Raises ValueError or TypeError naming `name`."""
    from embedcore.backends import get_backend
    here = get_backend("cuda") if is_device_array(value) else get_backend("cpu")  # where the checks run
    if not here.issparse(value):
        if is_device_array(value):
            array = device_matrix(value, name, here, allow_empty=True, check_finite=check_finite)
        else:
            array = as_float32_matrix(value, name, allow_empty=True, check_finite=check_finite)
        _check_dimensions(array.shape, name)
        return backend.csr_matrix(array)
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got a sparse array with shape {value.shape}")
    if value.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got sparse {value.dtype}")
    _check_dimensions(value.shape, name)
    fmt = getattr(value, "format", None)
    if fmt in ("csr", "csc"):
        # a compressed structure is read by every conversion: check it first
        n_major, n_minor = value.shape if fmt == "csr" else value.shape[::-1]
        _check_structure(value.indptr, value.indices, n_major, n_minor, name, here, threads)
    csr = value.tocsr()
    if fmt != "csr":  # converted by scipy / cupyx from a format whose structure they check
        _check_structure(csr.indptr, csr.indices, csr.shape[0], csr.shape[1], name, here, threads)
    if canonical and not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    if check_finite and csr.nnz:
        data = csr.data
        if not bool(((data - data) == 0).all()):
            raise ValueError(f"{name} contains NaN or infinity")
    return backend.csr_matrix(csr)


def _check_dimensions(shape, name):
    if shape[0] > _INT32_MAX or shape[1] > _INT32_MAX:
        raise ValueError(f"{name} has shape {tuple(shape)}; each dimension must be below 2**31")


def _check_structure(indptr, indices, n_rows, n_cols, name, here, threads):
    """ValueError unless (indptr, indices) is a sound n_rows x n_cols CSR structure."""
    if indices.ndim != 1 or indptr.ndim != 1:
        raise ValueError(f"{name} is not a valid CSR matrix: indptr and indices must be 1-D")
    if indices.shape[0] and indices.dtype != np.int32:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high > _INT32_MAX:
            raise ValueError(f"{name} is not a valid CSR matrix: column indices in [{low}, {high}] are "
                             f"outside [0, {n_cols})")
    try:
        here.check_csr(here.asarray(indptr, np.int64), here.asarray(indices, np.int32), n_rows, n_cols, threads)
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid CSR matrix: {exc}") from None


def check_exclude(exclude: Any, nq: int, nb: int, backend: Any) -> Any:
    """exclude as int64 on the backend's device: one database row per query, -1 for none."""
    array = exclude if is_device_array(exclude) else np.asarray(exclude)
    if array.ndim != 1 or array.shape[0] != nq:
        raise ValueError(f"exclude must be a 1-D integer array with one entry per query ({nq}), "
                         f"got {describe(array)}")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"exclude must hold integers, got {describe(array)}")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < -1 or high >= nb:
            raise ValueError(f"exclude must hold database rows in [0, {nb}) or -1 for none, "
                             f"got values in [{low}, {high}]")
    return backend.asarray(array, np.int64)
