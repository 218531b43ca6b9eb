"""DeepWalk / node2vec: embedcore.Node2Vec vs PecanPy 2.0.9 (SparseOTF and PreComp) and fastnode2vec,
side by side in one process (embedcore.benchcases.node2vec has the runners and the rules).

    python benchmarks/bench_node2vec.py sbm --nodes 100000 --edges 2000000      # the issue's SBM
    python benchmarks/bench_node2vec.py gcide --core 8000                        # dictionary link graph
    python benchmarks/bench_node2vec.py memory --nodes 1000000 --edges 10000000   # peak memory, p != q

Every side: same graph (10% of the edges held out), p, q, walk length, walks per node, window,
dim, negatives (5), one epoch, threads and seed; end-to-end seconds (graph in memory to vectors);
quality by node classification macro-F1 (SBM communities) and Hadamard link-prediction ROC-AUC.
Prints one line per run and a mean per side over the seeds.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

from embedcore.benchcases import node2vec as bench  # noqa: E402


def summary(results):
    ours = np.mean(results["embedcore"]["seconds"])
    print(f"{'side':<20} {'seconds':>9} {'ratio':>7} {'macro-F1':>9} {'AUC':>7}")
    for side, r in results.items():
        mean = np.mean(r["seconds"])
        print(f"{side:<20} {mean:9.1f} {mean / ours:6.2f}x {np.mean(r['macro_f1']):9.4f} {np.mean(r['auc']):7.4f}",
              flush=True)


def sides(names):
    every = [("embedcore", bench.run_embedcore),
             ("embedcore shared", lambda a, s, seed, w: bench.run_embedcore(a, s, seed, w, negative_sharing=True))]
    every += bench.peers()
    return [s for s in every if s[0] in names] if names else [s for s in every if s[0] != "embedcore shared"]


def memory(args):
    """Peak resident memory of Node2Vec.fit (p != q) in a fresh process, against the CSR size."""
    import scipy.sparse as sp
    from embedcore.datasets import stochastic_block_model
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "graph.npz")
        adjacency, _ = stochastic_block_model(args.nodes, args.edges, n_communities=20, mixing=0.3, seed=0)
        sp.save_npz(path, adjacency, compressed=False)
        del adjacency
        code = f"""
import resource, time, numpy as np, scipy.sparse as sp
import embedcore as ec
from embedcore.graph import as_graph
from embedcore.backends import cpu
a = sp.load_npz({path!r}).tocsr()
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
def reset_peak():  # Linux >= 4.0: VmHWM restarts from the current resident size
    open('/proc/self/clear_refs', 'w').write('5')
reset_peak()
base = status('VmRSS')
g = as_graph(a)
prepare_peak = status('VmHWM')
del a
csr = g.indptr.nbytes + g.indices.nbytes
reset_peak()
before_fit = status('VmRSS')
t = time.perf_counter()
m = ec.Node2Vec(vector_size={args.dim}, walk_length={args.walk_length}, walks_per_node={args.walks}, window=5,
                p=0.5, q=2.0, workers={args.workers}).fit(g)
fit_peak = status('VmHWM')
model = m.input_vectors.nbytes + m.syn1neg.nbytes
print(f"nodes {{g.n_nodes:,}}, stored edges {{g.n_edges:,}}: CSR {{csr / 2**20:.0f}} MiB, model {{model / 2**20:.0f}} MiB")
print(f"graph checks (as_graph of the loaded scipy matrix): peak {{(prepare_peak - base) / 2**20:.0f}} MiB above "
      f"the matrix = {{(prepare_peak - base) / csr:.2f}} x CSR")
print(f"fit (walks + training, p=0.5 q=2): peak {{(fit_peak - before_fit) / 2**20:.0f}} MiB above the graph = "
      f"{{(fit_peak - before_fit - model) / csr:.2f}} x CSR + model; {{time.perf_counter() - t:.1f}} s")
"""
        subprocess.run([sys.executable, "-c", code], check=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["sbm", "gcide", "memory"])
    p.add_argument("--nodes", type=int, default=100_000)
    p.add_argument("--edges", type=int, default=2_000_000)
    p.add_argument("--mixing", type=float, default=bench.MIXING)
    p.add_argument("--core", type=int, default=0, help="gcide: keep the N most linked words (0: all)")
    p.add_argument("--dim", type=int, default=bench.SETTINGS["dim"])
    p.add_argument("--walk-length", type=int, default=bench.SETTINGS["walk_length"])
    p.add_argument("--walks", type=int, default=bench.SETTINGS["walks"])
    p.add_argument("--window", type=int, default=bench.SETTINGS["window"])
    p.add_argument("--p", type=float, default=bench.SETTINGS["p"])
    p.add_argument("--q", type=float, default=bench.SETTINGS["q"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--sides", nargs="*", help="embedcore (per-pair negatives, the default), 'embedcore shared' "
                   "(negative_sharing=True), 'PecanPy SparseOTF', 'PecanPy PreComp', fastnode2vec "
                   "(default: all but shared)")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    if args.what == "memory":
        return memory(args)
    settings = dict(dim=args.dim, walk_length=args.walk_length, walks=args.walks, window=args.window, p=args.p,
                    q=args.q)
    start = time.perf_counter()
    if args.what == "sbm":
        from embedcore.datasets import stochastic_block_model
        adjacency, labels = stochastic_block_model(args.nodes, args.edges, n_communities=20, mixing=args.mixing,
                                                   seed=0)
        print(f"SBM {args.nodes:,} nodes, {args.edges:,} edges, 20 communities, mixing {args.mixing}", flush=True)
    else:
        adjacency, _ = bench.gcide_graph()
        if args.core:
            adjacency = bench.core(adjacency, args.core)
        labels = None
        print(f"dict-gcide link graph: {adjacency.shape[0]:,} nodes, {adjacency.nnz // 2:,} edges", flush=True)
    print(f"settings {settings}, workers {args.workers}, seeds {args.seeds} (graph built in "
          f"{time.perf_counter() - start:.1f} s)", flush=True)
    results = bench.compare(adjacency, labels, settings, args.workers, seeds=args.seeds, sides=sides(args.sides))
    summary(results)


if __name__ == "__main__":
    main()
