"""The text pass: Vocab.count_and_encode (the vocabulary and the encoded corpus in one reading)
against gensim's vocabulary scan (build_vocab)."""
import os

from embedcore.benchcases._registry import Row, alternate, case


def _gensim_vocab(path, workers):
    from gensim.models import Word2Vec
    model = Word2Vec(vector_size=100, min_count=5, workers=workers)
    model.build_vocab(corpus_file=path)
    return {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}


def _ours(path, workers):
    from embedcore import Vocab
    return Vocab.count_and_encode(path, min_count=5, workers=workers)


def _compare(name, path, ctx, label):
    size_mb = os.path.getsize(path) / 1e6
    try:
        import gensim
    except ImportError:
        seconds = alternate(lambda: None, lambda: _ours(path, ctx.workers), warmup=False)[1]
        return [Row(name, f"vocab+encode, {label}", "gensim (not installed)", None, seconds,
                    notes=f"{size_mb:.0f} MB of text")]
    peer_s, ours_s, words, (vocab, corpus) = alternate(
        lambda: _gensim_vocab(path, ctx.workers), lambda: _ours(path, ctx.workers), repeats=2, warmup=False)
    # gensim orders equal counts by last appearance, embedcore by first: compare as word -> count
    ours = dict(zip(vocab.words, vocab.counts.tolist()))
    same = "same words and counts" if words == ours else (
        f"vocabularies differ ({len(words)} vs {len(vocab)} words)")
    return [Row(name, f"vocab+encode, {label}", f"gensim {gensim.__version__} build_vocab",
                peer_s, ours_s, peer_quality=f"{len(words)} words", ours_quality=f"{len(vocab)} words",
                notes=f"{same}; {vocab.total_words / 1e6:.1f}M tokens, {size_mb:.0f} MB; ours also "
                      f"encodes the corpus to ids, gensim only counts")]


@case("text-real", "text", "vocabulary pass over the real English corpus vs gensim")
def text_real(ctx):
    path = ctx.data_file("corpus.txt")
    if path is None:
        return []
    return _compare("text-real", path, ctx, "real corpus")


@case("text-synthetic", "text", "vocabulary pass over a synthetic corpus vs gensim")
def text_synthetic(ctx):
    from embedcore.datasets import synthetic_corpus
    n_tokens = 5_000_000 if ctx.quick else 50_000_000
    path = os.path.join(ctx.scratch, "synthetic.txt")
    synthetic_corpus(n_tokens, vocab_size=100_000, seed=0).write_text(path)
    rows = _compare("text-synthetic", path, ctx, f"synthetic {n_tokens // 1_000_000}M tokens")
    os.remove(path)
    return rows
