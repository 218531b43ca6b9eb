"""GloVe: global vectors from a co-occurrence matrix (Pennington, Socher, Manning 2014)."""
import logging
import time

import numpy as np
import scipy.sparse as sp

from embedcore import _sgd
from embedcore._device import resolve_device
from embedcore._progress import call_epoch_end, progress_bar
from embedcore._threads import effective_workers
from embedcore._validation import check_callbacks, check_choice, check_float, check_int, describe
from embedcore.cooccurrence import cooccurrence
from embedcore.corpus import EncodedCorpus, check_restartable
from embedcore.keyedvectors import KeyedVectors
from embedcore.vocab import Vocab

logger = logging.getLogger("embedcore")

RECORD_DTYPE = np.dtype([("row", np.int32), ("col", np.int32), ("log_x", np.float32), ("weight", np.float32)])
_LANES = 16  # rows are padded to whole AVX-512 vectors


def _padded(dim):
    return -(-dim // _LANES) * _LANES


class GloVe:
    """GloVe word vectors trained with AdaGrad on weighted log co-occurrence counts.

    Minimises ``sum f(x) (w_i . w~_j + b_i + b~_j - log x)**2`` over the nonzeros ``x = X[i, j]``
    with ``f(x) = min(1, (x / x_max)**alpha)``, one AdaGrad step per nonzero as Stanford's
    ``glove`` takes it (accumulators start at 1 and sum the squared learning-rate-scaled
    gradients; each component of a vector gradient is clipped to +-100 before scaling, and the
    bias step is scaled by `bias_learning_rate`), the nonzeros in one shuffled order, threads updating shared float32 parameters
    without locks (Hogwild). Parameters start uniform in ``[-0.5, 0.5) / vector_size``.

    Parameters
    ----------
    vector_size : int
        Dimension of the vectors.
    x_max : float
        Count at which the weight f reaches 1; > 0.
    alpha : float
        Exponent of the weight f; > 0.
    epochs : int
        Passes over the nonzeros.
    learning_rate : float
        AdaGrad's initial step for the vectors (glove.c's ``eta``); > 0.
    bias_learning_rate : float
        The same for the biases; > 0. The default 1.0 is what Stanford's current ``glove`` does
        (it leaves ``eta`` out of the bias step), so the two tools give the same loss curve and
        vectors of the same quality on the same counts. ``bias_learning_rate=learning_rate`` is
        the rule of the GloVe paper and of glove.c up to version 1.2: biases then learn 20 times
        slower, which recovered the planted analogies of ``datasets.synthetic_corpus`` (the
        default does not, nor does Stanford's tool) but scored lower on English word pairs.
    workers : int, optional
        Threads; None uses all usable cores.
    seed : int
        Seeds the initial parameters and the order of the nonzeros. With ``workers=1`` the same
        seed and input give bit-identical vectors on one machine; with more threads the lock-free
        updates make runs reproducible only statistically.
    device : {'auto', 'cpu', 'cuda'}
        ``'cuda'`` trains on the GPU (one warp per nonzero, Hogwild; the parameters return to
        the host after training); ``'auto'`` uses it when a GPU is usable.
    callbacks : sequence, optional
        Called at the end of every epoch: objects with ``on_epoch_end(model)`` or callables
        ``f(model, epoch)``.
    progress : bool
        Show a progress bar over the nonzeros of all epochs.

    Attributes
    ----------
    word_vectors, context_vectors : ndarray (n_words, vector_size) float32
        W and W~ (views of the padded training arrays).
    word_biases, context_biases : ndarray (n_words,) float32
    loss_history : list of float
        Per epoch, ``sum 0.5 f(x) diff**2 / nnz`` during the epoch, the cost glove.c prints.
    words : list of str
    stats : dict
        ``epoch_seconds`` (list), ``train_seconds``, ``nnz``, ``simd``, ``workers``.

    Examples
    --------
    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = GloVe(vector_size=8, epochs=5, workers=1).fit(sentences, window=2, min_count=1)
    >>> model.wv["cat"].shape
    (8,)
    """

    def __init__(self, vector_size=100, x_max=100.0, alpha=0.75, epochs=15, learning_rate=0.05, workers=None,
                 seed=1, device="auto", callbacks=(), progress=False, bias_learning_rate=1.0, _simd=""):
        self.vector_size = check_int(vector_size, "vector_size", minimum=1)
        self.x_max = check_float(x_max, "x_max", minimum=0.0, inclusive=False)
        self.alpha = check_float(alpha, "alpha", minimum=0.0, inclusive=False)
        self.epochs = check_int(epochs, "epochs", minimum=0)
        self.learning_rate = check_float(learning_rate, "learning_rate", minimum=0.0, inclusive=False)
        self.bias_learning_rate = check_float(bias_learning_rate, "bias_learning_rate", minimum=0.0, inclusive=False)
        self.workers = workers
        effective_workers(workers)
        self.seed = check_int(seed, "seed", minimum=0)
        self.device = check_choice(device, "device", ("auto", "cpu", "cuda"))
        self.callbacks = check_callbacks(callbacks)
        self.progress = progress
        self._simd = _simd
        self.words = None
        self.loss_history = []
        self.stats = {}

    # ------------------------------------------------------------------ fit
    def fit(self, source, vocab=None, window=10, min_count=5, symmetric=True, distance_weighting=True):
        """Train on a co-occurrence matrix, an encoded corpus, or text.

        Parameters
        ----------
        source : scipy.sparse matrix, EncodedCorpus, path, list of paths or iterable of sentences
            A square co-occurrence matrix (non-negative; zeros are skipped) whose rows and
            columns are the words of `vocab`; or a corpus, counted with :func:`cooccurrence`
            (text builds its vocabulary first with `min_count`).
        vocab : Vocab or list of str, optional
            The words of the matrix rows / corpus ids; required unless `source` is text.
        window, symmetric, distance_weighting : as in :func:`cooccurrence`
            Used when `source` is a corpus.
        min_count : int
            Used when `source` is text.

        Returns
        -------
        GloVe
            self.

        Raises
        ------
        ValueError
            A matrix that is not square, holds negative, NaN or infinite counts, or does not
            match `vocab`; an empty vocabulary or matrix.
        TypeError
            `source` of an unsupported type; `vocab` missing for a matrix or encoded corpus.
        RuntimeError
            ``device='cuda'`` without a usable GPU.
        """
        on_gpu = resolve_device(self.device) == "cuda"
        threads = effective_workers(self.workers)
        if sp.issparse(source):
            words = self._words(vocab, "a co-occurrence matrix")
            cooc = source
        elif isinstance(source, EncodedCorpus):
            words = self._words(vocab, "an encoded corpus")
            cooc = cooccurrence(source, len(words), window=window, symmetric=symmetric,
                                distance_weighting=distance_weighting, workers=threads)
        else:
            check_restartable(source)
            vocab = Vocab.from_corpus(source, min_count=min_count, progress=self.progress)
            if len(vocab) == 0:
                raise ValueError(f"source: no word occurs at least min_count={min_count} times")
            words = vocab.words
            corpus = vocab.encode(source, progress=self.progress)
            cooc = cooccurrence(corpus, len(words), window=window, symmetric=symmetric,
                                distance_weighting=distance_weighting, workers=threads)
        records = self._records(cooc, len(words))
        self.words = list(words)
        self._init_params(len(words))
        if on_gpu:
            from embedcore.backends import cuda
            self._gpu = cuda.GloveTrainer(self, records)
            try:
                self._train(records, threads)
            finally:
                self._gpu.finish()
                self._gpu = None
        else:
            self._train(records, threads)
        return self

    @staticmethod
    def _words(vocab, what):
        if vocab is None:
            raise TypeError(f"vocab is required to train on {what} (a Vocab or a list of words)")
        if isinstance(vocab, Vocab):
            return vocab.words
        words = list(vocab)
        if not all(isinstance(w, str) for w in words):
            raise TypeError("vocab must be a Vocab or a list of str")
        return words

    def _records(self, cooc, n_words):
        """The nonzeros as shuffled records (row, col, log x, f(x)); checks the counts."""
        if cooc.ndim != 2 or cooc.shape[0] != cooc.shape[1]:
            raise ValueError(f"cooc must be a square matrix, got shape {cooc.shape}")
        if cooc.shape[0] != n_words:
            raise ValueError(f"cooc has {cooc.shape[0]} rows but vocab has {n_words} words")
        if n_words == 0:
            raise ValueError("vocab must not be empty")
        csr = cooc.tocsr()
        values = csr.data
        if not np.issubdtype(values.dtype, np.floating) and not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"cooc must hold real counts, got {describe(values)}")
        if values.size and not np.isfinite(values).all():
            raise ValueError("cooc contains NaN or infinite counts")
        if values.size and values.min() < 0:
            raise ValueError(f"cooc counts must be non-negative, got {values.min()}")
        if values.size and not (values > 0).all():  # explicit zeros: log 0 has no target
            csr = csr.copy()
            csr.eliminate_zeros()
        if csr.nnz == 0:
            raise ValueError("cooc has no positive counts to train on")
        # one shuffled order for all epochs, as glove.c trains on the output of its `shuffle`
        records = np.empty(csr.nnz, dtype=RECORD_DTYPE)
        _sgd.glove_records(np.ascontiguousarray(csr.indptr, dtype=np.int64),
                           np.ascontiguousarray(csr.indices, dtype=np.int32),
                           np.ascontiguousarray(csr.data, dtype=np.float32), n_words, self.x_max, self.alpha,
                           self.seed, records.view(np.int32).reshape(-1, 4), effective_workers(self.workers))
        return records

    def _init_params(self, n_words):
        dim, stride = self.vector_size, _padded(self.vector_size)
        rng = np.random.default_rng([self.seed, 0])

        def uniform(shape):
            return ((rng.random(shape) - 0.5) / dim).astype(np.float32)

        self._word = np.zeros((n_words, stride), dtype=np.float32)
        self._context = np.zeros((n_words, stride), dtype=np.float32)
        self._word[:, :dim] = uniform((n_words, dim))
        self._context[:, :dim] = uniform((n_words, dim))
        self.word_biases = uniform(n_words)
        self.context_biases = uniform(n_words)
        self._word_gradsq = np.ones((n_words, stride), dtype=np.float32)
        self._context_gradsq = np.ones((n_words, stride), dtype=np.float32)
        self._word_bias_gradsq = np.ones(n_words, dtype=np.float32)
        self._context_bias_gradsq = np.ones(n_words, dtype=np.float32)
        self.loss_history = []

    def _epoch(self, rec_view, threads):
        if getattr(self, "_gpu", None) is not None:
            return self._gpu.epoch(self.learning_rate, self.bias_learning_rate)
        return _sgd.glove_train_epoch(
            self._word, self._context, self.word_biases, self.context_biases, self._word_gradsq,
            self._context_gradsq, self._word_bias_gradsq, self._context_bias_gradsq, rec_view,
            self.learning_rate, self.bias_learning_rate, threads, self._simd)

    def _train(self, records, threads):
        rec_view = records.view(np.int32).reshape(len(records), 4)
        nnz = len(records)
        self.stats = {"epoch_seconds": [], "train_seconds": 0.0, "nnz": nnz, "simd": None, "workers": threads}
        bar = progress_bar(self.progress, total=nnz * self.epochs, desc="glove", unit="pair")
        start = time.perf_counter()
        try:
            for epoch in range(self.epochs):
                t0 = time.perf_counter()
                cost, simd = self._epoch(rec_view, threads)
                self.stats["epoch_seconds"].append(time.perf_counter() - t0)
                self.stats["simd"] = simd
                self.loss_history.append(cost / nnz)
                bar.update(nnz)
                logger.info("glove epoch %d/%d: cost %.6f, %.2f s", epoch + 1, self.epochs,
                            self.loss_history[-1], self.stats["epoch_seconds"][-1])
                if not np.isfinite(cost):
                    raise FloatingPointError(f"glove: the cost became {cost} in epoch {epoch + 1}; "
                                             f"lower learning_rate or check the counts")
                call_epoch_end(self.callbacks, self, epoch)
        except KeyboardInterrupt:
            logger.warning("glove training interrupted after %d of %d epochs; the vectors are usable",
                           len(self.loss_history), self.epochs)
        finally:
            bar.close()
            self.stats["train_seconds"] = time.perf_counter() - start

    # ------------------------------------------------------------------ results
    def _require_fit(self):
        if self.words is None:
            raise RuntimeError("GloVe: call fit() first")

    @property
    def word_vectors(self):
        self._require_fit()
        return self._word[:, :self.vector_size]

    @property
    def context_vectors(self):
        self._require_fit()
        return self._context[:, :self.vector_size]

    @property
    def wv(self):
        """KeyedVectors of W + W~ (GloVe's default output)."""
        self._require_fit()
        return KeyedVectors(self.words, self.word_vectors + self.context_vectors)

    def __repr__(self):
        n = "unfitted" if self.words is None else f"{len(self.words)} words"
        return f"GloVe(vector_size={self.vector_size}, {n}, epochs={len(self.loss_history)}/{self.epochs})"
