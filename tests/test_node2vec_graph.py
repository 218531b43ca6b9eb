"""The walk graph built from a scipy adjacency (csrc/embedcore/graph.hpp through as_graph) against
scipy's own max(A, A^T), and the memory the conversion takes."""
import gc
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from embedcore.graph import as_graph


def reference(matrix, weighted, directed):
    """The graph as scipy builds it in float64: duplicates summed, zeros dropped, max(A, A^T)."""
    a = sp.csr_matrix(matrix, dtype=np.float64, copy=True)  # not sharing the index arrays
    a.sum_duplicates()
    a.eliminate_zeros()
    if weighted is False:
        a.data[:] = 1.0
    if not directed:
        a = a.maximum(a.T.tocsr()).tocsr()
    a.sort_indices()
    return a


def random_adjacency(n, nnz, seed, fmt, dtype=np.float32):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, n, nnz), rng.integers(0, n, nnz)  # duplicates and self-loops too
    values = rng.choice([0.0, 0.5, 1.0, 2.0, 3.5], nnz)  # explicit zeros too
    return sp.coo_matrix((values.astype(dtype), (rows, cols)), shape=(n, n)).asformat(fmt)


@pytest.mark.parametrize("fmt", ["csr", "coo", "csc"])
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("weighted", [None, True, False])
def test_the_walk_graph_equals_scipys_symmetric_maximum(fmt, directed, weighted):
    for seed in range(3):
        matrix = random_adjacency(60, 400, seed, fmt)
        expected = reference(matrix, weighted, directed)
        graph = as_graph(matrix, weighted=weighted, directed=directed)
        assert graph.indptr.dtype == np.int64 and graph.indices.dtype == np.int32
        np.testing.assert_array_equal(graph.indptr, expected.indptr)
        np.testing.assert_array_equal(graph.indices, expected.indices)  # rows sorted, no duplicates
        if weighted is False:
            assert graph.weights is None
        else:
            assert graph.weights is not None and graph.weights.dtype == np.float32
            np.testing.assert_array_equal(graph.weights, expected.data.astype(np.float32))


def test_a_triangular_matrix_becomes_symmetric():
    upper = sp.triu(random_adjacency(50, 300, 4, "csr"), k=0).tocsr()
    graph = as_graph(upper, weighted=True)
    dense = graph.to_scipy().toarray()
    np.testing.assert_array_equal(dense, dense.T)
    np.testing.assert_array_equal(dense, reference(upper, True, False).toarray().astype(np.float32))


def test_rows_without_mirrored_entries_and_isolated_nodes_survive():
    a = sp.csr_matrix((np.ones(3, np.float32), ([0, 0, 3], [4, 2, 3])), shape=(6, 6))
    graph = as_graph(a)
    assert graph.n_nodes == 6
    assert [list(graph.indices[graph.indptr[v]:graph.indptr[v + 1]]) for v in range(6)] == \
        [[2, 4], [], [0], [3], [0], []]


def test_weights_that_the_symmetric_maximum_makes_equal_are_no_weights():
    a = sp.csr_matrix(np.array([[0, 1, 2], [2, 0, 0], [2, 0, 0]], dtype=np.float32))
    graph = as_graph(a)
    assert graph.weights is None
    np.testing.assert_array_equal(graph.to_scipy().toarray(), (a.maximum(a.T) > 0).toarray())
    assert as_graph(a, directed=True).weighted


def test_float64_weights_sum_their_duplicates_before_the_float32_cast():
    a = sp.coo_matrix((np.array([0.1, 0.2, 1.0]), ([0, 0, 1], [1, 1, 2])), shape=(3, 3))
    graph = as_graph(a, directed=True)
    np.testing.assert_array_equal(graph.weights, np.array([0.1 + 0.2, 1.0], dtype=np.float32))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_weights_too_large_for_float32_are_refused():
    a = sp.csr_matrix(np.array([[0, 1e300], [1, 0]]))
    with pytest.raises(ValueError, match="do not fit float32"):
        as_graph(a)


def test_the_conversion_of_a_canonical_csr_peaks_near_the_graphs_size():
    # about 20k nodes and 400k stored edges: the graph's CSR is 1.7 MB; scipy's max(A, A^T) with
    # float64 data peaked at 7.5x that (benchmarks/RESULTS.md); the two-pass build needs the
    # output, two int64 per node and the names
    n = 20_000
    upper = sp.triu(random_adjacency(n, 220_000, 5, "csr"), k=1)
    a = (upper + upper.T).tocsr()
    a.data[:] = 1.0
    a.sum_duplicates()
    assert a.has_canonical_format and a.data.dtype == np.float32
    gc.collect()
    tracemalloc.start()
    try:
        graph = as_graph(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    peak += 16 * n  # the kernel's two int64 per node: C++ vectors, which tracemalloc does not see
    csr = graph.indptr.nbytes + graph.indices.nbytes
    names = sum(len(s) for s in graph.names) + 57 * graph.n_nodes  # str objects and list slots
    assert graph.n_edges == a.nnz
    assert peak < 2.0 * csr + names, (peak / csr, names / csr)
