"""The compiled kernels write results into the caller's arrays; such an array is used as given or
refused (TypeError for a wrong type or dtype, ValueError for a wrong shape, layout or a read-only
array), with the argument's name in the message. A converted copy would take the results and be
dropped, so nothing is ever converted."""
import numpy as np
import pytest

from embedcore import _native, _sgd


def _bad_outputs(good):
    """(label, array, exception) for every way an output array can be wrong, built from a good one."""
    wrong_dtype = np.float64 if good.dtype != np.float64 else np.float32
    strided = np.zeros(good.shape[:-1] + (2 * good.shape[-1],), dtype=good.dtype)[..., ::2]
    read_only = good.copy()
    read_only.flags.writeable = False
    return [
        ("wrong dtype", good.astype(wrong_dtype), TypeError),
        ("strided", strided, ValueError),
        ("Fortran order", np.asfortranarray(np.zeros(good.shape[::-1], good.dtype).T)
         if good.ndim == 2 and min(good.shape) > 1 else strided, ValueError),
        ("read-only", read_only, ValueError),
        ("wrong dimensions", good.reshape(-1)[:, None, None], ValueError),
        ("a list", good.tolist(), TypeError),
    ]


def _cases(good):
    return pytest.mark.parametrize("label, bad, error", _bad_outputs(good), ids=[c[0] for c in _bad_outputs(good)])


# both top-k searches of the binding, (queries, database, k, out_scores, out_indices)
TOPK_SEARCHES = {
    "cosine_topk": lambda q, db, k, s, i: _native.cosine_topk(q, db, k, None, False, 1, s, i),
    "inner_topk": lambda q, db, k, s, i: _native.inner_topk(q, db, k, None, None, 1, s, i),
}


@pytest.mark.parametrize("search", TOPK_SEARCHES)
@_cases(np.zeros((3, 2), dtype=np.float32))
def test_topk_searches_refuse_an_unusable_out_scores(search, label, bad, error):
    db = np.eye(4, 5, dtype=np.float32)
    queries = db[:3].copy()
    indices = np.zeros((3, 2), dtype=np.int64)
    with pytest.raises(error, match="out_scores"):
        TOPK_SEARCHES[search](queries, db, 2, bad, indices)


@pytest.mark.parametrize("search", TOPK_SEARCHES)
@_cases(np.zeros((3, 2), dtype=np.int64))
def test_topk_searches_refuse_an_unusable_out_indices(search, label, bad, error):
    db = np.eye(4, 5, dtype=np.float32)
    queries = db[:3].copy()
    scores = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(error, match="out_indices"):
        TOPK_SEARCHES[search](queries, db, 2, scores, bad)


@pytest.mark.parametrize("search", TOPK_SEARCHES)
def test_topk_searches_refuse_queries_and_database_of_different_widths(search):
    with pytest.raises(ValueError, match=f"{search}: queries and database must be 2-D with equal widths"):
        TOPK_SEARCHES[search](np.zeros((3, 4), np.float32), np.zeros((5, 3), np.float32), 2,
                              np.zeros((3, 2), np.float32), np.zeros((3, 2), np.int64))


def test_cosine_topk_refuses_int32_indices_that_it_would_have_copied():
    db = np.eye(4, 5, dtype=np.float32)
    with pytest.raises(TypeError, match=r"out_indices must be int64 \(it is written in place, .*\), got int32"):
        _native.cosine_topk(db[:3].copy(), db, 2, None, False, 1, np.zeros((3, 2), np.float32),
                            np.zeros((3, 2), np.int32))


def test_cosine_topk_refuses_outputs_of_the_wrong_shape():
    db = np.eye(4, 5, dtype=np.float32)
    with pytest.raises(ValueError, match=r"out_scores has shape \(3, 3\), expected extent 2"):
        _native.cosine_topk(db[:3].copy(), db, 2, None, False, 1, np.zeros((3, 3), np.float32),
                            np.zeros((3, 2), np.int64))


def test_cosine_topk_writes_into_the_given_outputs():
    rng = np.random.default_rng(0)
    db = rng.standard_normal((20, 6)).astype(np.float32)
    scores = np.full((4, 3), np.nan, dtype=np.float32)
    indices = np.full((4, 3), -1, dtype=np.int64)
    _native.cosine_topk(db[:4].copy(), db, 3, None, False, 1, scores, indices)
    unit = db / np.linalg.norm(db, axis=1, keepdims=True)
    expected = np.argsort(-(unit[:4].astype(np.float64) @ unit.T.astype(np.float64)), axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(indices, expected)
    assert np.isfinite(scores).all()


def _csr():
    indptr = np.array([0, 2, 3], dtype=np.int64)
    indices = np.array([0, 2, 1], dtype=np.int32)
    data = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    return indptr, indices, data


@_cases(np.zeros((2, 4), dtype=np.float32))
def test_csr_matmul_refuses_an_unusable_out(label, bad, error):
    indptr, indices, data = _csr()
    X = np.ones((3, 4), dtype=np.float32)
    with pytest.raises(error, match="out"):
        _native.csr_matmul(indptr, indices, data, 3, X, bad, 1)


def test_csr_matmul_writes_into_the_given_out():
    indptr, indices, data = _csr()
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = np.full((2, 4), np.nan, dtype=np.float32)
    _native.csr_matmul(indptr, indices, data, 3, X, out, 1)
    A = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    np.testing.assert_allclose(out, A @ X.astype(np.float64), rtol=1e-6)


@_cases(np.zeros((5, 2), dtype=np.float32))
def test_dense_matmul_refuses_an_unusable_out(label, bad, error):
    A = np.ones((5, 3), dtype=np.float32)
    X = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(error, match="out"):
        _native.dense_matmul(A, X, bad, 1)


@_cases(np.zeros((2, 3), dtype=np.float32))
def test_parse_vectors_refuses_an_unusable_out(label, bad, error):
    with pytest.raises(error, match="out"):
        _native.parse_vectors(b"a 1 2 3\nb 4 5 6\n", True, bad, 0, 2, 1, False)


def test_parse_vectors_writes_into_the_given_out():
    out = np.zeros((2, 3), dtype=np.float32)
    _native.parse_vectors(b"a 1 2 3\nb 4 5 6\n", True, out, 0, 2, 1, False)
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, 5, 6]])


@_cases(np.zeros(6, dtype=np.uint32))
def test_cooccur_sort_occurrences_refuses_unusable_tallies(label, bad, error):
    ids = np.array([0, 1, 0, 1], dtype=np.int32)
    offsets = np.array([0, 4], dtype=np.int64)
    tiers = np.zeros(2, dtype=np.uint8)
    with pytest.raises(error, match="tallies"):
        _native.cooccur_sort_occurrences(ids, offsets, 0, 4, 2, 2, True, tiers, bad, 1)


def test_integer_arguments_outside_the_c_range_raise_value_error():
    db = np.eye(4, 5, dtype=np.float32)
    with pytest.raises(ValueError, match="outside the range of a 64-bit C integer"):
        _native.cosine_topk(db[:3].copy(), db, 2**70, None, False, 1, np.zeros((3, 2), np.float32),
                            np.zeros((3, 2), np.int64))
    with pytest.raises(ValueError, match="outside the range of a 32-bit C integer"):
        _native.dense_matmul(np.ones((5, 3), np.float32), np.ones((3, 2), np.float32),
                             np.zeros((5, 2), np.float32), 2**40)


def _word2vec_arrays():
    return dict(input_vectors=np.zeros((4, 3), np.float32), output_vectors=np.zeros((4, 3), np.float32))


@pytest.mark.parametrize("name", ["input_vectors", "output_vectors"])
@_cases(np.zeros((4, 3), dtype=np.float32))
def test_word2vec_step_refuses_unusable_parameter_arrays(name, label, bad, error):
    arrays = _word2vec_arrays()
    arrays[name] = bad
    with pytest.raises(error, match=name):
        _sgd.word2vec_step(arrays["input_vectors"], arrays["output_vectors"], 0,
                           np.array([1], np.int32), np.array([2], np.int32), 0.025)


@pytest.mark.parametrize("name", ["word", "context", "word_gradsq", "context_gradsq"])
@_cases(np.zeros((3, 2), dtype=np.float32))
def test_glove_epoch_refuses_unusable_matrices(name, label, bad, error):
    arrays = _glove_arrays()
    arrays[name] = bad
    with pytest.raises(error, match=name):
        _sgd.glove_train_epoch(**arrays, records=np.zeros((0, 4), np.int32), **_glove_settings())


@pytest.mark.parametrize("name", ["word_bias", "context_bias", "word_bias_gradsq", "context_bias_gradsq"])
@_cases(np.zeros(3, dtype=np.float32))
def test_glove_epoch_refuses_unusable_biases(name, label, bad, error):
    arrays = _glove_arrays()
    arrays[name] = bad
    with pytest.raises(error, match=name):
        _sgd.glove_train_epoch(**arrays, records=np.zeros((0, 4), np.int32), **_glove_settings())


def _glove_arrays():
    m = dict(word=(3, 2), context=(3, 2), word_gradsq=(3, 2), context_gradsq=(3, 2),
             word_bias=(3,), context_bias=(3,), word_bias_gradsq=(3,), context_bias_gradsq=(3,))
    return {k: np.zeros(shape, np.float32) for k, shape in m.items()}


def _glove_settings():
    return dict(learning_rate=0.05, bias_learning_rate=0.05, threads=1)
