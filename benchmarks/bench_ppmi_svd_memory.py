"""Peak memory of PPMI-SVD on a co-occurrence matrix held as shards: loaded into memory
(``ShardedMatrix.to_scipy()`` then ``SVDEmbedding.fit``) vs streamed one shard at a time
(``SVDEmbedding.fit(shards)``), each side in a fresh process.

The matrix: co-occurrence counts (window 5, 1/d weights, symmetric) of Zipf-distributed word ids,
written as a ShardedMatrix of about `--shard-mb` MB per shard. Each side runs in its own Python
process and reports its peak resident size (``VmHWM`` of ``/proc/self/status``) at the end, the
resident size after the imports (``VmRSS`` before any work) and the time of the fit, beside
embedcore's own estimate of what the side needs; both sides must give the same singular values
(bit for bit: the streamed products are the in-memory ones).

    python benchmarks/bench_ppmi_svd_memory.py                   # about 20M nonzeros
    python benchmarks/bench_ppmi_svd_memory.py --tokens 2M --types 20000 --shard-mb 8
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = r"""
import json, sys, time
import numpy as np
import embedcore as ec
from embedcore.sharded import ShardedMatrix

def status(key):
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))

side, path, dim, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
after_imports = status('VmRSS:')
start = time.perf_counter()
shards = ShardedMatrix(path)
matrix = shards.to_scipy() if side == "in memory" else shards
words = [f"w{i}" for i in range(shards.shape[0])]
model = ec.SVDEmbedding(vector_size=dim, workers=workers, device="cpu").fit(matrix, vocab=words)
seconds = time.perf_counter() - start
print(json.dumps({"side": side, "peak": status('VmHWM:'), "after_imports": after_imports, "seconds": seconds,
                  "ppmi_seconds": model.stats["ppmi_seconds"], "svd_seconds": model.stats["svd_seconds"],
                  "ppmi_nnz": model.stats["nnz"], "singular_values": model.singular_values_.tolist()}))
"""


def make_counts(path, tokens, types, shard_mb, workers, seed=0):
    """Co-occurrence counts of `tokens` Zipf(1) ids over `types` words, as shards at `path`."""
    import embedcore as ec
    from embedcore.sharded import ShardedMatrix
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, types + 1)
    ids = rng.choice(types, size=tokens, p=p / p.sum()).astype(np.int32)
    cooc = ec.cooccurrence(ec.EncodedCorpus(ids), types, window=5, workers=workers)
    return ShardedMatrix.from_scipy(cooc, path, shard_bytes=shard_mb << 20)


def estimates_of(shards, dim, workers):
    """embedcore's estimates (bytes) of each side, bounding the PPMI's nonzeros by the counts':
    in memory, the counts read (12 bytes per nonzero, 8 per row and one) plus `ppmi_bytes` and
    `svd_working_bytes`; streamed, the larger of `streamed_ppmi_bytes` and `streamed_svd_bytes`."""
    from embedcore.svd import ppmi_bytes, streamed_ppmi_bytes, streamed_svd_bytes, svd_working_bytes
    shape, nnz = shards.shape, shards.nnz
    blocks = [(hi - lo, z) for (lo, hi), z in zip(shards.row_ranges, shards.shard_nnz)]
    in_memory = 12 * nnz + 8 * (shape[0] + 1) + ppmi_bytes(shape, nnz) + svd_working_bytes(shape, nnz, dim, 10)
    streamed = max(streamed_ppmi_bytes(shape, blocks), streamed_svd_bytes(shape, blocks, dim, 10, workers))
    return in_memory, streamed


def run_side(side, path, dim, workers):
    done = subprocess.run([sys.executable, "-c", CHILD, side, path, str(dim), str(workers)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=float, default=12e6, help="corpus tokens (default 12M)")
    parser.add_argument("--types", type=int, default=50_000, help="word types (default 50,000)")
    parser.add_argument("--shard-mb", type=int, default=24, help="shard size in MB (default 24)")
    parser.add_argument("--dim", type=int, default=100, help="SVDEmbedding vector_size (default 100)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tmp", default=None, help="folder for the shards (default: TMPDIR)")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="embedcore-ppmi-svd-memory-", dir=args.tmp)
    try:
        start = time.perf_counter()
        shards = make_counts(os.path.join(folder, "cooc"), int(args.tokens), args.types, args.shard_mb, args.workers)
        print(f"matrix: {shards.shape[0]:,} x {shards.shape[1]:,}, {shards.nnz:,} nonzeros "
              f"({12 * shards.nnz / 1e6:.0f} MB of CSR) in {shards.n_shards} shards of at most "
              f"{max(shards.shard_nnz):,} nonzeros; written in {time.perf_counter() - start:.1f} s", flush=True)
        print(f"load average: {open('/proc/loadavg').read().strip()}", flush=True)
        results = [run_side(side, shards.path, args.dim, args.workers) for side in ("in memory", "streamed")]
        print(f"load average: {open('/proc/loadavg').read().strip()}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    estimates = dict(zip(("in memory", "streamed"), estimates_of(shards, args.dim, args.workers)))
    same = results[0]["singular_values"] == results[1]["singular_values"]
    print(f"\nSVDEmbedding(vector_size={args.dim}).fit, PPMI {results[0]['ppmi_nnz']:,} nonzeros; "
          f"singular values {'bit-identical' if same else 'DIFFER'} between the sides\n")
    print("| side | peak VmHWM MB | after imports MB | peak - after imports MB | per input nonzero B "
          "| embedcore's estimate MB | time s (PPMI, SVD) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        grown = r["peak"] - r["after_imports"]
        print(f"| {r['side']} | {r['peak'] / 1e6:.0f} | {r['after_imports'] / 1e6:.0f} | {grown / 1e6:.0f} | "
              f"{grown / shards.nnz:.1f} | {estimates[r['side']] / 1e6:.0f} | "
              f"{r['seconds']:.1f} ({r['ppmi_seconds']:.1f}, {r['svd_seconds']:.1f}) |")
    ratio = (results[0]["peak"] - results[0]["after_imports"]) / (results[1]["peak"] - results[1]["after_imports"])
    print(f"\nin memory / streamed, peak beyond the imports: {ratio:.2f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
