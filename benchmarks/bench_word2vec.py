"""Skip-gram and CBOW: embedcore vs gensim Word2Vec(corpus_file=...), side by side in one process.

    python benchmarks/bench_word2vec.py                 # real corpus, 5 epochs, sg and CBOW
    python benchmarks/bench_word2vec.py --quick         # 1 epoch on the first 1M lines' worth
    python benchmarks/bench_word2vec.py --threads       # adds embedcore 1 vs 2 threads
    python benchmarks/bench_word2vec.py --exact         # adds word2vec.c's per-pair update
    python benchmarks/bench_word2vec.py --scale         # adds 5M vs 50M synthetic tokens, sg and CBOW (linearity)
    python benchmarks/bench_word2vec.py --simd          # adds embedcore forced to AVX2 and baseline code

The real corpus is benchmarks/data/corpus.txt (python benchmarks/make_corpus.py builds it), the
evaluation files come from benchmarks/data/ or gensim's test data. Prints a table with words/s,
the ratio and the quality of both sides, scored by gensim's evaluation functions.
"""
import os
import tempfile
import time

import _common
from embedcore.benchcases import _quality as quality
from embedcore.benchcases import word2vec as w2v


def main(argv=None):
    p = _common.parser(__doc__, quick="1 epoch on a 1M-token prefix of the corpus", corpus=True)
    p.add_argument("--models", default="sg,cbow", help="sg, cbow or both (default sg,cbow)")
    p.add_argument("--threads", action="store_true", help="also embedcore with 1 thread vs --workers")
    p.add_argument("--exact", action="store_true", help="also embedcore with negative_sharing=False")
    p.add_argument("--scale", action="store_true", help="also 5M vs 50M synthetic tokens, 1 epoch")
    p.add_argument("--simd", action="store_true", help="also embedcore forced to each SIMD variant")
    p.add_argument("--repeats", type=int, default=2, help="alternating runs per side (best time is kept)")
    args = _common.parse(p, argv)

    report = _common.Report()
    with tempfile.TemporaryDirectory(prefix="bench-w2v-") as tmp:
        ctx = _common.context(args, scratch=tmp, data_dir=os.path.dirname(args.corpus))
        path = _common.training_corpus(args, tmp)
        settings = dict(w2v.SETTINGS)
        if args.quick:
            settings["epochs"] = 1
        files = quality.eval_files(ctx)
        label = _common.corpus_label(args, settings["epochs"])
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        import embedcore as ec
        vocab = ec.Vocab.from_corpus(path, min_count=settings["min_count"])
        encoded = vocab.encode(path)
        for model in models:
            sg = 1 if model == "sg" else 0
            settings["alpha"] = 0.025 if sg else 0.05
            report.add(w2v.compare(f"word2vec-{model}", path, sg, ctx, settings, files, label,
                                   repeats=args.repeats))
            if args.exact:
                extra = dict(negative_sharing=False)
                r = w2v.run_embedcore(path, sg, args.workers, settings, vocab_and_corpus=(vocab, encoded), **extra)
                q = quality.score(quality.to_gensim(r[3].wv.words, r[3].wv.vectors), files)
                report.line(f"{model} embedcore {extra}: {r[3].stats['words_per_sec'] / 1e3:.0f}k words/s, "
                            f"{r[1]:.1f} s; {quality.describe_quality(q)}")
            if args.simd:
                for variant in ("avx512", "avx2", "baseline"):
                    r = w2v.run_embedcore(path, sg, args.workers, settings, vocab_and_corpus=(vocab, encoded),
                                          _simd=variant)
                    report.line(f"{model} embedcore simd={r[3].stats['simd']}: "
                                f"{r[3].stats['words_per_sec'] / 1e3:.0f}k words/s, {r[1]:.1f} s")
            if args.threads:
                rates = {}
                for workers in (1, args.workers):
                    r = w2v.run_embedcore(path, sg, workers, settings, vocab_and_corpus=(vocab, encoded))
                    rates[workers] = r[3].stats["words_per_sec"]
                report.line(f"{model} embedcore threads: 1 -> {rates[1] / 1e3:.0f}k words/s, {args.workers} -> "
                            f"{rates[args.workers] / 1e3:.0f}k words/s (x{rates[args.workers] / rates[1]:.2f})")
        if args.scale:
            # cost per token must not grow with the corpus: same vocabulary size, 10x the tokens;
            # CPU seconds (all threads) are printed too, since they are less sensitive to load
            from embedcore.datasets import synthetic_corpus
            per_token = {}
            for n_tokens in (5_000_000, 50_000_000):
                synth = synthetic_corpus(n_tokens, vocab_size=100_000, seed=0)
                for sg in (1, 0):
                    cpu = time.process_time()
                    r = w2v.run_embedcore(None, sg, args.workers, dict(settings, epochs=1, min_count=1),
                                          vocab_and_corpus=(synth.vocab, synth.corpus))
                    cpu = time.process_time() - cpu
                    model = "skip-gram" if sg else "CBOW"
                    per_token[model, n_tokens] = r[1] / n_tokens
                    report.line(f"scale {model} 1 epoch {n_tokens / 1e6:.0f}M synthetic tokens "
                                f"({len(synth.vocab):,} words): {r[1]:.2f} s, "
                                f"{r[3].stats['words_per_sec'] / 1e6:.2f}M words/s, "
                                f"{r[1] / n_tokens * 1e9:.0f} ns/token, {cpu / n_tokens * 1e9:.0f} CPU ns/token")
                    del r
                del synth
            for model in ("skip-gram", "CBOW"):
                ratio = per_token[model, 50_000_000] / per_token[model, 5_000_000]
                report.line(f"scale {model}: time per token 50M / 5M = {ratio:.2f}")
    report.finish(args.json)


if __name__ == "__main__":
    main()
