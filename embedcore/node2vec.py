"""Node embeddings from random walks: DeepWalk and node2vec, walks streamed into skip-gram."""
import contextlib
import logging
import time
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from embedcore._base import Model, TrainingRun, train_epochs
from embedcore._io import atomic_write
from embedcore._threads import effective_workers
from embedcore._typing import Callback, FloatArray, Int32Array, StrPath
from embedcore._validation import check_callbacks, check_float, check_int
from embedcore.backends import get_backend
from embedcore.graph import as_graph
from embedcore.keyedvectors import KeyedVectors
from embedcore.word2vec import initial_vectors

if TYPE_CHECKING:
    from typing_extensions import Self

logger = logging.getLogger("embedcore")

# Offsets of the walk streams from the user's seed: the pilot walks that estimate the visit
# counts and the training walks draw from streams apart from each other and from the training
# threads' streams (which are derived from the seed itself).
_PILOT_SEED = 0x70696C6F74
_WALK_SEED = 0x77616C6B73


def walk_seed(seed: int) -> int:
    """The seed of the training walks of a Node2Vec with this `seed` (walk i of round r of epoch
    e, over n nodes, is walk ``(e * walks_per_node + r) * n + i`` of this stream)."""
    return (int(seed) ^ _WALK_SEED) & (2 ** 64 - 1)


def walk_order(n_nodes: int, seed: int, epoch: int, round_: int) -> Int32Array:
    """The start nodes of one round of walks: every node once, in a random order fixed by
    (seed, epoch, round) (int32)."""
    return np.random.default_rng([int(seed), int(epoch), int(round_)]).permutation(n_nodes).astype(np.int32)


class Node2Vec(Model):
    """Node vectors learnt by skip-gram on random walks (node2vec; DeepWalk when ``p = q = 1``).

    From every node, `walks_per_node` walks of `walk_length` nodes are drawn (each round visits
    the start nodes in a new random order); skip-gram with negative sampling learns a vector per
    node that predicts the nodes near it on the walks. node2vec (Grover and Leskovec 2016) biases
    each step from v, having come from t, towards a neighbour x by ``1/p`` when x = t (return),
    1 when x is a neighbour of t (t -> x is an edge), and ``1/q`` otherwise, times the weight of
    v -> x; with ``p = q = 1`` every step follows the edge weights alone: DeepWalk (Perozzi et
    al. 2014; for weighted graphs its weighted variant).

    The walks are drawn in C++ threads and trained block by block as they are made: no walk
    corpus is held in memory or written to disk (unless ``fit(..., save_walks=path)``). The
    second-order steps use rejection sampling with an exact on-the-fly fallback, so memory stays
    O(nodes + edges) and the transition probabilities are exact, weighted graphs included.

    Nodes without out-neighbours: an isolated node's walks are the node alone, so it is trained
    on nothing and keeps its random initial vector (uniform in [-1/dim, 1/dim), as Word2Vec's);
    a walk that reaches a node without out-neighbours in a directed graph (a dangling node)
    stops there.

    Parameters
    ----------
    vector_size : int
        Dimension of the vectors.
    walk_length : int
        Nodes per walk, the start node included.
    walks_per_node : int
        Walks started from each node per epoch.
    window : int
        Largest distance on a walk between a node and a context node (drawn per node from
        1..window, as word2vec does).
    p, q : float
        node2vec's return and in-out parameters (> 0). p = q = 1 is DeepWalk.
    negative : int
        Noise nodes per positive pair. The noise distribution is the nodes' visit frequency
        (estimated from one walk per node before training) raised to 0.75, as word2vec's.
    epochs : int
        Passes; each draws fresh walks.
    weighted : bool, optional
        None: use the edge weights when they are not all equal; False: ignore them; True: use
        them (an edge-list file must then have a weight on every line).
    directed : bool
        False treats the edges as undirected (the weight of {u, v} is the larger of the two
        directions given); True follows them as given.
    workers : int, optional
        Threads; None uses every usable core.
    seed : int
        Seed of the walks, the initial vectors and the training streams. The walks of a seed are
        the same for any `workers`; with ``workers=1`` the whole fit is bit-identical.
    device : {'auto', 'cpu', 'cuda'}
        Where to train ('auto': the CPU unless the GPU paths are validated and usable).
    alpha, min_alpha : float
        Learning rate, decayed linearly from `alpha` to `min_alpha` over all walks.
    sample : float
        word2vec's subsampling threshold for frequently visited nodes (0 disables it).
    negative_sharing : bool, optional
        Share each centre node's negatives across its context window (1.7x as fast) or
        draw fresh negatives for every pair as word2vec.c and gensim do (CPU only). None (the
        default): per pair on the CPU, shared on the GPU (its only kernel). Walks over nodes of
        near-equal frequency need the per-pair negatives: on identical walks of a hard
        planted-partition graph, sharing cost 0.01-0.03 macro-F1 against gensim, per pair
        matched it (benchmarks/RESULTS.md).
    callbacks : sequence, optional
        Called at the end of every epoch: ``on_epoch_end(model)`` objects or ``f(model, epoch)``.
    progress : bool
        Show a progress bar.

    Raises
    ------
    ValueError, TypeError
        A parameter out of range or of the wrong type, named in the message (``p <= 0``,
        ``walk_length < 1`` ...).
    RuntimeError
        ``device='cuda'`` without a usable GPU.

    Attributes
    ----------
    wv : KeyedVectors
        One vector per node, keyed by node name (the names as written in an edge-list file, the
        row index as a string for a matrix, ``str(node)`` for networkx). NotFittedError before fit.
    syn1neg : numpy.ndarray
        The output (context) vectors.
    loss_history : list of float
        Summed negative-sampling loss of each epoch.
    stats : dict
        ``train_seconds``, ``nodes_trained`` (nodes on all walks), ``nodes_per_sec``, ``walks``,
        ``prepare_seconds`` (graph checks, alias tables and the visit-count pilot), ``workers``,
        ``simd``, ``interrupted``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> ring = sp.diags([1, 1], [1, -1], shape=(20, 20), format="csr")
    >>> model = Node2Vec(vector_size=8, walk_length=10, walks_per_node=5, window=3, workers=1).fit(ring)
    >>> model.wv["3"].shape
    (8,)
    """

    _fitted_attributes = ("wv", "input_vectors", "syn1neg", "node_names")
    _state_attributes = ("input_vectors", "syn1neg", "node_names")

    input_vectors: FloatArray
    syn1neg: FloatArray
    node_names: list[str]
    loss_history: list[float]
    stats: dict[str, Any]

    def __init__(self, vector_size: int = 128, walk_length: int = 80, walks_per_node: int = 10, window: int = 10,
                 p: float = 1.0, q: float = 1.0, negative: int = 5, epochs: int = 1, weighted: bool | None = None,
                 directed: bool = False, workers: int | None = None, seed: int = 1, device: str = "auto",
                 alpha: float = 0.025, min_alpha: float = 1e-4, sample: float = 1e-3,
                 negative_sharing: bool | None = None, callbacks: Iterable[Callback] = (), progress: bool = False,
                 _simd: str = "", _max_trials: int = 16) -> None:
        self.vector_size = check_int(vector_size, "vector_size", minimum=1)
        self.walk_length = check_int(walk_length, "walk_length", minimum=1, maximum=2 ** 30)
        self.walks_per_node = check_int(walks_per_node, "walks_per_node", minimum=1)
        self.window = check_int(window, "window", minimum=1, maximum=2 ** 20)
        self.p = check_float(p, "p", minimum=0.0, inclusive=False)
        self.q = check_float(q, "q", minimum=0.0, inclusive=False)
        self.negative = check_int(negative, "negative", minimum=0, maximum=2 ** 20)
        self.epochs = check_int(epochs, "epochs", minimum=1)
        if weighted is not None and not isinstance(weighted, (bool, np.bool_)):
            raise TypeError(f"weighted must be True, False or None, got {type(weighted).__name__} {weighted!r}")
        self.weighted = None if weighted is None else bool(weighted)
        if not isinstance(directed, (bool, np.bool_)):
            raise TypeError(f"directed must be True or False, got {type(directed).__name__} {directed!r}")
        self.directed = bool(directed)
        self.workers = effective_workers(workers)
        self.seed = check_int(seed, "seed", minimum=0, maximum=2 ** 64 - 1)
        self.device = self._check_device(device)
        self.alpha = check_float(alpha, "alpha", minimum=0.0, inclusive=False)
        self.min_alpha = check_float(min_alpha, "min_alpha", minimum=0.0, maximum=self.alpha)
        self.sample = check_float(sample, "sample", minimum=0.0)
        if negative_sharing is not None and not isinstance(negative_sharing, (bool, np.bool_)):
            raise TypeError(f"negative_sharing must be None or a bool, got {type(negative_sharing).__name__}")
        self.negative_sharing = None if negative_sharing is None else bool(negative_sharing)
        self.callbacks = check_callbacks(callbacks)
        self.progress = bool(progress)
        self._simd = _simd
        self._max_trials = check_int(_max_trials, "_max_trials", minimum=0)
        self.loss_history = []
        self.stats = {}

    # ------------------------------------------------------------------------------------------
    def fit(self, graph: Any, save_walks: StrPath | None = None) -> "Self":
        """Draw the walks and train on them.

        Parameters
        ----------
        graph : scipy.sparse matrix, str, os.PathLike or networkx graph
            A square adjacency (row indices are the node names), a file of ``src dst [weight]``
            lines (spaces or tabs; ``.gz``/``.bz2`` read transparently; see
            ``embedcore.graph.read_edge_list``) or a networkx graph.
        save_walks : str or os.PathLike, optional
            Also write every walk, one per line as space-separated node names (the input of
            other word2vec tools), replacing the file only when the fit completes.

        Returns
        -------
        Node2Vec
            self. Ctrl-C stops the training after the current block and keeps a usable model
            (``stats['interrupted']``; the walks are then not saved).

        Raises
        ------
        ValueError
            A bad graph: negative or non-finite weights, no edges, a malformed edge-list line
            (named with its line number), a non-square matrix.
        TypeError
            A graph of an unsupported type.
        FloatingPointError
            The training diverged (lower `alpha`).
        """
        t0 = time.perf_counter()
        graph = as_graph(graph, weighted=self.weighted, directed=self.directed)
        backend = get_backend(self.device)
        walk_graph = backend.walk_graph(graph.indptr, graph.indices, graph.weights, self.workers)
        n = graph.n_nodes
        # expected visits per node, from one walk per node: the noise and subsampling counts
        visits = backend.walk_visits(walk_graph, np.arange(n, dtype=np.int32), self.walk_length, self.p, self.q,
                                     (self.seed ^ _PILOT_SEED) & (2 ** 64 - 1), 0, self.workers)
        visits = np.asarray(backend.to_host(visits), dtype=np.int64)
        prepare_seconds = time.perf_counter() - t0
        with self._fitting():
            self.node_names = graph.names
            if save_walks is None:
                self._train(backend, walk_graph, visits, None)
            else:
                self._train_saving(backend, walk_graph, visits, save_walks)
        self.stats["prepare_seconds"] = prepare_seconds
        return self

    def _train_saving(self, backend: Any, walk_graph: Any, visits: Any, path: StrPath) -> None:
        names = np.array([name.encode("utf-8") for name in self.node_names], dtype=object)

        class _Discard(Exception):
            pass

        with contextlib.suppress(_Discard), atomic_write(path, "wb", compression="infer", name="save_walks") as f:
            def write(walks: Int32Array, lengths: Int32Array) -> None:
                lines = [b" ".join(names[walk[:length]]) for walk, length in zip(walks, lengths)]
                f.write(b"\n".join(lines) + b"\n")

            if self._train(backend, walk_graph, visits, write):
                logger.warning("Node2Vec: training interrupted, the walks were not saved to %s", path)
                raise _Discard()

    def _train(self, backend: Any, walk_graph: Any, visits: Any,
               on_walks: Callable[[Int32Array, Int32Array], None] | None) -> bool:
        """Train; returns True when Ctrl-C interrupted the training."""
        n, dim = walk_graph.n_nodes, self.vector_size
        inp = backend.asarray(initial_vectors(n, dim, self.seed))
        out = backend.asarray(np.zeros((n, dim), dtype=np.float32))
        tables = backend.word2vec_tables(visits, self.sample)
        data = backend.node2vec_setup(walk_graph, tables, vector_size=dim, window=self.window,
                                      negative=self.negative, walk_length=self.walk_length, p=self.p, q=self.q,
                                      seed=self.seed, walk_seed=walk_seed(self.seed), threads=self.workers,
                                      shared=self._shares_negatives(backend), simd=self._simd)
        rounds = self.walks_per_node
        total_walks = n * rounds * self.epochs
        # nodes to train over the run, expected from the pilot walks (one per node)
        total_nodes = int(visits.sum()) * rounds * self.epochs
        state: dict[str, Any] = {"nodes": 0, "simd": ""}
        self.loss_history = []
        self.stats = {}

        def run_epoch(epoch: int) -> Generator[int, None, float]:
            loss = 0.0
            for r in range(rounds):
                starts = walk_order(n, self.seed, epoch, r)
                part, state["nodes"], state["simd"] = yield from backend.node2vec_train(
                    data, inp, out, starts, (epoch * rounds + r) * n, state["nodes"], total_nodes, self.alpha,
                    self.min_alpha, on_walks)
                loss += part
            return loss

        def publish(run: TrainingRun) -> None:
            self.input_vectors, self.syn1neg = backend.to_host(inp), backend.to_host(out)
            self.loss_history = list(run.losses)
            seconds = run.seconds
            self.stats = {
                "train_seconds": seconds,
                "walks": run.done,
                "nodes_trained": state["nodes"],
                "nodes_per_sec": state["nodes"] / seconds if seconds > 0 else float("inf"),
                "epochs_completed": len(run.losses),
                "interrupted": run.interrupted,
                "simd": state["simd"],
                "workers": data.threads,
            }

        self.input_vectors, self.syn1neg = backend.to_host(inp), backend.to_host(out)
        self._fitted = True  # callbacks may read the vectors while they train
        run = train_epochs(self, "node2vec" if (self.p, self.q) != (1.0, 1.0) else "DeepWalk", self.epochs,
                           run_epoch, total_walks, "walk", lambda run, epoch, result: publish(run))
        publish(run)
        return run.interrupted

    def _shares_negatives(self, backend: Any) -> bool:
        # None: per pair on the CPU (shared negatives cost macro-F1 on walks, see the class
        # docstring), shared on the GPU (its only mode), as FastText does
        if self.negative_sharing is None:
            return bool(backend.NAME == "cuda")
        return self.negative_sharing

    # ------------------------------------------------------------------------------------------
    @property
    def wv(self) -> KeyedVectors:
        """KeyedVectors of the node vectors, keyed by node name (NotFittedError before fit)."""
        return KeyedVectors(self.node_names, self.input_vectors)

    def __repr__(self) -> str:
        kind = "DeepWalk" if (self.p, self.q) == (1.0, 1.0) else f"node2vec p={self.p:g} q={self.q:g}"
        state = f"{len(self.node_names)} nodes" if self.is_fitted else "untrained"
        return f"Node2Vec({kind}, vector_size={self.vector_size}, {state})"
