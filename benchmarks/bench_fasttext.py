"""Subword skip-gram: embedcore.FastText vs the fastText binary (`fasttext` package) and gensim's
FastText, side by side in one process, end to end (text file to trained model).

    python benchmarks/bench_fasttext.py                    # real corpus, 5 epochs, seed 1
    python benchmarks/bench_fasttext.py --seeds 1,2,3      # quality as the mean of 3 seeds
    python benchmarks/bench_fasttext.py --quick            # 1 epoch on a 1M-token prefix
    python benchmarks/bench_fasttext.py --peers fasttext   # leave gensim out
    python benchmarks/bench_fasttext.py --shared           # also noise words shared per centre word

Settings: dim 100, window 5, neg 5, minn 3, maxn 6, bucket 2M, lr 0.05, t 1e-4, min_count 5, 2
threads (fastText's defaults where not named). Held-out words are dropped from the text every
side trains on and their vectors checked (see embedcore/benchcases/fasttext.py). Prints a line
per run (wall seconds, process CPU seconds of all threads, quality, load average), then a table
with the ratio and the quality of each side (gensim's evaluation functions), the CPU-second
ratios and the held-out report. On a shared machine compare the CPU seconds: the wall times
depend on what else runs.
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import _common  # noqa: E402
from embedcore import bench  # noqa: E402
from embedcore.benchcases import _quality as quality  # noqa: E402
from embedcore.benchcases import fasttext as ft  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus.txt"))
    p.add_argument("--quick", action="store_true", help="1 epoch on a 1M-token prefix of the corpus")
    p.add_argument("--epochs", type=int, default=None, help="override the epochs (default 5, quick 1)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    p.add_argument("--peers", default="fasttext,gensim", help="fasttext, gensim or both (or none)")
    p.add_argument("--shared", action="store_true", help="also embedcore with negative_sharing=True")
    args = p.parse_args(argv)
    print(f"machine: {bench.machine_description()}", flush=True)
    settings = dict(ft.SETTINGS)
    with tempfile.TemporaryDirectory(prefix="bench-ft-") as tmp:
        path = _common.training_corpus(args, tmp)
        if args.quick:
            settings["epochs"] = 1
        if args.epochs:
            settings["epochs"] = args.epochs
        ctx = bench.Context(quick=args.quick, workers=args.workers, data_dir=os.path.dirname(args.corpus),
                            scratch=tmp)
        files = quality.eval_files(ctx)
        label = _common.corpus_label(args, settings["epochs"])
        seeds = tuple(int(s) for s in args.seeds.split(","))
        peers = tuple(s.strip() for s in args.peers.split(",") if s.strip() and s.strip() != "none")
        rows, lines = ft.compare(path, settings, args.workers, files, label, seeds=seeds, peers=peers, scratch=tmp,
                                 log=lambda line: print(line, flush=True), shared=args.shared)
    print()
    print(bench.format_table(rows))
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
