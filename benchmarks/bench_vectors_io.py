"""Loading and saving word2vec files: embedcore against gensim, side by side in one process.

    PYTHONPATH=. python benchmarks/bench_vectors_io.py [--rows 200000] [--dim 100] [--repeat 2] [--workers N]

Writes a random rows x dim vector set (a few non-ASCII words included) as word2vec text and
binary files in a temporary directory, then times, alternating A B A B and keeping the best run:
gensim's ``KeyedVectors.load_word2vec_format`` against ``embedcore.KeyedVectors.load_word2vec_format``
on the same file, and both libraries' ``save_word2vec_format``. The quality column checks that
both loaders return identical words and bit-identical vectors.
"""
import argparse
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np

import embedcore as ec
from embedcore._threads import effective_workers


def best_of(repeat, *fns):
    """Best wall time of each fn, run alternately `repeat` times; returns (times, last results)."""
    times = [float("inf")] * len(fns)
    results = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            results[i] = fn()
            times[i] = min(times[i], time.perf_counter() - start)
    return times, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None,
                        help="threads for embedcore's text parsing (default: all usable cores)")
    args = parser.parse_args(argv)

    import gensim
    from gensim.models import KeyedVectors as GensimKV

    rng = np.random.default_rng(0)
    words = ["größe", "東京", "naïve"] + [f"w{i}" for i in range(args.rows - 3)]
    vectors = (rng.standard_normal((args.rows, args.dim)) * 0.1).astype(np.float32)
    ours = ec.KeyedVectors(words, vectors)
    theirs = GensimKV(args.dim)
    theirs.add_vectors(words, vectors)

    tmp = tempfile.mkdtemp(prefix="embedcore-bench-")
    rows = []
    try:
        for binary in (False, True):
            kind = "binary" if binary else "text"
            path = os.path.join(tmp, f"vectors.{kind}")
            gpath = os.path.join(tmp, f"gensim.{kind}")
            (t_gensim_save, t_save), _ = best_of(
                args.repeat,
                lambda: theirs.save_word2vec_format(gpath, binary=binary),
                lambda: ours.save_word2vec_format(path, binary=binary))
            size = os.path.getsize(path)
            (t_gensim, t_ours), (g, e) = best_of(
                args.repeat,
                lambda: GensimKV.load_word2vec_format(path, binary=binary),
                lambda: ec.KeyedVectors.load_word2vec_format(path, binary=binary, workers=args.workers))
            same = list(g.index_to_key) == e.words and np.array_equal(g.vectors, e.vectors) \
                and np.array_equal(e.vectors, vectors)
            rows.append((f"load {kind} {args.rows}x{args.dim} ({size / 1e6:.0f} MB)", t_gensim, t_ours,
                         "identical" if same else "DIFFERENT"))
            rows.append((f"save {kind} {args.rows}x{args.dim}", t_gensim_save, t_save, ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"embedcore {ec.__version__} vs gensim {gensim.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, best of {args.repeat} alternating runs, embedcore "
          f"text parsing with {effective_workers(args.workers)} thread(s), gensim single-threaded")
    print(f"{'work':<36} {'gensim s':>9} {'embedcore s':>12} {'speed-up':>9}  {'vectors':<10}")
    for name, tg, te, quality in rows:
        print(f"{name:<36} {tg:>9.3f} {te:>12.3f} {tg / te:>8.1f}x  {quality:<10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
