"""GPU check: the one run a GPU machine makes. It cannot pass by skipping.

On the GPU machine, from the repository root (CuPy installed; PyTorch optional):

    pip install --no-build-isolation --no-deps .     # the build is not part of this script
    OUT=/some/folder python benchmarks/gpu_check.py  # about 5 minutes on one H100 or H200

What runs, in order (each step a check that passes, fails, or did not run):

1. ``pytest -m cuda tests/``: every GPU test (tests/test_cuda.py and the "cuda" run of every test
   that takes the `device` fixture). A skipped GPU test did not run, so the check fails.
2. GPU against CPU through the public API, each with a quality figure the GPU must reach:
   top-k (cosine_topk on 1M x 128, against the bare cuBLAS GEMM of the same work and the CPU's
   exact results), co-occurrence (equal counts), PPMI (equal values), randomized SVD (equal
   singular values), GloVe (final cost and planted-analogy accuracy), skip-gram and CBOW
   (words/s and planted-analogy accuracy). PyTorch (mm + topk, svd_lowrank) is timed beside
   them when installed; a PyTorch failure is reported and does not count against embedcore.
3. Thread scaling of the CPU kernels (word2vec, GloVe, co-occurrence, top-k) at 1, 2, 4, 8 and
   16 threads (capped at the CPU count).

Everything printed goes to $OUT/gpu_check.log as it happens, and the results so far to
$OUT/gpu_check.json after every step (a run cut short keeps what it measured); pytest's junit
report is $OUT/gpu_tests.xml. `--budget` (seconds, default 330) bounds the whole run: a step
that would start after it is reported as not run.

Exit status: 0 when every check ran and passed; 1 when one failed or did not run; 3 when no GPU
is usable (CuPy missing, no device, a broken driver: nothing ran, the reason is printed).

`--emulate` is a dry run without a GPU: the CUDA operations run on numpy with the kernels
emulated (tests/cuda_emulation.py) at a tiny size, the GPU tests are not run, and the exit
status is 0 when every step's code ran. It checks this script, not the GPU.

`--cpu-only` runs only the thread scaling (no GPU needed).
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NO_GPU_EXIT = 3
THREADS = (1, 2, 4, 8, 16)


class Tee:
    """Writes to the terminal and to a log file, flushing both at once."""

    def __init__(self, stream, path):
        self.stream, self.file = stream, open(path, "a", encoding="utf-8")

    def write(self, text):
        self.stream.write(text)
        self.file.write(text)
        self.stream.flush()
        self.file.flush()
        return len(text)

    def flush(self):
        self.stream.flush()
        self.file.flush()


class Report:
    """Checks (passed / failed / not run), benchmark rows and scaling rows; saved after each step."""

    def __init__(self, out_dir, start):
        self.out_dir, self.start = out_dir, start
        self.checks, self.rows, self.scaling, self.info = [], [], [], {}

    def check(self, name, status, detail=""):
        assert status in ("passed", "failed", "not run")
        self.checks.append({"check": name, "status": status, "detail": detail})
        print(f"[{status.upper()}] {name}: {detail}", flush=True)

    def row(self, case, impl, size, seconds, work=None, unit="", note=""):
        rate = work / seconds if work is not None and seconds else None
        self.rows.append({"case": case, "implementation": impl, "size": size, "seconds": seconds,
                          "rate": rate, "unit": unit, "note": note})
        shown = "-" if rate is None else f"{rate:,.0f} {unit}" if rate >= 100 else f"{rate:.3g} {unit}"
        print(f"  {case:<16} {impl:<34} {size:<30} {_secs(seconds):>9}  {shown:<24} {note}", flush=True)

    def save(self, exit_status=None):
        if not self.out_dir:
            return
        data = {"info": self.info, "elapsed_seconds": time.perf_counter() - self.start, "checks": self.checks,
                "benchmarks": self.rows, "thread_scaling": self.scaling, "exit_status": exit_status}
        path = os.path.join(self.out_dir, "gpu_check.json")
        with open(path + ".part", "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, default=str)
        os.replace(path + ".part", path)

    def failures(self):
        return [c for c in self.checks if c["status"] != "passed"]


def _secs(seconds):
    return "-" if seconds is None else f"{seconds:.4f}s"


class Device:
    """CuPy and its synchronisation, or numpy when emulated."""

    def __init__(self, emulate):
        self.emulated = emulate
        if emulate:
            import scipy.sparse as sparse
            self.xp, self.sparse = np, sparse
        else:
            import cupy
            import cupyx.scipy.sparse as sparse
            self.xp, self.sparse = cupy, sparse

    def sync(self):
        if not self.emulated:
            self.xp.cuda.Device().synchronize()

    def asarray(self, a):
        return self.xp.asarray(a)

    def csr(self, m):
        return self.sparse.csr_matrix(m)

    def host(self, a):
        return a if self.emulated else (a.get() if hasattr(a, "get") else a)

    def free(self):
        if not self.emulated:
            self.xp.get_default_memory_pool().free_all_blocks()

    def time(self, fn, repeat=1):
        """(best seconds, value): the device synchronised before the clock starts and stops."""
        best, value = math.inf, None
        for _ in range(repeat):
            self.sync()
            t = time.perf_counter()
            value = fn()
            self.sync()
            best = min(best, time.perf_counter() - t)
        return best, value


def cpu_time(fn):
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def workers_max():
    return min(16, os.cpu_count() or 1)


# ------------------------------------------------------------------------------------------------
# data

_CORPORA = {}


def corpus(ec, n_tokens, seed):
    """A synthetic corpus with planted analogies (ec.datasets.synthetic_corpus), generated once per
    seed and cut to n_tokens at a sentence end: (vocab, EncodedCorpus, analogy file path)."""
    if seed not in _CORPORA or len(_CORPORA[seed][1].ids) < n_tokens:
        synth = ec.datasets.synthetic_corpus(max(n_tokens, 100_000), 30000, seed=seed)
        path = os.path.join(tempfile.mkdtemp(prefix="gpu_check_"), "analogies.txt")
        synth.write_analogies(path)
        _CORPORA[seed] = (synth.vocab, synth.corpus, path)
    vocab, c, path = _CORPORA[seed]
    if n_tokens < len(c.ids):
        ends = c.offsets[c.offsets <= n_tokens]
        c = ec.EncodedCorpus(c.ids[:ends[-1]], ends)
    return vocab, c, path


def analogy_accuracy(model, path):
    return float(model.wv.evaluate_word_analogies(path)[0])


# ------------------------------------------------------------------------------------------------
# step 1: the GPU tests

def run_gpu_tests(report, out_dir, timeout):
    """pytest -m cuda in a subprocess, its output streamed into the log; passes only when every
    selected test ran and passed (a skip is a test that did not run)."""
    xml = os.path.join(out_dir or tempfile.mkdtemp(prefix="gpu_check_"), "gpu_tests.xml")
    cmd = [sys.executable, "-m", "pytest", "-q", "-rs", "-m", "cuda", "-p", "no:cacheprovider",
           f"--junitxml={xml}", os.path.join(ROOT, "tests")]
    # run from outside the source tree, so the tests import the installed embedcore
    cwd = tempfile.gettempdir()
    print("$", " ".join(cmd), f"(in {cwd})", flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(timeout, proc.kill)  # a hang without output is stopped too
    watchdog.start()
    try:
        for line in proc.stdout:
            print("    " + line.rstrip(), flush=True)
        rc = proc.wait()
    finally:
        timed_out = not watchdog.is_alive()
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    if timed_out:
        report.check("GPU tests", "failed", f"pytest did not finish in {timeout:.0f} s")
        return
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    try:
        for suite in ET.parse(xml).getroot().iter("testsuite"):
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    except (OSError, ET.ParseError) as exc:
        report.check("GPU tests", "failed", f"no junit report ({exc}); pytest exit {rc}")
        return
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    detail = (f"{passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
              f"{counts['skipped']} skipped (a skip did not run), pytest exit {rc}")
    ok = rc == 0 and counts["tests"] > 0 and passed == counts["tests"]
    report.check("GPU tests", "passed" if ok else "failed", detail)


# ------------------------------------------------------------------------------------------------
# step 2: GPU against CPU

def case_topk(report, ec, dev, torch, scale):
    nb, nq, d, k = max(2000, int(1_000_000 * scale)), max(100, int(10_000 * scale)), 128, 10
    rng = np.random.default_rng(0)
    database = rng.standard_normal((nb, d), dtype=np.float32)
    queries = rng.standard_normal((nq, d), dtype=np.float32)
    g_db, g_q = dev.asarray(database), dev.asarray(queries)
    size = f"{nq}x{nb}x{d} k={k}"
    ec.cosine_topk(g_q[:16], g_db[:1024], k=k, device="cuda")  # compile, cuBLAS handles
    seconds, (g_scores, g_idx) = dev.time(lambda: ec.cosine_topk(g_q, g_db, k=k, device="cuda"), repeat=2)
    report.row("top-k", "embedcore GPU", size, seconds, nq, "queries/s")

    def gemm():  # the multiply-adds alone, 1024 queries at a time, into one buffer
        tile = 1024
        buf = dev.xp.empty((tile, nb), dtype=dev.xp.float32)
        for q0 in range(0, nq, tile):
            q = g_q[q0:q0 + tile]
            dev.xp.dot(q, g_db.T, out=buf[:q.shape[0]])
    gemm()
    gemm_seconds, _ = dev.time(gemm, repeat=2)
    report.row("top-k", "cuBLAS GEMM only (same work)", size, gemm_seconds, nq, "queries/s",
               f"top-k / GEMM time {seconds / gemm_seconds:.2f} (target <= 1.2)")

    n_cpu = min(nq, 1000)
    cpu_seconds, (c_scores, c_idx) = cpu_time(
        lambda: ec.cosine_topk(queries[:n_cpu], database, k=k, workers=workers_max(), device="cpu"))
    report.row("top-k", f"embedcore CPU ({workers_max()} threads)", f"{n_cpu}x{nb}x{d} k={k}", cpu_seconds, n_cpu,
               "queries/s")
    g_idx, g_scores = dev.host(g_idx)[:n_cpu], dev.host(g_scores)[:n_cpu]
    same = float((g_idx == c_idx).mean())
    worst = float(np.abs(g_scores - c_scores).max())
    ok = same >= 0.999 and worst <= 1e-5
    report.check("top-k GPU = CPU", "passed" if ok else "failed",
                 f"indices equal {same:.4f} (>= 0.999), max score diff {worst:.1e} (<= 1e-5)")
    if torch is not None:
        try:
            tq, tdb = torch.as_tensor(g_q, device="cuda"), torch.as_tensor(g_db, device="cuda")
            tq = tq / tq.norm(dim=1, keepdim=True)
            tdb = tdb / tdb.norm(dim=1, keepdim=True)

            def torch_topk():
                return [torch.topk(tq[q0:q0 + 1024] @ tdb.T, k, dim=1) for q0 in range(0, nq, 1024)]
            torch_topk()
            t_seconds, _ = dev.time(torch_topk, repeat=2)
            report.row("top-k", f"torch mm+topk {torch.__version__}", size, t_seconds, nq, "queries/s")
        except Exception as exc:  # a peer's failure is reported, not ours
            report.row("top-k", "torch mm+topk", size, None, note=f"peer error {type(exc).__name__}: {exc}"[:100])


def case_count_based(report, ec, dev, torch, scale):
    vocab, c, _ = corpus(ec, max(20_000, int(20_000_000 * scale)), seed=1)
    V, n = len(vocab), len(c.ids)
    size = f"{n:,} tokens, V={V}, window 10"
    ec.cooccurrence(ec.EncodedCorpus(c.ids[:1000], np.array([0, 1000])), V, device="cuda")  # compile
    g_seconds, g_cooc = dev.time(lambda: ec.cooccurrence(c, V, window=10, device="cuda"))
    report.row("cooccurrence", "embedcore GPU", size, g_seconds, n, "tokens/s")
    c_seconds, cooc = cpu_time(lambda: ec.cooccurrence(c, V, window=10, workers=workers_max(), device="cpu"))
    report.row("cooccurrence", f"embedcore CPU ({workers_max()} threads)", size, c_seconds, n, "tokens/s")
    diff = abs(cooc - g_cooc)
    rel = float(diff.max() / abs(cooc).max()) if diff.nnz else 0.0
    ok = cooc.nnz == g_cooc.nnz and rel <= 1e-6
    report.check("co-occurrence GPU = CPU", "passed" if ok else "failed",
                 f"nnz {g_cooc.nnz:,} vs {cooc.nnz:,}, max rel diff {rel:.1e} (<= 1e-6)")

    g_in = dev.csr(cooc)
    ec.ppmi(dev.csr(cooc[:100]), device="cuda")
    g_seconds, g_ppmi = dev.time(lambda: ec.ppmi(g_in, device="cuda"))
    shape = f"{V}x{V}, nnz {cooc.nnz:,}"
    report.row("ppmi", "embedcore GPU", shape, g_seconds, cooc.nnz, "nnz/s")
    c_seconds, p = cpu_time(lambda: ec.ppmi(cooc, workers=workers_max(), device="cpu"))
    report.row("ppmi", f"embedcore CPU ({workers_max()} threads)", shape, c_seconds, cooc.nnz, "nnz/s")
    g_host = dev.host(g_ppmi)
    diff = abs(p - g_host)
    worst = float(diff.max()) if diff.nnz else 0.0
    report.check("PPMI GPU = CPU", "passed" if p.nnz == g_host.nnz and worst <= 1e-4 else "failed",
                 f"nnz {g_host.nnz:,} vs {p.nnz:,}, max abs diff {worst:.1e} (<= 1e-4)")

    k = min(100, V - 20)
    svd_size = f"{V}x{V} PPMI, k={k}, 4 iterations"
    g_p = dev.csr(p)
    ec.randomized_svd(dev.csr(p[:500, :500]), 5, device="cuda")
    g_seconds, (_, g_s, _) = dev.time(lambda: ec.randomized_svd(g_p, k, n_iter=4, seed=0, device="cuda"))
    report.row("randomized SVD", "embedcore GPU", svd_size, g_seconds)
    c_seconds, (_, c_s, _) = cpu_time(lambda: ec.randomized_svd(p, k, n_iter=4, seed=0, workers=workers_max(),
                                                                device="cpu"))
    report.row("randomized SVD", f"embedcore CPU ({workers_max()} threads)", svd_size, c_seconds)
    g_s = dev.host(g_s).astype(np.float64)
    rel = float(np.max(np.abs(g_s - c_s) / c_s))
    report.check("randomized SVD GPU = CPU", "passed" if rel <= 1e-3 else "failed",
                 f"max rel diff of the singular values {rel:.1e} (<= 1e-3)")
    if torch is not None:
        try:
            coo = p.tocoo()
            t = torch.sparse_coo_tensor(np.vstack([coo.row, coo.col]), coo.data, coo.shape, device="cuda").coalesce()
            torch.svd_lowrank(t, q=k + 10, niter=1)
            t_seconds, (_, ts, _) = dev.time(lambda: torch.svd_lowrank(t, q=k + 10, niter=4))
            rel = float(np.max(np.abs(ts[:k].cpu().numpy() - c_s) / c_s))
            report.row("randomized SVD", f"torch svd_lowrank {torch.__version__}", svd_size, t_seconds,
                       note=f"singular values rel diff {rel:.1e}")
        except Exception as exc:
            report.row("randomized SVD", "torch svd_lowrank", svd_size, None,
                       note=f"peer error {type(exc).__name__}: {exc}"[:100])


def case_glove(report, ec, dev, scale):
    vocab, c, path = corpus(ec, max(5_000, int(5_000_000 * scale)), seed=3)
    cooc = ec.cooccurrence(c, len(vocab), window=10, workers=workers_max(), device="cpu")
    epochs = 10 if not dev.emulated else 1
    results = {}
    for device in ("cuda", "cpu"):
        model = ec.GloVe(vector_size=100, epochs=epochs, workers=workers_max(), seed=1, device=device)
        model.fit(cooc, vocab=vocab)
        seconds = model.stats["train_seconds"] / epochs
        acc = analogy_accuracy(model, path)
        results[device] = (model.loss_history[-1], acc)
        report.row("GloVe", f"embedcore {'GPU' if device == 'cuda' else 'CPU'}", f"nnz {cooc.nnz:,}, dim 100",
                   seconds, cooc.nnz, "nnz/s", f"epoch {epochs} cost {model.loss_history[-1]:.4f}, analogies {acc:.3f}")
    (g_cost, g_acc), (c_cost, c_acc) = results["cuda"], results["cpu"]
    ok = math.isfinite(g_cost) and g_cost <= c_cost * 1.05 and g_acc >= c_acc - 0.02
    report.check("GloVe GPU quality", "passed" if ok else "failed",
                 f"final cost GPU {g_cost:.4f} CPU {c_cost:.4f} (GPU <= CPU x 1.05); analogies GPU {g_acc:.3f} "
                 f"CPU {c_acc:.3f} (GPU >= CPU - 0.02)")


def case_word2vec(report, ec, dev, scale):
    vocab, c, path = corpus(ec, max(5_000, int(5_000_000 * scale)), seed=3)
    epochs = 3 if not dev.emulated else 1
    for sg, name in ((1, "skip-gram"), (0, "CBOW")):
        results = {}
        for device in ("cuda", "cpu"):
            model = ec.Word2Vec(vector_size=100, window=5, negative=5, sg=sg, epochs=epochs, min_count=1,
                                workers=workers_max(), seed=1, device=device)
            model.fit(c, vocab=vocab)
            acc = analogy_accuracy(model, path)
            results[device] = acc
            report.row(name, f"embedcore {'GPU' if device == 'cuda' else 'CPU'}", f"{len(c.ids):,} tokens x {epochs}",
                       model.stats["train_seconds"], model.stats["words_trained"], "words/s",
                       f"analogies {acc:.3f}" + (" (target >= 20M words/s on one H100)"
                                                 if device == "cuda" and sg else ""))
        ok = results["cuda"] >= results["cpu"] - 0.02
        report.check(f"{name} GPU quality", "passed" if ok else "failed",
                     f"analogies GPU {results['cuda']:.3f} CPU {results['cpu']:.3f} (GPU >= CPU - 0.02)")


# ------------------------------------------------------------------------------------------------
# step 3: thread scaling on the CPU

def case_threads(report, ec, scale):
    counts = [t for t in THREADS if t <= (os.cpu_count() or 1)]
    vocab, c, _ = corpus(ec, max(5_000, int(2_000_000 * scale)), seed=3)
    V, n = len(vocab), len(c.ids)
    cooc = ec.cooccurrence(c, V, window=10, device="cpu")
    rng = np.random.default_rng(0)
    db = rng.standard_normal((max(2000, int(200_000 * scale)), 128), dtype=np.float32)
    q = db[:max(100, int(2000 * scale))].copy()
    kernels = {
        "word2vec skip-gram": (n, "words", lambda w: ec.Word2Vec(vector_size=100, epochs=1, min_count=1, workers=w,
                                                                  device="cpu").fit(c, vocab=vocab)),
        "GloVe epoch": (cooc.nnz, "nnz", lambda w: ec.GloVe(vector_size=100, epochs=1, workers=w,
                                                            device="cpu").fit(cooc, vocab=vocab)),
        "co-occurrence": (n, "tokens", lambda w: ec.cooccurrence(c, V, window=10, workers=w, device="cpu")),
        "top-k": (len(q), "queries", lambda w: ec.cosine_topk(q, db, k=10, workers=w, device="cpu")),
    }
    print(f"  {'kernel':<20} " + " ".join(f"{t:>12}" for t in counts) + "   (speed-up over 1 thread)")
    for name, (work, unit, run) in kernels.items():
        run(counts[-1])  # warm-up (pages, caches)
        times = [cpu_time(lambda: run(t))[0] for t in counts]
        for t, s in zip(counts, times):
            report.scaling.append({"kernel": name, "threads": t, "seconds": s, "rate": work / s, "unit": f"{unit}/s",
                                   "speedup": times[0] / s})
        print(f"  {name:<20} " + " ".join(f"{times[0] / s:>11.2f}x" for s in times) +
              f"   1 thread {work / times[0]:,.0f} {unit}/s", flush=True)
    report.check("CPU thread scaling", "passed", f"threads {counts}, {len(kernels)} kernels")


# ------------------------------------------------------------------------------------------------

def try_torch():
    try:
        import torch
        return torch if torch.cuda.is_available() else None
    except Exception:  # missing or without CUDA: the peer rows are left out, ours still run
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.environ.get("OUT"), help="results folder (default $OUT)")
    parser.add_argument("--budget", type=float, default=330.0, help="seconds for the whole run (default 330)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every problem size (default 1)")
    parser.add_argument("--emulate", action="store_true", help="dry run on numpy with emulated kernels")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU thread scaling")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    stdout = sys.stdout
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        sys.stdout = Tee(stdout, os.path.join(args.out, "gpu_check.log"))
    try:
        report = Report(args.out, start)
        status = run(args, report, start)
        report.save(status)
        return status
    finally:
        if sys.stdout is not stdout:
            sys.stdout.file.close()
            sys.stdout = stdout


def run(args, report, start):
    try:
        import embedcore as ec
        from embedcore.backends.cuda import probe
    except ImportError as exc:
        print(f"embedcore is not importable ({exc}); build it first: pip install --no-build-isolation --no-deps .")
        return 1
    report.info = {"embedcore": ec.__version__, "embedcore_path": os.path.dirname(ec.__file__),
                   "python": platform.python_version(), "cpus": os.cpu_count(), "build": ec.build_info(),
                   "scale": args.scale, "emulated": args.emulate}
    print(f"embedcore {ec.__version__} from {report.info['embedcore_path']}; {os.cpu_count()} CPUs", flush=True)

    def left():
        return args.budget - (time.perf_counter() - start)

    def step(name, fn, needs=20):
        if left() < needs:
            report.check(name, "not run", f"time budget spent ({args.budget:.0f} s)")
            return
        print(f"\n== {name} ({left():.0f} s left)", flush=True)
        try:
            fn()
        except Exception as exc:  # one broken step must not hide the others
            import traceback
            traceback.print_exc(file=sys.stdout)
            report.check(name, "failed", f"{type(exc).__name__}: {exc}"[:300])
        report.save()

    if args.cpu_only:
        step("CPU thread scaling", lambda: case_threads(report, ec, args.scale))
        return summary(report)

    if args.emulate:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        import pytest
        import cuda_emulation
        patch = pytest.MonkeyPatch()
        cuda_emulation.install(patch)
        print("EMULATED: the CUDA operations run on numpy with emulated kernels; no GPU is checked", flush=True)
        report.info["device"] = "emulated"
    else:
        usable, reason = probe._probe()
        if not usable:
            print(f"NO GPU: {reason}")
            print("gpu_check needs CuPy and a CUDA GPU; nothing was checked (exit 3).")
            report.check("GPU", "not run", reason)
            return NO_GPU_EXIT
        report.info["device"] = probe.device_name()
        import cupy
        report.info["cupy"] = cupy.__version__
        report.info["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        print(f"GPU: {report.info['device']}, CuPy {cupy.__version__}", flush=True)
    dev = Device(args.emulate)
    torch = None if args.emulate else try_torch()
    report.info["torch"] = getattr(torch, "__version__", None)

    if args.emulate:
        print("(the GPU tests need a GPU: not run in an emulated run)", flush=True)
    else:
        step("GPU tests", lambda: run_gpu_tests(report, args.out, timeout=max(30.0, min(150.0, left() - 120))))
        from embedcore.backends.cuda import loader
        t = time.perf_counter()
        loader.compile_all()
        print(f"NVRTC compiled every kernel in {time.perf_counter() - t:.1f} s (not in the timings)", flush=True)

    print(f"\n  {'case':<16} {'implementation':<34} {'size':<30} {'seconds':>9}  {'rate':<24} note")
    scale = args.scale
    step("top-k", lambda: case_topk(report, ec, dev, torch, scale))
    step("count-based", lambda: case_count_based(report, ec, dev, torch, scale))
    step("GloVe", lambda: case_glove(report, ec, dev, scale))
    step("word2vec", lambda: case_word2vec(report, ec, dev, scale), needs=40)
    dev.free()
    step("CPU thread scaling", lambda: case_threads(report, ec, scale), needs=30)
    return summary(report)


def summary(report):
    print("\n== summary")
    for c in report.checks:
        print(f"  {c['status']:<8} {c['check']}: {c['detail']}")
    bad = report.failures()
    if bad:
        print(f"GPU CHECK FAILED: {len(bad)} check(s) failed or did not run: " + ", ".join(c["check"] for c in bad))
        return 1
    print("all checks ran and passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
