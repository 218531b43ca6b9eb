"""PPMI time against the number of nonzeros: is it linear?

Co-occurrence counts (window 10, 1/d weights, symmetric) of `tokens` Zipf(1) word ids over 2^20
types, as the scale benchmark counts them, for a doubling series of corpus sizes; for each matrix
``embedcore.ppmi`` is timed `--repeats` times (the minimum and the median are reported), and so are
its two steps on their own (the column sums, and the weighting given them). The exponent is the
slope of log(time) against log(nonzeros) between consecutive sizes and over the whole range
(least squares on the minima). On a machine shared with other work, the minimum of the repeats is
the figure to read.

    python benchmarks/ppmi_scaling.py                          # 1M .. 16M tokens, 3 repeats
    python benchmarks/ppmi_scaling.py --tokens 2M 4M 8M --repeats 5 --workers 1
"""
import argparse
import statistics
import sys
import time

import numpy as np


def size(text):
    units = {"K": 10 ** 3, "M": 10 ** 6, "B": 10 ** 9}
    unit = units.get(text[-1:].upper())
    return int(float(text[:-1]) * unit) if unit else int(text)


def zipf_ids(tokens, types, seed):
    """`tokens` ids drawn from Zipf(1) over `types` types by inverting its cumulative sum."""
    p = 1.0 / np.arange(1, types + 1)
    cdf = np.cumsum(p / p.sum())
    rng = np.random.default_rng(seed)
    return np.minimum(np.searchsorted(cdf, rng.random(tokens)), types - 1).astype(np.int32)


def timed(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=size, nargs="+", default=[10 ** 6, 2 * 10 ** 6, 4 * 10 ** 6,
                                                                  8 * 10 ** 6, 16 * 10 ** 6])
    parser.add_argument("--types", type=int, default=1 << 20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    import embedcore as ec
    from embedcore.backends import cpu
    from embedcore._validation import as_csr
    print(f"load average: {open('/proc/loadavg').read().strip()}", flush=True)
    rows = []
    for tokens in args.tokens:
        cooc = ec.cooccurrence(ec.EncodedCorpus(zipf_ids(tokens, args.types, 0)), args.types, window=10,
                               workers=args.workers)
        csr = as_csr(cooc, "cooc", cpu, args.workers, canonical=True, check_finite=False)
        whole = timed(lambda: ec.ppmi(cooc, workers=args.workers), args.repeats)
        sums = np.zeros(csr.shape[1])

        def column_sums():
            sums[:] = 0
            cpu.ppmi_add_column_sums(csr, sums, args.workers)
        step1 = timed(column_sums, args.repeats)
        step2 = timed(lambda: cpu.ppmi_with_column_sums(csr, sums, 0.75, 1.0, args.workers), args.repeats)
        rows.append((tokens, cooc.nnz, whole, step1, step2))
        print(f"{tokens:>12,} tokens {cooc.nnz:>13,} nonzeros: ppmi min {whole[0]:.3f} s median {whole[1]:.3f} s "
              f"({cooc.nnz / whole[0] / 1e6:.1f}M nonzeros/s); column sums min {step1[0]:.3f} s, weighting min "
              f"{step2[0]:.3f} s", flush=True)
        del cooc, csr
    print(f"load average: {open('/proc/loadavg').read().strip()}\n", flush=True)
    print("| tokens | nonzeros | ppmi s (min / median) | nonzeros/s | column sums s | weighting s | exponent vs previous |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for i, (tokens, nnz, whole, step1, step2) in enumerate(rows):
        slope = "" if i == 0 else \
            f"{np.log(whole[0] / rows[i - 1][2][0]) / np.log(nnz / rows[i - 1][1]):.2f}"
        print(f"| {tokens / 1e6:g}M | {nnz:,} | {whole[0]:.3f} / {whole[1]:.3f} | {nnz / whole[0] / 1e6:.1f}M | "
              f"{step1[0]:.3f} | {step2[0]:.3f} | {slope} |")
    if len(rows) > 1:
        x = np.log([r[1] for r in rows])
        for label, k in (("ppmi", 2), ("column sums", 3), ("weighting", 4)):
            y = np.log([r[k][0] for r in rows])
            print(f"\n{label}: time ~ nonzeros^{np.polyfit(x, y, 1)[0]:.2f} over the range (least squares, minima)",
                  end="")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
