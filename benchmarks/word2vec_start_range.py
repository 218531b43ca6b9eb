"""The experiment behind Word2Vec's starting range: embedcore and gensim (from LineSentence), each
started from word2vec.c's range [-0.5/dim, 0.5/dim) and from gensim's [-1/dim, 1/dim), same
settings and seeds, scored by gensim's evaluation (benchmarks/RESULTS.md, "word2vec quality at
every setting").

    python benchmarks/word2vec_start_range.py --sg 1 --sample 1e-5 --seeds 1 2 3

Prints one JSON line per run (side, start range, seed, scores, training seconds), then the mean
and range of each group.
"""
import argparse
import json
import logging
import time
from unittest import mock

import numpy as np

import embedcore as ec
import embedcore.word2vec as ec_word2vec
from embedcore.benchcases._quality import EVAL_FILES, score, to_gensim

RANGES = {"word2vec.c": 0.5, "gensim": 1.0}  # half-width of the starting range, times 1/dim
GENSIM_START = ec_word2vec.initial_vectors


def train_embedcore(path, vocab, corpus, sg, seed, half_width, settings, workers):
    def start(n_words, dim, seed):
        return GENSIM_START(n_words, dim, seed) * np.float32(half_width)
    with mock.patch.object(ec_word2vec, "initial_vectors", start):
        t0 = time.perf_counter()
        model = ec.Word2Vec(sg=sg, seed=seed, workers=workers, device="cpu", **settings).fit(corpus, vocab=vocab)
    return time.perf_counter() - t0, to_gensim(model.wv.words, model.wv.vectors)


def train_gensim(path, sg, seed, half_width, settings, workers):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence
    s = dict(settings)
    epochs = s.pop("epochs")
    model = Word2Vec(sg=sg, seed=seed, workers=workers, **s)
    source = LineSentence(path)
    model.build_vocab(corpus_iterable=source)
    model.wv.vectors *= np.float32(half_width)  # gensim starts at half-width 1
    t0 = time.perf_counter()
    model.train(corpus_iterable=source, total_examples=model.corpus_count, epochs=epochs)
    return time.perf_counter() - t0, model.wv


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="benchmarks/data")
    p.add_argument("--sg", type=int, default=1)
    p.add_argument("--sample", type=float, default=1e-5)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--sides", nargs="+", default=["embedcore", "gensim"], choices=["embedcore", "gensim"])
    args = p.parse_args()
    logging.getLogger("gensim").setLevel(logging.WARNING)
    path = f"{args.data}/corpus.txt"
    files = {key: f"{args.data}/{name}" for key, name in EVAL_FILES.items()}
    settings = dict(vector_size=args.dim, window=args.window, negative=args.negative, sample=args.sample,
                    min_count=5, epochs=args.epochs, alpha=0.025 if args.sg else 0.05)
    vocab = ec.Vocab.from_corpus(path, min_count=5)
    corpus = vocab.encode(path)
    groups = {}
    for seed in args.seeds:
        for side in args.sides:
            for start, half_width in RANGES.items():
                if side == "embedcore":
                    seconds, kv = train_embedcore(path, vocab, corpus, args.sg, seed, half_width, settings,
                                                  args.workers)
                else:
                    seconds, kv = train_gensim(path, args.sg, seed, half_width, settings, args.workers)
                q = score(kv, files)
                print(json.dumps(dict(side=side, start=start, seed=seed, train_s=round(seconds, 2),
                                      **{k: round(v, 4) for k, v in q.items()})), flush=True)
                groups.setdefault((side, start), []).append(q)
    for (side, start), qs in groups.items():
        parts = []
        for key in ("analogy", "ws353", "simlex"):
            v = np.array([q[key] for q in qs])
            parts.append(f"{key} {v.mean():.4f} ({v.min():.4f}-{v.max():.4f})")
        print(f"{side:9s} from {start:10s} range, {len(qs)} seeds: " + ", ".join(parts))


if __name__ == "__main__":
    main()
