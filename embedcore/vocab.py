"""The vocabulary: words sorted by descending count, and the text pass that builds and uses it."""
import logging
import os

import numpy as np

from embedcore import _sgd
from embedcore._progress import progress_bar
from embedcore._validation import check_choice, check_int, check_path, describe
from embedcore.corpus import EncodedCorpus, classify_source

logger = logging.getLogger("embedcore")

# While counting with max_size, the table of distinct words is pruned once it holds more than
# max(2 * max_size, MIN_PRUNE_AT) words, so the words near the cut keep accurate counts.
MIN_PRUNE_AT = 1 << 20


def _read_source(sink, source, progress, desc):
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
        Distinct words, in id order.
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

    def __init__(self, words, counts, total_words=None):
        words = list(words)
        counts = np.asarray(counts)
        if counts.ndim != 1 or len(counts) != len(words):
            raise ValueError(f"counts must be a 1-D array with one count per word ({len(words)}), "
                             f"got {describe(counts)}")
        if counts.size and not np.issubdtype(counts.dtype, np.integer):
            raise TypeError(f"counts must hold integers, got {describe(counts)}")
        if counts.size and counts.min() < 0:
            raise ValueError("counts must be non-negative")
        for i, w in enumerate(words):
            if not isinstance(w, str) or not w or any(c.isspace() for c in w[:1] + w[-1:]):
                raise ValueError(f"words[{i}] must be a non-empty str without surrounding whitespace, got {w!r}")
        self.words = words
        self.counts = counts.astype(np.int64, copy=False)
        self._index = {w: i for i, w in enumerate(words)}
        if len(self._index) != len(words):
            raise ValueError("words must be distinct")
        self.total_words = int(self.counts.sum()) if total_words is None else int(total_words)

    @classmethod
    def from_corpus(cls, source, min_count=5, max_size=None, errors="strict", progress=False,
                    _prune_at=None):
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

        Returns
        -------
        Vocab

        Raises
        ------
        ValueError
            The corpus holds no token, or no word reaches `min_count`, or the text is not UTF-8.
        """
        min_count = check_int(min_count, "min_count", minimum=1)
        if max_size is not None:
            max_size = check_int(max_size, "max_size", minimum=1)
        check_choice(errors, "errors", ("strict", "replace", "ignore"))
        prune_at = 0
        if _prune_at is not None:
            prune_at = _prune_at
        elif max_size is not None:
            prune_at = max(2 * max_size, MIN_PRUNE_AT)

        counter = _sgd.WordCounter(prune_at, errors)
        _read_source(counter, source, progress, "counting words")
        if counter.total_words == 0:
            raise ValueError("source holds no tokens (empty file or no sentences)")
        if counter.prunes > 0:
            logger.info("vocabulary table pruned %d times to stay under %d words", counter.prunes, prune_at)
        words, counts = counter.vocabulary(min_count, max_size or 0)
        if not words:
            raise ValueError(f"no word occurs at least min_count={min_count} times in source "
                             f"({counter.total_words} tokens); lower min_count")
        vocab = cls.__new__(cls)
        vocab.words, vocab.counts, vocab.total_words = words, counts, counter.total_words
        vocab._index = {w: i for i, w in enumerate(words)}
        logger.info("vocabulary: %d words (min_count=%d) from %d tokens in %d sentences",
                    len(words), min_count, counter.total_words, counter.sentences)
        return vocab

    def encode(self, source, errors="strict", progress=False):
        """Map a corpus to ids; out-of-vocabulary tokens are dropped, as are sentences left empty.

        Parameters
        ----------
        source : path, list of paths, or iterable of sentences
            As for `from_corpus`.
        errors : {'strict', 'replace', 'ignore'}
            As for `from_corpus`.
        progress : bool
            Show a progress bar (bytes read).

        Returns
        -------
        EncodedCorpus
        """
        check_choice(errors, "errors", ("strict", "replace", "ignore"))
        encoder = _sgd.WordEncoder(self.words, errors)
        _read_source(encoder, source, progress, "encoding corpus")
        dropped = encoder.dropped
        ids, offsets = encoder.result()
        return EncodedCorpus(ids, offsets, raw_tokens=len(ids) + dropped)

    def __len__(self):
        return len(self.words)

    def __getitem__(self, word):
        try:
            return self._index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def __contains__(self, word):
        return word in self._index

    def __iter__(self):
        return iter(self.words)

    def __repr__(self):
        return f"Vocab({len(self)} words, {self.total_words} tokens counted)"

    def save(self, path):
        """Write `word count` lines (UTF-8) to a temporary file, then rename it to `path`."""
        path = check_path(path, "path")
        tmp = path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(f"# embedcore vocabulary total_words={self.total_words}\n")
                for w, c in zip(self.words, self.counts.tolist()):
                    f.write(f"{w} {c}\n")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    @classmethod
    def load(cls, path):
        """Read what `save` wrote."""
        path = check_path(path, "path")
        words, counts, total = [], [], None
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if lineno == 1 and line.startswith("# embedcore vocabulary"):
                    total = int(line.rsplit("=", 1)[1])
                    continue
                parts = line.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    raise ValueError(f"{path}: line {lineno} is not 'word count': {line.rstrip()!r}")
                words.append(parts[0])
                counts.append(int(parts[1]))
        return cls(words, np.array(counts, dtype=np.int64), total)
