"""The `embedcore` command line (also `python -m embedcore`).

Extension points for the kernels:
- TRAINERS maps a `--model` name of `embedcore train` to `function(args) -> (KeyedVectors, stats)`;
  model-specific options are added in `_add_train_options`.
- DEMO_MODELS lists `(name, function(synthetic, workers) -> KeyedVectors)` pairs that
  `embedcore demo` trains on the synthetic corpus, times, and scores on its planted analogies.
"""
import argparse
import logging
import os
import sys
import tempfile
import time

logger = logging.getLogger("embedcore")

from embedcore import glove as _glove  # noqa: E402
from embedcore import svd as _svd  # noqa: E402
from embedcore import word2vec as _word2vec  # noqa: E402

TRAINERS = {
    "sgns": lambda args: _word2vec.cli_train(args, sg=1),
    "cbow": lambda args: _word2vec.cli_train(args, sg=0),
    "glove": _glove.cli_train,
    "svd": _svd.cli_train,
}
DEMO_MODELS = [
    ("word2vec skip-gram", lambda synth, workers: _word2vec.demo_model(synth, workers, 1)),
    ("word2vec CBOW", lambda synth, workers: _word2vec.demo_model(synth, workers, 0)),
    ("glove (bias_learning_rate=0.05)", _glove.demo_model),
    ("svd", _svd.demo_model),
]


def _add_train_options(parser):
    parser.add_argument("source", nargs="+", help="text file(s), one sentence per line (.gz/.bz2 ok)")
    parser.add_argument("--model", required=True, choices=sorted(TRAINERS), help="what to train")
    parser.add_argument("-o", "--output", required=True,
                        help="vectors file to write (word2vec text; binary if it ends in .bin)")
    parser.add_argument("--dim", type=int, default=100, help="vector size (default 100)")
    parser.add_argument("--window", type=int, default=None, help="context window (model default)")
    parser.add_argument("--min-count", type=int, default=5, help="drop rarer words (default 5)")
    parser.add_argument("--max-vocab", type=int, default=None, help="keep at most this many words")
    parser.add_argument("--epochs", type=int, default=None, help="passes over the corpus (model default)")
    parser.add_argument("--workers", type=int, default=None, help="threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")


def _train(args):
    if not TRAINERS:
        raise SystemExit("embedcore train: no model is built into this version")
    start = time.perf_counter()
    kv, stats = TRAINERS[args.model](args)
    binary = args.output.endswith(".bin")
    kv.save_word2vec_format(args.output, binary=binary)
    seconds = time.perf_counter() - start
    details = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items())
    print(f"{args.model}: {len(kv)} words x {kv.vectors.shape[1]} dims written to {args.output} "
          f"in {seconds:.1f} s" + (f" ({details})" if details else ""))


def _load_vectors(path, binary, no_header):
    from embedcore import KeyedVectors
    if binary is None:
        binary = path.endswith(".bin") or path.endswith(".bin.gz")
    return KeyedVectors.load_word2vec_format(path, binary=binary, no_header=no_header)


def _similar(args):
    kv = _load_vectors(args.vectors, args.binary, args.no_header)
    for word in args.word:
        if word not in kv:
            raise SystemExit(f"embedcore similar: {word!r} is not in {args.vectors}")
        print(f"{word}:")
        for other, score in kv.most_similar(word, topn=args.k):
            print(f"  {score:+.4f}  {other}")


def _evaluate(args):
    from embedcore.evaluate import evaluate_word_analogies, evaluate_word_pairs
    if not args.analogies and not args.pairs:
        raise SystemExit("embedcore evaluate: give --analogies FILE and/or --pairs FILE")
    kv = _load_vectors(args.vectors, args.binary, args.no_header)
    if args.analogies:
        accuracy, sections = evaluate_word_analogies(kv.words, kv.vectors, args.analogies,
                                                     restrict_vocab=args.restrict_vocab, method=args.method)
        for section in sections:
            right, wrong = len(section["correct"]), len(section["incorrect"])
            share = f"{right / (right + wrong):6.1%}" if right + wrong else "     -"
            print(f"{section['section']:<32} {share}  ({right}/{right + wrong})")
    for path in args.pairs or []:
        pearson, spearman, oov = evaluate_word_pairs(kv.words, kv.vectors, path)
        print(f"{os.path.basename(path)}: Pearson {pearson[0]:.4f}, Spearman {spearman[0]:.4f}, "
              f"pairs with unknown words {oov:.1f}%")


def _demo(args):
    from embedcore import Vocab, build_info
    from embedcore.datasets import synthetic_corpus
    from embedcore.keyedvectors import KeyedVectors

    info = build_info()
    print(f"embedcore {info['version']}: openmp={info['openmp']} simd={info['simd']} "
          f"cuda={info['cuda']} threads={info['max_threads']}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="embedcore-demo-") as tmp:
        start = time.perf_counter()
        synth = synthetic_corpus(args.tokens, vocab_size=args.vocab, seed=args.seed)
        rows.append(("synthetic corpus", time.perf_counter() - start,
                     f"{len(synth.corpus):,} tokens, {len(synth.vocab):,} words, "
                     f"{len(synth.analogies):,} planted analogies"))

        text = os.path.join(tmp, "corpus.txt")
        start = time.perf_counter()
        synth.write_text(text)
        rows.append(("write as text", time.perf_counter() - start,
                     f"{os.path.getsize(text) / 1e6:.0f} MB"))

        start = time.perf_counter()
        vocab = Vocab.from_corpus(text, min_count=1)
        corpus = vocab.encode(text)
        seconds = time.perf_counter() - start
        same = vocab.words == synth.vocab.words and len(corpus) == len(synth.corpus)
        rows.append(("vocabulary + encode", seconds,
                     f"{len(corpus) / seconds / 1e6:.1f}M tokens/s; "
                     f"{'matches' if same else 'DIFFERS FROM'} the generator"))

        analogies = os.path.join(tmp, "analogies.txt")
        synth.write_analogies(analogies)
        for name, train in DEMO_MODELS:
            start = time.perf_counter()
            kv = train(synth, args.workers)
            seconds = time.perf_counter() - start
            accuracy, _ = kv.evaluate_word_analogies(analogies, restrict_vocab=len(kv))
            rows.append((name, seconds, f"planted analogies {accuracy:.1%} correct"))
            path = os.path.join(tmp, f"{name}.bin")
            kv.save_word2vec_format(path, binary=True)
            back = KeyedVectors.load_word2vec_format(path, binary=True)
            if back.words != kv.words or not (back.vectors == kv.vectors).all():
                raise SystemExit(f"embedcore demo: {name} vectors changed in a save/load round trip")

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  result")
    for name, seconds, result in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {result}")
    if not DEMO_MODELS:
        print("(no embedding model is built into this version yet)")


def _bench(args):
    from embedcore import bench
    rows = bench.run(args.cases or None, quick=args.quick, workers=args.workers, data_dir=args.data)
    print(f"machine: {bench.machine_description()}")
    print(bench.format_table(rows))
    if args.json:
        bench.write_json(rows, args.json)
    if args.plot:
        bench.plot(rows, args.plot)


def _info(args):
    from embedcore import build_info
    for key, value in build_info().items():
        print(f"{key}: {value}")


def build_parser():
    parser = argparse.ArgumentParser(prog="embedcore", description="Fast word embedding kernels.")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train every model on a synthetic corpus and show the results")
    p.add_argument("--tokens", type=int, default=2_000_000, help="corpus size (default 2,000,000)")
    p.add_argument("--vocab", type=int, default=5_000, help="vocabulary size (default 5,000)")
    p.add_argument("--workers", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_demo)

    if TRAINERS:
        p = sub.add_parser("train", help="train word vectors on a text corpus")
        _add_train_options(p)
        p.set_defaults(run=_train)

    p = sub.add_parser("similar", help="nearest words by cosine in a vectors file")
    p.add_argument("vectors", help="word2vec text or binary file (binary if it ends in .bin)")
    p.add_argument("word", nargs="+")
    p.add_argument("-k", type=int, default=10, help="how many neighbours (default 10)")
    p.add_argument("--binary", action="store_true", default=None, help="force the binary format")
    p.add_argument("--no-header", action="store_true", help="GloVe text without a header line")
    p.set_defaults(run=_similar)

    p = sub.add_parser("evaluate", help="analogy accuracy and word-pair correlations of a vectors file")
    p.add_argument("vectors", help="word2vec text or binary file (binary if it ends in .bin)")
    p.add_argument("--analogies", help="questions in the Google format (': section', then 'a b c d')")
    p.add_argument("--pairs", action="append", help="'word1 word2 score' file (repeatable)")
    p.add_argument("--restrict-vocab", type=int, default=30000,
                   help="analogy questions use the first N words (default 30000)")
    p.add_argument("--method", choices=["3cosadd", "3cosmul"], default="3cosadd")
    p.add_argument("--binary", action="store_true", default=None, help="force the binary format")
    p.add_argument("--no-header", action="store_true", help="GloVe text without a header line")
    p.set_defaults(run=_evaluate)

    p = sub.add_parser("bench", help="compare against the installed peers (gensim, faiss, sklearn)")
    p.add_argument("cases", nargs="*", help="case names (default: all)")
    p.add_argument("--quick", action="store_true", help="small sizes")
    p.add_argument("--workers", type=int, default=2, help="threads on both sides (default 2)")
    p.add_argument("--data", default=os.path.join("benchmarks", "data"),
                   help="folder with corpus.txt and the evaluation files (default benchmarks/data)")
    p.add_argument("--json", help="also write the rows as JSON here")
    p.add_argument("--plot", help="also write a bar chart (PNG) here")
    p.set_defaults(run=_bench)

    p = sub.add_parser("info", help="what this build was compiled with")
    p.set_defaults(run=_info)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        args.run(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError) as exc:
        raise SystemExit(f"embedcore {args.command}: {exc}") from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    return 0
