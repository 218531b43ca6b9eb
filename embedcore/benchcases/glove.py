"""Co-occurrence counting against a vectorised numpy/scipy counter, and GloVe epochs against the
Stanford tool's figures (its C tools are not on PyPI, so they were measured once on this machine's
kind: cooccur 7.7 s, glove 16.8 s per epoch with 2 threads, cost 0.0266 after epoch 1 and 0.0083
after 15, on a 6.9M-token dictionary corpus)."""
import logging
import time

import numpy as np
import scipy.sparse as sp

from embedcore.bench import Row, alternate, case

logger = logging.getLogger("embedcore")

STANFORD = {"cooccur_seconds": 7.7, "glove_epoch_seconds": 16.8, "cost_epoch1": 0.0266, "cost_epoch15": 0.0083,
            "tokens": 6.9e6, "nnz": 16.4e6}


def numpy_cooccurrence(ids, offsets, vocab_size, window=10, symmetric=True, distance_weighting=True):
    """The vectorised peer: one pass per window offset d, pairs (ids[p], ids[p + d]) within a
    sentence, summed by scipy's coo -> csr conversion; the symmetric matrix adds the transpose."""
    ids = np.asarray(ids)
    sentence = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    total = sp.csr_matrix((vocab_size, vocab_size), dtype=np.float64)
    for d in range(1, window + 1):
        same = sentence[:-d] == sentence[d:]
        rows, cols = ids[:-d][same], ids[d:][same]
        weight = np.full(len(rows), 1.0 / d if distance_weighting else 1.0)
        total = total + sp.coo_matrix((weight, (rows, cols)), shape=(vocab_size, vocab_size)).tocsr()
    if symmetric:
        total = total + total.T
    return total.astype(np.float32).tocsr()


def _cpu_seconds(function):
    """User + system CPU time of this process (all threads) spent in one call."""
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF)
    function()
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _same_matrix(a, b):
    a, b = a.tocsr(), b.tocsr()
    a.sort_indices()
    b.sort_indices()
    if a.shape != b.shape or a.nnz != b.nnz or not np.array_equal(a.indices, b.indices) or \
            not np.array_equal(a.indptr, b.indptr):
        return False, float("inf")
    err = float(np.max(np.abs(a.data - b.data) / np.abs(b.data))) if a.nnz else 0.0
    return err <= 1e-5, err


def _real_corpus(ctx, min_count=5):
    path = ctx.data_file("corpus.txt")
    if path is None:
        return None
    from embedcore import Vocab
    vocab = Vocab.from_corpus(path, min_count=min_count)
    return vocab, vocab.encode(path)


def _synthetic_corpus(n_tokens, vocab_size=100_000):
    from embedcore.datasets import synthetic_corpus
    synth = synthetic_corpus(n_tokens, vocab_size=vocab_size, seed=0)
    return synth.vocab, synth.corpus


def count_rows(name, label, vocab, corpus, ctx, window=10, bounded=True):
    """Rows: the numpy counter vs ours (equality checked), and ours under max_memory."""
    from embedcore import cooccurrence
    V = len(vocab)
    peer_s, ours_s, theirs, ours = alternate(
        lambda: numpy_cooccurrence(corpus.ids, corpus.offsets, V, window),
        lambda: cooccurrence(corpus, V, window=window, workers=ctx.workers, device="cpu"), repeats=2)
    working = cooccurrence.last_stats["working_bytes"]
    stanford_s = STANFORD["cooccur_seconds"] * len(corpus) / STANFORD["tokens"]
    # CPU seconds (all threads) of one more run each: less sensitive to a loaded machine than wall time
    peer_cpu = _cpu_seconds(lambda: numpy_cooccurrence(corpus.ids, corpus.offsets, V, window))
    ours_cpu = _cpu_seconds(lambda: cooccurrence(corpus, V, window=window, workers=ctx.workers, device="cpu"))
    same, err = _same_matrix(ours, theirs)
    rows = [Row(name, f"co-occurrence, window {window}, symmetric, 1/d; {label}",
                f"numpy/scipy counter (numpy {np.__version__})", peer_s, ours_s,
                peer_quality=f"{theirs.nnz:,} nonzeros", ours_quality=f"{ours.nnz:,} nonzeros",
                notes=("identical matrix" if same else "MATRICES DIFFER") + f" (max rel. diff {err:.1e}); "
                      f"{len(corpus) / 1e6:.1f}M tokens, {V:,} words; our working set {working / 1e6:.0f} MB; "
                      f"Stanford cooccur (7.7 s for 6.9M tokens, 1 thread) scaled to these tokens: "
                      f"{stanford_s:.2f} s, {stanford_s / ours_s:.1f}x our time; CPU seconds: numpy {peer_cpu:.2f}, "
                      f"ours {ours_cpu:.2f} over {ctx.workers} threads")]
    if bounded:
        budget = max(working // 10, 1)
        t0 = time.perf_counter()
        limited = cooccurrence(corpus, V, window=window, workers=ctx.workers, max_memory=int(budget),
                               device="cpu")
        limited_s = time.perf_counter() - t0
        shards = cooccurrence.last_stats["shards"]
        same, err = _same_matrix(limited, ours)
        rows.append(Row(name, f"co-occurrence under max_memory = working set / 10 ({budget / 1e6:.0f} MB); {label}",
                        "embedcore unbounded", ours_s, limited_s,
                        ours_quality=f"{limited.nnz:,} nonzeros",
                        notes=("same matrix" if same else "MATRICES DIFFER") +
                              f" (max rel. diff {err:.1e}); {shards} row ranges, occurrences and rows "
                              f"spilled to temporary files; peak working memory "
                              f"{cooccurrence.last_stats['working_bytes'] / 1e6:.1f} MB"))
    return rows, ours


def glove_rows(name, label, vocab, cooc, ctx, epochs=15, evaluate=True):
    """Our GloVe epochs vs the Stanford figures, with the loss curve and word-vector quality."""
    from embedcore import GloVe
    model = GloVe(vector_size=100, x_max=100.0, alpha=0.75, epochs=epochs, workers=ctx.workers, seed=1,
                  device="cpu")
    t0 = time.perf_counter()
    fit_cpu = _cpu_seconds(lambda: model.fit(cooc, vocab=vocab))
    fit_s = time.perf_counter() - t0
    epoch_s = float(np.median(model.stats["epoch_seconds"]))
    loss = model.loss_history
    quality = f"cost {loss[0]:.4f} after epoch 1, {loss[-1]:.4f} after {len(loss)}"
    if evaluate:
        scores = evaluate_vectors(model.wv, ctx)
        if scores:
            quality += "; " + scores
    # the Stanford epoch time is per 16.4M nonzeros; an epoch is linear in them
    stanford_s = STANFORD["glove_epoch_seconds"] * cooc.nnz / STANFORD["nnz"]
    return [Row(name, f"GloVe epoch, dim 100, x_max 100, alpha 0.75, {ctx.workers} threads; {label}",
                "Stanford glove (figure scaled to these nonzeros)", stanford_s, epoch_s,
                peer_quality=f"cost {STANFORD['cost_epoch1']} after epoch 1, {STANFORD['cost_epoch15']} after 15",
                ours_quality=quality,
                notes=f"median of {len(loss)} epochs over {cooc.nnz:,} nonzeros (Stanford: 16.8 s per epoch over "
                      f"16.4M nonzeros, 2 threads, measured once; the C tool is not on PyPI or Debian, so it "
                      f"cannot run side by side); fit {fit_s:.1f} s in all ({fit_cpu:.1f} CPU s) "
                      f"({model.stats['simd']}); loss curve " + " ".join(f"{x:.4f}" for x in loss))], model


def evaluate_vectors(wv, ctx):
    """Analogy accuracy and WS353 / SimLex Spearman by gensim's evaluation, or '' without gensim."""
    try:
        from gensim.models import KeyedVectors as GensimKV
        from gensim.test.utils import datapath
    except ImportError:
        return ""
    kv = GensimKV(vector_size=wv.vectors.shape[1])
    kv.add_vectors(wv.words, wv.vectors)

    def find(name):
        return ctx.data_file(name) or datapath(name)

    parts = []
    try:
        acc, _ = kv.evaluate_word_analogies(find("questions-words.txt"), restrict_vocab=30000)
        parts.append(f"analogy {acc:.3f}")
    except Exception as exc:  # a missing file or no question in vocabulary
        logger.warning("analogy evaluation failed: %s", exc)
    for label, fname in (("WS353", "wordsim353.tsv"), ("SimLex", "simlex999.txt")):
        try:
            _, spearman, oov = kv.evaluate_word_pairs(find(fname))
            parts.append(f"{label} {spearman[0]:.3f}")
        except Exception as exc:
            logger.warning("%s evaluation failed: %s", label, exc)
    return ", ".join(parts)


@case("cooccur-real", "glove", "co-occurrence counts on the real corpus vs a numpy/scipy counter")
def cooccur_real(ctx):
    data = _real_corpus(ctx)
    if data is None:
        return []
    return count_rows("cooccur-real", "real corpus", *data, ctx)[0]


@case("cooccur-synthetic", "glove", "co-occurrence counts on a synthetic corpus vs a numpy/scipy counter")
def cooccur_synthetic(ctx):
    n = 5_000_000 if ctx.quick else 50_000_000
    vocab, corpus = _synthetic_corpus(n)
    if n > 20_000_000:  # the numpy counter needs tens of GB here: time ours alone, twice
        from embedcore import cooccurrence
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            X = cooccurrence(corpus, len(vocab), window=10, workers=ctx.workers, device="cpu")
            best = min(best, time.perf_counter() - t0)
        return [Row("cooccur-synthetic", f"co-occurrence, window 10; synthetic {n / 1e6:.0f}M tokens",
                    "(numpy counter skipped: memory)", None, best, ours_quality=f"{X.nnz:,} nonzeros",
                    notes=f"{best / n * 1e9:.0f} ns per token")]
    return count_rows("cooccur-synthetic", f"synthetic {n / 1e6:.0f}M tokens", vocab, corpus, ctx,
                      bounded=False)[0]


@case("glove-real", "glove", "GloVe epochs on the real corpus vs the Stanford tool's figures")
def glove_real(ctx):
    data = _real_corpus(ctx)
    if data is None:
        return []
    vocab, corpus = data
    from embedcore import cooccurrence
    cooc = cooccurrence(corpus, len(vocab), window=10, workers=ctx.workers, device="cpu")
    return glove_rows("glove-real", "real corpus", vocab, cooc, ctx, epochs=3 if ctx.quick else 15)[0]
