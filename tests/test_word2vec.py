"""Word2Vec: the SGD steps against float64 numpy references, the sampling tables against their
formulas, and the training loop's contract (loss, determinism, errors, callbacks)."""
import numpy as np
import pytest

import embedcore as ec
from embedcore import _sgd
from embedcore.word2vec import initial_vectors
from reference import analogy_accuracy

TWO32 = 2.0 ** 32


# ---------------------------------------------------------------------------------------------
# float64 references of one step

def table_sigmoid(f):
    """word2vec.c's sigmoid: a 1000-cell table on [-6, 6], saturated outside."""
    if f >= 6.0:
        return 1.0
    if f <= -6.0:
        return 0.0
    cell = int((np.float32(f) + np.float32(6.0)) * np.float32(1000 / 6.0 / 2.0))
    x = (cell / 1000 * 2.0 - 1.0) * 6.0
    return np.float32(np.exp(x) / (np.exp(x) + 1.0))


def ref_sg_exact(inp, out, centre, ctx, negs, alpha):
    """word2vec.c skip-gram: K fresh negatives per context word, applied pair by pair."""
    inp, out = inp.astype(np.float64), out.astype(np.float64)
    K = len(negs) // len(ctx)
    for a, c in enumerate(ctx):
        neu1e = np.zeros(inp.shape[1])
        for k in range(K + 1):
            t = centre if k == 0 else negs[a * K + k - 1]
            if k > 0 and t == centre:
                continue
            g = ((k == 0) - table_sigmoid(inp[c] @ out[t])) * alpha
            neu1e += g * out[t]
            out[t] += g * inp[c]
        inp[c] += neu1e
    return inp, out


def ref_sg_shared(inp, out, centre, ctx, negs, alpha):
    """Shared negatives: G = (labels - sigma(In Out^T)) alpha; In += G Out; Out += G^T In."""
    inp, out = inp.astype(np.float64), out.astype(np.float64)
    targets = [centre] + list(negs)
    G = np.zeros((len(ctx), len(targets)))
    for a, c in enumerate(ctx):
        for k, t in enumerate(targets):
            if k > 0 and t == centre:
                continue
            G[a, k] = ((k == 0) - table_sigmoid(inp[c] @ out[t])) * alpha
    d_in, d_out = G @ out[targets], G.T @ inp[ctx]
    np.add.at(inp, ctx, d_in)
    np.add.at(out, targets, d_out)
    return inp, out


def ref_cbow(inp, out, centre, ctx, negs, alpha, mean):
    """CBOW: h = mean (or sum) of the contexts; every context row gets the whole gradient of h
    (word2vec.c does not divide it by the context size, for the mean either)."""
    inp, out = inp.astype(np.float64), out.astype(np.float64)
    h = inp[ctx].sum(axis=0)
    if mean:
        h /= len(ctx)
    targets = [centre] + list(negs)
    g = np.zeros(len(targets))
    for k, t in enumerate(targets):
        if k > 0 and t == centre:
            continue
        g[k] = ((k == 0) - table_sigmoid(h @ out[t])) * alpha
    neu1e = g @ out[targets]
    np.add.at(out, targets, np.outer(g, h))
    np.add.at(inp, ctx, np.broadcast_to(neu1e, (len(ctx), inp.shape[1])))
    return inp, out


def random_model(n_words, dim, seed):
    rng = np.random.default_rng(seed)
    inp = rng.normal(0, 0.5, (n_words, dim)).astype(np.float32)
    out = rng.normal(0, 0.5, (n_words, dim)).astype(np.float32)
    return inp, out


STEP_CASES = [  # dim (tails of the 16-lane loops), contexts (a repeated word), negatives
    (5, [1, 2, 2, 4], [3, 0, 5]),
    (37, [6, 1, 3], [2, 5, 5, 4]),
    (100, [2, 4, 6, 1, 3, 5], [1, 3, 0, 6, 2]),
]


@pytest.mark.parametrize("dim,ctx,negs", STEP_CASES)
def test_skipgram_exact_step_equals_word2vec_reference(dim, ctx, negs):
    inp, out = random_model(7, dim, seed=dim)
    per_pair = np.array((negs * len(ctx))[: len(ctx) * len(negs)], dtype=np.int32)
    per_pair[1] = 0  # a negative equal to the centre word is skipped
    want_in, want_out = ref_sg_exact(inp, out, 0, ctx, per_pair, 0.05)
    _sgd.word2vec_step(inp, out, 0, np.array(ctx, np.int32), per_pair, 0.05, skip_gram=True, shared=False)
    np.testing.assert_allclose(inp, want_in, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)


@pytest.mark.parametrize("dim,ctx,negs", STEP_CASES)
def test_skipgram_shared_step_equals_block_reference(dim, ctx, negs):
    inp, out = random_model(7, dim, seed=dim + 1)
    negs = np.array(negs, np.int32)
    want_in, want_out = ref_sg_shared(inp, out, 0, ctx, negs, 0.05)
    _sgd.word2vec_step(inp, out, 0, np.array(ctx, np.int32), negs, 0.05, skip_gram=True, shared=True)
    np.testing.assert_allclose(inp, want_in, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)


@pytest.mark.parametrize("mean", [True, False])
@pytest.mark.parametrize("dim,ctx,negs", STEP_CASES)
def test_cbow_step_equals_reference(dim, ctx, negs, mean):
    inp, out = random_model(7, dim, seed=dim + 2)
    inp *= 0.5  # keep the summed context inside the sigmoid table
    negs = np.array([n for n in dict.fromkeys(negs)], np.int32)  # distinct negatives
    want_in, want_out = ref_cbow(inp, out, 0, ctx, negs, 0.05, mean)
    _sgd.word2vec_step(inp, out, 0, np.array(ctx, np.int32), negs, 0.05, skip_gram=False, cbow_mean=mean)
    np.testing.assert_allclose(inp, want_in, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)


def test_saturated_scores_give_full_gradient_outside_the_table():
    inp = np.zeros((2, 4), np.float32)
    out = np.zeros((2, 4), np.float32)
    inp[1] = 2.0
    out[1] = 2.0  # score 16 > 6 for the negative pair (centre 0, negative 1)
    out[0] = -2.0  # score -16 < -6 for the positive pair
    want_in, want_out = ref_sg_exact(inp, out, 0, [1], np.array([1], np.int32), 0.1)
    _sgd.word2vec_step(inp, out, 0, np.array([1], np.int32), np.array([1], np.int32), 0.1)
    np.testing.assert_allclose(inp, want_in, atol=1e-6)
    np.testing.assert_allclose(out, want_out, atol=1e-6)
    # positive: g = +alpha; negative: g = -alpha
    np.testing.assert_allclose(out[0], -2.0 + 0.1 * 2.0, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# tables

def alias_distribution(prob, alias):
    n = len(prob)
    p = prob / TWO32
    dist = p.copy()
    np.add.at(dist, alias, 1.0 - p)
    # a cell whose alias is itself contributes its whole mass to itself
    return dist / n


@pytest.mark.parametrize("counts", [[1000, 300, 300, 17, 5, 1], [7], [5, 0, 3], list(range(1, 2000))[::-1]])
def test_noise_table_is_unigram_to_the_three_quarters(counts):
    counts = np.array(counts, np.int64)
    prob, alias = _sgd.word2vec_noise_table(counts, 0.75)
    want = counts.astype(np.float64) ** 0.75
    want /= want.sum()
    np.testing.assert_allclose(alias_distribution(prob.astype(np.float64), alias), want, atol=1e-8)


def test_noise_table_rejects_all_zero_counts():
    with pytest.raises(ValueError, match="zero"):
        _sgd.word2vec_noise_table(np.zeros(3, np.int64), 0.75)


def test_keep_table_is_word2vec_subsampling_formula():
    counts = np.array([500_000, 60_000, 2_000, 100, 1], np.int64)
    total, t = int(counts.sum()), 1e-3
    keep = _sgd.word2vec_keep_table(counts, t, total)
    f = counts / total
    want = np.minimum(1.0, (np.sqrt(f / t) + 1) * t / f)
    np.testing.assert_allclose(keep / TWO32, want, atol=1e-9)
    assert want[0] < 0.1 and want[-1] == 1.0  # the formula really drops frequent words here


def test_keep_table_keeps_everything_when_sample_is_zero():
    keep = _sgd.word2vec_keep_table(np.array([10**9, 5], np.int64), 0.0, 10**9 + 5)
    assert (keep == 2**32).all()


# ---------------------------------------------------------------------------------------------
# training

def topic_sentences(n_sentences=600, groups=8, per_group=6, length=12, seed=0):
    """Sentences that each draw their words from one group: words of a group co-occur."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_sentences):
        g = rng.integers(groups)
        out.append([f"g{g}w{w}" for w in rng.integers(per_group, size=length)])
    return out


@pytest.fixture(scope="module")
def topic_corpus():
    sentences = topic_sentences()
    vocab = ec.Vocab.from_corpus(sentences, min_count=1)
    return sentences, vocab, vocab.encode(sentences)


@pytest.mark.parametrize("sg", [1, 0])
@pytest.mark.parametrize("sharing", [True, False])
def test_loss_falls_across_epochs(topic_corpus, sg, sharing):
    _, vocab, corpus = topic_corpus
    model = ec.Word2Vec(vector_size=16, window=3, sg=sg, sample=0, epochs=4, workers=1,
                        negative_sharing=sharing).fit(corpus, vocab=vocab)
    loss = model.loss_history
    assert len(loss) == 4 and all(np.isfinite(loss))
    assert loss[-1] < 0.8 * loss[0]


@pytest.mark.parametrize("sg", [1, 0])
def test_words_of_a_group_end_up_closer_than_words_of_other_groups(topic_corpus, sg):
    _, vocab, corpus = topic_corpus
    model = ec.Word2Vec(vector_size=16, window=3, sg=sg, sample=0, epochs=5, workers=1).fit(corpus, vocab=vocab)
    v = model.wv.vectors / np.linalg.norm(model.wv.vectors, axis=1, keepdims=True)
    group = np.array([int(w[1:w.index("w")]) for w in vocab.words])
    sim = v @ v.T
    same = sim[(group[:, None] == group[None, :]) & ~np.eye(len(group), dtype=bool)].mean()
    other = sim[group[:, None] != group[None, :]].mean()
    assert same > other + 0.3


@pytest.mark.parametrize("sg", [1, 0])
def test_one_worker_with_the_same_seed_is_bit_identical(topic_corpus, sg):
    _, vocab, corpus = topic_corpus
    runs = [ec.Word2Vec(vector_size=12, sg=sg, epochs=2, workers=1, seed=s).fit(corpus, vocab=vocab)
            for s in (7, 7, 8)]
    assert np.array_equal(runs[0].wv.vectors, runs[1].wv.vectors)
    assert np.array_equal(runs[0].syn1neg, runs[1].syn1neg)
    assert runs[0].loss_history == runs[1].loss_history
    assert not np.array_equal(runs[0].wv.vectors, runs[2].wv.vectors)


def test_two_workers_train_to_a_similar_loss(topic_corpus):
    _, vocab, corpus = topic_corpus
    one = ec.Word2Vec(vector_size=16, window=3, epochs=3, workers=1).fit(corpus, vocab=vocab)
    two = ec.Word2Vec(vector_size=16, window=3, epochs=3, workers=2).fit(corpus, vocab=vocab)
    assert two.stats["workers"] == 2
    assert two.loss_history[-1] == pytest.approx(one.loss_history[-1], rel=0.15)


def test_initial_vectors_follow_gensim(topic_corpus):
    """Input rows uniform in [-1/dim, 1/dim) (gensim 4's range), output rows zero: with a vanishing
    learning rate the trained vectors are the initial ones."""
    _, vocab, corpus = topic_corpus
    model = ec.Word2Vec(vector_size=10, alpha=1e-30, min_alpha=1e-30, epochs=1, workers=1).fit(corpus, vocab=vocab)
    v = model.wv.vectors
    assert v.min() >= -0.1 and v.max() < 0.1 and v.std() == pytest.approx(0.2 / np.sqrt(12), rel=0.05)
    assert np.abs(model.syn1neg).max() < 1e-20


def test_every_word_of_one_long_sentence_is_trained():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 50, size=60_000).astype(np.int32)
    ids[-1] = 49  # the very last token too
    vocab = ec.Vocab([f"w{i}" for i in range(50)], np.bincount(ids, minlength=50))
    corpus = ec.EncodedCorpus(ids)  # one sentence of 60,000 tokens
    model = ec.Word2Vec(vector_size=8, sample=0, epochs=1, workers=1).fit(corpus, vocab=vocab)
    init = initial_vectors(50, 8, seed=1)
    assert (np.abs(model.wv.vectors - init).max(axis=1) > 0).all()
    assert model.stats["words_trained"] == 60_000


def test_stats_count_raw_tokens_times_epochs(topic_corpus):
    _, vocab, corpus = topic_corpus
    model = ec.Word2Vec(vector_size=8, epochs=3, workers=2).fit(corpus, vocab=vocab)
    s = model.stats
    assert s["words_trained"] == 3 * len(corpus)
    assert s["train_seconds"] > 0 and s["words_per_sec"] == pytest.approx(s["words_trained"] / s["train_seconds"])
    assert s["epochs_completed"] == 3 and not s["interrupted"]


def test_stats_count_the_source_tokens_that_min_count_dropped(topic_corpus):
    # gensim and word2vec.c count every token of the text as trained, in vocabulary or not
    sentences, _, _ = topic_corpus
    sentences = sentences + [["rare1", "rare2"]]
    model = ec.Word2Vec(vector_size=8, min_count=2, epochs=2, workers=1).fit(sentences)
    assert model.stats["words_trained"] == 2 * sum(len(s) for s in sentences)


def test_fit_on_text_builds_the_vocabulary_with_min_count(topic_corpus):
    sentences, _, _ = topic_corpus
    sentences = sentences + [["rare"]]
    model = ec.Word2Vec(vector_size=8, min_count=2, epochs=1, workers=1).fit(sentences)
    assert "rare" not in model.vocab and len(model.wv.words) == len(model.vocab)
    assert model.wv.vectors.shape == (len(model.vocab), 8)


def test_callbacks_run_at_every_epoch_end(topic_corpus):
    _, vocab, corpus = topic_corpus
    seen = []

    class GensimStyle:
        def on_epoch_end(self, model):
            seen.append(("obj", len(model.loss_history)))

    ec.Word2Vec(vector_size=8, epochs=2, workers=1,
                callbacks=[lambda m, e: seen.append(("fn", e)), GensimStyle()]).fit(corpus, vocab=vocab)
    assert seen == [("fn", 0), ("obj", 1), ("fn", 1), ("obj", 2)]


def test_interrupt_leaves_a_usable_model(topic_corpus):
    _, vocab, corpus = topic_corpus

    def stop(model, epoch):
        raise KeyboardInterrupt

    model = ec.Word2Vec(vector_size=8, epochs=5, workers=1, callbacks=[stop]).fit(corpus, vocab=vocab)
    assert model.stats["interrupted"] and model.stats["epochs_completed"] == 1
    assert model.stats["words_trained"] == len(corpus)
    assert np.isfinite(model.wv.vectors).all()


@pytest.mark.parametrize("simd", ["avx512", "avx2", "baseline"])
def test_every_simd_variant_trains_the_same_model(topic_corpus, simd):
    _, vocab, corpus = topic_corpus
    ref = ec.Word2Vec(vector_size=20, epochs=2, workers=1, _simd="baseline").fit(corpus, vocab=vocab)
    model = ec.Word2Vec(vector_size=20, epochs=2, workers=1, _simd=simd).fit(corpus, vocab=vocab)
    # FMA contraction and summation order differ between variants; the training does not
    np.testing.assert_allclose(model.wv.vectors, ref.wv.vectors, atol=1e-3)


# ---------------------------------------------------------------------------------------------
# errors

@pytest.mark.parametrize("kwargs,match", [
    (dict(window=0), "window must be >= 1"),
    (dict(negative=-1), "negative must be >= 0"),
    (dict(vector_size=0), "vector_size must be >= 1"),
    (dict(epochs=0), "epochs must be >= 1"),
    (dict(sample=-1e-3), "sample must be >= 0"),
    (dict(sg=2), "sg must be <= 1"),
    (dict(alpha=0.0), "alpha must be > 0"),
    (dict(workers=0), "workers must be a positive"),
])
def test_bad_hyperparameters_are_rejected_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ec.Word2Vec(**kwargs)


def test_wrong_types_are_rejected_by_name():
    with pytest.raises(TypeError, match="window must be an int"):
        ec.Word2Vec(window=2.5)
    with pytest.raises(TypeError, match="negative_sharing must be a bool"):
        ec.Word2Vec(negative_sharing="yes")


def test_empty_corpus_is_an_error():
    vocab = ec.Vocab(["a", "b"], [3, 2])
    with pytest.raises(ValueError, match="corpus is empty"):
        ec.Word2Vec(workers=1).fit(ec.EncodedCorpus(np.array([], np.int32)), vocab=vocab)
    with pytest.raises(ValueError, match="no tokens"):
        ec.Word2Vec(workers=1).fit([[], []])


def test_vocabulary_without_a_word_over_min_count_is_an_error():
    with pytest.raises(ValueError, match="min_count=5"):
        ec.Word2Vec(min_count=5, workers=1).fit([["a", "b", "c"], ["a"]])


def test_ids_outside_the_vocabulary_are_an_error():
    vocab = ec.Vocab(["a", "b"], [3, 2])
    with pytest.raises(ValueError, match="corpus ids must be < len\\(vocab\\) = 2, got id 2"):
        ec.Word2Vec(workers=1).fit(ec.EncodedCorpus(np.array([0, 1, 2], np.int32)), vocab=vocab)


def test_encoded_corpus_without_vocab_is_an_error():
    with pytest.raises(TypeError, match="needs vocab="):
        ec.Word2Vec(workers=1).fit(ec.EncodedCorpus(np.array([0, 1], np.int32)))


def test_untrained_model_has_no_vectors():
    with pytest.raises(ValueError, match="not trained"):
        ec.Word2Vec().wv


def test_cuda_device_without_a_gpu_is_a_runtime_error(monkeypatch):
    from embedcore.backends import cuda
    monkeypatch.setattr(cuda, "_probe", lambda: (False, "no CUDA device is visible"))
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        ec.Word2Vec(device="cuda")


# ---------------------------------------------------------------------------------------------
# planted relations of the synthetic corpus

@pytest.fixture(scope="module")
def planted():
    from embedcore.datasets import synthetic_corpus
    return synthetic_corpus(1_000_000, 2_000, seed=0)


@pytest.mark.parametrize("sg,threshold", [(1, 0.9), (0, 0.9)])
def test_planted_analogies_are_recovered(planted, sg, threshold):
    model = ec.Word2Vec(vector_size=50, sg=sg, min_count=1, epochs=3, workers=1).fit(
        planted.corpus, vocab=planted.vocab)
    assert analogy_accuracy(model.wv.words, model.wv.vectors, planted.analogies) >= threshold
