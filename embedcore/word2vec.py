"""word2vec: skip-gram and CBOW with negative sampling, trained by C++ kernels or on the GPU."""
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from embedcore import _memory
from embedcore._base import Model, TrainingRun, train_epochs
from embedcore._threads import effective_workers
from embedcore._typing import Callback, FloatArray, Source
from embedcore._validation import check_callbacks, check_float, check_int
from embedcore.backends import get_backend
from embedcore.corpus import EncodedCorpus, check_restartable
from embedcore.keyedvectors import KeyedVectors
from embedcore.vocab import Vocab

if TYPE_CHECKING:
    from typing_extensions import Self

logger = logging.getLogger("embedcore")


def initial_vectors(n_words: int, dim: int, seed: int) -> FloatArray:
    """The starting input vectors: float32 uniform in ``[-1/dim, 1/dim)``, drawn exactly as gensim
    4 draws them (``numpy.random.default_rng(seed)``, so the same seed and vocabulary order give
    the same values).

    word2vec.c starts from half that range. The updates are the same either way, but the smaller
    start costs quality when training gives each word few updates (strong subsampling, few
    epochs): with sample=1e-5, skip-gram from the smaller start scored 1.3 analogy points and
    0.03 WS353 below gensim, and gensim from the smaller start lost as much
    (benchmarks/RESULTS.md).
    """
    vectors = np.random.default_rng(seed).random((n_words, dim), dtype=np.float32)
    vectors *= np.float32(2.0)
    vectors -= np.float32(1.0)
    vectors /= np.float32(dim)
    return vectors


def training_corpus(source: Source | EncodedCorpus, vocab: Vocab | None, min_count: int,
                    progress: bool) -> tuple[EncodedCorpus, Vocab]:
    """(EncodedCorpus, Vocab) a model trains on: an encoded corpus with its vocab, or a text
    source counted (when `vocab` is None) and encoded; refuses empty input and out-of-range ids."""
    if vocab is not None and not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be an embedcore.Vocab, got {type(vocab).__name__}")
    if isinstance(source, EncodedCorpus):
        if vocab is None:
            raise TypeError("fit(encoded_corpus) needs vocab=: the Vocab the corpus was encoded with")
        corpus = source
    else:
        if vocab is None:
            check_restartable(source)
            vocab, corpus = Vocab.count_and_encode(source, min_count=min_count, progress=progress)
        else:
            corpus = vocab.encode(source, progress=progress)
    if len(vocab) == 0:
        raise ValueError("vocab is empty: no word to train")
    if len(corpus) == 0:
        raise ValueError("corpus is empty: no in-vocabulary token to train on")
    low, top = int(corpus.ids.min()), int(corpus.ids.max())
    if low < 0 or top >= len(vocab):
        raise ValueError(f"corpus ids must be in [0, len(vocab) = {len(vocab)}), got ids in [{low}, {top}]")
    return corpus, vocab


class Word2Vec(Model):
    """Skip-gram or CBOW word vectors with negative sampling (word2vec).

    The semantics are word2vec.c's: noise words from the unigram distribution raised to 0.75,
    frequent words subsampled with keep probability ``(sqrt(f/sample) + 1) * sample/f``, a reduced
    window drawn per centre word, a learning rate decaying linearly from `alpha` to `min_alpha`
    over all epochs, and output vectors at zero. Input vectors start uniformly in gensim's
    ``[-1/dim, 1/dim)`` (word2vec.c's range is half that; see `initial_vectors`). Training runs in
    C++ threads, each on a contiguous part of the corpus, updating the shared vectors without
    locks (Hogwild).

    By default the negatives drawn for a centre word are shared by all of its context words
    (Ji et al. 2016), which turns each skip-gram step into small dense matrix products; pass
    ``negative_sharing=False`` for word2vec.c's exact per-pair update.

    Parameters
    ----------
    vector_size : int
        Dimension of the vectors.
    window : int
        Largest distance between the centre word and a context word; the distance used for each
        centre word is drawn uniformly from 1..window.
    negative : int
        Noise words per positive example (0 trains on positives only).
    sg : {1, 0}
        1 for skip-gram, 0 for CBOW.
    sample : float
        Subsampling threshold for frequent words; 0 disables subsampling.
    min_count : int
        Words seen fewer times are ignored (when `fit` builds the vocabulary).
    epochs : int
        Passes over the corpus.
    alpha : float, optional
        Starting learning rate; None means 0.025 for skip-gram and 0.05 for CBOW.
    min_alpha : float
        Learning rate reached at the end of training.
    cbow_mean : {1, 0}
        CBOW uses the mean (1) or the sum (0) of the context vectors.
    workers : int, optional
        Threads; None uses every usable core. Each thread trains a contiguous part of the corpus
        of at least 1024 tokens (fewer threads run on a smaller corpus; ``stats['workers']``
        says how many ran).
    seed : int
        Seed of the initial vectors and of the per-thread random streams. With ``workers=1`` the
        same seed and input give bit-identical vectors; multithreaded runs update shared vectors
        without locks and are reproducible only statistically.
    device : {'auto', 'cpu', 'cuda'}
        Where to train: 'auto' uses the GPU when CuPy and a GPU are usable (see
        ``embedcore.backends.get_backend``). On the GPU one warp
        trains one centre word (Hogwild), skip-gram always shares negatives, `workers` is unused,
        and runs agree with the CPU statistically, not bit for bit.
    negative_sharing : bool
        Share each centre word's negatives across its context window (the default, faster) or
        draw fresh negatives for every pair as word2vec.c does.
    callbacks : sequence, optional
        Called at the end of every epoch: objects with ``on_epoch_end(model)`` (gensim's
        convention) or callables ``f(model, epoch)``.
    progress : bool
        Show a progress bar (tqdm on a terminal, log lines otherwise).
    ns_exponent : float, default 0.75
        Negatives are drawn with probability proportional to count ** ns_exponent (gensim's
        name; 0 samples uniformly, negative values favour rare words, which helps item
        embeddings: Caselles-Dupre et al. 2018). Negative values need every count >= 1.

    Raises
    ------
    ValueError
        A hyperparameter out of range (``window < 1``, ``negative < 0``, ``vector_size < 1``,
        ``workers=0`` ...), named in the message.
    TypeError
        A hyperparameter of the wrong type.
    RuntimeError
        ``device='cuda'`` without a usable GPU.
    FloatingPointError
        From `fit`: the training diverged (the loss of an epoch became NaN or infinite, e.g. with
        a too large `alpha`); the model is then left unfitted.

    Attributes
    ----------
    wv : KeyedVectors
        The input vectors (gensim's ``syn0``), one per vocabulary word. Before `fit`, reading
        `wv`, `syn1neg`, `input_vectors` or `vocab` raises ``embedcore.NotFittedError``.
    syn1neg : numpy.ndarray
        The output vectors, float32 of shape (len(vocab), vector_size).
    vocab : Vocab
    loss_history : list of float
        Summed negative-sampling loss (-log sigma over every positive and negative pair) of each
        epoch, accumulated in float64.
    stats : dict
        ``words_per_sec``, ``train_seconds``, ``words_trained`` (raw corpus tokens x epochs, as
        gensim and word2vec.c count), ``vocab_seconds``, ``epochs_completed``, ``interrupted``,
        ``simd``, ``workers``.

    Examples
    --------
    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec(vector_size=8, min_count=1, epochs=2, workers=1).fit(sentences)
    >>> model.wv.vectors.shape
    (4, 8)
    """

    _fitted_attributes = ("wv", "vocab", "input_vectors", "syn1neg")
    _state_attributes = ("vocab", "input_vectors", "syn1neg")

    vocab: Vocab
    input_vectors: FloatArray
    syn1neg: FloatArray
    loss_history: list[float]
    stats: dict[str, Any]

    def __init__(self, vector_size: int = 100, window: int = 5, negative: int = 5, sg: int = 1, sample: float = 1e-3,
                 min_count: int = 5, epochs: int = 5, alpha: float | None = None, min_alpha: float = 1e-4,
                 cbow_mean: int = 1, workers: int | None = None, seed: int = 1, device: str = "auto",
                 negative_sharing: bool = True, callbacks: Iterable[Callback] = (), progress: bool = False,
                 ns_exponent: float = 0.75, _cbow_batch: int = 1, _simd: str = "") -> None:
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
        self.cbow_mean = check_int(cbow_mean, "cbow_mean", minimum=0, maximum=1)
        self.workers = effective_workers(workers)
        self.seed = check_int(seed, "seed", minimum=0, maximum=2**64 - 1)
        self.device = self._check_device(device)
        if not isinstance(negative_sharing, (bool, np.bool_)):
            raise TypeError(f"negative_sharing must be a bool, got {type(negative_sharing).__name__}")
        self.negative_sharing = bool(negative_sharing)
        self.callbacks = check_callbacks(callbacks)
        self.progress = bool(progress)
        self.ns_exponent = check_float(ns_exponent, "ns_exponent")
        self._cbow_batch = check_int(_cbow_batch, "_cbow_batch", minimum=1, maximum=64)
        self._raw_per_token = 1.0  # source tokens per trained token; set by fit
        self._simd = _simd
        self.loss_history = []
        self.stats = {}

    # ------------------------------------------------------------------------------------------
    def fit(self, source: Source | EncodedCorpus, vocab: Vocab | None = None) -> "Self":
        """Build the vocabulary (unless given) and train.

        Parameters
        ----------
        source : path, list of paths, iterable of sentences, or EncodedCorpus
            Text as `Vocab.from_corpus` reads it, or an already encoded corpus.
        vocab : Vocab, optional
            The vocabulary; required with an EncodedCorpus, whose ids must index it. With text,
            it replaces the counting pass (`min_count` is then not applied again).

        Returns
        -------
        Word2Vec
            self, trained. Ctrl-C during training stops after the current chunk and leaves a
            usable model (``stats['interrupted']`` is True).

        Raises
        ------
        ValueError
            Empty corpus, no word reaching `min_count`, ids outside the vocabulary.
        TypeError
            An EncodedCorpus without `vocab`, or a source of the wrong type.
        MemoryError
            The vectors (2 * len(vocab) * vector_size float32) exceed the available
            memory; raised before they are allocated.
        FloatingPointError
            The training diverged (the loss of an epoch became NaN or infinite).
        """
        t0 = time.perf_counter()
        corpus, vocab = training_corpus(source, vocab, self.min_count, self.progress)
        if int(np.sum(vocab.counts)) <= 0:
            raise ValueError("vocab counts are all zero: the noise distribution is undefined")
        if self.ns_exponent < 0 and int(np.min(vocab.counts)) < 1:
            raise ValueError("ns_exponent < 0 needs every vocab count to be >= 1")
        vocab_seconds = time.perf_counter() - t0
        self._raw_per_token = corpus.raw_tokens / len(corpus)
        with self._fitting():
            self.vocab = vocab
            self._train(corpus)
        self.stats["vocab_seconds"] = vocab_seconds
        return self

    def _train(self, corpus: EncodedCorpus) -> None:
        backend = get_backend(self.device)
        n_words, dim = len(self.vocab), self.vector_size
        # input and output vectors: 2 * V * dim float32
        _memory.require(8 * n_words * dim, f"{type(self).__name__} vectors of {n_words} words x {dim}",
                        ["a larger min_count", "a smaller vector_size"])
        inp = backend.asarray(initial_vectors(n_words, dim, self.seed))
        out = backend.asarray(np.zeros((n_words, dim), dtype=np.float32))
        tables = backend.word2vec_tables(self.vocab.counts, self.sample, power=self.ns_exponent)
        data = backend.sgns_setup(corpus.ids, corpus.offsets, tables, vector_size=dim, window=self.window,
                                  negative=self.negative, sg=self.sg, cbow_mean=self.cbow_mean,
                                  shared=self.negative_sharing, seed=self.seed, threads=self.workers,
                                  cbow_batch=self._cbow_batch, simd=self._simd)
        n_tokens = len(corpus)
        total = n_tokens * self.epochs
        self.loss_history = []
        self.stats = {}
        simd = [""]

        def publish(run: TrainingRun) -> None:
            # the vectors as numpy arrays (the same arrays on the CPU, copies from the GPU)
            self.input_vectors, self.syn1neg = backend.to_host(inp), backend.to_host(out)
            self.loss_history = list(run.losses)
            self._finish_stats(run.done, run.seconds, simd[0], data.threads, run.interrupted)

        def after_epoch(run: TrainingRun, epoch: int, result: tuple[float, str]) -> None:
            simd[0] = result[1]
            publish(run)

        self.input_vectors, self.syn1neg = backend.to_host(inp), backend.to_host(out)
        self._fitted = True  # callbacks may read the vectors while they train
        publish(train_epochs(self, "skip-gram" if self.sg else "CBOW", self.epochs,
                             lambda epoch: backend.sgns_epoch(data, inp, out, epoch, epoch * n_tokens, total,
                                                              self.alpha, self.min_alpha),
                             total, "word", after_epoch))

    def _finish_stats(self, words_done: int, seconds: float, simd: str, threads: int, interrupted: bool) -> None:
        # words_done counts in-vocabulary tokens; gensim and word2vec.c count the source's tokens
        raw = words_done * self._raw_per_token
        self.stats = {
            "words_trained": int(round(raw)),
            "train_seconds": seconds,
            "words_per_sec": raw / seconds if seconds > 0 else float("inf"),
            "epochs_completed": len(self.loss_history),
            "interrupted": interrupted,
            "simd": simd,
            "workers": threads,
        }

    # ------------------------------------------------------------------------------------------
    @property
    def wv(self) -> KeyedVectors:
        """KeyedVectors of the input vectors, with each word's corpus count as its ``count``
        attribute (NotFittedError before fit)."""
        return KeyedVectors(self.vocab.words, self.input_vectors)._set_counts(self.vocab.counts)

    def __repr__(self) -> str:
        kind = "skip-gram" if self.sg else "CBOW"
        state = f"{len(self.vocab)} words" if self.is_fitted else "untrained"
        return f"Word2Vec({kind}, vector_size={self.vector_size}, window={self.window}, {state})"
