"""ec.randomized_svd and ec.SVDEmbedding against numpy.linalg.svd on every device (`device`
fixture), plus the CPU's sparse kernels."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore import _native


def matrix_with_spectrum(n_rows, n_cols, singular_values, seed=0):
    """U diag(s) V^T with random orthonormal U, V: a matrix whose spectrum is known exactly."""
    rng = np.random.default_rng(seed)
    r = len(singular_values)
    u, _ = np.linalg.qr(rng.standard_normal((n_rows, r)))
    v, _ = np.linalg.qr(rng.standard_normal((n_cols, r)))
    return (u * singular_values) @ v.T


def exact_svd(X, k):
    dense = X.toarray() if sp.issparse(X) else np.asarray(X)
    u, s, vt = np.linalg.svd(dense.astype(np.float64), full_matrices=False)
    return u[:, :k], s[:k], vt[:k]


def assert_close_to_exact(X, k, result, sv_rtol=1e-3, vec_tol=1e-2):
    """Singular values within sv_rtol relative; singular vectors the same up to sign."""
    U, S, Vt = result
    u, s, vt = exact_svd(X, k)
    np.testing.assert_allclose(S, s, rtol=sv_rtol, atol=sv_rtol * s[0] * 1e-3)
    dots_u = np.abs(np.sum(U * u, axis=0))
    dots_v = np.abs(np.sum(Vt * vt, axis=1))
    assert np.all(dots_u > 1 - vec_tol) and np.all(dots_v > 1 - vec_tol)


def decaying(k, ratio=0.8):
    return 10.0 * ratio ** np.arange(k)


# --- the CSR kernels -----------------------------------------------------------------------

@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
@pytest.mark.parametrize("p", [1, 15, 16, 17, 110, 129, 200])
def test_csr_matmul_matches_float64_product(isa, p):
    if isa != "baseline" and _native.spmm_isa() not in (isa, "avx512"):
        pytest.skip(f"CPU lacks {isa}")
    A = sp.random(300, 200, density=0.05, format="lil", random_state=1, dtype=np.float32)
    A[7] = 0  # an empty row
    A = A.tocsr()
    X = np.random.default_rng(2).standard_normal((200, p)).astype(np.float32)
    out = np.full((300, p), np.nan, dtype=np.float32)
    _native.csr_matmul(A.indptr.astype(np.int64), A.indices, A.data, 200, X, out, 2, isa)
    np.testing.assert_allclose(out, A.astype(np.float64) @ X.astype(np.float64), rtol=1e-5, atol=1e-5)


def test_csr_matmul_is_identical_for_any_thread_count():
    A = sp.random(2000, 500, density=0.05, format="csr", random_state=3, dtype=np.float32)
    X = np.random.default_rng(4).standard_normal((500, 40)).astype(np.float32)
    outs = []
    for threads in (1, 2, 3):
        out = np.empty((2000, 40), np.float32)
        _native.csr_matmul(A.indptr.astype(np.int64), A.indices, A.data, 500, X, out, threads)
        outs.append(out)
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


def spmm_levels():
    return [level for level in ("baseline", "avx2", "avx512")
            if level == "baseline" or _native.spmm_isa() in (level, "avx512")]


@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
def test_csr_matmul_columns_have_the_bits_of_narrower_products(isa):
    # a column's sums do not depend on how many columns share its pass over A (64, 112 and 128
    # wide register blocks, and their tails), so the columns of one wide product have the bits
    # of products of column slices
    if isa not in spmm_levels():
        pytest.skip(f"CPU lacks {isa}")
    A = sp.random(400, 300, density=0.05, format="lil", random_state=4, dtype=np.float32)
    A[11] = 0  # an empty row
    A = A.tocsr()
    indptr = A.indptr.astype(np.int64)
    X = np.random.default_rng(5).standard_normal((300, 250)).astype(np.float32)
    wide = np.empty((400, 250), np.float32)
    _native.csr_matmul(indptr, A.indices, A.data, 300, X, wide, 2, isa)
    for lo, hi in [(0, 1), (0, 64), (64, 110), (0, 112), (110, 129), (112, 250), (200, 250)]:
        narrow = np.empty((400, hi - lo), np.float32)
        _native.csr_matmul(indptr, A.indices, A.data, 300, np.ascontiguousarray(X[:, lo:hi]), narrow, 1, isa)
        assert np.array_equal(wide[:, lo:hi].view(np.uint32), narrow.view(np.uint32)), (lo, hi)


def test_range_basis_normalisation_is_identical_for_any_thread_count():
    # the tall x small products run as fixed row blocks, one BLAS thread each, however many
    # threads share them (10,000 rows: three blocks, the last one short)
    from embedcore.backends import cpu
    rng = np.random.default_rng(6)
    y = (rng.standard_normal((10_000, 30)) @ rng.standard_normal((30, 30))).astype(np.float32)  # not orthogonal
    for exact in (False, True):
        results = [cpu.orthonormalize(y, threads, exact=exact) for threads in (1, 2, 3, 8)]
        for other in results[1:]:
            assert np.array_equal(results[0].view(np.uint32), other.view(np.uint32))
        gram = results[0].astype(np.float64).T @ results[0].astype(np.float64)
        np.testing.assert_allclose(gram, np.eye(30), atol=1e-4 if exact else 1e-2)


def test_csr_matmul_rejects_mismatched_shapes():
    A = sp.random(10, 8, density=0.3, format="csr", random_state=0, dtype=np.float32)
    with pytest.raises(ValueError, match="X must have shape"):
        _native.csr_matmul(A.indptr.astype(np.int64), A.indices, A.data, 8, np.ones((7, 3), np.float32),
                           np.empty((10, 3), np.float32), 1)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_csr_transpose_matches_scipy(threads):
    A = sp.random(2000, 1000, density=0.15, format="csr", random_state=5, dtype=np.float32)  # threads used
    indptr, indices, data = _native.csr_transpose(A.indptr.astype(np.int64), A.indices, A.data, 2000, 1000,
                                                  threads)
    expected = A.T.tocsr()
    expected.sort_indices()
    assert np.array_equal(indptr, expected.indptr)
    assert np.array_equal(indices, expected.indices)
    assert np.array_equal(data, expected.data)


# --- randomized_svd --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(200, 60), (60, 200), (120, 120)], ids=["tall", "wide", "square"])
def test_randomized_svd_matches_numpy_on_dense_input(device, shape):
    X = matrix_with_spectrum(*shape, decaying(40), seed=1)
    result = ec.randomized_svd(X, 10, n_iter=4, device=device)
    assert_close_to_exact(X, 10, result)


@pytest.mark.parametrize("shape", [(300, 80), (80, 300)], ids=["tall", "wide"])
def test_randomized_svd_matches_numpy_on_sparse_input(device, shape):
    X = sp.random(*shape, density=0.2, random_state=2, format="csr")
    # a sparse matrix with a decaying spectrum: add a few strong rank-one terms on its pattern
    rng = np.random.default_rng(3)
    for strength in (40.0, 25.0, 15.0, 10.0, 6.0):
        X = X + sp.csr_matrix(X.multiply(np.outer(rng.random(shape[0]), rng.random(shape[1])) * strength))
    result = ec.randomized_svd(X, 5, n_iter=10, device=device)
    assert_close_to_exact(X, 5, result, vec_tol=1e-3)


def test_randomized_svd_returns_float32_with_the_requested_shapes(device):
    U, S, Vt = ec.randomized_svd(sp.random(50, 30, density=0.3, random_state=0), 7, device=device)
    assert U.shape == (50, 7) and S.shape == (7,) and Vt.shape == (7, 30)
    assert U.dtype == S.dtype == Vt.dtype == np.float32
    assert np.all(np.diff(S) <= 0)


def test_randomized_svd_factors_are_orthonormal(device):
    U, S, Vt = ec.randomized_svd(sp.random(400, 150, density=0.1, random_state=4), 20, n_iter=2, device=device)
    np.testing.assert_allclose(U.T @ U, np.eye(20), atol=1e-5)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(20), atol=1e-5)


def test_randomized_svd_of_rank_deficient_matrix_finds_the_rank(device):
    X = matrix_with_spectrum(100, 80, [5.0, 3.0, 2.0, 1.0], seed=5)
    U, S, Vt = ec.randomized_svd(X, 8, device=device)
    np.testing.assert_allclose(S[:4], [5.0, 3.0, 2.0, 1.0], rtol=1e-5)
    assert np.all(S[4:] < 1e-5)
    np.testing.assert_allclose(U.T @ U, np.eye(8), atol=1e-4)
    np.testing.assert_allclose((U * S) @ Vt, X, atol=1e-5)


def test_randomized_svd_of_rank_deficient_sparse_matrix(device):
    rows = sp.random(60, 40, density=0.2, random_state=6, format="csr")
    X = sp.vstack([rows, rows * 2.0, rows[:10]]).tocsr()  # rank <= 40 in a 130 x 40 matrix
    U, S, Vt = ec.randomized_svd(X, 40, n_iter=3, device=device)
    _, s, _ = exact_svd(X, 40)
    np.testing.assert_allclose(S, s, rtol=1e-4, atol=1e-5)


def test_randomized_svd_with_k_equal_to_the_smaller_dimension_is_exact(device):
    X = np.random.default_rng(7).standard_normal((30, 12))
    U, S, Vt = ec.randomized_svd(X, 12, n_iter=0, device=device)
    np.testing.assert_allclose((U * S) @ Vt, X, atol=1e-4)


def test_randomized_svd_reconstruction_error_matches_sklearn():
    sklearn_extmath = pytest.importorskip("sklearn.utils.extmath")
    X = sp.random(500, 300, density=0.05, random_state=8, format="csr", dtype=np.float32)
    ours = ec.randomized_svd(X, 20, n_oversamples=10, n_iter=4)
    theirs = sklearn_extmath.randomized_svd(X, 20, n_oversamples=10, n_iter=4, random_state=0)

    def error(U, S, Vt):
        return np.linalg.norm(X.toarray() - (U * S) @ Vt) / np.linalg.norm(X.toarray())
    assert error(*ours) <= error(*theirs) * 1.01


def test_randomized_svd_signs_follow_svd_flip(device):
    U, S, Vt = ec.randomized_svd(matrix_with_spectrum(80, 50, decaying(10), seed=9), 6, device=device)
    largest = U[np.argmax(np.abs(U), axis=0), np.arange(6)]
    assert np.all(largest > 0)


def test_randomized_svd_is_deterministic_for_a_seed():
    X = sp.random(300, 200, density=0.05, random_state=10, format="csr")
    first = ec.randomized_svd(X, 10, seed=3, workers=1)
    again = ec.randomized_svd(X, 10, seed=3, workers=1)
    two_threads = ec.randomized_svd(X, 10, seed=3, workers=2)
    for a, b, c in zip(first, again, two_threads):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_randomized_svd_depends_on_the_seed():
    X = sp.random(300, 200, density=0.05, random_state=10, format="csr")
    assert not np.array_equal(ec.randomized_svd(X, 10, seed=1, n_iter=0)[0],
                              ec.randomized_svd(X, 10, seed=2, n_iter=0)[0])


@pytest.mark.parametrize("k", [0, -1])
def test_randomized_svd_rejects_k_below_one(k):
    with pytest.raises(ValueError, match="k must be >= 1"):
        ec.randomized_svd(np.ones((5, 4)), k)


def test_randomized_svd_rejects_k_above_the_smaller_dimension():
    with pytest.raises(ValueError, match=r"k must be <= min\(X.shape\) = 4, got 5"):
        ec.randomized_svd(sp.random(10, 4, density=0.5, random_state=0), 5)


@pytest.mark.parametrize("sparse", [False, True])
def test_randomized_svd_rejects_nan(device, sparse):
    X = np.ones((5, 4))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        ec.randomized_svd(sp.csr_matrix(X) if sparse else X, 2, device=device)


def test_randomized_svd_rejects_non_2d_input():
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        ec.randomized_svd(np.ones(6), 1)


def test_randomized_svd_rejects_empty_matrix():
    with pytest.raises(ValueError, match="X must not be empty"):
        ec.randomized_svd(sp.csr_matrix((0, 5)), 1)


def test_randomized_svd_rejects_bad_argument_types():
    with pytest.raises(TypeError, match="k must be an int"):
        ec.randomized_svd(np.ones((4, 4)), 2.5)
    with pytest.raises(TypeError, match="X must be a scipy.sparse matrix or a 2-D array"):
        ec.randomized_svd(object(), 2)


def test_randomized_svd_on_cuda_without_a_gpu_is_a_runtime_error(no_gpu):
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        ec.randomized_svd(np.ones((4, 4)), 2, device="cuda")


# --- SVDEmbedding ----------------------------------------------------------------------------

def test_svd_embedding_word_vectors_are_u_times_s_to_the_eig(device):
    rng = np.random.default_rng(11)
    cooc = sp.csr_matrix(rng.poisson(2.0, size=(40, 40)).astype(np.float32))
    words = [f"w{i}" for i in range(40)]
    model = ec.SVDEmbedding(vector_size=6, eig=0.5, n_iter=6, device=device).fit(cooc, vocab=words)
    U, S, Vt = ec.randomized_svd(ec.ppmi(cooc), 6, n_iter=6, device="cpu")
    assert model.wv.words == words
    # the GPU's PPMI takes its logarithms in float64, the CPU's in float32: equal to ~1e-6
    np.testing.assert_allclose(model.wv.vectors, U * np.sqrt(S), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.singular_values_, S, rtol=1e-5)


def test_svd_embedding_accepts_a_vocab_object():
    cooc = sp.random(6, 6, density=0.8, random_state=0, format="csr") * 10
    vocab = ec.Vocab([f"w{i}" for i in range(6)], np.arange(6, 0, -1))
    model = ec.SVDEmbedding(vector_size=2).fit(cooc, vocab=vocab)
    assert model.wv.words == vocab.words


def test_svd_embedding_on_a_matrix_is_lsa_like_sklearn_truncated_svd(device):
    X = sp.csr_matrix(matrix_with_spectrum(80, 60, decaying(20), seed=12))
    model = ec.SVDEmbedding(vector_size=5, n_iter=4, device=device)
    projected = model.fit_transform(X)
    u, s, vt = exact_svd(X, 5)
    np.testing.assert_allclose(model.singular_values_, s, rtol=1e-3)
    np.testing.assert_allclose(np.abs(projected), np.abs(u * s), atol=1e-3 * s[0])
    np.testing.assert_allclose(model.transform(X), projected, atol=1e-4 * s[0])
    np.testing.assert_allclose(model.transform(X.toarray()), projected, atol=1e-4 * s[0])


def test_svd_embedding_transform_rejects_wrong_width():
    model = ec.SVDEmbedding(vector_size=2).fit(np.random.default_rng(0).random((10, 8)))
    with pytest.raises(ValueError, match="rows must have 8 columns"):
        model.transform(np.ones((3, 7)))


def test_svd_embedding_without_vocab_has_no_word_vectors():
    model = ec.SVDEmbedding(vector_size=2).fit(np.random.default_rng(0).random((10, 8)))
    with pytest.raises(AttributeError, match="wv needs words"):
        model.wv


def test_svd_embedding_rejects_vocab_of_wrong_length():
    with pytest.raises(ValueError, match=r"vocab must have one word per row of X \(5\), got 4"):
        ec.SVDEmbedding(vector_size=2).fit(np.ones((5, 5)), vocab=["a", "b", "c", "d"])


def test_svd_embedding_rejects_vector_size_above_the_matrix_rank_bound():
    with pytest.raises(ValueError, match="vector_size must be <= min"):
        ec.SVDEmbedding(vector_size=6).fit(np.random.default_rng(0).random((10, 5)))


def test_svd_embedding_rejects_bad_parameters():
    with pytest.raises(ValueError, match="vector_size must be >= 1"):
        ec.SVDEmbedding(vector_size=0)
    with pytest.raises(ValueError, match="cds must be > 0"):
        ec.SVDEmbedding(cds=0)
    with pytest.raises(ValueError, match="workers must be a positive"):
        ec.SVDEmbedding(workers=0)


def test_svd_embedding_is_not_fitted_until_fit():
    model = ec.SVDEmbedding()
    for attribute in ("wv", "components_", "singular_values_", "words"):
        with pytest.raises(ec.NotFittedError, match=f"not fitted yet: call fit\\(\\) before using {attribute}"):
            getattr(model, attribute)
    with pytest.raises(ec.NotFittedError):
        model.transform(np.ones((2, 3)))


@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
@pytest.mark.parametrize("q,p", [(1, 1), (110, 110), (37, 130)])
def test_dense_matmul_matches_numpy(isa, q, p):
    if isa != "baseline" and _native.spmm_isa() not in (isa, "avx512"):
        pytest.skip(f"CPU lacks {isa}")
    rng = np.random.default_rng(13)
    A = rng.standard_normal((500, q)).astype(np.float32)
    X = rng.standard_normal((q, p)).astype(np.float32)
    out = np.empty((500, p), np.float32)
    _native.dense_matmul(A, X, out, 2, isa)
    np.testing.assert_allclose(out, A.astype(np.float64) @ X, rtol=1e-5, atol=1e-5)


# --- from text -------------------------------------------------------------------------------

def test_svd_embedding_fits_a_text_source():
    rng = np.random.default_rng(14)
    words = [f"w{i}" for i in range(30)]
    sentences = [[words[j] for j in rng.integers(0, 30, size=12)] for _ in range(300)]
    model = ec.SVDEmbedding(vector_size=5, window=3, min_count=1).fit(sentences)
    vocab = ec.Vocab.from_corpus(sentences, min_count=1)
    cooc = ec.cooccurrence(vocab.encode(sentences), len(vocab), window=3)
    U, S, _ = ec.randomized_svd(ec.ppmi(cooc), 5, n_iter=5)
    assert model.wv.words == vocab.words
    np.testing.assert_allclose(model.wv.vectors, U * np.sqrt(S), rtol=1e-5, atol=1e-6)


def test_svd_embedding_needs_vocab_for_an_encoded_corpus():
    corpus = ec.EncodedCorpus(np.array([0, 1, 2, 1, 0], np.int32))
    with pytest.raises(TypeError, match="vocab is required"):
        ec.SVDEmbedding(vector_size=2).fit(corpus)


def test_svd_demo_model_recovers_planted_analogies():
    gensim_models = pytest.importorskip("gensim.models")
    from embedcore.cli import _demo_svd
    synth = ec.datasets.synthetic_corpus(300_000, vocab_size=3000, seed=0)
    kv = _demo_svd(synth, 2)
    gensim_kv = gensim_models.KeyedVectors(kv.vectors.shape[1])
    gensim_kv.add_vectors(kv.words, kv.vectors)
    import tempfile, os
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "analogies.txt")
        synth.write_analogies(path)
        accuracy = gensim_kv.evaluate_word_analogies(path, restrict_vocab=len(kv.words))[0]
    assert accuracy > 0.9


def test_cli_train_svd_writes_vectors(tmp_path):
    from embedcore import cli
    rng = np.random.default_rng(15)
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(" ".join(f"w{j}" for j in rng.integers(0, 40, size=10)) for _ in range(400)))
    out = tmp_path / "vectors.txt"
    cli.main(["train", str(text), "--model", "svd", "--dim", "8", "--min-count", "1", "-o", str(out)])
    kv = ec.KeyedVectors.load_word2vec_format(str(out))
    assert len(kv) == 40 and kv.vectors.shape == (40, 8)


def test_randomized_svd_of_all_zero_matrix_gives_zero_singular_values(device):
    U, S, Vt = ec.randomized_svd(sp.csr_matrix((50, 20), dtype=np.float32), 3, device=device)
    assert np.all(S == 0)
    np.testing.assert_allclose(U.T @ U, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(3), atol=1e-6)


@pytest.mark.parametrize("scale", [1e-24, 1e-12, 1e18, 1e30])
@pytest.mark.parametrize("sparse", [False, True])
def test_randomized_svd_of_a_matrix_of_extreme_scale_scales_its_singular_values(device, scale, sparse):
    # float32 squares of these entries under- or overflow: the range basis is rescaled first
    X = matrix_with_spectrum(120, 70, decaying(30), seed=16).astype(np.float32)
    U, S, Vt = ec.randomized_svd(sp.csr_matrix(X * scale) if sparse else X * np.float32(scale), 8, n_iter=4,
                                 device=device)
    U1, S1, Vt1 = ec.randomized_svd(sp.csr_matrix(X) if sparse else X, 8, n_iter=4, device=device)
    np.testing.assert_allclose(S / scale, S1, rtol=1e-4)
    np.testing.assert_allclose(S / scale, exact_svd(X, 8)[1], rtol=1e-3)
    np.testing.assert_allclose(np.abs(U.T @ U1), np.eye(8), atol=1e-3)


def test_randomized_svd_gives_the_cpus_singular_values_on_every_device(device):
    X = sp.random(400, 250, density=0.05, random_state=17, format="csr", dtype=np.float32)
    U, S, Vt = ec.randomized_svd(X, 12, n_iter=4, seed=5, device=device)
    Uc, Sc, Vtc = ec.randomized_svd(X, 12, n_iter=4, seed=5, device="cpu")
    np.testing.assert_allclose(S, Sc, rtol=1e-5)
    np.testing.assert_allclose(np.abs(np.sum(U * Uc, axis=0)), 1.0, atol=1e-4)
    assert isinstance(U, np.ndarray) and isinstance(S, np.ndarray)


def test_cupy_input_gives_cupy_factors(device):
    if device != "cuda" or device.emulated:
        pytest.skip("needs CuPy on a GPU")
    import cupy
    from cupyx.scipy import sparse as csp
    X = matrix_with_spectrum(100, 40, decaying(20), seed=18).astype(np.float32)
    for value in (cupy.asarray(X), csp.csr_matrix(cupy.asarray(X))):
        U, S, Vt = ec.randomized_svd(value, 5)
        assert isinstance(U, cupy.ndarray) and isinstance(Vt, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(S), exact_svd(X, 5)[1], rtol=1e-4)
