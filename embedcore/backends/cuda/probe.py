"""Whether CUDA is usable here: CuPy imports and sees a GPU (probed lazily, once).

Importing this module costs nothing and works without CuPy; `cupy()` imports it on first use.
"""
import functools
import warnings


@functools.lru_cache(maxsize=None)
def _probe():
    """(usable, reason). A broken CUDA install warns once here instead of failing later."""
    try:
        import cupy
    except ImportError:
        return False, "CuPy is not installed (pip install 'embedcore[cuda12]' or 'embedcore[cuda13]')"
    except Exception as exc:  # a broken CUDA install can raise anything at import
        warnings.warn(f"embedcore: CuPy failed to import ({exc}); using the CPU", RuntimeWarning)
        return False, f"CuPy failed to import: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        warnings.warn(f"embedcore: CUDA is not usable ({exc}); using the CPU", RuntimeWarning)
        return False, f"CUDA is not usable: {exc}"
    if count < 1:
        return False, "no CUDA device is visible"
    return True, ""


def usable():
    """True when CuPy imports and at least one GPU is visible."""
    return _probe()[0]


def require():
    """Raise RuntimeError with the reason when CUDA is not usable."""
    ok, reason = _probe()
    if not ok:
        raise RuntimeError(f"device='cuda' but {reason}")


def cupy():
    """The cupy module (raises RuntimeError with the reason when CUDA is not usable)."""
    require()
    import cupy
    return cupy


def is_device_array(value):
    """True for a CuPy ndarray or cupyx sparse matrix (checked without importing CuPy)."""
    module = type(value).__module__ or ""
    return module == "cupy" or module.startswith(("cupy.", "cupyx.", "cupy._"))


def device_name():
    """The name of the current GPU, e.g. 'NVIDIA H100 80GB HBM3'."""
    cp = cupy()
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)

