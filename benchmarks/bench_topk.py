"""Exact cosine top-k: embedcore against faiss IndexFlatIP and numpy, side by side in one process.

    python benchmarks/bench_topk.py            # full sizes: 10k x 1M x 128; all-vs-all 52,817 x 100
    python benchmarks/bench_topk.py --quick    # 1k x 100k x 128; all-vs-all 10k x 100
    python benchmarks/bench_topk.py one-query analogies   # some of the cases
    python benchmarks/bench_topk.py distributions         # near-duplicate, clustered, equal, zero rows vs random

Prints the machine, the measured float32 GEMM rate of numpy's BLAS (the bound for this work), and
a table with each peer's time, ours, the ratio and recall@10 against a float64 reference (for the
analogy case: gensim's evaluate_word_analogies and ours on the same vectors). The same cases run
under `embedcore bench topk-search topk-all-vs-all topk-one-query topk-analogies topk-distributions`.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from embedcore import bench  # noqa: E402
from embedcore.benchcases import topk  # noqa: E402

CASES = {"search": topk.topk_search, "all-vs-all": topk.topk_all_vs_all, "one-query": topk.topk_one_query,
         "analogies": topk.topk_analogies, "distributions": topk.topk_distributions}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--workers", type=int, default=2, help="threads on every side (default 2)")
    parser.add_argument("cases", nargs="*", help=f"which of {', '.join(CASES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    ctx = bench.Context(quick=args.quick, workers=args.workers, data_dir=data)
    print(f"machine: {bench.machine_description()}")
    print(f"numpy float32 GEMM, {args.workers} threads: {topk.sgemm_rate(128, args.workers):.0f} GFLOP/s "
          f"(2048 x 128 times 128 x 65536)")
    rows = []
    for name in args.cases or list(CASES):
        new = CASES[name](ctx)
        rows.extend(new)
        print(bench.format_table(new) + "\n", flush=True)
    print(bench.format_table(rows))


if __name__ == "__main__":
    main()
