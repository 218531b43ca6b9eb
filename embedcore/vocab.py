"""The vocabulary: words sorted by descending count, and the text pass that builds and uses it."""
import logging
import os
import re
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from embedcore import _sgd
from embedcore._io import atomic_write, open_source
from embedcore._progress import progress_bar
from embedcore._threads import effective_workers
from embedcore._typing import Int64Array, Source, StrPath
from embedcore._validation import check_choice, check_int, describe
from embedcore.corpus import EncodedCorpus, classify_source
from embedcore.formats._words import RULE, as_word_list, first_bad_word, first_duplicate

logger = logging.getLogger("embedcore")

# While counting with max_size, the table of distinct words is pruned once it holds more than
# max(2 * max_size, MIN_PRUNE_AT) words, so the words near the cut keep accurate counts.
MIN_PRUNE_AT = 1 << 20


def _read_source(sink: "_sgd.WordCounter | _sgd.WordEncoder", source: Source, progress: bool, desc: str) -> None:
    """Stream a source through a WordCounter or WordEncoder, with a progress bar over bytes."""
    kind, items = classify_source(source)
    if kind == "sentences":
        sink.feed_sentences(items)
        return
    bar = progress_bar(progress, sum(os.path.getsize(p) for p in items), desc, "B")
    sink.progress = bar.update
    try:
        for path in items:
            sink.feed_file(path)
    finally:
        bar.close()


class Vocab:
    """Words with their corpus counts, most frequent first (ties by first appearance).

    Parameters
    ----------
    words : list of str
        Distinct words, in id order: non-empty, without ASCII whitespace, valid Unicode (what the
        vocabulary file can hold; other words raise ValueError naming them).
    counts : array-like of int
        Count of each word, same length as `words`.
    total_words : int, optional
        Tokens in the corpus the counts came from, rare words included; defaults to sum(counts).

    Examples
    --------
    >>> vocab = Vocab.from_corpus([["a", "b", "a"], ["a", "c"]], min_count=1)
    >>> vocab.words, vocab["a"], len(vocab)
    (['a', 'b', 'c'], 0, 3)
    """

    words: list[str]
    counts: Int64Array
    total_words: int

    def __init__(self, words: Iterable[str], counts: npt.ArrayLike, total_words: int | None = None) -> None:
        words = as_word_list(words)
        counts = np.asarray(counts)
        if counts.ndim != 1 or len(counts) != len(words):
            raise ValueError(f"counts must be a 1-D array with one count per word ({len(words)}), "
                             f"got {describe(counts)}")
        if counts.size and not np.issubdtype(counts.dtype, np.integer):
            raise TypeError(f"counts must hold integers, got {describe(counts)}")
        if counts.size and counts.min() < 0:
            raise ValueError("counts must be non-negative")
        index = {w: i for i, w in enumerate(words)}
        if len(index) != len(words):
            repeated = first_duplicate(words)
            assert repeated is not None  # the index is shorter than the list: a word repeats
            first, again = repeated
            raise ValueError(f"words must be distinct, but words[{again}] {words[again]!r} repeats words[{first}]")
        self.words = words
        self.counts = counts.astype(np.int64, copy=False)
        self._index = index
        self.total_words = int(self.counts.sum()) if total_words is None else check_int(
            total_words, "total_words", minimum=0)

    @classmethod
    def from_corpus(cls, source: Source, min_count: int = 5, max_size: int | None = None, errors: str = "strict",
                    progress: bool = False, workers: int | None = None, _prune_at: int | None = None) -> "Vocab":
        """Count the words of a corpus.

        Parameters
        ----------
        source : path, list of paths, or iterable of sentences
            UTF-8 text, one sentence per line ("\\n" ends a line), tokens separated by whitespace
            as ``str.split()`` sees it, Unicode spaces such as U+00A0 and U+3000 included, as
            gensim reads text (``.gz`` and ``.bz2`` are decompressed); or sentences as lists of
            str, taken as they are.
        min_count : int
            Words seen fewer times are left out.
        max_size : int, optional
            Keep at most this many words (the most frequent). Counting memory is bounded too: once
            more than ``max(2 * max_size, 2**20)`` distinct words are held, the rarest are pruned
            as gensim's ``max_vocab_size`` does (each pruning drops words with count <= n, then
            n grows by one), so counts near the cut can be slight underestimates.
        errors : {'strict', 'replace', 'ignore'}
            What to do with invalid UTF-8: raise ValueError naming the file and byte offset,
            replace each bad sequence by U+FFFD, or drop it.
        progress : bool
            Show a progress bar (bytes read).
        workers : int, optional
            Threads tokenizing and counting files (each file is cut into blocks at whitespace and
            the pieces counted in parallel, then merged in order, so the result is the same for
            any number); None for all usable cores.

        Returns
        -------
        Vocab

        Raises
        ------
        ValueError
            The corpus holds no token, or no word reaches `min_count`, or the text is not UTF-8.
        """
        vocab, _ = cls._count(source, min_count, max_size, errors, progress, workers, _prune_at, False)
        return vocab

    @classmethod
    def count_and_encode(cls, source: Source, min_count: int = 5, max_size: int | None = None, errors: str = "strict",
                         progress: bool = False, workers: int | None = None) -> "tuple[Vocab, EncodedCorpus]":
        """``Vocab.from_corpus(source, ...)`` and ``vocab.encode(source)`` in one reading of
        the text: each token is kept as it is counted, then mapped to its id once the vocabulary
        is known (a second reading only if `max_size` made the count prune the table, or for
        sentences given as lists).

        Parameters are those of `from_corpus`. Returns ``(Vocab, EncodedCorpus)``, the same
        as the two calls.
        """
        vocab, corpus = cls._count(source, min_count, max_size, errors, progress, workers, None, True)
        if corpus is None:
            corpus = vocab.encode(source, errors=errors, progress=progress, workers=workers)
        return vocab, corpus

    @classmethod
    def _count(cls, source: Source, min_count: int, max_size: int | None, errors: str, progress: bool,
               workers: int | None, prune_at: int | None, encode: bool) -> "tuple[Vocab, EncodedCorpus | None]":
        """(Vocab, EncodedCorpus or None): the count, and with `encode` the encoded corpus when
        the token stream could be kept."""
        min_count = check_int(min_count, "min_count", minimum=1)
        if max_size is not None:
            max_size = check_int(max_size, "max_size", minimum=1)
        check_choice(errors, "errors", ("strict", "replace", "ignore"))
        threads = effective_workers(workers)
        if prune_at is None:
            prune_at = 0 if max_size is None else max(2 * max_size, MIN_PRUNE_AT)

        counter = _sgd.WordCounter(prune_at, errors, threads, encode)
        _read_source(counter, source, progress, "counting words")
        if counter.total_words == 0:
            raise ValueError("source holds no tokens (empty file or no sentences)")
        if counter.prunes > 0:
            logger.info("vocabulary table pruned %d times to stay under %d words", counter.prunes, prune_at)
        words, counts = counter.vocabulary(min_count, max_size or 0)
        bad = first_bad_word(words)
        if bad is not None:  # only sentences given as lists can hold such tokens
            raise ValueError(f"source: the token {words[bad[0]]!r} cannot be a vocabulary word: it {bad[1]}; "
                             f"{RULE}, so that the vocabulary can be saved and loaded")
        if not words:
            raise ValueError(f"no word occurs at least min_count={min_count} times in source "
                             f"({counter.total_words} tokens); lower min_count")
        vocab = cls.__new__(cls)
        vocab.words, vocab.counts, vocab.total_words = words, counts, counter.total_words
        vocab._index = {w: i for i, w in enumerate(words)}
        logger.info("vocabulary: %d words (min_count=%d) from %d tokens in %d sentences",
                    len(words), min_count, counter.total_words, counter.sentences)
        corpus = None
        if encode and counter.stream_kept:
            ids, offsets, dropped = counter.encode_stream(min_count, max_size or 0)
            corpus = EncodedCorpus(ids, offsets, raw_tokens=len(ids) + dropped)
        return vocab, corpus

    def encode(self, source: Source, errors: str = "strict", progress: bool = False,
               workers: int | None = None) -> EncodedCorpus:
        """Map a corpus to ids; out-of-vocabulary tokens are dropped, as are sentences left empty.

        Parameters
        ----------
        source : path, list of paths, or iterable of sentences
            As for `from_corpus`.
        errors : {'strict', 'replace', 'ignore'}
            As for `from_corpus`.
        progress : bool
            Show a progress bar (bytes read).
        workers : int, optional
            Threads, as for `from_corpus`; the result is the same for any number.

        Returns
        -------
        EncodedCorpus
        """
        check_choice(errors, "errors", ("strict", "replace", "ignore"))
        encoder = _sgd.WordEncoder(self.words, errors, effective_workers(workers))
        _read_source(encoder, source, progress, "encoding corpus")
        dropped = encoder.dropped
        ids, offsets = encoder.result()
        return EncodedCorpus(ids, offsets, raw_tokens=len(ids) + dropped)

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, word: str) -> int:
        try:
            return self._index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words, {self.total_words} tokens counted)"

    def save(self, path: StrPath) -> None:
        """Write the vocabulary as UTF-8 text: a ``# embedcore vocabulary total_words=N`` line, then
        ``word count`` per line, most frequent first.

        The file is replaced atomically (:func:`embedcore._io.atomic_write`: the old file stays
        whole on any error or signal, its permissions and group are kept, a symlink is written
        through); a name ending in ``.gz`` or ``.bz2`` is compressed.

        Parameters
        ----------
        path : str or os.PathLike

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "vocab.txt")
        >>> Vocab(["a", "b"], [3, 1]).save(path)
        >>> print(open(path).read(), end="")
        # embedcore vocabulary total_words=4
        a 3
        b 1
        """
        with atomic_write(path, "w", compression="infer") as f:
            f.write(f"{_HEADER}{self.total_words}\n")
            for w, c in zip(self.words, self.counts.tolist()):
                f.write(f"{w} {c}\n")

    @classmethod
    def load(cls, path: StrPath) -> "Vocab":
        """Read what `save` wrote (plain, gzip or bz2).

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        Vocab

        Raises
        ------
        ValueError
            A line that is not ``word count``, a bad header, invalid UTF-8 or a repeated word; the
            message names the path and the line.
        """
        with open_source(path) as f:
            data = f.read()
        path = os.fspath(path)
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        total = None
        words, counts, line_numbers = [], [], []
        for lineno, line in enumerate(lines, 1):
            if lineno == 1 and line.startswith(_HEADER_BYTES[:-len(b" total_words=")]):
                match = _HEADER_PATTERN.fullmatch(line.rstrip(b"\r"))
                if match is None:
                    raise ValueError(f"{path}: line 1: expected '{_HEADER}N', got {_shown(line)}")
                total = int(match.group(1))
                continue
            fields = line.split()  # ASCII whitespace only, as words cannot hold it
            if len(fields) != 2 or not _COUNT.fullmatch(fields[1]):
                raise ValueError(f"{path}: line {lineno}: expected 'word count', got {_shown(line)}")
            try:
                words.append(fields[0].decode("utf-8"))
            except UnicodeDecodeError:
                raise ValueError(f"{path}: line {lineno}: the word is not valid UTF-8") from None
            counts.append(int(fields[1]))
            line_numbers.append(lineno)
        repeated = first_duplicate(words)
        if repeated is not None:
            first, again = repeated
            raise ValueError(f"{path}: line {line_numbers[again]}: the word {words[again]!r} repeats "
                             f"line {line_numbers[first]}")
        if counts and max(counts) > _INT64_MAX or (total is not None and total > _INT64_MAX):
            raise ValueError(f"{path}: a count does not fit in int64")
        return cls(words, np.array(counts, dtype=np.int64), total)


_HEADER = "# embedcore vocabulary total_words="
_HEADER_BYTES = _HEADER.encode("ascii")
_HEADER_PATTERN = re.compile(re.escape(_HEADER_BYTES) + rb"([0-9]+)")
_COUNT = re.compile(rb"[0-9]+")
_INT64_MAX = np.iinfo(np.int64).max


def _shown(line: bytes) -> str:
    text = line[:60].decode("utf-8", "replace")
    return repr(text + ("..." if len(line) > 60 else ""))
