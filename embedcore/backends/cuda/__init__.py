"""The CUDA backend: probe.py (is CUDA usable), loader.py (the CUDA C sources of kernels/ as
NVRTC compiles them), launch.py (one typed launch wrapper per kernel), ops.py (the operations of
``embedcore.backends.OPS`` on CuPy arrays). Importing any of them works without CuPy."""
