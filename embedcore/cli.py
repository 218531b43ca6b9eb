"""The `embedcore` command line (also `python -m embedcore`).

The recipes live here, not in the model modules:
- TRAINERS maps a `--model` name of `embedcore train` to `function(args) -> (KeyedVectors, stats)`;
  the options are in `_add_train_options`.
- DEMO_MODELS lists `(name, function(synthetic, workers) -> KeyedVectors)` pairs that
  `embedcore demo` trains on the synthetic corpus, times, and scores on its planted analogies;
  DEMO_GRAPH_MODELS lists `(name, Node2Vec settings)` that it trains on a planted-partition graph
  and scores by link prediction and node classification.
- `embedcore train-graph EDGES -o VECTORS` trains Node2Vec on an edge-list file.

Behaviour every command shares:
- numeric options are checked when parsed, with the bounds the API uses (a 0 is an error where
  the API refuses it, never replaced by a default); a bad option exits with status 2;
- bad input, a corrupt file or an OS error (missing file, permission, full disk) prints one line
  on stderr and exits with status 1;
- Ctrl-C exits with status 130, and an output file is written only by a run that was not
  interrupted: `train -o FILE` leaves an existing FILE untouched;
- vector files are text or binary by name, the same way for reading and writing (``.bin``,
  before any ``.gz``/``.bz2``, is binary), or as `--binary`/`--text` say; ``.gz``/``.bz2`` names
  are compressed when written and any compressed file is read.
"""
import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from embedcore.corpus import EncodedCorpus
    from embedcore.datasets import SyntheticCorpus
    from embedcore.fasttext import FastText
    from embedcore.keyedvectors import KeyedVectors
    from embedcore.vocab import Vocab

logger = logging.getLogger("embedcore")


# ------------------------------------------------------------------------------ option types
def _int_option(minimum: int | None = None, maximum: int | None = None, nonzero: bool = False) -> Callable[[str], int]:
    """An argparse type: an int within [minimum, maximum] (and not 0 when `nonzero`)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {value}")
        if nonzero and value == 0:
            raise argparse.ArgumentTypeError("must be a thread count (> 0) or negative (-1: all cores), got 0")
        return value
    parse.__name__ = "integer"
    return parse


def _positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


_POSITIVE = _int_option(minimum=1)
_WORKERS = _int_option(nonzero=True)
_SEED = _int_option(minimum=0)


def _add_layout_options(parser: argparse.ArgumentParser, verb: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--binary", dest="layout", action="store_const", const="binary", default=None,
                       help=f"{verb} word2vec's binary format (default: binary for names ending in .bin, "
                            f"before any .gz/.bz2)")
    group.add_argument("--text", dest="layout", action="store_const", const="text",
                       help=f"{verb} word2vec's text format (default for other names)")
    parser.add_argument("--no-header", action="store_true", help="GloVe's text without the header line")


def _is_binary(args: argparse.Namespace, path: str) -> bool:
    from embedcore.formats import layout_of_name
    return (args.layout or layout_of_name(path)) == "binary"


# ---------------------------------------------------------------------------------- recipes
def _source(args: argparse.Namespace) -> "str | list[str]":
    from embedcore.corpus import check_restartable
    source = args.source[0] if len(args.source) == 1 else list(args.source)
    check_restartable(source)  # a pruned count (--max-vocab) reads it a second time for the ids
    return source


def _given(**options: Any) -> dict[str, Any]:
    """The options the user gave; the rest keep the model's defaults."""
    return {name: value for name, value in options.items() if value is not None}


def _vocab_and_corpus(args: argparse.Namespace, source: "str | list[str]") -> "tuple[Vocab, EncodedCorpus]":
    from embedcore.vocab import Vocab
    return Vocab.count_and_encode(source, min_count=args.min_count, max_size=args.max_vocab, progress=True)


def _train_word2vec(args: argparse.Namespace, sg: int) -> "tuple[KeyedVectors, dict[str, Any]]":
    """`embedcore train --model sgns|cbow`: vocabulary, ids, then word2vec."""
    from embedcore.word2vec import Word2Vec
    vocab, corpus = _vocab_and_corpus(args, _source(args))
    model = Word2Vec(vector_size=args.dim, sg=sg, min_count=args.min_count, workers=args.workers, seed=args.seed,
                     progress=True, **_given(window=args.window, epochs=args.epochs))
    model.fit(corpus, vocab=vocab)
    s = model.stats
    return model.wv, {"words_per_sec": s["words_per_sec"], "train_seconds": s["train_seconds"],
                      "final_loss": model.loss_history[-1] if model.loss_history else float("nan")}


def _train_fasttext(args: argparse.Namespace) -> "tuple[FastText, dict[str, Any]]":
    """`embedcore train --model fasttext`: vocabulary, ids, then subword skip-gram. Returns the
    model: `_train` writes fastText's .bin for a .bin name, else the word vectors."""
    from embedcore.fasttext import FastText
    vocab, corpus = _vocab_and_corpus(args, _source(args))
    model = FastText(vector_size=args.dim, min_count=args.min_count, workers=args.workers, seed=args.seed,
                     progress=True, **_given(window=args.window, epochs=args.epochs, min_n=args.min_n,
                                             max_n=args.max_n, bucket=args.bucket))
    model.fit(corpus, vocab=vocab)
    s = model.stats
    return model, {"words_per_sec": s["words_per_sec"], "train_seconds": s["train_seconds"],
                   "final_loss": model.loss_history[-1] if model.loss_history else float("nan")}


def _train_glove(args: argparse.Namespace) -> "tuple[KeyedVectors, dict[str, Any]]":
    """`embedcore train --model glove`: vocabulary, counts (window 10 by default), GloVe."""
    from embedcore.cooccurrence import cooccurrence
    from embedcore.glove import GloVe
    vocab, corpus = _vocab_and_corpus(args, _source(args))
    cooc = cooccurrence(corpus, len(vocab), window=10 if args.window is None else args.window, workers=args.workers)
    model = GloVe(vector_size=args.dim, workers=args.workers, seed=args.seed, progress=True,
                  **_given(epochs=args.epochs)).fit(cooc, vocab=vocab)
    return model.wv, {"nonzeros": cooc.nnz,
                      "final_cost": model.loss_history[-1] if model.loss_history else float("nan")}


def _train_svd(args: argparse.Namespace) -> "tuple[KeyedVectors, dict[str, Any]]":
    """`embedcore train --model svd`: vocabulary, counts (window 5 by default), PPMI, SVD."""
    from embedcore.cooccurrence import cooccurrence
    from embedcore.svd import SVDEmbedding
    if args.epochs is not None:
        raise ValueError("--epochs does not apply to --model svd (it is not trained in epochs)")
    vocab, corpus = _vocab_and_corpus(args, _source(args))
    window = 5 if args.window is None else args.window
    cooc = cooccurrence(corpus, len(vocab), window=window, workers=args.workers, progress=True)
    dim = args.dim
    if dim > len(vocab):
        logger.warning("--dim %d is more than the %d words of the vocabulary; using %d", dim, len(vocab), len(vocab))
        dim = len(vocab)
    model = SVDEmbedding(vector_size=dim, window=window, workers=args.workers, seed=args.seed).fit(cooc, vocab=vocab)
    return model.wv, {"nonzeros": cooc.nnz, "ppmi_nonzeros": model.stats["nnz"],
                      "svd_seconds": model.stats["svd_seconds"]}


def _demo_word2vec(synthetic: "SyntheticCorpus", workers: int | None, sg: int) -> "KeyedVectors":
    from embedcore.word2vec import Word2Vec
    return Word2Vec(sg=sg, min_count=1, workers=workers).fit(synthetic.corpus, vocab=synthetic.vocab).wv


def _demo_glove(synthetic: "SyntheticCorpus", workers: int | None) -> "KeyedVectors":
    """Window 10, dim 100, 15 epochs, with the paper's bias rule. Each planted word meets only its
    ~14 snippet words, and GloVe fits only nonzero counts: with the default rule (Stanford's
    current one) the fast-learning biases absorb those counts and the planted analogies are not
    recovered, by Stanford's glove either."""
    from embedcore.cooccurrence import cooccurrence
    from embedcore.glove import GloVe
    cooc = cooccurrence(synthetic.corpus, len(synthetic.vocab), window=10, workers=workers)
    return GloVe(vector_size=100, epochs=15, workers=workers, bias_learning_rate=0.05).fit(
        cooc, vocab=synthetic.vocab).wv


def _demo_svd(synthetic: "SyntheticCorpus", workers: int | None) -> "KeyedVectors":
    """PPMI-SVD, window 5, dim 100."""
    from embedcore.svd import SVDEmbedding
    model = SVDEmbedding(vector_size=min(100, len(synthetic.vocab)), workers=workers)
    return model.fit(synthetic.corpus, vocab=synthetic.vocab).wv


TRAINERS: "dict[str, Callable[[argparse.Namespace], tuple[Any, dict[str, Any]]]]" = {
    "sgns": lambda args: _train_word2vec(args, sg=1),
    "cbow": lambda args: _train_word2vec(args, sg=0),
    "glove": _train_glove,
    "svd": _train_svd,
    "fasttext": _train_fasttext,
}
DEMO_MODELS: "list[tuple[str, Callable[[SyntheticCorpus, int | None], KeyedVectors]]]" = [
    ("word2vec skip-gram", lambda synthetic, workers: _demo_word2vec(synthetic, workers, 1)),
    ("word2vec CBOW", lambda synthetic, workers: _demo_word2vec(synthetic, workers, 0)),
    ("glove (bias_learning_rate=0.05)", _demo_glove),
    ("svd", _demo_svd),
]


DEMO_GRAPH_MODELS: list[tuple[str, dict[str, Any]]] = [
    ("DeepWalk (p=1, q=1)", dict(p=1.0, q=1.0)),
    ("node2vec (p=1, q=0.5)", dict(p=1.0, q=0.5)),
]


# --------------------------------------------------------------------------------- commands
class _Interrupted:
    """Whether Ctrl-C was pressed while the command ran, even where a model caught it to stop
    training early: a run that was interrupted must not write its output."""

    seen = False

    @classmethod
    def check(cls) -> None:
        if cls.seen:
            raise KeyboardInterrupt


def _train(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    if args.model != "fasttext" and (args.min_n, args.max_n, args.bucket) != (None, None, None):
        raise ValueError("--min-n, --max-n and --bucket apply to --model fasttext only")
    kv, stats = TRAINERS[args.model](args)
    _Interrupted.check()  # partly trained vectors never replace the output
    if args.model == "fasttext":  # the model: fastText's .bin for a .bin name, else its word vectors
        from embedcore.fasttext import save_facebook_model
        model, kv = kv, kv.wv
        if args.layout is None and not args.no_header and os.fspath(args.output).endswith(".bin"):
            save_facebook_model(model, args.output)
            kv = None
    if kv is not None:
        kv.save_word2vec_format(args.output, binary=_is_binary(args, args.output), write_header=not args.no_header)
    else:
        kv = model.wv
    seconds = time.perf_counter() - start
    details = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items())
    print(f"{args.model}: {len(kv)} words x {kv.vectors.shape[1]} dims written to {args.output} "
          f"in {seconds:.1f} s" + (f" ({details})" if details else ""))


def _train_graph(args: argparse.Namespace) -> None:
    from embedcore.node2vec import Node2Vec
    start = time.perf_counter()
    model = Node2Vec(vector_size=args.dim, walk_length=args.walk_length, walks_per_node=args.walks_per_node,
                     window=args.window, p=args.p, q=args.q, negative=args.negative, epochs=args.epochs,
                     weighted=args.weighted, directed=args.directed, workers=args.workers, seed=args.seed,
                     progress=True)
    model.fit(args.edges, save_walks=args.save_walks)
    _Interrupted.check()  # partly trained vectors never replace the output
    kv = model.wv
    kv.save_word2vec_format(args.output, binary=_is_binary(args, args.output), write_header=not args.no_header)
    s = model.stats
    print(f"node2vec: {len(kv)} nodes x {kv.vectors.shape[1]} dims written to {args.output} in "
          f"{time.perf_counter() - start:.1f} s (nodes_per_sec={s['nodes_per_sec']:.4g}, "
          f"train_seconds={s['train_seconds']:.4g}, walks={s['walks']})")


def _load_vectors(args: argparse.Namespace) -> "KeyedVectors":
    """Word vectors of a word2vec/GloVe file, or of a fastText .bin model (by its magic number),
    whose vectors answer unseen words too."""
    from embedcore import KeyedVectors
    from embedcore.formats import fasttext_bin
    if args.layout is None and fasttext_bin.is_fasttext_bin(args.vectors):
        from embedcore.fasttext import load_facebook_model
        return load_facebook_model(args.vectors).wv
    return KeyedVectors.load_word2vec_format(args.vectors, binary=_is_binary(args, args.vectors),
                                             no_header=args.no_header)


def _similar(args: argparse.Namespace) -> None:
    kv = _load_vectors(args)
    for word in args.word:
        if word not in kv:
            raise ValueError(f"{word!r} is not in {args.vectors}")
        print(f"{word}:")
        for other, score in kv.most_similar(word, topn=args.k):
            print(f"  {score:+.4f}  {other}")


def _plot(args: argparse.Namespace) -> None:
    kv = _load_vectors(args)
    shown, _ = kv.plot(args.words, args.output, neighbours=args.neighbours, method=args.method, seed=args.seed)
    print(f"wrote {args.output}: {len(shown)} words")


def _evaluate(args: argparse.Namespace) -> None:
    from embedcore.evaluate import evaluate_word_analogies, evaluate_word_pairs
    if not args.analogies and not args.pairs:
        raise ValueError("give --analogies FILE and/or --pairs FILE")
    kv = _load_vectors(args)
    if args.analogies:
        accuracy, sections = evaluate_word_analogies(cast(list[str], kv.words), kv.vectors, args.analogies,
                                                     restrict_vocab=args.restrict_vocab, method=args.method)
        for section in sections:
            right, wrong = len(section["correct"]), len(section["incorrect"])
            share = f"{right / (right + wrong):6.1%}" if right + wrong else "     -"
            print(f"{section['section']:<32} {share}  ({right}/{right + wrong})")
    for path in args.pairs or []:
        pearson, spearman, oov = evaluate_word_pairs(cast(list[str], kv.words), kv.vectors, path,
                                                     restrict_vocab=args.restrict_vocab)
        print(f"{os.path.basename(path)}: Pearson {pearson[0]:.4f}, Spearman {spearman[0]:.4f}, "
              f"pairs with unknown words {oov:.1f}%")


def _demo(args: argparse.Namespace) -> None:
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
                raise RuntimeError(f"{name} vectors changed in a save/load round trip")

    rows += _demo_graph(args)
    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  result")
    for name, seconds, result in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {result}")


def _demo_graph(args: argparse.Namespace) -> list[tuple[Any, ...]]:
    """The graph part of the demo: a planted-partition graph, edges held out, DeepWalk and
    node2vec trained on the rest, then link-prediction AUC (cosine) and, with scikit-learn,
    node classification."""
    from embedcore.datasets import stochastic_block_model
    from embedcore.evaluate import evaluate_link_prediction, evaluate_node_classification, link_prediction_split
    from embedcore.node2vec import Node2Vec
    start = time.perf_counter()
    adjacency, labels = stochastic_block_model(args.graph_nodes, args.graph_nodes * 10, n_communities=10,
                                               mixing=0.3, seed=args.seed)
    split = link_prediction_split(adjacency, test_fraction=0.1, seed=args.seed)
    rows = [("planted-partition graph", time.perf_counter() - start,
             f"{adjacency.shape[0]:,} nodes, {adjacency.nnz // 2:,} edges, 10 communities; 10% of edges held out")]
    for name, settings in DEMO_GRAPH_MODELS:
        start = time.perf_counter()
        model = Node2Vec(vector_size=64, walk_length=40, walks_per_node=10, window=5, workers=args.workers,
                         seed=args.seed, **settings).fit(split["train_graph"])
        seconds = time.perf_counter() - start
        result = f"link prediction AUC {evaluate_link_prediction(model.wv, split, method='cosine'):.3f}"
        try:
            micro, macro = evaluate_node_classification(model.wv, labels, seed=args.seed)
            result += f", communities macro-F1 {macro:.3f} (chance 0.1)"
        except ImportError:
            result += " (pip install scikit-learn for node classification)"
        rows.append((name, seconds, result))
    return rows


def _bench(args: argparse.Namespace) -> None:
    from embedcore import bench
    rows = bench.run(args.cases or None, quick=args.quick, workers=args.workers, data_dir=args.data)
    print(f"machine: {bench.machine_description()}")
    print(bench.format_table(rows))
    if args.json:
        bench.write_json(rows, args.json)
    if args.plot:
        bench.plot(rows, args.plot)


def _info(args: argparse.Namespace) -> None:
    from embedcore import build_info
    for key, value in build_info().items():
        print(f"{key}: {value}")


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="+", help="text file(s), one sentence per line (gzip/bz2 ok)")
    parser.add_argument("--model", required=True, choices=sorted(TRAINERS), help="what to train")
    parser.add_argument("-o", "--output", required=True,
                        help="vectors file to write (word2vec text; binary if it ends in .bin or .bin.gz; "
                             "compressed if it ends in .gz or .bz2; with --model fasttext a name ending in .bin "
                             "gets fastText's .bin model); replaced only by a complete run")
    _add_layout_options(parser, "write")
    parser.add_argument("--dim", type=_POSITIVE, default=100, help="vector size (default 100)")
    parser.add_argument("--window", type=_POSITIVE, default=None,
                        help="context window (default: 5 for sgns, cbow and svd, 10 for glove)")
    parser.add_argument("--min-count", type=_POSITIVE, default=5, help="drop rarer words (default 5)")
    parser.add_argument("--max-vocab", type=_POSITIVE, default=None, help="keep at most this many words")
    parser.add_argument("--epochs", type=_POSITIVE, default=None,
                        help="passes over the corpus (default: 5 for sgns and cbow, 15 for glove)")
    parser.add_argument("--workers", type=_WORKERS, default=None,
                        help="threads (default: all cores; -1 all, -k all but k-1)")
    parser.add_argument("--seed", type=_SEED, default=1, help="random seed (default 1)")
    parser.add_argument("--min-n", type=_POSITIVE, default=None, help="fasttext: shortest n-gram (default 3)")
    parser.add_argument("--max-n", type=_POSITIVE, default=None, help="fasttext: longest n-gram (default 6)")
    parser.add_argument("--bucket", type=_POSITIVE, default=None,
                        help="fasttext: n-gram rows (default 2,000,000: 800 MB at dim 100)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="embedcore", description="Fast word embedding kernels.")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train every model on a synthetic corpus and show the results")
    p.add_argument("--tokens", type=_POSITIVE, default=2_000_000, help="corpus size (default 2,000,000)")
    p.add_argument("--vocab", type=_POSITIVE, default=5_000, help="vocabulary size (default 5,000)")
    p.add_argument("--workers", type=_WORKERS, default=None, help="threads (default: all cores)")
    p.add_argument("--seed", type=_SEED, default=0)
    p.add_argument("--graph-nodes", type=_int_option(minimum=100), default=2_000,
                   help="nodes of the demo graph (10 edges per node; default 2,000)")
    p.set_defaults(run=_demo)

    p = sub.add_parser("train", help="train word vectors on a text corpus")
    _add_train_options(p)
    p.set_defaults(run=_train)

    p = sub.add_parser("train-graph", help="train node vectors (DeepWalk / node2vec) on an edge-list file")
    p.add_argument("edges", help="'src dst [weight]' lines, spaces or tabs, node names any token (gzip/bz2 ok)")
    p.add_argument("-o", "--output", required=True,
                   help="vectors file to write, keyed by node name (word2vec text; binary if it ends in .bin)")
    _add_layout_options(p, "write")
    p.add_argument("--dim", type=_POSITIVE, default=128, help="vector size (default 128)")
    p.add_argument("--walk-length", type=_POSITIVE, default=80, help="nodes per walk (default 80)")
    p.add_argument("--walks-per-node", type=_POSITIVE, default=10, help="walks from each node (default 10)")
    p.add_argument("--window", type=_POSITIVE, default=10, help="context window on a walk (default 10)")
    p.add_argument("--p", type=_positive_float, default=1.0, help="return parameter (default 1: DeepWalk)")
    p.add_argument("--q", type=_positive_float, default=1.0, help="in-out parameter (default 1: DeepWalk)")
    p.add_argument("--negative", type=_int_option(minimum=0), default=5, help="noise nodes per pair (default 5)")
    p.add_argument("--epochs", type=_POSITIVE, default=1, help="passes, each on fresh walks (default 1)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--weighted", dest="weighted", action="store_const", const=True, default=None,
                       help="use the third column as edge weights (every line must have one)")
    group.add_argument("--unweighted", dest="weighted", action="store_const", const=False,
                       help="ignore a third column (default: weighted when the file has unequal weights)")
    p.add_argument("--directed", action="store_true", help="follow edges from src to dst only")
    p.add_argument("--save-walks", help="also write the walks here, one per line")
    p.add_argument("--workers", type=_WORKERS, default=None, help="threads (default: all cores)")
    p.add_argument("--seed", type=_SEED, default=1, help="random seed (default 1)")
    p.set_defaults(run=_train_graph)

    p = sub.add_parser("similar", help="nearest words by cosine in a vectors file")
    p.add_argument("vectors", help="word2vec text or binary file (binary if it ends in .bin or .bin.gz), or a "
                                   "fastText .bin model (then unseen words have vectors too)")
    p.add_argument("word", nargs="+")
    p.add_argument("-k", type=_POSITIVE, default=10, help="how many neighbours (default 10)")
    _add_layout_options(p, "read")
    p.set_defaults(run=_similar)

    p = sub.add_parser("plot", help="2-D map (PCA or t-SNE) of chosen words and their neighbours, as PNG/SVG/PDF")
    p.add_argument("vectors", help="word2vec text or binary file (binary if it ends in .bin or .bin.gz), or a "
                                   "fastText .bin model")
    p.add_argument("--words", nargs="+", required=True, help="the words to show")
    p.add_argument("-o", "--output", required=True, help="image file; its suffix picks the format (.png, .svg, .pdf)")
    p.add_argument("--neighbours", type=_int_option(minimum=0), default=0,
                   help="also show this many nearest neighbours of each word (default 0)")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca",
                   help="projection: pca (default) or tsne (needs openTSNE)")
    p.add_argument("--seed", type=_SEED, default=0, help="random seed of the projection (default 0)")
    _add_layout_options(p, "read")
    p.set_defaults(run=_plot)

    p = sub.add_parser("evaluate", help="analogy accuracy and word-pair correlations of a vectors file")
    p.add_argument("vectors", help="word2vec text or binary file (binary if it ends in .bin or .bin.gz)")
    p.add_argument("--analogies", help="questions in the Google format (': section', then 'a b c d')")
    p.add_argument("--pairs", action="append", help="'word1 word2 score' file (repeatable)")
    p.add_argument("--restrict-vocab", type=_POSITIVE, default=300000,
                   help="questions use the first N words (default 300000, gensim's)")
    p.add_argument("--method", choices=["3cosadd", "3cosmul"], default="3cosadd")
    _add_layout_options(p, "read")
    p.set_defaults(run=_evaluate)

    p = sub.add_parser("bench", help="compare against the installed peers (gensim, faiss, sklearn)")
    p.add_argument("cases", nargs="*", help="case names (default: all)")
    p.add_argument("--quick", action="store_true", help="small sizes")
    p.add_argument("--workers", type=_WORKERS, default=2, help="threads on both sides (default 2)")
    p.add_argument("--data", default=os.path.join("benchmarks", "data"),
                   help="folder with corpus.txt and the evaluation files (default benchmarks/data)")
    p.add_argument("--json", help="also write the rows as JSON here")
    p.add_argument("--plot", help="also write a bar chart (PNG) here")
    p.set_defaults(run=_bench)

    p = sub.add_parser("info", help="what this build was compiled with")
    p.set_defaults(run=_info)
    return parser


def _one_line(exc: BaseException) -> str:
    """An exception as the one line the command prints."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror}"
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return str(exc.args[0])
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns 0 on success, raises SystemExit with the exit status otherwise."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s", stream=sys.stderr)
    _Interrupted.seen = False
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)

        def on_interrupt(signum: int, frame: FrameType | None) -> None:
            _Interrupted.seen = True
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_interrupt)
    try:
        args.run(args)
        _Interrupted.check()
    except KeyboardInterrupt:
        print(f"embedcore {args.command}: interrupted" + (
            f"; {args.output} was not written" if getattr(args, "output", None) else ""), file=sys.stderr)
        raise SystemExit(130) from None
    except BrokenPipeError:
        # the reader of our output went away (`embedcore similar ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(1) from None
    except (ValueError, TypeError, KeyError, OSError, RuntimeError, MemoryError, ImportError) as exc:
        raise SystemExit(f"embedcore {args.command}: {_one_line(exc)}") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 0
