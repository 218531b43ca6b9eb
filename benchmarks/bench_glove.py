"""Co-occurrence counting and GloVe, side by side with their peers; prints a table.

    python benchmarks/bench_glove.py [--quick] [--workers 2] [--data benchmarks/data] [--cases ...]

Cases (embedcore/benchcases/glove.py, also run by `embedcore bench`):
  cooccur-real       our counter vs a vectorised numpy/scipy counter on benchmarks/data/corpus.txt
                     (window 10, symmetric, 1/d, min_count 5), equality checked; Stanford cooccur
                     from the same text when built; then ours with max_memory at a tenth of the
                     unbounded working set (same matrix, time ratio).
  cooccur-synthetic  the same on the synthetic corpus (5M tokens with --quick; 50M without, ours only).
  glove-real         GloVe dim 100, x_max 100, alpha 0.75, 15 epochs (3 with --quick) on the real
                     corpus's counts: our epoch time and cost curve vs Stanford glove trained on the
                     same counts when built (else its figures), and analogy / WS353 / SimLex scores
                     of both by gensim's evaluation functions.
Build the real corpus first with `python benchmarks/make_corpus.py`, and the Stanford tools with
`bash benchmarks/build_peers.sh` (found through EMBEDCORE_PEERS_DIR, default benchmarks/peers).
"""
import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from embedcore import bench  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 GloVe epochs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    parser.add_argument("--cases", nargs="*", default=["cooccur-real", "glove-real", "cooccur-synthetic"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    rows = bench.run(args.cases, quick=args.quick, workers=args.workers, data_dir=args.data)
    print(f"machine: {bench.machine_description()}")
    print(bench.format_table(rows))
    for row in rows:
        print(f"- {row.case}: {row.work}\n    peer {row.peer}: {row.peer_quality}\n    ours: {row.ours_quality}\n"
              f"    {row.notes}")


if __name__ == "__main__":
    main()
