"""fastText: skip-gram and CBOW over words and their character n-grams (subword vectors), with
fastText's .bin files read and written."""
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embedcore import _memory, _sgd
from embedcore._base import Model, TrainingRun, train_epochs
from embedcore._threads import effective_workers
from embedcore._typing import Callback, FloatArray, Int32Array, Int64Array, Key, RealArray, Source, StrPath
from embedcore._validation import check_callbacks, check_float, check_int
from embedcore.backends import get_backend
from embedcore.formats import fasttext_bin
from embedcore.keyedvectors import KeyedVectors, QueryItems, as_item_list as _as_item_list
from embedcore.vocab import Vocab
from embedcore.word2vec import training_corpus

if TYPE_CHECKING:
    from typing_extensions import Self

    from embedcore.corpus import EncodedCorpus

logger = logging.getLogger("embedcore")

# fastText's row ids are int32: words + buckets must stay below 2**31
_MAX_ROWS = 2**31 - 1


def _check_ngram_settings(min_n: int, max_n: int, bucket: int) -> tuple[int, int, int]:
    """(min_n, max_n, bucket) checked: 1 <= min_n <= max_n, bucket >= 1."""
    min_n = check_int(min_n, "min_n", minimum=1)
    max_n = check_int(max_n, "max_n", minimum=1)
    if min_n > max_n:
        raise ValueError(f"min_n must be <= max_n, got min_n={min_n} and max_n={max_n}")
    bucket = check_int(bucket, "bucket", minimum=1, maximum=_MAX_ROWS // 2)
    return min_n, max_n, bucket


def ngram_buckets(words: Iterable[str], min_n: int, max_n: int, bucket: int) -> tuple[Int64Array, Int32Array]:
    """fastText's n-gram buckets of each word: ``(indptr int64, buckets int32)`` in CSR form, the
    buckets of ``words[i]`` being ``buckets[indptr[i]:indptr[i + 1]]`` in fastText's order
    (``fnv1a32(ngram) % bucket`` for the n-grams of ``"<" + word + ">"``, see
    csrc/embedcore/fasttext.hpp).

    Examples
    --------
    >>> indptr, buckets = ngram_buckets(["cat"], 3, 3, 2_000_000)
    >>> len(buckets)  # <ca, cat, at>
    3
    """
    return _sgd.fasttext_subword_rows(list(words), min_n, max_n, bucket, 0, False)


class FastTextKeyedVectors(KeyedVectors):
    """Word vectors that answer for any word, seen in training or not (fastText's subword vectors).

    The vector of a vocabulary word is the mean of its own row and its n-gram rows; the vector of
    any other word the mean of its n-gram rows (fastText's ``getWordVector``). ``kv["word"]``,
    `get_vector`, `most_similar`, `similarity` and ``word in kv`` accept unseen words; `index`,
    the search results and the evaluations cover the vocabulary.

    Parameters
    ----------
    words : sequence of str
    vectors_vocab : array-like, (len(words), vector_size)
        The words' own rows (the input matrix's first rows).
    vectors_ngrams : array-like, (bucket, vector_size)
        The n-gram bucket rows.
    min_n, max_n : int
        Lengths of the character n-grams, in Unicode characters.

    Attributes
    ----------
    vectors : ndarray
        The vocabulary words' vectors (composed as above), what `most_similar` searches and
        `save_word2vec_format` writes (the ``.vec`` file of fastText).
    vectors_vocab, vectors_ngrams : ndarray
    min_n, max_n, bucket : int

    Examples
    --------
    >>> kv = FastTextKeyedVectors(["cat"], np.ones((1, 2)), np.ones((10, 2)), 3, 4)
    >>> kv["cats"].shape  # an unseen word
    (2,)
    """

    vectors_vocab: RealArray
    vectors_ngrams: FloatArray
    min_n: int
    max_n: int
    bucket: int

    def __init__(self, words: Sequence[str], vectors_vocab: npt.ArrayLike, vectors_ngrams: npt.ArrayLike, min_n: int,
                 max_n: int) -> None:
        vocab_rows = KeyedVectors._check_vectors(vectors_vocab, len(words))
        ngram_rows = np.ascontiguousarray(vectors_ngrams, dtype=np.float32)
        if ngram_rows.ndim != 2 or ngram_rows.shape[1] != vocab_rows.shape[1] or not len(ngram_rows):
            raise ValueError(f"vectors_ngrams must be (bucket >= 1, {vocab_rows.shape[1]}), got "
                             f"{ngram_rows.shape}")
        self.min_n, self.max_n, self.bucket = _check_ngram_settings(min_n, max_n, len(ngram_rows))
        self.vectors_vocab = vocab_rows
        self.vectors_ngrams = ngram_rows
        super().__init__(words, self._compose(list(words)))

    def _compose(self, words: list[str]) -> FloatArray:
        """Mean of each word's own row and its n-gram rows."""
        indptr, buckets = _sgd.fasttext_subword_rows(words, self.min_n, self.max_n, self.bucket, len(words), True)
        counts = np.diff(indptr)
        weights = np.repeat((1.0 / counts).astype(np.float32), counts)
        n = len(words)
        mix = sp.csr_matrix((weights, buckets, indptr), shape=(n, n + self.bucket))
        # the two blocks apart: joining them would copy the n-gram table (800 MB at the defaults)
        return np.ascontiguousarray(mix[:, :n] @ self.vectors_vocab + mix[:, n:] @ self.vectors_ngrams,
                                    dtype=np.float32)

    def __repr__(self) -> str:
        return (f"FastTextKeyedVectors({len(self)} words, vector_size={self.vector_size}, n-grams "
                f"{self.min_n}..{self.max_n}, bucket={self.bucket})")

    def __contains__(self, word: object) -> bool:
        """True for a vocabulary word and for any word with at least one n-gram (gensim's rule:
        such a word has a vector)."""
        if not isinstance(word, str):
            return False
        return word in self.key_to_index or len(self.ngram_buckets(word)) > 0

    def ngram_buckets(self, word: str) -> Int32Array:
        """The n-gram buckets of `word` (int32, fastText's order; rows of `vectors_ngrams`)."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        return ngram_buckets([word], self.min_n, self.max_n, self.bucket)[1]

    def get_vector(self, word: Key, norm: bool = False) -> RealArray:
        """The vector of `word`, seen or not; unit length when `norm` is True.

        Raises
        ------
        KeyError
            An unseen word without any n-gram (the empty string).
        """
        if isinstance(word, str) and word in self.key_to_index:
            return super().get_vector(word, norm)
        buckets = self.ngram_buckets(cast(str, word))  # a non-str is a TypeError there
        if not len(buckets):
            raise KeyError(f"word {word!r} is not in the vocabulary and has no character n-gram")
        vector = self.vectors_ngrams[buckets].mean(axis=0, dtype=np.float64)
        if norm:
            length = np.linalg.norm(vector)
            vector = vector / length if length > 0 else vector
        composed: FloatArray = vector.astype(np.float32)
        return composed

    def __getitem__(self, key: Key | Iterable[Key]) -> RealArray:
        """``kv["word"]`` -> its vector (seen or not); ``kv[["a", "b"]]`` -> a 2-D array."""
        if isinstance(key, str):
            return self.get_vector(key)
        if isinstance(key, (list, tuple)):
            if not key:
                return np.empty((0, self.vector_size), dtype=np.float32)
            return np.stack([self.get_vector(w) for w in key])
        raise TypeError(f"key must be a word (str) or a list of words, got {type(key).__name__}")

    def most_similar(self, positive: QueryItems = None,  # type: ignore[override]  # no clip_start, clip_end, indexer
                     negative: QueryItems = None, topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[Key, float]]:
        """`KeyedVectors.most_similar` where unseen words are queried by their n-gram vector
        (unit length, as a vocabulary word's); vocabulary words in the input are left out of the
        answer.

        Examples
        --------
        >>> kv = FastTextKeyedVectors(["cat", "dog"], [[1.0, 0.0], [0.0, 1.0]], np.eye(2)[[0, 1] * 5], 3, 3)
        >>> [w for w, _ in kv.most_similar("cats", topn=2)]
        ['dog', 'cat']
        """
        def resolve(item: Any) -> Any:
            weight = None
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], (str, np.ndarray)):
                item, weight = item
            if isinstance(item, str) and item not in self.key_to_index:
                item = self.get_vector(item, norm=True)
            return item if weight is None else (item, weight)

        return super().most_similar([resolve(i) for i in _as_item_list(positive, "positive")],
                                    [resolve(i) for i in _as_item_list(negative, "negative")], topn=topn,
                                    restrict_vocab=restrict_vocab)

    def similarity(self, word1: Key, word2: Key) -> float:
        """Cosine similarity of two words, seen or not (0 when either vector is zero)."""
        return float(np.dot(self.get_vector(word1, norm=True).astype(np.float64),
                            self.get_vector(word2, norm=True).astype(np.float64)))


class FastText(Model):
    """Subword skip-gram or CBOW with negative sampling (fastText), with vectors for unseen words.

    fastText's model (Bojanowski et al. 2017): the input vector of a word is the mean of its own
    row and the rows of its character n-grams (``min_n`` to ``max_n`` Unicode characters of
    ``"<" + word + ">"``, hashed by fastText's FNV-1a into `bucket` rows), so any word, seen or
    not, has a vector. The n-gram ids are fastText's, so models move both ways between embedcore,
    the ``fasttext`` package and gensim through `save_facebook_model` / `load_facebook_model`.

    Training follows `Word2Vec` (subsampling, reduced windows, linear learning-rate decay,
    Hogwild threads, unigram^0.75 noise). Skip-gram predicts the context words from the centre
    word's subword vector computed once per centre word, with `negative` noise words per pair
    (or, with ``negative_sharing=True``, one set shared by the centre word's pairs, each noise
    word's gradient counted once per pair it stands for); CBOW predicts
    the centre word from the mean of its context words' subword rows with fresh noise words, as
    fastText does. Every input row of a step receives the step's whole gradient (fastText's rule).

    Parameters
    ----------
    vector_size, window, negative, sg, sample, min_count, epochs
        As in `Word2Vec` (gensim's names).
    alpha, min_alpha, workers, seed, callbacks, progress
        As in `Word2Vec`. ``alpha=None`` is 0.025 for skip-gram, 0.05 for CBOW.
    min_n, max_n : int
        Lengths of the character n-grams, 1 <= min_n <= max_n (fastText's minn, maxn).
    bucket : int
        Rows of the n-gram table (fastText's default 2,000,000). Memory: the input matrix is
        ``(len(vocab) + bucket) x vector_size`` float32, 800 MB at the defaults; a smaller
        bucket (e.g. 200,000) saves memory at the cost of more n-grams sharing a row.
    device : {'auto', 'cpu', 'cuda'}
        Where to train (see `Word2Vec`). On the GPU one warp trains one centre word.
    negative_sharing : bool, optional
        True: skip-gram shares the centre word's noise words among its context pairs (faster:
        about 1.6x here, but 11 analogy points below fastText on the benchmark corpus). False:
        `negative` noise words for every pair, as fastText draws them (CPU only; fastText's
        quality). None (default): False on the CPU, True on the GPU. Either way the centre
        word's input vector is computed once per step.

    Raises
    ------
    ValueError
        A hyperparameter out of range (``min_n > max_n``, ``bucket < 1``, ``window < 1`` ...).
    TypeError
        A hyperparameter of the wrong type.
    FloatingPointError
        From `fit`: the training diverged.

    Attributes
    ----------
    wv : FastTextKeyedVectors
        The word vectors, answering unseen words too (NotFittedError before `fit`).
    input_vectors : ndarray, float32, (len(vocab) + bucket, vector_size)
        The word rows, then the n-gram rows (fastText's input matrix).
    syn1neg : ndarray, float32, (len(vocab), vector_size)
        The output vectors.
    vocab : Vocab
    loss_history : list of float
    stats : dict
        As `Word2Vec.stats`.

    Examples
    --------
    >>> sentences = [["walking", "runs", "walked"], ["running", "walks", "ran"]] * 50
    >>> model = FastText(vector_size=8, min_count=1, epochs=2, bucket=1000, workers=1).fit(sentences)
    >>> model.wv["walkings"].shape  # never seen
    (8,)
    """

    _fitted_attributes = ("wv", "vocab", "input_vectors", "syn1neg")
    _state_attributes = ("vocab", "input_vectors", "syn1neg", "_subwords", "_wv")

    vocab: Vocab
    input_vectors: FloatArray
    syn1neg: FloatArray
    loss_history: list[float]
    stats: dict[str, Any]
    _wv: "FastTextKeyedVectors | None"

    def __init__(self, vector_size: int = 100, window: int = 5, negative: int = 5, sg: int = 1, sample: float = 1e-3,
                 min_count: int = 5, epochs: int = 5, alpha: float | None = None, min_alpha: float = 1e-4,
                 min_n: int = 3, max_n: int = 6, bucket: int = 2_000_000, workers: int | None = None, seed: int = 1,
                 device: str = "auto", negative_sharing: bool | None = None, callbacks: Iterable[Callback] = (),
                 progress: bool = False, _simd: str = "") -> None:
        self.vector_size = check_int(vector_size, "vector_size", minimum=1)
        self.window = check_int(window, "window", minimum=1)
        self.negative = check_int(negative, "negative", minimum=0)
        self.sg = check_int(sg, "sg", minimum=0, maximum=1)
        self.sample = check_float(sample, "sample", minimum=0.0)
        self.min_count = check_int(min_count, "min_count", minimum=1)
        self.epochs = check_int(epochs, "epochs", minimum=1)
        if alpha is None:
            alpha = 0.025 if self.sg else 0.05
        self.alpha = check_float(alpha, "alpha", minimum=0.0, inclusive=False)
        self.min_alpha = check_float(min_alpha, "min_alpha", minimum=0.0, maximum=self.alpha)
        self.min_n, self.max_n, self.bucket = _check_ngram_settings(min_n, max_n, bucket)
        self.workers = effective_workers(workers)
        self.seed = check_int(seed, "seed", minimum=0, maximum=2**64 - 1)
        self.device = self._check_device(device)
        if negative_sharing is not None and not isinstance(negative_sharing, (bool, np.bool_)):
            raise TypeError(f"negative_sharing must be None or a bool, got {type(negative_sharing).__name__}")
        self.negative_sharing = None if negative_sharing is None else bool(negative_sharing)
        self.callbacks = check_callbacks(callbacks)
        self.progress = bool(progress)
        self._simd = _simd
        self._raw_per_token = 1.0
        self.loss_history = []
        self.stats = {}

    # ------------------------------------------------------------------------------------------
    def fit(self, source: "Source | EncodedCorpus", vocab: Vocab | None = None) -> "Self":
        """Build the vocabulary (unless given) and train; as `Word2Vec.fit`.

        Returns
        -------
        FastText
            self, trained.

        Raises
        ------
        ValueError
            Empty corpus, no word reaching `min_count`, ids outside the vocabulary, more words
            and buckets than int32 row ids hold.
        TypeError
            An EncodedCorpus without `vocab`, or a source of the wrong type.
        MemoryError
            The vectors ((2 * len(vocab) + bucket) * vector_size float32) exceed the available
            memory; raised before they are allocated.
        FloatingPointError
            The training diverged.
        """
        t0 = time.perf_counter()
        corpus, vocab = training_corpus(source, vocab, self.min_count, self.progress)
        if len(vocab) + self.bucket > _MAX_ROWS:
            raise ValueError(f"len(vocab) + bucket must be < 2**31, got {len(vocab)} + {self.bucket}")
        if int(np.sum(vocab.counts)) <= 0:
            raise ValueError("vocab counts are all zero: the noise distribution is undefined")
        vocab_seconds = time.perf_counter() - t0
        self._raw_per_token = corpus.raw_tokens / len(corpus)
        with self._fitting():
            self.vocab = vocab
            self._train(corpus)
        self.stats["vocab_seconds"] = vocab_seconds
        return self

    def _train(self, corpus: "EncodedCorpus") -> None:
        backend = get_backend(self.device)
        n_words = len(self.vocab)
        # input rows of words and buckets, output rows of words: 4 * dim * (2 * V + bucket)
        _memory.require(4 * self.vector_size * (2 * n_words + self.bucket),
                        f"FastText vectors of {n_words} words and {self.bucket} buckets x {self.vector_size}",
                        ["a smaller bucket", "a smaller vector_size", "a larger min_count"])
        self._subwords = _sgd.fasttext_subword_rows(self.vocab.words, self.min_n, self.max_n, self.bucket, n_words,
                                                    True)
        # word and n-gram rows uniform in [-1/dim, 1/dim) (fastText's and gensim's range), drawn on
        # the training threads (the table is 800 MB at the defaults); output zero
        host_in = _sgd.fasttext_initial_vectors(n_words + self.bucket, self.vector_size, self.seed, self.workers)
        inp, out = backend.asarray(host_in), backend.asarray(np.zeros((n_words, self.vector_size), np.float32))
        del host_in
        tables = backend.word2vec_tables(self.vocab.counts, self.sample)
        data = backend.fasttext_setup(corpus.ids, corpus.offsets, tables, self._subwords,
                                      vector_size=self.vector_size, window=self.window, negative=self.negative,
                                      sg=self.sg, shared=self._shares_negatives(backend), seed=self.seed,
                                      threads=self.workers, simd=self._simd)
        n_tokens = len(corpus)
        total = n_tokens * self.epochs
        self.loss_history = []
        self.stats = {}
        simd = [""]

        def publish(run: TrainingRun) -> None:
            self.input_vectors, self.syn1neg = backend.to_host(inp), backend.to_host(out)
            self._wv = None
            self.loss_history = list(run.losses)
            raw = run.done * self._raw_per_token
            self.stats = {"words_trained": int(round(raw)), "train_seconds": run.seconds,
                          "words_per_sec": raw / run.seconds if run.seconds > 0 else float("inf"),
                          "epochs_completed": len(self.loss_history), "interrupted": run.interrupted,
                          "simd": simd[0], "workers": data.threads}

        def after_epoch(run: TrainingRun, epoch: int, result: tuple[float, str]) -> None:
            simd[0] = result[1]
            publish(run)

        self.input_vectors, self.syn1neg = backend.to_host(inp), backend.to_host(out)
        self._wv = None
        self._fitted = True  # callbacks may read the vectors while they train
        publish(train_epochs(self, "fastText skip-gram" if self.sg else "fastText CBOW", self.epochs,
                             lambda epoch: backend.fasttext_epoch(data, inp, out, epoch, epoch * n_tokens, total,
                                                                  self.alpha, self.min_alpha),
                             total, "word", after_epoch))

    def _shares_negatives(self, backend: Any) -> bool:
        # None: per pair on the CPU (fastText's quality: shared noise words cost about 11 analogy
        # points on the benchmark corpus, benchmarks/RESULTS.md), shared on the GPU (its only mode)
        if self.negative_sharing is None:
            return bool(backend.NAME == "cuda")
        return self.negative_sharing

    # ------------------------------------------------------------------------------------------
    @property
    def wv(self) -> FastTextKeyedVectors:
        """FastTextKeyedVectors of the trained rows, with each word's corpus count as its ``count``
        attribute (computed once per training state)."""
        if self.__dict__.get("_wv") is None:
            n = len(self.vocab)
            self._wv = FastTextKeyedVectors(self.vocab.words, self.input_vectors[:n], self.input_vectors[n:],
                                            self.min_n, self.max_n)._set_counts(self.vocab.counts)
        return cast(FastTextKeyedVectors, self._wv)  # set just above when it was None

    def __repr__(self) -> str:
        kind = "skip-gram" if self.sg else "CBOW"
        state = f"{len(self.vocab)} words" if self.is_fitted else "untrained"
        return (f"FastText({kind}, vector_size={self.vector_size}, n-grams {self.min_n}..{self.max_n}, "
                f"bucket={self.bucket}, {state})")


# ----------------------------------------------------------------------------------------------
# fastText's .bin files

def save_facebook_model(model: FastText, path: StrPath) -> None:
    """Write a trained `FastText` as a fastText ``.bin`` file (version 12), atomically.

    The file loads in the ``fasttext`` package (``fasttext.load_model``) and in gensim
    (``gensim.models.fasttext.load_facebook_model``) with the same vectors for seen and unseen
    words.

    Parameters
    ----------
    model : FastText
        A fitted model.
    path : str or os.PathLike

    Raises
    ------
    TypeError
        `model` is not a FastText.
    embedcore.NotFittedError
        The model is not fitted.

    Examples
    --------
    >>> import os, tempfile
    >>> model = FastText(vector_size=4, min_count=1, bucket=100, workers=1).fit([["a", "b"]] * 10)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.bin")
    >>> save_facebook_model(model, path)
    >>> load_facebook_model(path).wv["ab"].shape
    (4,)
    """
    if not isinstance(model, FastText):
        raise TypeError(f"model must be an embedcore.FastText, got {type(model).__name__}")
    vocab = model.vocab  # NotFittedError before fit
    args = {"dim": model.vector_size, "ws": model.window, "epoch": model.epochs, "minCount": model.min_count,
            "neg": model.negative, "wordNgrams": 1, "loss": 2, "model": 2 if model.sg else 1,
            "bucket": model.bucket, "minn": model.min_n, "maxn": model.max_n, "lrUpdateRate": 100,
            "t": model.sample}
    fasttext_bin.write(path, fasttext_bin.FastTextFile(args, vocab.words, vocab.counts, vocab.total_words,
                                                       model.input_vectors, model.syn1neg))


def load_facebook_model(path: StrPath) -> FastText:
    """Read a fastText ``.bin`` file (written by fastText, gensim or `save_facebook_model`).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    FastText
        A fitted model with fastText's settings (dim, ws, neg, minCount, epoch, minn, maxn,
        bucket, t as `vector_size`, `window`, `negative`, `min_count`, `epochs`, `min_n`,
        `max_n`, `bucket`, `sample`) whose `wv` gives fastText's vectors for any word.

    Raises
    ------
    ValueError
        Not a fastText .bin (wrong magic number or version), a corrupt or truncated file, a
        quantized or supervised model, or a model without n-grams (maxn 0).
    FileNotFoundError
        No such file.
    """
    f = fasttext_bin.read(path)
    a = f.args
    if a["maxn"] < 1:
        raise ValueError(f"{path}: a fastText model without character n-grams (maxn 0); load its .vec with "
                         f"KeyedVectors.load_word2vec_format instead")
    model = FastText(vector_size=a["dim"], window=max(1, a["ws"]), negative=max(0, a["neg"]),
                     sg=1 if a["model"] == 2 else 0, sample=max(0.0, a["t"]), min_count=max(1, a["minCount"]),
                     epochs=max(1, a["epoch"]), min_n=a["minn"], max_n=a["maxn"], bucket=a["bucket"], device="cpu")
    model.vocab = Vocab(f.words, f.counts, total_words=max(f.ntokens, 0))
    model.input_vectors = f.input_matrix
    model.syn1neg = f.output_matrix
    model._wv = None
    model._fitted = True
    return model
