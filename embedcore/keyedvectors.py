"""KeyedVectors: words, their vectors and similarity queries; the file formats are in
embedcore.formats."""
import logging
import numbers

import numpy as np

from embedcore._threads import effective_workers
from embedcore._validation import as_float32_matrix, check_choice, check_int, check_path, describe
from embedcore.formats import word2vec as _word2vec_format
from embedcore.formats._words import as_word_list, first_duplicate

logger = logging.getLogger("embedcore")

_UNICODE_ERRORS = ("strict", "replace", "ignore")


def _as_item_list(value, name):
    """None -> [], a word or a single vector -> [it], any other sequence -> list(it)."""
    if value is None:
        return []
    if isinstance(value, (str, np.ndarray)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be a word, a vector, or a list of words, vectors or (item, weight) "
                        f"pairs, got {type(value).__name__}") from None


class KeyedVectors:
    """Words and their vectors, with cosine similarity queries and word2vec.c file input/output.

    The same vocabulary as gensim's ``KeyedVectors``: ``kv["word"]``, ``kv.most_similar(...)``,
    ``kv.similarity(a, b)``, ``save_word2vec_format`` / ``load_word2vec_format``.

    Parameters
    ----------
    words : sequence of str
        Distinct, non-empty words without ASCII whitespace (the file formats separate fields with
        it; other spaces such as U+00A0 may occur), in row order.
    vectors : array-like, shape (len(words), vector_size)
        One finite row per word; stored as C-contiguous float32 (a copy only when needed, so a
        float32 C-contiguous array is shared, not copied).

    Raises
    ------
    TypeError
        A word is not a str, or `vectors` is not numeric.
    ValueError
        Words repeat, are empty or hold whitespace; `vectors` is not 2-D, holds NaN or infinity,
        or its row count differs from the number of words.

    Notes
    -----
    Unit-length copies of the vectors are computed on first use and cached. Assigning
    ``kv.vectors = new`` refreshes them; after editing ``kv.vectors`` in place call
    ``kv.fill_norms(force=True)``.

    Examples
    --------
    >>> kv = KeyedVectors(["king", "queen", "apple"], [[1.0, 0.1], [0.9, 0.2], [0.0, 1.0]])
    >>> kv.most_similar("king", topn=1)[0][0]
    'queen'
    """

    def __init__(self, words, vectors):
        words = as_word_list(words)
        vectors = self._check_vectors(vectors, len(words))
        index = dict(zip(words, range(len(words))))
        if len(index) != len(words):
            first, again = first_duplicate(words)
            raise ValueError(f"words must be distinct, but words[{again}] {words[again]!r} repeats "
                             f"words[{first}]")
        self._set(words, vectors, index)

    def _set(self, words, vectors, index):
        self._words = words
        self._vectors = vectors
        self._index = index
        self._normed = None
        self._norms = None

    @staticmethod
    def _check_vectors(vectors, n_words):
        vectors = as_float32_matrix(vectors, "vectors", allow_empty=True)
        if vectors.shape[1] < 1:
            raise ValueError(f"vectors must have at least one column, got {describe(vectors)}")
        if vectors.shape[0] != n_words:
            raise ValueError(f"vectors must have one row per word ({n_words} rows), got "
                             f"{vectors.shape[0]} rows (shape {vectors.shape})")
        return vectors

    # ----------------------------------------------------------------------------------- lookup
    @property
    def words(self):
        """list of str: the words in row order (do not modify; build a new KeyedVectors instead)."""
        return self._words

    index_to_key = words

    @property
    def key_to_index(self):
        """dict: word -> row (gensim's name; do not modify)."""
        return self._index

    @property
    def vectors(self):
        """ndarray, float32, shape (len(self), vector_size): the vectors, C-contiguous.

        Assigning a new array validates it (one finite row per word) and refreshes the cached
        unit vectors.
        """
        return self._vectors

    @vectors.setter
    def vectors(self, value):
        self._vectors = self._check_vectors(value, len(self._words))
        self._normed = None
        self._norms = None

    @property
    def vector_size(self):
        """int: the dimension of the vectors."""
        return self._vectors.shape[1]

    def __len__(self):
        return len(self._words)

    def __contains__(self, word):
        return isinstance(word, str) and word in self._index

    def __repr__(self):
        return f"KeyedVectors({len(self)} words, vector_size={self.vector_size})"

    def index(self, word):
        """The row of `word`.

        Parameters
        ----------
        word : str

        Returns
        -------
        int

        Raises
        ------
        KeyError
            `word` is not in the vocabulary (the message names it).
        TypeError
            `word` is not a str.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0], [2.0]]).index("b")
        1
        """
        try:
            return self._index[word]
        except KeyError:
            if not isinstance(word, str):
                raise TypeError(f"word must be a str, got {type(word).__name__} {word!r}") from None
            raise KeyError(f"word {word!r} is not in the vocabulary") from None
        except TypeError:  # unhashable
            raise TypeError(f"word must be a str, got {type(word).__name__}") from None

    get_index = index

    def __getitem__(self, key):
        """``kv["word"]`` -> its vector (a view of the row); ``kv[["a", "b"]]`` -> a 2-D array (a copy).

        Raises KeyError naming the first unknown word.
        """
        if isinstance(key, str):
            return self._vectors[self.index(key)]
        if isinstance(key, (list, tuple)):
            return self._vectors[np.fromiter((self.index(w) for w in key), dtype=np.int64, count=len(key))]
        raise TypeError(f"key must be a word (str) or a list of words, got {type(key).__name__}")

    def get_vector(self, word, norm=False):
        """The vector of `word`; unit length when `norm` is True (zero stays zero).

        Parameters
        ----------
        word : str
        norm : bool, default False

        Returns
        -------
        ndarray, float32, shape (vector_size,)

        Raises
        ------
        KeyError
            `word` is not in the vocabulary.

        Examples
        --------
        >>> KeyedVectors(["a"], [[3.0, 4.0]]).get_vector("a", norm=True)
        array([0.6, 0.8], dtype=float32)
        """
        i = self.index(word)
        return self.get_normed_vectors()[i] if norm else self._vectors[i]

    # ------------------------------------------------------------------------------ unit vectors
    def fill_norms(self, force=False):
        """Compute the row norms and unit vectors if missing, or again when `force` is True.

        Call ``fill_norms(force=True)`` after changing ``kv.vectors`` in place.

        Parameters
        ----------
        force : bool, default False

        Examples
        --------
        >>> kv = KeyedVectors(["a"], [[3.0, 4.0]])
        >>> kv.vectors[0] = [0.0, 2.0]
        >>> kv.fill_norms(force=True)
        >>> kv.norms
        array([2.], dtype=float32)
        """
        if self._normed is not None and not force:
            return
        v = self._vectors
        norms = np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64)).astype(np.float32)
        safe = np.where(norms > 0, norms, np.float32(1))
        self._normed = np.ascontiguousarray(v / safe[:, None], dtype=np.float32)
        self._norms = norms

    @property
    def norms(self):
        """ndarray, float32, shape (len(self),): the Euclidean norm of each row."""
        self.fill_norms()
        return self._norms

    def get_normed_vectors(self):
        """The vectors scaled to unit length (rows of zero norm stay zero), computed once and cached.

        Returns
        -------
        ndarray, float32, shape (len(self), vector_size)

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[3.0, 4.0], [0.0, 0.0]]).get_normed_vectors()
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
        """
        self.fill_norms()
        return self._normed

    # ----------------------------------------------------------------------------- similarity
    def _search(self, query_vectors, topn, exclude_ids=None, restrict_vocab=None, workers=None):
        """Rows most cosine-similar to each unit-length query: the one search every query uses.

        The search is embedcore.cosine_topk's exact kernel over the cached unit vectors. The
        kernel leaves out one row per query; when a query excludes more, the others are fetched
        in extra and dropped here.

        Parameters
        ----------
        query_vectors : ndarray, float32, shape (nq, vector_size), rows of unit length (or zero)
        topn : int >= 1, or None for the full similarity matrix
        exclude_ids : list (one per query) of int sequences, rows never returned for that query
        restrict_vocab : int, optional, search only the first `restrict_vocab` rows
        workers : int or None, threads of the search

        Returns
        -------
        ndarray (nq, n) of float32 similarities when `topn` is None; else a list with, per query,
        ``(ids int64, scores float32)`` sorted by descending score (ties by row), at most `topn`.
        """
        from embedcore.similarity import _topk_checked

        normed = self.get_normed_vectors()
        if restrict_vocab is not None:
            normed = normed[:restrict_vocab]
        query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if topn is None:
            return query_vectors @ normed.T
        n, nq = len(normed), len(query_vectors)
        excluded = [np.empty(0, np.int64)] * nq
        first = np.full(nq, -1, dtype=np.int64)
        extra = 0
        if exclude_ids is not None:
            for q, ids in enumerate(exclude_ids):
                if len(ids):
                    ids = np.unique(np.asarray(ids, dtype=np.int64))
                    ids = ids[(ids >= 0) & (ids < n)]
                    excluded[q] = ids
                    if len(ids):
                        first[q] = ids[0]
                        extra = max(extra, len(ids) - 1)
        any_excluded = bool((first >= 0).any())
        k = min(topn + extra, n - (1 if any_excluded else 0))
        if k <= 0 or nq == 0:
            return [(np.empty(0, np.int64), np.empty(0, np.float32)) for _ in range(nq)]
        scores, ids = _topk_checked(query_vectors, normed, k, first if any_excluded else None, True,
                                    effective_workers(workers))
        results = []
        for q in range(nq):
            row_ids, row_scores = ids[q], scores[q]
            if len(excluded[q]) > 1:
                keep = ~np.isin(row_ids, excluded[q])
                row_ids, row_scores = row_ids[keep], row_scores[keep]
            results.append((row_ids[:topn], row_scores[:topn]))
        return results

    def _check_topn(self, topn):
        if topn is None:
            return None
        return check_int(topn, "topn", minimum=0)

    def _check_restrict(self, restrict_vocab):
        if restrict_vocab is None:
            return None
        return check_int(restrict_vocab, "restrict_vocab", minimum=1)

    def _as_query_vector(self, item, name):
        vector = np.asarray(item, dtype=np.float64)
        if vector.shape != (self.vector_size,):
            raise ValueError(f"{name} must be a word or a vector of length {self.vector_size}, got "
                             f"{describe(vector)}")
        if not np.isfinite(vector).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return vector

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The `topn` words most cosine-similar to the weighted mean of the inputs (gensim's rule).

        Each input word contributes its unit vector with weight +1 (`positive`) or -1
        (`negative`); a vector input contributes itself as given; an ``(item, weight)`` pair sets
        the weight. The sum divided by the total absolute weight is normalised to unit length and
        compared with every word's unit vector; input words are left out of the answer.

        Parameters
        ----------
        positive, negative : str, vector, or list of str, vectors or (item, weight) pairs
        topn : int or None, default 10
            How many words to return; None returns the similarity to every word (input words
            included) as a float32 array, as gensim does; 0 returns [].
        restrict_vocab : int, optional
            Search only the first `restrict_vocab` words (the most frequent, in a trained model).

        Returns
        -------
        list of (str, float)
            Words with their cosine similarity, most similar first; a float32 array when
            `topn` is None.

        Raises
        ------
        KeyError
            An input word is not in the vocabulary.
        ValueError
            No input at all, a vector of the wrong length or with NaN, a negative `topn`.

        Examples
        --------
        >>> kv = KeyedVectors(["king", "man", "woman", "queen"],
        ...                   [[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]])
        >>> kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
        'queen'
        """
        topn = self._check_topn(topn)
        restrict_vocab = self._check_restrict(restrict_vocab)
        if topn == 0:
            return []
        items = [(item, 1.0) for item in _as_item_list(positive, "positive")]
        items += [(item, -1.0) for item in _as_item_list(negative, "negative")]
        if not items:
            raise ValueError("most_similar needs at least one word or vector in positive or negative")
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total = 0.0
        exclude = []
        for item, weight in items:
            if (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], (str, np.ndarray))
                    and isinstance(item[1], numbers.Real)):
                item, weight = item[0], float(item[1])
            if isinstance(item, str):
                i = self.index(item)
                exclude.append(i)
                mean += weight * self.get_normed_vectors()[i]
            else:
                mean += weight * self._as_query_vector(item, "positive/negative vector")
            total += abs(weight)
        if total > 0:
            mean /= total
        norm = np.linalg.norm(mean)
        if norm > 0:
            mean /= norm
        query = mean.astype(np.float32)[None, :]
        if topn is None:
            return self._search(query, None, restrict_vocab=restrict_vocab)[0]
        ids, scores = self._search(query, topn, [exclude], restrict_vocab)[0]
        return [(self._words[i], float(s)) for i, s in zip(ids.tolist(), scores.tolist())]

    def most_similar_batch(self, queries, topn=10, restrict_vocab=None, workers=None):
        """`most_similar` for many words or vectors at once, answered by one search.

        Parameters
        ----------
        queries : list of str, or array-like of shape (nq, vector_size)
            Words (each left out of its own answer, as in ``most_similar(word)``) or vectors
            (nothing left out).
        topn : int, default 10
        restrict_vocab : int, optional
            Search only the first `restrict_vocab` words.
        workers : int or None
            Threads (None: all cores).

        Returns
        -------
        list of list of (str, float)
            One answer per query, most similar first.

        Raises
        ------
        KeyError
            A word is not in the vocabulary.
        ValueError
            Vectors of the wrong width or with NaN, a negative `topn`.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> [answer[0][0] for answer in kv.most_similar_batch(["a", "c"], topn=1)]
        ['b', 'b']
        """
        topn = check_int(topn, "topn", minimum=0)
        restrict_vocab = self._check_restrict(restrict_vocab)
        if isinstance(queries, str):
            raise TypeError("queries must be a list of words or a 2-D array of vectors, got a str; "
                            "use most_similar(word) for one word")
        if isinstance(queries, np.ndarray) and queries.dtype.kind in "fiu" or (
                not isinstance(queries, np.ndarray) and len(queries) and not isinstance(queries[0], str)):
            vectors = as_float32_matrix(queries, "queries")
            if vectors.shape[1] != self.vector_size:
                raise ValueError(f"queries must have {self.vector_size} columns (the vector size), got "
                                 f"{describe(vectors)}")
            norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
            unit = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
            exclude = None
        else:
            ids = [self.index(word) for word in queries]
            # renormalised in float64 exactly as most_similar(word) builds its query
            unit = self.get_normed_vectors()[np.asarray(ids, dtype=np.int64)].astype(np.float64)
            norms = np.linalg.norm(unit, axis=1, keepdims=True)
            unit = (unit / np.where(norms > 0, norms, 1.0)).astype(np.float32)
            exclude = [[i] for i in ids]
        if topn == 0 or len(unit) == 0:
            return [[] for _ in range(len(unit))]
        found = self._search(unit, topn, exclude, restrict_vocab, workers)
        words = self._words
        return [[(words[i], float(x)) for i, x in zip(ids.tolist(), scores.tolist())] for ids, scores in found]

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The `topn` words most cosine-similar to `vector` (no word is excluded).

        Parameters
        ----------
        vector : array-like, shape (vector_size,)
        topn : int or None, default 10
        restrict_vocab : int, optional

        Returns
        -------
        list of (str, float)

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).similar_by_vector([0.0, 2.0], topn=1)
        [('b', 1.0)]
        """
        vector = self._as_query_vector(vector, "vector")
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """Same as ``most_similar(word, topn=topn)``.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [1.0, 1.0]]).similar_by_word("a")[0][0]
        'b'
        """
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similarity(self, word1, word2):
        """Cosine similarity of two words (0 when either vector is zero).

        Parameters
        ----------
        word1, word2 : str

        Returns
        -------
        float

        Raises
        ------
        KeyError
            A word is not in the vocabulary.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [1.0, 1.0]]).similarity("a", "b")  # doctest: +ELLIPSIS
        0.7071...
        """
        normed = self.get_normed_vectors()
        return float(np.dot(normed[self.index(word1)].astype(np.float64),
                            normed[self.index(word2)].astype(np.float64)))

    def distance(self, word1, word2):
        """Cosine distance ``1 - similarity(word1, word2)``.

        Examples
        --------
        >>> KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).distance("a", "b")
        1.0
        """
        return 1.0 - self.similarity(word1, word2)

    def n_similarity(self, words1, words2):
        """Cosine similarity between the means of the unit vectors of two word lists.

        Parameters
        ----------
        words1, words2 : list of str, each non-empty

        Returns
        -------
        float

        Raises
        ------
        KeyError
            A word is not in the vocabulary.
        ValueError
            A list is empty.

        Examples
        --------
        >>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> round(kv.n_similarity(["a", "b"], ["c"]), 6)
        1.0
        """
        means = []
        for name, words in (("words1", words1), ("words2", words2)):
            if isinstance(words, str):
                raise TypeError(f"{name} must be a list of words, got a str")
            words = list(words)
            if not words:
                raise ValueError(f"{name} must hold at least one word, got an empty list")
            ids = [self.index(w) for w in words]
            mean = self.get_normed_vectors()[ids].astype(np.float64).mean(axis=0)
            norm = np.linalg.norm(mean)
            means.append(mean / norm if norm > 0 else mean)
        return float(np.dot(means[0], means[1]))

    # ------------------------------------------------------------------------------- evaluation
    def evaluate_word_analogies(self, analogies, restrict_vocab=30000, method="3cosadd",
                                case_insensitive=True, dummy4unknown=False, workers=None):
        """Analogy accuracy on a Google-format file, scored as gensim scores it.

        See :func:`embedcore.evaluate.evaluate_word_analogies` (all questions are solved as one
        batch through the exact top-k kernel).

        Parameters
        ----------
        analogies : str or os.PathLike
        restrict_vocab : int, default 30000
        method : {"3cosadd", "3cosmul"}
        case_insensitive : bool, default True
        dummy4unknown : bool, default False
        workers : int or None

        Returns
        -------
        (float, list of dict)
            Overall accuracy, and per section ``{"section", "correct", "incorrect"}`` with the
            ``"Total accuracy"`` entry last.

        Examples
        --------
        >>> accuracy, sections = kv.evaluate_word_analogies("questions-words.txt")  # doctest: +SKIP
        """
        from embedcore.evaluate import evaluate_word_analogies
        return evaluate_word_analogies(self._words, self._vectors, analogies, restrict_vocab=restrict_vocab,
                                       method=method, case_insensitive=case_insensitive,
                                       dummy4unknown=dummy4unknown, workers=workers)

    def evaluate_word_pairs(self, pairs, delimiter=None, restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False):
        """Pearson and Spearman correlation of cosine similarities with human scores.

        See :func:`embedcore.evaluate.evaluate_word_pairs`.

        Parameters
        ----------
        pairs : str or os.PathLike
            ``word1 word2 score`` lines (tab or space separated; ``#`` lines skipped).
        delimiter : str or None
        restrict_vocab : int, default 300000
        case_insensitive : bool, default True
        dummy4unknown : bool, default False

        Returns
        -------
        (pearson, spearman, oov_ratio)
            scipy's results ((statistic, pvalue) each) and the percentage of pairs with unknown words.

        Examples
        --------
        >>> pearson, spearman, oov = kv.evaluate_word_pairs("wordsim353.tsv")  # doctest: +SKIP
        """
        from embedcore.evaluate import evaluate_word_pairs
        return evaluate_word_pairs(self._words, self._vectors, pairs, delimiter=delimiter,
                                   restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
                                   dummy4unknown=dummy4unknown)

    # ------------------------------------------------------------------------------------- files
    def save_word2vec_format(self, path, binary=False, write_header=True, progress=False):
        """Write the vectors in word2vec.c's text or binary format.

        Text: a ``"count dimension"`` header line, then ``word v1 ... vd`` per line, each value
        the shortest decimal that reads back as the same float32 (so a round trip is exact).
        Binary: the same header, then per word its UTF-8 bytes, a space, the little-endian
        float32 values and a newline, as word2vec.c writes. A path ending in ``.gz`` or ``.bz2``
        is compressed. The file is replaced atomically (:func:`embedcore._io.atomic_write`): on
        any error, Ctrl-C or SIGTERM an existing file at `path` is left untouched and no
        temporary file remains; a replaced file keeps its permissions and group, and a symlink
        is written through.

        Parameters
        ----------
        path : str or os.PathLike
        binary : bool, default False
        write_header : bool, default True
            False writes GloVe's header-less text.
        progress : bool, default False
            Show a progress bar (or log lines) while writing.

        Raises
        ------
        ValueError
            `binary` with ``write_header=False`` (the binary format needs its header).
        OSError
            The file cannot be written.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(["a", "b"], [[0.5, -1.0], [2.0, 0.25]])
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
        >>> kv.save_word2vec_format(path)
        >>> open(path).read()
        '2 2\\na 0.5 -1\\nb 2 0.25\\n'
        """
        path = check_path(path, "path")
        if not isinstance(binary, bool):
            raise TypeError(f"binary must be a bool, got {type(binary).__name__}")
        if binary and not write_header:
            raise ValueError("write_header=False is only possible for text (binary=False): the binary "
                             "format needs the header to know the dimension")
        _word2vec_format.write(path, self._words, self._vectors, binary, write_header, progress)

    @classmethod
    def load_word2vec_format(cls, path, binary=False, no_header=False, errors="strict", limit=None,
                             progress=False, workers=None):
        """Read vectors in word2vec.c's text or binary format, or GloVe's header-less text.

        Compressed files (gzip, bz2: recognised by their content, then by a ``.gz`` or ``.bz2``
        name) are read transparently; the path is opened once, so a named pipe reads. Parsing is done in C++ in
        chunks, so memory is the vectors plus one chunk. Text fields may be separated by spaces
        or tabs, and lines may end in ``\\r\\n``; binary records may or may not end in a newline
        (word2vec.c writes one, gensim does not).

        Parameters
        ----------
        path : str or os.PathLike
        binary : bool, default False
        no_header : bool, default False
            The text file has no ``"count dimension"`` line (GloVe); the dimension is taken from
            the first line. Only for text.
        errors : {"strict", "replace", "ignore"}, default "strict"
            What to do with words that are not valid UTF-8: raise, substitute U+FFFD, or drop the
            bad bytes.
        limit : int, optional
            Read only the first `limit` vectors.
        progress : bool, default False
            Show a progress bar (or log lines) while reading.
        workers : int, optional
            Threads that parse text numbers (None: all usable cores; the result does not depend
            on it). Binary files are copied, not parsed, and use one thread.

        Returns
        -------
        KeyedVectors

        Raises
        ------
        ValueError
            The file is truncated or corrupt: a header that is not two counts or disagrees with
            the body, a row with the wrong number of values, a value that is not a number or is
            NaN/infinite, a truncated binary record, a repeated or invalid word, invalid UTF-8
            (with ``errors="strict"``). The message names the path and the line (text) or byte
            offset (binary).
        FileNotFoundError
            No file at `path`.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "glove.txt")
        >>> _ = open(path, "w").write("the 0.1 0.2\\nof 0.3 0.4\\n")
        >>> kv = KeyedVectors.load_word2vec_format(path, no_header=True)
        >>> kv.words, kv.vector_size
        (['the', 'of'], 2)
        """
        path = check_path(path, "path")
        for name, value in (("binary", binary), ("no_header", no_header)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
        check_choice(errors, "errors", _UNICODE_ERRORS)
        if limit is not None:
            limit = check_int(limit, "limit", minimum=1)
        if binary and no_header:
            raise ValueError("no_header=True is only possible for text (binary=False): the binary "
                             "format always has a header")
        threads = effective_workers(workers)
        words, vectors, index = _word2vec_format.read(path, binary, no_header, errors, limit, progress, threads)
        kv = cls.__new__(cls)
        kv._set(words, vectors, index)
        return kv
