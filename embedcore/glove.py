"""GloVe: global vectors from a co-occurrence matrix (Pennington, Socher, Manning 2014)."""
import logging
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from embedcore import _memory
from embedcore._base import Model, TrainingRun, train_epochs
from embedcore._threads import effective_workers
from embedcore._typing import Callback, FloatArray, Int64Array, MatrixLike, Source
from embedcore._validation import as_csr, check_callbacks, check_float, check_int, describe, is_device_array
from embedcore.backends import cpu, get_backend
from embedcore.cooccurrence import cooccurrence
from embedcore.corpus import EncodedCorpus, check_restartable
from embedcore.keyedvectors import KeyedVectors
from embedcore.sharded import ShardedMatrix
from embedcore.vocab import Vocab

if TYPE_CHECKING:
    from typing_extensions import Self

logger = logging.getLogger("embedcore")

_LANES = 16  # rows are padded to whole AVX-512 vectors


def _padded(dim: int) -> int:
    return -(-dim // _LANES) * _LANES


def shard_sequence(n_shards: int, seed: int, epoch: int) -> Int64Array:
    """The order in which epoch `epoch` of a fit seeded `seed` visits the shards of a sharded matrix."""
    return np.random.default_rng([seed, 1, epoch]).permutation(n_shards)


def shard_seed(seed: int, index: int) -> int:
    """The seed of the order of shard `index`'s nonzeros (shard 0: the fit's seed, so a one-shard
    matrix trains exactly as the same matrix in memory)."""
    return (int(seed) + int(index) * 0x9E3779B97F4A7C15) % (1 << 64)


class GloVe(Model):
    """GloVe word vectors trained with AdaGrad on weighted log co-occurrence counts.

    Minimises ``sum f(x) (w_i . w~_j + b_i + b~_j - log x)**2`` over the nonzeros ``x = X[i, j]``
    with ``f(x) = min(1, (x / x_max)**alpha)``, one AdaGrad step per nonzero as Stanford's
    ``glove`` takes it (accumulators start at 1 and sum the squared learning-rate-scaled
    gradients; each component of a vector gradient is clipped to +-100 before scaling, and the
    bias step is scaled by `bias_learning_rate`), the nonzeros in one shuffled order, threads updating shared float32 parameters
    without locks (Hogwild). Parameters start uniform in ``[-0.5, 0.5) / vector_size``.

    The CPU trains straight from the matrix: beyond it a fit holds the model and the shuffled order
    of the nonzeros (4 bytes each, :meth:`fit_bytes`). A matrix too large for memory can be given
    as a :class:`~embedcore.sharded.ShardedMatrix` (``cooccurrence(..., out_dir=...)`` writes one): each
    epoch then reads one shard at a time and trains on its nonzeros in their own shuffled order,
    the shards in an order shuffled every epoch, so the fit holds one shard, its order and the
    model.

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
        Seeds the initial parameters and the order of the nonzeros (and of the shards). With
        ``workers=1`` the same seed and input give bit-identical vectors on one machine; with more
        threads the lock-free updates make runs reproducible only statistically.
    device : {'auto', 'cpu', 'cuda'}
        ``'cuda'`` counts and trains on the GPU (one warp per nonzero, Hogwild, on records the
        CPU gathers in its order: 16 bytes per nonzero on the GPU; the parameters return to the
        host after every epoch); ``'auto'`` uses it when a GPU is usable. A ShardedMatrix trains
        on the CPU.
    callbacks : sequence, optional
        Called at the end of every epoch: objects with ``on_epoch_end(model)`` or callables
        ``f(model, epoch)``.
    progress : bool
        Show a progress bar over the nonzeros of all epochs.

    Attributes
    ----------
    wv : KeyedVectors
        W + W~. Before `fit`, reading it or any fitted attribute below raises
        ``embedcore.NotFittedError``.
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

    _fitted_attributes = ("wv", "words", "word_vectors", "context_vectors", "word_biases", "context_biases")
    _state_attributes = ("words", "_word_counts", "word_biases", "context_biases", "_word", "_context", "_word_gradsq",
                         "_context_gradsq", "_word_bias_gradsq", "_context_bias_gradsq")

    words: list[str]
    word_biases: FloatArray
    context_biases: FloatArray
    loss_history: list[float]
    stats: dict[str, Any]
    _word: FloatArray
    _context: FloatArray

    def __init__(self, vector_size: int = 100, x_max: float = 100.0, alpha: float = 0.75, epochs: int = 15,
                 learning_rate: float = 0.05, workers: int | None = None, seed: int = 1, device: str = "auto",
                 callbacks: Iterable[Callback] = (), progress: bool = False, bias_learning_rate: float = 1.0,
                 _simd: str = "") -> None:
        self.vector_size = check_int(vector_size, "vector_size", minimum=1)
        self.x_max = check_float(x_max, "x_max", minimum=0.0, inclusive=False)
        self.alpha = check_float(alpha, "alpha", minimum=0.0, inclusive=False)
        self.epochs = check_int(epochs, "epochs", minimum=0)
        self.learning_rate = check_float(learning_rate, "learning_rate", minimum=0.0, inclusive=False)
        self.bias_learning_rate = check_float(bias_learning_rate, "bias_learning_rate", minimum=0.0, inclusive=False)
        self.workers = workers
        effective_workers(workers)
        self.seed = check_int(seed, "seed", minimum=0)
        self.device = self._check_device(device)
        self.callbacks = check_callbacks(callbacks)
        self.progress = progress
        self._simd = _simd
        self.loss_history = []
        self.stats = {}

    # ------------------------------------------------------------------ fit
    def fit(self, source: "MatrixLike | ShardedMatrix | EncodedCorpus | Source",
            vocab: "Vocab | Sequence[str] | None" = None, window: int = 10, min_count: int = 5,
            symmetric: bool = True, distance_weighting: bool = True) -> "Self":
        """Train on a co-occurrence matrix, an encoded corpus, or text.

        Parameters
        ----------
        source : scipy.sparse matrix, ShardedMatrix, EncodedCorpus, path, list of paths or iterable of sentences
            A square co-occurrence matrix (non-negative; zeros are skipped) whose rows and
            columns are the words of `vocab`, in memory or as row-range shards on disk (read one
            shard at a time, see the class description); or a corpus, counted with
            :func:`cooccurrence` (text builds its vocabulary first with `min_count`).
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
            A matrix that is not square, holds negative, NaN or infinite counts, does not match
            `vocab`, or is a CSR matrix whose structure is not sound (an indptr that decreases,
            columns out of range); an empty vocabulary or matrix; a ShardedMatrix with
            ``device='cuda'``. Duplicate entries of a sparse matrix are one count (their sum).
            Every shard is checked before training starts.
        TypeError
            `source` of an unsupported type; `vocab` missing for a matrix or encoded corpus.
        RuntimeError
            ``device='cuda'`` without a usable GPU.
        MemoryError
            The order of the nonzeros and the model (:meth:`fit_bytes`; for shards, plus the
            largest shard) exceed the available memory; raised before they are allocated.
        FloatingPointError
            The training diverged (the cost of an epoch became NaN or infinite); the model is
            then left unfitted.
        """
        threads = effective_workers(self.workers)
        if isinstance(source, ShardedMatrix):
            return self._fit_shards(source, self._words(vocab, "a sharded co-occurrence matrix"), vocab, threads)
        if is_device_array(source) or hasattr(source, "tocsr"):  # scipy or cupyx sparse
            words = self._words(vocab, "a co-occurrence matrix")
            cooc = source
        elif isinstance(source, EncodedCorpus):
            words = self._words(vocab, "an encoded corpus")
            cooc = cooccurrence(source, len(words), window=window, symmetric=symmetric,
                                distance_weighting=distance_weighting, workers=threads, device=self.device)
        else:
            check_restartable(source)
            vocab = Vocab.from_corpus(source, min_count=min_count, progress=self.progress)
            if len(vocab) == 0:
                raise ValueError(f"source: no word occurs at least min_count={min_count} times")
            words = vocab.words
            corpus = vocab.encode(source, progress=self.progress)
            cooc = cooccurrence(corpus, len(words), window=window, symmetric=symmetric,
                                distance_weighting=distance_weighting, workers=threads, device=self.device)
        backend = get_backend(self.device, cooc)
        self._check_shape(cooc, len(words))
        counts = self._counts(cooc, "cooc", threads)
        positive = self._positive(counts, "cooc")
        if positive == 0:
            raise ValueError("cooc has no positive counts to train on")
        need = self.fit_bytes(positive, len(words))
        if backend is not cpu:  # the GPU's records are gathered on the host first
            need += 16 * positive
        _memory.require(need, f"GloVe.fit on {positive} nonzeros and {len(words)} words",
                        ["fewer words (a larger min_count, or a smaller matrix)",
                         f"a smaller vector_size than {self.vector_size}",
                         "the counts as a ShardedMatrix (cooccurrence(..., out_dir=...)), trained one shard at a time"])
        records = backend.glove_records(counts, self.x_max, self.alpha, self.seed, threads, positive)
        del counts
        with self._fitting():
            self.words = list(words)
            self._word_counts = vocab.counts if isinstance(vocab, Vocab) else None
            self._init_params(len(words))
            self._train(backend, self._epoch_over(backend, records, positive, threads), positive, threads)
        return self

    def _fit_shards(self, matrix: ShardedMatrix, words: Sequence[str], vocab: "Vocab | Sequence[str] | None",
                    threads: int) -> "Self":
        """fit() on a ShardedMatrix: every shard checked (and its positive counts counted) in one
        reading, then each epoch reads the shards one at a time."""
        if self.device == "cuda":
            raise ValueError("GloVe trains from a ShardedMatrix on the CPU: pass device='cpu' or 'auto', or the "
                             "matrix in memory (matrix.to_scipy()) to train on the GPU")
        self._check_shape(matrix, len(words))
        positive, held = [], 0
        for i, ((lo, hi), piece) in enumerate(matrix):
            name = f"cooc shard {i} (rows {lo}..{hi})"
            counts = self._counts(piece, name, threads)
            positive.append(self._positive(counts, name))
            # the shard read into memory (float32 values), and the order of its nonzeros
            held = max(held, 12 * counts.nnz + 8 * (hi - lo + 1) + self._order_bytes(positive[-1], counts.nnz))
            del counts, piece
        total = sum(positive)
        if total == 0:
            raise ValueError("cooc has no positive counts to train on")
        _memory.require(held + self._model_bytes(len(words)),
                        f"GloVe.fit on {matrix.n_shards} shards of at most {max(positive)} nonzeros and "
                        f"{len(words)} words",
                        ["fewer words (a larger min_count, or a smaller matrix)",
                         f"a smaller vector_size than {self.vector_size}",
                         "smaller shards (cooccurrence(..., max_memory=...) writes more of them)"])
        ranges = matrix.row_ranges

        def epoch_over(params: dict[str, Any], epoch: int) -> Generator[int, None, tuple[float, str | None]]:
            cost, simd = 0.0, None
            for i in shard_sequence(matrix.n_shards, self.seed, epoch):
                if positive[i] == 0:
                    continue
                counts = self._counts(matrix.shard(i, mmap=False), f"cooc shard {i}", threads)
                shard = cpu.glove_records(counts, self.x_max, self.alpha, shard_seed(self.seed, i), threads,
                                          positive[i])._replace(row_offset=ranges[i][0])
                part, simd = cpu.glove_epoch(shard, params, self.learning_rate, self.bias_learning_rate, threads,
                                             simd=self._simd)
                cost += part
                del counts, shard
                yield positive[i]
            return cost, simd

        with self._fitting():
            self.words = list(words)
            self._word_counts = vocab.counts if isinstance(vocab, Vocab) else None
            self._init_params(len(words))
            self._train(cpu, epoch_over, total, threads)
        return self

    def fit_bytes(self, nnz: int, n_words: int) -> int:
        """Host bytes `fit` allocates beyond the matrix for `nnz` nonzeros and `n_words` words:
        the shuffled order of the nonzeros (4 bytes each, 8 from 2**32 nonzeros on, and 4 bytes
        per 64 nonzeros of row hints) and the model (W, W~ and their AdaGrad sums padded to
        `stride` columns, four float32 vectors of biases and their sums).

        ``4 * nnz + 4 * (nnz // 64 + 2) + 4 * n_words * (4 * stride + 4)`` below 2**32 nonzeros
        """
        return self._order_bytes(nnz) + self._model_bytes(n_words)

    @staticmethod
    def _order_bytes(nnz: int, matrix_nnz: int | None = None) -> int:
        """The order of `nnz` nonzeros and the row hints of a matrix of `matrix_nnz` (default `nnz`)."""
        nnz = int(nnz)
        matrix_nnz = nnz if matrix_nnz is None else int(matrix_nnz)
        return (4 if matrix_nnz <= 1 << 32 else 8) * nnz + 4 * (matrix_nnz // 64 + 2)

    def _model_bytes(self, n_words: int) -> int:
        return 4 * int(n_words) * (4 * _padded(self.vector_size) + 4)

    @staticmethod
    def _words(vocab: "Vocab | Sequence[str] | None", what: str) -> list[str]:
        if vocab is None:
            raise TypeError(f"vocab is required to train on {what} (a Vocab or a list of words)")
        if isinstance(vocab, Vocab):
            return vocab.words
        words = list(vocab)
        if not all(isinstance(w, str) for w in words):
            raise TypeError("vocab must be a Vocab or a list of str")
        return words

    @staticmethod
    def _check_shape(cooc: Any, n_words: int) -> None:
        if len(cooc.shape) != 2 or cooc.shape[0] != cooc.shape[1]:
            raise ValueError(f"cooc must be a square matrix, got shape {cooc.shape}")
        if cooc.shape[0] != n_words:
            raise ValueError(f"cooc has {cooc.shape[0]} rows but vocab has {n_words} words")
        if n_words == 0:
            raise ValueError("vocab must not be empty")
        if not np.issubdtype(cooc.dtype, np.floating) and not np.issubdtype(cooc.dtype, np.integer):
            raise TypeError(f"cooc must hold real counts, got {describe(cooc)}")

    @staticmethod
    def _counts(cooc: Any, name: str, threads: int) -> Any:
        """The counts as a canonical host CSR (duplicates summed once, float32), its structure
        checked; the counts themselves are checked by `_positive`."""
        cpu_backend = get_backend("cpu")  # the order is built on the host for every device
        return as_csr(cooc, name, cpu_backend, threads, canonical=True, check_finite=False)

    @staticmethod
    def _positive(counts: Any, name: str) -> int:
        """The number of positive counts (explicit zeros have no log x to fit and are skipped);
        ValueError for a negative, NaN or infinite count."""
        positive, bad = cpu.glove_check_counts(counts)
        if bad >= 0:
            value = float(counts.data[bad])
            if not np.isfinite(value):
                raise ValueError(f"{name} contains NaN or infinite counts")
            raise ValueError(f"{name} counts must be non-negative, got {value}")
        return positive

    def _init_params(self, n_words: int) -> None:
        dim, stride = self.vector_size, _padded(self.vector_size)
        rng = np.random.default_rng([self.seed, 0])

        def uniform(shape: int | tuple[int, int]) -> FloatArray:
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

    _PARAMS = (("word", "_word"), ("context", "_context"), ("word_bias", "word_biases"),
               ("context_bias", "context_biases"), ("word_gradsq", "_word_gradsq"),
               ("context_gradsq", "_context_gradsq"), ("word_bias_gradsq", "_word_bias_gradsq"),
               ("context_bias_gradsq", "_context_bias_gradsq"))

    def _epoch_over(self, backend: Any, records: Any, nnz: int,
                    threads: int) -> Callable[[dict[str, Any], int], Generator[int, None, tuple[float, str]]]:
        """``epoch_over(params, epoch)`` for `_train`: one pass over the `nnz` nonzeros of
        `records` (what the backend's glove_records made)."""
        def epoch_over(params: dict[str, Any], epoch: int) -> Generator[int, None, tuple[float, str]]:
            cost, simd = backend.glove_epoch(records, params, self.learning_rate, self.bias_learning_rate, threads,
                                             simd=self._simd)
            yield nnz
            return cost, simd
        return epoch_over

    def _train(self, backend: Any, epoch_over: Callable[[dict[str, Any], int], Generator[int, None, tuple[float, Any]]],
               nnz: int, threads: int) -> None:
        """Run the epochs: ``epoch_over(params, epoch)`` is a generator over an epoch's parts that
        yields the nonzeros each part trained and returns ``(cost, simd)``."""
        # the backend's arrays: the model's own on the CPU, copies on the GPU
        params = {name: backend.asarray(getattr(self, attr)) for name, attr in self._PARAMS}
        self._fitted = True  # callbacks may read the vectors while they train
        self.stats = {"epoch_seconds": [], "train_seconds": 0.0, "nnz": nnz, "simd": None, "workers": threads}

        def run_epoch(epoch: int) -> Generator[int, None, tuple[float, Any]]:
            cost, simd = yield from epoch_over(params, epoch)
            return cost / nnz, simd

        def publish(run: TrainingRun) -> None:
            for name, attr in self._PARAMS:
                array = backend.to_host(params[name])
                if array is not getattr(self, attr):
                    getattr(self, attr)[...] = array
            self.loss_history = list(run.losses)
            self.stats["epoch_seconds"] = list(run.epoch_seconds)
            self.stats["train_seconds"] = run.seconds

        def after_epoch(run: TrainingRun, epoch: int, result: tuple[float, str]) -> None:
            self.stats["simd"] = result[1]
            publish(run)

        publish(train_epochs(self, "glove", self.epochs, run_epoch, nnz * self.epochs, "pair", after_epoch))

    # ------------------------------------------------------------------ results
    @property
    def word_vectors(self) -> FloatArray:
        return self._word[:, :self.vector_size]

    @property
    def context_vectors(self) -> FloatArray:
        return self._context[:, :self.vector_size]

    @property
    def wv(self) -> KeyedVectors:
        """KeyedVectors of W + W~ (GloVe's default output); ``count`` attributes from the Vocab
        the fit had (descending dummy values when it had a list of words)."""
        kv = KeyedVectors(self.words, self.word_vectors + self.context_vectors)
        return kv._set_counts(self.__dict__.get("_word_counts"))

    def __repr__(self) -> str:
        n = f"{len(self.words)} words" if self.is_fitted else "unfitted"
        return f"GloVe(vector_size={self.vector_size}, {n}, epochs={len(self.loss_history)}/{self.epochs})"
