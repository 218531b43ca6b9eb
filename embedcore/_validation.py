"""Input checks shared by every public function. Messages name the argument and what came."""
import numbers
import os

import numpy as np


def describe(array):
    """'float64 with shape (10,)' for an array, the type name for anything else."""
    if hasattr(array, "dtype") and hasattr(array, "shape"):
        return f"{array.dtype} with shape {tuple(array.shape)}"
    return type(array).__name__


def as_float32_matrix(value, name, allow_empty=False, check_finite=True):
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


def as_int_array(value, name, dtype=np.int32, ndim=1):
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


def check_int(value, name, minimum=None, maximum=None):
    """An int (bools rejected) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(value, name, minimum=None, maximum=None, inclusive=True):
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


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_path(value, name):
    """A str or os.PathLike, returned as str."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    return os.fspath(value)


def check_callbacks(callbacks):
    """A list of epoch-end callbacks: callables `f(model, epoch)` or objects with `on_epoch_end`."""
    callbacks = [] if callbacks is None else list(callbacks)
    for i, cb in enumerate(callbacks):
        if not (callable(cb) or hasattr(cb, "on_epoch_end")):
            raise TypeError(f"callbacks[{i}] must be callable or have on_epoch_end, got {type(cb).__name__}")
    return callbacks
