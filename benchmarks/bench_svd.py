"""PPMI and randomized truncated SVD: embedcore against scipy and scikit-learn, side by side.

    python benchmarks/bench_svd.py                 # synthetic 30,000 x 30,000 co-occurrence matrix
    python benchmarks/bench_svd.py --quick         # 8,000 words, a few seconds
    python benchmarks/bench_svd.py --cooc FILE.npz # a co-occurrence matrix saved by scipy.sparse.save_npz
    python benchmarks/bench_svd.py --corpus benchmarks/data/corpus.txt  # top 30,000 words, window 10,
                                                   # and the word vectors scored (benchmarks/make_corpus.py)
    python benchmarks/bench_svd.py --large         # 1M x 100k, 100M nonzeros: embedcore alone, peak memory

Prints one table: what ran, the peer and its time, embedcore's time, the ratio, and the quality
of both (relative reconstruction error ||X - U S Vt||_F / ||X||_F, and the largest relative
error of the leading singular values against scipy's svds).
"""
import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from embedcore.bench import Context, Row, format_table, machine_description  # noqa: E402
from embedcore.benchcases.svd import compare, real_corpus, synthetic_cooccurrence  # noqa: E402


def power_law_matrix(n_rows, n_cols, nnz, seed=0, chunk=10_000_000):
    """A float32 CSR matrix with power-law row lengths and column popularity (user-item shaped)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / (np.arange(n_rows) + 100.0)
    lengths = np.floor(weights / weights.sum() * nnz).astype(np.int64)
    lengths[: nnz - lengths.sum()] += 1
    rng.shuffle(lengths)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz, dtype=np.float32)
    for begin in range(0, nnz, chunk):
        end = min(begin + chunk, nnz)
        u = rng.random(end - begin, dtype=np.float32)
        indices[begin:end] = np.minimum((n_cols * u ** 3).astype(np.int32), n_cols - 1)
        data[begin:end] = 1.0 + rng.random(end - begin, dtype=np.float32) * 4.0
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


def _reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_gib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def large(ctx, k=100, n_iter=5, run_peer=False):
    import embedcore as ec
    from embedcore.benchcases.svd import relative_reconstruction_error
    start = time.perf_counter()
    X = power_law_matrix(1_000_000, 100_000, 100_000_000, seed=0)
    print(f"generated {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz / 1e6:.0f}M nonzeros in "
          f"{time.perf_counter() - start:.0f} s; input {(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**30:.2f} GiB",
          flush=True)
    base = _peak_rss_gib()
    reset = _reset_peak_rss()
    start = time.perf_counter()
    U, S, Vt = ec.randomized_svd(X, k, n_iter=n_iter, workers=ctx.workers)
    ours_s = time.perf_counter() - start
    peak = _peak_rss_gib()
    note = (f"peak RSS during the call {peak:.2f} GiB (input included)" if reset
            else f"peak RSS {peak:.2f} GiB (generation included, before: {base:.2f})")
    err = relative_reconstruction_error(X, U, S, Vt)
    peer_s, peer_quality = None, ""
    if run_peer:
        from sklearn.utils.extmath import randomized_svd
        start = time.perf_counter()
        r = randomized_svd(X, k, n_iter=n_iter, random_state=0)
        peer_s = time.perf_counter() - start
        peer_quality = f"recon {relative_reconstruction_error(X, *r):.5f}"
    return [Row("svd-large", f"randomized SVD k={k} n_iter={n_iter}, 1M x 100k, 100M nnz",
                "sklearn randomized_svd" if run_peer else "sklearn (not run)", peer_s, ours_s,
                peer_quality=peer_quality, ours_quality=f"recon {err:.5f}", notes=note)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small matrix, seconds")
    parser.add_argument("--workers", type=int, default=2, help="threads on both sides (default 2)")
    parser.add_argument("--cooc", help="co-occurrence matrix (.npz from scipy.sparse.save_npz)")
    parser.add_argument("--corpus", help="text corpus: PPMI-SVD of its top 30,000 words (window 10, 1/d)")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--n-iter", type=int, default=5)
    parser.add_argument("--no-svds", action="store_true", help="skip scipy's svds (slow)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs each, after a warm-up")
    parser.add_argument("--large", action="store_true", help="the 1M x 100k, 100M-nonzero case instead")
    parser.add_argument("--large-peer", action="store_true", help="also run sklearn on the large case")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.workers))
    ctx = Context(quick=args.quick, workers=args.workers)
    print(f"machine: {machine_description()}", flush=True)
    if args.large:
        rows = large(ctx, k=args.k, n_iter=args.n_iter, run_peer=args.large_peer)
    elif args.corpus:
        ctx.data_dir = os.path.dirname(os.path.abspath(args.corpus))
        rows = real_corpus(args.corpus, ctx, k=args.k, n_iter=args.n_iter)
    else:
        if args.cooc:
            cooc = sp.load_npz(args.cooc).tocsr().astype(np.float32)
            label = f"{os.path.basename(args.cooc)} {cooc.shape[0]}x{cooc.shape[1]}"
        else:
            n_words, n_samples = (8_000, 4_000_000) if args.quick else (30_000, 40_000_000)
            start = time.perf_counter()
            cooc = synthetic_cooccurrence(n_words, n_samples, seed=0)
            label = f"synthetic {n_words}x{n_words}"
            print(f"synthetic co-occurrence matrix: {cooc.shape}, {cooc.nnz / 1e6:.1f}M nonzeros, "
                  f"{time.perf_counter() - start:.0f} s to generate", flush=True)
        k = min(args.k, 50) if args.quick else args.k
        rows = compare(cooc, ctx, label, k=k, n_iter=args.n_iter, run_svds=not args.no_svds,
                       repeats=args.repeats)
    print(format_table(rows))


if __name__ == "__main__":
    main()
