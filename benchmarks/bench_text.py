"""The text pass (Vocab.from_corpus + encode) against gensim's vocabulary scan, side by side.

    pytest benchmarks/bench_text.py --benchmark-group-by=param:corpus --benchmark-min-rounds=2

Corpora: benchmarks/data/corpus.txt (the real English corpus: python benchmarks/make_corpus.py)
and a synthetic corpus of EMBEDCORE_BENCH_TOKENS tokens (default 50M). `embedcore bench text-real
text-synthetic` runs the same comparison and prints the ratio.
"""
import os

import pytest

import embedcore as ec

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "data", "corpus.txt")


@pytest.fixture(scope="module", params=["real", "synthetic"])
def corpus(request, tmp_path_factory):
    if request.param == "real":
        if not os.path.exists(REAL):
            pytest.skip("no real corpus: run python benchmarks/make_corpus.py")
        return REAL
    from embedcore.datasets import synthetic_corpus
    path = str(tmp_path_factory.mktemp("text") / "synthetic.txt")
    n_tokens = int(os.environ.get("EMBEDCORE_BENCH_TOKENS", 50_000_000))
    synthetic_corpus(n_tokens, vocab_size=100_000, seed=0).write_text(path)
    return path


def test_embedcore_vocab_and_encode(benchmark, corpus):
    def run():
        vocab = ec.Vocab.from_corpus(corpus, min_count=5)
        return vocab, vocab.encode(corpus)
    benchmark.pedantic(run, rounds=2, warmup_rounds=0)


def test_gensim_build_vocab(benchmark, corpus):
    gensim = pytest.importorskip("gensim")

    def run():
        model = gensim.models.Word2Vec(vector_size=100, min_count=5, workers=2)
        model.build_vocab(corpus_file=corpus)
        return model
    benchmark.pedantic(run, rounds=2, warmup_rounds=0)
