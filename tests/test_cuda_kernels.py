"""The CUDA kernels (embedcore/backends/cuda/kernels/*.cu) against the CPU's float64 references.

Every test runs on two engines: `emulated`, the kernels compiled as C++ for the SIMT emulator of
tests/cpp/cuda_emu.hpp (always, where g++ exists: the same source, run on the CPU, threads switched
at their barriers in a random order), and `gpu`, the real launch wrappers of
embedcore.backends.cuda on CuPy arrays (skipped without a GPU). The references are the rules the
CPU kernels implement (tests/reference.py), not copies of the GPU code; the GPU's counter-based
random draws are replayed by tests/cuda_reference.py.
"""
import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest

from embedcore.backends.cuda import launch as cuda, loader
from cuda_reference import ec_random, train_positions
from reference import exact_topk, glove_epoch_reference
from simt_emulator import INCLUDE, KERNELS


# ---------------------------------------------------------------------------------------------
# the two engines

class Emulated:
    """The kernels on the CPU emulator, with small launch shapes: `sequential` is one warp;
    otherwise three blocks of two warps, so the multi-warp and multi-block paths run."""

    name = "emulated"

    def __init__(self, library):
        self._call = library.call

    @staticmethod
    def _shape(sequential, warps=2):
        return (1, 32) if sequential else (3, 32 * warps)

    def keep_mask(self, ids, keep_table, seed, epoch):
        mask = np.zeros(len(ids), np.uint8)
        self._call("emu_w2v_keep_mask", ctypes.c_uint(2), ctypes.c_uint(64), ids, ctypes.c_int64(len(ids)),
                   keep_table, ctypes.c_uint64(seed), ctypes.c_uint64(epoch), mask)
        return mask

    def sgns(self, ids, offsets, begin, end, inp, out, prob, alias, window, negative, alpha, sg, cbow_mean, seed,
             epoch, sequential):
        grid, block = self._shape(sequential)
        warps = block // 32
        shared = cuda.sgns_shared_bytes(sg, inp.shape[1], negative, warps, window)
        loss = np.zeros(1)
        common = [ctypes.c_uint(grid), ctypes.c_uint(block), ctypes.c_size_t(shared), ids, offsets,
                  ctypes.c_int64(len(offsets) - 1), ctypes.c_int64(begin), ctypes.c_int64(end), inp, out,
                  ctypes.c_int(inp.shape[1]), prob, alias, ctypes.c_int(inp.shape[0]), ctypes.c_int(window),
                  ctypes.c_int(negative), ctypes.c_float(alpha)]
        if sg:
            self._call("emu_sgns_skipgram", *common, ctypes.c_uint64(seed), ctypes.c_uint64(epoch), loss)
        else:
            self._call("emu_sgns_cbow", *common, ctypes.c_int(int(cbow_mean)), ctypes.c_uint64(seed),
                       ctypes.c_uint64(epoch), loss)
        return float(loss[0])

    def glove_epoch(self, records, p, eta, bias_eta, sequential):
        grid, block = self._shape(sequential)
        cost = np.zeros(1)
        self._call("emu_glove_epoch", ctypes.c_uint(grid), ctypes.c_uint(block), records,
                   ctypes.c_int64(len(records)), p["word"], p["context"], p["word_bias"], p["context_bias"],
                   p["word_gradsq"], p["context_gradsq"], p["word_bias_gradsq"], p["context_bias_gradsq"],
                   ctypes.c_int(p["word"].shape[1]), ctypes.c_float(eta), ctypes.c_float(bias_eta), cost)
        return float(cost[0])

    def topk_merge_tile(self, scores, row_offset, col_offset, exclude, k, best_scores, best_indices):
        rows, cols = scores.shape
        exclude_arg = exclude if exclude is not None else np.zeros(1, np.int64)
        self._call("emu_topk_merge_tile", ctypes.c_uint(min(rows, 3)), ctypes.c_uint(cuda.TOPK_THREADS),
                   ctypes.c_size_t(cuda.topk_shared_bytes(k)), np.ascontiguousarray(scores), ctypes.c_int(rows),
                   ctypes.c_int(cols), ctypes.c_int64(row_offset), ctypes.c_int64(col_offset), exclude_arg,
                   ctypes.c_int(exclude is not None), ctypes.c_int(k), best_scores, best_indices)

    def segment_sums(self, weights, starts):
        sums = np.full(len(starts) - 1, np.nan)
        self._call("emu_segment_sums", ctypes.c_uint(2), ctypes.c_uint(64), weights, starts,
                   ctypes.c_int64(len(starts) - 1), sums)
        return sums

    def cooccur_pairs(self, ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size):
        n = (end - begin) * window * (2 if symmetric else 1)
        keys, weights = np.zeros(n, np.uint64), np.zeros(n)
        self._call("emu_cooccur_pairs", ctypes.c_uint(2), ctypes.c_uint(64), ids, offsets,
                   ctypes.c_int64(len(offsets) - 1), ctypes.c_int64(begin), ctypes.c_int64(end), ctypes.c_int(window),
                   ctypes.c_int(int(symmetric)), ctypes.c_int(int(distance_weighting)), ctypes.c_int64(vocab_size),
                   keys, weights)
        return keys, weights


class Gpu:
    """The kernels through the launch wrappers of embedcore.backends.cuda, on a real GPU."""

    name = "gpu"

    def __init__(self):
        import cupy
        self.cp = cupy

    def keep_mask(self, ids, keep_table, seed, epoch):
        cp = self.cp
        mask = cp.zeros(len(ids), cp.uint8)
        cuda.launch_w2v_keep_mask(cp.asarray(ids), cp.asarray(keep_table), seed, epoch, mask)
        return mask.get()

    def sgns(self, ids, offsets, begin, end, inp, out, prob, alias, window, negative, alpha, sg, cbow_mean, seed,
             epoch, sequential):
        cp = self.cp
        d_in, d_out, loss = cp.asarray(inp), cp.asarray(out), cp.zeros(1, cp.float64)
        cuda.launch_sgns(cp.asarray(ids), cp.asarray(offsets), begin, end, d_in, d_out, cp.asarray(prob),
                         cp.asarray(alias), window, negative, alpha, sg, cbow_mean, seed, epoch, loss, sequential)
        inp[...], out[...] = d_in.get(), d_out.get()
        return float(loss[0])

    def glove_epoch(self, records, p, eta, bias_eta, sequential):
        cp = self.cp
        d = {name: cp.asarray(a) for name, a in p.items()}
        cost = cp.zeros(1, cp.float64)
        cuda.launch_glove_epoch(cp.asarray(records), d["word"], d["context"], d["word_bias"], d["context_bias"],
                                d["word_gradsq"], d["context_gradsq"], d["word_bias_gradsq"],
                                d["context_bias_gradsq"], eta, bias_eta, cost, sequential)
        for name in p:
            p[name][...] = d[name].get()
        return float(cost[0])

    def topk_merge_tile(self, scores, row_offset, col_offset, exclude, k, best_scores, best_indices):
        cp = self.cp
        s, i = cp.asarray(best_scores), cp.asarray(best_indices)
        cuda.launch_topk_merge_tile(cp.asarray(np.ascontiguousarray(scores)), row_offset, col_offset,
                                    None if exclude is None else cp.asarray(exclude), k, s, i)
        best_scores[...], best_indices[...] = s.get(), i.get()

    def segment_sums(self, weights, starts):
        cp = self.cp
        sums = cp.full(len(starts) - 1, cp.nan)
        cuda.launch_segment_sums(cp.asarray(weights), cp.asarray(starts), sums)
        return sums.get()

    def cooccur_pairs(self, ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size):
        cp = self.cp
        n = (end - begin) * window * (2 if symmetric else 1)
        keys, weights = cp.zeros(n, cp.uint64), cp.zeros(n, cp.float64)
        cuda.launch_cooccur_pairs(cp.asarray(ids), cp.asarray(offsets), begin, end, window, symmetric,
                                  distance_weighting, vocab_size, keys, weights)
        return keys.get(), weights.get()


@pytest.fixture
def engine(kernel_engine, simt_emulator):
    if kernel_engine == "gpu":
        return Gpu()
    return Emulated(simt_emulator("emulated_kernels.cpp", seed=7))


# ---------------------------------------------------------------------------------------------
# word2vec

def alias_table(counts):
    from embedcore import _sgd
    return _sgd.word2vec_noise_table(np.asarray(counts, np.int64), 0.75)


def small_corpus(n_words=30, n_tokens=400, sentence=13, seed=0):
    rng = np.random.default_rng(seed)
    ids = (rng.zipf(1.5, n_tokens) % n_words).astype(np.int32)
    offsets = np.arange(0, n_tokens + 1, sentence, dtype=np.int64)
    if offsets[-1] != n_tokens:
        offsets = np.append(offsets, n_tokens)
    counts = np.bincount(ids, minlength=n_words) + 1
    return ids, offsets, counts


def replay_word2vec(ids, offsets, begin, end, inp, out, prob, alias, window, negative, alpha, sg, mean, seed,
                    epoch):
    """One launch in sequential order with the kernels' draws and the CPU's float64 step rules:
    (input, output, loss)."""
    inp, out = np.array(inp, dtype=np.float64), np.array(out, dtype=np.float64)
    loss = train_positions(ids, offsets, begin, end, inp, out, prob, alias, window, negative, alpha, sg, mean, seed,
                           epoch)
    return inp, out, loss


def model(n_words, dim, seed):
    rng = np.random.default_rng(seed)
    return ((rng.random((n_words, dim), dtype=np.float32) - 0.5) / 2).astype(np.float32), \
        ((rng.random((n_words, dim), dtype=np.float32) - 0.5) / 2).astype(np.float32)


def test_keep_mask_follows_the_shared_subsampling_rule(engine):
    ids, _, counts = small_corpus()
    from embedcore import _sgd
    keep_table = _sgd.word2vec_keep_table(counts, 1e-2, int(counts.sum()))
    mask = engine.keep_mask(ids, keep_table, 3, 2)
    want = [(ec_random(3, 8, p) >> 32) < int(keep_table[w]) for p, w in enumerate(ids)]
    assert mask.astype(bool).tolist() == want
    assert 0 < mask.sum() < len(ids)


@pytest.mark.parametrize("sg,mean", [(True, False), (False, True), (False, False)])
def test_one_sequential_launch_equals_the_cpu_step_rules(engine, sg, mean):
    # dim 40: one full 32-lane stride and a tail; repeated words inside windows; negatives that
    # hit the centre word or repeat
    ids, offsets, counts = small_corpus()
    prob, alias = alias_table(counts)
    inp, out = model(30, 40, seed=1)
    want_in, want_out, want_loss = replay_word2vec(ids, offsets, 0, len(ids), inp, out, prob, alias, 3, 4, 0.05,
                                                   sg, mean, 11, 0)
    loss = engine.sgns(ids, offsets, 0, len(ids), inp, out, prob, alias, 3, 4, 0.05, sg, mean, 11, 0,
                       sequential=True)
    np.testing.assert_allclose(inp, want_in, atol=2e-5)
    np.testing.assert_allclose(out, want_out, atol=2e-5)
    assert loss == pytest.approx(want_loss, rel=1e-5)


def test_cbow_mean_gives_every_context_row_the_whole_gradient(engine):
    # one centre word with four context words: with the mean, each context row must move by
    # e = sum_t g_t out_t, not e / 4 (the GPU divided it before)
    ids = np.array([1, 2, 0, 3, 4], np.int32)
    offsets = np.array([0, 5], np.int64)
    prob, alias = alias_table(np.ones(8, np.int64))
    inp, out = model(8, 16, seed=2)
    window = 2
    assert 1 + ec_random(2, 1, 2) % window == 2  # with seed 2 the centre at position 2 sees all four
    want_in, want_out, _ = replay_word2vec(ids, offsets, 2, 3, inp, out, prob, alias, window, 3, 0.1, False, True,
                                           2, 0)
    engine.sgns(ids, offsets, 2, 3, inp, out, prob, alias, window, 3, 0.1, False, True, 2, 0, sequential=True)
    np.testing.assert_allclose(inp, want_in, atol=1e-6)
    np.testing.assert_allclose(out, want_out, atol=1e-6)


def test_centre_words_without_context_take_no_step(engine):
    ids = np.arange(6, dtype=np.int32)
    offsets = np.arange(7, dtype=np.int64)  # six one-word sentences
    prob, alias = alias_table(np.ones(6, np.int64))
    inp, out = model(6, 8, seed=3)
    before = inp.copy(), out.copy()
    for sg in (True, False):
        loss = engine.sgns(ids, offsets, 0, 6, inp, out, prob, alias, 3, 5, 0.1, sg, True, 1, 0, sequential=True)
        assert loss == 0.0
        np.testing.assert_array_equal(inp, before[0])
        np.testing.assert_array_equal(out, before[1])


def test_skipgram_loss_is_summed_in_float64_over_a_long_chunk(engine):
    ids, offsets, counts = small_corpus(n_words=40, n_tokens=3000, sentence=50, seed=4)
    prob, alias = alias_table(counts)
    inp, out = model(40, 4, seed=4)
    _, _, want = replay_word2vec(ids, offsets, 0, len(ids), inp, out, prob, alias, 5, 5, 0.001, True, True, 2, 1)
    loss = engine.sgns(ids, offsets, 0, len(ids), inp, out, prob, alias, 5, 5, 0.001, True, True, 2, 1,
                       sequential=True)
    # ~90,000 pair losses below 1: a float32 running sum is off by ~1e-6 of the total, the float64
    # one by the pairs' own float32 rounding (~1e-7)
    assert loss == pytest.approx(want, rel=5e-7)


@pytest.mark.parametrize("sg", [True, False])
def test_parallel_launch_trains_like_the_sequential_one(engine, sg):
    ids, offsets, counts = small_corpus(n_words=200, n_tokens=2500, sentence=20, seed=5)
    prob, alias = alias_table(counts)
    inp0, out0 = model(200, 16, seed=5)
    losses = []
    for sequential in (True, False):
        inp, out = inp0.copy(), out0.copy()
        loss = 0.0
        for epoch in range(2):
            loss = engine.sgns(ids, offsets, 0, len(ids), inp, out, prob, alias, 4, 5, 0.05, sg, True, 9, epoch,
                               sequential=sequential)
        assert np.isfinite(inp).all() and np.isfinite(out).all()
        losses.append(loss)
    # the same updates in another order: the last epoch's loss agrees closely
    assert losses[1] == pytest.approx(losses[0], rel=0.03)


# ---------------------------------------------------------------------------------------------
# GloVe

def glove_problem(n_words=25, dim=20, nnz=300, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_words, nnz)
    cols = rng.integers(0, n_words, nnz)
    x = rng.integers(1, 200, nnz).astype(np.float64)
    records = np.empty((nnz, 4), np.int32)
    records[:, 0], records[:, 1] = rows, cols
    records[:, 2] = np.log(x).astype(np.float32).view(np.int32)
    records[:, 3] = np.minimum(1.0, (x / 100.0) ** 0.75).astype(np.float32).view(np.int32)
    params = {
        "word": ((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32),
        "context": ((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32),
        "word_bias": ((rng.random(n_words) - 0.5) / dim).astype(np.float32),
        "context_bias": ((rng.random(n_words) - 0.5) / dim).astype(np.float32),
        "word_gradsq": np.ones((n_words, dim), np.float32),
        "context_gradsq": np.ones((n_words, dim), np.float32),
        "word_bias_gradsq": np.ones(n_words, np.float32),
        "context_bias_gradsq": np.ones(n_words, np.float32),
    }
    return records, params


@pytest.mark.parametrize("bias_eta", [1.0, 0.05])
def test_sequential_glove_epoch_equals_the_float64_reference(engine, bias_eta):
    records, params = glove_problem()
    want, want_cost = glove_epoch_reference(records, params, 0.05, bias_eta)
    cost = engine.glove_epoch(records, params, 0.05, bias_eta, sequential=True)
    for name in params:
        np.testing.assert_allclose(params[name], want[name], rtol=2e-5, atol=1e-6, err_msg=name)
    assert cost == pytest.approx(want_cost, rel=1e-5)


def test_parallel_glove_epochs_lower_the_cost_like_the_sequential_ones(engine):
    records, params0 = glove_problem(n_words=200, nnz=3000, seed=1)
    costs = []
    for sequential in (True, False):
        params = {k: v.copy() for k, v in params0.items()}
        run = [engine.glove_epoch(records, params, 0.05, 1.0, sequential) for _ in range(4)]
        assert run[-1] < run[0]
        costs.append(run[-1])
    assert costs[1] == pytest.approx(costs[0], rel=0.05)


# ---------------------------------------------------------------------------------------------
# top-k

def merge_in_tiles(engine, scores, k, tile_cols, exclude=None):
    n = scores.shape[0]
    best_s = np.zeros((n, k), np.float32)
    best_i = np.full((n, k), -1, np.int64)
    for c0 in range(0, scores.shape[1], tile_cols):
        engine.topk_merge_tile(scores[:, c0:c0 + tile_cols], 0, c0, exclude, k, best_s, best_i)
    return best_s, best_i


@pytest.mark.parametrize("k,tile_cols", [(1, 700), (7, 300), (7, 1000), (129, 700), (300, 2500), (1024, 2500)])
def test_merged_tiles_give_the_exact_top_k(engine, k, tile_cols):
    rng = np.random.default_rng(k)
    scores = rng.standard_normal((3, 6000)).astype(np.float32)
    scores[1, ::3] = 0.5  # a run of ties across tiles
    scores[2, :] = np.round(scores[2, :], 1)  # many ties everywhere
    scores[2, 10:20] = -0.0  # -0 ties +0
    exclude = np.array([5, -1, 11], np.int64)
    want_s, want_i = exact_topk(scores, k, exclude)
    got_s, got_i = merge_in_tiles(engine, scores, k, tile_cols, exclude)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_array_equal(got_s, want_s)


def test_a_row_with_fewer_than_k_candidates_keeps_empty_slots_last(engine):
    scores = np.array([[0.3, 0.9, 0.1]], np.float32)
    got_s, got_i = merge_in_tiles(engine, scores, 5, 2, np.array([1], np.int64))
    assert got_i.tolist() == [[0, 2, -1, -1, -1]]
    np.testing.assert_array_equal(got_s[0, :2], np.array([0.3, 0.1], np.float32))


# ---------------------------------------------------------------------------------------------
# co-occurrence

def test_segment_sums_are_exact_and_deterministic_for_long_and_short_runs(engine):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 5, 200)
    lengths[[3, 50, 51, 199]] = [5000, 33, 1000, 70]  # runs for a whole warp
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    weights = 1.0 / rng.integers(1, 10, starts[-1]).astype(np.float64)
    sums = engine.segment_sums(weights, starts)
    np.testing.assert_allclose(sums, np.add.reduceat(weights, starts[:-1]), rtol=1e-12)
    np.testing.assert_array_equal(engine.segment_sums(weights, starts), sums)


def test_cooccur_pairs_count_what_the_float64_counter_counts(engine):
    ids, offsets, _ = small_corpus(n_words=12, n_tokens=200, sentence=17, seed=2)
    keys, weights = engine.cooccur_pairs(ids, offsets, 0, len(ids), 4, True, True, 12)
    got = np.zeros(144)
    valid = keys != np.uint64(2 ** 64 - 1)
    np.add.at(got, keys[valid].astype(np.int64), weights[valid])
    want = np.zeros((12, 12))
    for s in range(len(offsets) - 1):
        for p in range(offsets[s], offsets[s + 1]):
            for d in range(1, 5):
                if p + d < offsets[s + 1]:
                    want[ids[p], ids[p + d]] += 1.0 / d
                    want[ids[p + d], ids[p]] += 1.0 / d
    np.testing.assert_allclose(got.reshape(12, 12), want)


# ---------------------------------------------------------------------------------------------
# the sources: every kernel compiles as the loader gives it to NVRTC, and with plain nvcc

def nvrtc_library():
    try:
        import nvidia
    except ImportError:
        return None
    import glob
    for base in getattr(nvidia, "__path__", []):
        found = sorted(glob.glob(os.path.join(base, "*", "lib", "libnvrtc.so*")))
        if found:
            return found[0]
    return None


@pytest.mark.parametrize("name", loader.KERNEL_FILES)
def test_the_loaders_source_compiles_with_nvrtc(name):
    path = nvrtc_library()
    if path is None:
        pytest.skip("NVRTC is not installed (pip install nvidia-cuda-nvrtc)")
    lib = ctypes.CDLL(path)
    source = loader.kernel_source(name).encode()
    for arch in (b"compute_80", b"compute_90"):
        program = ctypes.c_void_p()
        assert lib.nvrtcCreateProgram(ctypes.byref(program), source, name.encode(), 0, None, None) == 0
        options = (ctypes.c_char_p * 2)(b"-std=c++17", b"--gpu-architecture=" + arch)
        status = lib.nvrtcCompileProgram(program, 2, options)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(program, log)
        lib.nvrtcDestroyProgram(ctypes.byref(program))
        assert status == 0, log.value.decode()


def test_the_loader_inlines_the_shared_math_with_line_directives():
    source = loader.kernel_source("sgns.cu")
    assert '#line 1 "ecmath/sgns.hpp"' in source and '#line 1 "common.cuh"' in source
    assert "#include" not in "\n".join(line for line in source.splitlines() if '"' in line and "#include" in line
                                       and not line.lstrip().startswith("#include <"))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_every_kernel_compiles_with_nvcc(tmp_path, arch):
    for name in loader.KERNEL_FILES:
        result = subprocess.run(["nvcc", "-std=c++17", f"-arch={arch}", "--ptx", "-I", INCLUDE, "-o",
                                 str(tmp_path / (name + ".ptx")), os.path.join(KERNELS, name)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# the launch wrappers' own checks (GPU only)

def test_launch_wrappers_refuse_wrong_arrays_and_k_beyond_the_limit(cp):
    scores = cp.zeros((2, 10), cp.float32)
    with pytest.raises(TypeError, match="best_indices"):
        cuda.launch_topk_merge_tile(scores, 0, 0, None, 3, cp.zeros((2, 3), cp.float32), cp.zeros((2, 3), cp.int32))
    with pytest.raises(ValueError, match="k must be"):
        cuda.launch_topk_merge_tile(scores, 0, 0, None, cuda.TOPK_MAX_K + 1,
                                    cp.zeros((2, cuda.TOPK_MAX_K + 1), cp.float32),
                                    cp.full((2, cuda.TOPK_MAX_K + 1), -1, cp.int64))
    ids = cp.asarray(np.array([0, 5, 1], np.int32))
    with pytest.raises(ValueError, match="ids must lie in"):
        cuda.launch_w2v_keep_mask(ids, cp.zeros(3, cp.uint64), 1, 0, cp.zeros(3, cp.uint8))


def test_hogwild_launches_run_at_most_one_warp_per_16_words(monkeypatch):
    # (the grid helper itself asks the GPU how many blocks fill it; here: enough)
    monkeypatch.setattr(cuda, "_grid", lambda n_items, per_block: -(-n_items // per_block))
    assert cuda._hogwild_grid(10_000, 30, 8) == (1, 1)       # a test's vocabulary: one warp
    assert cuda._hogwild_grid(10_000, 500, 8) == (4, 8)      # 31 warps
    blocks, warps = cuda._hogwild_grid(10 ** 8, 71_000, 8)   # a real vocabulary fills the GPU
    assert warps == 8 and blocks * warps == 71_000 // 16 + (-(71_000 // 16) % 8)
    assert cuda._hogwild_grid(3, 71_000, 8) == (1, 3)        # never more warps than items
