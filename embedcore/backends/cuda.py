"""The CUDA backend. This is the only module that imports CuPy; the import is lazy."""
import functools
import logging
import warnings

logger = logging.getLogger("embedcore")


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


def HAS_CUDA():
    """True when CuPy imports and at least one GPU is visible."""
    return _probe()[0]


def require():
    """Raise RuntimeError with the reason when CUDA is not usable."""
    ok, reason = _probe()
    if not ok:
        raise RuntimeError(f"device='cuda' but {reason}")
