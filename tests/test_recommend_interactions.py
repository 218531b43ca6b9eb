"""Interactions, train/test splits, ranking metrics (against a plain Python reference) and the
synthetic implicit-feedback generator."""
import gzip
import math

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.interactions import ranking_metrics, train_test_split


def reference_metrics(recommended, test_rows, k):
    """Plain Python: per user lists; the mean over users with test items."""
    p = r = n = m = 0.0
    users = 0
    for recs, truth in zip(recommended, test_rows):
        truth = set(truth)
        if not truth:
            continue
        users += 1
        recs = list(recs)[:k]
        hits = [1 if item in truth else 0 for item in recs]
        p += sum(hits) / k
        r += sum(hits) / len(truth)
        dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
        idcg = sum(1 / math.log2(i + 2) for i in range(min(len(truth), k)))
        n += dcg / idcg
        ap, found = 0.0, 0
        for i, h in enumerate(hits):
            if h:
                found += 1
                ap += found / (i + 1)
        m += ap / min(len(truth), k)
    return {"precision": p / users, "recall": r / users, "ndcg": n / users, "map": m / users, "users": users}


# ----------------------------------------------------------------------------------------------
# Interactions

def test_from_arrays_numbers_labels_in_sorted_order_and_maps_both_ways():
    x = ec.Interactions.from_arrays(["bob", "ann", "bob", "cid"], [20, 10, 30, 10], [1.0, 2.0, 0.5, 3.0])
    assert x.shape == (3, 3) and x.nnz == 4
    assert x.user_ids.tolist() == ["ann", "bob", "cid"] and x.item_ids.tolist() == [10, 20, 30]
    assert x.user_index("cid") == 2 and x.item_index(30) == 2
    assert x.matrix.toarray().tolist() == [[2, 0, 0], [0, 1, 0.5], [3, 0, 0]]
    with pytest.raises(KeyError):
        x.user_index("dan")


def test_repeated_pairs_sum_weights_and_keep_the_latest_time():
    x = ec.Interactions.from_arrays([0, 0, 1, 0], [5, 5, 5, 6], [1.0, 2.0, 1.0, 1.0], times=[7, 3, 1, 2])
    assert x.matrix.toarray().tolist() == [[3, 1], [1, 0]]
    assert x.times.tolist() == [7, 2, 1]  # entries in (user, item) order


def test_from_pandas_reads_named_columns_and_datetimes():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"u": [1, 2, 1], "i": ["a", "b", "b"], "w": [1.0, 2.0, 3.0],
                          "t": pd.to_datetime(["2020-01-01", "2020-01-03", "2020-01-02"])})
    x = ec.Interactions.from_pandas(frame, user="u", item="i", weight="w", time="t")
    assert x.matrix.toarray().tolist() == [[1, 3], [0, 2]]
    assert np.argsort(x.times).tolist() == [0, 1, 2]
    with pytest.raises(KeyError, match="weight column 'x'"):
        ec.Interactions.from_pandas(frame, user="u", item="i", weight="x")


def test_from_file_reads_user_item_weight_lines(tmp_path):
    path = tmp_path / "x.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("# user item weight\nu1 i1 2\n\nu2\ti1\t0.5\nu1 i2 1\n")
    x = ec.Interactions.from_file(path)
    assert x.user_ids.tolist() == ["u1", "u2"] and x.item_ids.tolist() == ["i1", "i2"]
    assert x.matrix.toarray().tolist() == [[2, 1], [0.5, 0]]


@pytest.mark.parametrize("line, words", [
    ("u1\n", "line 3: expected 'user item \\[weight\\]', got 1 fields"),
    ("u1 i1 2 9\n", "line 3: expected"),
    ("u1 i1 much\n", "line 3: the weight 'much' is not a number"),
    ("u1 i1 -1\n", "line 3: the weight must be a finite non-negative number"),
    ("u1 i1 nan\n", "line 3: the weight must be"),
])
def test_malformed_lines_raise_with_their_line_number(tmp_path, line, words):
    path = tmp_path / "x.txt"
    path.write_text("u1 i1\nu2 i2\n" + line)
    with pytest.raises(ValueError, match=words):
        ec.Interactions.from_file(path)


@pytest.mark.parametrize("call, error, words", [
    (lambda: ec.Interactions.from_arrays([0, 1], [0]), ValueError, "users and items must be 1-D arrays of one length"),
    (lambda: ec.Interactions.from_arrays([0, 1], [0, 1], [1.0, -2.0]), ValueError, "weights must be non-negative"),
    (lambda: ec.Interactions.from_arrays([0, 1], [0, 1], [1.0]), ValueError, "weights must be a 1-D array"),
    (lambda: ec.Interactions.from_arrays([0, 1], [0, 1], [1.0, np.inf]), ValueError, "weights contains NaN"),
    (lambda: ec.Interactions.from_arrays([0], [0], times=["x"]), TypeError, "times must hold numbers"),
    (lambda: ec.Interactions(sp.csr_matrix(np.array([[1.0, -1.0]]))), ValueError, "non-negative"),
])
def test_bad_interactions_raise_naming_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_interactions_serve_as_exclusions_for_recommend_all():
    x = ec.Interactions.from_arrays([0, 0, 1], [0, 2, 1])
    users = np.eye(2, 3, dtype=np.float32)
    items = np.eye(3, dtype=np.float32)
    _, ids = ec.recommend_all(users, items, k=3, exclude=x)
    assert ids.tolist() == [[1, -1, -1], [0, 2, -1]]


# ----------------------------------------------------------------------------------------------
# splits

def test_split_by_user_holds_out_a_fraction_of_each_users_items():
    x, _ = ec.datasets.synthetic_interactions(300, 80, 6000, seed=1)
    train, test = train_test_split(x, test_fraction=0.25, seed=3)
    assert train.shape == test.shape == x.shape
    assert train.nnz + test.nnz == x.nnz
    assert (train.matrix.multiply(test.matrix)).nnz == 0
    assert ((train.matrix + test.matrix) != x.matrix).nnz == 0
    counts, held = np.diff(x.matrix.indptr), np.diff(test.matrix.indptr)
    np.testing.assert_array_equal(held, np.minimum(np.rint(0.25 * counts), counts - 1))
    assert (np.diff(train.matrix.indptr) >= 1).all()
    again, _ = train_test_split(x, test_fraction=0.25, seed=3)
    assert (again.matrix != train.matrix).nnz == 0


def test_split_by_time_holds_out_the_latest_interactions():
    x = ec.Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 0, 2, 1], times=[5, 1, 3, 4, 2])
    train, test = train_test_split(x, test_fraction=0.4, by="time")
    assert sorted(zip(*test.matrix.nonzero())) == [(0, 0), (1, 2)]
    assert sorted(train.times.tolist()) == [1, 2, 3] and sorted(test.times.tolist()) == [4, 5]


def test_split_arguments_are_checked():
    x = ec.Interactions.from_arrays([0, 1], [0, 1])
    with pytest.raises(ValueError, match="needs interaction times"):
        train_test_split(x, by="time")
    with pytest.raises(ValueError, match="test_fraction must be < 1"):
        train_test_split(x, test_fraction=1.0)
    with pytest.raises(ValueError, match="by must be one of"):
        train_test_split(x, by="item")


# ----------------------------------------------------------------------------------------------
# metrics

def test_ranking_metrics_match_the_plain_python_reference():
    rng = np.random.default_rng(4)
    n_users, n_items, k = 60, 30, 8
    test = sp.random(n_users, n_items, density=0.1, format="lil", random_state=5)
    test[7] = 0  # a user without test items is not counted
    test = test.tocsr()
    test.eliminate_zeros()
    recommended = np.array([rng.permutation(n_items)[:k] for _ in range(n_users)])
    recommended[3, 5:] = -1  # empty slots are misses
    rows = [test.indices[test.indptr[u]:test.indptr[u + 1]].tolist() for u in range(n_users)]
    for cut in (k, 3):
        got = ranking_metrics(recommended, test, k=cut)
        want = reference_metrics(recommended, rows, cut)
        assert got["users"] == want["users"]
        for name in ("precision", "recall", "ndcg", "map"):
            assert got[name] == pytest.approx(want[name], rel=1e-12), name


def test_perfect_recommendations_score_one():
    test = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 0, 1]]))
    got = ranking_metrics(np.array([[1, 0], [3, 2]]), test)
    assert got["ndcg"] == pytest.approx(1.0) and got["map"] == pytest.approx(1.0)
    assert got["recall"] == 1.0 and got["precision"] == 0.75


def test_ranking_metrics_check_their_input():
    test = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match="one row per user of test"):
        ranking_metrics(np.zeros((2, 2), int), test)
    with pytest.raises(ValueError, match=r"item_ids must hold items in \[0, 3\)"):
        ranking_metrics(np.full((3, 2), 3), test)
    with pytest.raises(ValueError, match="k must be <= 2"):
        ranking_metrics(np.zeros((3, 2), int), test, k=3)


# ----------------------------------------------------------------------------------------------
# synthetic data

def test_synthetic_interactions_have_the_asked_shape_skew_and_clusters():
    x, clusters = ec.datasets.synthetic_interactions(2000, 300, 40_000, n_clusters=5, seed=2)
    assert x.shape == (2000, 300) and 0.95 * 40_000 < x.nnz < 1.05 * 40_000
    assert (np.diff(x.matrix.indptr) >= 1).all() and x.times is not None
    popularity = np.sort(np.asarray(x.matrix.sum(axis=0)).ravel())[::-1]
    assert popularity[:30].sum() > 3 * popularity[-30:].sum() * 1.0  # popularity skew
    # users of one cluster share more items than users of different clusters
    rows = (x.matrix[:400] > 0).astype(np.float64).toarray()
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    similarity = rows @ rows.T
    same = clusters[:400, None] == clusters[None, :400]
    off_diagonal = ~np.eye(400, dtype=bool)
    assert similarity[same & off_diagonal].mean() > 1.4 * similarity[~same].mean()
    again, _ = ec.datasets.synthetic_interactions(2000, 300, 40_000, n_clusters=5, seed=2)
    assert (again.matrix != x.matrix).nnz == 0


def test_split_and_metrics_are_public_names():
    assert ec.train_test_split is train_test_split and ec.ranking_metrics is ranking_metrics
