"""The fastText CUDA kernel (backends/cuda/kernels/fasttext.cu) against the float64 reference of
the CPU's step, on the CPU SIMT emulator (tests/cpp/cuda_emu.hpp) and, where one is usable, on
the GPU through launch_fasttext; and FastText(device="cuda") against the CPU (GPU only)."""
import ctypes

import numpy as np
import pytest

from embedcore.backends.cuda import launch as cuda
from cuda_reference import ec_random, noise_word
from test_cuda_kernels import alias_table, small_corpus
from test_fasttext import morphology_corpus, subword_step_reference


class Emulated:
    def __init__(self, library):
        self._call = library.call

    def train(self, ids, offsets, begin, end, inp, out, indptr, rows, prob, alias, window, negative, alpha, sg, seed,
              epoch, sequential):
        grid, block = (1, 32) if sequential else (3, 64)
        shared = cuda.fasttext_shared_bytes(out.shape[1], negative, block // 32, window)
        loss = np.zeros(1)
        self._call("emu_fasttext_train", ctypes.c_uint(grid), ctypes.c_uint(block), ctypes.c_size_t(shared), ids,
                   offsets, ctypes.c_int64(len(offsets) - 1), ctypes.c_int64(begin), ctypes.c_int64(end), inp, out,
                   ctypes.c_int(out.shape[1]), indptr, rows, prob, alias, ctypes.c_int(out.shape[0]),
                   ctypes.c_int(window), ctypes.c_int(negative), ctypes.c_float(alpha), ctypes.c_int(int(sg)),
                   ctypes.c_uint64(seed), ctypes.c_uint64(epoch), loss)
        return float(loss[0])


class Gpu:
    def __init__(self):
        import cupy
        self.cp = cupy

    def train(self, ids, offsets, begin, end, inp, out, indptr, rows, prob, alias, window, negative, alpha, sg, seed,
              epoch, sequential):
        cp = self.cp
        d_in, d_out, loss = cp.asarray(inp), cp.asarray(out), cp.zeros(1, cp.float64)
        cuda.launch_fasttext(cp.asarray(ids), cp.asarray(offsets), begin, end, d_in, d_out, cp.asarray(indptr),
                             cp.asarray(rows), cp.asarray(prob), cp.asarray(alias), window, negative, alpha, sg, seed,
                             epoch, loss, sequential)
        inp[...], out[...] = d_in.get(), d_out.get()
        return float(loss[0])


@pytest.fixture
def engine(kernel_engine, simt_emulator):
    if kernel_engine == "gpu":
        return Gpu()
    return Emulated(simt_emulator("emulated_fasttext.cpp", seed=11))


def subwords(n_words, bucket, seed):
    """Made-up words' input rows: word i, then a few of the `bucket` n-gram rows (repeats too)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 6, n_words)
    indptr = np.concatenate([[0], np.cumsum(lengths + 1)]).astype(np.int64)
    rows = np.concatenate([np.concatenate([[i], n_words + rng.integers(0, bucket, k)])
                           for i, k in enumerate(lengths)]).astype(np.int32)
    return indptr, rows


def replay(ids, offsets, begin, end, inp, out, indptr, rows, prob, alias, window, negative, alpha, sg, seed, epoch):
    """The launch in sequential order with the kernel's draws and the CPU's float64 step."""
    inp, out = inp.astype(np.float64), out.astype(np.float64)
    loss = 0.0
    for p in range(begin, end):
        s = int(np.searchsorted(offsets, p, side="right")) - 1
        b = 1 + ec_random(seed, 4 * epoch + 1, p) % window
        lo, hi = max(p - b, int(offsets[s])), min(p + b + 1, int(offsets[s + 1]))
        contexts = [int(ids[q]) for q in range(lo, hi) if q != p]
        if not contexts:
            continue
        centre = int(ids[p])
        negs = [noise_word(ec_random(seed, 4 * epoch + 2, p * 256 + j), prob, alias) for j in range(1, negative + 1)]
        if sg:
            input_rows = rows[indptr[centre]:indptr[centre + 1]].tolist()
            targets = contexts + negs
            weights = [1.0] * len(contexts) + [float(sum(c != n for c in contexts)) for n in negs]
            n_pos = len(contexts)
        else:
            input_rows = [r for c in contexts for r in rows[indptr[c]:indptr[c + 1]].tolist()]
            targets = [centre] + negs
            weights = [1.0] + [0.0 if n == centre else 1.0 for n in negs]
            n_pos = 1
        loss += subword_step_reference(inp, out, input_rows, targets, weights, n_pos, alpha)
    return inp, out, loss


def tables(n_words, bucket, dim, seed):
    rng = np.random.default_rng(seed)
    inp = ((rng.random((n_words + bucket, dim)) - 0.5) / 2).astype(np.float32)
    out = ((rng.random((n_words, dim)) - 0.5) / 2).astype(np.float32)
    return inp, out


@pytest.mark.parametrize("sg", [True, False])
def test_one_sequential_launch_equals_the_cpu_step(engine, sg):
    # dim 40: a full 32-lane stride and a tail; repeated words in windows, noise words that hit
    # a context word or the centre word
    ids, offsets, counts = small_corpus()
    prob, alias = alias_table(counts)
    indptr, rows = subwords(30, 50, seed=1)
    inp, out = tables(30, 50, 40, seed=1)
    want_in, want_out, want_loss = replay(ids, offsets, 0, len(ids), inp, out, indptr, rows, prob, alias, 3, 4, 0.05,
                                          sg, 11, 0)
    loss = engine.train(ids, offsets, 0, len(ids), inp, out, indptr, rows, prob, alias, 3, 4, 0.05, sg, 11, 0,
                        sequential=True)
    np.testing.assert_allclose(inp, want_in, atol=3e-5)
    np.testing.assert_allclose(out, want_out, atol=3e-5)
    assert loss == pytest.approx(want_loss, rel=1e-5)


@pytest.mark.parametrize("sg", [True, False])
def test_parallel_launch_trains_like_the_sequential_one(engine, sg):
    ids, offsets, counts = small_corpus(n_words=200, n_tokens=2000, sentence=20, seed=5)
    prob, alias = alias_table(counts)
    indptr, rows = subwords(200, 300, seed=5)
    inp0, out0 = tables(200, 300, 16, seed=5)
    losses = []
    for sequential in (True, False):
        inp, out = inp0.copy(), out0.copy()
        for epoch in range(2):
            loss = engine.train(ids, offsets, 0, len(ids), inp, out, indptr, rows, prob, alias, 4, 5, 0.05, sg, 9,
                                epoch, sequential=sequential)
        assert np.isfinite(inp).all() and np.isfinite(out).all()
        losses.append(loss)
    # the same updates in another order; n-gram rows shared by many words make concurrent
    # updates collide more often than word2vec's, so the agreement is looser than sgns's 3%
    assert losses[1] == pytest.approx(losses[0], rel=0.06)


def test_the_launch_refuses_ids_outside_the_vocabulary(cp):
    ids, offsets, counts = small_corpus()
    prob, alias = alias_table(counts)
    indptr, rows = subwords(30, 50, seed=1)
    inp, out = tables(30, 50, 8, seed=1)
    ids = ids.copy()
    ids[3] = 30
    with pytest.raises(ValueError, match="ids"):
        cuda.launch_fasttext(cp.asarray(ids), cp.asarray(offsets), 0, len(ids), cp.asarray(inp), cp.asarray(out),
                             cp.asarray(indptr), cp.asarray(rows), cp.asarray(prob), cp.asarray(alias), 3, 4, 0.05,
                             True, 1, 0, cp.zeros(1, cp.float64))


def test_gpu_training_finds_the_planted_morphology_as_the_cpu_does(cp):
    import embedcore as ec
    sentences, stems = morphology_corpus()
    hits = {}
    for device in ("cpu", "cuda"):
        model = ec.FastText(vector_size=32, window=3, min_count=1, epochs=5, bucket=20_000, sample=0, workers=1,
                            seed=3, device=device).fit(sentences)
        hits[device] = sum(model.wv.most_similar(s + "ings", topn=1)[0][0].startswith(s) for s in stems)
    assert hits["cuda"] >= 0.8 * len(stems) and hits["cpu"] >= 0.8 * len(stems)


def test_shared_memory_fits_a_block_for_the_default_settings():
    assert cuda.fasttext_warps_per_block(100, 5, 5) == 8
    with pytest.raises(ValueError, match="shared memory"):
        cuda.fasttext_warps_per_block(8000, 5, 5)
