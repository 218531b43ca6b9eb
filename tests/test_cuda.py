"""The CUDA backend: loader, kernels and primitive operations against float64 references.

Tests that need a GPU take the `cp` fixture and are skipped where CuPy or a GPU is missing;
the loader, the availability probe and the compilation of every kernel (with nvcc, when it is
installed) are checked everywhere.
"""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from embedcore.backends import cuda
from reference import analogy_accuracy, glove_epoch_reference
from cuda_reference import (cooccurrence_reference, ec_random, keep_mask_reference,
                            noise_word, ppmi_reference, sentence_of, topk_reference, word2vec_reference)

NVCC = shutil.which("nvcc")


@pytest.fixture
def cp():
    """CuPy, on a machine where a GPU is usable."""
    usable, reason = cuda._probe()  # not HAS_CUDA, which conftest turns off for device="auto"
    if not usable:
        pytest.skip(f"no usable CUDA GPU ({reason})")
    import cupy
    return cupy


# ----------------------------------------------------------------------------------------------
# loader and availability (no GPU needed)

def test_kernel_source_starts_with_a_line_directive_naming_the_file():
    for name in cuda.KERNEL_FILES:
        assert cuda.kernel_source(name).splitlines()[0] == f'#line 1 "{name}"'


def test_kernel_source_inlines_common_header_once_and_resumes_the_line_count():
    source = cuda.kernel_source("topk.cu").splitlines()
    assert source.count('#line 1 "common.cuh"') == 1
    assert not any(re.match(r'\s*#\s*include\s+"', line) for line in source)
    assert not any(re.match(r"\s*#\s*pragma\s+once", line) for line in source)
    original = (cuda.KERNEL_DIR / "topk.cu").read_text().splitlines()
    include_line = next(i for i, line in enumerate(original, 1) if '#include "common.cuh"' in line)
    resume = source.index(f'#line {include_line + 1} "topk.cu"')
    assert source[resume + 1] == original[include_line]


def test_kernel_source_names_a_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.cu"):
        cuda.kernel_source("nope.cu")


def test_every_kernel_file_is_listed():
    on_disk = sorted(p.name for p in cuda.KERNEL_DIR.glob("*.cu"))
    assert on_disk == sorted(cuda.KERNEL_FILES)


@pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")
@pytest.mark.parametrize("name", cuda.KERNEL_FILES)
def test_prepared_kernel_source_compiles_to_ptx(name, tmp_path):
    # the text NVRTC gets, compiled alone (no include path), as CI compiles the files
    src = tmp_path / name
    src.write_text(cuda.kernel_source(name))
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
    built = subprocess.run([NVCC, "-std=c++17", "-arch=sm_80", f"-I{cuda.KERNEL_DIR}",
                            *(f"-I{d}" for d in cuda._include_dirs()), "-o", str(exe), str(program)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    got = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, check=True).stdout.split()
    expected = [ec_random(*d) for d in draws]
    expected += [sentence_of(np.array(offsets), p) for p in range(11)]
    expected += [noise_word(ec_random(5, 2, c), prob, alias) for c in range(20)]
    assert [int(v) for v in got] == expected


def test_missing_cupy_makes_cuda_unavailable_with_the_reason(monkeypatch):
    cuda._probe.cache_clear()
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    try:
        assert cuda._probe()[0] is False
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            cuda.require()
    finally:
        cuda._probe.cache_clear()


def test_device_cuda_without_a_gpu_raises_and_auto_falls_back(monkeypatch):
    from embedcore._device import resolve_device
    monkeypatch.setattr(cuda, "_probe", lambda: (False, "no CUDA device is visible"))
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu"


def test_auto_stays_on_the_cpu_until_the_gpu_paths_are_validated(monkeypatch):
    from embedcore._device import resolve_device
    monkeypatch.setattr(cuda, "_probe", lambda: (True, ""))
    monkeypatch.setattr(cuda, "HAS_CUDA", lambda: True)
    monkeypatch.setattr(cuda, "VALIDATED_ON_GPU", False)
    big_queries = np.broadcast_to(np.float32(0), (100_000, 100))
    big_database = np.broadcast_to(np.float32(0), (1_000, 100))
    assert resolve_device("auto") == "cpu"
    assert cuda.topk_on_gpu("auto", big_queries, big_database) is False
    assert resolve_device("cuda") == "cuda"


def test_auto_moves_only_large_numpy_searches_to_a_usable_gpu(monkeypatch):
    monkeypatch.setattr(cuda, "_probe", lambda: (True, ""))
    monkeypatch.setattr(cuda, "HAS_CUDA", lambda: True)
    monkeypatch.setattr(cuda, "VALIDATED_ON_GPU", True)
    small = np.zeros((10, 8), dtype=np.float32)
    big_queries = np.broadcast_to(np.float32(0), (100_000, 100))  # no memory behind it
    big_database = np.broadcast_to(np.float32(0), (1_000, 100))
    assert cuda.topk_on_gpu("auto", small, small) is False
    assert cuda.topk_on_gpu("auto", big_queries, big_database) is True
    assert cuda.topk_on_gpu("cuda", small, small) is True
    assert cuda.topk_on_gpu("cpu", big_queries, big_database) is False


def test_is_device_array_is_false_for_numpy_and_scipy():
    assert not cuda.is_device_array(np.zeros(3))
    assert not cuda.is_device_array(sp.csr_matrix(np.eye(2)))


# ----------------------------------------------------------------------------------------------
# cosine top-k

def _topk_close(scores, indices, ref_scores, ref_indices, tol=1e-5):
    """Scores to tol; indices equal wherever the reference's neighbouring scores are not tied."""
    np.testing.assert_allclose(scores, ref_scores, atol=tol)
    gaps = np.abs(np.diff(ref_scores, axis=1))
    clear = np.ones_like(ref_indices, dtype=bool)
    clear[:, 1:] &= gaps > 10 * tol
    clear[:, :-1] &= gaps > 10 * tol
    assert (indices[clear] == ref_indices[clear]).all()


@pytest.mark.cuda
@pytest.mark.parametrize("tiles", [(4096, 1 << 26), (7, 7 * 33)])
def test_gpu_topk_matches_the_float64_reference(cp, tiles):
    rng = np.random.default_rng(0)
    queries = rng.standard_normal((50, 16)).astype(np.float32)
    database = rng.standard_normal((300, 16)).astype(np.float32)
    scores, indices = cuda.topk(cp.asarray(queries), cp.asarray(database), 7, tile_queries=tiles[0],
                                tile_elements=tiles[1])
    ref_s, ref_i = topk_reference(queries, database, 7)
    _topk_close(scores.get(), indices.get(), ref_s, ref_i)


@pytest.mark.cuda
def test_gpu_topk_leaves_out_the_excluded_row(cp):
    rng = np.random.default_rng(1)
    database = rng.standard_normal((40, 8)).astype(np.float32)
    exclude = np.array([0, 5, -1, 39])
    scores, indices = cuda.topk(cp.asarray(database[[0, 5, 7, 39]]), cp.asarray(database), 3,
                                exclude=cp.asarray(exclude))
    indices = indices.get()
    assert indices[0, 0] != 0 and indices[1, 0] != 5 and indices[2, 0] == 7 and indices[3, 0] != 39
    ref_s, ref_i = topk_reference(database[[0, 5, 7, 39]], database, 3, exclude)
    _topk_close(scores.get(), indices, ref_s, ref_i)


@pytest.mark.cuda
def test_gpu_topk_breaks_ties_by_lower_index_across_tiles(cp):
    database = np.tile(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32), (10, 1))  # rows 0, 2, 4... equal
    scores, indices = cuda.topk(cp.asarray(database[:1]), cp.asarray(database), 4, tile_queries=1,
                                tile_elements=3)
    assert indices.get().tolist() == [[0, 2, 4, 6]]
    np.testing.assert_allclose(scores.get(), 1.0, atol=1e-6)


@pytest.mark.cuda
def test_gpu_topk_zero_rows_score_zero(cp):
    database = np.array([[0, 0], [1, 0], [-1, 0]], dtype=np.float32)
    scores, indices = cuda.topk(cp.asarray(np.array([[0, 0], [1, 0]], dtype=np.float32)), cp.asarray(database), 3)
    np.testing.assert_allclose(scores.get(), [[0, 0, 0], [1, 0, -1]], atol=1e-6)
    assert indices.get().tolist() == [[0, 1, 2], [1, 0, 2]]


@pytest.mark.cuda
def test_gpu_topk_k_equal_to_database_size_returns_every_row(cp):
    rng = np.random.default_rng(2)
    database = rng.standard_normal((9, 4)).astype(np.float32)
    _, indices = cuda.topk(cp.asarray(database[:3]), cp.asarray(database), 9)
    assert sorted(indices.get()[1].tolist()) == list(range(9))


@pytest.mark.cuda
def test_gpu_topk_rejects_k_above_its_limit(cp):
    database = cp.ones((cuda.TOPK_MAX_K + 1, 2), dtype=cp.float32)
    with pytest.raises(ValueError, match="k must be in"):
        cuda.topk(database[:1], database, cuda.TOPK_MAX_K + 1)


@pytest.mark.cuda
def test_gpu_topk_launch_wrapper_rejects_a_float64_tile(cp):
    best_s, best_i = cp.zeros((1, 2), dtype=cp.float32), cp.full((1, 2), -1, dtype=cp.int64)
    with pytest.raises(TypeError, match="scores must be float32"):
        cuda.launch_topk_merge_tile(cp.zeros((1, 3)), 0, 0, None, 2, best_s, best_i)


# ----------------------------------------------------------------------------------------------
# co-occurrence

def _small_corpus(seed=0, n_sentences=30, vocab=12):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 9, n_sentences)  # empty sentences included
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = rng.integers(0, vocab, offsets[-1]).astype(np.int32)
    return ids, offsets


@pytest.mark.cuda
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("distance_weighting", [True, False])
def test_gpu_cooccurrence_matches_the_reference(cp, symmetric, distance_weighting):
    ids, offsets = _small_corpus()
    got = cuda.cooccurrence(cp.asarray(ids), cp.asarray(offsets), 12, window=3, symmetric=symmetric,
                            distance_weighting=distance_weighting).get()
    ref = cooccurrence_reference(ids, offsets, 12, 3, symmetric, distance_weighting)
    assert got.dtype == np.float32 and got.shape == (12, 12)
    np.testing.assert_array_equal(got.toarray(), ref.astype(np.float32))
    assert got.nnz == np.count_nonzero(ref)
    assert all((np.diff(got.indices[a:b]) > 0).all() for a, b in zip(got.indptr[:-1], got.indptr[1:]))


@pytest.mark.cuda
def test_gpu_cooccurrence_in_many_chunks_equals_one_chunk(cp):
    ids, offsets = _small_corpus(seed=3, n_sentences=200)
    one = cuda.cooccurrence(cp.asarray(ids), cp.asarray(offsets), 12, window=4).get()
    many = cuda.cooccurrence(cp.asarray(ids), cp.asarray(offsets), 12, window=4, chunk_records=40).get()
    np.testing.assert_array_equal(one.toarray(), many.toarray())


@pytest.mark.cuda
def test_gpu_cooccurrence_never_pairs_across_sentences(cp):
    ids, offsets = np.array([0, 1, 2, 3], dtype=np.int32), np.array([0, 2, 4], dtype=np.int64)
    got = cuda.cooccurrence(cp.asarray(ids), cp.asarray(offsets), 4, window=5).get().toarray()
    assert got[1, 2] == 0 and got[0, 1] == 1 and got[2, 3] == 1 and got.sum() == 4


# ----------------------------------------------------------------------------------------------
# GloVe

def _glove_problem(n_words=15, dim=37, nnz=120, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_words, nnz).astype(np.int32)
    cols = rng.integers(0, n_words, nnz).astype(np.int32)
    x = rng.uniform(1, 200, nnz).astype(np.float32)
    records = np.empty((nnz, 4), dtype=np.int32)
    records[:, 0], records[:, 1] = rows, cols
    records[:, 2] = np.log(x).astype(np.float32).view(np.int32)
    records[:, 3] = np.minimum(1, (x / 100) ** 0.75).astype(np.float32).view(np.int32)
    params = {
        "word": ((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32),
        "context": ((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32),
        "word_bias": ((rng.random(n_words) - 0.5) / dim).astype(np.float32),
        "context_bias": ((rng.random(n_words) - 0.5) / dim).astype(np.float32),
        "word_gradsq": np.ones((n_words, dim), dtype=np.float32),
        "context_gradsq": np.ones((n_words, dim), dtype=np.float32),
        "word_bias_gradsq": np.ones(n_words, dtype=np.float32),
        "context_bias_gradsq": np.ones(n_words, dtype=np.float32),
    }
    return records, params


@pytest.mark.cuda
def test_gpu_glove_sequential_epoch_matches_the_serial_reference(cp):
    records, params = _glove_problem()
    device_params = {name: cp.asarray(value) for name, value in params.items()}
    cost = cuda.glove_epoch(cp.asarray(records), device_params, 0.05, 1.0, sequential=True)
    ref, ref_cost = glove_epoch_reference(records, params, 0.05, 1.0)
    assert cost == pytest.approx(ref_cost, rel=1e-4)
    for name in params:
        np.testing.assert_allclose(device_params[name].get(), ref[name], rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.cuda
def test_gpu_glove_parallel_epochs_lower_the_cost(cp):
    records, params = _glove_problem(n_words=50, dim=16, nnz=2000, seed=1)
    device_params = {name: cp.asarray(value) for name, value in params.items()}
    records = cp.asarray(records)
    costs = [cuda.glove_epoch(records, device_params, 0.05, 1.0) for _ in range(10)]
    assert costs[-1] < 0.5 * costs[0]


@pytest.mark.cuda
def test_gpu_glove_records_hold_log_x_and_the_weight(cp):
    cooc = sp.csr_matrix(np.array([[0, 50.0], [200.0, 1.0]], dtype=np.float32))
    records = cuda.glove_records(cooc, x_max=100.0, alpha=0.75, seed=0).get()
    got = sorted((int(r), int(c), float(np.int32(lx).view(np.float32)), float(np.int32(w).view(np.float32)))
                 for r, c, lx, w in records)
    expected = [(0, 1, np.log(50), 0.5 ** 0.75), (1, 0, np.log(200), 1.0), (1, 1, 0.0, 0.01 ** 0.75)]
    for g, e in zip(got, expected):
        assert g[:2] == e[:2] and g[2:] == pytest.approx(e[2:], rel=1e-6)
    assert len(got) == 3


# ----------------------------------------------------------------------------------------------
# word2vec

def _w2v_problem(vocab=12, dim=19, seed=0):
    ids, offsets = _small_corpus(seed=seed, n_sentences=12, vocab=vocab)
    rng = np.random.default_rng(seed)
    inp = ((rng.random((vocab, dim)) - 0.5) / dim).astype(np.float32)
    out = (0.1 * rng.standard_normal((vocab, dim))).astype(np.float32)
    prob = rng.integers(0, 2**32, vocab, dtype=np.uint64).astype(np.uint32)
    alias = rng.integers(0, vocab, vocab).astype(np.int32)
    return ids, offsets, inp, out, prob, alias


@pytest.mark.cuda
def test_gpu_keep_mask_replays_the_reference_draws(cp):
    ids, _, _, _, _, _ = _w2v_problem()
    keep_table = np.random.default_rng(5).integers(0, 2**32 + 1, 12, dtype=np.uint64)
    mask = cp.empty(len(ids), dtype=cp.uint8)
    cuda.launch_w2v_keep_mask(cp.asarray(ids), cp.asarray(keep_table), 7, 3, mask)
    np.testing.assert_array_equal(mask.get().astype(bool), keep_mask_reference(ids, keep_table, 7, 3))


@pytest.mark.cuda
@pytest.mark.parametrize("sg,cbow_mean", [(True, True), (False, True), (False, False)])
def test_gpu_word2vec_sequential_pass_matches_the_reference(cp, sg, cbow_mean):
    ids, offsets, inp, out, prob, alias = _w2v_problem()
    d_in, d_out = cp.asarray(inp), cp.asarray(out)
    keep_all = cp.full(12, 2**32, dtype=cp.uint64)
    loss, n_kept = cuda.sgns_epoch(cp.asarray(ids), cp.asarray(offsets), d_in, d_out, cp.asarray(prob),
                                   cp.asarray(alias), keep_all, window=3, negative=4, alpha=0.05, min_alpha=0.05,
                                   sg=sg, cbow_mean=cbow_mean, seed=11, epoch=2, words_before=0,
                                   total_words=len(ids), sequential=True)
    ref_in, ref_out, ref_loss = word2vec_reference(ids, offsets, inp, out, prob, alias, 3, 4, 0.05, sg,
                                                   cbow_mean, 11, 2)
    assert n_kept == len(ids)
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(d_in.get(), ref_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(d_out.get(), ref_out, rtol=1e-4, atol=1e-6)


@pytest.mark.cuda
def test_gpu_subsample_drops_tokens_and_keeps_sentence_offsets(cp):
    ids, offsets = np.array([0, 1, 0, 1, 1], dtype=np.int32), np.array([0, 2, 5], dtype=np.int64)
    keep_table = np.array([0, 2**32], dtype=np.uint64)  # word 0 never kept, word 1 always
    kept, kept_offsets = cuda.subsample(cp.asarray(ids), cp.asarray(offsets), cp.asarray(keep_table), 0, 0)
    assert kept.get().tolist() == [1, 1, 1]
    assert kept_offsets.get().tolist() == [0, 1, 3]


@pytest.mark.cuda
@pytest.mark.parametrize("sg", [True, False])
def test_gpu_word2vec_parallel_epochs_lower_the_loss(cp, sg):
    ids, offsets = _small_corpus(seed=4, n_sentences=3000, vocab=30)
    rng = np.random.default_rng(0)
    inp = cp.asarray(((rng.random((30, 24)) - 0.5) / 24).astype(np.float32))
    out = cp.zeros((30, 24), dtype=cp.float32)
    prob, alias = cp.full(30, 2**32 - 1, dtype=cp.uint32), cp.arange(30, dtype=cp.int32)  # uniform noise
    keep_all = cp.full(30, 2**32, dtype=cp.uint64)
    losses = [cuda.sgns_epoch(cp.asarray(ids), cp.asarray(offsets), inp, out, prob, alias, keep_all, 5, 5, 0.025,
                              0.025, sg, True, 1, epoch, 0, 1)[0] for epoch in range(3)]
    assert losses[-1] < losses[0]
    assert bool(cp.isfinite(inp).all())


@pytest.mark.cuda
def test_gpu_word2vec_rejects_a_float64_table(cp):
    ids = cp.zeros(3, dtype=cp.int32)
    with pytest.raises(TypeError, match="input_vectors must be float32"):
        cuda.launch_sgns(ids, cp.array([0, 3], dtype=cp.int64), 0, 3, cp.zeros((2, 4)),
                         cp.zeros((2, 4), dtype=cp.float32), cp.zeros(2, dtype=cp.uint32), cp.zeros(2, dtype=cp.int32),
                         2, 1, 0.1, True, True, 0, 0, cp.zeros(1))


# ----------------------------------------------------------------------------------------------
# PPMI and randomized SVD

@pytest.mark.cuda
@pytest.mark.parametrize("cds,shift", [(0.75, 1.0), (1.0, 5.0)])
def test_gpu_ppmi_matches_the_dense_reference(cp, cds, shift):
    rng = np.random.default_rng(0)
    counts = rng.poisson(1.5, (20, 25)).astype(np.float32)
    counts[3] = 0  # an empty row
    got = cuda.ppmi(sp.csr_matrix(counts), cds=cds, shift=shift).get()
    ref = ppmi_reference(counts, cds, shift)
    np.testing.assert_allclose(got.toarray(), ref, rtol=1e-5, atol=1e-6)
    assert (got.data > 0).all()


@pytest.mark.cuda
@pytest.mark.parametrize("shape", [(300, 80), (80, 300)])
@pytest.mark.parametrize("sparse", [True, False])
def test_gpu_randomized_svd_singular_values_match_numpy(cp, shape, sparse):
    rng = np.random.default_rng(0)
    m, n = shape
    # a spectrum that decays fast enough for 4 power iterations to resolve the top 10 to 1e-4
    u, _ = np.linalg.qr(rng.standard_normal((m, 40)))
    v, _ = np.linalg.qr(rng.standard_normal((n, 40)))
    x = ((u * 0.7 ** np.arange(40)) @ v.T).astype(np.float32)
    X = sp.csr_matrix(x) if sparse else x
    U, S, Vt = cuda.randomized_svd(X, 10, seed=3)
    U, S, Vt = U.get(), S.get(), Vt.get()
    ref = np.linalg.svd(x.astype(np.float64), compute_uv=False)[:10]
    np.testing.assert_allclose(S, ref, rtol=1e-4)
    assert U.shape == (m, 10) and Vt.shape == (10, n)
    np.testing.assert_allclose(U.T @ U, np.eye(10), atol=1e-4)
    # the largest-magnitude entry of each column of U is positive (svd_flip)
    assert (U[np.abs(U).argmax(axis=0), np.arange(10)] > 0).all()


@pytest.mark.cuda
def test_gpu_randomized_svd_rejects_k_above_the_rank_bound(cp):
    with pytest.raises(ValueError, match="k must be in"):
        cuda.randomized_svd(np.eye(3, dtype=np.float32), 4)



# ----------------------------------------------------------------------------------------------
# the public API, one test body per device (the cuda run is skipped without a GPU)

def _public(name):
    import embedcore as ec
    if not hasattr(ec, name):
        pytest.skip(f"embedcore.{name} is not in this build")
    return getattr(ec, name)


def test_cosine_topk_matches_the_reference_on_each_device(device):
    cosine_topk = _public("cosine_topk")
    rng = np.random.default_rng(7)
    queries = rng.standard_normal((20, 12)).astype(np.float32)
    database = rng.standard_normal((150, 12)).astype(np.float32)
    exclude = rng.integers(-1, 150, 20)
    scores, indices = cosine_topk(queries, database, k=5, exclude=exclude, device=device)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float32 and indices.dtype == np.int64
    ref_s, ref_i = topk_reference(queries, database, 5, exclude)
    _topk_close(scores, indices, ref_s, ref_i)


def test_cosine_topk_keeps_cupy_inputs_on_the_gpu(cp):
    cosine_topk = _public("cosine_topk")
    database = cp.asarray(np.random.default_rng(8).standard_normal((30, 4)).astype(np.float32))
    scores, indices = cosine_topk(database[:3], database, k=2, device="cuda")
    assert isinstance(scores, cp.ndarray) and isinstance(indices, cp.ndarray)
    assert indices.get()[:, 0].tolist() == [0, 1, 2]


def test_cooccurrence_matches_the_reference_on_each_device(device):
    cooccurrence = _public("cooccurrence")
    from embedcore.corpus import EncodedCorpus
    ids, offsets = _small_corpus(seed=9, n_sentences=50)
    got = cooccurrence(EncodedCorpus(ids, offsets), 12, window=4, device=device)
    assert sp.issparse(got) and got.dtype == np.float32
    np.testing.assert_array_equal(got.toarray(), cooccurrence_reference(ids, offsets, 12, 4).astype(np.float32))


def test_ppmi_of_a_cupy_matrix_stays_on_the_gpu(cp):
    ppmi = _public("ppmi")
    from cupyx.scipy import sparse as csp
    counts = np.random.default_rng(10).poisson(2.0, (15, 15)).astype(np.float32)
    got = ppmi(csp.csr_matrix(sp.csr_matrix(counts)), cds=0.75)
    assert csp.issparse(got)
    np.testing.assert_allclose(got.get().toarray(), ppmi_reference(counts, 0.75), rtol=1e-5, atol=1e-6)


def test_randomized_svd_singular_values_on_each_device(device):
    randomized_svd = _public("randomized_svd")
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((120, 8)) @ np.diag(2.0 ** -np.arange(8)) @ rng.standard_normal((8, 90))).astype(np.float32)
    U, S, Vt = randomized_svd(sp.csr_matrix(x), 5, seed=0, device=device)
    assert isinstance(S, np.ndarray)
    np.testing.assert_allclose(S, np.linalg.svd(x.astype(np.float64), compute_uv=False)[:5], rtol=1e-4)


def test_glove_fit_lowers_the_cost_on_each_device(device):
    GloVe = _public("GloVe")
    rng = np.random.default_rng(12)
    counts = sp.csr_matrix(rng.poisson(3.0, (40, 40)).astype(np.float32))
    model = GloVe(vector_size=16, epochs=8, seed=1, device=device).fit(counts, vocab=[f"w{i}" for i in range(40)])
    # random counts: the cost falls to its noise floor (about 0.63x the first epoch's here)
    loss = model.loss_history
    assert loss[-1] < 0.7 * loss[0] and all(b <= 1.01 * a for a, b in zip(loss, loss[1:]))
    assert isinstance(model.word_vectors, np.ndarray) and np.isfinite(model.word_vectors).all()


def test_svd_embedding_singular_values_on_each_device(device):
    SVDEmbedding = _public("SVDEmbedding")
    rng = np.random.default_rng(13)
    counts = sp.csr_matrix(rng.poisson(2.0, (60, 60)).astype(np.float32))
    model = SVDEmbedding(vector_size=6, n_iter=8, device=device).fit(counts, vocab=[f"w{i}" for i in range(60)])
    weighted = _public("ppmi")(counts, cds=0.75).toarray().astype(np.float64)
    np.testing.assert_allclose(model.singular_values_, np.linalg.svd(weighted, compute_uv=False)[:6], rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("sg", [1, 0])
def test_word2vec_recovers_the_planted_analogies_on_each_device(device, sg):
    Word2Vec = _public("Word2Vec")
    from embedcore.datasets import synthetic_corpus
    synth = synthetic_corpus(1_000_000, 2_000, seed=0)
    model = Word2Vec(vector_size=50, sg=sg, min_count=1, epochs=3, workers=1, seed=1, device=device)
    model.fit(synth.corpus, vocab=synth.vocab)
    assert model.stats["words_trained"] == 3 * len(synth.corpus)
    assert analogy_accuracy(model.wv.words, model.wv.vectors, synth.analogies) >= 0.9
