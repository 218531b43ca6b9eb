"""Device selection: "auto" takes CUDA when CuPy and a GPU are usable, else the CPU."""
from embedcore._validation import check_choice


def cuda_available():
    """True when CuPy imports and sees a GPU (probed lazily, once)."""
    from embedcore.backends import cuda
    return cuda.HAS_CUDA()


def resolve_device(device):
    """'cpu' or 'cuda' for a device argument; 'cuda' without a usable GPU raises RuntimeError."""
    check_choice(device, "device", ("auto", "cpu", "cuda"))
    if device == "cpu":
        return "cpu"
    if device == "cuda":
        from embedcore.backends import cuda
        cuda.require()
        return "cuda"
    return "cuda" if cuda_available() else "cpu"
