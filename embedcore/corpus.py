"""Corpus sources and the encoded corpus: flat int32 token ids plus sentence offsets."""
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from embedcore._io import atomic_write_many, is_regular_file, recover_many
from embedcore._typing import Int32Array, Int64Array, Source, StrPath
from embedcore._validation import as_int_array, check_int, check_path, describe


def classify_source(source: Source, name: str = "source") -> tuple[str, Any]:
    """('files', [paths]) or ('sentences', iterable of lists of str).

    A source is a path, a list of paths, or an iterable of sentences (lists of str).
    """
    if isinstance(source, (str, os.PathLike)):
        paths = [os.fspath(source)]
    elif isinstance(source, (list, tuple)) and source and isinstance(source[0], (str, os.PathLike)):
        paths = [check_path(p, f"{name}[{i}]") for i, p in enumerate(source)]
    elif isinstance(source, (bytes, bytearray)):
        raise TypeError(f"{name} must be a path, a list of paths or an iterable of sentences, got bytes")
    else:
        try:
            iter(source)
        except TypeError:
            raise TypeError(f"{name} must be a path, a list of paths or an iterable of sentences "
                            f"(lists of str), got {type(source).__name__}") from None
        return "sentences", source
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"{name}: no such file: {p!r}")
        if os.path.isdir(p):
            raise IsADirectoryError(f"{name}: {p!r} is a directory, not a text file")
    return "files", paths


def check_restartable(source: Source, name: str = "source") -> None:
    """Raise if a source must be read twice (vocabulary, then training) but can be read only once:
    a one-shot iterator of sentences, or a named pipe."""
    kind, items = classify_source(source, name)
    if kind == "sentences" and iter(items) is items:  # items is the source itself
        raise TypeError(f"{name} is an iterator that can be read only once, but it must be read "
                        f"twice (vocabulary, then training); pass a list or a restartable iterable")
    if kind == "files":
        for p in items:
            if not is_regular_file(p):
                raise ValueError(f"{name}: {p!r} is not a regular file (a pipe?) and can be read only "
                                 f"once, but it must be read twice (vocabulary, then training); save it "
                                 f"to a file first")


class EncodedCorpus:
    """A corpus as token ids: `ids` (int32, all sentences back to back) and `offsets` (int64,
    `offsets[i]:offsets[i+1]` is sentence i, so `len(offsets) == n_sentences + 1`).

    Parameters
    ----------
    ids : array-like of int
        Token ids, non-negative.
    offsets : array-like of int, optional
        Sentence boundaries starting at 0 and ending at ``len(ids)``; one sentence if omitted.
    raw_tokens : int, optional
        Tokens of the source text before out-of-vocabulary tokens were dropped (what gensim and
        word2vec.c count as words trained); ``len(ids)`` if omitted. `Vocab.encode` sets it.

    Examples
    --------
    >>> corpus = EncodedCorpus([0, 1, 2, 0], [0, 3, 4])
    >>> corpus.n_sentences, len(corpus)
    (2, 4)
    """

    ids: Int32Array
    offsets: Int64Array
    raw_tokens: int

    def __init__(self, ids: npt.ArrayLike, offsets: npt.ArrayLike | None = None, raw_tokens: int | None = None) -> None:
        self._set(ids, offsets, raw_tokens, check_ids=True)

    def _set(self, ids: Any, offsets: Any, raw_tokens: int | None, check_ids: bool) -> None:
        ids = as_int_array(ids, "ids", np.int32) if not (
            isinstance(ids, np.ndarray) and ids.dtype == np.int32 and ids.ndim == 1) else ids
        if offsets is None:
            offsets = np.array([0, len(ids)], dtype=np.int64)
        elif not (isinstance(offsets, np.ndarray) and offsets.dtype == np.int64 and offsets.ndim == 1):
            offsets = as_int_array(offsets, "offsets", np.int64)
        if len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(ids):
            raise ValueError(f"offsets must start at 0 and end at len(ids)={len(ids)}, got "
                             f"{describe(offsets)} from {offsets[:1].tolist()} to {offsets[-1:].tolist()}")
        if len(offsets) > 1 and np.any(np.diff(offsets) < 0):
            raise ValueError("offsets must be non-decreasing")
        if check_ids and len(ids) and int(ids.min()) < 0:
            raise ValueError(f"ids must be non-negative, got {int(ids.min())}")
        if raw_tokens is None:
            raw_tokens = len(ids)
        raw_tokens = check_int(raw_tokens, "raw_tokens", minimum=len(ids), maximum=np.iinfo(np.int64).max)
        self.ids = ids
        self.offsets = offsets
        self.raw_tokens = raw_tokens

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    def sentence(self, i: int) -> Int32Array:
        """Token ids of sentence i."""
        return self.ids[self.offsets[i]:self.offsets[i + 1]]

    def __iter__(self) -> Iterator[Int32Array]:
        for i in range(self.n_sentences):
            yield self.sentence(i)

    def __repr__(self) -> str:
        return f"EncodedCorpus({len(self)} tokens, {self.n_sentences} sentences)"

    @staticmethod
    def _paths(path: StrPath) -> tuple[str, str, str]:
        path = os.fspath(path)
        return path + ".ids.npy", path + ".offsets.npy", path + ".raw_tokens.npy"

    @staticmethod
    def _journal(path: StrPath) -> str:
        directory, base = os.path.split(os.fspath(path))
        return os.path.join(directory, f".{base}.commit")

    def save(self, path: StrPath) -> None:
        """Write `path.ids.npy`, `path.offsets.npy` and `path.raw_tokens.npy`, all or none.

        ``raw_tokens.npy`` holds three int64: `raw_tokens`, the smallest and the largest id
        (0 and -1 for an empty corpus), so that loading with ``mmap=True`` need not read the ids.

        The three files are written to temporary files first and replaced together
        (:func:`embedcore._io.atomic_write_many`): on any error (a full disk on the second file),
        Ctrl-C or signal, `load` finds the whole old corpus; once the commit journal
        ``.NAME.commit`` is in place, it finds the whole new one (finishing the renames of a save
        that was killed midway). Replaced files keep their permissions and group.

        Parameters
        ----------
        path : str or os.PathLike
            The common prefix of the files.

        Examples
        --------
        >>> import os, tempfile
        >>> prefix = os.path.join(tempfile.mkdtemp(), "corpus")
        >>> EncodedCorpus([0, 1, 0], [0, 2, 3]).save(prefix)
        >>> EncodedCorpus.load(prefix).offsets.tolist()
        [0, 2, 3]
        """
        path = check_path(path, "path")
        # the smallest and largest id let `load(mmap=True)` skip reading the ids to check them
        low, high = (int(self.ids.min()), int(self.ids.max())) if len(self.ids) else (0, -1)
        arrays = (self.ids, self.offsets, np.array([self.raw_tokens, low, high], dtype=np.int64))
        with atomic_write_many(self._paths(path), self._journal(path)) as files:
            for f, array in zip(files, arrays):
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)

    @classmethod
    def load(cls, path: StrPath, mmap: bool = True) -> "EncodedCorpus":
        """Load what `save` wrote; `mmap=True` maps the ids read-only instead of reading them.

        A save that was interrupted after its commit point is finished first, so the files read
        are always one save's.

        With `mmap`, the ids are not read at all: their count is checked against the file's
        size, and their range against the smallest and largest id `save` stored, so loading
        costs no resident memory for them until they are used (the offsets are read and
        checked). The kernels that use the ids check each against the vocabulary size as they
        read it, so a file changed after its save gives an error, not a wrong result. Files
        saved before the range was stored are checked by reading the ids, as before.

        Raises
        ------
        FileNotFoundError
            No corpus at `path`.
        ValueError
            The files are not a saved corpus (wrong dtypes, shapes, inconsistent offsets).
        """
        path = check_path(path, "path")
        ids_path, offsets_path, raw_path = recover_many(cls._paths(path), cls._journal(path))
        for p in (ids_path, offsets_path):
            if not os.path.isfile(p):
                raise FileNotFoundError(f"path: no encoded corpus at {path!r} ({p} is missing)")
        ids = _load_array(ids_path, path, np.int32, mmap)
        offsets = _load_array(offsets_path, path, np.int64)
        raw_tokens, checked = None, False
        if os.path.isfile(raw_path):  # absent in files saved before it was kept
            raw = _load_array(raw_path, path, np.int64)
            if raw.shape not in ((1,), (3,)):  # the id range is absent in older files
                raise ValueError(f"path: {raw_path} must hold one or three int64, got {describe(raw)}")
            raw_tokens = int(raw[0])
            if len(raw) == 3:
                low, high = int(raw[1]), int(raw[2])
                valid = 0 <= low <= high if len(ids) else (low, high) == (0, -1)
                if not valid:
                    raise ValueError(f"path: {path!r} is not a valid encoded corpus: {raw_path} gives ids in "
                                     f"[{low}, {high}] for {len(ids)} ids")
                checked = mmap
        try:
            corpus = cls.__new__(cls)
            corpus._set(ids, offsets, raw_tokens, check_ids=not checked)
            return corpus
        except (ValueError, TypeError) as exc:
            raise ValueError(f"path: {path!r} is not a valid encoded corpus: {exc}") from None


def _load_array(file: str, path: str, dtype: npt.DTypeLike, mmap: bool = False) -> npt.NDArray[Any]:
    """The 1-D array of `dtype` in one .npy file of a saved corpus, memory-mapped or read.

    The header is checked before any data is read (format, dtype, shape, and that the file holds
    exactly the data it announces), so a corrupt or foreign file is a ValueError naming it, never
    a huge allocation or an error from inside numpy.
    """
    def refuse(reason: str) -> ValueError:
        return ValueError(f"path: {path!r} is not a saved encoded corpus: {file}: {reason}")

    with open(file, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            version = np.lib.format.read_magic(f)
            # the header's length, checked against the file before numpy reads that many bytes
            width = 2 if version == (1, 0) else 4
            at = f.tell()
            length = int.from_bytes(f.read(width), "little")
            if at + width + length > size:
                raise ValueError(f"a header of {length} bytes does not fit in a file of {size}")
            f.seek(at)
            if version == (1, 0):
                shape, fortran_order, found = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran_order, found = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except Exception as exc:  # numpy parses the header with the tokenizer and literal_eval
            raise refuse(f"not a .npy array ({type(exc).__name__}: {exc})") from None
        if found != np.dtype(dtype) or len(shape) != 1:
            raise refuse(f"expected a 1-D {np.dtype(dtype).name} array, got {found} with shape {shape}")
        n = shape[0]
        start = f.tell()
        if size - start != n * found.itemsize:
            raise refuse(f"the header announces {n} values ({n * found.itemsize} bytes) but "
                         f"{size - start} bytes follow it")
        if mmap and n:
            return np.memmap(f, dtype=found, mode="r", offset=start, shape=(n,))
        array = np.fromfile(f, dtype=found, count=n)
        if len(array) != n:  # the file shrank while we read it
            raise refuse(f"truncated after {len(array)} of {n} values")
        return array
