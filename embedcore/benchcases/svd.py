"""PPMI and truncated SVD: embedcore against scipy (PPMI expression, svds) and scikit-learn's
randomized_svd, on a synthetic co-occurrence matrix with power-law row and column sums and
topic structure (so the spectrum decays as a real PPMI spectrum does)."""
import os
import time

import numpy as np
import scipy.sparse as sp

from embedcore.benchcases._registry import Row, alternate, case
from embedcore.benchcases._quality import score_vectors


def synthetic_cooccurrence(n_words, n_samples, n_topics=300, noise=0.3, seed=0):
    """A float32 CSR co-occurrence matrix (n_words x n_words) of `n_samples` sampled pairs.

    Word frequencies follow Zipf's law. A pair is drawn either from the background (both words
    independently by frequency, probability `noise`) or from a topic: topics have power-law
    weights, every word belongs to two topics, and both words of the pair are drawn from the
    topic's members by frequency. The PPMI of such counts has a slowly decaying spectrum.
    """
    rng = np.random.default_rng(seed)
    freq = 1.0 / (np.arange(n_words) + 10.0)
    freq /= freq.sum()
    topic_weight = 1.0 / (np.arange(n_topics) + 5.0) ** 0.8
    topic_weight /= topic_weight.sum()
    # members of each topic: every word in topic (w mod T) and in one random topic
    membership = np.concatenate([np.arange(n_words) % n_topics, rng.integers(0, n_topics, n_words)])
    words = np.concatenate([np.arange(n_words), np.arange(n_words)])
    order = np.argsort(membership, kind="stable")
    membership, words = membership[order], words[order]
    starts = np.searchsorted(membership, np.arange(n_topics + 1))
    cum = np.cumsum(freq[words])  # cumulative frequency within the concatenated topic lists
    rows, cols = [], []
    chunk = 4_000_000
    for begin in range(0, n_samples, chunk):
        size = min(chunk, n_samples - begin)
        background = rng.random(size) < noise
        nb = int(background.sum())
        r = np.empty(size, np.int32)
        c = np.empty(size, np.int32)
        global_cum = np.cumsum(freq)
        r[background] = np.searchsorted(global_cum, rng.random(nb) * global_cum[-1])
        c[background] = np.searchsorted(global_cum, rng.random(nb) * global_cum[-1])
        topics = rng.choice(n_topics, size - nb, p=topic_weight)
        lo = np.where(starts[topics] > 0, cum[starts[topics] - 1], 0.0)
        hi = cum[starts[topics + 1] - 1]
        for target in (r, c):
            u = lo + rng.random(size - nb) * (hi - lo)
            pick = np.minimum(np.searchsorted(cum, u, side="right"), starts[topics + 1] - 1)
            target[~background] = words[pick]
        rows.append(r)
        cols.append(c)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    ones = np.ones(len(r), dtype=np.float32)
    cooc = sp.coo_matrix((ones, (r, c)), shape=(n_words, n_words)).tocsr()
    cooc = cooc + cooc.T  # symmetric counts, as a symmetric window gives
    cooc.sum_duplicates()
    return cooc.astype(np.float32)


def window_cooccurrence(corpus, vocab_size, window=10):
    """Symmetric co-occurrence counts within `window` tokens, 1/d for a pair d apart (GloVe's
    rule, embedcore.cooccurrence's default), never across sentences; counted with numpy
    (benchmark data preparation, not a timed peer)."""
    ids = np.asarray(corpus.ids, dtype=np.int32)
    sentence = np.repeat(np.arange(len(corpus.offsets) - 1), np.diff(corpus.offsets))
    total = sp.csr_matrix((vocab_size, vocab_size), dtype=np.float32)
    for distance in range(1, window + 1):
        same = sentence[:-distance] == sentence[distance:]
        left, right = ids[:-distance][same], ids[distance:][same]
        total = total + sp.coo_matrix((np.full(len(left), 1.0 / distance, np.float32), (left, right)),
                                      shape=(vocab_size, vocab_size)).tocsr()
    total = (total + total.T).tocsr()
    total.sum_duplicates()
    return total.astype(np.float32)


def evaluate_vectors(words, vectors, ctx):
    """(analogy accuracy, WS353 Spearman, SimLex Spearman), or None without gensim or the files."""
    q = score_vectors(words, vectors, ctx)
    return tuple(q[k] for k in ("analogy", "ws353", "simlex")) if len(q) == 3 else None


def scipy_ppmi(cooc, cds=0.75, shift=1.0):
    """PPMI as written with scipy in Levy et al.'s hyperwords: scale rows and columns by
    diagonal matrices, then log and threshold (float64 inside)."""
    cooc = sp.csr_matrix(cooc, dtype=np.float64)
    row_sums = np.asarray(cooc.sum(axis=1)).ravel()
    col_sums = np.asarray(cooc.sum(axis=0)).ravel() ** cds
    total = col_sums.sum()
    with np.errstate(divide="ignore"):
        pmi = sp.diags(1.0 / row_sums) @ cooc @ sp.diags(1.0 / col_sums)
    pmi.data = np.log(pmi.data * total) - np.log(shift)
    pmi.data[pmi.data < 0] = 0
    pmi.eliminate_zeros()
    return pmi.astype(np.float32)


def numpy_ppmi(cooc, cds=0.75, shift=1.0):
    """PPMI vectorised over the CSR arrays with numpy (one log per nonzero, float64), the
    fastest plain numpy/scipy form."""
    cooc = sp.csr_matrix(cooc)
    n_rows = cooc.shape[0]
    log_rows = np.log(np.asarray(cooc.sum(axis=1), dtype=np.float64).ravel())
    col_sums = np.asarray(cooc.sum(axis=0), dtype=np.float64).ravel()
    with np.errstate(divide="ignore"):
        log_cols = cds * np.log(col_sums)
        rows = np.repeat(np.arange(n_rows), np.diff(cooc.indptr))
        values = (np.log(cooc.data.astype(np.float64)) + (np.log(np.sum(col_sums ** cds)) - np.log(shift))
                  - log_rows[rows] - log_cols[cooc.indices])
    keep = values > 0
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=n_rows), out=indptr[1:])
    return sp.csr_matrix((values[keep].astype(np.float32), cooc.indices[keep], indptr), shape=cooc.shape)


def relative_reconstruction_error(X, U, S, Vt):
    """||X - U diag(S) Vt||_F / ||X||_F, exactly, in float64 without forming the dense product."""
    X = sp.csr_matrix(X, dtype=np.float64)
    U, S, Vt = (np.asarray(a, dtype=np.float64) for a in (U, S, Vt))
    norm2 = float(X.multiply(X).sum())
    cross = float(np.sum(U * (X @ Vt.T) * S))
    low_rank2 = float(np.sum(np.outer(S, S) * (U.T @ U) * (Vt @ Vt.T)))
    return np.sqrt(max(norm2 - 2 * cross + low_rank2, 0.0) / norm2)


def relative_singular_value_error(S, reference):
    """Largest |S - reference| / reference over the leading values."""
    reference = np.sort(np.asarray(reference, dtype=np.float64))[::-1]
    return float(np.max(np.abs(np.asarray(S, np.float64) - reference) / reference))


def _limit_blas(workers):
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=workers, user_api="blas")
    except ImportError:
        import contextlib
        return contextlib.nullcontext()


def compare(cooc, ctx, label, k=100, n_iter=5, n_oversamples=10, run_svds=True, repeats=2):
    """Rows for PPMI and randomized SVD on one co-occurrence matrix."""
    import embedcore as ec
    rows = []
    with _limit_blas(ctx.workers):
        import scipy
        for peer_name, peer_function in (("scipy diagonal scaling (hyperwords)", scipy_ppmi),
                                         ("numpy over CSR arrays", numpy_ppmi)):
            peer_s, ours_s, peer_m, our_m = alternate(
                lambda: peer_function(cooc), lambda: ec.ppmi(cooc, workers=ctx.workers), repeats=repeats)
            diff = abs(peer_m - our_m)
            rows.append(Row("svd-ppmi", f"PPMI cds=0.75, {label}, {cooc.nnz / 1e6:.1f}M counts",
                            f"{peer_name}, scipy {scipy.__version__}", peer_s, ours_s,
                            peer_quality=f"{peer_m.nnz / 1e6:.2f}M nonzeros",
                            ours_quality=f"{our_m.nnz / 1e6:.2f}M nonzeros",
                            notes=f"max |difference| {diff.max() if diff.nnz else 0.0:.1e}"))
        M = our_m
        from sklearn import __version__ as sk_version
        from sklearn.utils.extmath import randomized_svd as sk_randomized_svd

        def peer():
            return sk_randomized_svd(M, k, n_oversamples=n_oversamples, n_iter=n_iter, random_state=0)

        def ours():
            return ec.randomized_svd(M, k, n_oversamples=n_oversamples, n_iter=n_iter, seed=0,
                                     workers=ctx.workers, device="cpu")
        peer_s, ours_s, peer_r, our_r = alternate(peer, ours, repeats=repeats)
        reference = None
        svds_s = None
        if run_svds:
            from scipy.sparse.linalg import svds
            start = time.perf_counter()
            reference = svds(M, k=k, random_state=0, return_singular_vectors=False)
            svds_s = time.perf_counter() - start
        peer_err = relative_reconstruction_error(M, *peer_r)
        our_err = relative_reconstruction_error(M, *our_r)

        def quality(r, err):
            text = f"recon {err:.5f}"
            if reference is not None:
                text += f", sv err {relative_singular_value_error(r[1], reference):.1e}"
            return text
        work = f"randomized SVD k={k} n_iter={n_iter}, PPMI {M.shape[0]}x{M.shape[1]}, {M.nnz / 1e6:.1f}M nnz"
        rows.append(Row("svd-randomized", work, f"sklearn {sk_version} randomized_svd", peer_s, ours_s,
                        peer_quality=quality(peer_r, peer_err), ours_quality=quality(our_r, our_err),
                        notes=f"recon error ratio ours/sklearn {our_err / peer_err:.4f}"))
        if svds_s is not None:
            rows.append(Row("svd-randomized", work, "scipy svds (ARPACK)", svds_s, ours_s,
                            peer_quality="reference", ours_quality=quality(our_r, our_err),
                            notes="svds run once, no warm-up"))
            # the fewest power iterations (of a few tried) that bring ours within 1e-3 of svds
            for more in (10, 20, 30, 50):
                start = time.perf_counter()
                r = ec.randomized_svd(M, k, n_oversamples=n_oversamples, n_iter=more, seed=0,
                                      workers=ctx.workers, device="cpu")
                seconds = time.perf_counter() - start
                sv_err = relative_singular_value_error(r[1], reference)
                if sv_err <= 1e-3 or more == 50:
                    rows.append(Row("svd-matched", f"singular values within 1e-3 of svds, k={k}",
                                    "scipy svds (ARPACK)", svds_s, seconds, peer_quality="reference",
                                    ours_quality=f"n_iter={more}: sv err {sv_err:.1e}, recon "
                                                 f"{relative_reconstruction_error(M, *r):.5f}",
                                    notes="ours run once at the n_iter shown"))
                    break
    return rows


def real_corpus(path, ctx, max_words=30_000, window=10, k=100, n_iter=5, seeds=(0, 1, 2, 3, 4)):
    """Rows for the top `max_words` words of a text corpus: PPMI, SVD, and the word vectors
    ``U * S**0.5`` of both pipelines scored on analogies and word pairs.

    A randomized SVD at n_iter=5 moves the scores by about a point from seed to seed, so both
    pipelines run with every seed in `seeds`: the row gives the mean and range of each score and
    the median time; the exact SVD (svds) is scored once as the reference."""
    import embedcore as ec
    start = time.perf_counter()
    vocab = ec.Vocab.from_corpus(path, min_count=5, max_size=max_words)
    corpus = vocab.encode(path)
    cooc = window_cooccurrence(corpus, len(vocab), window=window)
    prep = time.perf_counter() - start
    label = f"{os.path.basename(path)} top {len(vocab)} words, window {window}"
    rows = compare(cooc, ctx, label, k=k, n_iter=n_iter, run_svds=not ctx.quick)
    for row in rows:
        row.notes = (row.notes + "; " if row.notes else "") + (
            f"{len(corpus) / 1e6:.1f}M tokens, counts built in {prep:.0f} s")
    seeds = seeds[:2] if ctx.quick else seeds
    peer_times, our_times, peer_scores, our_scores = [], [], [], []
    with _limit_blas(ctx.workers):
        from sklearn.utils.extmath import randomized_svd as sk_randomized_svd
        for seed in seeds:
            start = time.perf_counter()
            U, S, _ = sk_randomized_svd(numpy_ppmi(cooc), k, n_iter=n_iter, random_state=seed)
            peer_times.append(time.perf_counter() - start)
            peer_scores.append(evaluate_vectors(vocab.words, U * np.sqrt(S), ctx))
            start = time.perf_counter()
            model = ec.SVDEmbedding(vector_size=k, n_iter=n_iter, seed=seed, workers=ctx.workers,
                                    device="cpu").fit(cooc, vocab=vocab)
            our_times.append(time.perf_counter() - start)
            our_scores.append(evaluate_vectors(vocab.words, model.wv.vectors, ctx))
        exact = None
        if not ctx.quick:
            from scipy.sparse.linalg import svds
            U, S, _ = svds(ec.ppmi(cooc, workers=ctx.workers).astype(np.float64), k=k, random_state=0)
            order = np.argsort(-S)
            exact = evaluate_vectors(vocab.words, U[:, order] * np.sqrt(S[order]), ctx)

    def text(scores):
        if None in scores:
            return "-"
        columns = np.array(scores)
        parts = [f"{name} {mean:.3f} ({low:.3f}-{high:.3f})" for name, mean, low, high in
                 zip(("analogy", "WS353", "SimLex"), columns.mean(0), columns.min(0), columns.max(0))]
        return ", ".join(parts)
    notes = f"mean (min-max) over seeds {list(seeds)}, median time; gensim's evaluation, restrict_vocab=30000"
    if exact is not None:
        notes += f"; exact SVD (svds) vectors: analogy {exact[0]:.3f}, WS353 {exact[1]:.3f}, SimLex {exact[2]:.3f}"
    rows.append(Row("svd-embedding", f"PPMI-SVD word vectors dim {k}, eig 0.5, n_iter {n_iter}, {label}",
                    "numpy PPMI + sklearn randomized_svd", float(np.median(peer_times)),
                    float(np.median(our_times)), peer_quality=text(peer_scores),
                    ours_quality=text(our_scores), notes=notes))
    return rows


@case("svd-real", "svd", "PPMI-SVD on the top 30,000 words of the real corpus vs scipy and scikit-learn")
def svd_real(ctx):
    path = ctx.data_file("corpus.txt")
    if path is None:
        return []
    return real_corpus(path, ctx)


@case("svd-synthetic", "svd", "PPMI and randomized SVD on a synthetic co-occurrence matrix vs "
      "scipy and scikit-learn")
def svd_synthetic(ctx):
    n_words, n_samples = (8_000, 4_000_000) if ctx.quick else (30_000, 40_000_000)
    cooc = synthetic_cooccurrence(n_words, n_samples, seed=0)
    return compare(cooc, ctx, f"synthetic {n_words}x{n_words}", k=100 if not ctx.quick else 50)
