"""What the benchmark scripts (benchmarks/bench_*.py) share: the options every script takes, the
corpus the training scripts read, the running of registered cases, and the report they print.

A script imports this module before embedcore (it puts the checkout on sys.path):

    import _common
    from embedcore.benchcases import topk

    def main(argv=None):
        parser = _common.parser(__doc__, cases=CASES)
        args = _common.parse(parser, argv, cases=CASES)
        report = _common.Report()                     # prints the machine
        _common.run_cases(CASES, args, _common.context(args), report)
        report.finish(args.json)                      # the table of every row, then the lines

What runs on each side, and how it is timed, lives with the cases in embedcore/benchcases: the
peer runners, each case's comparison, and the timing helpers `bench.best_of` (the best of timed
runs after a warm-up) and `bench.alternate` (peer and embedcore run A B A B), so that a script and
`embedcore bench` measure the same way. A script adds its options, calls those, and reports.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")
CORPUS = os.path.join(DATA_DIR, "corpus.txt")
QUICK_TOKENS = 1_000_000  # the corpus prefix a --quick training run reads

sys.path.insert(0, os.path.dirname(HERE))

from embedcore import bench  # noqa: E402


def parser(doc, *, quick="small sizes", corpus=False, cases=None):
    """An argument parser with the options every script takes: --quick (its meaning: `quick`),
    --workers (threads on every side) and --json (record the rows); with `corpus`, --corpus;
    with `cases` (name -> case function), the case names to run (default: all)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--workers", type=int, default=2, help="threads on every side (default 2)")
    p.add_argument("--json", metavar="PATH", help="also write the rows, the lines and the machine as JSON")
    if corpus:
        p.add_argument("--corpus", default=CORPUS, help="the text file to train on (default %(default)s)")
    if cases is not None:
        p.add_argument("cases", nargs="*", help=f"which of {', '.join(cases)} (default: all of them)")
    return p


def parse(parser, argv=None, cases=None):
    """The parsed arguments; an unknown case name is a usage error listing the known ones."""
    args = parser.parse_args(argv)
    if cases is not None:
        unknown = sorted(set(args.cases) - set(cases))
        if unknown:
            parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(cases)}")
    return args


def context(args, scratch="", data_dir=DATA_DIR):
    """The cases' Context for the parsed arguments."""
    return bench.Context(quick=args.quick, workers=args.workers, data_dir=data_dir, scratch=scratch)


def training_corpus(args, scratch):
    """The file a training script reads: --corpus, or with --quick a copy of its first lines
    holding QUICK_TOKENS tokens, written in `scratch`. SystemExit when the corpus is missing."""
    if not os.path.exists(args.corpus):
        raise SystemExit(f"no corpus at {args.corpus}: run python benchmarks/make_corpus.py")
    if not args.quick:
        return args.corpus
    path = os.path.join(scratch, "prefix.txt")
    with open(args.corpus, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as dst:
        n = 0
        for line in src:
            dst.write(line)
            n += len(line.split())
            if n >= QUICK_TOKENS:
                break
    return path


def corpus_label(args, epochs):
    """How a training row names its input: '1M-token prefix, 1 epochs' or 'real corpus, 5 epochs'."""
    return f"{'1M-token prefix' if args.quick else 'real corpus'}, {epochs} epochs"


def run_cases(cases, args, ctx, report):
    """Run the named cases (all when none is named) in order, each table printed as it ends."""
    for name in args.cases or list(cases):
        report.add(cases[name](ctx))


class Report:
    """What a script measured: rows (bench.Row) and text lines, each printed when it comes and
    kept for the summary that `finish` prints. Creating one prints the machine."""

    def __init__(self):
        self.rows, self.lines = [], []
        print(f"machine: {bench.machine_description()}", flush=True)

    def add(self, rows):
        """Keep `rows` and print their table."""
        self.rows.extend(rows)
        print(bench.format_table(rows) + "\n", flush=True)

    def line(self, text):
        """Keep a line of text and print it."""
        self.lines.append(text)
        print(text, flush=True)

    def finish(self, json_path=None):
        """Print the table of every row, then the lines; with `json_path`, record both (and the
        machine) there as JSON."""
        print()
        print(bench.format_table(self.rows))
        for text in self.lines:
            print(text)
        if json_path:
            bench.write_json(self.rows, json_path, extra={"lines": self.lines, "command": sys.argv})
