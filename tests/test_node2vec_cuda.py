"""The GPU path of Node2Vec: the walk kernel (walks.cu) against the CPU kernel's walks, bit for bit,
on the SIMT emulator (tests/cpp/cuda_emu.hpp) and on a GPU when there is one; the CUDA backend's
node2vec operations on numpy with emulated kernels (tests/cuda_emulation.py); Node2Vec on a GPU."""
import ctypes

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore import _sgd
from embedcore.backends import cpu
from embedcore.backends.cuda import probe
from embedcore.datasets import stochastic_block_model
from embedcore.word2vec import initial_vectors
from embedcore.graph import from_scipy


def graph(weighted, directed=False, seed=0):
    a, _ = stochastic_block_model(60, 170, n_communities=3, seed=seed)
    a = a.tolil()
    rng = np.random.default_rng(seed)
    if weighted:
        rows, cols = a.nonzero()
        for r, c in zip(rows, cols):
            a[r, c] = float(rng.integers(1, 9))
    if directed:
        a[5, :] = 0  # a dangling node
    g = from_scipy(a.tocsr(), weighted=weighted, directed=directed)
    return cpu.walk_graph(g.indptr, g.indices, g.weights, 1)


@pytest.fixture(scope="module")
def emulated_walks(simt_emulator):
    library = simt_emulator("emulated_walks.cpp")

    def run(wg, starts, walk_length, p, q, max_trials, seed, first_index, grid=3, block=64):
        starts = np.ascontiguousarray(starts, dtype=np.int32)
        walks = np.zeros((len(starts), walk_length), dtype=np.int32)
        lengths = np.zeros(len(starts), dtype=np.int32)
        weighted = wg.weights is not None
        dummy_f, dummy_u, dummy_i = np.zeros(1, np.float32), np.zeros(1, np.uint32), np.zeros(1, np.int32)
        library.call("emu_node2vec_walks", ctypes.c_uint(grid), ctypes.c_uint(block), wg.indptr, wg.indices,
                     wg.weights if weighted else dummy_f, wg.alias_prob if weighted else dummy_u,
                     wg.alias_index if weighted else dummy_i, ctypes.c_int(int(weighted)), starts,
                     ctypes.c_longlong(len(starts)), ctypes.c_int(walk_length), ctypes.c_double(1.0 / p),
                     ctypes.c_double(1.0 / q), ctypes.c_int(max_trials), ctypes.c_ulonglong(seed),
                     ctypes.c_ulonglong(first_index), walks, lengths)
        return walks, lengths
    return run


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("p,q,max_trials", [(1.0, 1.0, 16), (0.25, 4.0, 16), (4.0, 0.5, 16), (0.05, 2.0, 2),
                                            (0.5, 2.0, 0)])
def test_emulated_gpu_walks_equal_the_cpu_walks(emulated_walks, weighted, directed, p, q, max_trials):
    wg = graph(weighted, directed)
    starts = np.random.default_rng(1).integers(0, 60, 500).astype(np.int32)
    expected = _sgd.walks_generate(wg.indptr, wg.indices, wg.weights, wg.alias_prob, wg.alias_index, starts, 25, p,
                                   q, 123, 77, 2, max_trials)
    got = emulated_walks(wg, starts, 25, p, q, max_trials, 123, 77)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[0], expected[0])
    if directed:
        assert (got[1] < 25).any()


# ------------------------------------------------------------------------------ operations on numpy
@pytest.fixture
def emulated_cuda(monkeypatch):
    """device="cuda" on numpy: emulated sgns/keep-mask kernels (tests/cuda_emulation.py) and the
    CPU kernel in place of the walk launch (walks.cu gives the same walks, checked above)."""
    import cuda_emulation
    from embedcore.backends.cuda import ops
    cuda_emulation.install(monkeypatch)

    def walks_on_cpu(indptr, indices, weights, alias_prob, alias_index, starts, walk_length, p, q, max_trials, seed,
                     first_index, out, lengths):
        got = _sgd.walks_generate(indptr, indices, weights, alias_prob, alias_index, starts, walk_length, p, q, seed,
                                  first_index, 1, max_trials)
        out[...], lengths[...] = got

    monkeypatch.setattr(ops, "launch_node2vec_walks", walks_on_cpu)
    return ops


def test_cuda_operations_train_on_the_cpus_walks(emulated_cuda, tmp_path):
    ring = sp.diags([np.ones(19), np.ones(19)], [1, -1], shape=(20, 20), format="csr")
    path = tmp_path / "walks.txt"
    gpu = ec.Node2Vec(vector_size=8, walk_length=8, walks_per_node=2, window=2, p=0.5, q=2.0, device="cuda",
                      seed=3).fit(ring, save_walks=path)
    cpu_model = ec.Node2Vec(vector_size=8, walk_length=8, walks_per_node=2, window=2, p=0.5, q=2.0, device="cpu",
                            workers=1, seed=3)
    cpu_walks = tmp_path / "cpu_walks.txt"
    cpu_model.fit(ring, save_walks=cpu_walks)
    assert path.read_text() == cpu_walks.read_text()  # the same walks on both devices
    assert gpu.stats["nodes_trained"] == cpu_model.stats["nodes_trained"] == 20 * 2 * 8
    assert gpu.stats["simd"] == "cuda" and np.isfinite(gpu.loss_history[0])
    assert not np.array_equal(gpu.wv.vectors, cpu_model.wv.vectors)  # trained, by other draws
    initial = initial_vectors(20, 8, 3)
    assert np.abs(gpu.wv.vectors - initial).max() > 1e-5 and np.abs(gpu.syn1neg).max() > 1e-3


def test_per_pair_negatives_are_refused_on_the_gpu(emulated_cuda):
    ring = sp.diags([np.ones(9), np.ones(9)], [1, -1], shape=(10, 10), format="csr")
    with pytest.raises(ValueError, match="negative_sharing=False .* runs on the CPU only"):
        ec.Node2Vec(vector_size=4, walk_length=4, walks_per_node=1, device="cuda", negative_sharing=False).fit(ring)


def test_cuda_walk_visits_count_the_walks(emulated_cuda):
    wg = emulated_cuda.walk_graph(*[getattr(graph(True), k) for k in ("indptr", "indices", "weights")], 1)
    starts = np.arange(60, dtype=np.int32)
    counts = emulated_cuda.walk_visits(wg, starts, 10, 0.5, 2.0, 9, 0, 1)
    host = graph(True)
    np.testing.assert_array_equal(counts, cpu.walk_visits(host, starts, 10, 0.5, 2.0, 9, 0, 1))


# ------------------------------------------------------------------------------------------- on a GPU
def _gpu():
    usable, reason = probe._probe()
    if not usable:
        pytest.skip(f"no usable CUDA GPU ({reason})")


@pytest.mark.cuda
@pytest.mark.parametrize("weighted", [False, True])
def test_gpu_walks_equal_the_cpu_walks(weighted):
    _gpu()
    from embedcore.backends.cuda import ops
    host = graph(weighted, directed=True)
    device = ops.walk_graph(host.indptr, host.indices, host.weights, 1)
    starts = np.random.default_rng(2).integers(0, 60, 2000).astype(np.int32)
    got = ops.to_host(ops.walks(device, starts, 30, 0.5, 2.0, 5, 9, 1))
    expected = cpu.walks(host, starts, 30, 0.5, 2.0, 5, 9, 2)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.cuda
def test_node2vec_on_the_gpu_recovers_communities():
    _gpu()
    adjacency, labels = stochastic_block_model(600, 6000, n_communities=4, mixing=0.1, seed=1)
    model = ec.Node2Vec(vector_size=32, walk_length=20, walks_per_node=5, window=5, p=0.5, q=2.0, device="cuda",
                        seed=2).fit(adjacency)
    unit = model.wv.vectors / np.linalg.norm(model.wv.vectors, axis=1, keepdims=True)
    centroids = np.stack([unit[labels == c].mean(axis=0) for c in range(4)])
    assert (np.argmax(unit @ centroids.T, axis=1) == labels).mean() > 0.9
