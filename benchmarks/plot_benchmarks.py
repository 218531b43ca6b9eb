"""Draw the comparison figure of a benchmark run: speed-up over each peer, one bar per row.

    pytest benchmarks/ --benchmark-only --benchmark-json results.json
    python benchmarks/plot_benchmarks.py results.json speedups.png

Reads the rows the suite stores in each test's ``extra_info`` (or the ``rows`` of an
``embedcore bench --json`` file), prints them as a table and draws them with
`embedcore.bench.plot` (matplotlib; ``pip install 'embedcore[bench]'``).
"""
import argparse
import json

from embedcore.bench import Row, format_table, plot


def rows_from_json(path):
    """The Rows of a pytest-benchmark ``--benchmark-json`` file or an ``embedcore bench --json`` file."""
    with open(path, encoding="utf-8") as f:
        payload = json.load(f)
    if "benchmarks" in payload:  # pytest-benchmark
        dicts = [r for b in payload["benchmarks"] for r in b.get("extra_info", {}).get("rows", [])]
    elif "rows" in payload:
        dicts = payload["rows"]
    else:
        raise ValueError(f"{path}: neither a --benchmark-json file nor an embedcore bench --json file")
    fields = set(Row.__dataclass_fields__)
    return [Row(**{k: v for k, v in d.items() if k in fields}) for d in dicts]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="pytest-benchmark JSON (--benchmark-json) or embedcore bench --json")
    parser.add_argument("figure", help="PNG to write (replaced atomically)")
    args = parser.parse_args(argv)
    rows = rows_from_json(args.results)
    if not rows:
        parser.error(f"{args.results} holds no rows")
    print(format_table(rows))
    plot(rows, args.figure)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
