"""The CUDA kernels on the CPU: a tests/cpp/emulated_*.cpp file (the .cu sources behind a C
interface) compiled with the SIMT emulator of tests/cpp/cuda_emu.hpp into a shared library that
ctypes loads. The same kernel source runs on the CPU, with the threads of a block switched at
their barriers in a random order.

The session fixture `simt_emulator` (tests/conftest.py) builds each library once per run;
`Library.call` runs one of its entry points.
"""
import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = os.path.join(ROOT, "embedcore", "backends", "cuda", "kernels")
INCLUDE = os.path.join(ROOT, "embedcore", "include")
CPP = os.path.join(ROOT, "tests", "cpp")


def build(source, out_dir):
    """Compile tests/cpp/`source` for the emulator into `out_dir`; the library's path. Skips the
    test without a C++ compiler."""
    compiler = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("g++")
    if compiler is None:
        pytest.skip("the CUDA emulator needs a C++ compiler (g++)")
    out = os.path.join(str(out_dir), os.path.splitext(source)[0] + ".so")
    subprocess.run([compiler, "-std=c++17", "-O2", "-U_FORTIFY_SOURCE", "-shared", "-fPIC", "-include",
                    os.path.join(CPP, "cuda_emu.hpp"), "-I", KERNELS, "-I", INCLUDE, os.path.join(CPP, source),
                    "-o", out], check=True)
    return out


class Library:
    """An emulated-kernel library; `seed` fixes the order in which its fibers are switched (None:
    the library has no emu_seed, its kernel's results do not depend on that order)."""

    def __init__(self, path, seed=None):
        self.lib = ctypes.CDLL(path)
        if seed is not None:
            self.lib.emu_seed(seed)

    def call(self, fn, *args):
        """Run entry point `fn` with `args` (numpy arrays pass as pointers, Python and numpy
        floats as float, np.float64 as double, ctypes values as they are) and the error buffer
        every entry point takes last; RuntimeError with the kernel's message when it fails."""
        error = ctypes.create_string_buffer(2048)
        converted = []
        for a in args:
            if isinstance(a, np.ndarray):
                converted.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.float64):
                converted.append(ctypes.c_double(a))
            elif isinstance(a, (float, np.floating)):
                converted.append(ctypes.c_float(a))
            else:
                converted.append(a)
        if getattr(self.lib, fn)(*converted, error, ctypes.c_size_t(len(error))) != 0:
            raise RuntimeError(f"{fn}: {error.value.decode()}")
