"""The one ruler every bench case scores word vectors with: gensim's own evaluation functions on
the Google analogy set (restrict_vocab=30000), WordSim353 and SimLex-999 (Spearman), read from
the bench data folder or, failing that, gensim's test data."""
import logging
import os

import numpy as np

EVAL_FILES = {"analogies": "questions-words.txt", "ws353": "wordsim353.tsv", "simlex": "simlex999.txt"}


def eval_files(ctx=None):
    """{'analogies': path, 'ws353': path, 'simlex': path} for the files found; {} without gensim
    and data."""
    found = {}
    for key, name in EVAL_FILES.items():
        path = ctx.data_file(name) if ctx is not None else None
        if path is None:
            try:
                from gensim.test.utils import datapath
                path = datapath(name)
            except ImportError:
                path = None
        if path is not None and os.path.exists(path):
            found[key] = path
    return found


def to_gensim(words, vectors):
    """gensim KeyedVectors holding `words` and `vectors` (float32)."""
    from gensim.models import KeyedVectors
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(list(words), np.asarray(vectors, dtype=np.float32))
    return kv


def score(kv, files, restrict_vocab=30000):
    """Quality of gensim KeyedVectors: {'analogy': acc, 'ws353': rho, 'simlex': rho} for the
    files given (NaN for a word-pair set with no pair in the vocabulary)."""
    out = {}
    gensim_logger = logging.getLogger("gensim")
    level = gensim_logger.level
    gensim_logger.setLevel(logging.WARNING)
    try:
        if "analogies" in files:
            out["analogy"] = kv.evaluate_word_analogies(files["analogies"], restrict_vocab=restrict_vocab)[0]
        for key in ("ws353", "simlex"):
            if key in files:
                try:
                    out[key] = kv.evaluate_word_pairs(files[key])[1][0]
                except ValueError:  # no pair in the vocabulary
                    out[key] = float("nan")
    finally:
        gensim_logger.setLevel(level)
    return out


def score_vectors(words, vectors, ctx):
    """`score` of plain words and vectors; {} when gensim is not installed."""
    try:
        kv = to_gensim(words, vectors)
    except ImportError:
        return {}
    return score(kv, eval_files(ctx))


def describe_quality(q):
    """'analogy .148, WS353 .539, SimLex .302' (and 'planted' when present)."""
    parts = []
    if "analogy" in q:
        parts.append(f"analogy {q['analogy']:.3f}")
    if "planted" in q:
        parts.append(f"planted {q['planted']:.3f}")
    for key, label in (("ws353", "WS353"), ("simlex", "SimLex")):
        if key in q:
            parts.append(f"{label} {q[key]:.3f}")
    return ", ".join(parts)
