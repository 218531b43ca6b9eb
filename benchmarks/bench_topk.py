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
import _common
from embedcore.benchcases import topk

CASES = {"search": topk.topk_search, "all-vs-all": topk.topk_all_vs_all, "one-query": topk.topk_one_query,
         "analogies": topk.topk_analogies, "distributions": topk.topk_distributions}


def main(argv=None):
    parser = _common.parser(__doc__, cases=CASES)
    args = _common.parse(parser, argv, cases=CASES)
    report = _common.Report()
    print(f"numpy float32 GEMM, {args.workers} threads: {topk.sgemm_rate(128, args.workers):.0f} GFLOP/s "
          f"(2048 x 128 times 128 x 65536)")
    _common.run_cases(CASES, args, _common.context(args), report)
    report.finish(args.json)


if __name__ == "__main__":
    main()
