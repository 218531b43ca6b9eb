"""The devices embedcore computes on, behind one set of primitive operations.

``get_backend(device, *arrays)`` returns the module that runs the work: ``backends.cpu`` (C++
kernels of ``embedcore._native`` and ``embedcore._sgd``) or ``backends.cuda.ops`` (CuPy and the
CUDA kernels of ``backends/cuda/kernels``). Both define every operation named in `OPS` with the
same signature and the same mathematics; models and public functions validate their input,
pick a backend here, and call its operations. Nothing in this package imports a model.

Only ``backends/cuda`` imports CuPy, and lazily: importing embedcore works without it.
"""
import contextlib
import importlib
import types

from embedcore.backends.cuda.probe import is_device_array

# The operations each backend defines, with equal signatures (tests/test_backends.py checks it).
OPS = (
    # arrays
    "asarray", "to_host", "issparse", "csr_matrix",
    # word2vec
    "word2vec_tables", "sgns_setup", "sgns_epoch",
    # fastText
    "fasttext_setup", "fasttext_epoch",
    # random walks (DeepWalk / node2vec)
    "walk_graph", "walks", "walk_visits", "node2vec_setup", "node2vec_train",
    # co-occurrence and GloVe
    "cooccur_counts", "glove_records", "glove_epoch",
    # sparse matrices
    "check_csr", "ppmi", "csr_matmul", "csr_transpose",
    # dense linear algebra
    "matmul", "gram", "orthonormalize",
    # search
    "topk", "inner_topk",
)

# False until benchmarks/gpu_check.py has passed on a real GPU: until then device="auto" keeps
# host inputs on the CPU, and the GPU runs only for device="cuda" or CuPy inputs.
VALIDATED_ON_GPU = False

# The work (multiply-adds) from which device="auto" copies host inputs to a usable GPU: below
# it the copy costs more than the GPU saves (a KeyedVectors.most_similar call stays on the CPU).
AUTO_MIN_WORK = 10 ** 10

DEVICES = ("auto", "cpu", "cuda")


def HAS_CUDA() -> bool:
    """True when CuPy imports and at least one GPU is visible (probed lazily, once)."""
    from embedcore.backends.cuda import probe
    return probe.usable()


def blas_threads(threads: int) -> "contextlib.AbstractContextManager[object]":
    """Context in which the host's BLAS runs at most `threads` threads, restored afterwards even
    under concurrent callers (the one BLAS-thread controller, in backends/cpu.py)."""
    from embedcore.backends import cpu
    return cpu.blas_threads(threads)


def get_backend(device: str, *arrays: object, work: int | None = None) -> types.ModuleType:
    """The backend module that runs an operation for a `device` argument.

    The single "auto" policy of embedcore: "cpu" is the CPU; "cuda" is the GPU (RuntimeError
    with the reason when none is usable); "auto" is the GPU for CuPy inputs, and for host inputs
    once the GPU paths are validated (`VALIDATED_ON_GPU`), a GPU is usable, and the caller's
    `work` (multiply-adds, when it knows them) reaches `AUTO_MIN_WORK`; else the CPU. CuPy
    inputs with device="cpu" are copied to the host by the CPU backend's `asarray`.

    Parameters
    ----------
    device : {'auto', 'cpu', 'cuda'}
    *arrays
        The inputs of the operation (only their type is looked at).
    work : int, optional
        The size of the operation, for "auto" with host inputs.

    Returns
    -------
    module
        ``embedcore.backends.cpu`` or ``embedcore.backends.cuda.ops``.

    Raises
    ------
    ValueError
        An unknown device.
    RuntimeError
        device="cuda" without a usable GPU.
    """
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda', got {device!r}")
    if device == "cpu":
        return importlib.import_module("embedcore.backends.cpu")
    if device == "cuda" or any(is_device_array(a) for a in arrays):
        from embedcore.backends.cuda import probe
        probe.require()
        return importlib.import_module("embedcore.backends.cuda.ops")
    if VALIDATED_ON_GPU and HAS_CUDA() and (work is None or work >= AUTO_MIN_WORK):
        return importlib.import_module("embedcore.backends.cuda.ops")
    return importlib.import_module("embedcore.backends.cpu")


__all__ = ["AUTO_MIN_WORK", "DEVICES", "HAS_CUDA", "OPS", "VALIDATED_ON_GPU", "blas_threads", "get_backend",
           "is_device_array"]
