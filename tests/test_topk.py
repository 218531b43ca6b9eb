"""embedcore.cosine_topk against a float64 numpy reference, on every device (`device` fixture):
the CPU and the GPU return the same scores and rows."""
import contextlib
import threading
import time

import numpy as np
import pytest

import embedcore as ec
from embedcore.backends import get_backend
from cuda_emulation import skip_emulated

SCORE_TOL = 1e-5


def reference_topk(queries, database, k, exclude=None):
    """float64 cosine scores, full stable sort: descending score, ties by lower index."""
    q = np.asarray(queries, dtype=np.float64)
    d = np.asarray(database, dtype=np.float64)
    qn = np.linalg.norm(q, axis=1, keepdims=True)
    dn = np.linalg.norm(d, axis=1, keepdims=True)
    q = np.divide(q, qn, out=np.zeros_like(q), where=qn > 0)
    d = np.divide(d, dn, out=np.zeros_like(d), where=dn > 0)
    scores = q @ d.T
    if exclude is not None:
        for row, col in enumerate(exclude):
            if col >= 0:
                scores[row, col] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), order, scores


def assert_exact(queries, database, k, scores, indices, exclude=None):
    """Same scores as the reference (to SCORE_TOL), true scores for the returned rows, sorted, distinct."""
    ref_scores, ref_idx, full = reference_topk(queries, database, k, exclude)
    assert scores.dtype == np.float32 and indices.dtype == np.int64
    assert scores.shape == indices.shape == ref_idx.shape
    np.testing.assert_allclose(scores, ref_scores, atol=SCORE_TOL, rtol=0)
    # every returned score is the true score of the returned row
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), scores, atol=SCORE_TOL, rtol=0)
    assert np.all(np.diff(scores, axis=1) <= 0)
    for row in range(len(indices)):
        assert len(set(indices[row].tolist())) == k
    return ref_idx


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.mark.parametrize("nq,nb,d,k", [(7, 300, 16, 5), (40, 3000, 33, 10), (300, 2500, 8, 1),
                                       (3, 5000, 64, 20), (1, 4100, 128, 10)])
def test_topk_matches_float64_reference_on_random_data(device, rng, nq, nb, d, k):
    queries = rng.standard_normal((nq, d)).astype(np.float32)
    database = rng.standard_normal((nb, d)).astype(np.float32)
    scores, indices = ec.cosine_topk(queries, database, k=k, device=device)
    ref_idx = assert_exact(queries, database, k, scores, indices)
    np.testing.assert_array_equal(indices, ref_idx)


def test_topk_breaks_ties_by_lower_index_on_duplicate_rows(device, rng):
    distinct = rng.standard_normal((6, 12)).astype(np.float32)
    database = distinct[rng.integers(0, 6, size=3000)]
    queries = rng.standard_normal((25, 12)).astype(np.float32)
    scores, indices = ec.cosine_topk(queries, database, k=40, device=device)
    _, ref_idx, _ = reference_topk(queries, database, 40)
    np.testing.assert_array_equal(indices, ref_idx)


def test_topk_ties_when_every_score_is_equal(device):
    database = np.ones((2100, 4), dtype=np.float32)
    scores, indices = ec.cosine_topk(np.ones((3, 4)), database, k=5, workers=2, device=device)
    np.testing.assert_array_equal(indices, np.tile(np.arange(5), (3, 1)))
    np.testing.assert_allclose(scores, 1.0, atol=SCORE_TOL)


def test_topk_scores_zero_norm_rows_as_zero(device):
    database = np.array([[0, 0], [1, 0], [-1, 0], [0, 0]], dtype=np.float32)
    scores, indices = ec.cosine_topk(np.array([[0.0, 1.0]]), database, k=4, device=device)
    np.testing.assert_array_equal(indices, [[0, 1, 2, 3]])
    np.testing.assert_allclose(scores, 0.0, atol=SCORE_TOL)
    scores, indices = ec.cosine_topk(np.zeros((1, 2)), database, k=2, device=device)
    np.testing.assert_array_equal(indices, [[0, 1]])
    np.testing.assert_array_equal(scores, [[0.0, 0.0]])


def test_topk_with_k_equal_to_database_size_sorts_everything(device, rng):
    queries = rng.standard_normal((9, 10)).astype(np.float32)
    database = rng.standard_normal((700, 10)).astype(np.float32)
    scores, indices = ec.cosine_topk(queries, database, k=700, device=device)
    assert_exact(queries, database, 700, scores, indices)
    np.testing.assert_array_equal(np.sort(indices, axis=1), np.tile(np.arange(700), (9, 1)))


def test_topk_accepts_non_contiguous_and_non_float32_inputs(device, rng):
    base = rng.standard_normal((900, 40))
    queries = base[::7, ::2]          # float64, strided
    database = np.asfortranarray(rng.standard_normal((1500, 20)))
    scores, indices = ec.cosine_topk(queries, database, k=6, device=device)
    ref_idx = assert_exact(queries, database, 6, scores, indices)
    np.testing.assert_array_equal(indices, ref_idx)
    int_scores, int_idx = ec.cosine_topk(np.array([[1, 2]]), np.array([[2, 4], [1, 0], [0, 1]]), k=1, device=device)
    np.testing.assert_array_equal(int_idx, [[0]])
    np.testing.assert_allclose(int_scores, [[1.0]], atol=SCORE_TOL)


def test_topk_exclude_removes_one_row_per_query_and_minus_one_removes_none(device, rng):
    database = rng.standard_normal((400, 16)).astype(np.float32)
    queries = database[:5].copy()
    exclude = np.array([0, 1, -1, 3, 4])
    scores, indices = ec.cosine_topk(queries, database, k=399, exclude=exclude, device=device)
    for row, col in enumerate(exclude):
        if col >= 0:
            assert col not in indices[row]
    assert indices[2, 0] == 2
    ref_idx = assert_exact(queries, database, 399, scores, indices, exclude=exclude)
    np.testing.assert_array_equal(indices[:, :50], ref_idx[:, :50])


def test_topk_all_vs_all_with_self_excluded(device, rng):
    vectors = rng.standard_normal((2500, 20)).astype(np.float32)
    exclude = np.arange(2500)
    scores, indices = ec.cosine_topk(vectors, vectors, k=10, exclude=exclude, device=device)
    assert not np.any(indices == exclude[:, None])
    ref_idx = assert_exact(vectors, vectors, 10, scores, indices, exclude=exclude)
    np.testing.assert_array_equal(indices, ref_idx)


@pytest.mark.parametrize("nq", [1, 3, 1000])
def test_topk_is_identical_for_one_and_two_threads(rng, nq):
    queries = rng.standard_normal((nq, 24)).astype(np.float32)
    database = rng.standard_normal((6000, 24)).astype(np.float32)
    one = ec.cosine_topk(queries, database, k=15, workers=1)
    two = ec.cosine_topk(queries, database, k=15, workers=2)
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_allclose(one[0], two[0], atol=SCORE_TOL, rtol=0)


@pytest.mark.parametrize("tiles", [(1, 1), (3, 7), (5, 64), (1000, 5000)])
def test_topk_does_not_depend_on_tile_sizes(device, rng, tiles):
    if tiles == (1, 1):
        skip_emulated(device)
    queries = rng.standard_normal((37, 9)).astype(np.float32)
    database = rng.standard_normal((2222, 9)).astype(np.float32)
    backend = get_backend(device)
    scores, indices = backend.to_host(backend.topk(backend.asarray(queries), backend.asarray(database), 12, None,
                                                   False, 2, tiles=tiles))
    ref_idx = assert_exact(queries, database, 12, scores, indices)
    np.testing.assert_array_equal(indices, ref_idx)
    whole = get_backend("cpu").topk(queries, database, 12, None, False, 2)
    np.testing.assert_array_equal(scores, whole[0])  # bit for bit, whatever the tiles and the device
    np.testing.assert_array_equal(indices, whole[1])


def test_topk_portable_product_matches_blas(rng):
    from embedcore.backends import cpu
    queries = rng.standard_normal((20, 13)).astype(np.float32)
    database = rng.standard_normal((3000, 13)).astype(np.float32)
    native = cpu._native_with_blas()
    out = []
    for use_blas in (True, False):
        scores = np.empty((20, 8), np.float32)
        indices = np.empty((20, 8), np.int64)
        with cpu.blas_threads(1):
            native.cosine_topk(queries, database, 8, None, False, 2, scores, indices, 256, 1024, use_blas)
        out.append((scores, indices))
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][0], out[1][0], atol=SCORE_TOL, rtol=0)


def test_topk_normalized_true_gives_the_same_answer_on_unit_rows(device, rng):
    database = rng.standard_normal((1200, 30))
    database /= np.linalg.norm(database, axis=1, keepdims=True)
    queries = database[::100] + 0.01
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    plain = ec.cosine_topk(queries, database, k=7, device=device)
    promised = ec.cosine_topk(queries, database, k=7, normalized=True, device=device)
    np.testing.assert_array_equal(plain[1], promised[1])
    np.testing.assert_allclose(plain[0], promised[0], atol=SCORE_TOL, rtol=0)


@pytest.mark.parametrize("nq", [1, 6])
def test_topk_with_large_finite_values_is_not_mistaken_for_infinity(device, nq):
    database = np.array([[3e20, 0], [0, 3e20]], dtype=np.float32)
    queries = np.tile(np.array([[1e25, 1.0]], dtype=np.float32), (nq, 1))
    scores, indices = ec.cosine_topk(queries, database, k=2, device=device)
    np.testing.assert_array_equal(indices, np.tile([0, 1], (nq, 1)))
    np.testing.assert_allclose(scores, np.tile([1.0, 0.0], (nq, 1)), atol=SCORE_TOL)


@pytest.mark.parametrize("nq", [1, 4, 5, 64])
def test_topk_few_and_many_query_paths_agree_bit_for_bit(device, rng, nq):
    queries = rng.standard_normal((64, 50)).astype(np.float32)
    database = rng.standard_normal((5000, 50)).astype(np.float32)
    database[::7] = database[3]  # ties across paths
    together = ec.cosine_topk(queries, database, k=25, device=device)
    alone = ec.cosine_topk(queries[:nq], database, k=25, device=device)
    np.testing.assert_array_equal(alone[1], together[1][:nq])
    np.testing.assert_array_equal(alone[0], together[0][:nq])


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(k=0), ValueError, "k must be >= 1"),
    (dict(k=11), ValueError, r"k must be <= the number of database rows \(10\)"),
    (dict(k=2.0), TypeError, "k must be an int"),
    (dict(exclude=[0, 1]), ValueError, "exclude must be a 1-D integer array with one entry per query"),
    (dict(exclude=[0, 1, 10]), ValueError, r"exclude must hold database rows in \[0, 10\) or -1"),
    (dict(exclude=[0, -2, 1]), ValueError, "exclude must hold database rows"),
    (dict(exclude=[0.0, 1.0, 2.0]), TypeError, "exclude must hold integers"),
    (dict(k=10, exclude=[0, -1, -1]), ValueError, "k must be <= 9"),
    (dict(workers=0), ValueError, "workers"),
    (dict(device="tpu"), ValueError, "device must be one of"),
    (dict(normalized="yes"), TypeError, "normalized must be a bool"),
])
def test_topk_rejects_bad_arguments(kwargs, error, match):
    queries = np.ones((3, 4), dtype=np.float32)
    database = np.ones((10, 4), dtype=np.float32)
    with pytest.raises(error, match=match):
        ec.cosine_topk(queries, database, **kwargs)


def test_topk_rejects_a_dimension_mismatch():
    with pytest.raises(ValueError, match="same number of columns, got queries with 3 and database with 4"):
        ec.cosine_topk(np.ones((2, 3)), np.ones((5, 4)), k=1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("which", ["queries", "database"])
@pytest.mark.parametrize("normalized", [False, True])
@pytest.mark.parametrize("nq", [2, 10])  # the few-query path and the SGEMM path
def test_topk_rejects_nan_and_infinity(device, bad, which, normalized, nq):
    arrays = {"queries": np.full((nq, 4), 0.5, np.float32), "database": np.full((3000, 4), 0.5, np.float32)}
    arrays[which][1, 2] = bad
    with pytest.raises(ValueError, match=f"{which} contains NaN or infinity"):
        ec.cosine_topk(arrays["queries"], arrays["database"], k=2, normalized=normalized, device=device)


@pytest.mark.parametrize("queries,match", [(np.ones(4), "queries must be a 2-D array"),
                                           (np.ones((0, 4)), "queries must not be empty"),
                                           ([["a", "b"]], "queries must hold real numbers")])
def test_topk_rejects_malformed_queries(queries, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ec.cosine_topk(queries, np.ones((5, 2)), k=1)


def test_topk_on_cuda_without_a_gpu_is_a_runtime_error(no_gpu):
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        ec.cosine_topk(np.ones((1, 2)), np.ones((3, 2)), k=1, device="cuda")


# ------------------------------------------------------------------ the same answer on every device
def cpu_topk(queries, database, k, exclude=None):
    """The CPU kernel's answer: what every device must return, bit for bit."""
    ex = None if exclude is None else np.asarray(exclude, dtype=np.int64)
    return get_backend("cpu").topk(np.ascontiguousarray(queries, np.float32),
                                   np.ascontiguousarray(database, np.float32), k, ex, False, 1)


def test_topk_returns_the_cpus_scores_and_rows_bit_for_bit(device, rng):
    database = rng.standard_normal((3000, 37)).astype(np.float32)
    database[::5] = database[1]          # exact ties, spread over every tile
    database[7] = 0.0                    # a zero row
    database[8] = database[9] * 2.0      # equal up to a power-of-two scale: an exact tie too
    queries = np.concatenate([database[:20], rng.standard_normal((30, 37)).astype(np.float32)])
    exclude = np.arange(50) % 3 - 1      # -1, 0, 1, -1, ...
    scores, indices = ec.cosine_topk(queries, database, k=25, exclude=exclude, device=device)
    want = cpu_topk(queries, database, 25, exclude)
    np.testing.assert_array_equal(indices, want[1])
    np.testing.assert_array_equal(scores, want[0])


@pytest.mark.parametrize("k", [129, 200, 256, 257, 600])
def test_topk_with_k_beyond_a_block_of_threads_and_beyond_the_gpu_list(device, rng, k):
    # 128 threads share a GPU list, which holds at most 256 candidates: every k is served alike
    queries = rng.standard_normal((6, 16)).astype(np.float32)
    database = rng.standard_normal((900, 16)).astype(np.float32)
    database[100:400:3] = database[50]  # ties around the k-th
    exclude = np.array([0, -1, 50, 899, -1, 3])
    scores, indices = ec.cosine_topk(queries, database, k=k, exclude=exclude, device=device)
    want = cpu_topk(queries, database, k, exclude)
    np.testing.assert_array_equal(indices, want[1])
    np.testing.assert_array_equal(scores, want[0])
    assert_exact(queries, database, k, scores, indices, exclude=exclude)


@pytest.mark.parametrize("tiles", [(2, 5), (7, 3), (1, 64)])
def test_topk_ties_across_gemm_tiles_go_to_the_lower_row(device, tiles):
    # rows 0, 2, 4, ... are equal; with 3- or 5-row tiles they fall in different GEMM calls
    database = np.tile(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32), (40, 1))
    database[::2] *= np.float32(3.0)  # ... up to their length
    queries = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]], dtype=np.float32)
    backend = get_backend(device)
    scores, indices = backend.to_host(backend.topk(backend.asarray(queries), backend.asarray(database), 6, None,
                                                   False, 1, tiles=tiles))
    np.testing.assert_array_equal(indices[0], [0, 2, 4, 6, 8, 10])
    np.testing.assert_array_equal(indices[1], [0, 1, 2, 3, 4, 5])  # every row scores 1/sqrt(2)
    np.testing.assert_array_equal(indices[2], [1, 3, 5, 7, 9, 11])
    want = cpu_topk(queries, database, 6)
    np.testing.assert_array_equal(scores, want[0])


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1e19, 1e30])
def test_topk_rows_of_extreme_magnitude_score_their_cosine(device, rng, scale):
    # float32 squares of these rows under- or overflow; the norms are taken in float64
    database = (rng.standard_normal((500, 8)) * scale).astype(np.float32)
    queries = (rng.standard_normal((4, 8)) * scale).astype(np.float32)
    scores, indices = ec.cosine_topk(queries, database, k=5, device=device)
    ref_idx = assert_exact(queries, database, 5, scores, indices)
    np.testing.assert_array_equal(indices, ref_idx)
    want = cpu_topk(queries, database, 5)
    np.testing.assert_array_equal(scores, want[0])


def test_cupy_inputs_give_cupy_results_on_the_gpu(device):
    if device != "cuda" or device.emulated:
        pytest.skip("needs CuPy on a GPU")
    import cupy
    database = cupy.asarray(np.random.default_rng(8).standard_normal((30, 4)).astype(np.float32))
    scores, indices = ec.cosine_topk(database[:3], database, k=2, device="auto")
    assert isinstance(scores, cupy.ndarray) and isinstance(indices, cupy.ndarray)
    assert indices.get()[:, 0].tolist() == [0, 1, 2]


class ProcessWideBlas:
    """A BLAS thread count shared by the whole process, limited as threadpoolctl before 3.8
    limits it: a limit saves the current count and restores it on exit. The first two limits
    wait for each other (half a second at most) and the second leaves last, so that two
    overlapping limits overlap the worst way."""

    def __init__(self, threads):
        self.threads = threads
        self.entries = 0
        self.meet = threading.Barrier(2, timeout=0.5)

    @contextlib.contextmanager
    def limit(self, limits, user_api):
        saved = self.threads
        self.threads = limits
        self.entries += 1
        order = self.entries
        if order <= 2:
            try:
                self.meet.wait()
            except threading.BrokenBarrierError:  # the limits do not overlap
                pass
        try:
            yield
        finally:
            if order == 2:
                time.sleep(0.05)
            self.threads = saved


def test_blas_thread_count_is_restored_after_concurrent_searches(rng, monkeypatch):
    from embedcore.backends import cpu
    blas = ProcessWideBlas(3)
    monkeypatch.setattr(cpu._BLAS, "controller", blas)
    queries = rng.standard_normal((40, 32)).astype(np.float32)
    database = rng.standard_normal((2000, 32)).astype(np.float32)
    errors = []

    def search():
        try:
            ec.cosine_topk(queries, database, k=5, workers=1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and blas.entries == 2
    assert blas.threads == 3


# ------------------------------------------------------------------ KeyedVectors on the kernel
def planted_kv(rng, n=800, dim=20):
    words = [f"w{i}" for i in range(n)]
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return ec.KeyedVectors(words, vectors)


def test_most_similar_batch_of_words_equals_one_query_at_a_time(rng):
    kv = planted_kv(rng)
    words = ["w0", "w17", "w799", "w3"]
    batch = kv.most_similar_batch(words, topn=7)
    assert batch == [kv.most_similar(w, topn=7) for w in words]
    assert all(w not in dict(answer) for w, answer in zip(words, batch))


def test_most_similar_batch_of_vectors_equals_similar_by_vector(rng):
    kv = planted_kv(rng)
    vectors = rng.standard_normal((5, 20))
    batch = kv.most_similar_batch(vectors, topn=4, restrict_vocab=300)
    for vector, answer in zip(vectors, batch):
        expected = kv.similar_by_vector(vector, topn=4, restrict_vocab=300)
        assert [w for w, _ in answer] == [w for w, _ in expected]
        np.testing.assert_allclose([s for _, s in answer], [s for _, s in expected], atol=SCORE_TOL)
        assert all(int(w[1:]) < 300 for w, _ in answer)


def test_most_similar_batch_rejects_bad_queries(rng):
    kv = planted_kv(rng)
    with pytest.raises(KeyError, match="'nope'"):
        kv.most_similar_batch(["w1", "nope"])
    with pytest.raises(ValueError, match="queries must have 20 columns"):
        kv.most_similar_batch(np.ones((2, 3)))
    with pytest.raises(TypeError, match="queries must be a list of words"):
        kv.most_similar_batch("w1")


def test_most_similar_follows_new_vectors_after_assignment(rng):
    kv = planted_kv(rng, n=50)
    assert kv.most_similar("w0", topn=1)[0][0] != "w7"
    vectors = kv.vectors.copy()
    vectors[7] = vectors[0] * 3
    kv.vectors = vectors
    assert kv.most_similar("w0", topn=1)[0] == ("w7", pytest.approx(1.0, abs=SCORE_TOL))


@pytest.mark.parametrize("restrict_vocab", [None, 250])
def test_most_similar_equals_gensim_with_restrict_vocab(rng, restrict_vocab):
    gensim_models = pytest.importorskip("gensim.models")
    kv = planted_kv(rng)
    theirs = gensim_models.KeyedVectors(20)
    theirs.add_vectors(kv.words, kv.vectors)
    for kwargs in ({"positive": ["w1"]}, {"positive": ["w2", "w3"], "negative": ["w4"]}):
        ours = kv.most_similar(topn=12, restrict_vocab=restrict_vocab, **kwargs)
        ref = theirs.most_similar(topn=12, restrict_vocab=restrict_vocab, **kwargs)
        assert [w for w, _ in ours] == [w for w, _ in ref]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in ref], atol=1e-5)


# ------------------------------------------------------------------------- property-based check
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@given(nq=st.integers(1, 12), nb=st.integers(1, 90), d=st.integers(1, 9), data=st.data(),
       levels=st.sampled_from([3, 1000]), workers=st.sampled_from([1, 2]))
def test_topk_equals_the_reference_on_arbitrary_small_inputs(device, nq, nb, d, data, levels, workers):
    # few levels -> many equal rows and exact ties; zero rows appear too
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    queries = rng.integers(-levels, levels + 1, size=(nq, d)).astype(np.float32)
    database = rng.integers(-levels, levels + 1, size=(nb, d)).astype(np.float32)
    use_exclude = data.draw(st.booleans()) and nb > 1
    exclude = rng.integers(-1, nb, size=nq) if use_exclude else None
    k = data.draw(st.integers(1, nb - 1 if use_exclude else nb))
    scores, indices = ec.cosine_topk(queries, database, k=k, exclude=exclude, workers=workers, device=device)
    ref_scores, ref_idx, full = reference_topk(queries, database, k, exclude)
    np.testing.assert_allclose(scores, ref_scores, atol=SCORE_TOL, rtol=0)
    # equal rows get equal scores, so the lower index comes first exactly as in the reference;
    # distinct rows whose float64 scores differ by less than float32 error may swap
    # where the float64 order hinges on differences below float32 resolution (inside the answer
    # or at its edge), only the scores can be compared
    ordered = -np.sort(-np.where(np.isfinite(full), full, -2.0), axis=1)[:, :k + 1]
    if not (np.abs(np.diff(ordered, axis=1)) < 1e-6).any():
        np.testing.assert_array_equal(indices, ref_idx)
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), ref_scores, atol=SCORE_TOL)
    _, first_of = np.unique(database, axis=0, return_inverse=True)
    first_of = first_of.ravel()
    for q in range(nq):
        returned = indices[q].tolist()
        assert len(set(returned)) == k
        assert exclude is None or exclude[q] not in returned
        # identical rows tie exactly: the lower index wins, both inside and outside the answer
        for r in returned:
            twins = np.flatnonzero(first_of == first_of[r])
            lower = [t for t in twins if t < r and (exclude is None or t != exclude[q])]
            assert all(t in returned for t in lower)
            later = [t for t in twins if t > r and t in returned]
            assert all(returned.index(t) > returned.index(r) for t in later)


# ---------------------------------------------------------------------------------------------
# Databases whose scores tie or nearly tie: near-duplicate, clustered, equal and zero rows. The
# compare against the threshold must reject them without a rescore each (benchmarks/bench_topk.py
# distributions), and the answer stays the exact one with ties by lower row.

def rounded_reference(queries, database, k, inner=False):
    """float64 scores rounded once to float32 (the scores the search returns), stable sort:
    equal float32 scores go to the lower row."""
    q = np.asarray(queries, dtype=np.float64)
    d = np.asarray(database, dtype=np.float64)
    if not inner:
        qn = np.linalg.norm(q, axis=1, keepdims=True)
        dn = np.linalg.norm(d, axis=1, keepdims=True)
        q = np.divide(q, qn, out=np.zeros_like(q), where=qn > 0)
        d = np.divide(d, dn, out=np.zeros_like(d), where=dn > 0)
    scores = (q @ d.T).astype(np.float32)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), order


def tie_heavy_database(kind, nb, d, rng):
    base = rng.standard_normal(d).astype(np.float32)
    if kind == "equal":
        return np.tile(base, (nb, 1))
    if kind.startswith("near-duplicate"):
        # rows that differ from one row in one coordinate, by one float32 step or by 1e-6 or 1e-3
        x = np.tile(base, (nb, 1))
        col = rng.integers(0, d, nb)
        rows = np.arange(nb)
        if kind == "near-duplicate-ulp":
            x[rows, col] = np.nextafter(x[rows, col], np.float32(np.inf) * rng.choice([-1, 1], nb))
        else:
            eps = 1e-6 if kind == "near-duplicate-1e-6" else 1e-3
            x[rows, col] += (eps * rng.standard_normal(nb)).astype(np.float32)
        return x
    if kind == "clustered":
        centres = rng.standard_normal((4, d)).astype(np.float32)
        return (centres[np.sort(rng.integers(0, 4, nb))] + 1e-6 * rng.standard_normal((nb, d))).astype(np.float32)
    if kind == "zero-padded":
        x = np.zeros((nb, d), dtype=np.float32)
        x[rng.choice(nb, 7, replace=False)] = rng.standard_normal((7, d))
        return x
    raise ValueError(kind)


TIE_KINDS = ["equal", "near-duplicate-ulp", "near-duplicate-1e-6", "near-duplicate-1e-3", "clustered",
             "zero-padded"]


@pytest.mark.parametrize("kind", TIE_KINDS)
@pytest.mark.parametrize("nq", [1, 3, 40])  # the few-query path and the SGEMM path
def test_topk_is_exact_on_tie_heavy_databases(device, rng, kind, nq):
    d = 24
    database = tie_heavy_database(kind, 3000, d, rng)
    queries = rng.standard_normal((nq, d)).astype(np.float32)
    queries[0] = database[5] * 3.0  # a query equal to a row up to its scale
    k = 12
    scores, indices = ec.cosine_topk(queries, database, k=k, workers=2, device=device)
    want_scores, want_idx = rounded_reference(queries, database, k)
    np.testing.assert_array_equal(indices, want_idx)
    np.testing.assert_allclose(scores, want_scores, atol=1e-7, rtol=0)
    one = ec.cosine_topk(queries, database, k=k, workers=1, device=device)
    np.testing.assert_array_equal(one[0], scores)
    np.testing.assert_array_equal(one[1], indices)


@pytest.mark.parametrize("kind", ["equal", "near-duplicate-ulp", "zero-padded"])
@pytest.mark.parametrize("tiles", [(3, 7), (64, 100)])
def test_topk_tie_heavy_answers_do_not_depend_on_tiles_or_unit_promise(rng, kind, tiles):
    database = tie_heavy_database(kind, 1500, 16, rng)
    queries = rng.standard_normal((9, 16)).astype(np.float32)
    backend = get_backend("cpu")
    whole = backend.topk(queries, database, 10, None, False, 2)
    tiled = backend.topk(queries, database, 10, None, False, 2, tiles=tiles)
    np.testing.assert_array_equal(tiled[0], whole[0])
    np.testing.assert_array_equal(tiled[1], whole[1])
    norms = np.linalg.norm(database.astype(np.float64), axis=1, keepdims=True)
    unit = np.divide(database, norms, out=np.zeros_like(database), where=norms > 0).astype(np.float32)
    qunit = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    promised = ec.cosine_topk(qunit, unit, k=10, normalized=True, device="cpu")
    want_scores, want_idx = rounded_reference(qunit, unit, 10)
    np.testing.assert_array_equal(promised[1], want_idx)


@pytest.mark.parametrize("kind", ["equal", "near-duplicate-ulp", "near-duplicate-1e-6", "zero-padded"])
@pytest.mark.parametrize("nq", [2, 30])
def test_inner_topk_is_exact_on_tie_heavy_databases(rng, kind, nq):
    from embedcore.backends import cpu
    database = tie_heavy_database(kind, 2000, 20, rng) * np.float32(3.0)
    queries = rng.standard_normal((nq, 20)).astype(np.float32)
    scores, indices = cpu.inner_topk(queries, database, 9, None, 2, tiles=(16, 256))
    want_scores, want_idx = rounded_reference(queries, database, 9, inner=True)
    np.testing.assert_array_equal(indices, want_idx)
    np.testing.assert_array_equal(scores, want_scores)
