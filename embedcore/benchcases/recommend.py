"""Batched recommendation: embedcore.recommend_all against implicit's batched `recommend` with
`filter_already_liked_items=True`, on the same factors and the same seen-item matrix.

Data: `embedcore.datasets.synthetic_interactions` (100k users x 20k items, ~5M interactions; quick:
20k x 5k, ~1M). Factors: PureSVD of the interaction matrix (embedcore.randomized_svd, 64
factors: users U S, items V), so the scores have the skew real factors have. Both sides return
the top 10 unseen items of every user; the rows must agree (ties and float32 near-ties aside:
reported as the share of identical rows and of identical item sets). Peak memory is the growth of
the process's resident set during each call (VmHWM after a reset of it), so it covers C++ and
numpy allocations alike.

A second case times the kernel without exclusions against the float32 GEMM bound of the same
multiply-adds (2 n_users n_items f at the machine's measured sgemm rate) for f = 64, 96, 128.
`recommend-quality` puts SVDRecommender and Item2Vec next to implicit's ALS and BPR (nDCG@10,
recall@20 on a time split, training times); `sentences-sif` times SIF sentence vectors against
numpy's implementation of the same formula.
"""
import time

import numpy as np

from embedcore.benchcases._registry import Row, alternate, case


def peak_rss_growth(function):
    """(seconds, result, peak resident-set growth in bytes) of one call: VmHWM is reset through
    /proc/self/clear_refs (Linux) before the call; None where that is not possible."""
    def read(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
        return None
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = read("VmRSS:")
    except OSError:
        base = None
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    peak = read("VmHWM:") if base is not None else None
    return seconds, result, (peak - base) if peak is not None else None


def problem(quick, factors=64, seed=0):
    """(seen users x items CSR, user factors, item factors) of the synthetic set."""
    import embedcore as ec
    shape = (20_000, 5_000, 1_000_000) if quick else (100_000, 20_000, 5_000_000)
    interactions, _ = ec.datasets.synthetic_interactions(*shape, seed=seed)
    u, s, vt = ec.randomized_svd(interactions.matrix, factors, seed=seed)
    users = np.ascontiguousarray(u * s, dtype=np.float32)
    items = np.ascontiguousarray(vt.T, dtype=np.float32)
    return interactions.matrix, users, items


def implicit_model(users, items, workers):
    """An implicit 0.7 CPU matrix-factorisation model holding the given factors."""
    from implicit.cpu.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=users.shape[1], num_threads=workers, random_state=0)
    model.user_factors, model.item_factors = users, items
    return model


def agreement(ours, theirs):
    """(share of identical rows, share of identical item sets, max |score difference|)."""
    ours_ids, theirs_ids = ours[1], theirs[1]
    same_rows = float(np.mean((ours_ids == theirs_ids).all(axis=1)))
    same_sets = float(np.mean((np.sort(ours_ids, axis=1) == np.sort(theirs_ids, axis=1)).all(axis=1)))
    both = np.isfinite(ours[0]) & np.isfinite(theirs[0])
    err = float(np.abs(ours[0][both] - theirs[0][both]).max()) if both.any() else 0.0
    return same_rows, same_sets, err


def compare_recommend(quick, workers, k=10, repeats=2):
    """Rows: implicit's batched recommend vs recommend_all with seen items filtered."""
    import embedcore as ec
    from threadpoolctl import threadpool_limits
    seen, users, items = problem(quick)
    n_users = len(users)
    everyone = np.arange(n_users)

    def ours():
        return ec.recommend_all(users, items, k=k, exclude=seen, workers=workers)

    try:
        import implicit
        model = implicit_model(users, items, workers)

        def peer():
            ids, scores = model.recommend(everyone, seen, N=k, filter_already_liked_items=True)
            return scores, ids
        label = f"implicit {implicit.__version__} recommend(filter_already_liked_items=True)"
    except ImportError:
        peer, label = None, None
    results = {}
    # implicit asks for a single-threaded BLAS (it runs its own threads); ours sets the same itself
    with threadpool_limits(1, user_api="blas"):
        runs = [("ours", ours)] if peer is None else [("peer", peer), ("ours", ours)]
        best = {name: [float("inf"), None] for name, _ in runs}
        for _ in range(repeats):
            for name, function in runs:
                seconds, results[name], peak = peak_rss_growth(function)
                best[name][0] = min(best[name][0], seconds)
                best[name][1] = peak if best[name][1] is None else max(best[name][1], peak or 0)
    mib = lambda b: "n/a" if b is None else f"{b / 2**20:.0f} MiB"  # noqa: E731
    work = f"{n_users:,} users x {len(items):,} items x {users.shape[1]}, k={k}, {seen.nnz:,} seen filtered"
    if peer is None:
        return [Row("recommend-all", work, "implicit (not installed)", None, best["ours"][0],
                    ours_quality=f"peak +{mib(best['ours'][1])}")]
    rows_same, sets_same, err = agreement(results["ours"], results["peer"])
    return [Row("recommend-all", work, label, best["peer"][0], best["ours"][0],
                peer_quality=f"peak +{mib(best['peer'][1])}",
                ours_quality=f"peak +{mib(best['ours'][1])}; same rows {rows_same:.4f}, same sets {sets_same:.4f}",
                notes=f"max |score diff| {err:.1e}; factors: PureSVD (randomized_svd) of the synthetic set")]


def sgemm_only(users, items, block=2048):
    """The multiply-adds of the search alone: numpy's sgemm of users x items^T, block by block
    (no selection; the blocks are thrown away)."""
    for start in range(0, len(users), block):
        users[start:start + block] @ items.T


def kernel_vs_sgemm(quick, workers, dims=(64, 96, 128), k=10):
    """Rows: recommend_all without exclusions against numpy's sgemm of the same products (the
    GEMM bound measured in the same conditions), runs alternating."""
    import embedcore as ec
    from threadpoolctl import threadpool_limits
    n_users, n_items = (5_000, 20_000) if quick else (20_000, 20_000)
    rng = np.random.default_rng(0)
    rows = []
    for d in dims:
        users = rng.standard_normal((n_users, d), dtype=np.float32)
        items = rng.standard_normal((n_items, d), dtype=np.float32)
        flops = 2.0 * n_users * n_items * d
        with threadpool_limits(workers, user_api="blas"):
            gemm_s, ours_s, _, _ = alternate(lambda: sgemm_only(users, items),
                                             lambda: ec.recommend_all(users, items, k=k, workers=workers))
        rows.append(Row("recommend-kernel", f"{n_users:,} x {n_items:,} x {d}, k={k}",
                        f"numpy sgemm of the same products ({flops / gemm_s / 1e9:.0f} GFLOP/s)", gemm_s, ours_s,
                        ours_quality=f"{ours_s / gemm_s:.2f}x the sgemm time",
                        notes="peer = the multiply-adds alone (no selection), blocks of 2048 users"))
    return rows


@case("recommend-all", "recommend", "recommend_all with seen items filtered vs implicit's batched recommend, "
      "100k users x 20k items x 64 (quick: 20k x 5k)")
def recommend_all_case(ctx):
    return compare_recommend(ctx.quick, ctx.workers)


@case("recommend-kernel", "recommend", "recommend_all's kernel against the sgemm bound, f = 64, 96, 128")
def recommend_kernel_case(ctx):
    return kernel_vs_sgemm(ctx.quick, ctx.workers)


# ------------------------------------------------------------------------------------------------
# quality: SVDRecommender and Item2Vec next to implicit's ALS and BPR on one split

def quality_rows(quick, workers):
    """Rows: nDCG@10 and recall@20 on a time split of the synthetic set, with training times,
    every model's factors scored by the same recommend_all (seen training items left out)."""
    import embedcore as ec
    from threadpoolctl import threadpool_limits
    shape = (20_000, 5_000, 1_000_000) if quick else (100_000, 20_000, 5_000_000)
    interactions, _ = ec.datasets.synthetic_interactions(*shape, seed=0)
    train, test = ec.train_test_split(interactions, test_fraction=0.2, by="time")

    def score(user_factors, item_factors):
        _, ids = ec.recommend_all(user_factors, item_factors, k=20, exclude=train.matrix, workers=workers)
        ndcg = ec.ranking_metrics(ids, test, k=10)["ndcg"]
        recall = ec.ranking_metrics(ids, test, k=20)["recall"]
        return f"nDCG@10 {ndcg:.4f}, recall@20 {recall:.4f}"

    def timed(function):
        start = time.perf_counter()
        model = function()
        return time.perf_counter() - start, model

    ours = [
        ("SVDRecommender(64)", lambda: ec.SVDRecommender(64, workers=workers).fit(train)),
        ("SVDRecommender(64, bm25)", lambda: ec.SVDRecommender(64, weighting="bm25", workers=workers).fit(train)),
        ("Item2Vec(64, whole baskets, 5 epochs)", lambda: ec.Item2Vec(64, epochs=5, workers=workers).fit(train)),
        ("Item2Vec(64, whole baskets, 5 epochs, ns_exponent -0.5)",
         lambda: ec.Item2Vec(64, epochs=5, ns_exponent=-0.5, workers=workers).fit(train)),
        ("Item2Vec(64, window 10 in time order, 20 epochs)",
         lambda: ec.Item2Vec(64, window=10, epochs=20, workers=workers).fit(train)),
    ]
    peers = []
    try:
        import implicit
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        def als():
            model = AlternatingLeastSquares(factors=64, iterations=15, regularization=0.01, num_threads=workers,
                                            random_state=0)
            model.fit(train.matrix, show_progress=False)
            return model

        def bpr():
            model = BayesianPersonalizedRanking(factors=64, iterations=100, num_threads=workers, random_state=0)
            model.fit(train.matrix, show_progress=False)
            return model
        peers = [(f"implicit {implicit.__version__} ALS(64, 15 iterations)", als),
                 (f"implicit {implicit.__version__} BPR(64, 100 iterations)", bpr)]
    except ImportError:
        pass
    popularity = np.asarray(train.matrix.sum(axis=0), dtype=np.float32).reshape(-1, 1)
    work = f"{shape[0]:,} users x {shape[1]:,} items, {interactions.nnz:,} interactions, latest 20% held out"
    # the floor every model must clear: items ranked by training popularity (no timing: nothing trains)
    baseline = f"popularity baseline {score(np.ones((train.n_users, 1), np.float32), popularity)}"
    rows = []
    with threadpool_limits(1, user_api="blas"):
        trained_peers = [(label, *timed(function)) for label, function in peers]
    for label, function in ours:
        seconds, model = timed(function)
        quality = score(model.user_factors, model.item_factors)
        for peer_label, peer_seconds, peer_model in trained_peers:
            rows.append(Row("recommend-quality", f"{label} vs {peer_label.split(' ', 2)[2]}; {work}", peer_label,
                            peer_seconds, seconds,
                            peer_quality=score(peer_model.user_factors, peer_model.item_factors),
                            ours_quality=quality,
                            notes=f"times: training; scores by the same recommend_all; {baseline}"))
        if not trained_peers:
            rows.append(Row("recommend-quality", f"{label}; {work}", "implicit (not installed)", None, seconds,
                            ours_quality=quality, notes=baseline))
    return rows


@case("recommend-quality", "recommend", "nDCG@10 / recall@20 of SVDRecommender and Item2Vec next to implicit "
      "ALS and BPR on a time split (quick: 20k users x 5k items)")
def recommend_quality_case(ctx):
    return quality_rows(ctx.quick, ctx.workers)


# ------------------------------------------------------------------------------------------------
# sentence vectors: SIF against numpy

def numpy_sif(words, vectors, sentences, counts, a=1e-3):
    """The SIF formula in numpy from lists of tokens: weights, per-sentence weighted means (a
    sparse product), the first principal component removed with numpy's SVD of the d x d Gram."""
    import scipy.sparse as sp
    index = {w: i for i, w in enumerate(words)}
    ids, indptr = [], [0]
    for sentence in sentences:
        ids.extend(index[w] for w in sentence if w in index)
        indptr.append(len(ids))
    ids, indptr = np.array(ids, np.int64), np.array(indptr, np.int64)
    lengths = np.diff(indptr)
    p = counts / counts.sum()
    weights = a / (a + p)
    data = weights[ids] / np.repeat(np.maximum(lengths, 1), lengths)
    out = (sp.csr_matrix((data.astype(np.float32), ids, indptr), shape=(len(sentences), len(words))) @ vectors)
    _, _, vt = np.linalg.svd(out.T @ out)
    u = vt[:1]
    return out - (out @ u.T) @ u


def sif_rows(quick, workers):
    """Rows: SIF sentence vectors of many short sentences, numpy vs embedcore, time per million."""
    import embedcore as ec
    from threadpoolctl import threadpool_limits
    n_sentences, n_words, dim = (200_000, 50_000, 100) if quick else (1_000_000, 50_000, 100)
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(n_words)]
    vectors = rng.standard_normal((n_words, dim), dtype=np.float32)
    zipf = 1.0 / np.arange(1, n_words + 1) ** 1.05
    lengths = rng.integers(3, 20, n_sentences)
    tokens = rng.choice(n_words, int(lengths.sum()), p=zipf / zipf.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)])
    sentences = [[words[t] for t in tokens[starts[i]:starts[i + 1]]] for i in range(n_sentences)]
    counts = np.bincount(tokens, minlength=n_words).astype(np.float64) + 1
    vocab = ec.Vocab(words, counts.astype(np.int64))
    kv = ec.KeyedVectors(words, vectors)
    with threadpool_limits(workers, user_api="blas"):
        peer_s, ours_s, theirs, ours = alternate(lambda: numpy_sif(words, vectors, sentences, counts),
                                                 lambda: ec.sentence_vectors(kv, sentences, vocab=vocab,
                                                                             workers=workers), repeats=1)
    err = float(np.abs(np.asarray(theirs) - ours).max())
    per_million = 1e6 / n_sentences
    return [Row("sentences-sif", f"SIF, {n_sentences:,} sentences of 3-19 tokens, {n_words:,} words x {dim}",
                f"numpy {np.__version__} (same formula)", peer_s, ours_s,
                peer_quality=f"{peer_s * per_million:.1f} s per million", ours_quality=f"{ours_s * per_million:.1f} s "
                f"per million; max |diff| {err:.1e}", notes="input: lists of tokens; first component removed")]


@case("sentences-sif", "sentences", "SIF sentence vectors, 1M sentences (quick: 200k), numpy vs embedcore")
def sentences_sif_case(ctx):
    return sif_rows(ctx.quick, ctx.workers)
