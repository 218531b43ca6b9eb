"""word2vec.c's text and binary vector formats (and GloVe's text, which is the text format
without its header line).

Text: a ``"count dimension"`` header line, then ``word v1 ... vd`` per line. Binary: the same
header, then per word its UTF-8 bytes, a space, ``dimension`` little-endian float32 values and a
newline (word2vec.c writes it, gensim does not; both read). The C++ engines in ``_native``
(``parse_vectors``, ``format_vectors``) parse and format the records; this module streams the
file through them chunk by chunk, checks the words and names the path and line (or byte offset)
of anything wrong.
"""
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from embedcore import _native
from embedcore._io import atomic_write, is_regular_file, open_source
from embedcore._progress import progress_bar
from embedcore.formats._errors import TruncatedVectorFileError, VectorFileDecodeError, VectorFileError
from embedcore.formats._words import first_bad_word, first_duplicate

logger = logging.getLogger("embedcore")

# Bytes read (after decompression) per parse call, and the rough size of a block of formatted
# rows when saving: large enough that per-call overhead vanishes, small enough to bound memory.
_CHUNK_BYTES = 1 << 24
_WRITE_BLOCK_BYTES = 1 << 23
_NOT_SPACE = re.compile(rb"\S")


def read(path: Any, binary: bool = False, no_header: bool = False, errors: str = "strict", limit: int | None = None,
         progress: bool = False, threads: int = 1, encoding: str = "utf-8",
         datatype: Any = np.float32) -> tuple[list[str], Any, dict[str | int, int]]:
    """Words and vectors of a word2vec text or binary file, or of GloVe's header-less text.

    The arguments are checked by the caller (:meth:`embedcore.KeyedVectors.load_word2vec_format`
    documents them); the file is opened once, decompressed when gzip or bz2. Words are decoded
    with `encoding` (any encoding in which byte 0x0A is the newline: UTF-8, Latin-1, cp1252 ...).
    Values are parsed as float32; for another `datatype` a text file's values are parsed again
    in float64 (a second pass over the file) and rounded once to `datatype`, as gensim does.

    Returns
    -------
    words : list of str
        Distinct words that follow the word rule (:mod:`embedcore.formats._words`).
    vectors : ndarray of `datatype`, shape (len(words), dimension)
    index : dict
        word -> row.

    Raises
    ------
    VectorFileError
        A corrupt file; the message names the path and the line (text) or byte offset (binary).
        :class:`TruncatedVectorFileError` (also an EOFError) when the file ends before the
        vectors its header announces; :class:`VectorFileDecodeError` (also a
        UnicodeDecodeError) for a word that is not valid in `encoding`.
    """
    with ChunkReader(path) as reader:
        words, vectors, positions = _read_vectors(reader, path, binary, no_header, errors, limit,
                                                  progress, threads, encoding)
    where = "byte offset" if binary else "line"
    bad = first_bad_word(words)
    if bad is not None:
        raise VectorFileError(f"{path}: {where} {positions[bad[0]]}: the word {bad[1]}")
    index = dict(zip(words, range(len(words))))
    if len(index) != len(words):
        first, again = first_duplicate(words)
        raise VectorFileError(f"{path}: {where} {positions[again]}: duplicate word {words[again]!r} "
                              f"(first at {where} {positions[first]})")
    datatype = np.dtype(datatype)
    if datatype != np.float32:
        vectors = (vectors.astype(datatype) if binary
                   else _reparse_text(path, len(words), vectors.shape[1], no_header).astype(datatype))
    logger.info("loaded %d vectors of dimension %d from %s", len(words), vectors.shape[1], path)
    return words, vectors, index


def _reparse_text(path, rows, dim, no_header):
    """The values of the first `rows` rows of a text file already read (and so checked) once,
    parsed in float64."""
    out = np.empty((rows, dim), dtype=np.float64)
    with open_source(path) as stream:
        if not no_header:
            stream.readline()
        for row in range(rows):
            out[row] = [float(x) for x in stream.readline().split()[1:]]
    return out


def read_counts(path: Any, errors: str = "strict", encoding: str = "utf-8") -> dict[str, int]:
    """word -> count from a vocabulary file (``word count`` per line, as word2vec.c's
    ``-save-vocab`` and gensim's ``fvocab`` write it).

    Raises
    ------
    VectorFileError
        A line that is not a word and a whole number (the message names the path and line).
    """
    counts = {}
    with open_source(path, "fvocab") as stream:
        for line_no, raw in enumerate(stream, 1):
            try:
                text = raw.decode(encoding, errors)
            except UnicodeDecodeError as exc:
                raise VectorFileDecodeError(f"{path}: line {line_no}: the word is not valid {encoding} "
                                            f"(pass unicode_errors='replace' to substitute U+FFFD)",
                                            exc.encoding, exc.object, exc.start, exc.end, exc.reason) from None
            fields = text.split()
            if not fields:
                continue
            try:
                word, count = fields
                counts[word] = int(count)
            except ValueError:
                raise VectorFileError(f"{path}: line {line_no}: expected 'word count', got "
                                      f"{text.strip()[:60]!r}") from None
    return counts


def write_counts(path: Any, words: Sequence[str], counts: Sequence[int], append: bool = False) -> None:
    """Write ``word count`` lines atomically (appended to what `path` holds when `append`)."""
    with atomic_write(path, compression="infer", name="fvocab") as stream:
        if append:
            _copy_existing(path, stream)
        for start in range(0, len(words), 1 << 16):
            stream.write("".join(f"{w} {c}\n" for w, c in zip(words[start:start + (1 << 16)],
                                                              counts[start:start + (1 << 16)])).encode("utf-8"))


def _copy_existing(path, stream):
    """Copy the (decompressed) content of the file at `path`, if there is one, into `stream`."""
    if is_regular_file(path):
        with open_source(path) as old:
            while True:
                block = old.read(1 << 20)
                if not block:
                    break
                stream.write(block)


def write(path: Any, words: Sequence[str], vectors: Any, binary: bool = False, write_header: bool = True,
          progress: bool = False, total_vec: int | None = None, append: bool = False) -> None:
    """Write `words` (checked by the caller) and their `vectors` in word2vec.c's text or binary
    format, or GloVe's text without the header; atomically (:func:`embedcore._io.atomic_write`),
    compressed when the name ends in .gz or .bz2.

    Text values are the shortest decimals that read back as the same float32 (float64 vectors:
    as the same float64), so a round trip is exact; binary files hold float32, as word2vec.c's.
    `total_vec` replaces the count in the header; with `append` the new records follow what the
    file holds (the whole file is still replaced atomically).
    """
    n, dim = vectors.shape
    wide = not binary and vectors.dtype.itemsize > 4
    if not wide and vectors.dtype != np.float32:
        vectors = vectors.astype(np.float32)
    block = max(1, _WRITE_BLOCK_BYTES // (dim * (4 if binary else 12) + 16))
    with atomic_write(path, compression="infer") as stream:
        if append:
            _copy_existing(path, stream)
        bar = progress_bar(progress, total=n, desc="saving vectors", unit="word")
        try:
            if write_header:
                stream.write(f"{n if total_vec is None else total_vec} {dim}\n".encode("ascii"))
            for start in range(0, n, block):
                stop = min(n, start + block)
                if wide:
                    stream.write("".join(f"{w} {' '.join(map(repr, row))}\n" for w, row in zip(
                        words[start:stop], vectors[start:stop].astype(np.float64).tolist())).encode("utf-8"))
                else:
                    _write_block(stream, words[start:stop], np.ascontiguousarray(vectors[start:stop]), binary)
                bar.update(stop - start)
        finally:
            bar.close()
    logger.info("saved %d vectors of dimension %d to %s (%s)", n, dim, path, "binary" if binary else "text")


def _write_block(stream, words, vectors, binary):
    """Append the records of `words` (list of str) and `vectors` (rows) to `stream`."""
    blob = ("\n".join(words) + "\n").encode("utf-8")
    stream.write(_native.format_vectors(blob, vectors, binary))


class ChunkReader:
    """A window over the decompressed bytes of a plain, .gz or .bz2 file, read chunk by chunk.

    ``data[start:end]`` holds bytes read but not yet parsed; ``offset`` is the file offset of
    ``data[start]``. Chunks are read into one reused buffer (no copy per chunk). The file is opened
    once (:func:`embedcore._io.open_source`), so a named pipe reads too; decompression failures
    are ValueErrors naming the path. ``size`` is the file's size when it is a plain regular file,
    else None.
    """

    def __init__(self, path):
        self.path = path
        self.stream = open_source(path)
        self.compressed = self.stream.compression is not None
        self.size = None if self.compressed else self.stream.size
        self.data = bytearray(max(1, _CHUNK_BYTES))
        self.start = self.end = self.offset = 0
        self.eof = False

    def __len__(self):
        return self.end - self.start

    def fill(self):
        """Move the unparsed bytes to the front and read one more chunk after them; returns the
        number of bytes read (0 at the end of the file, which sets `eof`)."""
        if self.eof:
            return 0
        rest = self.end - self.start
        if self.start:
            self.data[:rest] = self.data[self.start:self.end]
            self.start, self.end = 0, rest
        # read into all the free space; grow (rarely: only for a record longer than half a
        # chunk) when less than half a chunk is free
        want = max(1, _CHUNK_BYTES)
        if len(self.data) - self.end < max(1, want // 2):
            self.data.extend(bytes(want))
        with memoryview(self.data) as view:
            n = self.stream.readinto(view[self.end:])
        self.end += n
        self.eof = n == 0
        return n

    def consume(self, n):
        self.start += n
        self.offset += n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()



def _allocate_rows(reader, path, count, dim, wanted, binary):
    """The (wanted, dim) output array, after refusing a header whose counts cannot be right.

    The shortest text row is "w 0 ... 0\\n" (2 * dim + 2 bytes), the shortest binary record a
    one-byte word, a space and 4 * dim bytes. Only large arrays are checked: for small ones the
    parse itself reports where the file ends, which says more.
    """
    problem = None
    if wanted * dim * 4 >= (1 << 26) and reader.size is not None:
        shortest = wanted * (2 + 4 * dim) if binary else wanted * (2 * dim + 2) - 1
        available = reader.size - reader.offset
        if shortest > available:
            problem = f"take at least {shortest} bytes, but only {available} follow the header"
    if problem is None:
        try:
            return np.empty((wanted, dim), dtype=np.float32)
        except (MemoryError, ValueError):  # ValueError: beyond what numpy can even address
            problem = f"need {wanted * dim * 4} bytes of memory, more than can be allocated"
    raise VectorFileError(f"{path}: line 1: the header announces {count} vectors of dimension {dim}, which "
                          f"{problem} (a wrong count in the header, or a truncated file)")


def _read_vectors(reader, path, binary, no_header, errors, limit, progress, threads=1, encoding="utf-8"):
    """(words, vectors, positions) from an open ChunkReader; see `read`.

    `positions` (int64) holds the line (text) or byte offset (binary) of each row.
    """
    where = "byte offset" if binary else "line"
    # the first line: the header, or for GloVe files the first row, which gives the dimension
    while reader.data.find(b"\n", reader.start, reader.end) < 0 and not reader.eof and len(reader) < (1 << 20):
        reader.fill()
    nl = reader.data.find(b"\n", reader.start, reader.end)
    first = bytes(reader.data[reader.start:nl if nl >= 0 else reader.end])
    if _NOT_SPACE.search(reader.data, reader.start, reader.end) is None:
        raise VectorFileError(f"{path}: the file is empty (expected "
                              f"{'a word and its values' if no_header else 'a header line: count dimension'})")
    if no_header:
        fields = first.split()
        dim = len(fields) - 1
        if dim < 1:
            raise VectorFileError(f"{path}: line 1: expected a word followed by its values, got "
                                  f"{len(fields)} field")
        count = None
        base = 1  # line number (text) or byte offset (binary) of data[start]
    else:
        fields = first.split()
        try:
            count, dim = (int(f) for f in fields)
            ok = count >= 0 and dim >= 1
        except ValueError:
            ok = False
        if not ok:
            shown = first[:60].decode("utf-8", "replace") + ("..." if len(first) > 60 else "")
            hint = "" if binary else " (pass no_header=True for GloVe's header-less files)"
            raise VectorFileError(f"{path}: line 1: expected a header 'count dimension' with count >= 0 and "
                                  f"dimension >= 1, got {shown!r}{hint}")
        reader.consume(len(first) + 1)
        base = reader.offset if binary else 2
    wanted = count if limit is None else (limit if count is None else min(count, limit))
    # with a header the rows are known and written in place; without one, block by block
    out = _allocate_rows(reader, path, count, dim, wanted, binary) if count is not None else None
    blocks, word_list, position_blocks = [], [], []
    rows = 0
    bar = progress_bar(progress, total=reader.size,
                       desc="loading vectors", unit="B")
    try:
        bar.update(reader.end)
        while wanted is None or rows < wanted:
            bar.update(reader.fill())
            if out is not None:
                target, row_begin, max_rows = out, rows, wanted - rows
            else:
                capacity = reader.data.count(b"\n", reader.start, reader.end) + 1
                if limit is not None:
                    capacity = min(capacity, limit - rows)
                target, row_begin, max_rows = np.empty((capacity, dim), np.float32), 0, capacity
            try:
                with memoryview(reader.data) as view:
                    consumed, n, blob, positions = _native.parse_vectors(
                        view[reader.start:reader.end], reader.eof, target, row_begin, max_rows, base, binary,
                        threads)
            except ValueError as exc:
                error = TruncatedVectorFileError if "the file ends" in str(exc) else VectorFileError
                raise error(f"{path}: {exc}") from None
            if n:
                try:
                    text = blob.decode(encoding, errors)
                except UnicodeDecodeError as exc:
                    k = blob.count(b"\n", 0, exc.start)
                    begin = blob.rfind(b"\n", 0, exc.start) + 1
                    end = blob.find(b"\n", exc.start)
                    shown = "UTF-8" if encoding.lower().replace("-", "") in ("utf8", "utf_8") else encoding
                    raise VectorFileDecodeError(
                        f"{path}: {where} {positions[k]}: the word is not valid {shown} "
                        f"(pass unicode_errors='replace' to substitute U+FFFD)", exc.encoding,
                        bytes(blob[begin:end]), exc.start - begin, exc.end - begin, exc.reason) from None
                word_list.extend(text.split("\n")[:-1])
                position_blocks.append(positions)
                if out is None:
                    blocks.append(target[:n])
                rows += n
            reader.consume(consumed)
            base = reader.offset if binary else (int(positions[-1]) + 1 if n else base)
            if reader.eof and n == 0:
                break
        if count is not None and rows < wanted:
            at = reader.offset + len(reader) if binary else base
            raise TruncatedVectorFileError(f"{path}: {where} {at}: the file ends after {rows} of the {count} "
                                           f"vectors the header announces (truncated, or a wrong count in the "
                                           f"header)")
        if count is not None and limit is None:
            # nothing but whitespace may follow the announced rows
            while True:
                match = _NOT_SPACE.search(reader.data, reader.start, reader.end)
                if match:
                    at = (reader.offset + match.start() - reader.start if binary
                          else base + reader.data.count(b"\n", reader.start, match.start()))
                    raise VectorFileError(f"{path}: {where} {at}: more data after the {count} vectors the "
                                          f"header announces (a wrong count in the header?)")
                if reader.eof:
                    break
                base += reader.data.count(b"\n", reader.start, reader.end)
                reader.consume(len(reader))
                reader.fill()
    finally:
        bar.close()
    vectors = out if out is not None else (
        np.concatenate(blocks) if blocks else np.empty((0, dim), np.float32))
    positions = np.concatenate(position_blocks) if position_blocks else np.empty(0, np.int64)
    return word_list, vectors, positions
