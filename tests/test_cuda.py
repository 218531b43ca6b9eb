"""The CUDA backend's own parts: the probe, the kernel loader, the launch wrappers, and the
kernels' random streams and per-chunk bookkeeping against serial float64 replays.

The operations themselves are tested as twins of the CPU's in the tests of each operation
(tests/test_topk.py, test_cooccurrence.py, test_glove.py, test_ppmi.py, test_svd.py,
test_word2vec.py). Tests that need a GPU take the `cp` fixture and are skipped where CuPy or a
GPU is missing; `gpu` runs a test on the emulated kernels everywhere and on the GPU when one
is usable. The loader, the probe and the compilation of every kernel (with nvcc, when it is
installed) are checked everywhere.
"""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from embedcore import backends
from embedcore.backends.cuda import launch, loader, ops, probe
from cuda_reference import ec_random, gpu_epoch_reference, keep_mask_reference, noise_word, sentence_of

NVCC = shutil.which("nvcc")


@pytest.fixture(params=["cuda-emulated", pytest.param("cuda", marks=pytest.mark.cuda)])
def gpu(request, monkeypatch):
    """The CUDA backend's operations: on numpy with emulated kernels, and on a GPU when usable."""
    if request.param == "cuda":
        return request.getfixturevalue("cp")
    import cuda_emulation
    cuda_emulation.install(monkeypatch)
    return np


# ----------------------------------------------------------------------------------------------
# loader and availability (no GPU needed)

def test_kernel_source_starts_with_a_line_directive_naming_the_file():
    for name in loader.KERNEL_FILES:
        assert loader.kernel_source(name).splitlines()[0] == f'#line 1 "{name}"'


def test_kernel_source_inlines_common_header_once_and_resumes_the_line_count():
    source = loader.kernel_source("topk.cu").splitlines()
    assert source.count('#line 1 "common.cuh"') == 1
    assert not any(re.match(r'\s*#\s*include\s+"', line) for line in source)
    assert not any(re.match(r"\s*#\s*pragma\s+once", line) for line in source)
    original = (loader.KERNEL_DIR / "topk.cu").read_text().splitlines()
    include_line = next(i for i, line in enumerate(original, 1) if '#include "common.cuh"' in line)
    resume = source.index(f'#line {include_line + 1} "topk.cu"')
    assert source[resume + 1] == original[include_line]


def test_kernel_source_names_a_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.cu"):
        loader.kernel_source("nope.cu")


def test_every_kernel_file_is_listed():
    on_disk = sorted(p.name for p in loader.KERNEL_DIR.glob("*.cu"))
    assert on_disk == sorted(loader.KERNEL_FILES)


@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")
@pytest.mark.parametrize("name", loader.KERNEL_FILES)
def test_prepared_kernel_source_compiles_to_ptx(name, tmp_path):
    # the text NVRTC gets, compiled alone (no include path), as CI compiles the files
    src = tmp_path / name
    src.write_text(loader.kernel_source(name))
    result = subprocess.run([NVCC, "-std=c++17", "-arch=sm_80", "--ptx", "-o", str(tmp_path / "out.ptx"), str(src)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")
def test_host_copies_of_the_device_helpers_match_the_python_references(tmp_path):
    # common.cuh's scalar helpers are host functions too: run them on the CPU and compare
    draws = [(0, 0, 0), (1, 2, 3), (2**64 - 1, 7, 12345678901234), (42, 4 * 3 + 2, 99 * 256 + 5)]
    offsets = [0, 3, 3, 10, 11]
    prob = [0, 2**31, 2**32 - 1, 12345]
    alias = [3, 0, 1, 2]
    lines = [f"printf(\"%llu\\n\", ec_random({s}ULL, {a}ULL, {c}ULL));" for s, a, c in draws]
    lines += [f"printf(\"%lld\\n\", ec_sentence_of(offsets, 4, {p}));" for p in range(11)]
    lines += [f"printf(\"%d\\n\", ec_noise_word(ec_random(5, 2, {c}), prob, alias, 4));" for c in range(20)]
    program = tmp_path / "helpers.cu"
    program.write_text(
        '#include "sgns.cu"\n#include <cstdio>\nint main() {\n'
        f"const ec_i64 offsets[] = {{{', '.join(map(str, offsets))}}};\n"
        f"const ec_u32 prob[] = {{{', '.join(f'{p}u' for p in prob)}}};\n"
        f"const int alias[] = {{{', '.join(map(str, alias))}}};\n"
        + "\n".join(lines) + "\nreturn 0;\n}\n")
    exe = tmp_path / "helpers"
    built = subprocess.run([NVCC, "-std=c++17", "-arch=sm_80", f"-I{loader.KERNEL_DIR}",
                            *(f"-I{d}" for d in loader._include_dirs()), "-o", str(exe), str(program)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    got = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, check=True).stdout.split()
    expected = [ec_random(*d) for d in draws]
    expected += [sentence_of(np.array(offsets), p) for p in range(11)]
    expected += [noise_word(ec_random(5, 2, c), prob, alias) for c in range(20)]
    assert [int(v) for v in got] == expected


def test_missing_cupy_makes_cuda_unavailable_with_the_reason(monkeypatch):
    probe._probe.cache_clear()
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    try:
        assert probe._probe()[0] is False
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            probe.require()
    finally:
        probe._probe.cache_clear()


def test_device_cuda_without_a_gpu_raises_and_auto_falls_back(no_gpu):
    with pytest.raises(RuntimeError, match="device='cuda' but no CUDA device is visible"):
        backends.get_backend("cuda")
    assert backends.get_backend("auto").NAME == "cpu"


@pytest.fixture
def usable_gpu(monkeypatch):
    """A GPU that the probe reports usable (no CUDA call is made by these tests)."""
    monkeypatch.setattr(probe, "_probe", lambda: (True, ""))
    monkeypatch.setattr(backends, "HAS_CUDA", lambda: True)


def test_auto_stays_on_the_cpu_until_the_gpu_paths_are_validated(usable_gpu, monkeypatch):
    monkeypatch.setattr(backends, "VALIDATED_ON_GPU", False)
    assert backends.get_backend("auto").NAME == "cpu"
    assert backends.get_backend("auto", work=10 ** 12).NAME == "cpu"
    assert backends.get_backend("cuda").NAME == "cuda"


def test_auto_moves_only_large_host_work_to_a_usable_gpu(usable_gpu, monkeypatch):
    monkeypatch.setattr(backends, "VALIDATED_ON_GPU", True)
    assert backends.get_backend("auto", work=10).NAME == "cpu"
    assert backends.get_backend("auto", work=backends.AUTO_MIN_WORK).NAME == "cuda"
    assert backends.get_backend("auto").NAME == "cuda"  # work unknown: the device decides
    assert backends.get_backend("cpu", work=10 ** 12).NAME == "cpu"


def test_cupy_inputs_take_auto_to_the_gpu(usable_gpu):
    class FakeCupyArray:
        pass
    FakeCupyArray.__module__ = "cupy._core.core"
    assert backends.get_backend("auto", np.zeros(3), FakeCupyArray()).NAME == "cuda"


def test_an_unknown_device_is_a_value_error():
    with pytest.raises(ValueError, match="device must be one of 'auto', 'cpu', 'cuda', got 'tpu'"):
        backends.get_backend("tpu")


def test_is_device_array_is_false_for_numpy_and_scipy():
    assert not backends.is_device_array(np.zeros(3))
    assert not backends.is_device_array(sp.csr_matrix(np.eye(2)))


# ----------------------------------------------------------------------------------------------
# launch wrappers (GPU)

def test_topk_launch_wrapper_rejects_a_float64_tile(cp):
    best_s, best_i = cp.zeros((1, 2), dtype=cp.float32), cp.full((1, 2), -1, dtype=cp.int64)
    with pytest.raises(TypeError, match="scores must be float32"):
        launch.launch_topk_merge_tile(cp.zeros((1, 3)), 0, 0, None, 2, best_s, best_i)


def test_sgns_launch_wrapper_rejects_a_float64_table(cp):
    ids = cp.zeros(3, dtype=cp.int32)
    with pytest.raises(TypeError, match="input_vectors must be float32"):
        launch.launch_sgns(ids, cp.array([0, 3], dtype=cp.int64), 0, 3, cp.zeros((2, 4)),
                           cp.zeros((2, 4), dtype=cp.float32), cp.zeros(2, dtype=cp.uint32),
                           cp.zeros(2, dtype=cp.int32), 2, 1, 0.1, True, True, 0, 0, cp.zeros(1))


# ----------------------------------------------------------------------------------------------
# word2vec: the random stream, the chunks and the learning-rate steps

def test_keep_mask_replays_the_reference_draws(cp):
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 12, 500).astype(np.int32)
    keep_table = rng.integers(0, 2 ** 32 + 1, 12, dtype=np.uint64)
    mask = cp.empty(len(ids), dtype=cp.uint8)
    launch.launch_w2v_keep_mask(cp.asarray(ids), cp.asarray(keep_table), 7, 3, mask)
    np.testing.assert_array_equal(mask.get().astype(bool), keep_mask_reference(ids, keep_table, 7, 3))


def _w2v_problem(vocab=12, dim=19, seed=0, n_sentences=14):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 14, n_sentences)  # empty and one-word sentences included
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = rng.integers(0, vocab, offsets[-1]).astype(np.int32)
    inp = ((rng.random((vocab, dim)) - 0.5) / dim).astype(np.float32)
    out = (0.1 * rng.standard_normal((vocab, dim))).astype(np.float32)
    prob = rng.integers(0, 2 ** 32, vocab, dtype=np.uint64).astype(np.uint32)
    alias = rng.integers(0, vocab, vocab).astype(np.int32)
    keep = rng.integers(2 ** 31, 2 ** 32 + 1, vocab, dtype=np.uint64)  # about three in four tokens kept
    return ids, offsets, inp, out, (keep, prob, alias)


def _run_epoch(generator):
    done = 0
    while True:
        try:
            done += next(generator)
        except StopIteration as stop:
            return done, stop.value


@pytest.mark.parametrize("sg,cbow_mean", [(True, True), (False, True), (False, False)])
@pytest.mark.parametrize("chunk_tokens", [1 << 18, 23])
def test_a_sequential_epoch_replays_the_serial_reference(gpu, sg, cbow_mean, chunk_tokens):
    # the epoch's subsampled stream, its chunks of raw tokens, the learning rate of each chunk
    # (epoch 1 of 3: it falls from chunk to chunk), windows that reach across chunks, and the
    # CPU's update rules (the CBOW mean does not divide the context rows' update)
    ids, offsets, inp, out, tables = _w2v_problem()
    n = len(ids)
    data = ops.sgns_setup(ids, offsets, tables, vector_size=inp.shape[1], window=3, negative=4, sg=sg,
                          cbow_mean=cbow_mean, shared=True, seed=11, threads=1, sequential=True,
                          chunk_tokens=chunk_tokens)
    d_in, d_out = ops.asarray(inp.copy()), ops.asarray(out.copy())  # (numpy would train inp itself)
    done, (loss, _) = _run_epoch(ops.sgns_epoch(data, d_in, d_out, 1, n, 3 * n, 0.05, 0.001))
    ref_in, ref_out, ref_loss = gpu_epoch_reference(ids, offsets, inp, out, *tables, window=3, negative=4,
                                                    alpha=0.05, min_alpha=0.001, sg=sg, cbow_mean=cbow_mean, seed=11,
                                                    epoch=1, words_before=n, total_words=3 * n,
                                                    chunk_tokens=chunk_tokens)
    assert done == n
    # float32 against float64: a score within rounding of a sigmoid-table cell edge may pick the
    # neighbouring cell (about 1e-5 on a row); a wrong rule moves rows by 1e-3
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(ops.to_host(d_in), ref_in, rtol=1e-4, atol=3e-5)
    np.testing.assert_allclose(ops.to_host(d_out), ref_out, rtol=1e-4, atol=3e-5)


def test_the_learning_rate_steps_with_the_raw_tokens_of_each_chunk(gpu, monkeypatch):
    # which rate each launch gets: the CPU's schedule read at the raw token the chunk starts at
    ids, offsets, inp, out, tables = _w2v_problem(n_sentences=30)
    n = len(ids)
    rates = []
    launch_sgns = ops.launch_sgns

    def recording(*args):
        rates.append((args[2], args[3], args[10]))
        return launch_sgns(*args)

    monkeypatch.setattr(ops, "launch_sgns", recording)
    data = ops.sgns_setup(ids, offsets, tables, vector_size=inp.shape[1], window=2, negative=2, sg=True,
                          cbow_mean=True, shared=True, seed=3, threads=1, chunk_tokens=40)
    _run_epoch(ops.sgns_epoch(data, ops.asarray(inp), ops.asarray(out), 2, 2 * n, 4 * n, 0.025, 0.0001))
    assert len(rates) == -(-n // 40)
    kept = np.concatenate([[0], np.cumsum(keep_mask_reference(ids, tables[0], 3, 2))])
    for chunk, (begin, end, rate) in enumerate(rates):
        a, b = 40 * chunk, min(n, 40 * (chunk + 1))
        assert (begin, end) == (kept[a], kept[b])
        assert rate == pytest.approx(np.float32(0.025 - (0.025 - 0.0001) * (2 * n + a) / (4 * n)), rel=1e-7)
    assert rates[-1][2] < rates[0][2]
