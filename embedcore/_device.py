"""Device selection: "auto" takes CUDA when CuPy and a GPU are usable, else the CPU.

Until benchmarks/gpu_check.py has passed on a real GPU (backends.cuda.VALIDATED_ON_GPU), "auto"
stays on the CPU: the CUDA paths are reachable only by asking for device="cuda".
"""
from embedcore._validation import check_choice


def cuda_available():
    """True when CuPy imports and sees a GPU (probed lazily, once)."""
    from embedcore.backends import cuda
    return cuda.HAS_CUDA()


def resolve_device(device, *inputs):
    """'cpu' or 'cuda' for a device argument; 'cuda' without a usable GPU raises RuntimeError.

    Under "auto", CuPy arrays among `inputs` mean the GPU; otherwise the GPU is taken only once
    the CUDA paths are validated on a GPU.
    """
    check_choice(device, "device", ("auto", "cpu", "cuda"))
    if device == "cpu":
        return "cpu"
    from embedcore.backends import cuda
    if device == "cuda" or any(cuda.is_device_array(x) for x in inputs):
        cuda.require()
        return "cuda"
    return "cuda" if cuda.VALIDATED_ON_GPU and cuda_available() else "cpu"
