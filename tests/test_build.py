"""Build information, thread-count semantics and the device switch."""
import pytest

import embedcore as ec
from embedcore.backends import get_backend
from embedcore._threads import effective_workers, usable_cores


def test_build_info_reports_what_was_compiled():
    info = ec.build_info()
    assert info["version"] == ec.__version__
    assert isinstance(info["openmp"], bool)
    assert info["simd"] in {"avx512", "avx2", "baseline"}
    assert set(info["simd_kernels"]) >= {"word2vec", "glove", "spmm", "ppmi", "topk", "cooccur", "text"}
    assert info["simd"] == max(info["simd_kernels"].values(), key=["baseline", "avx2", "avx512"].index)
    assert isinstance(info["cuda"], bool)
    assert info["max_threads"] >= 1


def test_workers_none_and_minus_one_mean_all_usable_cores():
    assert effective_workers(None) == usable_cores()
    assert effective_workers(-1) == usable_cores()
    assert effective_workers(3) == 3
    assert effective_workers(-10_000) == 1


def test_omp_num_threads_caps_the_default(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert effective_workers(None) == 1


@pytest.mark.parametrize("bad,error", [(0, ValueError), (1.5, TypeError), ("2", TypeError), (True, TypeError)])
def test_bad_workers_are_rejected(bad, error):
    with pytest.raises(error, match="workers"):
        effective_workers(bad)


def test_device_cpu_is_always_available_and_unknown_devices_are_rejected():
    assert get_backend("cpu").NAME == "cpu"
    assert get_backend("auto").NAME in {"cpu", "cuda"}
    with pytest.raises(ValueError, match="device"):
        get_backend("tpu")


def test_device_cuda_without_a_gpu_says_why():
    if ec.build_info()["cuda"]:
        pytest.skip("a GPU is usable here")
    with pytest.raises(RuntimeError, match="device='cuda' but"):
        get_backend("cuda")
