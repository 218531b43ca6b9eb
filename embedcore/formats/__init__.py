"""Word-vector file formats, one module each: `word2vec` (word2vec.c's text and binary formats)
and `glove` (GloVe's header-less text), each with ``read(path, ...) -> (words, vectors, index)``
and ``write(path, words, vectors, ...)``; `native` (KeyedVectors.save/load: JSON + .npy, no
pickle) and `gensim_native` (gensim's pickled saves, read through gensim), each returning
``(keys, vectors, vecattrs, next_index)``. Files are opened with :func:`embedcore._io.open_source`
(gzip and bz2 by their content) and written with :func:`embedcore._io.atomic_write` (gzip and bz2
by their name) or :func:`embedcore._io.atomic_write_many`. The readers' exceptions are in
`_errors` (exported from :mod:`embedcore`).

`layout_of_name` is how the command line picks a layout from a file name, the same way for
writing and for reading.
"""
import os

from embedcore._io import compression_of_name

LAYOUTS = ("text", "binary")


def layout_of_name(path: "str | os.PathLike[str]") -> str:
    """'binary' for a name ending in ``.bin`` (before any ``.gz``/``.bz2``), else 'text'.

    Examples
    --------
    >>> layout_of_name("vectors.bin.gz"), layout_of_name("vectors.txt"), layout_of_name("v.bin")
    ('binary', 'text', 'binary')
    """
    name = os.fspath(path)
    if compression_of_name(name):
        name = os.path.splitext(name)[0]
    return "binary" if os.path.splitext(name)[1].lower() == ".bin" else "text"
