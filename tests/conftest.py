import os
import sys

# the tests import their references as a plain module
sys.path.insert(0, os.path.dirname(__file__))

import pytest


@pytest.fixture(autouse=True)
def _auto_device_is_the_cpu(monkeypatch):
    """In tests, device="auto" means the CPU even where a GPU is usable: CPU behaviours (bit-identical
    single-thread runs, spill files) are specified by their own tests, and a test runs on the GPU
    only when it asks (the `device` fixture, or device="cuda")."""
    from embedcore.backends import cuda
    monkeypatch.setattr(cuda, "HAS_CUDA", lambda: False)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    """Each test that takes it runs once per device; the CUDA run is skipped without a usable GPU."""
    if request.param == "cuda":
        from embedcore.backends import cuda
        usable, reason = cuda._probe()
        if not usable:
            pytest.skip(f"no usable CUDA GPU ({reason})")
    return request.param


def pytest_collection_modifyitems(items):
    """A test that takes the `cp` fixture (CuPy on a GPU) is a GPU test: mark it `cuda`, so that
    `pytest -m cuda` (benchmarks/gpu_check.py) runs it."""
    for item in items:
        if "cp" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cuda)
