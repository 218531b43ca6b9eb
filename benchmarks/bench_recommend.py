"""Batched recommendation: embedcore.recommend_all against implicit's batched recommend, and the
kernel against the machine's sgemm bound, side by side in one process.

    python benchmarks/bench_recommend.py            # 100k users x 20k items x 64, ~5M seen; kernel 20k x 20k
    python benchmarks/bench_recommend.py --quick    # 20k x 5k, ~1M seen; kernel 5k x 20k
    python benchmarks/bench_recommend.py all kernel   # some of: all, kernel, quality, sif

Prints the machine and a table per case: implicit's batched recommend against recommend_all (time,
ratio, peak resident-set growth, rows that agree), the kernel against the sgemm bound,
SVDRecommender and Item2Vec next to implicit ALS/BPR (nDCG@10, recall@20, training time), and SIF
sentence vectors against numpy. The same cases run under `embedcore bench recommend-all
recommend-kernel recommend-quality sentences-sif`.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from embedcore import bench  # noqa: E402
from embedcore.benchcases import recommend  # noqa: E402

CASES = {"all": recommend.recommend_all_case, "kernel": recommend.recommend_kernel_case,
         "quality": recommend.recommend_quality_case, "sif": recommend.sentences_sif_case}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--workers", type=int, default=2, help="threads on every side (default 2)")
    parser.add_argument("cases", nargs="*", help=f"which of {', '.join(CASES)} (default: all of them)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    ctx = bench.Context(quick=args.quick, workers=args.workers)
    print(f"machine: {bench.machine_description()}")
    rows = []
    for name in args.cases or list(CASES):
        new = CASES[name](ctx)
        rows.extend(new)
        print(bench.format_table(new) + "\n", flush=True)
    print(bench.format_table(rows))


if __name__ == "__main__":
    main()
