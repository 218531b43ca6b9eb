"""Fuzz every reader for a fixed time each and report executions and findings (for CI).

    python tests/fuzz/run.py [--seconds 600] [--jobs 2] [--out DIR] [--sanitizer address] [TARGET ...]

Each target runs tests/fuzz/fuzz.py under atheris for --seconds, starting from its seeds in
tests/fuzz/corpus/TARGET/ (read only) and growing a working corpus in DIR/TARGET/corpus. A
finding (an exception other than ValueError, a crash, a hang past --timeout seconds, memory past
--rss-limit-mb) is saved by libFuzzer as DIR/TARGET/crash-* (timeout-*, oom-*); reproduce it with
``python tests/fuzz/targets.py TARGET FILE``, fix it, and commit the file to the target's corpus
folder as ``finding-NAME`` so the test suite keeps it fixed. Exit status: 0 when no target found
anything, 1 otherwise.

Coverage: atheris instruments the Python code of the readers. To let the C++ parsers guide the
search too, build the extensions instrumented and run with the sanitizer preloaded:

    CC=clang CXX=clang++ LDSHARED="clang++ -shared" \\
      CFLAGS="-fsanitize=address,fuzzer-no-link -g" LDFLAGS="-fsanitize=address,fuzzer-no-link" \\
      python setup.py build_ext --inplace --force
    python tests/fuzz/run.py --sanitizer address
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from targets import TARGETS  # noqa: E402


def _environment(sanitizer):
    env = dict(os.environ)
    if sanitizer == "address":
        import atheris
        env["LD_PRELOAD"] = os.path.join(atheris.path(), "asan_with_fuzzer.so")
        # Python itself never frees some memory; a huge allocation must fail (MemoryError), not abort
        env["ASAN_OPTIONS"] = "detect_leaks=0:allocator_may_return_null=1:" + env.get("ASAN_OPTIONS", "")
    return env


def fuzz_one(target, seconds, out, timeout, rss_limit_mb, sanitizer):
    """Run one target; returns a dict with its executions, findings and log path."""
    folder = os.path.join(out, target)
    work = os.path.join(folder, "corpus")
    os.makedirs(work, exist_ok=True)
    log = os.path.join(folder, "fuzz.log")
    command = [sys.executable, os.path.join(HERE, "fuzz.py"), target, f"-max_total_time={seconds}",
               f"-timeout={timeout}", f"-rss_limit_mb={rss_limit_mb}", "-print_final_stats=1",
               f"-artifact_prefix={folder}{os.sep}", work, os.path.join(HERE, "corpus", target)]
    start = time.monotonic()
    with open(log, "wb") as f:
        status = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT, env=_environment(sanitizer)).returncode
    with open(log, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    executed = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    done = re.findall(r"Done (\d+) runs", text)
    findings = sorted(name for name in os.listdir(folder) if re.match(r"(crash|timeout|oom|leak|slow-unit)-", name))
    return {"target": target, "status": status, "seconds": time.monotonic() - start,
            "executions": int(executed[-1]) if executed else (int(done[-1]) if done else None),
            "corpus": len(os.listdir(work)), "findings": findings, "log": log}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"default: all ({', '.join(TARGETS)})")
    parser.add_argument("--seconds", type=int, default=600, help="time budget per target (default 600)")
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once (default 1)")
    parser.add_argument("--out", default=os.path.join("build", "fuzz"), help="working folder (default build/fuzz)")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take (default 20)")
    parser.add_argument("--rss-limit-mb", type=int, default=4096)
    parser.add_argument("--sanitizer", choices=["none", "address"], default="none",
                        help="preload atheris's ASan runtime (extensions built instrumented; see above)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    chosen = args.targets or list(TARGETS)
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(lambda t: fuzz_one(t, args.seconds, args.out, args.timeout, args.rss_limit_mb,
                                                    args.sanitizer), chosen))
    print(f"{'target':<18} {'seconds':>8} {'executions':>11} {'corpus':>7}  findings")
    for r in results:
        found = ", ".join(r["findings"]) or ("none" if r["status"] == 0 else f"exit {r['status']}, see {r['log']}")
        print(f"{r['target']:<18} {r['seconds']:8.0f} {r['executions'] or '?':>11} {r['corpus']:>7}  {found}")
    return 0 if all(r["status"] == 0 and not r["findings"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
