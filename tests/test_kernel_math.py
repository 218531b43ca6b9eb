"""The per-example math shared by the CPU and GPU kernels (embedcore/include/ecmath), compiled by
the host compiler and checked against float64 references, and the header-level C++ checks of
tests/cpp/test_headers.cpp. The same functions are what the .cu kernels call (EC_HD), so these
tests pin both devices' step rules on a machine without a GPU."""
import ctypes
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from reference import sgns_pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDES = ["-I", os.path.join(ROOT, "csrc"), "-I", os.path.join(ROOT, "embedcore", "include")]


def compiler():
    found = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("g++")
    if found is None:
        pytest.skip("needs a C++ compiler (g++)")
    return found


@pytest.fixture(scope="module")
def ecmath(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ecmath") / "ecmath_eval.so")
    subprocess.run([compiler(), "-std=c++17", "-O2", "-shared", "-fPIC", *INCLUDES,
                    os.path.join(ROOT, "tests", "cpp", "ecmath_eval.cpp"), "-o", out], check=True)
    lib = ctypes.CDLL(out)
    signatures = {
        "sgns_gradient": (ctypes.c_float, [ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_int,
                                           ctypes.POINTER(ctypes.c_double)]),
        "sigmoid_cell": (ctypes.c_int, [ctypes.c_float]),
        "cbow_hidden_scale": (ctypes.c_float, [ctypes.c_int, ctypes.c_int]),
        "glove_weight": (ctypes.c_float, [ctypes.c_float] * 3),
        "glove_clip": (ctypes.c_float, [ctypes.c_float]),
        "glove_vector_grad": (ctypes.c_float, [ctypes.c_float] * 3),
        "glove_bias_grad": (ctypes.c_float, [ctypes.c_float] * 2),
        "adagrad_delta": (ctypes.c_float, [ctypes.c_float] * 2),
        "glove_cost": (ctypes.c_double, [ctypes.c_float] * 2),
        "ppmi_row_offset": (ctypes.c_double, [ctypes.c_double] * 3),
        "ppmi_value": (ctypes.c_float, [ctypes.c_float] * 3),
        "mix64": (ctypes.c_ulonglong, [ctypes.c_ulonglong]),
        "below": (ctypes.c_uint, [ctypes.c_uint, ctypes.c_uint]),
        "alias_draw": (ctypes.c_int, [ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]),
        "keep_token": (ctypes.c_int, [ctypes.c_uint, ctypes.c_ulonglong]),
    }
    for name, (restype, argtypes) in signatures.items():
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    return lib


def gradient(lib, f, label, alpha, table):
    loss = ctypes.c_double()
    g = lib.sgns_gradient(f, label, alpha, table, ctypes.byref(loss))
    return g, loss.value


SCORES = [-50.0, -6.0, -5.9999995, -3.2, -0.004, 0.0, 0.004, 1.7, 5.99, 5.9999995, 6.0, 6.5, 1e30]


@pytest.mark.parametrize("table", [0, 1], ids=["cpu-table", "gpu-computed"])
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_sgns_gradient_is_word2vec_rule_on_both_devices(ecmath, table, label):
    for f in SCORES:
        g, loss = gradient(ecmath, f, label, 0.025, table)
        want_g, want_loss = sgns_pair(float(np.float32(f)), label, 0.025)
        assert g == pytest.approx(want_g, abs=2e-8), f
        assert loss == pytest.approx(want_loss, rel=1e-6, abs=1e-6), f  # label 0 near -6: nls + f cancels


def test_cpu_table_and_gpu_evaluation_agree_on_every_cell(ecmath):
    for c in range(0, 1001):
        f = (c + 0.5) / 1000 * 12.0 - 6.0
        for label in (0.0, 1.0):
            cpu, gpu = gradient(ecmath, f, label, 1.0, 0), gradient(ecmath, f, label, 1.0, 1)
            assert gpu[0] == pytest.approx(cpu[0], abs=3e-7)  # float expf vs a float64 table: 2 ulp
            assert gpu[1] == pytest.approx(cpu[1], rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("table", [0, 1])
def test_a_nan_score_takes_no_step_and_poisons_the_loss(ecmath, table):
    g, loss = gradient(ecmath, float("nan"), 1.0, 0.1, table)
    assert g == 0.0 and math.isnan(loss)
    g, loss = gradient(ecmath, float("inf"), 0.0, 0.1, table)
    assert g == pytest.approx(-0.1) and math.isinf(loss)


def test_sigmoid_cell_stays_inside_the_table(ecmath):
    edge = np.nextafter(np.float32(6.0), np.float32(0.0))
    for f in (-edge, edge, 0.0, np.nextafter(np.float32(-6.0), np.float32(0.0))):
        assert 0 <= ecmath.sigmoid_cell(float(f)) <= 1000


def test_cbow_mean_scales_the_hidden_layer_only(ecmath):
    assert ecmath.cbow_hidden_scale(4, 1) == pytest.approx(0.25)
    assert ecmath.cbow_hidden_scale(4, 0) == 1.0
    assert ecmath.cbow_hidden_scale(0, 1) == 1.0


def test_glove_step_is_stanford_glove_c(ecmath):
    # f(x) = min(1, (x / x_max)^alpha)
    for x in (1.0, 7.5, 99.0, 100.0, 5000.0):
        assert ecmath.glove_weight(math.log(x), math.log(100.0), 0.75) == pytest.approx(min(1.0, (x / 100) ** 0.75),
                                                                                      rel=1e-6)
    # t = eta clip(fdiff * other, +-100): the clip bounds the gradient before eta
    assert ecmath.glove_vector_grad(3.0, 2.0, 0.05) == pytest.approx(0.3)
    assert ecmath.glove_vector_grad(300.0, 2.0, 0.05) == pytest.approx(5.0)
    assert ecmath.glove_vector_grad(-300.0, 2.0, 0.05) == pytest.approx(-5.0)
    # the bias step has its own rate (glove.c: no eta)
    assert ecmath.glove_bias_grad(3.0, 1.0) == 3.0
    assert ecmath.adagrad_delta(0.3, 4.0) == pytest.approx(-0.15)
    assert ecmath.glove_cost(np.float32(0.5), np.float32(2.0)) == 0.5
    # NaN clips like the SIMD min/max (to the lower bound), so every CPU copy agrees
    assert ecmath.glove_clip(float("nan")) == -100.0


def test_ppmi_value_is_the_positive_part_of_pmi(ecmath):
    rng = np.random.default_rng(0)
    for _ in range(50):
        count, row_sum, total, col, shift, cds = rng.uniform(0.5, 50, 6)
        offset = ecmath.ppmi_row_offset(math.log(total), row_sum, math.log(shift))
        col_term = cds * math.log(col)
        want = math.log(count * total / (row_sum * col ** cds)) - math.log(shift)
        got = ecmath.ppmi_value(math.log(count), offset, col_term)
        assert got == pytest.approx(max(want, 0.0), abs=2e-5)


def test_random_helpers_are_splitmix_and_walker(ecmath):
    mask = (1 << 64) - 1
    z = 12345
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    assert ecmath.mix64(12345) == z ^ (z >> 31)
    assert ecmath.below(0xFFFFFFFF, 10) == 9 and ecmath.below(0, 10) == 0
    prob = np.array([0, 2 ** 32 - 1, 2 ** 31], np.uint32)
    alias = np.array([1, 1, 0], np.int32)
    draws = [ecmath.alias_draw(c, a, prob.ctypes.data, alias.ctypes.data, 3)
             for c, a in [(0, 5), (0x60000000, 5), (0xB0000000, 0x70000000), (0xB0000000, 0x90000000)]]
    assert draws == [1, 1, 2, 0]
    assert ecmath.keep_token(5, 6) and not ecmath.keep_token(6, 6) and ecmath.keep_token(0xFFFFFFFF, 2 ** 32)


def test_header_level_invariants(tmp_path):
    exe = str(tmp_path / "test_headers")
    subprocess.run([compiler(), "-std=c++17", "-O1", "-Wno-psabi", *INCLUDES,
                    os.path.join(ROOT, "tests", "cpp", "test_headers.cpp"), "-o", exe], check=True)
    result = subprocess.run([exe], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
