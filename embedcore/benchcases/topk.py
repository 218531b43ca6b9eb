"""Exact cosine top-k: embedcore.cosine_topk against faiss IndexFlatIP and a numpy baseline.

Every side does the same work: normalise queries and database, then find the k best rows per
query. faiss gets its index built from the normalised database (inside the timed region, since a
user searching a fresh set of vectors waits for it too); numpy does blocked matmul + argpartition.
Quality is recall@k and the largest score error against a float64 reference on a sample of queries.
"""
import time

import numpy as np

from embedcore.benchcases._registry import Row, case

# the numpy baseline's score block: at most this many floats at once (256 MiB)
_NUMPY_BLOCK_FLOATS = 64 << 20


def random_unit_rows(n, d, seed):
    """Gaussian rows (float32); the search normalises them itself."""
    return np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)


def _normalized(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def faiss_topk(queries, database, k, workers):
    """faiss IndexFlatIP on normalised rows: (scores, indices)."""
    import faiss
    faiss.omp_set_num_threads(workers)
    db = _normalized(database)
    index = faiss.IndexFlatIP(db.shape[1])
    index.add(db)
    return index.search(_normalized(queries), k)


def numpy_topk(queries, database, k, timings=None):
    """Blocked matmul + argpartition + sort of the k: (scores, indices); adds the matmul seconds
    to timings["matmul"] when given."""
    db = _normalized(database)
    q = _normalized(queries)
    nq, nb = len(q), len(db)
    block = max(1, min(nq, _NUMPY_BLOCK_FLOATS // nb))
    scores = np.empty((nq, k), np.float32)
    indices = np.empty((nq, k), np.int64)
    matmul = 0.0
    for start in range(0, nq, block):
        t = time.perf_counter()
        s = q[start:start + block] @ db.T
        matmul += time.perf_counter() - t
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < nb else np.tile(np.arange(nb), (len(s), 1))
        ps = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-ps, axis=1, kind="stable")
        indices[start:start + block] = np.take_along_axis(part, order, axis=1)
        scores[start:start + block] = np.take_along_axis(ps, order, axis=1)
    if timings is not None:
        timings["matmul"] = timings.get("matmul", 0.0) + matmul
    return scores, indices


def ours_topk(queries, database, k, workers, normalized=False):
    import embedcore as ec
    return ec.cosine_topk(queries, database, k=k, workers=workers, normalized=normalized, device="cpu")


def quality(queries, database, k, result, sample=200, seed=0):
    """(recall@k, max |score error|) on a sample of queries against float64 exact scores."""
    scores, indices = result
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(queries), size=min(sample, len(queries)), replace=False)
    db = _normalized(database.astype(np.float64))
    q = _normalized(queries[rows].astype(np.float64))
    exact = q @ db.T
    ref = np.argsort(-exact, axis=1, kind="stable")[:, :k]
    recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(ref.tolist(), indices[rows].tolist())])
    err = np.abs(np.take_along_axis(exact, indices[rows].astype(np.int64), axis=1) - scores[rows]).max()
    return float(recall), float(err)


def sgemm_rate(d, workers, seconds=0.5):
    """GFLOP/s of numpy's float32 matmul at a top-k-like shape (2048 x d times d x 65536)."""
    from threadpoolctl import threadpool_limits
    a = random_unit_rows(2048, d, 1)
    b = random_unit_rows(65536, d, 2)
    with threadpool_limits(workers, user_api="blas"):
        a @ b.T
        best, start = float("inf"), time.perf_counter()
        while time.perf_counter() - start < seconds:
            t = time.perf_counter()
            a @ b.T
            best = min(best, time.perf_counter() - t)
    return 2 * 2048 * 65536 * d / best / 1e9


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def compare(name, work, queries, database, k, workers, repeats):
    """Rows for faiss and numpy against embedcore on one problem, runs alternating."""
    from threadpoolctl import threadpool_limits
    nq, nb, d = len(queries), len(database), database.shape[1]
    flops = 2.0 * nq * nb * d
    try:
        import faiss
        peers = [("faiss " + faiss.__version__ + " IndexFlatIP", lambda: faiss_topk(queries, database, k, workers))]
    except ImportError:
        peers = []
    timings = {}
    peers.append((f"numpy {np.__version__} matmul+argpartition", lambda: numpy_topk(queries, database, k, timings)))
    ours = lambda: ours_topk(queries, database, k, workers)  # noqa: E731
    best = {label: float("inf") for label, _ in peers}
    best["ours"] = float("inf")
    results = {}
    matmul = float("inf")
    with threadpool_limits(workers, user_api="blas"):
        for _ in range(repeats):
            for label, function in peers + [("ours", ours)]:
                timings.clear()
                seconds, results[label] = _timed(function)
                best[label] = min(best[label], seconds)
                if "matmul" in timings:
                    matmul = min(matmul, timings["matmul"])
    ours_recall, ours_err = quality(queries, database, k, results["ours"])
    rows = []
    for label, _ in peers:
        recall, err = quality(queries, database, k, results[label])
        notes = (f"{nq:,} queries x {nb:,} rows x {d} dims, k={k}; embedcore "
                 f"{flops / best['ours'] / 1e9:.0f} GFLOP/s")
        if label.startswith("numpy"):
            notes += f"; numpy's matmul alone {matmul:.2f} s ({flops / matmul / 1e9:.0f} GFLOP/s)"
        rows.append(Row(name, work, label, best[label], best["ours"],
                        peer_quality=f"recall {recall:.4f}, err {err:.1e}",
                        ours_quality=f"recall {ours_recall:.4f}, err {ours_err:.1e}", notes=notes))
    return rows


@case("topk-search", "topk", "cosine top-k, 10k queries against 1M x 128 (quick: 1k x 100k)")
def topk_search(ctx):
    nb, nq = (100_000, 1_000) if ctx.quick else (1_000_000, 10_000)
    database = random_unit_rows(nb, 128, 0)
    queries = random_unit_rows(nq, 128, 1)
    return compare("topk-search", f"{nq:,} x {nb:,} x 128, k=10", queries, database, 10, ctx.workers,
                   repeats=2 if ctx.quick else 1)


@case("topk-all-vs-all", "topk", "cosine top-k of every row of a 52,817 x 100 vocabulary (quick: 10k)")
def topk_all_vs_all(ctx):
    n = 10_000 if ctx.quick else 52_817
    vectors = random_unit_rows(n, 100, 2)
    return compare("topk-all-vs-all", f"all-vs-all {n:,} x 100, k=10", vectors, vectors, 10, ctx.workers,
                   repeats=2)


@case("topk-one-query", "topk", "latency of one query against 1M x 128 (quick: 100k)")
def topk_one_query(ctx):
    from threadpoolctl import threadpool_limits
    nb = 100_000 if ctx.quick else 1_000_000
    database = _normalized(random_unit_rows(nb, 128, 0))
    query = _normalized(random_unit_rows(1, 128, 3))
    rows = []
    try:
        import faiss
    except ImportError:
        return rows
    faiss.omp_set_num_threads(ctx.workers)
    index = faiss.IndexFlatIP(128)
    index.add(database)

    def best_of(function, n=7):
        function()
        return min(_timed(function)[0] for _ in range(n))

    with threadpool_limits(ctx.workers, user_api="blas"):
        peer = best_of(lambda: index.search(query, 10))
        promised = best_of(lambda: ours_topk(query, database, 10, ctx.workers, normalized=True))
        checked = best_of(lambda: ours_topk(query, database, 10, ctx.workers))
    same = np.array_equal(index.search(query, 10)[1], ours_topk(query, database, 10, ctx.workers)[1])
    label = f"faiss {faiss.__version__} IndexFlatIP (index built)"
    rows.append(Row("topk-one-query", f"1 query x {nb:,} x 128, normalized=True", label, peer, promised,
                    peer_quality="", ours_quality="same rows" if same else "rows differ"))
    rows.append(Row("topk-one-query", f"1 query x {nb:,} x 128, normalising", label, peer, checked,
                    notes="ours normalises (and NaN-checks) the database on every call; faiss searched "
                          "its prebuilt normalised index"))
    return rows


def _analogy_vocabulary(path, size, dim, seed):
    """Every word of the analogy file (as written) followed by filler words up to `size`, with
    random vectors: the same questions and vectors go to gensim and to embedcore."""
    words, seen = [], set()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(":"):
                continue
            for word in line.split():
                if word not in seen:
                    seen.add(word)
                    words.append(word)
    words += [f"filler{i}" for i in range(max(0, size - len(words)))]
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(words), dim), dtype=np.float32)
    # plant the answers of the first questions of each section (so accuracy is not zero)
    index = {w: i for i, w in enumerate(words)}
    with open(path, encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            parts = line.split()
            if len(parts) == 4 and n % 3 == 0:
                a, b, c, d = (index[w] for w in parts)
                vectors[d] = vectors[b] - vectors[a] + vectors[c] + 0.1 * rng.standard_normal(dim)
    return words, vectors


@case("topk-analogies", "topk", "Google analogy evaluation, restrict_vocab=30000, vs gensim (quick: 10000)")
def topk_analogies(ctx):
    import os
    try:
        import gensim
        from gensim.models import KeyedVectors as GensimKeyedVectors
    except ImportError:
        return []
    import embedcore as ec
    path = ctx.data_file("questions-words.txt") or os.path.join(
        os.path.dirname(gensim.__file__), "test", "test_data", "questions-words.txt")
    size = 10_000 if ctx.quick else 30_000
    words, vectors = _analogy_vocabulary(path, size, 100, seed=4)
    theirs = GensimKeyedVectors(100)
    theirs.add_vectors(words, vectors)
    ours = ec.KeyedVectors(words, vectors)
    theirs.fill_norms()
    ours.fill_norms()
    peer_s, (peer_acc, peer_sections) = _timed(lambda: theirs.evaluate_word_analogies(path, restrict_vocab=size))
    ours_s, (our_acc, our_sections) = _timed(lambda: ours.evaluate_word_analogies(path, restrict_vocab=size))
    answered = len(our_sections[-1]["correct"]) + len(our_sections[-1]["incorrect"])
    same = "identical sections" if our_sections == peer_sections else "SECTIONS DIFFER"
    return [Row("topk-analogies", f"{answered:,} questions, {size:,} words x 100, 3CosAdd",
                f"gensim {gensim.__version__} evaluate_word_analogies", peer_s, ours_s,
                peer_quality=f"accuracy {peer_acc:.4f}", ours_quality=f"accuracy {our_acc:.4f}",
                notes=f"{same}; random vectors with a third of the answers planted; one run each")]


def tie_heavy_rows(kind, n, d, seed):
    """Database rows of one distribution: 'random' (Gaussian), 'near-duplicate' (one row repeated,
    each copy nudged in one coordinate by 1e-6), 'clustered' (20 centres, noise 1e-3), 'equal'
    (one row repeated) or 'zero-padded' (a tenth random rows, the rest zero)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return random_unit_rows(n, d, seed)
    base = rng.standard_normal(d).astype(np.float32)
    if kind == "equal":
        return np.tile(base, (n, 1))
    if kind == "near-duplicate":
        x = np.tile(base, (n, 1))
        x[np.arange(n), rng.integers(0, d, n)] += (1e-6 * rng.standard_normal(n)).astype(np.float32)
        return x
    if kind == "clustered":
        centres = rng.standard_normal((20, d)).astype(np.float32)
        return (centres[rng.integers(0, 20, n)] + 1e-3 * rng.standard_normal((n, d))).astype(np.float32)
    if kind == "zero-padded":
        x = np.zeros((n, d), dtype=np.float32)
        x[rng.choice(n, n // 10, replace=False)] = rng.standard_normal((n // 10, d))
        return x
    raise ValueError(f"unknown distribution {kind!r}")


TIE_KINDS = ("near-duplicate", "clustered", "equal", "zero-padded")


def _exact_on_sample(queries, database, k, result, sample=20):
    """True when the rows found for the first `sample` queries are the float64 scores rounded to
    float32, sorted with ties by lower row."""
    q = _normalized(queries[:sample].astype(np.float64))
    db = _normalized(database.astype(np.float64))
    scores = (q @ db.T).astype(np.float32)
    want = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return bool(np.array_equal(result[1][:sample], want))


@case("topk-distributions", "topk", "cosine top-k on near-duplicate, clustered, equal and zero-padded rows "
      "against random rows of the same size: 1,000 and 1 queries x 200k x 128 (quick: 200 and 1 x 50k)")
def topk_distributions(ctx):
    from threadpoolctl import threadpool_limits
    nb, nq, d, k = (50_000, 200, 128, 10) if ctx.quick else (200_000, 1_000, 128, 10)
    queries = random_unit_rows(nq, d, 7)
    databases = {kind: tie_heavy_rows(kind, nb, d, 11) for kind in ("random",) + TIE_KINDS}
    rows = []
    for count in (nq, 1):
        q = queries[:count]
        best = {kind: float("inf") for kind in databases}
        results = {}
        with threadpool_limits(ctx.workers, user_api="blas"):
            for kind, db in databases.items():  # warm-up
                ours_topk(q, db, k, ctx.workers)
            for _ in range(3 if count == 1 else 2):  # alternating, best of
                for kind, db in databases.items():
                    seconds, results[kind] = _timed(lambda: ours_topk(q, db, k, ctx.workers))
                    best[kind] = min(best[kind], seconds)
        for kind in TIE_KINDS:
            rows.append(Row("topk-distributions", f"{count:,} x {nb:,} x {d}, k={k}, {kind} rows",
                            "embedcore on random rows", best["random"], best[kind],
                            peer_quality="exact" if _exact_on_sample(q, databases["random"], k, results["random"])
                            else "NOT EXACT",
                            ours_quality="exact" if _exact_on_sample(q, databases[kind], k, results[kind])
                            else "NOT EXACT",
                            notes=f"{kind}: ratio = random time / this time (>= 0.67 is within 1.5x)"))
    return rows
