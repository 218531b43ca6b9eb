import os
import sys

# the tests import their references as a plain module
sys.path.insert(0, os.path.dirname(__file__))

import pytest


class Device(str):
    """A device argument for a twin test ("cpu" or "cuda"); `emulated` when the CUDA backend's
    operations run on numpy with the kernels emulated (tests/cuda_emulation.py)."""

    def __new__(cls, name, emulated=False):
        device = super().__new__(cls, name)
        device.emulated = emulated
        return device


@pytest.fixture(autouse=True)
def _auto_device_is_the_cpu(monkeypatch):
    """In tests, device="auto" means the CPU even where a GPU is usable: CPU behaviours (bit-identical
    single-thread runs, spill files) are specified by their own tests, and a test runs on the GPU
    only when it asks (the `device` fixture, or device="cuda")."""
    from embedcore import backends
    monkeypatch.setattr(backends, "HAS_CUDA", lambda: False)


@pytest.fixture(params=["cpu", "cuda-emulated", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request, monkeypatch):
    """Each test that takes it runs once per device: the CPU; the CUDA backend's operations on
    numpy with emulated kernels (their bookkeeping, checked everywhere); and the GPU, skipped
    without a usable one. A test too heavy to emulate calls
    `cuda_emulation.skip_emulated(device)`."""
    if request.param == "cuda":
        _skip_without_gpu()
        return Device("cuda")
    if request.param == "cuda-emulated":
        import cuda_emulation
        cuda_emulation.install(monkeypatch)
        return Device("cuda", emulated=True)
    return Device("cpu")


def _skip_without_gpu():
    """Skip the test unless a CUDA GPU is usable (asking the probe: HAS_CUDA is off in tests)."""
    from embedcore.backends.cuda import probe
    usable, reason = probe._probe()
    if not usable:
        pytest.skip(f"no usable CUDA GPU ({reason})")


@pytest.fixture
def cp():
    """CuPy, on a machine where a GPU is usable (the test is skipped elsewhere)."""
    _skip_without_gpu()
    import cupy
    return cupy


@pytest.fixture(params=["emulated", pytest.param("gpu", marks=pytest.mark.cuda)])
def kernel_engine(request):
    """Where a CUDA kernel test runs: "emulated", the kernel on the CPU's SIMT emulator (every
    machine with a C++ compiler; see `simt_emulator`), and "gpu", skipped without a usable GPU."""
    if request.param == "gpu":
        _skip_without_gpu()
    return request.param


@pytest.fixture(scope="session")
def simt_emulator(tmp_path_factory):
    """`library(source, seed=None)`: tests/cpp/`source` compiled for the SIMT emulator
    (tests/simt_emulator.py), built once per run, loaded with its fiber order seeded."""
    import simt_emulator
    built = {}

    def library(source, seed=None):
        if source not in built:
            built[source] = simt_emulator.build(source, tmp_path_factory.mktemp("emu"))
        return simt_emulator.Library(built[source], seed)
    return library


@pytest.fixture
def no_gpu(monkeypatch):
    """CUDA is not usable: the probe says "no CUDA device is visible"."""
    from embedcore.backends.cuda import probe
    monkeypatch.setattr(probe, "_probe", lambda: (False, "no CUDA device is visible"))


def pytest_collection_modifyitems(items):
    """A test that takes the `cp` fixture (CuPy on a GPU) is a GPU test: mark it `cuda`, so that
    `pytest -m cuda` (benchmarks/gpu_check.py) runs it."""
    for item in items:
        if "cp" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cuda)
