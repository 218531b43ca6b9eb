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
import _common
from embedcore.benchcases import recommend

CASES = {"all": recommend.recommend_all_case, "kernel": recommend.recommend_kernel_case,
         "quality": recommend.recommend_quality_case, "sif": recommend.sentences_sif_case}


def main(argv=None):
    parser = _common.parser(__doc__, cases=CASES)
    args = _common.parse(parser, argv, cases=CASES)
    report = _common.Report()
    _common.run_cases(CASES, args, _common.context(args), report)
    report.finish(args.json)


if __name__ == "__main__":
    main()
