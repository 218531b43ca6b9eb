"""The cost of embedcore.distributed on one machine: each stage through Dask against the same
stage as one single-machine call, side by side, plus the sizes that decide how each stage scales.

    python benchmarks/bench_distributed.py                 # benchmarks/data/corpus.txt and a 10x synthetic corpus
    python benchmarks/bench_distributed.py --scales 1      # the benchmark corpus only
    python benchmarks/bench_distributed.py --files 16 --repeats 2

The corpus is cut into `--files` files at line boundaries (the partitions). Stages, each timed
single-machine (all cores) then distributed, alternating, best of `--repeats` after a warm-up:

- vocabulary: ``Vocab.from_corpus(files, min_count=5)`` vs ``distributed.build_vocab``;
- co-occurrence (window 10, 1/d, symmetric): ``vocab.encode`` + ``cooccurrence`` vs
  ``distributed.cooccurrence`` (tree of additions; and written as row-range shards);
- PPMI + randomized SVD (k=100, n_iter=5) of that matrix vs ``distributed.ppmi`` +
  ``distributed.randomized_svd``;
- cosine top-k (k=10, 10,000 queries, the query row excluded) over a database of rows x 100 in
  `--files` ``.npy`` shards: the SVD word vectors at 1x, and 10x as many random rows at 10x.

Distributed runs use a LocalCluster of as many one-thread worker processes as cores, and Dask's
threaded scheduler. Then a table of the sizes measured in this run and the bytes each stage
moves between client and workers (the scaling model in benchmarks/RESULTS.md).
"""
import argparse
import datetime
import os
import pickle
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import embedcore as ec  # noqa: E402
from embedcore import distributed as dd  # noqa: E402
from embedcore.bench import machine_description  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def split_lines(path, n_files, out_dir):
    """Cut a text file into n_files files of about equal size at line boundaries."""
    size = os.path.getsize(path)
    paths = []
    with open(path, "rb") as f:
        for i in range(n_files):
            target = size * (i + 1) // n_files
            chunk = f.read(max(0, target - f.tell()))
            chunk += f.readline() if chunk and not chunk.endswith(b"\n") else b""
            p = os.path.join(out_dir, f"part-{i:03d}.txt")
            with open(p, "wb") as out:
                out.write(chunk)
            paths.append(p)
        rest = f.read()
    if rest:
        with open(paths[-1], "ab") as out:
            out.write(rest)
    return paths


def timed(function, repeats):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def side_by_side(single, distributed_runs, repeats, warmup=True):
    """Best times of the single-machine function and of each distributed one, run alternately."""
    functions = [single] + list(distributed_runs.values())
    if warmup:
        for f in functions:
            f()
    best = [float("inf")] * len(functions)
    results = [None] * len(functions)
    for _ in range(repeats):
        for i, f in enumerate(functions):
            seconds, results[i] = timed(f, 1)
            best[i] = min(best[i], seconds)
    return best, results


def same_csr(a, b, exact=True):
    if a.shape != b.shape or a.nnz != b.nnz or not np.array_equal(a.indices, b.indices):
        return "DIFFERENT"
    if np.array_equal(a.data, b.data):
        return "identical"
    rel = float(np.max(np.abs(a.data - b.data) / np.abs(b.data)))
    return f"same nonzeros, max rel diff {rel:.1e}" if not exact else f"DIFFERENT values ({rel:.1e})"


def run_scale(label, corpus_path, n_files, client, repeats, warmup, scratch, topk_rows):
    rows, sizes = [], {}
    files = split_lines(corpus_path, n_files, tempfile.mkdtemp(dir=scratch))
    sizes["text bytes"] = sum(os.path.getsize(f) for f in files)
    schedulers = {"cluster": client, "threads": "threads"}

    def add(stage, times, check):
        single = times[0]
        row = [label, stage, f"{single:.2f}"]
        for t in times[1:]:
            row += [f"{t:.2f}", f"{t / single:.2f}x"]
        rows.append(row + [check])
        print(" | ".join(rows[-1]), flush=True)

    # vocabulary
    times, results = side_by_side(
        lambda: ec.Vocab.from_corpus(files, min_count=5),
        {k: (lambda c=c: dd.build_vocab(files, min_count=5, client=c)) for k, c in schedulers.items()},
        repeats, warmup)
    vocab = results[0]
    ok = all(r.words == vocab.words and np.array_equal(r.counts, vocab.counts) for r in results[1:])
    add("vocabulary (min_count 5)", times, "identical" if ok else "DIFFERENT")
    sizes["tokens"], sizes["vocabulary"] = vocab.total_words, len(vocab)
    tables = [pickle.dumps(dd._text._count_file(f, "strict")) for f in files]
    sizes["per-file word tables (bytes)"] = sum(len(t) for t in tables)
    sizes["vocabulary pickled (bytes)"] = len(pickle.dumps(vocab))

    # co-occurrence
    def single_count():
        return ec.cooccurrence(vocab.encode(files), len(vocab), window=10, workers=os.cpu_count())

    times, results = side_by_side(
        single_count,
        {k: (lambda c=c: dd.cooccurrence(files, vocab, window=10, client=c)) for k, c in schedulers.items()},
        repeats, warmup)
    cooc = results[0]
    add("co-occurrence, window 10 (encode + count)", times,
        "; ".join(same_csr(r, cooc, exact=False) for r in results[1:]))
    sizes["co-occurrence nnz"] = cooc.nnz
    sizes["per-file partial nnz (sum)"] = sum(
        ec.cooccurrence(vocab.encode(f), len(vocab), window=10).nnz for f in files)

    def sharded_count(c):
        out = tempfile.mkdtemp(dir=scratch)
        shutil.rmtree(out)
        try:
            return dd.cooccurrence(files, vocab, window=10, out_dir=out, max_memory=64 << 20, client=c).n_shards
        finally:
            shutil.rmtree(out, ignore_errors=True)

    times, results = side_by_side(single_count, {k: (lambda c=c: sharded_count(c)) for k, c in schedulers.items()},
                                  repeats, warmup=False)
    add("co-occurrence as 64 MiB row-range shards", times, f"{results[1]} shards")

    # PPMI + SVD
    def single_svd():
        return ec.randomized_svd(ec.ppmi(cooc), 100, n_iter=5, seed=0)

    def distributed_svd(c):
        return dd.randomized_svd(dd.ppmi(cooc, client=c), 100, n_iter=5, seed=0, client=c)

    times, results = side_by_side(single_svd, {k: (lambda c=c: distributed_svd(c)) for k, c in schedulers.items()},
                                  repeats, warmup)
    s1 = results[0][1]
    check = "; ".join("identical S" if np.array_equal(r[1], s1) else
                      f"S max rel diff {np.max(np.abs(r[1] - s1) / s1):.1e}" for r in results[1:])
    add("PPMI + randomized SVD, k=100, n_iter=5", times, check)
    sizes["PPMI nnz"] = ec.ppmi(cooc).nnz

    # top-k
    u, s = results[0][0], results[0][1]
    vectors = np.ascontiguousarray(u * np.sqrt(s), dtype=np.float32)
    if topk_rows > len(vectors):  # beyond the corpus's words: random rows
        vectors = np.random.default_rng(0).standard_normal((topk_rows, vectors.shape[1]), dtype=np.float32)
    nq = min(10_000, len(vectors))
    queries = vectors[:nq]
    exclude = np.arange(nq)
    shard_dir = tempfile.mkdtemp(dir=scratch)
    bounds = np.linspace(0, len(vectors), n_files + 1).astype(int)
    shard_paths = []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        shard_paths.append(os.path.join(shard_dir, f"shard-{i:03d}.npy"))
        np.save(shard_paths[-1], vectors[lo:hi])
    times, results = side_by_side(
        lambda: ec.cosine_topk(queries, vectors, k=10, exclude=exclude, workers=os.cpu_count()),
        {k: (lambda c=c: dd.cosine_topk(queries, shard_paths, k=10, exclude=exclude, client=c))
         for k, c in schedulers.items()},
        repeats, warmup)
    ok = all(np.array_equal(r[1], results[0][1]) and np.array_equal(r[0], results[0][0]) for r in results[1:])
    add(f"cosine top-k, {len(vectors):,} x {vectors.shape[1]} rows, {nq:,} queries, k=10", times,
        "identical" if ok else "DIFFERENT")
    sizes["top-k database rows"], sizes["top-k queries"] = len(vectors), nq
    return rows, sizes


def bytes_moved(sizes, n_files, workers, k=100, n_oversamples=10, n_iter=5, dim=100, topk_k=10):
    """Bytes each stage moves between the client and the workers (or between workers), from the
    sizes measured: 8 bytes per float32 nonzero (value + int32 column), 12 per float64 one."""
    V, p = sizes["vocabulary"], k + n_oversamples
    products = 2 * n_iter + 2
    levels = max(1, int(np.ceil(np.log(max(n_files, 2)) / np.log(4))))  # the tree's fan-in is 4
    return [
        ("vocabulary: word tables up the merge tree", sizes["per-file word tables (bytes)"]),
        ("co-occurrence: vocabulary to every worker", sizes["vocabulary pickled (bytes)"] * workers),
        ("co-occurrence: file partials to their tree parents (8 B/nnz)", 8 * sizes["per-file partial nnz (sum)"]),
        (f"co-occurrence: float64 sums up {levels - 1} more level(s), at most (12 B/nnz)",
         12 * sizes["co-occurrence nnz"] * (levels - 1)),
        ("co-occurrence: result to the client (8 B/nnz)", 8 * sizes["co-occurrence nnz"]),
        ("co-occurrence as shards: row slices to the range tasks (8 B/nnz)", 8 * sizes["per-file partial nnz (sum)"]),
        ("co-occurrence as shards: shards written (8 B/nnz)", 8 * sizes["co-occurrence nnz"]),
        ("PPMI: column sums up, and back to every worker", 8 * V * (n_files + workers)),
        ("SVD: the transpose shuffle, once (8 B/nnz)", 8 * sizes["PPMI nnz"]),
        (f"SVD: {products} products, Q (n x {p}) to every worker, A Q back", products * (workers + 1) * V * p * 4),
        ("top-k: queries to every worker", sizes["top-k queries"] * dim * 4 * workers),
        ("top-k: per-shard lists up the merge", n_files * sizes["top-k queries"] * (topk_k + 1) * 12),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus.txt"))
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    import dask
    import distributed
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus} is missing; build it with benchmarks/make_corpus.py")
    workers = os.cpu_count()
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {machine_description()}; "
          f"embedcore {ec.__version__}, dask {dask.__version__}, distributed {distributed.__version__}; "
          f"LocalCluster of {workers} one-thread worker processes; {args.files} files")
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit="8GiB",
                                       dashboard_address=None,
                                       scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"})
    client = distributed.Client(cluster, set_as_default=False)
    scratch = tempfile.mkdtemp(prefix="embedcore-bench-distributed-")
    all_rows, all_sizes = [], {}
    try:
        base = ec.Vocab.from_corpus(args.corpus, min_count=5)  # tokens, and the 1x top-k rows
        for scale in args.scales:
            if scale == 1:
                path, label = args.corpus, "1x"
            else:
                from embedcore.datasets import synthetic_corpus
                path, label = os.path.join(scratch, f"synthetic{scale}x.txt"), f"{scale}x"
                synthetic_corpus(scale * base.total_words, 100_000, seed=0).write_text(path)
            print(f"== {label}: {path}", flush=True)
            rows, sizes = run_scale(label, path, args.files, client, args.repeats if scale == 1 else 1,
                                    scale == 1, scratch, topk_rows=scale * len(base))
            all_rows += rows
            all_sizes[label] = sizes
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(scratch, ignore_errors=True)

    print("\n| scale | stage | single s | cluster s | cluster / single | threads s | threads / single | check |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in all_rows:
        print("| " + " | ".join(r) + " |")
    for label, sizes in all_sizes.items():
        print(f"\n{label} sizes: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        print(f"| stage ({label}) | bytes moved |\n|---|---:|")
        for name, value in bytes_moved(sizes, args.files, workers):
            print(f"| {name} | {value / 1e6:,.1f} MB |")


if __name__ == "__main__":
    main()
