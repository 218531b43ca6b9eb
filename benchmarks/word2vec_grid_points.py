"""Chosen points of the word2vec quality grid (`embedcore bench word2vec-grid`), one run per line:
embedcore's defaults and gensim from LineSentence (its documented schedule), same settings, seeds
and learning rate, scored by the grid's ruler. For when the whole grid is too long for the machine.
gensim trains from LineSentence's sentences read into a list once (the same sentences, read faster).

    python benchmarks/word2vec_grid_points.py --points sg:100,5,5,1e-5,5 cbow:100,5,5,1e-4,5 \
        --seeds 1 2 3 > runs.jsonl
    python benchmarks/word2vec_grid_points.py --summarize runs.jsonl

A point is model:dim,window,negative,sample,epochs. Each run prints one JSON line (side, point,
seed, scores, training seconds); --summarize prints, per point, each side's mean (min-max) over
the seeds and the gap of the means, as benchmarks/RESULTS.md records them.
"""
import argparse
import json
import logging
import sys

import numpy as np

KEYS = ("analogy", "ws353", "simlex")


def parse_point(text):
    model, _, numbers = text.partition(":")
    if model not in ("sg", "cbow"):
        raise argparse.ArgumentTypeError(f"point {text!r}: model must be sg or cbow")
    dim, window, negative, sample, epochs = numbers.split(",")
    return model, (int(dim), int(window), int(negative), float(sample), int(epochs))


def point_label(model, setting):
    from embedcore.benchcases.word2vec import grid_setting_label
    return f"{'skip-gram' if model == 'sg' else 'CBOW'}, {grid_setting_label(setting)}"


def run(points, seeds, sides, data, workers):
    import embedcore as ec
    from gensim.models.word2vec import LineSentence
    from embedcore.benchcases._quality import EVAL_FILES, score, to_gensim
    from embedcore.benchcases.word2vec import run_embedcore, run_gensim, with_alpha
    logging.getLogger("gensim").setLevel(logging.WARNING)
    path = f"{data}/corpus.txt"
    files = {key: f"{data}/{name}" for key, name in EVAL_FILES.items()}
    vocab = ec.Vocab.from_corpus(path, min_count=5)
    encoded = vocab.encode(path)
    sentences = list(LineSentence(path)) if "gensim" in sides else None  # read once, LineSentence's split
    for model, setting in points:
        dim, window, negative, sample, epochs = setting
        sg = int(model == "sg")
        s = with_alpha(dict(vector_size=dim, window=window, negative=negative, sample=sample, min_count=5,
                            epochs=epochs), sg)
        for seed in seeds:
            for side in sides:
                if side == "embedcore":
                    _, seconds, _, m = run_embedcore(path, sg, workers, s, seed=seed, vocab_and_corpus=(vocab, encoded))
                    q = score(to_gensim(m.wv.words, m.wv.vectors), files)
                else:
                    _, seconds, _, kv = run_gensim(path, sg, workers, s, seed=seed, sentences=sentences)
                    q = score(kv, files)
                print(json.dumps(dict(side=side, point=f"{model}:{','.join(map(str, setting))}", seed=seed,
                                      train_s=round(seconds, 2), **{k: round(float(q[k]), 4) for k in KEYS})),
                      flush=True)


def summarize(lines):
    groups = {}
    for line in lines:
        r = json.loads(line)
        groups.setdefault(r["point"], {}).setdefault(r["side"], []).append(r)
    print("| setting | seeds | embedcore analogy / WS353 / SimLex | gensim LineSentence | gap (analogy pts / WS353 / SimLex) | train s ratio gensim/embedcore |")
    print("|---|---|---|---|---|---|")
    for point, sides in groups.items():
        model, setting = parse_point(point)
        cells, means = [], {}
        for side in ("embedcore", "gensim"):
            runs = sides.get(side, [])
            if not runs:
                cells.append("-")
                continue
            parts = []
            for key in KEYS:
                v = np.array([r[key] for r in runs])
                scale = 100 if key == "analogy" else 1
                means[side, key] = v.mean()
                fmt = ".1f" if key == "analogy" else ".3f"
                parts.append(f"{v.mean() * scale:{fmt}} ({v.min() * scale:{fmt}}-{v.max() * scale:{fmt}})")
            cells.append(" / ".join(parts))
        if all(("embedcore", k) in means and ("gensim", k) in means for k in KEYS):
            gap = " / ".join(f"{(means['embedcore', k] - means['gensim', k]) * (100 if k == 'analogy' else 1):+.{1 if k == 'analogy' else 3}f}"
                             for k in KEYS)
            ours_s = np.median([r["train_s"] for r in sides["embedcore"]])
            peer_s = np.median([r["train_s"] for r in sides["gensim"]])
            ratio = f"{peer_s / ours_s:.1f}x"
        else:
            gap, ratio = "-", "-"
        seeds = sorted({r["seed"] for runs in sides.values() for r in runs})
        print(f"| {point_label(model, setting)} | {','.join(map(str, seeds))} | {cells[0]} | {cells[1]} | {gap} | {ratio} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=parse_point, nargs="+")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--sides", nargs="+", default=["embedcore", "gensim"], choices=["embedcore", "gensim"])
    p.add_argument("--data", default="benchmarks/data")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--summarize", metavar="JSONL", help="summarize the runs of a file written by this script")
    args = p.parse_args()
    if args.summarize:
        with open(args.summarize) as f:
            summarize([line for line in f if line.startswith("{")])
    elif args.points:
        run(args.points, args.seeds, args.sides, args.data, args.workers)
    else:
        p.error("give --points or --summarize")


if __name__ == "__main__":
    sys.exit(main())
