"""GloVe's text vector format: ``word v1 ... vd`` per line, without word2vec's header line.

It is the word2vec text format less its header, so the same engine reads and writes it; the
dimension is taken from the first line.
"""
from embedcore.formats import word2vec as _word2vec


def read(path, errors="strict", limit=None, progress=False, threads=1):
    """(words, vectors, index) of a GloVe text file; see :func:`embedcore.formats.word2vec.read`."""
    return _word2vec.read(path, binary=False, no_header=True, errors=errors, limit=limit, progress=progress,
                          threads=threads)


def write(path, words, vectors, progress=False):
    """Write GloVe text atomically; see :func:`embedcore.formats.word2vec.write`."""
    _word2vec.write(path, words, vectors, binary=False, write_header=False, progress=progress)
