"""DeepWalk / node2vec: embedcore.Node2Vec against PecanPy (SparseOTF and PreComp) and fastnode2vec.

Every side gets the same graph (a CSR adjacency in memory), p, q, walk length, walks per node,
window, dimension, negatives, epochs, threads and seed, and is timed end to end: from the graph
in memory to a vectors matrix (PecanPy: walks with numba, then gensim Word2Vec; fastnode2vec:
its graph from the edges, then walks fed to gensim). Quality is scored by the same ruler:
node classification macro-F1 (labelled graphs) and link-prediction ROC-AUC (Hadamard features)
of vectors trained on the graph with 10% of the edges held out (embedcore.evaluate).

Graphs: a planted-partition graph (embedcore.datasets.stochastic_block_model) and a real one,
`gcide_graph`: the words of the GNU Collaborative International Dictionary of English (Debian
package dict-gcide) linked to the headwords their definitions use.
"""
import contextlib
import os
import re
import time
import zlib

import numpy as np
import scipy.sparse as sp

from embedcore.benchcases._registry import Row, case

GCIDE = "/usr/share/dictd/gcide"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_WORD = re.compile(rb"[a-z]+")


# --------------------------------------------------------------------------------------- graphs
def _b64(text):
    value = 0
    for ch in text:
        value = value * 64 + _B64.index(ch)
    return value


def core(adjacency, n_nodes):
    """The subgraph induced by the `n_nodes` nodes of highest degree, without isolated nodes."""
    order = np.argsort(-np.diff(adjacency.indptr), kind="stable")[:n_nodes]
    sub = adjacency[order][:, order].tocsr()
    linked = np.flatnonzero(np.diff(sub.indptr) > 0)
    return sub[linked][:, linked].tocsr()


def gcide_graph(path=GCIDE, min_length=3, max_share=0.005):
    """The dictionary's link graph: an undirected edge joins each one-word headword (at least
    `min_length` letters, lower-cased) to every such headword its definitions use; words used by
    more than `max_share` of the definitions (function words) are left out, and so are words
    without a link. Returns (CSR float32 symmetric adjacency, word list); None without the
    dict-gcide files."""
    index, data = path + ".index", path + ".dict.dz"
    if not (os.path.exists(index) and os.path.exists(data)):
        return None
    entries = []
    with open(index, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and re.fullmatch(r"[A-Za-z]+", parts[0]) and len(parts[0]) >= min_length:
                entries.append((parts[0].lower(), _b64(parts[1]), _b64(parts[2])))
    with open(data, "rb") as f:
        text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(f.read())  # dictzip is gzip
    ids = {word.encode(): i for i, word in enumerate(dict.fromkeys(w for w, _, _ in entries))}
    src, dst = [], []
    for word, offset, length in entries:
        u = ids[word.encode()]
        used = {ids[t] for t in _WORD.findall(text[offset:offset + length].lower()) if t in ids}
        used.discard(u)
        src.extend([u] * len(used))
        dst.extend(used)
    n = len(ids)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    uses = np.bincount(dst, minlength=n)
    keep = uses <= max_share * len(entries)
    ok = keep[src] & keep[dst]
    a = sp.csr_matrix((np.ones(int(ok.sum()), dtype=np.float32), (src[ok], dst[ok])), shape=(n, n))
    a = a.maximum(a.T).tocsr()
    a.data[:] = 1.0
    linked = np.flatnonzero(np.diff(a.indptr) > 0)
    words = list(ids)
    return a[linked][:, linked].tocsr(), [words[i].decode() for i in linked]


# -------------------------------------------------------------------------------------- runners
def run_embedcore(adjacency, s, seed, workers, negative_sharing=None):
    from embedcore import Node2Vec
    start = time.perf_counter()
    model = Node2Vec(vector_size=s["dim"], walk_length=s["walk_length"], walks_per_node=s["walks"],
                     window=s["window"], p=s["p"], q=s["q"], negative=5, epochs=1, workers=workers,
                     seed=seed, negative_sharing=negative_sharing).fit(adjacency)
    return time.perf_counter() - start, model.wv.vectors


def run_pecanpy(adjacency, s, seed, workers, mode):
    import numba
    from pecanpy import pecanpy
    numba.set_num_threads(workers)
    start = time.perf_counter()
    g = getattr(pecanpy, mode)(s["p"], s["q"], workers, verbose=False, random_state=seed)
    csr = adjacency.tocsr()
    g.indptr = csr.indptr.astype(np.uint32)
    g.indices = csr.indices.astype(np.uint32)
    g.data = csr.data.astype(np.float32)
    g.set_node_ids([str(i) for i in range(csr.shape[0])])
    # PecanPy's walk_length counts steps (its walks have walk_length + 1 nodes); every other side
    # counts nodes, start included, as node2vec does: the same walks need one step fewer here
    vectors = g.embed(dim=s["dim"], num_walks=s["walks"], walk_length=s["walk_length"] - 1,
                      window_size=s["window"], epochs=1)
    return time.perf_counter() - start, vectors


def run_fastnode2vec(adjacency, s, seed, workers):
    from fastnode2vec import Graph, Node2Vec
    start = time.perf_counter()
    upper = sp.triu(adjacency, k=1).tocoo()
    with contextlib.redirect_stderr(open(os.devnull, "w")):
        graph = Graph(zip(upper.row.tolist(), upper.col.tolist()), directed=False, weighted=False, verbose=False)
        model = Node2Vec(graph, s["dim"], s["walk_length"], s["window"], p=s["p"], q=s["q"], workers=workers,
                         seed=seed)
        model.train(epochs=s["walks"], verbose=False)
    vectors = np.zeros((adjacency.shape[0], s["dim"]), dtype=np.float32)
    names = np.asarray(graph.node_names)
    vectors[names] = model.wv.vectors[[model.wv.key_to_index[name] for name in names.tolist()]]
    return time.perf_counter() - start, vectors


def peers():
    """(name, runner(adjacency, settings, seed, workers)) of the installed peers."""
    out = []
    try:
        import pecanpy  # noqa: F401
        out += [("PecanPy SparseOTF", lambda a, s, seed, w: run_pecanpy(a, s, seed, w, "SparseOTF")),
                ("PecanPy PreComp", lambda a, s, seed, w: run_pecanpy(a, s, seed, w, "PreComp"))]
    except ImportError:
        pass
    try:
        import fastnode2vec  # noqa: F401
        out.append(("fastnode2vec", run_fastnode2vec))
    except ImportError:
        pass
    return out


def _version(module):
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:  # noqa: BLE001 - only for the label
        return "?"


# -------------------------------------------------------------------------------------- compare
def quality(vectors, split, labels):
    from embedcore.evaluate import evaluate_link_prediction, evaluate_node_classification
    auc = evaluate_link_prediction(vectors, split, method="hadamard")
    macro = evaluate_node_classification(vectors, labels)[1] if labels is not None else float("nan")
    return macro, auc


def compare(adjacency, labels, settings, workers, seeds=(0, 1, 2), sides=None, log=lambda line: print(line, flush=True)):
    """Every side on the graph with 10% of the edges held out, once per seed, alternating sides
    within a seed. Returns {side: {"seconds": [...], "macro_f1": [...], "auc": [...]}}."""
    from embedcore.evaluate import link_prediction_split
    split = link_prediction_split(adjacency, test_fraction=0.1, seed=0)
    sides = sides or ([("embedcore", run_embedcore)] + peers())
    results = {name: {"seconds": [], "macro_f1": [], "auc": []} for name, _ in sides}
    for seed in seeds:
        for name, runner in sides:
            seconds, vectors = runner(split["train_graph"], settings, seed, workers)
            macro, auc = quality(vectors, split, labels)
            for key, value in (("seconds", seconds), ("macro_f1", macro), ("auc", auc)):
                results[name][key].append(value)
            log(f"  seed {seed} {name:<18} {seconds:8.1f} s  macro-F1 {macro:.4f}  AUC {auc:.4f}")
    return results


def rows(name, label, results):
    ours = results["embedcore"]
    out = []
    mean = lambda xs: float(np.mean(xs))  # noqa: E731
    describe = lambda r: f"macro-F1 {mean(r['macro_f1']):.4f}, AUC {mean(r['auc']):.4f}"  # noqa: E731
    for side, r in results.items():
        if side == "embedcore":
            continue
        peer = side.split()[0]
        out.append(Row(name, label, f"{side} {_version(peer.lower())}", mean(r["seconds"]), mean(ours["seconds"]),
                       describe(r), describe(ours), notes=f"mean of {len(ours['seconds'])} seeds"))
    return out


SETTINGS = dict(dim=128, walk_length=80, walks=10, window=10, p=1.0, q=0.5)
# The share of an SBM's edges drawn regardless of communities: high enough that macro-F1 is not
# saturated at 1 (it is at 0.3 with 40 edges per node).
MIXING = 0.8


@case("node2vec-sbm", "node2vec", "node2vec on a planted-partition graph vs PecanPy and fastnode2vec")
def node2vec_sbm(ctx):
    from embedcore.datasets import stochastic_block_model
    n_nodes, n_edges = (5_000, 100_000) if ctx.quick else (100_000, 2_000_000)
    adjacency, labels = stochastic_block_model(n_nodes, n_edges, n_communities=20, mixing=MIXING, seed=0)
    results = compare(adjacency, labels, SETTINGS, ctx.workers, seeds=(0,) if ctx.quick else (0, 1, 2))
    return rows("node2vec-sbm", f"SBM {n_nodes:,} nodes / {n_edges:,} edges, p=1 q=0.5", results)


@case("node2vec-gcide", "node2vec", "node2vec on the dictionary's link graph vs PecanPy and fastnode2vec")
def node2vec_gcide(ctx):
    built = gcide_graph()
    if built is None:
        return []
    adjacency = built[0] if not ctx.quick else core(built[0], 8_000)
    results = compare(adjacency, None, SETTINGS, ctx.workers, seeds=(0,) if ctx.quick else (0, 1, 2))
    return rows("node2vec-gcide", f"dict-gcide links, {adjacency.shape[0]:,} nodes / {adjacency.nnz // 2:,} "
                f"edges, p=1 q=0.5", results)
