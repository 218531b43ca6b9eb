"""Co-occurrence counting against a vectorised numpy/scipy counter, and both kernels against
Stanford GloVe's C tools side by side when benchmarks/build_peers.sh has built them (they are on
neither PyPI nor Debian): `cooccur` on the same text and window, `glove` on the very counts
embedcore trains on. Without them the GloVe row falls back to the tools' figures measured once on
this machine's kind (cooccur 7.7 s, glove 16.8 s per epoch with 2 threads, cost 0.0266 after
epoch 1 and 0.0083 after 15, on a 6.9M-token dictionary corpus)."""
import os
import re
import shutil
import tempfile
import time

import numpy as np
import scipy.sparse as sp

from embedcore.benchcases._registry import Row, alternate, case
from embedcore.benchcases import _peers
from embedcore.benchcases._quality import describe_quality, score_vectors

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


# the hyperparameters of both GloVe rows: embedcore.GloVe's defaults, which are glove.c's
GLOVE_SETTINGS = dict(vector_size=100, x_max=100.0, alpha=0.75, learning_rate=0.05)


def _fit_glove(vocab, cooc, ctx, epochs):
    """(model, fit seconds, fit CPU seconds) of our GloVe on `cooc`."""
    from embedcore import GloVe
    model = GloVe(**GLOVE_SETTINGS, epochs=epochs, workers=ctx.workers, seed=1, device="cpu")
    t0 = time.perf_counter()
    fit_cpu = _cpu_seconds(lambda: model.fit(cooc, vocab=vocab))
    return model, time.perf_counter() - t0, fit_cpu


def _describe_loss(loss, scores=""):
    quality = f"cost {loss[0]:.4f} after epoch 1, {loss[-1]:.4f} after {len(loss)}"
    return quality + ("; " + scores if scores else "")


def glove_rows(name, label, vocab, cooc, ctx, epochs=15, evaluate=True):
    """Our GloVe epochs vs the Stanford figures, with the loss curve and word-vector quality."""
    model, fit_s, fit_cpu = _fit_glove(vocab, cooc, ctx, epochs)
    epoch_s = float(np.median(model.stats["epoch_seconds"]))
    loss = model.loss_history
    quality = _describe_loss(loss, evaluate_vectors(model.wv, ctx) if evaluate else "")
    # the Stanford epoch time is per 16.4M nonzeros; an epoch is linear in them
    stanford_s = STANFORD["glove_epoch_seconds"] * cooc.nnz / STANFORD["nnz"]
    return [Row(name, f"GloVe epoch, dim 100, x_max 100, alpha 0.75, {ctx.workers} threads; {label}",
                "Stanford glove (figure scaled to these nonzeros)", stanford_s, epoch_s,
                peer_quality=f"cost {STANFORD['cost_epoch1']} after epoch 1, {STANFORD['cost_epoch15']} after 15",
                ours_quality=quality,
                notes=f"median of {len(loss)} epochs over {cooc.nnz:,} nonzeros (Stanford: 16.8 s per epoch over "
                      f"16.4M nonzeros of another corpus, 2 threads, measured once); fit {fit_s:.1f} s in all "
                      f"({fit_cpu:.1f} CPU s) ({model.stats['simd']}); loss curve " + " ".join(f"{x:.4f}" for x in loss))], model


def evaluate_vectors(wv, ctx):
    """Analogy accuracy and WS353 / SimLex Spearman as text, or '' without gensim."""
    return describe_quality(score_vectors(wv.words, wv.vectors, ctx))


def stanford_cooccur_row(name, label, path, vocab, ctx, tools, window=10, min_count=5):
    """Stanford `cooccur` vs ours, both from the text file to counts, each with its own vocabulary
    of the same rule (vocab_count -min-count vs Vocab.from_corpus, timed apart); the counts compared."""
    from embedcore import Vocab, cooccurrence
    work = tempfile.mkdtemp(prefix="stanford-cooccur-", dir=ctx.scratch)
    try:
        vocab_file = os.path.join(work, "vocab.txt")
        counts_file = os.path.join(work, "cooccurrence.bin")
        with open(path, "rb") as text, open(vocab_file, "wb") as out:
            vocab_count_s, _ = _peers.run([tools["vocab_count"], "-min-count", str(min_count), "-verbose", "0"],
                                          stdin=text, stdout=out)
        t0 = time.perf_counter()
        Vocab.from_corpus(path, min_count=min_count)
        our_vocab_s = time.perf_counter() - t0

        def stanford():
            with open(path, "rb") as text, open(counts_file, "wb") as out:
                _peers.run([tools["cooccur"], "-window-size", str(window), "-symmetric", "1",
                            "-distance-weighting", "1", "-vocab-file", vocab_file,
                            "-overflow-file", os.path.join(work, "overflow"), "-verbose", "0"],
                           stdin=text, stdout=out, cwd=work)

        def ours():
            return cooccurrence(vocab.encode(path), len(vocab), window=window, workers=ctx.workers, device="cpu")

        peer_s, ours_s, _, counts = alternate(stanford, ours, repeats=2)
        their_nnz = os.path.getsize(counts_file) // _peers.COOCCURRENCE_RECORD.itemsize
        their_words = _peers.read_vocab(vocab_file)
        if sorted(their_words) == sorted(vocab.words):
            # their ids follow their vocabulary order (count ties broken alphabetically), ours first appearance
            theirs = _peers.read_cooccurrence(counts_file, [vocab[w] for w in their_words], len(vocab))
            same, err = _same_matrix(counts, theirs)
            check = ("same counts as ours" if same else "COUNTS DIFFER") + f" (max rel. diff {err:.1e})"
        else:
            check = f"VOCABULARIES DIFFER: vocab_count kept {len(their_words):,} words, ours {len(vocab):,}"
        size_mb = os.path.getsize(counts_file) / 1e6
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Row(name, f"co-occurrence from text, window {window}, symmetric, 1/d, min_count {min_count}; {label}",
               f"Stanford cooccur ({_peers.version('GloVe')}, 1 thread)", peer_s, ours_s,
               peer_quality=f"{their_nnz:,} nonzeros", ours_quality=f"{counts.nnz:,} nonzeros",
               notes=f"{check}; text to counts on both sides: cooccur reads the text with vocab_count's "
                     f"vocabulary and writes {size_mb:.0f} MB of records to a file, ours encodes the text with "
                     f"our vocabulary and counts into a CSR matrix in memory over {ctx.workers} threads; "
                     f"vocabulary pass (not in the times): vocab_count {vocab_count_s:.2f} s, "
                     f"Vocab.from_corpus {our_vocab_s:.2f} s; best of 2 alternating runs after a warm-up")


def _read_glove_cost(lines):
    """Per-epoch costs and epoch seconds from glove's stderr lines (seconds of arrival, text): an
    epoch runs from the previous line (the last parameter line before the first) to its cost line."""
    costs, seconds = [], []
    previous = None
    for arrived, text in lines:
        match = re.search(r"iter: (\d+), cost: (\S+)", text)
        if match:
            costs.append(float(match.group(2)))
            seconds.append(arrived - previous)
        previous = arrived
    return costs, seconds


def stanford_glove_rows(name, label, vocab, cooc, ctx, tools, epochs=15):
    """Stanford `glove` and ours trained on the same counts with the same hyperparameters: epoch
    times, loss curves, and both vector sets scored by one evaluation."""
    from embedcore import KeyedVectors
    settings = GLOVE_SETTINGS
    work = tempfile.mkdtemp(prefix="stanford-glove-", dir=ctx.scratch)
    try:
        # glove reads a vocabulary file (ids = line order) and shuffled binary records of the counts
        vocab_file = os.path.join(work, "vocab.txt")
        counts_file = os.path.join(work, "cooccurrence.bin")
        shuffled_file = os.path.join(work, "cooccurrence.shuf.bin")
        t0 = time.perf_counter()
        _peers.write_vocab(vocab.words, vocab.counts, vocab_file)
        n_records = _peers.write_cooccurrence(cooc, counts_file)
        write_s = time.perf_counter() - t0
        with open(counts_file, "rb") as records, open(shuffled_file, "wb") as out:
            shuffle_s, _ = _peers.run([tools["shuffle"], "-seed", "1", "-verbose", "0",
                                       "-temp-file", os.path.join(work, "temp_shuffle")],
                                      stdin=records, stdout=out, cwd=work)
        os.remove(counts_file)
        glove_s, lines = _peers.run(
            [tools["glove"], "-input-file", shuffled_file, "-vocab-file", vocab_file,
             "-save-file", os.path.join(work, "vectors"), "-vector-size", str(settings["vector_size"]),
             "-threads", str(ctx.workers), "-iter", str(epochs), "-eta", str(settings["learning_rate"]),
             "-alpha", str(settings["alpha"]), "-x-max", str(settings["x_max"]), "-binary", "0",
             "-model", "2", "-seed", "1", "-verbose", "2"], cwd=work)
        peer_loss, peer_epochs = _read_glove_cost(lines)
        if len(peer_loss) != epochs:
            raise RuntimeError(f"glove reported {len(peer_loss)} epochs, expected {epochs}")
        # text vectors W + W~ in vocabulary order, then an extra <unk> row (the mean of the rarest)
        peer_kv = KeyedVectors.load_word2vec_format(os.path.join(work, "vectors.txt"), no_header=True)
        words, vectors = peer_kv.words, peer_kv.vectors
        if words[-1] == "<unk>":
            words, vectors = words[:-1], vectors[:-1]
        if words != vocab.words:
            raise RuntimeError("glove wrote its vectors in another word order than its vocabulary file")
        peer_kv = KeyedVectors(words, vectors)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    model, fit_s, fit_cpu = _fit_glove(vocab, cooc, ctx, epochs)
    loss = model.loss_history
    peer_epoch_s = float(np.median(peer_epochs))
    epoch_s = float(np.median(model.stats["epoch_seconds"]))
    return [Row(name, f"GloVe epoch on the same counts, dim {settings['vector_size']}, x_max {settings['x_max']:g}, "
                      f"alpha {settings['alpha']}, eta {settings['learning_rate']}, {ctx.workers} threads; {label}",
                f"Stanford glove ({_peers.version('GloVe')})", peer_epoch_s, epoch_s,
                peer_quality=_describe_loss(peer_loss, evaluate_vectors(peer_kv, ctx)),
                ours_quality=_describe_loss(loss, evaluate_vectors(model.wv, ctx)),
                notes=f"median of {epochs} epochs over {n_records:,} nonzeros on each side, one training run "
                      f"each; Stanford's epochs timed by the arrival of its per-epoch cost lines; not in "
                      f"its time: writing our counts as its binary records ({write_s:.1f} s), its shuffle "
                      f"({shuffle_s:.1f} s, seed 1), parameter set-up and writing its text vectors (glove "
                      f"ran {glove_s:.1f} s in all, seed 1); not in ours: building and shuffling our records "
                      f"(fit {fit_s:.1f} s in all, {fit_cpu:.1f} CPU s, {model.stats['simd']}); loss curves "
                      f"Stanford " + " ".join(f"{x:.4f}" for x in peer_loss) +
                      "; embedcore " + " ".join(f"{x:.4f}" for x in loss))]


@case("cooccur-real", "glove", "co-occurrence counts on the real corpus vs a numpy/scipy counter and "
                               "Stanford cooccur")
def cooccur_real(ctx):
    data = _real_corpus(ctx)
    if data is None:
        return []
    vocab, corpus = data
    rows = count_rows("cooccur-real", "real corpus", vocab, corpus, ctx)[0]
    tools = _peers.find("vocab_count", "cooccur")
    if tools is None:
        rows[0].notes += "; " + _peers.missing_note("Stanford cooccur")
    else:
        rows.insert(1, stanford_cooccur_row("cooccur-real", "real corpus", ctx.data_file("corpus.txt"), vocab,
                                            ctx, tools))
    return rows


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


@case("glove-real", "glove", "GloVe epochs on the real corpus vs Stanford glove on the same counts "
                             "(its figures when it is not built)")
def glove_real(ctx):
    data = _real_corpus(ctx)
    if data is None:
        return []
    vocab, corpus = data
    from embedcore import cooccurrence
    cooc = cooccurrence(corpus, len(vocab), window=10, workers=ctx.workers, device="cpu")
    epochs = 3 if ctx.quick else 15
    tools = _peers.find("shuffle", "glove")
    if tools is not None:
        return stanford_glove_rows("glove-real", "real corpus", vocab, cooc, ctx, tools, epochs=epochs)
    rows = glove_rows("glove-real", "real corpus", vocab, cooc, ctx, epochs=epochs)[0]
    rows[0].notes += "; " + _peers.missing_note("Stanford glove")
    return rows
