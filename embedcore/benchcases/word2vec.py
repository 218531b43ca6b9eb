"""Skip-gram and CBOW against gensim's fastest mode, Word2Vec(corpus_file=...), side by side.

Both sides get the same corpus file, vocabulary rule (min_count), hyperparameters and threads. Each
side's time is split into the vocabulary pass and training; words/s counts raw corpus tokens x
epochs over training time, as gensim and word2vec.c report it. Both sides' vectors are scored with
gensim's own evaluation functions (Google analogies with restrict_vocab=30000, WordSim353 and
SimLex-999 Spearman), so one ruler judges both. On the real corpus word2vec.c runs too, when
benchmarks/build_peers.sh has built it, next to embedcore's whole pipeline from the same text file.
"""
import os
import shutil
import tempfile
import time

from embedcore.benchcases._registry import Row, case
from embedcore.benchcases import _peers
from embedcore.benchcases._quality import describe_quality, eval_files, score, to_gensim

SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5)


def run_gensim(path, sg, workers, settings, seed=1, sentences=None):
    """(vocab seconds, train seconds, raw tokens, gensim KeyedVectors).

    From the file `path` in corpus_file mode, gensim's fastest; or, given `sentences` (a list of
    token lists), in its standard mode, where one job queue feeds the threads and the learning
    rate decays over the whole run as set. In corpus_file mode each thread measures its progress
    against the whole corpus, so with 2 threads the rate falls only halfway within each epoch
    (gensim 4.4 word2vec_corpusfile.pyx, get_next_alpha)."""
    from gensim.models import Word2Vec
    s = dict(settings)
    epochs = s.pop("epochs")
    model = Word2Vec(sg=sg, workers=workers, seed=seed, **s)
    source = {"corpus_file": path} if sentences is None else {"corpus_iterable": sentences}
    t0 = time.perf_counter()
    model.build_vocab(**source)
    t1 = time.perf_counter()
    size = ({"total_words": model.corpus_total_words} if sentences is None
            else {"total_examples": model.corpus_count})
    model.train(**source, **size, epochs=epochs)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, model.corpus_total_words, model.wv


def run_embedcore(path, sg, workers, settings, seed=1, vocab_and_corpus=None, **extra):
    """(vocab seconds, train seconds, raw tokens, Word2Vec model)."""
    import embedcore as ec
    t0 = time.perf_counter()
    if vocab_and_corpus is None:
        vocab = ec.Vocab.from_corpus(path, min_count=settings["min_count"])
        corpus = vocab.encode(path)
    else:
        vocab, corpus = vocab_and_corpus
    t1 = time.perf_counter()
    model = ec.Word2Vec(sg=sg, workers=workers, seed=seed, device="cpu", **settings, **extra).fit(corpus, vocab=vocab)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, corpus.raw_tokens, model


def with_alpha(settings, sg):
    """The settings with word2vec.c's default learning rate unless one is set, so every side trains
    with the same one (gensim's default is 0.025 for both models)."""
    return dict({"alpha": 0.025 if sg else 0.05}, **settings)


def compare(name, path, sg, ctx, settings, files, label, extra_quality=None, repeats=1):
    """Rows: gensim vs embedcore (training time; vocabulary time in the notes)."""
    kind = "skip-gram" if sg else "CBOW"
    settings = with_alpha(settings, sg)
    try:
        import gensim
    except ImportError:
        gensim = None
    if gensim is None:
        ours = run_embedcore(path, sg, ctx.workers, settings)
        return [Row(name, f"{kind} train, {label}", "gensim (not installed)", None, ours[1],
                    notes=f"embedcore {ours[3].stats['words_trained'] / ours[1] / 1e3:.0f}k words/s")]
    # A B A B: best training time of each side; quality from each side's last run
    peer_runs, our_runs = [], []
    for _ in range(repeats):
        peer_runs.append(run_gensim(path, sg, ctx.workers, settings))
        our_runs.append(run_embedcore(path, sg, ctx.workers, settings))
    peer = min(peer_runs, key=lambda r: r[1])[:3] + (peer_runs[-1][3],)
    ours = min(our_runs, key=lambda r: r[1])[:3] + (our_runs[-1][3],)
    ours_q = score(to_gensim(ours[3].wv.words, ours[3].wv.vectors), files)
    if extra_quality:
        ours_q.update(extra_quality(ours[3].wv.words, ours[3].wv.vectors))
    raw_words = ours[2] * settings["epochs"]
    peer_q = score(peer[3], files)
    if extra_quality:
        peer_q.update(extra_quality(peer[3].index_to_key, peer[3].vectors))
    peer_words = peer[2] * settings["epochs"]
    return [Row(name, f"{kind} train, {label}, {ctx.workers} threads",
                f"gensim {gensim.__version__} corpus_file", peer[1], ours[1],
                peer_quality=describe_quality(peer_q), ours_quality=describe_quality(ours_q),
                notes=(f"words/s gensim {peer_words / peer[1] / 1e3:.0f}k, embedcore "
                       f"{raw_words / ours[1] / 1e3:.0f}k; vocabulary pass gensim {peer[0]:.1f} s, "
                       f"embedcore {ours[0]:.1f} s (vocab+encode); alpha {settings['alpha']} both; "
                       f"simd {ours[3].stats['simd']}; "
                       f"{'best of %d alternating runs' % repeats if repeats > 1 else 'one run each'}"))]


def run_word2vec_c(binary, path, sg, workers, settings, scratch):
    """(seconds, vocabulary seconds, words, vectors) of word2vec.c from the text file to a text
    vectors file; its sentence-end token </s> is dropped from the words. word2vec.c has no seed
    option (runs are deterministic only with 1 thread)."""
    import embedcore as ec
    work = tempfile.mkdtemp(prefix="word2vec-c-", dir=scratch)
    try:
        out = os.path.join(work, "word2vec-c.txt")
        seconds, lines = _peers.run(
            [binary, "-train", os.path.abspath(path), "-output", out, "-size", str(settings["vector_size"]),
             "-window", str(settings["window"]), "-negative", str(settings["negative"]), "-hs", "0",
             "-sample", str(settings["sample"]), "-min-count", str(settings["min_count"]),
             "-iter", str(settings["epochs"]), "-alpha", str(settings["alpha"]), "-cbow", str(1 - sg),
             "-threads", str(workers), "-binary", "0", "-debug", "2"], watch="stdout", cwd=work)
        # its vocabulary pass ends where its first progress line arrives (stdout is flushed there)
        vocab_s = next((t for t, text in lines if "Progress:" in text), float("nan"))
        kv = ec.KeyedVectors.load_word2vec_format(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    words, vectors = kv.words, kv.vectors
    if words and words[0] == "</s>":
        words, vectors = words[1:], vectors[1:]
    return seconds, vocab_s, words, vectors


def word2vec_c_row(name, path, sg, ctx, settings, files, label, binary):
    """word2vec.c vs embedcore, each from the text file to a text vectors file: vocabulary pass,
    training and output on both sides, one run each; both vector sets scored by `score`."""
    kind = "skip-gram" if sg else "CBOW"
    settings = with_alpha(settings, sg)
    peer_s, peer_vocab_s, words, vectors = run_word2vec_c(binary, path, sg, ctx.workers, settings, ctx.scratch)
    work = tempfile.mkdtemp(prefix="embedcore-", dir=ctx.scratch)
    try:
        t0 = time.perf_counter()
        vocab_s, train_s, _, model = run_embedcore(path, sg, ctx.workers, settings)
        model.wv.save_word2vec_format(os.path.join(work, "embedcore.txt"))
        ours_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peer_q = score(to_gensim(words, vectors), files)
    ours_q = score(to_gensim(model.wv.words, model.wv.vectors), files)
    raw_words = model.vocab.total_words * settings["epochs"]
    return Row(name, f"{kind} from text to vectors file, {label}, {ctx.workers} threads",
               f"word2vec.c ({_peers.version('word2vec')})", peer_s, ours_s,
               peer_quality=describe_quality(peer_q), ours_quality=describe_quality(ours_q),
               notes=f"whole runs: vocabulary pass, training and writing text vectors on both sides; words/s "
                     f"word2vec.c {raw_words / peer_s / 1e3:.0f}k, embedcore {raw_words / ours_s / 1e3:.0f}k "
                     f"({raw_words / train_s / 1e3:.0f}k in training alone); vocabulary pass word2vec.c "
                     f"{peer_vocab_s:.1f} s (to its first progress line), embedcore {vocab_s:.1f} s (vocab+encode); "
                     f"{len(words):,} vs {len(model.wv.words):,} words; alpha {settings['alpha']} both, hs 0; "
                     f"word2vec.c has no seed option (deterministic per run only with 1 thread); one run each")


def _real(ctx, sg):
    path = ctx.data_file("corpus.txt")
    if path is None:
        return []
    settings = dict(SETTINGS, epochs=1) if ctx.quick else SETTINGS
    name, files = f"word2vec-{'sg' if sg else 'cbow'}-real", eval_files(ctx)
    label = f"real corpus, {settings['epochs']} epochs"
    rows = compare(name, path, sg, ctx, settings, files, label)
    tools = _peers.find("word2vec")
    if tools is None:
        rows[0].notes += "; " + _peers.missing_note("word2vec.c")
    else:
        rows.append(word2vec_c_row(name, path, sg, ctx, settings, files, label, tools["word2vec"]))
    return rows


@case("word2vec-sg-real", "word2vec", "skip-gram on the real English corpus vs gensim corpus_file")
def sg_real(ctx):
    return _real(ctx, 1)


@case("word2vec-cbow-real", "word2vec", "CBOW on the real English corpus vs gensim corpus_file")
def cbow_real(ctx):
    return _real(ctx, 0)


def _spread(qualities):
    """'analogy .148 (.145-.152), ...': mean (min-max) of each score over runs."""
    import numpy as np
    parts = []
    for key, label in (("analogy", "analogy"), ("ws353", "WS353"), ("simlex", "SimLex")):
        values = np.array([q[key] for q in qualities if key in q])
        if values.size:
            parts.append(f"{label} {values.mean():.3f} ({values.min():.3f}-{values.max():.3f})")
    return ", ".join(parts)


@case("word2vec-seeds", "word2vec", "skip-gram and CBOW quality over 3 seeds on the real corpus: gensim "
      "corpus_file, gensim from a list of sentences, embedcore")
def seeds(ctx):
    """One seed moves the analogy score by about a point, so this case trains each side with
    seeds 1, 2 and 3 (quick: 1 epoch, seeds 1 and 2) and reports the mean and range of each
    score, with the median training time. gensim runs in both of its modes, since their
    learning-rate schedules differ (see run_gensim)."""
    path = ctx.data_file("corpus.txt")
    if path is None:
        return []
    try:
        import gensim
        from gensim.models.word2vec import LineSentence
    except ImportError:
        return []
    import numpy as np
    settings = dict(SETTINGS, epochs=1) if ctx.quick else SETTINGS
    seed_list = (1, 2) if ctx.quick else (1, 2, 3)
    files = eval_files(ctx)
    sentences = list(LineSentence(path))
    rows = []
    for sg in (1, 0):
        kind = "skip-gram" if sg else "CBOW"
        s = with_alpha(settings, sg)
        runs = {"corpus_file": [], "iterable": [], "ours": []}
        for seed in seed_list:
            runs["corpus_file"].append(run_gensim(path, sg, ctx.workers, s, seed=seed))
            runs["iterable"].append(run_gensim(path, sg, ctx.workers, s, seed=seed, sentences=sentences))
            runs["ours"].append(run_embedcore(path, sg, ctx.workers, s, seed=seed))
        quality = {"corpus_file": [score(r[3], files) for r in runs["corpus_file"]],
                   "iterable": [score(r[3], files) for r in runs["iterable"]],
                   "ours": [score(to_gensim(r[3].wv.words, r[3].wv.vectors), files) for r in runs["ours"]]}
        ours_s = float(np.median([r[1] for r in runs["ours"]]))
        for mode, peer in (("corpus_file", f"gensim {gensim.__version__} corpus_file"),
                           ("iterable", f"gensim {gensim.__version__} list of sentences")):
            rows.append(Row(f"word2vec-{'sg' if sg else 'cbow'}-seeds",
                            f"{kind} train, real corpus, {s['epochs']} epochs, {ctx.workers} threads, "
                            f"seeds {', '.join(map(str, seed_list))}",
                            peer, float(np.median([r[1] for r in runs[mode]])), ours_s,
                            peer_quality=_spread(quality[mode]), ours_quality=_spread(quality["ours"]),
                            notes=f"mean (min-max) over seeds, median training time; alpha {s['alpha']} both"))
    return rows


def planted_quality(synth, analogy_path):
    def quality(words, vectors):
        kv = to_gensim(words, vectors)
        return {"planted": kv.evaluate_word_analogies(analogy_path, restrict_vocab=len(words))[0]}
    return quality


@case("word2vec-synthetic", "word2vec", "skip-gram and CBOW on a synthetic corpus with planted analogies")
def synthetic(ctx):
    from embedcore.datasets import synthetic_corpus
    n_tokens = 2_000_000 if ctx.quick else 20_000_000
    synth = synthetic_corpus(n_tokens, vocab_size=20_000, seed=0)
    path = os.path.join(ctx.scratch, "w2v-synthetic.txt")
    analogies = os.path.join(ctx.scratch, "w2v-planted.txt")
    synth.write_text(path)
    synth.write_analogies(analogies)
    settings = dict(SETTINGS, epochs=2 if ctx.quick else 5, min_count=1)
    rows = []
    for sg in (1, 0):
        rows += compare(f"word2vec-{'sg' if sg else 'cbow'}-synthetic", path, sg, ctx, settings, {},
                        f"synthetic {n_tokens / 1e6:.0f}M tokens, {settings['epochs']} epochs",
                        extra_quality=planted_quality(synth, analogies))
    os.remove(path)
    return rows


# ---------------------------------------------------------------------------------------------
# quality grid

# (vector_size, window, negative, sample, epochs): each parameter's range is covered, and the
# expensive ends are paired with cheap values of the others so that the grid runs in hours.
GRID = (
    (100, 5, 5, 1e-3, 5),
    (100, 5, 5, 1e-4, 5),
    (100, 5, 5, 1e-5, 5),
    (100, 5, 5, 0, 2),
    (50, 5, 5, 1e-3, 1),
    (50, 5, 5, 1e-3, 10),
    (200, 5, 5, 1e-3, 3),
    (300, 5, 5, 1e-4, 1),
    (300, 3, 3, 1e-5, 3),
    (100, 2, 5, 1e-3, 5),
    (100, 10, 5, 1e-4, 5),
    (150, 10, 10, 0, 1),
    (100, 5, 2, 1e-3, 5),
    (100, 5, 15, 1e-4, 3),
    (100, 2, 20, 1e-5, 5),
    (50, 8, 10, 1e-5, 10),
)
QUICK_GRID = ((50, 5, 5, 1e-3, 1), (50, 2, 10, 1e-5, 1))
GRID_SEEDS = (1, 2, 3)
QUALITY_KEYS = (("analogy", "analogy", 100.0, "pts"), ("ws353", "WS353", 1.0, ""), ("simlex", "SimLex", 1.0, ""))


def grid_setting_label(setting):
    dim, window, negative, sample, epochs = setting
    return f"dim {dim}, window {window}, negative {negative}, sample {sample:g}, {epochs} epochs"


def quality_gaps(ours, peer):
    """{key: mean(ours) - mean(peer)} over the seeds' quality dicts, for the keys both sides have."""
    import numpy as np
    gaps = {}
    for key, *_ in QUALITY_KEYS:
        a = [q[key] for q in ours if key in q]
        b = [q[key] for q in peer if key in q]
        if a and b:
            gaps[key] = float(np.mean(a) - np.mean(b))
    return gaps


def describe_gaps(gaps):
    """'analogy -0.31 pts, WS353 +0.004, SimLex -0.002' (analogy in accuracy points)."""
    parts = []
    for key, label, unit_scale, unit in QUALITY_KEYS:
        if key in gaps:
            value = gaps[key] * unit_scale
            parts.append(f"{label} {value:+.2f} {unit}".strip() if unit else f"{label} {value:+.3f}")
    return ", ".join(parts)


def worst_gaps(per_setting):
    """{key: (gap, label)}: the most negative gap (ours - peer) of each score over the settings;
    `per_setting` maps a label to its gaps dict."""
    worst = {}
    for label, gaps in per_setting.items():
        for key, gap in gaps.items():
            if key not in worst or gap < worst[key][0]:
                worst[key] = (gap, label)
    return worst


@case("word2vec-grid", "word2vec", "skip-gram and CBOW quality over 16 settings x 3 seeds against gensim from "
      "LineSentence (and word2vec.c where built), with gensim corpus_file throughput")
def grid(ctx):
    """Quality at every setting, not only the benchmarked one. For each setting of GRID and each
    model: embedcore (defaults; word2vec.c's learning rate, also given to gensim) and gensim
    trained from `LineSentence` (its documented schedule) with seeds 1-3: mean (min-max) of each
    score and the gap of the means. Speed: gensim `corpus_file` (its fastest mode, seed 1, one
    run) against embedcore's median training time; word2vec.c (when built) once per setting, its
    quality only. The last row holds the worst gap of each score over the grid. Quick: 2 small
    settings, seeds 1 and 2. The full grid takes about 2-3 hours on 2 cores."""
    path = ctx.data_file("corpus.txt")
    if path is None:
        return []
    try:
        import gensim
        from gensim.models.word2vec import LineSentence
    except ImportError:
        return []
    import logging
    import numpy as np
    import embedcore as ec
    files = eval_files(ctx)
    settings_list = QUICK_GRID if ctx.quick else GRID
    seeds = GRID_SEEDS[:2] if ctx.quick else GRID_SEEDS
    tools = _peers.find("word2vec")
    logger = logging.getLogger("embedcore")
    gensim_logger = logging.getLogger("gensim")
    level = gensim_logger.level
    gensim_logger.setLevel(logging.WARNING)  # its per-second progress lines would drown the log
    vocab = ec.Vocab.from_corpus(path, min_count=5)
    encoded = vocab.encode(path)
    rows, gaps_by_setting, speed, totals = [], {}, {1: [], 0: []}, [0.0, 0.0]
    try:
        for setting in settings_list:
            dim, window, negative, sample, epochs = setting
            base = dict(vector_size=dim, window=window, negative=negative, sample=sample, min_count=5,
                        epochs=epochs)
            for sg in (1, 0):
                kind = "skip-gram" if sg else "CBOW"
                s = with_alpha(base, sg)
                label = f"{kind}, {grid_setting_label(setting)}"
                ours_q, peer_q, ours_s, peer_s = [], [], [], []
                for seed in seeds:
                    _, t, _, model = run_embedcore(path, sg, ctx.workers, s, seed=seed,
                                                   vocab_and_corpus=(vocab, encoded))
                    ours_s.append(t)
                    ours_q.append(score(to_gensim(model.wv.words, model.wv.vectors), files))
                    _, t, _, kv = run_gensim(path, sg, ctx.workers, s, seed=seed, sentences=LineSentence(path))
                    peer_s.append(t)
                    peer_q.append(score(kv, files))
                    logger.info("word2vec-grid %s seed %d: embedcore %s (%.1f s), gensim LineSentence %s (%.1f s)",
                                label, seed, describe_quality(ours_q[-1]), ours_s[-1],
                                describe_quality(peer_q[-1]), peer_s[-1])
                _, file_s, raw_tokens, file_kv = run_gensim(path, sg, ctx.workers, s, seed=seeds[0])
                file_q = score(file_kv, files)
                median_ours = float(np.median(ours_s))
                speed[sg].append(file_s / median_ours)
                totals[0] += file_s
                totals[1] += median_ours
                gaps = quality_gaps(ours_q, peer_q)
                gaps_by_setting[label] = gaps
                words = raw_tokens * epochs
                notes = (f"{label}: gap of the means (embedcore - gensim LineSentence): {describe_gaps(gaps)}; "
                         f"words/s gensim corpus_file {words / file_s / 1e3:.0f}k (one run, seed {seeds[0]}, "
                         f"quality {describe_quality(file_q)}), embedcore {words / median_ours / 1e3:.0f}k "
                         f"(median of {len(seeds)}), gensim LineSentence {words / np.median(peer_s) / 1e3:.0f}k; "
                         f"alpha {s['alpha']} both")
                if tools is not None:
                    c_s, _, c_words, c_vectors = run_word2vec_c(tools["word2vec"], path, sg, ctx.workers, s,
                                                                ctx.scratch)
                    notes += (f"; word2vec.c (one run, {words / c_s / 1e3:.0f}k words/s whole run): "
                              f"{describe_quality(score(to_gensim(c_words, c_vectors), files))}")
                logger.info("word2vec-grid %s: %s", label, notes)
                rows.append(Row("word2vec-grid", f"{label}, {ctx.workers} threads",
                                f"gensim {gensim.__version__}: quality from LineSentence, time from corpus_file",
                                file_s, median_ours, peer_quality=_spread(peer_q), ours_quality=_spread(ours_q),
                                notes=notes))
    finally:
        gensim_logger.setLevel(level)
    worst = worst_gaps(gaps_by_setting)
    summary = "; ".join(f"{describe_gaps({key: worst[key][0]})} at {worst[key][1]}"
                        for key, *_ in QUALITY_KEYS if key in worst)
    rows.append(Row("word2vec-grid", f"worst gap over {len(settings_list)} settings x 2 models, "
                    f"seeds {', '.join(map(str, seeds))}",
                    "gensim LineSentence (quality); time: gensim corpus_file, all settings",
                    totals[0], totals[1], notes=(f"worst gap of the means (embedcore - gensim): {summary}; speed-up over "
                                      f"corpus_file: skip-gram {min(speed[1]):.2f}x-{max(speed[1]):.2f}x, "
                                      f"CBOW {min(speed[0]):.2f}x-{max(speed[0]):.2f}x")))
    return rows
