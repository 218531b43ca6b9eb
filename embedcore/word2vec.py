"""word2vec: skip-gram and CBOW with negative sampling, trained by C++ kernels."""
import logging
import time

import numpy as np

from embedcore import _sgd
from embedcore._device import resolve_device
from embedcore._progress import call_epoch_end, progress_bar
from embedcore._threads import effective_workers
from embedcore._validation import check_callbacks, check_float, check_int, describe
from embedcore.corpus import EncodedCorpus, check_restartable
from embedcore.keyedvectors import KeyedVectors
from embedcore.vocab import Vocab

logger = logging.getLogger("embedcore")

# Tokens per thread per call into the kernel: small enough that progress, Ctrl-C and the learning
# rate schedule stay responsive (a fraction of a second per call), large enough that the call
# overhead is nothing.
CHUNK_TOKENS = 1 << 19


def initial_vectors(n_words, dim, seed):
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


class Word2Vec:
    """Skip-gram or CBOW word vectors with negative sampling (word2vec).

    The semantics are word2vec.c's: noise words from the unigram distribution raised to 0.75,
    frequent words subsampled with keep probability ``(sqrt(f/sample) + 1) * sample/f``, a reduced
    window drawn per centre word, a learning rate decaying linearly from `alpha` to `min_alpha`
    over all epochs, and input vectors initialised uniformly in ``[-0.5/dim, 0.5/dim]`` with output
    vectors at zero. Training runs in C++ threads, each on a contiguous part of the corpus, updating
    the shared vectors without locks (Hogwild).

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
        Threads; None uses every usable core.
    seed : int
        Seed of the initial vectors and of the per-thread random streams. With ``workers=1`` the
        same seed and input give bit-identical vectors; multithreaded runs update shared vectors
        without locks and are reproducible only statistically.
    device : {'auto', 'cpu', 'cuda'}
        Where to train: 'auto' uses the GPU when CuPy and a GPU are usable. On the GPU one warp
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

    Raises
    ------
    ValueError
        A hyperparameter out of range (``window < 1``, ``negative < 0``, ``vector_size < 1``,
        ``workers=0`` ...), named in the message.
    TypeError
        A hyperparameter of the wrong type.
    RuntimeError
        ``device='cuda'`` without a usable GPU.

    Attributes
    ----------
    wv : KeyedVectors
        The input vectors (gensim's ``syn0``), one per vocabulary word.
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

    def __init__(self, vector_size=100, window=5, negative=5, sg=1, sample=1e-3, min_count=5, epochs=5,
                 alpha=None, min_alpha=1e-4, cbow_mean=1, workers=None, seed=1, device="auto",
                 negative_sharing=True, callbacks=(), progress=False, _cbow_batch=1, _simd=""):
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
        self.device = resolve_device(device)
        if not isinstance(negative_sharing, (bool, np.bool_)):
            raise TypeError(f"negative_sharing must be a bool, got {type(negative_sharing).__name__}")
        self.negative_sharing = bool(negative_sharing)
        self.callbacks = check_callbacks(callbacks)
        self.progress = bool(progress)
        self._cbow_batch = check_int(_cbow_batch, "_cbow_batch", minimum=1, maximum=64)
        self._raw_per_token = 1.0  # source tokens per trained token; set by fit
        self._simd = _simd
        self.vocab = None
        self.input_vectors = None
        self.syn1neg = None
        self.loss_history = []
        self.stats = {}

    # ------------------------------------------------------------------------------------------
    def fit(self, source, vocab=None):
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
        """
        t0 = time.perf_counter()
        if vocab is not None and not isinstance(vocab, Vocab):
            raise TypeError(f"vocab must be an embedcore.Vocab, got {type(vocab).__name__}")
        if isinstance(source, EncodedCorpus):
            if vocab is None:
                raise TypeError("fit(encoded_corpus) needs vocab=: the Vocab the corpus was encoded with")
            corpus = source
        else:
            if vocab is None:
                check_restartable(source)
                vocab = Vocab.from_corpus(source, min_count=self.min_count, progress=self.progress)
            corpus = vocab.encode(source, progress=self.progress)
        if len(vocab) == 0:
            raise ValueError("vocab is empty: no word to train")
        if len(corpus) == 0:
            raise ValueError("corpus is empty: no in-vocabulary token to train on")
        top = int(corpus.ids.max())
        if top >= len(vocab):
            raise ValueError(f"corpus ids must be < len(vocab) = {len(vocab)}, got id {top}")
        self.vocab = vocab
        vocab_seconds = time.perf_counter() - t0
        self._raw_per_token = corpus.raw_tokens / len(corpus)
        self._train(corpus)
        self.stats["vocab_seconds"] = vocab_seconds
        return self

    def _tables(self):
        counts = np.ascontiguousarray(self.vocab.counts, dtype=np.int64)
        if counts.sum() <= 0:
            raise ValueError("vocab counts are all zero: the noise distribution is undefined")
        prob, alias = _sgd.word2vec_noise_table(counts, 0.75)
        keep = _sgd.word2vec_keep_table(counts, self.sample, int(counts.sum()))
        return keep, prob, alias

    def _train(self, corpus):
        if self.device == "cuda":
            from embedcore.backends import cuda
            return cuda.train_word2vec_model(self, corpus)
        n_words, dim = len(self.vocab), self.vector_size
        self.input_vectors = initial_vectors(n_words, dim, self.seed)
        self.syn1neg = np.zeros((n_words, dim), dtype=np.float32)
        keep, prob, alias = self._tables()
        ids = corpus.ids if corpus.ids.flags.c_contiguous else np.ascontiguousarray(corpus.ids)
        offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
        n_tokens = len(ids)
        threads = max(1, min(self.workers, n_tokens))
        bounds = (np.arange(threads + 1, dtype=np.int64) * n_tokens) // threads
        starts, ends = bounds[:-1].copy(), bounds[1:].copy()
        states = _sgd.word2vec_stream_states(self.seed, threads)
        total = n_tokens * self.epochs
        words_done = 0
        simd = ""
        self.loss_history = []
        interrupted = False
        t0 = time.perf_counter()
        bar = progress_bar(self.progress, total, "training " + ("skip-gram" if self.sg else "CBOW"), "word")
        try:
            for epoch in range(self.epochs):
                loss = np.zeros(threads, dtype=np.float64)
                pos = starts.copy()
                while np.any(pos < ends):
                    stop = np.minimum(pos + CHUNK_TOKENS, ends)
                    words_done, simd = _sgd.word2vec_train_chunk(
                        self.input_vectors, self.syn1neg, keep, prob, alias, ids, offsets, pos, stop,
                        states, loss, words_done, bool(self.sg), bool(self.cbow_mean),
                        self.negative_sharing, self._cbow_batch, self.window, self.negative,
                        self.alpha, self.min_alpha, total, self._simd)
                    bar.update(int((stop - pos).sum()))
                    pos = stop
                self.loss_history.append(float(loss.sum()))
                logger.info("word2vec epoch %d/%d: loss %.6g", epoch + 1, self.epochs, self.loss_history[-1])
                self._finish_stats(words_done, time.perf_counter() - t0, simd, threads, False)
                call_epoch_end(self.callbacks, self, epoch)
        except KeyboardInterrupt:
            interrupted = True
            logger.warning("word2vec training interrupted after %d of %d words; the vectors are usable",
                           words_done, total)
        finally:
            bar.close()
        self._finish_stats(words_done, time.perf_counter() - t0, simd, threads, interrupted)

    def _finish_stats(self, words_done, seconds, simd, threads, interrupted):
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
    def wv(self):
        """KeyedVectors of the input vectors (raises if the model is not trained)."""
        if self.input_vectors is None:
            raise ValueError("the model is not trained yet: call fit() first")
        return KeyedVectors(self.vocab.words, self.input_vectors)

    def __repr__(self):
        kind = "skip-gram" if self.sg else "CBOW"
        state = f"{len(self.vocab)} words" if self.vocab is not None else "untrained"
        return f"Word2Vec({kind}, vector_size={self.vector_size}, window={self.window}, {state})"


# ----------------------------------------------------------------------------------------------
# command-line hooks (registered in embedcore.cli)

def cli_train(args, sg):
    """`embedcore train --model sgns|cbow`: (KeyedVectors, stats) for the parsed arguments."""
    source = args.source[0] if len(args.source) == 1 else list(args.source)
    vocab = Vocab.from_corpus(source, min_count=args.min_count, max_size=args.max_vocab, progress=True)
    corpus = vocab.encode(source, progress=True)
    model = Word2Vec(vector_size=args.dim, window=args.window or 5, sg=sg, min_count=args.min_count,
                     epochs=args.epochs or 5, workers=args.workers, seed=args.seed, progress=True)
    model.fit(corpus, vocab=vocab)
    s = model.stats
    return model.wv, {"words_per_sec": s["words_per_sec"], "train_seconds": s["train_seconds"],
                      "final_loss": model.loss_history[-1] if model.loss_history else float("nan")}


def demo_model(synthetic, workers, sg):
    """`embedcore demo`: train on the synthetic corpus, return the KeyedVectors."""
    return Word2Vec(sg=sg, min_count=1, workers=workers).fit(synthetic.corpus, vocab=synthetic.vocab).wv
