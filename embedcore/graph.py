"""Graphs for random-walk embeddings: one validated CSR form, built from a scipy.sparse adjacency,
an edge-list file or a networkx graph.

A :class:`Graph` holds the out-neighbours of each node as a CSR structure with sorted rows, the
positive edge weights (or none for an unweighted graph) and the node names. The walk kernels
read it without further checks, so everything is checked here, once:

- weights must be finite and non-negative; zero weights are no edge (the node stays);
- an undirected graph (``directed=False``) is made symmetric: the weight of {u, v} is the larger
  of the weights given for u -> v and v -> u (a triangular or a symmetric matrix both work);
- ``weighted=None`` treats the graph as weighted when its weights are not all equal (equal
  weights give the same walks as none); ``weighted=False`` ignores the weights;
- a graph needs at least one edge.
"""
import array
import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from embedcore._io import open_source
from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, Int32Array, Int64Array, SparseMatrix, StrPath
from embedcore._validation import as_csr, describe

_INT32_MAX = np.iinfo(np.int32).max


class Graph:
    """A graph as the walk kernels take it.

    Attributes
    ----------
    indptr : numpy.ndarray
        int64 (n_nodes + 1,): row v of the adjacency is ``indices[indptr[v]:indptr[v + 1]]``.
    indices : numpy.ndarray
        int32 (n_edges,): out-neighbours, sorted within each row.
    weights : numpy.ndarray or None
        float32 (n_edges,) positive weights, or None for an unweighted graph.
    names : list of str
        Node names, one per row.
    directed : bool
        False when every edge is stored in both directions.
    """

    __slots__ = ("indptr", "indices", "weights", "names", "directed")

    indptr: Int64Array
    indices: Int32Array
    weights: FloatArray | None
    names: list[str]
    directed: bool

    def __init__(self, indptr: Int64Array, indices: Int32Array, weights: FloatArray | None, names: list[str],
                 directed: bool) -> None:
        self.indptr, self.indices, self.weights = indptr, indices, weights
        self.names, self.directed = names, directed

    @property
    def n_nodes(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        """Stored (directed) edges: an undirected edge counts twice, a self-loop once."""
        return len(self.indices)

    @property
    def weighted(self) -> bool:
        return self.weights is not None

    def out_degrees(self) -> Int64Array:
        """int64 (n_nodes,): the number of out-neighbours of each node."""
        return np.diff(self.indptr)

    def to_scipy(self) -> SparseMatrix:
        """The adjacency as a scipy.sparse CSR matrix (float32; ones when unweighted)."""
        data = self.weights if self.weights is not None else np.ones(self.n_edges, dtype=np.float32)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))

    def __repr__(self) -> str:
        kind = ("directed" if self.directed else "undirected") + (", weighted" if self.weighted else "")
        return f"Graph({self.n_nodes} nodes, {self.n_edges} stored edges, {kind})"


def _check_flag(value: object, name: str) -> bool | None:
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True, False or None, got {type(value).__name__} {value!r}")
    return None if value is None else bool(value)


def as_graph(graph: Any, weighted: bool | None = None, directed: bool = False, name: str = "graph") -> Graph:
    """A :class:`Graph` of a scipy.sparse adjacency, an edge-list path or a networkx graph.

    Parameters
    ----------
    graph : scipy.sparse matrix or array, str, os.PathLike, networkx graph or Graph
        A square adjacency (entry (u, v) is the weight of u -> v; row indices become the names
        "0", "1", ...), a file of ``src dst [weight]`` lines (see `read_edge_list`), or a
        networkx graph (names are ``str(node)``, weights the ``weight`` attribute, 1 where
        absent). A Graph is returned as it is.
    weighted : bool, optional
        None: weighted when the weights are not all equal. False: weights ignored. True: weights
        used (an edge-list file must then have a weight on every line).
    directed : bool
        False treats every edge as undirected (see the module notes).
    name : str
        The argument's name, for error messages.

    Returns
    -------
    Graph

    Raises
    ------
    TypeError
        `graph` of an unsupported type.
    ValueError
        A non-square matrix, negative or non-finite weights, no edges, a malformed edge-list line
        (with its line number), node names that are not distinct.
    """
    weighted = _check_flag(weighted, "weighted")
    if not isinstance(directed, (bool, np.bool_)):
        raise TypeError(f"directed must be True or False, got {type(directed).__name__} {directed!r}")
    directed = bool(directed)
    if isinstance(graph, Graph):
        return graph
    if isinstance(graph, (str, os.PathLike)):
        return read_edge_list(graph, weighted=weighted, directed=directed, name=name)
    if sp.issparse(graph):
        return from_scipy(graph, weighted=weighted, directed=directed, name=name)
    if type(graph).__module__.split(".")[0] == "networkx":
        return from_networkx(graph, weighted=weighted, directed=directed, name=name)
    raise TypeError(f"{name} must be a scipy.sparse adjacency matrix, an edge-list path or a networkx graph, "
                    f"got {describe(graph)}")


def from_scipy(matrix: SparseMatrix, weighted: bool | None = None, directed: bool = False,
               names: Sequence[str] | None = None, name: str = "graph") -> Graph:
    """A :class:`Graph` of a square scipy.sparse adjacency (see `as_graph`); `names` (one str per
    row) defaults to the row indices as strings.

    Memory: a canonical float32 CSR input is read in place and the graph is written straight
    into its exactly sized arrays (csrc/embedcore/graph.hpp), so the peak above input and output
    is a byte per entry, two int64 per node and the names; other formats and dtypes are first
    converted to a canonical float32 CSR (duplicates summed) by scipy."""
    from embedcore.backends import cpu
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a square adjacency matrix, got shape {tuple(matrix.shape)}")
    n = matrix.shape[0]
    if n == 0:
        raise ValueError(f"{name} is empty: it has no nodes")
    csr = as_csr(matrix, name, cpu, threads=1, canonical=True)
    data = csr.data
    low = float(data.min()) if data.size else 0.0
    if low < 0:
        first = int(np.argmax(data < 0))
        row = int(np.searchsorted(csr.indptr, first, side="right") - 1)
        raise ValueError(f"{name} has negative edge weights (first at row {row}, column {int(csr.indices[first])}: "
                         f"{float(data[first])}); weights must be >= 0")
    if data.size and np.isinf(data.max()):
        raise ValueError(f"{name} has edge weights that do not fit float32 (at most {np.finfo(np.float32).max})")
    guess = weighted is None
    if guess:
        # equal positive weights give the same walks as none (and max(A, A^T) keeps them equal)
        high = float(data.max()) if data.size else 0.0
        if low == 0 and high > 0:
            low = float(data[data > 0].min())
        weighted = low != high
    try:
        indptr, indices, weights = cpu.walks_csr(csr, not directed, bool(weighted), effective_workers(None))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if len(indices) == 0:
        raise ValueError(f"{name} has no edges (all weights are zero or absent): there is no walk to learn from")
    if guess and weights is not None and weights.min() == weights.max():
        weights = None  # unequal input weights that max(A, A^T) made equal
    if names is None:
        names = [str(i) for i in range(n)]
    return Graph(indptr, indices, weights, names if isinstance(names, list) else list(names), bool(directed))


def read_edge_list(path: StrPath, weighted: bool | None = None, directed: bool = False, name: str = "path") -> Graph:
    """Read a graph from a file of ``src dst [weight]`` lines.

    Fields are separated by spaces or tabs; node names are any tokens (kept as written, in the
    order of first appearance); blank lines and lines starting with ``#`` are skipped; gzip and
    bz2 files are read transparently. Repeated lines add up their weights.

    Parameters
    ----------
    path : str or os.PathLike
    weighted : bool, optional
        None: weighted when the file has a third column (on every line) with unequal values.
        True: every line must have a weight. False: a third column is ignored.
    directed : bool
        False: each line is an undirected edge.
    name : str
        The argument's name, for error messages.

    Returns
    -------
    Graph

    Raises
    ------
    ValueError
        A line without 2 or 3 fields, a weight that is not a finite number >= 0, weights on some
        lines but not others, invalid UTF-8, or no edge; the message names the file and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "edges.txt")
    >>> _ = open(path, "w").write("a b\\nb c\\n")
    >>> read_edge_list(path).names
    ['a', 'b', 'c']
    """
    ids: dict[bytes, int] = {}
    # compact typed arrays, not lists of Python numbers (8 bytes an entry instead of about 36)
    src, dst, weights = array.array("q"), array.array("q"), array.array("d")
    with_weight = without_weight = None  # first line with / without a weight column
    with open_source(path, name) as f:
        where = f.path
        for line_no, raw in enumerate(f, 1):
            parts = raw.split()
            if not parts or parts[0].startswith(b"#"):
                continue
            if len(parts) not in (2, 3):
                raise ValueError(f"{where}, line {line_no}: expected 'src dst [weight]' (2 or 3 fields separated "
                                 f"by spaces or tabs), got {len(parts)} fields")
            for token in parts[:2]:
                if token not in ids:
                    try:
                        token.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ValueError(f"{where}, line {line_no}: node name {token!r} is not valid UTF-8") from None
                    ids[token] = len(ids)
            src.append(ids[parts[0]])
            dst.append(ids[parts[1]])
            if len(parts) == 3:
                with_weight = with_weight or line_no
                if weighted is not False:
                    try:
                        w = float(parts[2])
                    except ValueError:
                        raise ValueError(f"{where}, line {line_no}: weight {parts[2].decode('utf-8', 'replace')!r} "
                                         f"is not a number") from None
                    if not math.isfinite(w) or w < 0:
                        raise ValueError(f"{where}, line {line_no}: weight must be a finite number >= 0, got {w}")
                    weights.append(w)
            else:
                without_weight = without_weight or line_no
            if weighted is not False and with_weight and without_weight:
                raise ValueError(f"{where}, line {max(with_weight, without_weight)}: some lines have a weight "
                                 f"(line {with_weight}) and others not (line {without_weight}); give every line "
                                 f"a weight or pass weighted=False")
    if not ids:
        raise ValueError(f"{where} holds no edges (an empty graph)")
    if weighted and not with_weight:
        raise ValueError(f"weighted=True but {where} has no weight column (lines are 'src dst weight')")
    n = len(ids)
    if n > _INT32_MAX:
        raise ValueError(f"{where} has {n} nodes; at most 2**31 - 1 are supported")
    data = np.frombuffer(weights, dtype=np.float64) if weights else np.ones(len(src), dtype=np.float64)
    matrix = sp.coo_matrix((data, (np.frombuffer(src, dtype=np.int64), np.frombuffer(dst, dtype=np.int64))),
                           shape=(n, n))
    names = [token.decode("utf-8") for token in ids]
    return from_scipy(matrix, weighted=weighted, directed=directed, names=names, name=name)


def from_networkx(graph: Any, weighted: bool | None = None, directed: bool = False, name: str = "graph") -> Graph:
    """A :class:`Graph` of a networkx graph (see `as_graph`): names are ``str(node)`` in the
    graph's node order, weights the ``weight`` edge attribute (1 where absent; parallel edges of
    a multigraph add up)."""
    import networkx as nx
    nodes = list(graph.nodes())
    if not nodes:
        raise ValueError(f"{name} is empty: it has no nodes")
    names = [str(node) for node in nodes]
    if len(set(names)) != len(names):
        seen: dict[str, Any] = {}
        for node, text in zip(nodes, names):
            if text in seen:
                raise ValueError(f"{name} has nodes {seen[text]!r} and {node!r} with the same name {text!r}; "
                                 f"node names (str(node)) must be distinct")
            seen[text] = node
    if weighted is not False:
        for _, _, w in graph.edges(data="weight", default=1):
            if not isinstance(w, numbers.Real) or isinstance(w, bool):
                raise ValueError(f"{name} has an edge weight {w!r} that is not a number")
    matrix = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=None if weighted is False else "weight",
                                      format="csr", dtype=np.float64)
    return from_scipy(sp.csr_matrix(matrix), weighted=weighted, directed=directed, names=names, name=name)
