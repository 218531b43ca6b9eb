"""Node2Vec: inputs, training, reproducibility, documented edge cases and bad input."""
import gzip
import os

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.backends import cpu
from embedcore.datasets import stochastic_block_model
from embedcore.word2vec import initial_vectors
from embedcore.graph import as_graph, read_edge_list
from embedcore.node2vec import walk_order, walk_seed


def ring(n=30):
    return sp.diags([np.ones(n - 1), np.ones(n - 1)], [1, -1], shape=(n, n), format="csr")


def small(**kw):
    settings = dict(vector_size=8, walk_length=10, walks_per_node=4, window=3, workers=1, seed=5)
    settings.update(kw)
    return ec.Node2Vec(**settings)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def nearest_centroid_accuracy(vectors, labels, seed=0):
    """Accuracy of a nearest-centroid classifier trained on half the nodes (cosine)."""
    rng = np.random.default_rng(seed)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    train = rng.random(len(labels)) < 0.5
    classes = np.unique(labels)
    centroids = np.stack([unit[train & (labels == c)].mean(axis=0) for c in classes])
    predicted = classes[np.argmax(unit[~train] @ centroids.T, axis=1)]
    return float((predicted == labels[~train]).mean())


# ---------------------------------------------------------------------------------------- training
def test_sbm_communities_are_recovered():
    adjacency, labels = stochastic_block_model(600, 6000, n_communities=4, mixing=0.1, seed=1)
    model = ec.Node2Vec(vector_size=32, walk_length=20, walks_per_node=5, window=5, p=0.5, q=2.0, workers=2,
                        seed=2).fit(adjacency)
    accuracy = nearest_centroid_accuracy(model.wv.vectors, labels)
    assert accuracy > 0.9  # chance is 0.25
    assert model.stats["nodes_trained"] == 600 * 5 * 20
    assert model.stats["walks"] == 600 * 5
    assert len(model.loss_history) == 1 and np.isfinite(model.loss_history[0])


def test_untrained_vectors_do_not_recover_communities():
    # the check above has power: random vectors score near chance
    adjacency, labels = stochastic_block_model(600, 6000, n_communities=4, mixing=0.1, seed=1)
    vectors = np.random.default_rng(0).standard_normal((600, 32))
    assert nearest_centroid_accuracy(vectors, labels) < 0.45


def test_communities_are_recovered_as_well_as_gensim_does_from_the_same_walks(tmp_path):
    # Shared negatives (the former default) scored 0.042 below gensim here (0.668 against 0.711
    # over six seeds; on these three 0.660 against 0.702, which fails below); per pair, as gensim
    # and word2vec.c update, within noise of it.
    gensim = pytest.importorskip("gensim.models")
    adjacency, labels = stochastic_block_model(2000, 20000, n_communities=10, mixing=0.6, seed=0)
    ours, theirs = [], []
    for seed in range(3):
        path = tmp_path / f"walks{seed}.txt"
        model = ec.Node2Vec(vector_size=32, walk_length=40, walks_per_node=5, window=10, p=1.0, q=0.5, workers=1,
                            seed=seed).fit(adjacency, save_walks=path)
        walks = [line.split() for line in path.read_text().splitlines()]
        peer = gensim.Word2Vec(walks, vector_size=32, window=10, min_count=1, sg=1, workers=1, epochs=1, seed=seed)
        ours.append(nearest_centroid_accuracy(model.wv.vectors, labels))
        theirs.append(nearest_centroid_accuracy(peer.wv[model.wv.index_to_key], labels))
    assert np.mean(theirs) > 0.6  # chance is 0.1
    assert np.mean(ours) > np.mean(theirs) - 0.035, (ours, theirs)


def test_workers_1_and_a_seed_give_bit_identical_vectors():
    a = small().fit(ring())
    b = small().fit(ring())
    c = small(seed=6).fit(ring())
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_per_pair_negatives_train_reproducibly_and_differently_from_shared_ones():
    a = small(negative_sharing=False).fit(ring())
    b = small(negative_sharing=False).fit(ring())
    default = small().fit(ring())  # per pair on the CPU
    shared = small(negative_sharing=True).fit(ring())
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.wv.vectors, default.wv.vectors)
    assert not np.array_equal(a.wv.vectors, shared.wv.vectors)
    assert a.stats["nodes_trained"] == shared.stats["nodes_trained"]
    assert np.isfinite(a.loss_history[0]) and a.loss_history[0] > 0


def test_deepwalk_and_node2vec_train_different_vectors():
    a = small().fit(ring())
    b = small(p=0.5, q=2.0).fit(ring())
    assert not np.array_equal(a.wv.vectors, b.wv.vectors)
    assert "DeepWalk" in repr(a) and "p=0.5" in repr(b)


def test_neighbours_on_a_ring_are_most_similar():
    model = ec.Node2Vec(vector_size=16, walk_length=20, walks_per_node=20, window=2, workers=1, seed=3,
                        epochs=2).fit(ring(40))
    hits = sum(int(model.wv.most_similar(str(v), topn=2)[0][0] in {str(v - 1), str(v + 1)})
               for v in range(1, 39))
    assert hits >= 30


def test_isolated_nodes_keep_their_initial_vectors():
    a = sp.lil_matrix((6, 6))
    for u, v in [(0, 1), (1, 2), (2, 3), (3, 0)]:
        a[u, v] = 1
    model = small(sample=0).fit(a.tocsr())  # (subsampling would drop nearly every visit of 4 nodes)
    initial = initial_vectors(6, 8, 5)
    np.testing.assert_array_equal(model.wv["4"], initial[4])
    np.testing.assert_array_equal(model.wv["5"], initial[5])
    assert not np.array_equal(model.wv["0"], initial[0])


def test_a_directed_graph_with_dangling_nodes_trains():
    a = sp.csr_matrix(([1.0] * 4, ([0, 1, 2, 0], [1, 2, 3, 3])), shape=(5, 5))
    model = small(directed=True).fit(a)
    assert model.wv.vectors.shape == (5, 8)
    # node 3 has no out-edge: every walk ends there, so fewer nodes than walk_length x walks
    assert model.stats["nodes_trained"] < 5 * 4 * 10


def test_save_walks_writes_the_walks_that_were_trained(tmp_path):
    path = tmp_path / "walks.txt"
    graph = as_graph(ring(12))
    model = small(walks_per_node=2, p=0.5, q=2.0).fit(ring(12), save_walks=path)
    lines = path.read_text().splitlines()
    assert len(lines) == 24
    wg = cpu.walk_graph(graph.indptr, graph.indices, graph.weights, 1)
    expected = []
    for r in range(2):
        walks, lengths = cpu.walks(wg, walk_order(12, 5, 0, r), 10, 0.5, 2.0, walk_seed(5), r * 12, 1)
        expected += [" ".join(str(v) for v in w[:n]) for w, n in zip(walks, lengths)]
    assert lines == expected
    # saving does not change the training
    np.testing.assert_array_equal(model.wv.vectors, small(walks_per_node=2, p=0.5, q=2.0).fit(ring(12)).wv.vectors)


def test_every_walk_is_trained_once_when_threads_share_out_the_blocks(tmp_path):
    # 3 threads take blocks of 128 walks from a shared counter: 1,000 walks per round make 8
    # blocks, the last one short; every walk must be made and trained exactly once
    n, path = 1000, tmp_path / "walks.txt"
    graph = as_graph(ring(n))
    model = small(walks_per_node=1, workers=3).fit(ring(n), save_walks=path)
    lines = path.read_text().splitlines()
    wg = cpu.walk_graph(graph.indptr, graph.indices, graph.weights, 1)
    walks, lengths = cpu.walks(wg, walk_order(n, 5, 0, 0), 10, 1.0, 1.0, walk_seed(5), 0, 1)
    assert lines == [" ".join(str(v) for v in w[:k]) for w, k in zip(walks, lengths)]
    assert model.stats["nodes_trained"] == int(lengths.sum()) == n * 10
    assert np.isfinite(model.loss_history[0]) and model.loss_history[0] > 0


def test_save_walks_compresses_by_suffix(tmp_path):
    path = tmp_path / "walks.txt.gz"
    small().fit(ring(), save_walks=path)
    with gzip.open(path, "rt") as f:
        assert len(f.read().splitlines()) == 30 * 4


def test_epoch_end_callbacks_see_the_model():
    seen = []
    small(epochs=2, callbacks=[lambda model, epoch: seen.append((epoch, model.wv.vectors.shape))]).fit(ring())
    assert seen == [(0, (30, 8)), (1, (30, 8))]


def test_vectors_before_fit_raise_not_fitted():
    with pytest.raises(ec.NotFittedError, match="wv"):
        small().wv


# ------------------------------------------------------------------------------------------ inputs
def test_an_edge_list_file_keys_vectors_by_the_names_as_written(tmp_path):
    path = write(tmp_path / "e.txt", "# comment\nalice bob\nbob\tcarol\n\ncarol  dave\ndave alice\nÉmile alice\n")
    model = small().fit(path)
    assert model.wv.words == ["alice", "bob", "carol", "dave", "Émile"]


def test_a_gzipped_weighted_edge_list_reads(tmp_path):
    path = tmp_path / "e.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("1 2 0.5\n2 3 2\n3 1 1e1\n")
    graph = read_edge_list(path)
    assert graph.names == ["1", "2", "3"] and graph.weighted and not graph.directed
    dense = graph.to_scipy().toarray()
    np.testing.assert_allclose(dense, [[0, 0.5, 10], [0.5, 0, 2], [10, 2, 0]])


def test_an_undirected_matrix_takes_the_larger_weight_of_the_two_directions():
    a = sp.csr_matrix(np.array([[0, 2, 0], [3, 0, 1], [0, 0, 0]], dtype=np.float64))
    dense = as_graph(a).to_scipy().toarray()
    np.testing.assert_allclose(dense, [[0, 3, 0], [3, 0, 1], [0, 1, 0]])
    directed = as_graph(a, directed=True).to_scipy().toarray()
    np.testing.assert_allclose(directed, a.toarray())


def test_weights_are_used_only_when_they_differ_unless_asked():
    assert not as_graph(ring() * 3.0).weighted
    assert as_graph(ring() * 3.0, weighted=True).weighted
    weighted = ring().tolil()
    weighted[0, 1] = weighted[1, 0] = 5
    assert as_graph(weighted.tocsr()).weighted
    assert not as_graph(weighted.tocsr(), weighted=False).weighted


def test_a_coo_matrix_with_duplicates_and_explicit_zeros_reads():
    a = sp.coo_matrix(([1.0, 1.0, 0.0, 2.0], ([0, 0, 1, 1], [1, 1, 2, 0])), shape=(3, 3))
    graph = as_graph(a, directed=True, weighted=True)
    np.testing.assert_allclose(graph.to_scipy().toarray(), [[0, 2, 0], [2, 0, 0], [0, 0, 0]])


def test_a_networkx_graph_keys_vectors_by_str_of_its_nodes():
    nx = pytest.importorskip("networkx")
    g = nx.karate_club_graph()
    model = small().fit(g)
    assert model.wv.words == [str(v) for v in g.nodes()]
    weighted = nx.Graph()
    weighted.add_edge("a", "b", weight=2.0)
    weighted.add_edge("b", "c")
    graph = as_graph(weighted)
    assert graph.weighted and graph.names == ["a", "b", "c"]
    np.testing.assert_allclose(graph.to_scipy().toarray(), [[0, 2, 0], [2, 0, 1], [0, 1, 0]])


# --------------------------------------------------------------------------------------- bad input
def test_negative_weights_are_refused():
    a = sp.csr_matrix(np.array([[0, -1.0], [1.0, 0]]))
    with pytest.raises(ValueError, match=r"negative edge weights \(first at row 0, column 1: -1.0\)"):
        small().fit(a)


def test_nan_weights_are_refused():
    a = sp.csr_matrix(np.array([[0, np.nan], [1.0, 0]]))
    with pytest.raises(ValueError, match="NaN or infinity"):
        small().fit(a)


@pytest.mark.parametrize("name,value,error", [("p", 0.0, ValueError), ("q", -1.0, ValueError),
                                              ("p", float("nan"), ValueError), ("q", "1", TypeError),
                                              ("walk_length", 0, ValueError), ("walks_per_node", 0, ValueError),
                                              ("window", 0, ValueError), ("vector_size", 0, ValueError),
                                              ("workers", 0, ValueError), ("weighted", "yes", TypeError),
                                              ("directed", None, TypeError), ("negative", -1, ValueError),
                                              ("negative_sharing", 1, TypeError)])
def test_bad_parameters_are_named(name, value, error):
    with pytest.raises(error, match=name):
        ec.Node2Vec(**{name: value})


def test_an_empty_graph_is_refused():
    with pytest.raises(ValueError, match="no nodes"):
        small().fit(sp.csr_matrix((0, 0)))
    with pytest.raises(ValueError, match="no edges"):
        small().fit(sp.csr_matrix((4, 4)))


def test_a_non_square_matrix_is_refused():
    with pytest.raises(ValueError, match=r"square adjacency matrix, got shape \(2, 3\)"):
        small().fit(sp.csr_matrix((2, 3)))


def test_a_graph_of_an_unknown_type_is_refused():
    with pytest.raises(TypeError, match="graph must be a scipy.sparse adjacency matrix"):
        small().fit([[0, 1], [1, 0]])


def test_a_csr_with_columns_out_of_range_is_refused():
    bad = sp.csr_matrix((np.ones(2), np.array([1, 5]), np.array([0, 1, 2])), shape=(2, 2))
    with pytest.raises(ValueError, match="not a valid CSR matrix"):
        small().fit(bad)


@pytest.mark.parametrize("text,message", [
    ("a b\nc\n", r"line 2: expected 'src dst \[weight\]'.*got 1 fields"),
    ("a b 1 2\n", r"line 1: .*got 4 fields"),
    ("a b 1\nb c x\n", r"line 2: weight 'x' is not a number"),
    ("a b 1\nb c -2\n", r"line 2: weight must be a finite number >= 0, got -2.0"),
    ("a b inf\n", r"line 1: weight must be a finite number >= 0, got inf"),
    ("a b 1\n# note\nb c\n", r"line 3: some lines have a weight \(line 1\) and others not \(line 3\)"),
    ("# nothing\n\n", r"holds no edges"),
    ("a b 0\n", r"has no edges"),
])
def test_malformed_edge_lists_name_the_line(tmp_path, text, message):
    path = write(tmp_path / "e.txt", text)
    with pytest.raises(ValueError, match=message) as info:
        small().fit(path)
    if "line" in message:
        assert os.fspath(path) in str(info.value)


def test_invalid_utf8_node_names_name_the_line(tmp_path):
    path = tmp_path / "e.txt"
    path.write_bytes(b"a b\nb \xff\n")
    with pytest.raises(ValueError, match="line 2: node name .* is not valid UTF-8"):
        read_edge_list(path)


def test_weighted_true_needs_a_weight_column(tmp_path):
    path = write(tmp_path / "e.txt", "a b\nb c\n")
    with pytest.raises(ValueError, match="weighted=True but .* has no weight column"):
        small(weighted=True).fit(path)


def test_weighted_false_ignores_a_weight_column(tmp_path):
    path = write(tmp_path / "e.txt", "a b 1\nb c x\nc a\n")
    assert not read_edge_list(path, weighted=False).weighted


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        small().fit(str(tmp_path / "none.txt"))


def test_networkx_nodes_with_the_same_name_are_refused():
    nx = pytest.importorskip("networkx")
    g = nx.Graph()
    g.add_edge(1, "1")
    with pytest.raises(ValueError, match="same name '1'"):
        small().fit(g)
