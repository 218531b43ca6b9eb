"""Benchmark cases of `embedcore bench`, one module per kernel (see embedcore.bench)."""
