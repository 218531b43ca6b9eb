"""Per-device implementations of the primitive operations; only cuda.py imports CuPy."""
