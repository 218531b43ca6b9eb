"""The walk kernel against the exact node2vec transition probabilities (float64 numpy reference)."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from embedcore.backends import cpu
from embedcore.graph import from_scipy

# A small graph with triangles, a pendant node and unequal degrees, so that every node2vec case
# appears (return, a common neighbour of t and v, a node two steps from t).
EDGES = [(0, 1, 1.0), (0, 2, 2.0), (1, 2, 0.5), (2, 3, 3.0), (3, 4, 1.0), (3, 5, 1.5), (4, 5, 2.5),
         (5, 6, 1.0), (6, 7, 4.0), (2, 5, 1.0), (1, 6, 0.25), (7, 0, 1.0), (3, 7, 2.0)]


def adjacency(weighted=True, directed=False):
    rows, cols, data = zip(*EDGES)
    data = np.array(data) if weighted else np.ones(len(data))
    a = sp.coo_matrix((data, (rows, cols)), shape=(8, 8)).tocsr()
    if directed:
        # both directions for some edges, one for the others; node 4 gets no out-edge (dangling)
        a = a + sp.coo_matrix(([1.0, 2.0, 0.5], ([1, 3, 6], [0, 2, 5])), shape=(8, 8)).tocsr()
        a = a.tolil()
        a[4, :] = 0
        a = a.tocsr()
        a.eliminate_zeros()
    return a


def exact_transition(dense, p, q, t, v):
    """P(next = x | previous t, current v) for every node x, float64 (node2vec, Grover 2016)."""
    w = dense[v].astype(np.float64)
    alpha = np.where(dense[t] > 0, 1.0, 1.0 / q)
    alpha[t] = 1.0 / p
    unnorm = w * alpha
    return unnorm / unnorm.sum()


def walk_graph(a, weighted, directed):
    g = from_scipy(a, weighted=weighted, directed=directed)
    return g, cpu.walk_graph(g.indptr, g.indices, g.weights, 1)


def draw(wg, n_walks, length, p, q, seed=3, threads=2, max_trials=16):
    starts = np.arange(n_walks, dtype=np.int32) % wg.n_nodes
    from embedcore import _sgd
    return _sgd.walks_generate(wg.indptr, wg.indices, wg.weights, wg.alias_prob, wg.alias_index, starts, length,
                               p, q, seed, 0, threads, max_trials)


def transition_chi2(walks, lengths, dense, p, q, first_order=False):
    """(statistic, degrees of freedom) of the observed (t, v) -> x steps against the exact
    probabilities, over the (t, v) pairs seen often enough for the chi-square approximation."""
    counts = {}
    for walk, n in zip(walks, lengths):
        for j in range(2, n):
            key = (walk[j - 2], walk[j - 1])
            counts.setdefault(key, np.zeros(dense.shape[0]))[walk[j]] += 1
    stat, dof = 0.0, 0
    for (t, v), observed in counts.items():
        total = observed.sum()
        if total < 200:
            continue
        prob = exact_transition(dense, 1.0, 1.0, t, v) if first_order else exact_transition(dense, p, q, t, v)
        support = prob > 0
        assert observed[~support].sum() == 0, f"step from {v} (came from {t}) to a non-neighbour"
        expected = prob[support] * total
        stat += float((((observed[support] - expected) ** 2) / expected).sum())
        dof += int(support.sum()) - 1
    return stat, dof


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("p,q", [(0.25, 4.0), (4.0, 0.25), (2.0, 1.0), (1.0, 0.5)])
def test_node2vec_transitions_follow_the_exact_probabilities(weighted, directed, p, q):
    a = adjacency(weighted, directed)
    g, wg = walk_graph(a, weighted, directed)
    dense = g.to_scipy().toarray()
    walks, lengths = draw(wg, 12000, 12, p, q)
    stat, dof = transition_chi2(walks, lengths, dense, p, q)
    assert dof >= 10
    assert stats.chi2.sf(stat, dof) > 1e-4, (stat, dof)
    # the test has power: the same steps are far from the first-order (DeepWalk) probabilities
    stat1, dof1 = transition_chi2(walks, lengths, dense, p, q, first_order=True)
    assert stats.chi2.sf(stat1, dof1) < 1e-9


@pytest.mark.parametrize("max_trials", [0, 1, 1000])
def test_rejection_and_exact_fallback_draw_the_same_distribution(max_trials):
    # p = 0.05 makes returning 20x likelier than anything else: proposals are rejected often, so
    # with few trials most steps take the exact fallback, with many the rejection loop
    a = adjacency(True)
    g, wg = walk_graph(a, True, False)
    dense = g.to_scipy().toarray()
    walks, lengths = draw(wg, 6000, 12, 0.05, 2.0, max_trials=max_trials)
    stat, dof = transition_chi2(walks, lengths, dense, 0.05, 2.0)
    assert stats.chi2.sf(stat, dof) > 1e-4, (stat, dof)


@pytest.mark.parametrize("weighted", [False, True])
def test_deepwalk_steps_follow_the_edge_weights(weighted):
    a = adjacency(weighted)
    g, wg = walk_graph(a, weighted, False)
    dense = g.to_scipy().toarray()
    walks, lengths = draw(wg, 8000, 10, 1.0, 1.0)
    observed = np.zeros_like(dense)
    for walk, n in zip(walks, lengths):
        np.add.at(observed, (walk[:n - 1], walk[1:n]), 1)
    stat, dof = 0.0, 0
    for v in range(dense.shape[0]):
        prob = dense[v] / dense[v].sum()
        support = prob > 0
        assert observed[v, ~support].sum() == 0
        expected = prob[support] * observed[v].sum()
        stat += float((((observed[v, support] - expected) ** 2) / expected).sum())
        dof += int(support.sum()) - 1
    assert stats.chi2.sf(stat, dof) > 1e-4, (stat, dof)
    if not weighted:  # uniform over the neighbours
        degrees = (dense > 0).sum(axis=1)
        share = observed / observed.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(share[dense > 0], np.repeat(1.0 / degrees, degrees), atol=0.03)


def test_first_step_of_a_node2vec_walk_is_first_order():
    a = adjacency(True)
    g, wg = walk_graph(a, True, False)
    dense = g.to_scipy().toarray()
    walks, lengths = draw(wg, 16000, 2, 0.25, 4.0)
    for v in range(8):
        mine = walks[walks[:, 0] == v, 1]
        observed = np.bincount(mine, minlength=8)
        prob = dense[v] / dense[v].sum()
        support = prob > 0
        assert observed[~support].sum() == 0
        expected = prob[support] * len(mine)
        stat = float((((observed[support] - expected) ** 2) / expected).sum())
        assert stats.chi2.sf(stat, int(support.sum()) - 1) > 1e-4


def test_walks_have_the_requested_length_and_follow_edges():
    a = adjacency(False)
    g, wg = walk_graph(a, False, False)
    walks, lengths = draw(wg, 100, 15, 0.5, 2.0)
    assert (lengths == 15).all()
    dense = g.to_scipy().toarray()
    assert (dense[walks[:, :-1], walks[:, 1:]] > 0).all()


def test_a_walk_stops_at_a_dangling_node_of_a_directed_graph():
    a = adjacency(True, directed=True)
    g, wg = walk_graph(a, True, True)
    assert g.out_degrees()[4] == 0
    walks, lengths = draw(wg, 2000, 20, 0.5, 2.0)
    ends_early = lengths < 20
    assert ends_early.any()
    last = walks[np.arange(len(walks)), lengths - 1]
    assert (last[ends_early] == 4).all()
    for walk, n in zip(walks, lengths):  # nothing is written after the end
        assert (walk[n:] == 0).all()


def test_an_isolated_node_walks_alone():
    a = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32))
    g, wg = walk_graph(a, False, False)
    walks, lengths = cpu.walks(wg, np.array([2, 0], dtype=np.int32), 5, 1.0, 1.0, 0, 0, 1)
    assert lengths.tolist() == [1, 5]
    assert walks[0, 0] == 2


def test_walks_do_not_depend_on_the_thread_count():
    a = adjacency(True)
    _, wg = walk_graph(a, True, False)
    one = draw(wg, 500, 30, 0.5, 2.0, threads=1)
    two = draw(wg, 500, 30, 0.5, 2.0, threads=2)
    other_seed = draw(wg, 500, 30, 0.5, 2.0, seed=4)
    np.testing.assert_array_equal(one[0], two[0])
    assert not np.array_equal(one[0], other_seed[0])


def test_visit_counts_match_the_walks():
    a = adjacency(True)
    _, wg = walk_graph(a, True, False)
    starts = np.arange(200, dtype=np.int32) % 8
    walks, lengths = cpu.walks(wg, starts, 9, 0.5, 2.0, 7, 11, 2)
    counts = cpu.walk_visits(wg, starts, 9, 0.5, 2.0, 7, 11, 2)
    expected = np.bincount(np.concatenate([w[:n] for w, n in zip(walks, lengths)]), minlength=8)
    np.testing.assert_array_equal(counts, expected)


def test_start_nodes_out_of_range_are_refused():
    _, wg = walk_graph(adjacency(False), False, False)
    with pytest.raises(ValueError, match=r"start nodes must lie in \[0, 8\), got 8"):
        cpu.walks(wg, np.array([0, 8], dtype=np.int32), 5, 1.0, 1.0, 0, 0, 1)
    with pytest.raises(ValueError, match="got -1"):
        cpu.walks(wg, np.array([-1], dtype=np.int32), 5, 1.0, 1.0, 0, 0, 1)


def test_the_kernel_refuses_p_or_q_that_are_not_positive():
    _, wg = walk_graph(adjacency(False), False, False)
    with pytest.raises(ValueError, match="p and q must be > 0"):
        cpu.walks(wg, np.array([0], dtype=np.int32), 5, 0.0, 1.0, 0, 0, 1)


def test_alias_tables_reproduce_the_row_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.5, 0.5], dtype=np.float32)
    indptr = np.array([0, 4, 6], dtype=np.int64)
    from embedcore import _sgd
    prob, alias = _sgd.walks_alias(indptr, weights, 1)
    for r in range(2):
        lo, hi = indptr[r], indptr[r + 1]
        deg = hi - lo
        share = np.zeros(deg)
        for c in range(deg):
            keep = prob[lo + c] / 2.0 ** 32
            share[c] += keep / deg
            share[alias[lo + c]] += (1 - keep) / deg
        np.testing.assert_allclose(share, weights[lo:hi] / weights[lo:hi].sum(), atol=1e-9)
