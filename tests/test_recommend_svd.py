"""SVDRecommender (PureSVD): the weightings against numpy formulas, the factors against numpy's
SVD, planted clusters recovered, the fitted-state rule and bad input."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.interactions import ranking_metrics, train_test_split
from embedcore.recommend import weight_interactions


def planted_blocks(n_users=120, n_items=60, blocks=3, density=0.5, seed=0):
    """Users of block b interact only with items of block b; returns (matrix, user block)."""
    rng = np.random.default_rng(seed)
    user_block = np.arange(n_users) % blocks
    item_block = np.arange(n_items) % blocks
    dense = (user_block[:, None] == item_block[None, :]) & (rng.random((n_users, n_items)) < density)
    return sp.csr_matrix(dense.astype(np.float32)), user_block, item_block


def test_weightings_follow_the_bm25_and_tfidf_formulas():
    x = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 1], [1, 1, 0], [0, 0, 5]], np.float32))
    dense = x.toarray().astype(np.float64)
    idf = np.log(4) - np.log1p((dense > 0).sum(axis=0))
    tfidf = np.where(dense > 0, np.sqrt(dense) * idf, 0)
    np.testing.assert_allclose(weight_interactions(x, "tfidf").toarray(), tfidf, rtol=1e-6)
    k1, b = 1.2, 0.75
    length = dense.sum(axis=1, keepdims=True)
    norm = (1 - b) + b * length / length.mean()
    bm25 = np.where(dense > 0, dense * (k1 + 1) / (k1 * norm + dense) * idf, 0)
    np.testing.assert_allclose(weight_interactions(x, "bm25", k1, b).toarray(), bm25, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(weight_interactions(x, None).toarray(), dense)


def test_scores_are_the_puresvd_projection_of_numpy():
    rng = np.random.default_rng(1)
    x = sp.random(80, 40, density=0.2, format="csr", random_state=2, dtype=np.float32)
    x.data[:] = rng.integers(1, 4, x.nnz)
    model = ec.SVDRecommender(factors=6, n_iter=10, seed=3).fit(x)
    _, _, vt = np.linalg.svd(x.toarray().astype(np.float64), full_matrices=False)
    v = vt[:6].T
    expected = x.toarray() @ v @ v.T
    np.testing.assert_allclose(model.user_factors @ model.item_factors.T, expected, atol=2e-3 * np.abs(expected).max())


def test_planted_clusters_are_recovered():
    x, user_block, item_block = planted_blocks()
    train, test = train_test_split(ec.Interactions(x), test_fraction=0.3, seed=4)
    model = ec.SVDRecommender(factors=3, seed=0).fit(train)
    scores, ids = model.recommend_all(k=5)
    assert (item_block[ids] == user_block[:, None]).all()  # every recommendation from the user's block
    assert not train.matrix[np.arange(120)[:, None], ids].toarray().any()  # nothing seen is recommended
    # ~3 held-out items among the ~13 unseen of the user's block (0.23 at best within a uniform
    # block) against ~3 among the ~53 unseen items (0.06 for random picks)
    assert ranking_metrics(ids, test, k=5)["precision"] > 0.15


@pytest.mark.parametrize("weighting", ["bm25", "tfidf"])
def test_weighted_models_recover_the_clusters_too(weighting):
    x, user_block, item_block = planted_blocks(seed=5)
    model = ec.SVDRecommender(factors=3, weighting=weighting).fit(x)
    _, ids = model.recommend(np.arange(10), k=5, filter_seen=False)
    assert (item_block[ids] == user_block[:10, None]).all()


def test_recommend_filters_the_fitted_interactions():
    x, _, _ = planted_blocks(seed=6)
    model = ec.SVDRecommender(factors=3).fit(x)
    _, ids = model.recommend([0, 1], k=10)
    for user, row in zip([0, 1], ids):
        assert not set(row.tolist()) & set(x[user].indices.tolist())


def test_unfitted_model_raises_not_fitted():
    model = ec.SVDRecommender()
    with pytest.raises(ec.NotFittedError, match="user_factors"):
        model.user_factors
    with pytest.raises(ec.NotFittedError):
        model.recommend_all()


@pytest.mark.parametrize("kwargs, error, words", [
    ({"factors": 0}, ValueError, "factors must be >= 1"),
    ({"weighting": "okapi"}, ValueError, "weighting must be one of"),
    ({"bm25_b": 2.0}, ValueError, "bm25_b must be <= 1"),
])
def test_bad_parameters_raise_naming_them(kwargs, error, words):
    with pytest.raises(error, match=words):
        ec.SVDRecommender(**kwargs)


def test_bad_matrices_raise():
    with pytest.raises(ValueError, match="non-negative"):
        ec.SVDRecommender(factors=1).fit(np.array([[1.0, -1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="factors must be <= min"):
        ec.SVDRecommender(factors=5).fit(np.eye(3))
    with pytest.raises(ValueError, match="interactions contains NaN"):
        ec.SVDRecommender(factors=1).fit(np.array([[np.nan, 1.0], [0.0, 1.0]]))
