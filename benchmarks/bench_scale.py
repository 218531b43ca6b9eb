"""One machine at scale: a synthetic Zipf corpus through text -> vocabulary -> encode -> bounded
co-occurrence -> GloVe and PPMI-SVD, and skip-gram 1 epoch, with time, peak RSS and temporary disk
per stage (see embedcore/benchcases/scale.py for what is measured and how).

    python benchmarks/bench_scale.py                      # 1B tokens (what `embedcore bench scale` runs)
    python benchmarks/bench_scale.py --tokens 100M        # smaller
    python benchmarks/bench_scale.py --tokens 1B --tmp /big/disk --max-memory 4G --stages vocab encode skipgram
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from embedcore import bench  # noqa: E402
from embedcore.benchcases import scale  # noqa: E402

STAGES = ("vocab", "encode", "cooccurrence", "glove", "ppmi-svd", "skipgram")


def size(text):
    """'100M', '1B', '2G', '512K' or a plain number."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30} if text[-1:].upper() == "G" else \
        {"K": 10 ** 3, "M": 10 ** 6, "B": 10 ** 9}
    unit = units.get(text[-1:].upper())
    return int(float(text[:-1]) * unit) if unit else int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=size, default=10 ** 9, help="corpus size, e.g. 100M or 1B (default 1B)")
    parser.add_argument("--types", type=int, default=1 << 20, help="Zipf word types (default 2**20)")
    parser.add_argument("--max-memory", type=size, default=2 << 30,
                        help="max_memory of the co-occurrence count in bytes, e.g. 2G (default 2G)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tmp", default=None, help="folder for the corpus and spill files (default: TMPDIR)")
    parser.add_argument("--stages", nargs="*", choices=STAGES, help="stages after encode (default: all)")
    parser.add_argument("--memory-limit", type=size, default=None,
                        help="address-space limit of this process (RLIMIT_AS), e.g. 18G: a stage that "
                             "needs more fails with MemoryError instead of waking the OOM killer")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    if args.memory_limit:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (args.memory_limit, args.memory_limit))
    print(f"machine: {bench.machine_description()}", flush=True)
    stages = scale.run_scale(args.tokens, types=args.types, max_memory=args.max_memory, workers=args.workers,
                             folder=args.tmp, stages=args.stages, log=lambda line: print(line, flush=True))
    rows = scale.rows_of(stages, args.tokens)
    print(bench.format_table(rows))
    if args.json:
        bench.write_json(rows, args.json)


if __name__ == "__main__":
    main()
