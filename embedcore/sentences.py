"""Sentence vectors from word vectors: SIF (Arora, Liang and Ma 2017), uSIF (Ethayarajh 2018) and
the plain mean, as one weighted sparse x dense product over every sentence (the CSR product
kernel) and a common-component removal by embedcore.randomized_svd of the sentence matrix's
d x d Gram matrix (one pass over the sentences; the sketch spans all d columns, so the
components are exact).

SIF: v_s = mean over the sentence's known words of a / (a + p(w)) v_w, then the projection on the
first `components` right singular vectors of the sentence matrix removed (v_s -= sum_i (u_i . v_s) u_i).
uSIF: word vectors scaled to unit length; weights a / (a / 2 + p(w)) with a = (1 - alpha) /
(alpha Z), Z = |V| / 2, alpha the share of the vocabulary with p(w) above 1 - (1 - 1/|V|)^n (n
the mean sentence length); then each of the first `components` (default 5) singular directions
removed in proportion lambda_i = s_i^2 / sum_j s_j^2. p(w) = count(w) / total from `vocab`, or
from the sentences themselves. Cost: one pass over the tokens, O(n_sentences x dim) for the
product and O(n_sentences x dim x components) for the removal.
"""
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np
import scipy.sparse as sp

from embedcore._threads import effective_workers
from embedcore._typing import FloatArray, StrPath
from embedcore._validation import check_choice, check_float, check_int
from embedcore.backends import get_backend

if TYPE_CHECKING:
    from embedcore.keyedvectors import KeyedVectors
    from embedcore.vocab import Vocab

METHODS = ("sif", "usif", "mean")
# ends every sentence on its way through the encoder, so that none is dropped (a token never
# produced by whitespace splitting)
_SENTENCE_END = "\x00sentence-end\x00"


def _sentences(source: StrPath | Iterable[Sequence[str]]) -> Iterator[list[str]]:
    """Sentences as lists of tokens, each followed by the end marker; a path is read line by line."""
    import io
    import os
    if isinstance(source, (str, os.PathLike)):
        from embedcore._io import open_source
        with open_source(source, "sentences") as raw:
            for line in io.TextIOWrapper(raw, encoding="utf-8"):
                yield line.split() + [_SENTENCE_END]
        return
    for sentence in source:
        if isinstance(sentence, str):
            raise TypeError("sentences must be lists of tokens (or a path), got a str sentence: split it first")
        yield list(sentence) + [_SENTENCE_END]


def sentence_vectors(kv: "KeyedVectors", sentences: StrPath | Iterable[Sequence[str]], method: str = "sif",
                     vocab: "Vocab | None" = None, a: float = 1e-3, components: int | None = None,
                     workers: int | None = None, device: str = "auto") -> FloatArray:
    """One vector per sentence, from the word vectors of its words.

    Parameters
    ----------
    kv : KeyedVectors
        The word vectors.
    sentences : iterable of lists of str, or a path
        Tokenised sentences (a path: a UTF-8 text file, one sentence per line, ``.gz``/``.bz2``
        too). Words missing from `kv` are skipped; a sentence without known words gets a zero
        vector.
    method : {"sif", "usif", "mean"}
    vocab : Vocab, optional
        Word counts for the frequencies p(w) (words of `kv` absent from it count as 1); default
        the counts in `sentences`.
    a : float, default 1e-3
        SIF's weight parameter (uSIF computes its own).
    components : int, optional
        Common components removed: default 1 for SIF, 5 for uSIF; 0 for none. Ignored by "mean".
    workers, device
        Threads and device of the product and the SVD.

    Returns
    -------
    ndarray of float32, shape (n_sentences, kv.vectors.shape[1])

    Raises
    ------
    ValueError
        An unknown method, ``a <= 0``, negative components, no sentences.
    TypeError
        A sentence given as a str, a `kv` without words and vectors.

    Example
    -------
    >>> import numpy as np, embedcore as ec
    >>> kv = ec.KeyedVectors(["the", "cat", "dog"], np.eye(3, dtype=np.float32))
    >>> ec.sentence_vectors(kv, [["the", "cat"], ["dog"]], method="mean").shape
    (2, 3)
    """
    from embedcore.svd import randomized_svd
    from embedcore.vocab import Vocab
    method = check_choice(method, "method", METHODS)
    a = check_float(a, "a", minimum=0.0, inclusive=False)
    if components is None:
        components = {"sif": 1, "usif": 5, "mean": 0}[method]
    components = check_int(components, "components", minimum=0)
    if not (hasattr(kv, "words") and hasattr(kv, "vectors")):
        raise TypeError(f"kv must be an embedcore.KeyedVectors, got {type(kv).__name__}")
    threads = effective_workers(workers)
    words = cast(list[str], list(kv.words))  # word vectors: str keys (Vocab checks them below)
    vectors = np.ascontiguousarray(kv.vectors, dtype=np.float32)
    n_words, dim = vectors.shape
    encoder = Vocab(words + [_SENTENCE_END], np.zeros(n_words + 1, np.int64))
    corpus = encoder.encode(_sentences(sentences))
    n_sentences = len(corpus.offsets) - 1
    if n_sentences == 0:
        raise ValueError("sentences is empty: no sentence to embed")
    ends = corpus.offsets[1:] - 1  # each sentence's end marker
    keep = np.ones(len(corpus.ids), bool)
    keep[ends] = False
    ids = corpus.ids[keep].astype(np.int64)
    lengths = np.diff(corpus.offsets) - 1
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

    if vocab is not None:
        counts = np.ones(n_words, np.float64)
        index = vocab._index if hasattr(vocab, "_index") else {w: i for i, w in enumerate(vocab.words)}
        vocab_counts = np.asarray(vocab.counts, np.float64)
        for i, word in enumerate(words):
            j = index.get(word)
            if j is not None:
                counts[i] = max(vocab_counts[j], 1.0)
    else:
        counts = np.bincount(ids, minlength=n_words).astype(np.float64)
    p = counts / max(counts.sum(), 1.0)

    if method == "usif":
        norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0).astype(np.float32)
        mean_length = max(float(lengths.mean()), 1.0)
        threshold = 1.0 - (1.0 - 1.0 / n_words) ** mean_length
        alpha = max(float(np.mean(p > threshold)), 1.0 / n_words)
        a = (1.0 - alpha) / (alpha * n_words / 2.0)
        weights = a / (0.5 * a + p)
    elif method == "sif":
        weights = a / (a + p)
    else:
        weights = np.ones(n_words)

    # v_s = sum_w weight(w) v_w / |s|: one CSR (sentences x words) times the word vectors
    data = (weights[ids] / np.repeat(np.maximum(lengths, 1), lengths)).astype(np.float32)
    backend = get_backend(device)
    matrix = sp.csr_matrix((data, ids.astype(np.int32), indptr), shape=(n_sentences, n_words))
    csr = backend.csr_matrix(matrix)
    out = backend.to_host(backend.csr_matmul(csr, backend.asarray(vectors), threads))
    out = np.ascontiguousarray(out, dtype=np.float32)

    components = min(components, n_sentences, dim) if method != "mean" else 0
    if components:
        # the right singular vectors of the n x d sentence matrix are those of its d x d Gram
        # matrix (one pass over the sentences); a sketch as wide as d makes the SVD exact
        gram = np.asarray(backend.gram(backend.asarray(out), threads), np.float64)
        _, eigen, vt = randomized_svd(gram, components, n_oversamples=dim, n_iter=2, seed=0, workers=workers,
                                      device="cpu")
        vt = np.asarray(vt, np.float64)
        if method == "usif":  # lambda_i = s_i^2 / sum s_j^2, and s_i^2 are the Gram's eigenvalues
            scale = eigen / max(float(eigen.sum()), np.finfo(np.float64).tiny)
        else:
            scale = np.ones(components)
        projection = (out @ vt.T.astype(np.float32)) * scale.astype(np.float32)
        out = out - projection @ vt.astype(np.float32)
    return np.ascontiguousarray(out, dtype=np.float32)
