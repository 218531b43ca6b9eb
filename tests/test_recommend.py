"""recommend_all and recommend against a plain numpy reference (float64 inner products rounded to
float32 once, ties by lower item id, excluded items left out, empty slots -inf / -1)."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.backends import cpu


def reference_topk(users, items, k, exclude=None):
    """(scores, ids) of the k best items per user by exact inner product."""
    scores = (np.asarray(users, np.float64) @ np.asarray(items, np.float64).T).astype(np.float32)
    skip = sp.csr_matrix(exclude) if exclude is not None else sp.csr_matrix(scores.shape)
    out_s = np.full((len(users), k), -np.inf, np.float32)
    out_i = np.full((len(users), k), -1, np.int64)
    for u in range(len(users)):
        left_out = set(skip.indices[skip.indptr[u]:skip.indptr[u + 1]].tolist())
        ranked = sorted((j for j in range(items.shape[0]) if j not in left_out), key=lambda j: (-scores[u, j], j))[:k]
        out_s[u, :len(ranked)] = scores[u, ranked]
        out_i[u, :len(ranked)] = ranked
    return out_s, out_i


def factors(n_users, n_items, dim, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal((n_users, dim)) * scale).astype(np.float32),
            (rng.standard_normal((n_items, dim)) * scale).astype(np.float32))


def random_exclusions(n_users, n_items, density, seed=0):
    return sp.random(n_users, n_items, density=density, format="csr", random_state=seed, dtype=np.float32)


def assert_same(result, expected):
    np.testing.assert_array_equal(result[1], expected[1])
    np.testing.assert_array_equal(result[0], expected[0])


@pytest.mark.parametrize("workers", [1, 2])
def test_recommend_all_matches_the_reference_with_exclusions(workers):
    users, items = factors(70, 300, 24, seed=1)
    seen = random_exclusions(70, 300, 0.1, seed=2)
    assert_same(ec.recommend_all(users, items, k=15, exclude=seen, workers=workers),
                reference_topk(users, items, 15, seen))


def test_recommend_all_matches_the_reference_over_many_tiles_and_database_splits():
    # few users against many items split the item range between threads; small tiles cross
    # exclusion lists over many tiles
    users, items = factors(3, 5000, 16, seed=3, scale=30.0)
    seen = random_exclusions(3, 5000, 0.3, seed=4)
    expected = reference_topk(users, items, 12, seen)
    assert_same(ec.recommend_all(users, items, k=12, exclude=seen, workers=2), expected)
    from embedcore._validation import as_csr
    csr = as_csr(seen, "exclude", cpu, 1, canonical=True)
    for tiles in [(1, 7), (2, 64), (256, 1024)]:
        assert_same(cpu.inner_topk(users, items, 12, csr, 2, tiles=tiles), expected)


def test_recommend_all_without_exclusions_is_the_plain_inner_product_topk():
    users, items = factors(40, 120, 8, seed=5)
    assert_same(ec.recommend_all(users, items, k=7), reference_topk(users, items, 7))


def test_equal_items_tie_by_lower_item_id():
    users = np.array([[1.0, 3.0], [0.5, -1.0]], np.float32)
    items = np.array([[1, 1], [3, 0], [1, 1], [3, 0], [1, 1]], np.float32)
    scores, ids = ec.recommend_all(users, items, k=5, exclude=sp.csr_matrix(([1.0], ([0], [1])), shape=(2, 5)))
    assert ids[0].tolist() == [0, 2, 4, 3, -1]
    assert ids[1].tolist() == [1, 3, 0, 2, 4]
    assert scores[0].tolist()[:4] == [4.0, 4.0, 4.0, 3.0]


def test_a_user_who_has_seen_everything_gets_empty_slots():
    users, items = factors(3, 6, 4)
    seen = sp.csr_matrix(np.array([[1, 1, 1, 1, 1, 1], [0, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]]))
    scores, ids = ec.recommend_all(users, items, k=3, exclude=seen)
    assert ids[0].tolist() == [-1, -1, -1] and np.all(np.isneginf(scores[0]))
    assert ids[2].tolist() == [5, -1, -1]
    assert_same((scores, ids), reference_topk(users, items, 3, seen))


def test_k_above_the_number_of_items_pads_every_row():
    users, items = factors(4, 5, 3, seed=7)
    scores, ids = ec.recommend_all(users, items, k=8)
    assert scores.shape == ids.shape == (4, 8)
    assert (ids[:, 5:] == -1).all() and np.isneginf(scores[:, 5:]).all()
    assert sorted(ids[0, :5].tolist()) == [0, 1, 2, 3, 4]
    assert_same((scores, ids), reference_topk(users, items, 8))


def test_large_factors_keep_the_exact_order():
    # the float32 error bound scales with the norms: rows of norm ~1e4 still come out exact
    users, items = factors(20, 400, 64, seed=8, scale=1e3)
    seen = random_exclusions(20, 400, 0.05, seed=9)
    assert_same(ec.recommend_all(users, items, k=20, exclude=seen), reference_topk(users, items, 20, seen))


def test_exclude_accepts_any_sparse_format_dense_and_bool():
    users, items = factors(5, 9, 3, seed=10)
    dense = (np.random.default_rng(11).random((5, 9)) < 0.3)
    expected = reference_topk(users, items, 4, sp.csr_matrix(dense))
    for exclude in (dense, dense.astype(np.int8), sp.coo_matrix(dense), sp.csc_matrix(dense.astype(np.float64)),
                    sp.csr_matrix(dense)):
        assert_same(ec.recommend_all(users, items, k=4, exclude=exclude), expected)


def test_stored_entries_are_excluded_whatever_their_value_and_repeats():
    users, items = factors(2, 6, 3, seed=12)
    # duplicates, unsorted columns and an explicit zero: items 4, 1 and 2 of user 0 are left out
    exclude = sp.coo_matrix(([1.0, 1.0, 0.0, 2.0], ([0, 0, 0, 0], [4, 1, 2, 4])), shape=(2, 6))
    _, ids = ec.recommend_all(users, items, k=6, exclude=exclude)
    assert set(ids[0].tolist()) == {0, 3, 5, -1}
    assert sorted(ids[1].tolist()) == [0, 1, 2, 3, 4, 5]


def test_recommend_all_on_each_device(device):
    users, items = factors(30, 200, 12, seed=13)
    seen = random_exclusions(30, 200, 0.2, seed=14).tolil()
    seen[4] = 1.0  # a user who has seen everything
    seen = seen.tocsr()
    expected = reference_topk(users, items, 9, seen)
    assert_same(ec.recommend_all(users, items, k=9, exclude=seen, device=device), expected)
    assert_same(ec.recommend_all(users, items, k=250, exclude=seen, device=device),
                reference_topk(users, items, 250, seen))


def test_cuda_operation_rescans_users_whose_candidate_list_is_cut(device):
    # many items at nearly the same score push the float32 list past its width
    if device == "cpu":
        pytest.skip("the GPU's candidate lists")
    from embedcore.backends.cuda import ops
    rng = np.random.default_rng(15)
    items = np.ones((300, 4), np.float32) + rng.standard_normal((300, 4)).astype(np.float32) * 1e-6
    users = rng.standard_normal((6, 4)).astype(np.float32)
    seen = random_exclusions(6, 300, 0.1, seed=16)
    skip = ops.csr_matrix(seen)
    skip.sum_duplicates()
    result = ops.inner_topk(users, items, 5, skip, 1, tiles=(4, 32))
    assert_same(ops.to_host(result), reference_topk(users, items, 5, seen))


# ----------------------------------------------------------------------------------------------
# recommend

def test_recommend_filters_seen_and_given_items_and_restricts_to_items():
    users, items = factors(10, 50, 6, seed=17)
    seen = random_exclusions(10, 50, 0.2, seed=18)
    chosen = np.array([3, 0, 7])
    filter_items = [1, 2, 3, 40]
    allowed = np.array([0, 1, 5, 9, 10, 11, 20, 25, 30, 40, 41, 42, 49])
    scores, ids = ec.recommend(users, items, chosen, k=5, seen=seen, filter_items=filter_items, items=allowed)
    mask = np.ones((10, 50), bool)
    mask[:, allowed] = False
    mask[:, filter_items] = True
    mask |= seen.toarray() != 0
    expected = reference_topk(users[chosen], items, 5, sp.csr_matrix(mask[chosen]))
    assert_same((scores, ids), expected)


def test_recommend_for_one_user_gives_one_row():
    users, items = factors(4, 12, 3, seed=19)
    scores, ids = ec.recommend(users, items, 2, k=3, filter_seen=False)
    assert ids.shape == scores.shape == (3,)
    assert_same((scores, ids), tuple(a[0] for a in reference_topk(users[[2]], items, 3)))


def test_recommend_with_everything_filtered_gives_empty_slots():
    users, items = factors(2, 3, 2, seed=20)
    scores, ids = ec.recommend(users, items, [0, 1], k=2, filter_seen=False, filter_items=[0, 1, 2])
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_recommend_without_filter_seen_ranks_every_item():
    users, items = factors(3, 8, 2, seed=21)
    assert_same(ec.recommend(users, items, [0, 1, 2], k=8, filter_seen=False), reference_topk(users, items, 8))


# ----------------------------------------------------------------------------------------------
# bad input

@pytest.mark.parametrize("call, error, words", [
    (lambda u, i: ec.recommend_all(u, i[:, :2]), ValueError, "user_factors and item_factors"),
    (lambda u, i: ec.recommend_all(u, i, k=0), ValueError, "k must be"),
    (lambda u, i: ec.recommend_all(u, i, k=2.5), TypeError, "k must be"),
    (lambda u, i: ec.recommend_all(u.ravel(), i), ValueError, "user_factors"),
    (lambda u, i: ec.recommend_all(u, np.zeros((0, 3))), ValueError, "item_factors"),
    (lambda u, i: ec.recommend_all(np.where(u > 0, np.nan, u), i), ValueError, "user_factors"),
    (lambda u, i: ec.recommend_all(u, np.full_like(i, np.inf)), ValueError, "item_factors"),
    (lambda u, i: ec.recommend_all(u, i, exclude=sp.csr_matrix((4, 7))), ValueError, "exclude must be a users x items"),
    (lambda u, i: ec.recommend_all(u, i, exclude=np.array(["a"])), (TypeError, ValueError), "exclude"),
    (lambda u, i: ec.recommend(u, i, [0, 4]), ValueError, "filter_seen=True needs seen"),
    (lambda u, i: ec.recommend(u, i, [0, 4], filter_seen=False), ValueError, "users must hold ids in [0, 4)"),
    (lambda u, i: ec.recommend(u, i, [-1], filter_seen=False), ValueError, "users must hold ids"),
    (lambda u, i: ec.recommend(u, i, [0.5], filter_seen=False), TypeError, "users must hold integers"),
    (lambda u, i: ec.recommend(u, i, 0, filter_seen=False, items=[1, 6]), ValueError, "items must hold ids in [0, 6)"),
    (lambda u, i: ec.recommend(u, i, 0, filter_seen=False, filter_items=[9]), ValueError, "filter_items must hold"),
    (lambda u, i: ec.recommend(u, i, 0, filter_seen="yes"), TypeError, "filter_seen must be a bool"),
    (lambda u, i: ec.recommend(u, i, 0, seen=sp.csr_matrix((4, 5))), ValueError, "seen must be a users x items"),
])
def test_bad_input_raises_naming_the_argument(call, error, words):
    users, items = factors(4, 6, 3)
    with pytest.raises(error, match=words.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        call(users, items)


def test_exclusion_ids_out_of_range_are_refused():
    users, items = factors(2, 4, 3)
    bad = sp.csr_matrix((np.ones(1, np.float32), np.array([4], np.int32), np.array([0, 1, 1])), shape=(2, 4))
    with pytest.raises(ValueError, match="exclude is not a valid CSR matrix"):
        ec.recommend_all(users, items, exclude=bad)


def test_kernel_refuses_unsorted_exclusion_lists():
    users, items = factors(1, 4, 3)
    unsorted = cpu.Csr(np.array([0, 2]), np.array([2, 1], np.int32), np.ones(2, np.float32), (1, 4))
    with pytest.raises(ValueError, match="sorted and distinct"):
        cpu.inner_topk(users, items, 2, unsorted, 1)
