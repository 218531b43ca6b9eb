"""sentence_vectors against a float64 numpy reference (SIF, uSIF, mean), retrieval of planted
paraphrases by cosine_topk, and bad input."""
import gzip

import numpy as np
import pytest

import embedcore as ec


def reference(words, vectors, sentences, method, counts=None, a=1e-3, components=None):
    """Plain numpy, float64, exact SVD."""
    index = {w: i for i, w in enumerate(words)}
    vectors = vectors.astype(np.float64)
    tokens = [[index[w] for w in s if w in index] for s in sentences]
    if counts is None:
        counts = np.bincount([t for s in tokens for t in s], minlength=len(words)).astype(np.float64)
    p = counts / counts.sum()
    if method == "usif":
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        n = np.mean([len(s) for s in tokens])
        threshold = 1 - (1 - 1 / len(words)) ** n
        alpha = max(np.mean(p > threshold), 1 / len(words))
        a = (1 - alpha) / (alpha * len(words) / 2)
        weights = a / (0.5 * a + p)
    elif method == "sif":
        weights = a / (a + p)
    else:
        weights = np.ones(len(words))
    out = np.array([sum(weights[t] * vectors[t] for t in s) / len(s) if s else np.zeros(vectors.shape[1])
                    for s in tokens])
    m = {"sif": 1, "usif": 5, "mean": 0}[method] if components is None else components
    if m:
        _, s, vt = np.linalg.svd(out, full_matrices=False)
        s, vt = s[:m], vt[:m]
        scale = s ** 2 / (s ** 2).sum() if method == "usif" else np.ones(m)
        out = out - ((out @ vt.T) * scale) @ vt
    return out


def corpus(n_sentences=200, n_words=40, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n_words)]
    vectors = rng.standard_normal((n_words, dim)).astype(np.float32) + 2.0  # a common direction
    zipf = 1.0 / np.arange(1, n_words + 1)
    sentences = [[words[j] for j in rng.choice(n_words, rng.integers(1, 9), p=zipf / zipf.sum())] + ["oov"]
                 for _ in range(n_sentences)]
    sentences[5] = ["oov", "unknown"]  # no known word: a zero vector before the removal
    return words, vectors, sentences


@pytest.mark.parametrize("method", ["sif", "usif", "mean"])
def test_sentence_vectors_match_the_numpy_reference(method):
    words, vectors, sentences = corpus()
    kv = ec.KeyedVectors(words, vectors)
    got = ec.sentence_vectors(kv, sentences, method=method)
    want = reference(words, vectors, sentences, method)
    assert got.dtype == np.float32 and got.shape == (200, 8)
    np.testing.assert_allclose(got, want, atol=2e-4 * np.abs(want).max())


def test_frequencies_come_from_the_given_vocab():
    words, vectors, sentences = corpus(seed=1)
    counts = np.arange(len(words), 0, -1) * 10
    vocab = ec.Vocab(words[:-1] + ["other"], counts)  # the last word missing: it counts 1
    expected_counts = counts.astype(np.float64)
    expected_counts[-1] = 1
    got = ec.sentence_vectors(ec.KeyedVectors(words, vectors), sentences, vocab=vocab, a=1e-2, components=2)
    want = reference(words, vectors, sentences, "sif", counts=expected_counts, a=1e-2, components=2)
    np.testing.assert_allclose(got, want, atol=2e-4 * np.abs(want).max())


def test_sentences_from_a_file_equal_those_from_lists(tmp_path):
    words, vectors, sentences = corpus(n_sentences=30, seed=2)
    path = tmp_path / "s.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("".join(" ".join(s) + "\n" for s in sentences))
    kv = ec.KeyedVectors(words, vectors)
    np.testing.assert_array_equal(ec.sentence_vectors(kv, path), ec.sentence_vectors(kv, sentences))


def test_sif_retrieves_planted_paraphrases_better_than_the_mean():
    # content words are rare, filler words frequent and share one direction: a paraphrase shares
    # the content words of its sentence with other fillers
    rng = np.random.default_rng(3)
    dim, n_content, n_filler = 32, 400, 20
    common = rng.standard_normal(dim) * 3
    vectors = np.vstack([rng.standard_normal((n_content, dim)), rng.standard_normal((n_filler, dim)) + common])
    words = [f"c{i}" for i in range(n_content)] + [f"f{i}" for i in range(n_filler)]
    originals, paraphrases = [], []
    for i in range(200):
        content = [f"c{j}" for j in rng.choice(n_content, 3, replace=False)]
        originals.append(content + [f"f{j}" for j in rng.choice(n_filler, 8)])
        paraphrases.append(content[:2] + [f"f{j}" for j in rng.choice(n_filler, 8)])
    kv = ec.KeyedVectors(words, vectors.astype(np.float32))
    accuracy = {}
    for method in ("sif", "mean"):
        v = ec.sentence_vectors(kv, originals + paraphrases, method=method)
        _, hit = ec.cosine_topk(v[200:], v[:200], k=1)
        accuracy[method] = np.mean(hit[:, 0] == np.arange(200))
    assert accuracy["sif"] > 0.9 and accuracy["sif"] > accuracy["mean"] + 0.1


@pytest.mark.parametrize("kwargs, error, words", [
    ({"method": "tfidf"}, ValueError, "method must be one of"),
    ({"a": 0}, ValueError, "a must be > 0"),
    ({"components": -1}, ValueError, "components must be >= 0"),
])
def test_bad_arguments_raise_naming_them(kwargs, error, words):
    kv = ec.KeyedVectors(["x"], np.ones((1, 2), np.float32))
    with pytest.raises(error, match=words):
        ec.sentence_vectors(kv, [["x"]], **kwargs)


def test_bad_sentences_raise():
    kv = ec.KeyedVectors(["x"], np.ones((1, 2), np.float32))
    with pytest.raises(TypeError, match="split it first"):
        ec.sentence_vectors(kv, ["x y"])
    with pytest.raises(ValueError, match="sentences is empty"):
        ec.sentence_vectors(kv, [])
    with pytest.raises(TypeError, match="kv must be"):
        ec.sentence_vectors(np.ones((1, 2)), [["x"]])
