"""GPU check: run the CUDA tests, then time every GPU kernel against the CPU path and PyTorch.

On a machine with a GPU, CuPy and (optionally) PyTorch, from the repository root:

    pip install --no-build-isolation --no-deps .
    python benchmarks/gpu_check.py                # tests + full-size timings, under 6 minutes on one H100
    python benchmarks/gpu_check.py --scale 0.1    # smaller cases (debugging)
    python benchmarks/gpu_check.py --skip-tests   # timings only

What runs: `pytest -m cuda tests/` (tests/test_cuda.py and every test that takes the `device`
fixture, on the GPU), then one case per kernel, each timed after a warm-up (NVRTC compilation
is done before any clock starts; the device is synchronised before every clock stops):

  top-k     1M x 128 database, 10,000 queries, k=10: embedcore GPU, the bare cuBLAS GEMMs of the
            same tiles, torch.mm + torch.topk, and the CPU path (on 1,000 of the queries)
  cooc      co-occurrence counts of a synthetic corpus (window 10), GPU vs CPU
  ppmi/svd  PPMI of that count, randomized SVD (k=100, 4 power iterations): GPU, CPU,
            torch.linalg.svd_lowrank
  glove     one GloVe epoch (dim 100) over that count's nonzeros, GPU vs CPU
  sgns/cbow one word2vec epoch on a 50M-token synthetic corpus (dim 100, window 5, negative 5),
            GPU vs CPU (on 5M tokens); then planted-analogy accuracy after 5 epochs on 5M tokens,
            GPU vs CPU

Each GPU result is checked against its reference (CPU result or PyTorch) and the table says so.

Exit status: 0 when every GPU test passed and every check agreed; 1 when a GPU test, a check or
a case failed. Without a usable GPU (no CuPy, no device, a broken driver) it prints a line
starting with "NO GPU:" and exits 0, or 3 with --require-gpu.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

import numpy as np  # noqa: E402

NO_GPU_EXIT = 3


class Table:
    """Rows of (case, implementation, size, seconds, rate, unit, check)."""

    def __init__(self):
        self.rows = []
        self.failed = []

    def add(self, case, impl, size, seconds, work=None, unit="", check=""):
        rate = work / seconds if work is not None and seconds and seconds > 0 else None
        self.rows.append((case, impl, size, seconds, rate, unit, check))
        if check.startswith("FAIL") or check.startswith("ERROR"):
            self.failed.append(f"{case} / {impl}: {check}")

    def error(self, case, exc):
        self.rows.append((case, "-", "-", None, None, "", f"ERROR {type(exc).__name__}: {exc}"[:120]))
        self.failed.append(f"{case}: {type(exc).__name__}: {exc}")

    def print(self, title):
        print()
        print(title)
        header = ("case", "implementation", "size", "seconds", "rate", "vs GPU", "check")
        lines = [header]
        gpu_rate = {}
        for case, impl, size, seconds, rate, unit, check in self.rows:
            if impl.startswith("embedcore GPU") and rate is not None:
                gpu_rate.setdefault(case, rate)
        for case, impl, size, seconds, rate, unit, check in self.rows:
            ratio = ""
            if rate and case in gpu_rate and not impl.startswith("embedcore GPU"):
                ratio = f"{gpu_rate[case] / rate:.2f}x"
            lines.append((case, impl, size, "-" if seconds is None else f"{seconds:.4f}",
                          "-" if rate is None else f"{rate:,.0f} {unit}" if rate >= 100 else f"{rate:.3g} {unit}",
                          ratio, check))
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for n, line in enumerate(lines):
            print("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip())
            if n == 0:
                print("  ".join("-" * w for w in widths))
        print("(vs GPU: how many times faster embedcore's GPU path is than that row, by rate)")


def no_gpu(reason, require):
    print(f"NO GPU: {reason}")
    print("gpu_check needs CuPy and a CUDA GPU; nothing was run.")
    return NO_GPU_EXIT if require else 0


def run_tests(timeout, package_dir):
    """pytest -m cuda over tests/ in a subprocess; returns (passed, summary line). The tests import
    the same embedcore as this script: the installed one (run from a neutral directory, so the
    source tree does not shadow it) or an in-place build (run from the repository root)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider", os.path.join(ROOT, "tests")]
    in_tree = os.path.commonpath([package_dir, ROOT]) == ROOT
    cwd = ROOT if in_tree else tempfile.gettempdir()
    print("$", " ".join(cmd), f"(in {cwd})", flush=True)
    try:
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"pytest did not finish in {timeout} s"
    out = result.stdout.strip().splitlines()
    summary = out[-1] if out else result.stderr.strip()[-300:]
    if result.returncode != 0:
        print("\n".join(out[-60:]))
        print(result.stderr[-2000:])
    # 5 = nothing collected; all skipped means the tests saw no GPU: both are failures here
    return result.returncode == 0 and " passed" in summary, summary


def timer(cp):
    def measure(fn, repeat=1):
        best = math.inf
        value = None
        for _ in range(repeat):
            cp.cuda.Device().synchronize()
            start = time.perf_counter()
            value = fn()
            cp.cuda.Device().synchronize()
            best = min(best, time.perf_counter() - start)
        return best, value
    return measure


def cpu_timer(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def try_torch():
    try:
        import torch
        if torch.cuda.is_available():
            return torch
    except Exception:  # torch missing or without CUDA
        pass
    return None


# ----------------------------------------------------------------------------------------------
# cases

def case_topk(table, cp, cuda, ec, torch, scale):
    measure = timer(cp)
    nb, nq, d, k = int(1_000_000 * scale), int(10_000 * scale), 128, 10
    rng = cp.random.default_rng(0)
    database = rng.standard_normal((nb, d), dtype=cp.float32)
    queries = rng.standard_normal((nq, d), dtype=cp.float32)
    database /= cp.linalg.norm(database, axis=1, keepdims=True)
    queries /= cp.linalg.norm(queries, axis=1, keepdims=True)
    size = f"{nq}x{nb}x{d} k={k}"
    cuda.topk(queries[:64], database[:4096], k, normalized=True)  # warm-up
    seconds, (scores, indices) = measure(lambda: cuda.topk(queries, database, k, normalized=True), repeat=2)
    table.add("top-k", "embedcore GPU", size, seconds, nq, "queries/s")

    tq = max(1, min(nq, 4096))
    tb = max(1, min(nb, (1 << 26) // tq))
    buffer = cp.empty(tq * tb, dtype=cp.float32)

    def gemm_only():
        for q0 in range(0, nq, tq):
            for b0 in range(0, nb, tb):
                qt, bt = queries[q0:q0 + tq], database[b0:b0 + tb]
                cp.dot(qt, bt.T, out=buffer[:qt.shape[0] * bt.shape[0]].reshape(qt.shape[0], bt.shape[0]))
    gemm_only()
    seconds, _ = measure(gemm_only, repeat=2)
    table.add("top-k", "cuBLAS GEMM only (same tiles)", size, seconds, nq, "queries/s")

    host_idx = indices[:200].get()
    if torch is not None:
        tq_t = torch.as_tensor(queries, device="cuda")
        tdb = torch.as_tensor(database, device="cuda")
        tile = 1024

        def torch_topk():
            parts_s, parts_i = [], []
            for q0 in range(0, nq, tile):
                s, i = torch.topk(torch.mm(tq_t[q0:q0 + tile], tdb.T), k, dim=1)
                parts_s.append(s)
                parts_i.append(i)
            return torch.cat(parts_s), torch.cat(parts_i)
        torch_topk()
        seconds, (ts, ti) = measure(torch_topk, repeat=2)
        agree = float((ti[:200].cpu().numpy() == host_idx).mean())
        table.add("top-k", f"torch.mm+torch.topk {torch.__version__}", size, seconds, nq, "queries/s",
                  "ok" if agree >= 0.99 else f"FAIL indices agree {agree:.3f}")
    fn = getattr(ec, "cosine_topk", None)
    if fn is not None:
        n_cpu = min(nq, 1000)
        q_host, db_host = queries[:n_cpu].get(), database.get()
        seconds, (cs, ci) = cpu_timer(lambda: fn(q_host, db_host, k, normalized=True, device="cpu"))
        agree = float((ci[:200] == host_idx[:min(200, n_cpu)]).mean())
        table.add("top-k", "embedcore CPU", f"{n_cpu}x{nb}x{d} k={k}", seconds, n_cpu, "queries/s",
                  "ok" if agree >= 0.99 else f"FAIL indices agree {agree:.3f}")


def synthetic(ec, n_tokens, vocab_size, seed=0):
    # the generator needs enough tokens to plant every related word (small --scale values)
    return ec.datasets.synthetic_corpus(max(int(n_tokens), 100_000), vocab_size, seed=seed)


def case_count_based(table, cp, cuda, ec, torch, scale):
    measure = timer(cp)
    synth = synthetic(ec, int(20_000_000 * scale), 30000, seed=1)
    V = len(synth.vocab)
    ids, offsets = synth.corpus.ids, synth.corpus.offsets
    d_ids, d_offsets = cp.asarray(ids), cp.asarray(offsets)
    size = f"{len(ids):,} tokens, V={V}, window 10"
    warm = min(len(ids), 10000)
    cuda.cooccurrence(d_ids[:warm], cp.asarray(np.array([0, warm], dtype=np.int64)), V, window=10)  # warm-up
    seconds, cooc = measure(lambda: cuda.cooccurrence(d_ids, d_offsets, V, window=10))
    table.add("cooccurrence", "embedcore GPU", size, seconds, len(ids), "tokens/s", f"nnz {cooc.nnz:,}")
    cooc_host = cooc.get()
    fn = getattr(ec, "cooccurrence", None)
    if fn is not None:
        seconds, ref = cpu_timer(lambda: fn(synth.corpus, V, window=10, device="cpu"))
        diff = abs(ref - cooc_host)
        worst = float(diff.max() / max(1e-30, abs(ref).max())) if diff.nnz else 0.0
        check = "ok" if ref.nnz == cooc_host.nnz and worst <= 1e-6 else f"FAIL nnz {ref.nnz} vs {cooc_host.nnz}, rel {worst:.2e}"
        table.add("cooccurrence", "embedcore CPU", size, seconds, len(ids), "tokens/s", check)

    cuda.ppmi(cooc[:100])  # warm-up
    seconds, ppmi_dev = measure(lambda: cuda.ppmi(cooc))
    table.add("ppmi", "embedcore GPU", f"{V}x{V}, nnz {cooc.nnz:,}", seconds, cooc.nnz, "nnz/s")
    fn = getattr(ec, "ppmi", None)
    ppmi_host = ppmi_dev.get()
    if fn is not None:
        seconds, ref = cpu_timer(lambda: fn(cooc_host))
        diff = abs(ref - ppmi_host)
        worst = float(diff.max()) if diff.nnz else 0.0
        table.add("ppmi", "embedcore CPU", f"{V}x{V}, nnz {cooc.nnz:,}", seconds, cooc.nnz, "nnz/s",
                  "ok" if worst <= 1e-4 else f"FAIL max abs diff {worst:.2e}")

    k = 100
    svd_size = f"{V}x{V} PPMI, k={k}, 4 iters"
    cuda.randomized_svd(ppmi_dev[:2000, :2000], 10)  # warm-up (cuSOLVER handles, cuSPARSE)
    seconds, (U, S, Vt) = measure(lambda: cuda.randomized_svd(ppmi_dev, k, n_iter=4, seed=0))
    table.add("randomized SVD", "embedcore GPU", svd_size, seconds, 1, "runs/s")
    s_gpu = S.get().astype(np.float64)
    fn = getattr(ec, "randomized_svd", None)
    if fn is not None:
        seconds, (_, s_cpu, _) = cpu_timer(lambda: fn(ppmi_host, k, n_iter=4, seed=0, device="cpu"))
        rel = float(np.max(np.abs(s_cpu - s_gpu) / s_cpu))
        table.add("randomized SVD", "embedcore CPU", svd_size, seconds, 1, "runs/s",
                  "ok" if rel <= 1e-4 else f"FAIL singular values rel {rel:.2e}")
    if torch is not None:
        coo = ppmi_host.tocoo()
        t_sparse = torch.sparse_coo_tensor(np.vstack([coo.row, coo.col]), coo.data, coo.shape, device="cuda").coalesce()
        torch.svd_lowrank(t_sparse, q=k + 10, niter=1)
        seconds, (_, ts, _) = measure(lambda: torch.svd_lowrank(t_sparse, q=k + 10, niter=4))
        rel = float(np.max(np.abs(ts[:k].cpu().numpy() - s_gpu) / s_gpu))
        table.add("randomized SVD", "torch.svd_lowrank (sparse)", svd_size, seconds, 1, "runs/s",
                  f"singular values rel diff {rel:.1e}")

    # GloVe epoch over the same count
    records = cuda.glove_records(cooc, 100.0, 0.75, seed=0)
    n_words, dim = V, 100
    rng = np.random.default_rng(0)

    def params():
        return {"word": cp.asarray(((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32)),
                "context": cp.asarray(((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32)),
                "word_bias": cp.zeros(n_words, dtype=cp.float32), "context_bias": cp.zeros(n_words, dtype=cp.float32),
                "word_gradsq": cp.ones((n_words, dim), dtype=cp.float32),
                "context_gradsq": cp.ones((n_words, dim), dtype=cp.float32),
                "word_bias_gradsq": cp.ones(n_words, dtype=cp.float32),
                "context_bias_gradsq": cp.ones(n_words, dtype=cp.float32)}
    p = params()
    cuda.glove_epoch(records[:1000], p, 0.05, 1.0)  # warm-up
    seconds, cost = measure(lambda: cuda.glove_epoch(records, p, 0.05, 1.0))
    second = cuda.glove_epoch(records, p, 0.05, 1.0)
    table.add("GloVe epoch", "embedcore GPU", f"{records.shape[0]:,} nonzeros, dim {dim}", seconds,
              records.shape[0], "nnz/s", "ok" if math.isfinite(cost) and second < cost else f"FAIL cost {cost} -> {second}")
    cls = getattr(ec, "GloVe", None)
    if cls is not None:
        model = cls(vector_size=dim, epochs=1, device="cpu").fit(cooc_host, vocab=synth.vocab.words)
        seconds = model.stats["epoch_seconds"][0]
        gpu_cost = cost / records.shape[0]
        cpu_cost = model.loss_history[0]
        table.add("GloVe epoch", "embedcore CPU", f"{records.shape[0]:,} nonzeros, dim {dim}", seconds,
                  records.shape[0], "nnz/s", f"epoch-1 cost CPU {cpu_cost:.4f} GPU {gpu_cost:.4f}")


def noise_tables(counts):
    """(keep, prob, alias) as the CPU builds them (embedcore._sgd when present, else numpy)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    try:
        from embedcore import _sgd
        prob, alias = _sgd.word2vec_noise_table(counts, 0.75)
        keep = _sgd.word2vec_keep_table(counts, 1e-3, int(counts.sum()))
        return keep, prob, alias
    except (ImportError, AttributeError):
        pass
    f = counts / counts.sum()
    p_keep = np.minimum(1.0, (np.sqrt(f / 1e-3) + 1) * 1e-3 / f)
    keep = np.where(p_keep >= 1, 2**32, (p_keep * 2**32)).astype(np.uint64)
    p = counts.astype(np.float64) ** 0.75
    p = p * len(p) / p.sum()
    prob = np.full(len(p), 0xFFFFFFFF, dtype=np.uint32)
    alias = np.arange(len(p), dtype=np.int32)
    small = [i for i in range(len(p)) if p[i] < 1]
    large = [i for i in range(len(p)) if p[i] >= 1]
    while small and large:  # Vose's alias method
        s, g = small.pop(), large.pop()
        prob[s] = min(0xFFFFFFFF, int(p[s] * 2**32))
        alias[s] = g
        p[g] -= 1 - p[s]
        (small if p[g] < 1 else large).append(g)
    return keep, prob, alias


def case_word2vec(table, cp, cuda, ec, scale, budget_left):
    measure = timer(cp)
    synth = synthetic(ec, int(50_000_000 * scale), 30000, seed=2)
    keep, prob, alias = noise_tables(synth.vocab.counts)
    V, dim = len(synth.vocab), 100
    d_ids, d_offsets = cp.asarray(synth.corpus.ids), cp.asarray(synth.corpus.offsets)
    d_keep, d_prob, d_alias = cp.asarray(keep), cp.asarray(prob), cp.asarray(alias)
    n = len(synth.corpus.ids)
    for sg, name in ((True, "skip-gram"), (False, "CBOW")):
        rng = np.random.default_rng(0)
        inp = cp.asarray(((rng.random((V, dim), dtype=np.float32) - 0.5) / dim))
        out = cp.zeros((V, dim), dtype=cp.float32)
        alpha = 0.025 if sg else 0.05
        warm = min(n, 100000)
        cuda.sgns_epoch(d_ids[:warm], cp.asarray(np.array([0, warm], dtype=np.int64)), inp, out, d_prob, d_alias,
                        d_keep, 5, 5, alpha, 1e-4, sg, True, 1, 0, 0, warm)  # warm-up
        seconds, (loss, kept) = measure(lambda: cuda.sgns_epoch(d_ids, d_offsets, inp, out, d_prob, d_alias, d_keep,
                                                                5, 5, alpha, 1e-4, sg, True, 1, 0, 0, n))
        ok = math.isfinite(loss) and bool(cp.isfinite(inp).all())
        table.add(name, "embedcore GPU", f"{n:,} tokens, 1 epoch", seconds, n, "words/s",
                  "ok" if ok else "FAIL non-finite loss or vectors")
        cls = getattr(ec, "Word2Vec", None)
        if cls is not None and budget_left() > 60:
            sub = min(n, 5_000_000)
            corpus = ec.EncodedCorpus(synth.corpus.ids[:sub], np.append(
                synth.corpus.offsets[synth.corpus.offsets < sub], sub))
            model = cls(vector_size=dim, window=5, negative=5, sg=int(sg), epochs=1, min_count=1, device="cpu")
            model.fit(corpus, vocab=synth.vocab)
            table.add(name, "embedcore CPU", f"{sub:,} tokens, 1 epoch", model.stats["train_seconds"], sub, "words/s")


def case_word2vec_quality(table, cp, cuda, ec, scale):
    """Planted-analogy accuracy after 5 epochs on 5M tokens, GPU vs CPU (within 1 point)."""
    cls = getattr(ec, "Word2Vec", None)
    synth = synthetic(ec, int(5_000_000 * min(1.0, scale * 4)), 30000, seed=3)
    keep, prob, alias = noise_tables(synth.vocab.counts)
    V, dim = len(synth.vocab), 100
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "analogies.txt")
        synth.write_analogies(path)
        for sg, name in ((True, "skip-gram"), (False, "CBOW")):
            if cls is not None:  # the public path
                model = cls(vector_size=dim, window=5, negative=5, sg=int(sg), epochs=5, min_count=1, device="cuda")
                vectors = model.fit(synth.corpus, vocab=synth.vocab).wv.vectors
            else:
                rng = np.random.default_rng(0)
                inp = cp.asarray(((rng.random((V, dim), dtype=np.float32) - 0.5) / dim))
                out = cp.zeros((V, dim), dtype=cp.float32)
                alpha = 0.025 if sg else 0.05
                cuda.word2vec_train(synth.corpus.ids, synth.corpus.offsets, inp, out, prob, alias, keep, 5, 5, alpha,
                                    1e-4, 5, sg=sg, seed=1)
                vectors = inp.get()
            kv = ec.KeyedVectors(synth.vocab.words, vectors)
            if not hasattr(kv, "evaluate_word_analogies"):
                table.add(f"{name} quality", "embedcore GPU", "-", None, None, "", "n/a: no analogy evaluation")
                continue
            gpu_acc = kv.evaluate_word_analogies(path)[0]
            check = f"analogy acc GPU {gpu_acc:.3f}"
            if cls is not None:
                model = cls(vector_size=dim, window=5, negative=5, sg=int(sg), epochs=5, min_count=1, device="cpu")
                cpu_acc = model.fit(synth.corpus, vocab=synth.vocab).wv.evaluate_word_analogies(path)[0]
                verdict = "ok" if gpu_acc >= cpu_acc - 0.01 else "FAIL more than 1 point below the CPU"
                check = f"{verdict}: analogy acc GPU {gpu_acc:.3f} CPU {cpu_acc:.3f}"
            table.add(f"{name} quality", "embedcore GPU", f"{len(synth.corpus):,} tokens, 5 epochs", None, None, "",
                      check)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every problem size (default 1)")
    parser.add_argument("--skip-tests", action="store_true", help="timings only")
    parser.add_argument("--require-gpu", action="store_true",
                        help=f"exit {NO_GPU_EXIT} instead of 0 when no GPU is usable")
    parser.add_argument("--budget", type=float, default=330.0, help="seconds after which cases are skipped")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    try:  # the installed package first; else an in-place build of this tree
        import embedcore  # noqa: F401
    except ImportError:
        sys.path.insert(0, ROOT)
    try:
        import embedcore as ec
        from embedcore.backends import cuda
    except ImportError as exc:
        print(f"embedcore is not importable ({exc}): pip install --no-build-isolation --no-deps . "
              f"or python setup.py build_ext --inplace", file=sys.stderr)
        return 1
    usable, reason = cuda._probe()
    if not usable:
        return no_gpu(reason, args.require_gpu)

    import cupy as cp
    torch = try_torch()
    print(f"GPU: {cuda.device_name()}  CuPy {cp.__version__}  CUDA runtime {cp.cuda.runtime.runtimeGetVersion()}  "
          f"PyTorch {torch.__version__ if torch is not None else 'not installed'}  embedcore {ec.__version__}")

    tests_ok, summary = True, "skipped"
    if not args.skip_tests:
        tests_ok, summary = run_tests(150, os.path.dirname(os.path.abspath(ec.__file__)))
        print(f"GPU tests: {summary}", flush=True)

    compile_start = time.perf_counter()
    names = cuda.compile_all()
    print(f"compiled {len(names)} kernels with NVRTC in {time.perf_counter() - compile_start:.1f} s (not timed below)")

    table = Table()

    def budget_left():
        return args.budget - (time.perf_counter() - start)

    cases = [("top-k", lambda: case_topk(table, cp, cuda, ec, torch, args.scale)),
             ("count-based", lambda: case_count_based(table, cp, cuda, ec, torch, args.scale)),
             ("word2vec", lambda: case_word2vec(table, cp, cuda, ec, args.scale, budget_left)),
             ("word2vec quality", lambda: case_word2vec_quality(table, cp, cuda, ec, args.scale))]
    for name, run in cases:
        if budget_left() < 20:
            table.rows.append((name, "-", "-", None, None, "", "skipped: time budget spent"))
            continue
        print(f"case {name} ...", flush=True)
        try:
            run()
        except Exception as exc:  # one broken case must not hide the others
            table.error(name, exc)
        cp.get_default_memory_pool().free_all_blocks()

    table.print(f"embedcore GPU check on {cuda.device_name()} (total {time.perf_counter() - start:.0f} s)")
    if not tests_ok:
        print(f"GPU TESTS FAILED: {summary}")
    for failure in table.failed:
        print(f"CHECK FAILED: {failure}")
    return 0 if tests_ok and not table.failed else 1


if __name__ == "__main__":
    sys.exit(main())
