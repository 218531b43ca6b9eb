"""The boundary rule of the Cython modules for arrays they update in place: such an array is used
as given or refused, never converted (a converted copy would take the results and be dropped)."""
import numpy as np


def inplace(array, name, dtype, ndim):
    """`array` itself when it is a writeable, C-contiguous numpy array of `dtype` with `ndim`
    dimensions; otherwise TypeError (not an array, wrong dtype) or ValueError (wrong dimensions,
    strided, read-only) naming `name`."""
    dtype = np.dtype(dtype)
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of {dtype.name}, got {type(array).__name__}")
    if array.dtype != dtype:
        raise TypeError(f"{name} must be {dtype.name} (it is updated in place, so it is not converted), "
                        f"got {array.dtype} with shape {array.shape}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (it is updated in place, so it is not copied), "
                         f"got a strided array with shape {array.shape}")
    if not array.flags.writeable:
        raise ValueError(f"{name} must be writeable, got a read-only array")
    return array
