"""embedcore.FastText: fastText's n-grams and hashes, the subword step against a float64
reference, training, unseen words, and bad input."""
import numpy as np
import pytest

import embedcore as ec
from embedcore import _sgd
from embedcore.fasttext import FastTextKeyedVectors, ngram_buckets
from reference import sgns_pair


# ---------------------------------------------------------------------------------------------
# references

def fnv1a_fasttext(data):
    """fastText's hash written out: FNV-1a over bytes, each byte sign-extended from signed char."""
    h = 2166136261
    for byte in data:
        h ^= byte | 0xFFFFFF00 if byte >= 0x80 else byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def ngrams_reference(word, min_n, max_n):
    """fastText's n-grams of "<word>" in its order: by start character, then by length; the
    lone '<' and '>' left out."""
    w = "<" + word + ">"
    grams = []
    for i in range(len(w)):
        for n in range(1, max_n + 1):
            if i + n > len(w):
                break
            if n >= min_n and not (n == 1 and (i == 0 or i + n == len(w))):
                grams.append(w[i:i + n])
    return grams


def subword_step_reference(inp, out, rows, targets, weights, n_pos, alpha):
    """The subword step in float64, in place: h = mean of the input rows; per target
    g = (label - sigma(h . out_t)) alpha w_t; dh = sum g out_t (old rows); out_t += g h; every
    input row += dh. Returns the weighted loss."""
    h = inp[rows].mean(axis=0)
    grads, loss = [], 0.0
    for t, (target, weight) in enumerate(zip(targets, weights)):
        g, pair = sgns_pair(float(h @ out[target]), 1.0 if t < n_pos else 0.0, alpha)
        grads.append(g * weight)
        loss += pair * weight
    dh = sum(g * out[t] for g, t in zip(grads, targets))
    for g, t in zip(grads, targets):
        out[t] += g * h
    for r in rows:
        inp[r] += dh
    return loss


# ---------------------------------------------------------------------------------------------
# hashing and n-grams

@pytest.mark.parametrize("data,want", [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"foobar", 0xBF9CF968)])
def test_hash_is_fnv1a_on_ascii(data, want):
    # the published FNV-1a 32-bit test vectors
    assert _sgd.fasttext_hash(data) == want


def test_hash_sign_extends_bytes_above_0x7f():
    # one byte 0xC3: h = (2166136261 ^ 0xFFFFFFC3) * 16777619 mod 2**32 (fastText's signed char)
    assert _sgd.fasttext_hash(b"\xc3") == ((2166136261 ^ 0xFFFFFFC3) * 16777619) % 2**32 == 0xC5F34F72
    for word in ["été", "naïve", "日本語", "Ωmega", "a\u0301"]:
        data = word.encode("utf-8")
        assert _sgd.fasttext_hash(data) == fnv1a_fasttext(data)
    # the quirk changes the value: plain FNV-1a of the same bytes differs
    plain = 2166136261
    for byte in "é".encode("utf-8"):
        plain = ((plain ^ byte) * 16777619) & 0xFFFFFFFF
    assert _sgd.fasttext_hash("é".encode("utf-8")) != plain


@pytest.mark.parametrize("word", ["walking", "a", "ab", "été", "日本語テキスト", "naïveté", "x\u0301y", "</s>x"])
@pytest.mark.parametrize("min_n,max_n", [(3, 6), (1, 3), (2, 2), (5, 7)])
def test_ngram_buckets_match_the_reference(word, min_n, max_n):
    bucket = 2_000_000
    indptr, buckets = ngram_buckets([word], min_n, max_n, bucket)
    want = [fnv1a_fasttext(g.encode("utf-8")) % bucket for g in ngrams_reference(word, min_n, max_n)]
    assert indptr.tolist() == [0, len(want)]
    assert buckets.tolist() == want


def test_vocabulary_rows_put_the_word_first_then_its_ngrams():
    words = ["cat", "été", "</s>"]
    indptr, rows = _sgd.fasttext_subword_rows(words, 3, 4, 100, 3, True)
    assert indptr.tolist() == [0, 1 + 5, 6 + 1 + 5, 13]  # "</s>" has no n-grams (fastText's EOS)
    assert rows[0] == 0 and rows[6] == 1 and rows[12] == 2
    want = [3 + fnv1a_fasttext(g.encode()) % 100 for g in ngrams_reference("cat", 3, 4)]
    assert rows[1:6].tolist() == want


def test_ngrams_match_the_fasttext_package(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    text = tmp_path / "t.txt"
    text.write_text("walking walked walks été naïve 日本語 cat\n" * 20, encoding="utf-8")
    model = fasttext.train_unsupervised(str(text), model="skipgram", dim=4, epoch=1, minCount=1, minn=2, maxn=5,
                                        bucket=5000, thread=1, verbose=0)
    nwords = len(model.words)
    for word in ["walking", "été", "日本語", "walkings", "ünseen", "ab"]:
        _, ids = model.get_subwords(word)
        ids = ids.tolist()
        if word in model.words:
            assert ids[0] == model.words.index(word)
            ids = ids[1:]
        ours = ngram_buckets([word], 2, 5, 5000)[1] + nwords
        assert ours.tolist() == ids, word


# ---------------------------------------------------------------------------------------------
# the step

STEP_CASES = [
    # dim, input rows, targets, weights, positives
    (5, [0, 3, 4], [1, 2, 0], [1, 1, 2], 1),
    (16, [1, 5, 6, 7, 5], [2, 3, 1, 4, 0], [1, 1, 3, 0, 1], 2),
    (37, [2], [0, 1, 2, 3], [1, 1, 1, 1], 1),
    (100, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], [1, 1, 2, 3], [1, 1, 1, 2], 2),
]


@pytest.mark.parametrize("dim,rows,targets,weights,n_pos", STEP_CASES)
def test_subword_step_equals_the_float64_reference(dim, rows, targets, weights, n_pos):
    rng = np.random.default_rng(dim)
    inp = ((rng.random((20, dim)) - 0.5) * 0.8).astype(np.float32)
    out = ((rng.random((6, dim)) - 0.5) * 0.8).astype(np.float32)
    want_in, want_out = inp.astype(np.float64), out.astype(np.float64)
    want_loss = subword_step_reference(want_in, want_out, rows, targets, weights, n_pos, 0.05)
    loss = _sgd.fasttext_step(inp, out, np.array(rows, np.int32), np.array(targets, np.int32),
                              np.array(weights, np.float32), n_pos, 0.05)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    np.testing.assert_allclose(inp, want_in, atol=2e-6)
    np.testing.assert_allclose(out, want_out, atol=2e-6)


def test_step_refuses_rows_outside_the_matrix():
    inp, out = np.zeros((4, 3), np.float32), np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="rows"):
        _sgd.fasttext_step(inp, out, np.array([4], np.int32), np.array([0], np.int32), np.ones(1, np.float32), 1, .1)
    with pytest.raises(TypeError, match="input_vectors"):
        _sgd.fasttext_step(inp.astype(np.float64), out, np.array([0], np.int32), np.array([0], np.int32),
                           np.ones(1, np.float32), 1, 0.1)


# ---------------------------------------------------------------------------------------------
# training

def morphology_corpus(n_stems=16, seed=0):
    """Stems (random 6-letter strings) with the inflections -s, -ed, -ing, each stem in sentences
    of its own four topic words; 'walkings'-style forms (-ings) never appear."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    stems = sorted({"".join(rng.choice(letters, 6)) for _ in range(n_stems * 2)})[:n_stems]
    topics = {s: [f"t{i}x{j}" for j in range(4)] for i, s in enumerate(stems)}
    sentences = []
    for _ in range(150):
        for s in stems:
            words = [s + suffix for suffix in ("", "s", "ed", "ing")]
            sentence = list(rng.choice(topics[s], 3)) + [str(rng.choice(words))] + list(rng.choice(topics[s], 3))
            sentences.append(sentence)
    order = rng.permutation(len(sentences))
    return [sentences[i] for i in order], stems


@pytest.mark.parametrize("sg,sharing", [(1, True), (1, False), (0, True)])
def test_unseen_inflections_land_near_their_stems(sg, sharing):
    sentences, stems = morphology_corpus()
    model = ec.FastText(vector_size=32, window=3, negative=5, sg=sg, min_count=1, epochs=5, bucket=20_000,
                        sample=0, workers=1, seed=3, negative_sharing=sharing).fit(sentences)
    hits = 0
    for s in stems:
        unseen = s + "ings"
        assert unseen not in model.wv.key_to_index
        nearest = model.wv.most_similar(unseen, topn=1)[0][0]
        hits += nearest.startswith(s)
    assert hits >= 0.8 * len(stems)


def test_training_lowers_the_loss_and_is_deterministic_with_one_worker():
    sentences, _ = morphology_corpus(8)
    kwargs = dict(vector_size=16, min_count=1, epochs=3, bucket=5000, workers=1, seed=7)
    a = ec.FastText(**kwargs).fit(sentences)
    b = ec.FastText(**kwargs).fit(sentences)
    assert a.loss_history[-1] < a.loss_history[0]
    np.testing.assert_array_equal(a.input_vectors, b.input_vectors)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    assert a.input_vectors.shape == (len(a.vocab) + 5000, 16)
    assert a.stats["words_trained"] == 3 * sum(map(len, sentences))


@pytest.mark.parametrize("rows, dim", [(10_000, 7), (4097, 100), (1, 1), (0, 3)])
def test_initial_rows_are_uniform_and_do_not_depend_on_the_thread_count(rows, dim):
    one = _sgd.fasttext_initial_vectors(rows, dim, 5, 1)
    two = _sgd.fasttext_initial_vectors(rows, dim, 5, 2)
    assert one.shape == (rows, dim) and one.dtype == np.float32
    np.testing.assert_array_equal(one, two)
    x = one.astype(np.float64) * dim
    assert np.all(x >= -1.0) and np.all(x < 1.0)
    if rows * dim >= 10_000:  # mean 0, variance 1/3 of the unit range; blocks are not copies
        assert abs(x.mean()) < 0.03 and abs(x.var() - 1 / 3) < 0.02
        assert not np.array_equal(one[0], one[4096])  # each block of 4096 rows has its own stream
        assert not np.array_equal(one, _sgd.fasttext_initial_vectors(rows, dim, 6, 2))


def test_initial_rows_refuse_bad_shapes():
    with pytest.raises(ValueError, match="dim"):
        _sgd.fasttext_initial_vectors(3, 0, 1)


def test_vocabulary_vectors_are_the_mean_of_word_and_ngram_rows():
    sentences, _ = morphology_corpus(4)
    model = ec.FastText(vector_size=8, min_count=1, epochs=1, bucket=3000, min_n=2, max_n=4, workers=1).fit(sentences)
    word = model.vocab.words[3]
    i = model.vocab[word]
    rows = [i] + (ngram_buckets([word], 2, 4, 3000)[1] + len(model.vocab)).tolist()
    np.testing.assert_allclose(model.wv[word], model.input_vectors[rows].mean(axis=0), rtol=1e-5, atol=1e-7)
    unseen = word + "zz"
    rows = (ngram_buckets([unseen], 2, 4, 3000)[1] + len(model.vocab)).tolist()
    np.testing.assert_allclose(model.wv[unseen], model.input_vectors[rows].mean(axis=0), rtol=1e-5, atol=1e-7)


def test_keyed_vectors_answer_unseen_words():
    kv = FastTextKeyedVectors(["cat", "dog"], [[1.0, 0.0], [0.0, 1.0]], np.eye(2)[[0, 1] * 5], 3, 3)
    assert "zebra" in kv and "zebra" not in kv.key_to_index
    assert kv["zebra"].shape == (2,)
    assert kv[["cat", "zebra"]].shape == (2, 2)
    assert kv.similarity("cat", "cat") == pytest.approx(1.0)
    with pytest.raises(KeyError, match="zebra"):
        kv.index("zebra")
    with pytest.raises(KeyError):
        kv[""]  # no n-gram at all


def test_vec_output_through_the_word2vec_writer(tmp_path):
    sentences, _ = morphology_corpus(4)
    model = ec.FastText(vector_size=8, min_count=1, epochs=1, bucket=1000, workers=1).fit(sentences)
    model.wv.save_word2vec_format(tmp_path / "m.vec")
    kv = ec.KeyedVectors.load_word2vec_format(tmp_path / "m.vec")
    assert kv.words == model.wv.words
    np.testing.assert_array_equal(kv.vectors, model.wv.vectors)


def test_a_model_before_fit_raises_not_fitted():
    with pytest.raises(ec.NotFittedError):
        ec.FastText().wv


# ---------------------------------------------------------------------------------------------
# bad input

@pytest.mark.parametrize("kwargs,match", [
    (dict(min_n=5, max_n=3), "min_n must be <= max_n"),
    (dict(bucket=0), "bucket"),
    (dict(min_n=0), "min_n"),
    (dict(window=0), "window"),
    (dict(bucket=2**31), "bucket"),
])
def test_bad_settings_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ec.FastText(**kwargs)


def test_empty_corpus_raises():
    with pytest.raises(ValueError, match="min_count|empty"):
        ec.FastText(min_count=1).fit([[]])


def test_default_draws_noise_words_per_pair_on_the_cpu():
    from embedcore.backends import cpu
    assert ec.FastText()._shares_negatives(cpu) is False
    assert ec.FastText(negative_sharing=True)._shares_negatives(cpu) is True
    with pytest.raises(TypeError, match="negative_sharing"):
        ec.FastText(negative_sharing="yes")
