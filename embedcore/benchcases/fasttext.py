"""Subword skip-gram (fastText) against the fastText binary (the `fasttext` package) and gensim's
FastText, side by side, end to end: text file to trained model on every side.

Every side gets the same text file, vocabulary rule (min_count 5), hyperparameters (fastText's
defaults where the issue leaves them: lr 0.05, t 1e-4), threads and seed. A few words are held
out: dropped from the text every side trains on (words ending in -s, -ed or -ing whose stem is in
the vocabulary, none from the evaluation files), so that each side's vectors for these unseen
words can be checked: how often the nearest vocabulary word is an inflection of the same stem
(e.g. 'walking' for an unseen 'walked'), and how far the sides agree on the neighbours. Vocabulary
vectors are scored by gensim's evaluation functions (`_quality.score`).
"""
import os
import resource
import tempfile
import time

import numpy as np

from embedcore.benchcases._registry import Row, case
from embedcore.benchcases._quality import describe_quality, eval_files, score, to_gensim

SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-4, min_count=5, epochs=5, alpha=0.05, min_n=3,
                max_n=6, bucket=2_000_000)
SUFFIXES = ("s", "ed", "ing")


# ----------------------------------------------------------------------------------------------
# held-out words

def _eval_words(files):
    words = set()
    for path in files.values():
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith((":", "#")):
                    words.update(w.lower() for w in line.split()[:4])
    return words


def held_out_words(path, files, n=100, min_count=5):
    """Up to `n` words of the corpus (count 10..200, stem + -s/-ed/-ing with the stem in the
    vocabulary, not in the evaluation files), spread over the frequency range."""
    import embedcore as ec
    vocab = ec.Vocab.from_corpus(path, min_count=min_count)
    known, avoid = set(vocab.words), _eval_words(files)
    picks = []
    for word, count in zip(vocab.words, vocab.counts.tolist()):
        if not 10 <= count <= 200 or word in avoid or not word.isalpha():
            continue
        for suffix in SUFFIXES:
            stem = word[:-len(suffix)]
            if word.endswith(suffix) and len(stem) >= 4 and stem in known:
                picks.append(word)
                break
    step = max(1, len(picks) // n)
    return picks[::step][:n]


def write_without(path, words, out_path):
    """The text of `path` with every token in `words` removed, written to `out_path`."""
    drop = set(words)
    with open(path, encoding="utf-8") as src, open(out_path, "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(" ".join(t for t in line.split() if t not in drop) + "\n")


def stem_family(word, vocabulary):
    """The vocabulary words that inflect the same stem as `word` (stem, stem + s/ed/ing/es/e...)."""
    stem = next(word[:-len(s)] for s in SUFFIXES if word.endswith(s))
    return {v for v in vocabulary if v != word and v.startswith(stem) and len(v) - len(stem) <= 3}


def neighbours(words, vectors, queries, k=10):
    """Top-k vocabulary words by cosine for each query vector."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    top = np.argsort(-(q @ unit.T), axis=1)[:, :k]
    return [[words[i] for i in row] for row in top]


def oov_report(held_out, sides):
    """{'name': (family hit rate at 1, lists of neighbours)} for each side's (words, vectors,
    held-out vectors); the first side is the reference for agreement."""
    out = {}
    for name, (words, vectors, oov) in sides.items():
        lists = neighbours(words, vectors, oov)
        vocabulary = set(words)
        hits = [bool(lst) and lst[0] in stem_family(w, vocabulary) for w, lst in zip(held_out, lists)]
        out[name] = (float(np.mean(hits)) if hits else float("nan"), lists)
    return out


def agreement(a, b):
    """(share of equal nearest neighbours, mean overlap of the top-10 lists)."""
    same = np.mean([x[0] == y[0] for x, y in zip(a, b)])
    overlap = np.mean([len(set(x) & set(y)) / max(1, len(x)) for x, y in zip(a, b)])
    return float(same), float(overlap)


# ----------------------------------------------------------------------------------------------
# the three sides: each (seconds from text file to trained model, words, vectors, held-out vectors)

def run_embedcore(path, settings, workers, seed, held_out, **extra):
    import embedcore as ec
    t0 = time.perf_counter()
    model = ec.FastText(sg=1, workers=workers, seed=seed, device="cpu", **settings, **extra).fit(path)
    seconds = time.perf_counter() - t0
    wv = model.wv
    return seconds, wv.words, wv.vectors, np.stack([wv[w] for w in held_out]), model.stats


def run_fasttext(path, settings, workers, seed, held_out):
    import fasttext
    s = settings
    t0 = time.perf_counter()
    model = fasttext.train_unsupervised(path, model="skipgram", dim=s["vector_size"], ws=s["window"],
                                        neg=s["negative"], t=s["sample"], minCount=s["min_count"], epoch=s["epochs"],
                                        lr=s["alpha"], minn=s["min_n"], maxn=s["max_n"], bucket=s["bucket"],
                                        thread=workers, verbose=0)  # (no seed option in fasttext-wheel 0.9.2)
    seconds = time.perf_counter() - t0
    words = [w for w in model.words if w != "</s>"]  # fastText's end-of-line token
    vectors = np.stack([model.get_word_vector(w) for w in words])
    return seconds, words, vectors, np.stack([model.get_word_vector(w) for w in held_out]), {}


def run_gensim(path, settings, workers, seed, held_out):
    from gensim.models import FastText
    s = dict(settings)
    epochs = s.pop("epochs")
    t0 = time.perf_counter()
    model = FastText(sg=1, workers=workers, seed=seed, **s)
    model.build_vocab(corpus_file=path)
    model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=epochs)
    seconds = time.perf_counter() - t0
    wv = model.wv
    return seconds, list(wv.index_to_key), wv.vectors, np.stack([wv[w] for w in held_out]), {}


PEERS = {"fasttext": run_fasttext, "gensim": run_gensim}


def _cpu_seconds():
    """User + system CPU seconds of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peer_label(name):
    if name == "fasttext":
        from importlib.metadata import version
        for dist in ("fasttext-wheel", "fasttext"):
            try:
                return f"fastText ({dist} {version(dist)})"
            except Exception:
                continue
        return "fastText"
    import gensim
    return f"gensim {gensim.__version__} FastText corpus_file"


def run_embedcore_shared(path, settings, workers, seed, held_out):
    """embedcore with noise words shared by a centre word's pairs (negative_sharing=True)."""
    return run_embedcore(path, settings, workers, seed, held_out, negative_sharing=True)


def compare(path, settings, workers, files, label, seeds=(1,), peers=("fasttext", "gensim"), scratch=None,
            log=print, shared=False):
    """Rows (one per peer) and text lines: each side trained once per seed, alternating; the
    median time and the mean quality over seeds; held-out words checked on the last seed.
    `shared` adds embedcore with negative_sharing=True (a line, not a row)."""
    available = {}
    for name in peers:
        try:
            __import__("fasttext" if name == "fasttext" else "gensim")
            available[name] = PEERS[name]
        except ImportError:
            log(f"{name}: not installed, skipped")
    with tempfile.TemporaryDirectory(prefix="bench-fasttext-", dir=scratch) as tmp:
        held_out = held_out_words(path, files, min_count=settings["min_count"])
        text = os.path.join(tmp, "train.txt")
        write_without(path, held_out, text)
        ours = [("embedcore", run_embedcore)] + ([("embedcore shared", run_embedcore_shared)] if shared else [])
        results = {name: [] for name in [n for n, _ in ours] + list(available)}
        cpu = {name: [] for name in results}  # process CPU seconds (user + system) of each run
        for seed in seeds:
            for name, run in ours + list(available.items()):
                cpu0 = _cpu_seconds()
                r = run(text, settings, workers, seed, held_out)
                cpu[name].append(_cpu_seconds() - cpu0)
                q = score(to_gensim(r[1], r[2]), files)
                results[name].append((r, q))
                log(f"{name} seed {seed}: {r[0]:.1f} s wall, {cpu[name][-1]:.1f} s CPU, {describe_quality(q)}, "
                    f"load {os.getloadavg()[0]:.1f}")
    sides = {name: runs[-1][0][1:4] for name, runs in results.items()}
    report = oov_report(held_out, sides)

    def summary(name):
        runs = results[name]
        seconds = float(np.median([r[0] for r, _ in runs]))
        keys = runs[0][1].keys()
        mean_q = {k: float(np.mean([q[k] for _, q in runs])) for k in keys}
        return seconds, mean_q

    ours_s, ours_q = summary("embedcore")
    ours_q_text = describe_quality(ours_q) + f", held-out inflection@1 {report['embedcore'][0]:.2f}"
    stats = results["embedcore"][-1][0][4]
    rows, lines = [], []
    for name in available:
        peer_s, peer_q = summary(name)
        same, overlap = agreement(report[name][1], report["embedcore"][1])
        rows.append(Row("fasttext-real", f"subword skip-gram, text file to model, {label}, {workers} threads",
                        _peer_label(name), peer_s, ours_s,
                        peer_quality=describe_quality(peer_q) + f", held-out inflection@1 {report[name][0]:.2f}",
                        ours_quality=ours_q_text,
                        notes=(f"{len(seeds)} seed(s), median time, mean quality; {len(held_out)} held-out words: "
                               f"same nearest word as {name} {same:.2f}, top-10 overlap {overlap:.2f}; "
                               f"embedcore training {stats.get('words_per_sec', 0) / 1e3:.0f}k words/s, "
                               f"simd {stats.get('simd', '')}")))
    if shared:
        seconds, q = summary("embedcore shared")
        lines.append(f"embedcore negative_sharing=True: {seconds:.1f} s, {describe_quality(q)}, held-out "
                     f"inflection@1 {report['embedcore shared'][0]:.2f}")
    # on a shared machine the wall times depend on what else runs; CPU seconds (all threads)
    # measure the work each side did
    ours_cpu = float(np.median(cpu["embedcore"]))
    for name in list(available) + [n for n, _ in ours[1:]]:
        peer_cpu = float(np.median(cpu[name]))
        lines.append(f"CPU seconds (median over seeds): {name} {peer_cpu:.1f}, embedcore {ours_cpu:.1f}: "
                     f"{peer_cpu / ours_cpu:.2f}x; per seed {name} "
                     f"{', '.join(f'{c:.1f}' for c in cpu[name])} / embedcore "
                     f"{', '.join(f'{c:.1f}' for c in cpu['embedcore'])}")
    lines.append(f"held-out words ({len(held_out)}): {' '.join(held_out[:12])} ...")
    for name, (rate, lists) in report.items():
        examples = ", ".join(f"{w} -> {lst[0]}" for w, lst in list(zip(held_out, lists))[:6])
        lines.append(f"{name}: nearest word inflects the same stem for {rate:.0%}; e.g. {examples}")
    return rows, lines


@case("fasttext-real", "fasttext", "subword skip-gram on the real corpus vs the fastText binary and gensim "
      "FastText (quick: 1 epoch)")
def fasttext_real(ctx):
    path = ctx.data_file("corpus.txt")
    if path is None:
        return []
    settings = dict(SETTINGS, epochs=1) if ctx.quick else SETTINGS
    rows, _ = compare(path, settings, ctx.workers, eval_files(ctx), f"real corpus, {settings['epochs']} epochs",
                      scratch=ctx.scratch or None, log=lambda line: None)
    return rows
