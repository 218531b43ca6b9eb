"""Item2Vec: planted item clusters recovered, ns_exponent reaching the noise table, user vectors
as means of item vectors, time-ordered histories, determinism and bad input."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.backends import cpu


def planted_blocks(n_users=300, n_items=60, blocks=3, per_user=8, seed=0):
    """Users of block b interact only with items of block b (per_user distinct items each)."""
    rng = np.random.default_rng(seed)
    user_block = np.arange(n_users) % blocks
    item_block = np.arange(n_items) % blocks
    rows, cols = [], []
    for u in range(n_users):
        choice = rng.choice(np.flatnonzero(item_block == user_block[u]), per_user, replace=False)
        rows += [u] * per_user
        cols += choice.tolist()
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    return matrix, user_block, item_block


def test_planted_item_clusters_are_recovered():
    x, user_block, item_block = planted_blocks()
    model = ec.Item2Vec(vector_size=16, epochs=15, workers=1, seed=3).fit(x)
    _, neighbours = ec.cosine_topk(model.item_factors, model.item_factors, k=6, exclude=np.arange(60))
    assert np.mean(item_block[neighbours] == item_block[:, None]) > 0.95
    _, ids = model.recommend_all(k=5)
    assert np.mean(item_block[ids] == user_block[:, None]) > 0.95
    assert not x[np.arange(300)[:, None], ids].toarray().any()  # seen items are left out


def test_user_vectors_are_the_mean_of_their_unit_item_vectors():
    x, _, _ = planted_blocks(n_users=30, seed=1)
    model = ec.Item2Vec(vector_size=8, epochs=2, workers=1).fit(x)
    np.testing.assert_allclose(np.linalg.norm(model.item_factors, axis=1), 1.0, rtol=1e-5)
    expected = np.vstack([model.item_factors[x[u].indices].mean(axis=0) for u in range(30)])
    np.testing.assert_allclose(model.user_factors, expected, rtol=1e-5, atol=1e-6)


def test_ns_exponent_shapes_the_noise_table(monkeypatch):
    seen = []
    original = cpu.word2vec_tables
    monkeypatch.setattr(cpu, "word2vec_tables", lambda counts, sample, power=0.75: (
        seen.append(power), original(counts, sample, power))[1])
    x, _, _ = planted_blocks(n_users=30, seed=2)
    ec.Item2Vec(vector_size=4, epochs=1, workers=1, ns_exponent=-0.5, device="cpu").fit(x)
    assert seen == [-0.5]


def test_same_seed_and_one_worker_give_identical_vectors():
    x, _, _ = planted_blocks(n_users=40, seed=4)
    a = ec.Item2Vec(vector_size=8, epochs=2, workers=1, seed=7).fit(x)
    b = ec.Item2Vec(vector_size=8, epochs=2, workers=1, seed=7).fit(x)
    np.testing.assert_array_equal(a.item_factors, b.item_factors)


def test_time_ordered_histories_with_a_window_recover_clusters_too():
    x, user_block, item_block = planted_blocks(seed=5)
    coo = x.tocoo()
    times = np.random.default_rng(6).random(x.nnz)
    interactions = ec.Interactions.from_arrays(coo.row, coo.col, times=times)
    model = ec.Item2Vec(vector_size=16, window=3, epochs=15, workers=1).fit(interactions)
    _, ids = model.recommend(np.arange(30), k=5)
    assert np.mean(item_block[ids] == user_block[:30, None]) > 0.9


def test_items_nobody_has_get_zero_vectors():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0]], np.float32))
    model = ec.Item2Vec(vector_size=4, epochs=1, workers=1).fit(x)
    assert not model.item_factors[2].any()


def test_bad_input_raises():
    with pytest.raises(ValueError, match="two or more items"):
        ec.Item2Vec().fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="non-negative"):
        ec.Item2Vec().fit(np.array([[1.0, -1.0]]))
    with pytest.raises(ec.NotFittedError):
        ec.Item2Vec().recommend_all()
    with pytest.raises(ValueError, match="window must be >= 1"):
        ec.Item2Vec(window=0)
    with pytest.raises(TypeError, match="ns_exponent must be a number"):
        ec.Item2Vec(ns_exponent="0.5")


def test_word2vec_refuses_a_negative_exponent_with_zero_counts():
    vocab = ec.Vocab(["a", "b"], [3, 0])
    with pytest.raises(ValueError, match="ns_exponent < 0 needs every vocab count"):
        ec.Word2Vec(vector_size=4, min_count=1, ns_exponent=-1.0).fit(ec.EncodedCorpus(np.array([0, 0, 0])), vocab=vocab)
