"""Graph evaluation helpers, graph datasets, and the graph command line."""
import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.cli import main
from embedcore.datasets import load_graph_mat, load_node_labels, stochastic_block_model
from embedcore.evaluate import (evaluate_link_prediction, evaluate_node_classification, link_prediction_split,
                                roc_auc)


# ------------------------------------------------------------------------------------------ datasets
def test_sbm_has_the_requested_edges_and_balanced_communities():
    adjacency, labels = stochastic_block_model(1000, 5000, n_communities=10, mixing=0.2, seed=3)
    assert adjacency.shape == (1000, 1000) and adjacency.nnz == 10000
    assert (adjacency != adjacency.T).nnz == 0 and adjacency.diagonal().sum() == 0
    assert adjacency.max() == 1
    assert np.bincount(labels).tolist() == [100] * 10
    rows, cols = adjacency.nonzero()
    across = float((labels[rows] != labels[cols]).mean())
    assert abs(across - 0.2 * 0.9) < 0.03  # mixing x (1 - 1/communities)


def test_sbm_depends_on_the_seed_only():
    a, la = stochastic_block_model(300, 1000, n_communities=3, seed=1)
    b, lb = stochastic_block_model(300, 1000, n_communities=3, seed=1)
    c, _ = stochastic_block_model(300, 1000, n_communities=3, seed=2)
    assert (a != b).nnz == 0 and (la == lb).all() and (a != c).nnz > 0


@pytest.mark.parametrize("kw,match", [(dict(n_nodes=10, n_edges=5, n_communities=20), "n_nodes"),
                                      (dict(n_nodes=100, n_edges=10 ** 6), "n_edges"),
                                      (dict(n_nodes=100, n_edges=50, mixing=1.5), "mixing")])
def test_sbm_refuses_impossible_sizes(kw, match):
    with pytest.raises(ValueError, match=match):
        stochastic_block_model(**kw)


def test_text_labels_read_in_the_order_of_names(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("# node label\nb 1\na 2 3\nb 3\n")
    labels, names = load_node_labels(path, names=["a", "b", "c"])
    assert names == ["1", "2", "3"]
    assert labels.toarray().tolist() == [[False, True, True], [True, False, True], [False, False, False]]


def test_text_labels_name_the_line_of_an_unknown_node(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("a 1\nzz 2\n")
    with pytest.raises(ValueError, match="line 2: node 'zz' is not in names"):
        load_node_labels(path, names=["a"])


def test_mat_files_of_the_deepwalk_format_read(tmp_path):
    from scipy.io import savemat
    network = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float64))
    group = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float64))
    path = tmp_path / "g.mat"
    savemat(path, {"network": network, "group": group})
    adjacency, labels = load_graph_mat(str(path))
    assert (adjacency != network).nnz == 0 and labels.toarray().tolist() == [[1, 0], [0, 1], [1, 1]]
    again, names = load_node_labels(str(path))
    assert (again != labels).nnz == 0 and names == ["0", "1"]


# ---------------------------------------------------------------------------------------- evaluation
def test_roc_auc_agrees_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.random(500) < 0.3
    scores = labels * 0.5 + rng.random(500)
    scores[:50] = 0.25  # ties
    assert roc_auc(scores, labels) == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)


def test_node_classification_f1_agrees_with_scikit_learn_on_single_labels():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 400)
    vectors = np.eye(4)[labels] + rng.normal(0, 0.8, (400, 4))
    micro, macro = evaluate_node_classification(vectors, labels, seed=2)
    # the same split and classifier, scored by scikit-learn
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    order = np.random.default_rng(2).permutation(400)
    train, test = order[:200], order[200:]
    model = OneVsRestClassifier(LogisticRegression(max_iter=1000, random_state=2)).fit(vectors[train], labels[train])
    predicted = model.predict(vectors[test])
    assert micro == pytest.approx(metrics.f1_score(labels[test], predicted, average="micro"))
    assert macro == pytest.approx(metrics.f1_score(labels[test], predicted, average="macro"))
    assert 0.35 < macro < 1.0  # chance is 0.25


def test_multi_label_nodes_are_predicted_their_number_of_labels():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(3)
    indicator = rng.random((300, 5)) < 0.3
    indicator[indicator.sum(axis=1) == 0, 0] = True
    vectors = indicator + rng.normal(0, 0.3, (300, 5))
    micro, macro = evaluate_node_classification(vectors, sp.csr_matrix(indicator), seed=0)
    assert micro > 0.8 and macro > 0.8
    noise = rng.normal(size=(300, 5))
    assert evaluate_node_classification(noise, indicator, seed=0)[0] < 0.5


def test_node_classification_refuses_mismatched_labels():
    pytest.importorskip("sklearn")
    with pytest.raises(ValueError, match="one entry per vector"):
        evaluate_node_classification(np.ones((5, 2)), np.zeros(4, dtype=int))


def test_link_prediction_split_holds_out_edges_and_keeps_every_node():
    adjacency, _ = stochastic_block_model(500, 3000, n_communities=5, seed=0)
    split = link_prediction_split(adjacency, test_fraction=0.1, seed=0)
    train = split["train_graph"]
    assert train.nnz == adjacency.nnz - 2 * 300
    assert (np.diff(train.indptr) > 0).sum() == (np.diff(adjacency.indptr) > 0).sum()
    pos = split["test_pairs"][split["test_labels"]]
    neg = split["test_pairs"][~split["test_labels"]]
    assert len(pos) == len(neg) == 300
    assert (adjacency[pos[:, 0], pos[:, 1]] == 1).all() and (train[pos[:, 0], pos[:, 1]] == 0).all()
    assert (adjacency[neg[:, 0], neg[:, 1]] == 0).all()
    train_pos = split["train_pairs"][split["train_labels"]]
    assert (train[train_pos[:, 0], train_pos[:, 1]] == 1).all()


def test_link_prediction_split_refuses_a_directed_graph():
    with pytest.raises(ValueError, match="symmetric"):
        link_prediction_split(sp.csr_matrix(np.triu(np.ones((30, 30)), 1)))


def test_node2vec_vectors_predict_held_out_links_and_communities():
    pytest.importorskip("sklearn")
    adjacency, labels = stochastic_block_model(800, 6000, n_communities=8, mixing=0.2, seed=1)
    split = link_prediction_split(adjacency, seed=1)
    model = ec.Node2Vec(vector_size=32, walk_length=20, walks_per_node=5, window=5, workers=1,
                        seed=1).fit(split["train_graph"])
    assert evaluate_link_prediction(model.wv, split, method="cosine") > 0.7
    assert evaluate_link_prediction(model.wv, split, method="hadamard") > 0.55
    micro, macro = evaluate_node_classification(model.wv, labels)
    assert macro > 0.9  # chance 0.125
    random = np.random.default_rng(0).normal(size=(800, 32))
    assert evaluate_link_prediction(random, split, method="cosine") < 0.6


# ------------------------------------------------------------------------------------- command line
def test_train_graph_writes_vectors_keyed_by_node_name(tmp_path, capsys):
    edges = tmp_path / "edges.txt"
    edges.write_text("".join(f"n{i} n{(i + 1) % 30}\n" for i in range(30)))
    out = tmp_path / "v.txt"
    walks = tmp_path / "walks.txt"
    assert main(["-q", "train-graph", str(edges), "-o", str(out), "--dim", "8", "--walk-length", "10",
                 "--walks-per-node", "2", "--p", "0.5", "--q", "2", "--workers", "1",
                 "--save-walks", str(walks)]) == 0
    kv = ec.KeyedVectors.load_word2vec_format(out)
    assert kv.words == [f"n{i}" for i in range(30)] and kv.vectors.shape == (30, 8)
    assert len(walks.read_text().splitlines()) == 60
    assert "30 nodes x 8 dims" in capsys.readouterr().out


def test_train_graph_reports_a_malformed_line(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("a b\nc\n")
    with pytest.raises(SystemExit, match="line 2: expected 'src dst"):
        main(["-q", "train-graph", str(edges), "-o", str(tmp_path / "v.txt")])
    assert not (tmp_path / "v.txt").exists()


@pytest.mark.parametrize("option", [["--p", "0"], ["--q", "-1"], ["--q", "nan"], ["--walk-length", "0"]])
def test_train_graph_refuses_bad_options(tmp_path, option):
    with pytest.raises(SystemExit) as info:
        main(["train-graph", "e.txt", "-o", "v.txt"] + option)
    assert info.value.code == 2


def test_demo_has_a_graph_part(capsys):
    assert main(["-q", "demo", "--tokens", "100000", "--vocab", "1000", "--graph-nodes", "400"]) == 0
    out = capsys.readouterr().out
    assert "DeepWalk (p=1, q=1)" in out and "node2vec (p=1, q=0.5)" in out and "link prediction AUC" in out
