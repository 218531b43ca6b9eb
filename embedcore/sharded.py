"""A sparse matrix kept on disk as row-range shards: `ShardedMatrix`, and `ShardWriter` to make one.

A sharded matrix is a directory (a local path, or any URL fsspec reads and writes, such as
``s3://bucket/cooc``) holding, for each shard, the CSR arrays of a range of consecutive rows as
three ``.npy`` files (``indptr`` int64 from 0, ``indices`` int32, ``data``), and a
``manifest.json`` that lists the shards, their row ranges and nonzeros, and the shape and dtype
of the whole. Shards are written first, each file to a temporary name and then renamed; the
manifest is written last the same way, so a directory without a manifest holds no matrix and a
reader never sees a half-written shard. Local shards are memory-mapped when read.

Producers: ``embedcore.distributed.cooccurrence(..., out_dir=...)`` (one task per row range) and
`ShardWriter` (shard by shard, in one process). Consumers iterate over ``(row_range, csr)``
pieces or assemble the whole with `ShardedMatrix.to_scipy`.
"""
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embedcore._io import atomic_write
from embedcore._typing import Int32Array, Int64Array, SparseMatrix, StrPath
from embedcore._validation import check_int, check_path

MANIFEST = "manifest.json"
FORMAT = "embedcore.ShardedMatrix"
VERSION = 1
# Default shard size of ShardedMatrix.from_scipy: 12 bytes per nonzero (int32 column, float32 value).
DEFAULT_SHARD_BYTES = 256 << 20
_ARRAYS = ("indptr", "indices", "data")
_INT32_MAX = np.iinfo(np.int32).max


def shard_name(index: int) -> str:
    """File name stem of shard `index`: its arrays are ``<stem>.indptr.npy`` and so on."""
    return f"shard-{index:06d}"


class _Store:
    """The directory of a sharded matrix: a local folder, or an fsspec URL."""

    fs: Any
    root: str
    path: str
    name: str

    def __init__(self, path: StrPath, name: str = "path") -> None:
        path = check_path(path, name)
        if path.startswith("file://"):
            path = path[len("file://"):]
        if "://" in path:
            try:
                import fsspec
            except ImportError:
                raise ImportError(f"{name} {path!r} is a URL; reading and writing URLs needs fsspec "
                                  f"(pip install fsspec)") from None
            self.fs, self.root = fsspec.core.url_to_fs(path)
            self.path = path
        else:
            self.fs, self.root = None, os.path.abspath(path)
            self.path = self.root
        self.name = name

    @property
    def is_local(self) -> bool:
        return self.fs is None

    def join(self, file_name: str) -> str:
        return os.path.join(self.root, file_name) if self.fs is None else f"{self.root.rstrip('/')}/{file_name}"

    def exists(self, file_name: str | None = None) -> bool:
        target = self.root if file_name is None else self.join(file_name)
        return os.path.exists(target) if self.fs is None else self.fs.exists(target)

    def listdir(self) -> list[str]:
        if self.fs is None:
            return sorted(os.listdir(self.root)) if os.path.isdir(self.root) else []
        if not self.fs.exists(self.root):
            return []
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.root, detail=False))

    def make_empty(self) -> bool:
        """Create the directory, or check that it is empty; True when this call created it."""
        if self.exists():
            if self.fs is None and not os.path.isdir(self.root):
                raise ValueError(f"{self.name} {self.path!r} exists and is not a directory")
            if self.listdir():
                raise ValueError(f"{self.name} {self.path!r} is not empty; give a new or empty directory "
                                 f"(nothing there is overwritten)")
            return False
        if self.fs is None:
            os.makedirs(self.root)
        else:
            self.fs.makedirs(self.root, exist_ok=True)
        return True

    def write_atomic(self, file_name: str, write: Callable[[IO[bytes]], object]) -> None:
        """write(f) to a temporary file beside `file_name`, renamed over it when complete: on a
        local path by `embedcore._io.atomic_write` (fsynced; nothing left behind by an error or a
        signal); on an fsspec store, to a hidden unique name that the store then moves."""
        if self.fs is None:
            with atomic_write(self.join(file_name), "wb") as f:
                write(f)
            return
        tmp = self.join(f".{file_name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            with self.fs.open(tmp, "wb") as f:
                write(f)
            self.fs.mv(tmp, self.join(file_name))
        except BaseException:
            self.remove(tmp, absolute=True)
            raise

    def remove(self, file_name: str, absolute: bool = False) -> None:
        target = file_name if absolute else self.join(file_name)
        try:
            if self.fs is None:
                os.remove(target)
            elif self.fs.exists(target):
                self.fs.rm(target)
        except FileNotFoundError:
            pass

    def remove_dir(self) -> None:
        try:
            if self.fs is None:
                os.rmdir(self.root)
            else:
                self.fs.rmdir(self.root)
        except OSError:
            pass

    def read_bytes(self, file_name: str) -> bytes:
        if self.fs is None:
            with open(self.join(file_name), "rb") as f:
                return f.read()
        with self.fs.open(self.join(file_name), "rb") as f:
            data: bytes = f.read()
            return data

    def load_array(self, file_name: str, mmap: bool) -> npt.NDArray[Any]:
        target = self.join(file_name)
        if self.fs is None:
            if mmap and os.path.getsize(target) > 0:
                try:
                    mapped: npt.NDArray[Any] = np.load(target, mmap_mode="r", allow_pickle=False)
                    return mapped
                except ValueError:  # an empty array cannot be mapped
                    pass
            read: npt.NDArray[Any] = np.load(target, allow_pickle=False)
            return read
        with self.fs.open(target, "rb") as f:
            fetched: npt.NDArray[Any] = np.lib.format.read_array(f, allow_pickle=False)
            return fetched


def _ours(file_name: str) -> bool:
    """Files a sharded matrix writes: the manifest, shard arrays, and their (hidden) temporary
    files."""
    name = file_name[1:] if file_name.startswith(".") else file_name
    return name.startswith(MANIFEST) or name.startswith("shard-")


def _check_piece(matrix: SparseMatrix, name: str) -> tuple[Int64Array, Int32Array, npt.NDArray[Any]]:
    """A CSR piece as the shards store it: int64 indptr from 0, int32 indices, sorted, summed."""
    if not sp.issparse(matrix) or matrix.ndim != 2:
        raise TypeError(f"{name} must be a 2-D scipy.sparse matrix, got {type(matrix).__name__}")
    if matrix.shape[1] > _INT32_MAX:
        raise ValueError(f"{name} has {matrix.shape[1]} columns; at most 2**31 - 1 can be stored")
    csr = matrix.tocsr()
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    indptr = np.asarray(csr.indptr, dtype=np.int64)
    return indptr - indptr[0], np.asarray(csr.indices, dtype=np.int32), np.asarray(csr.data)


def prepare_directory(path: StrPath, name: str = "path") -> tuple[str, bool]:
    """Create the directory `path` for a sharded matrix, or check that it is empty (nothing in it
    is ever overwritten). Returns its normalised path and whether this call created it."""
    store = _Store(path, name)
    return store.path, store.make_empty()


def write_shard(path: StrPath, index: int, row_begin: int, matrix: SparseMatrix) -> dict[str, Any]:
    """Write `matrix` (rows ``row_begin .. row_begin + matrix.shape[0]``) as shard `index` of the
    sharded matrix at `path`, each array to a temporary file renamed into place. The directory
    must exist. Returns the shard's manifest entry; `commit` lists it. Writing the same shard
    again (a task that is rerun) replaces it."""
    store = _Store(path)
    index = check_int(index, "index", minimum=0)
    row_begin = check_int(row_begin, "row_begin", minimum=0)
    indptr, indices, data = _check_piece(matrix, "matrix")
    stem = shard_name(index)
    pieces: tuple[npt.NDArray[Any], ...] = (indptr, indices, data)
    for suffix, array in zip(_ARRAYS, pieces):
        def write(f: IO[bytes], a: npt.NDArray[Any] = array) -> None:
            np.lib.format.write_array(f, np.ascontiguousarray(a), allow_pickle=False)
        store.write_atomic(f"{stem}.{suffix}.npy", write)
    return {"name": stem, "rows": [row_begin, row_begin + matrix.shape[0]], "nnz": int(len(data)),
            "dtype": data.dtype.str}


def commit(path: StrPath, shape: tuple[int, int], entries: Iterable[dict[str, Any]],
           dtype: npt.DTypeLike = np.float32) -> "ShardedMatrix":
    """Write the manifest of the shards `entries` (from `write_shard`) and return the
    `ShardedMatrix`. The entries must cover rows ``0 .. shape[0]`` in consecutive ranges (in any
    order of the list); other shard files and leftover temporary files in the directory are
    removed (a shard written twice by a rerun task, a task killed while writing)."""
    store = _Store(path)
    shape = _check_shape(shape)
    dtype = np.dtype(dtype)
    entries = sorted(entries, key=lambda e: e["rows"][0])
    at = 0
    for entry in entries:
        lo, hi = entry["rows"]
        if lo != at or hi < lo:
            raise ValueError(f"shards must cover rows 0..{shape[0]} in consecutive ranges; "
                             f"{entry['name']} holds rows {lo}..{hi}, expected to start at {at}")
        if np.dtype(entry.get("dtype", dtype.str)) != dtype:
            raise ValueError(f"shard {entry['name']} holds {np.dtype(entry['dtype'])}, expected {dtype}")
        at = hi
    if at != shape[0]:
        raise ValueError(f"shards must cover rows 0..{shape[0]}; they end at row {at}")
    manifest = {"format": FORMAT, "version": VERSION, "shape": list(shape), "dtype": dtype.str,
                "nnz": int(sum(e["nnz"] for e in entries)),
                "shards": [{"name": e["name"], "rows": list(e["rows"]), "nnz": int(e["nnz"])} for e in entries]}
    store.write_atomic(MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode("utf-8")))
    keep = {MANIFEST} | {f"{e['name']}.{s}.npy" for e in entries for s in _ARRAYS}
    for file_name in store.listdir():
        if _ours(file_name) and file_name not in keep:
            store.remove(file_name)
    return ShardedMatrix(store.path)


def discard(path: StrPath, remove_dir: bool = False) -> None:
    """Remove everything a sharded matrix writes in `path` (manifest first, then shards and
    temporary files); with `remove_dir`, the directory too when nothing else is left in it."""
    store = _Store(path)
    store.remove(MANIFEST)
    for file_name in store.listdir():
        if _ours(file_name):
            store.remove(file_name)
    if remove_dir and not store.listdir():
        store.remove_dir()


def _check_shape(shape: object) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape must be a pair (n_rows, n_cols), got {shape!r}")
    n_rows = check_int(shape[0], "shape[0]", minimum=0)
    n_cols = check_int(shape[1], "shape[1]", minimum=0, maximum=_INT32_MAX)
    return n_rows, n_cols


class ShardedMatrix:
    """A sparse matrix stored as row-range CSR shards in a directory (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The directory: a local path, or a URL such as ``s3://bucket/cooc`` (needs fsspec and the
        filesystem's package). Opening reads only the manifest.

    Attributes
    ----------
    path : str
    shape : (int, int)
    nnz : int
    dtype : numpy.dtype
    row_ranges : list of (int, int)
        ``(row_begin, row_end)`` of each shard, consecutive, in order.
    shard_nnz : list of int
        The nonzeros of each shard.

    Raises
    ------
    FileNotFoundError
        No manifest at `path`.
    ValueError
        The manifest is not a sharded matrix's, or is inconsistent.

    Examples
    --------
    >>> import scipy.sparse as sp, tempfile, os
    >>> d = os.path.join(tempfile.mkdtemp(), "m")
    >>> m = ShardedMatrix.from_scipy(sp.identity(5, format="csr", dtype="float32"), d, rows_per_shard=2)
    >>> m.shape, m.nnz, m.row_ranges
    ((5, 5), 5, [(0, 2), (2, 4), (4, 5)])
    >>> (m.to_scipy() != sp.identity(5)).nnz
    0
    """

    path: str
    shape: tuple[int, int]
    dtype: np.dtype[Any]
    nnz: int

    def __init__(self, path: StrPath) -> None:
        self._store = _Store(path)
        self.path = self._store.path
        if not self._store.exists(MANIFEST):
            raise FileNotFoundError(f"path: no sharded matrix at {self.path!r} ({MANIFEST} is missing)")
        try:
            manifest = json.loads(self._store.read_bytes(MANIFEST).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"path: {self.path!r} holds an unreadable {MANIFEST}: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"path: {self.path!r} holds no {FORMAT} manifest")
        if manifest.get("version") != VERSION:
            raise ValueError(f"path: {self.path!r} is a {FORMAT} of version {manifest.get('version')!r}; "
                             f"this embedcore reads version {VERSION}")
        try:
            self.shape = _check_shape(tuple(manifest["shape"]))
            self.dtype = np.dtype(manifest["dtype"])
            self._shards = [(str(s["name"]), int(s["rows"][0]), int(s["rows"][1]), int(s["nnz"]))
                            for s in manifest["shards"]]
            self.nnz = int(manifest["nnz"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"path: {self.path!r} holds an inconsistent {MANIFEST} ({exc})") from None
        at = 0
        for name, lo, hi, _ in self._shards:
            if lo != at or hi < lo:
                raise ValueError(f"path: {self.path!r}: shard {name} holds rows {lo}..{hi}, expected from {at}")
            at = hi
        if at != self.shape[0] or sum(s[3] for s in self._shards) != self.nnz:
            raise ValueError(f"path: {self.path!r}: the shards do not add up to the manifest's shape and nnz")

    @property
    def row_ranges(self) -> list[tuple[int, int]]:
        return [(lo, hi) for _, lo, hi, _ in self._shards]

    @property
    def shard_nnz(self) -> list[int]:
        """The nonzeros of each shard, as the manifest lists them (nothing is read)."""
        return [nnz for _, _, _, nnz in self._shards]

    @property
    def n_shards(self) -> int:
        return len(self._shards)

    @property
    def is_local(self) -> bool:
        """Whether the shards are on a local filesystem (and memory-mapped when read)."""
        return self._store.is_local

    def __repr__(self) -> str:
        return (f"ShardedMatrix({self.path!r}, shape={self.shape}, nnz={self.nnz}, "
                f"{self.n_shards} shard{'' if self.n_shards == 1 else 's'})")

    def shard(self, i: int, mmap: bool = True) -> SparseMatrix:
        """Shard `i` as a CSR matrix of shape ``(row_end - row_begin, n_cols)``; local arrays are
        memory-mapped (read-only) unless ``mmap=False``."""
        i = check_int(i, "i", minimum=0, maximum=self.n_shards - 1)
        name, lo, hi, nnz = self._shards[i]
        try:
            indptr, indices, data = (self._store.load_array(f"{name}.{s}.npy", mmap) for s in _ARRAYS)
        except FileNotFoundError:
            raise FileNotFoundError(f"path: {self.path!r}: the files of shard {name} are missing") from None
        except ValueError as exc:
            raise ValueError(f"path: {self.path!r}: shard {name} is not readable ({exc})") from None
        if (indptr.dtype != np.int64 or indptr.shape != (hi - lo + 1,) or indices.dtype != np.int32
                or indices.shape != (nnz,) or data.shape != (nnz,) or data.dtype != self.dtype
                or indptr[0] != 0 or indptr[-1] != nnz):
            raise ValueError(f"path: {self.path!r}: shard {name} does not match the manifest "
                             f"(rows {lo}..{hi}, {nnz} nonzeros of {self.dtype})")
        if nnz and (int(indices.min()) < 0 or int(indices.max()) >= self.shape[1]):
            raise ValueError(f"path: {self.path!r}: shard {name} has column indices outside [0, {self.shape[1]})")
        csr = sp.csr_matrix((data, indices, indptr), shape=(hi - lo, self.shape[1]), copy=False)
        csr.has_sorted_indices = True
        return csr

    def __iter__(self) -> Iterator[tuple[tuple[int, int], SparseMatrix]]:
        """``((row_begin, row_end), csr)`` for each shard, in row order."""
        for i, (lo, hi) in enumerate(self.row_ranges):
            yield (lo, hi), self.shard(i)

    def to_scipy(self) -> SparseMatrix:
        """The whole matrix as one in-memory ``scipy.sparse.csr_matrix``."""
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        indices = np.empty(self.nnz, dtype=np.int32)
        data = np.empty(self.nnz, dtype=self.dtype)
        at = 0
        for (lo, hi), piece in self:
            k = piece.nnz
            indices[at:at + k] = piece.indices
            data[at:at + k] = piece.data
            indptr[lo + 1:hi + 1] = piece.indptr[1:] + at
            at += k
        csr = sp.csr_matrix((data, indices, indptr), shape=self.shape, copy=False)
        csr.has_sorted_indices = True
        return csr

    def remove(self) -> None:
        """Delete the matrix: its manifest, then its shards, then the directory when empty."""
        discard(self.path, remove_dir=True)

    @classmethod
    def from_scipy(cls, matrix: SparseMatrix, path: StrPath, rows_per_shard: int | None = None,
                   shard_bytes: int = DEFAULT_SHARD_BYTES) -> "ShardedMatrix":
        """Write a scipy.sparse matrix as a sharded matrix at `path` (a new or empty directory).

        Rows are cut into ranges of `rows_per_shard` rows, or, by default, of about
        `shard_bytes` bytes each (12 bytes per nonzero).
        """
        if not sp.issparse(matrix) or matrix.ndim != 2:
            raise TypeError(f"matrix must be a 2-D scipy.sparse matrix, got {type(matrix).__name__}")
        csr = matrix.tocsr()
        n_rows = csr.shape[0]
        if rows_per_shard is not None:
            rows_per_shard = check_int(rows_per_shard, "rows_per_shard", minimum=1)
            bounds = list(range(0, n_rows, rows_per_shard)) + [n_rows]
        else:
            shard_bytes = check_int(shard_bytes, "shard_bytes", minimum=1)
            bounds = plan_row_ranges(np.diff(csr.indptr) * 12 + 8, shard_bytes)
        with ShardWriter(path, csr.shape, dtype=csr.dtype) as writer:
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                writer.write(csr[lo:hi], row_begin=lo)
        assert writer.result is not None  # leaving the block without an exception committed it
        return writer.result


def plan_row_ranges(row_bytes: npt.ArrayLike, budget: int) -> list[int]:
    """Boundaries ``[0, b1, ..., n]`` of consecutive row ranges whose bytes (`row_bytes` per row)
    sum to at most `budget` each, a range holding a single row when that row alone is larger."""
    row_bytes = np.asarray(row_bytes, dtype=np.int64)
    ends = np.cumsum(row_bytes)
    bounds, lo, base = [0], 0, 0
    while lo < len(row_bytes):
        hi = max(lo + 1, int(np.searchsorted(ends, base + budget, side="right")))
        bounds.append(hi)
        base, lo = int(ends[hi - 1]), hi
    if len(bounds) == 1:
        bounds.append(0)
    return bounds


class ShardWriter:
    """Writes a `ShardedMatrix` shard by shard from one process.

    Parameters
    ----------
    path : str or os.PathLike
        A new or empty directory (local or an fsspec URL); it is created if needed.
    shape : (int, int)
        Shape of the whole matrix.
    dtype : numpy dtype
        dtype of the values (float32 by default).
    name : str
        What errors call `path` (the caller's argument, e.g. ``"out_dir"``).

    Use it as a context manager: leaving the ``with`` block normally commits the manifest
    (`result` is then the `ShardedMatrix`), leaving it by an exception removes every file written
    (and the directory when this writer created it).

    Examples
    --------
    >>> import scipy.sparse as sp, tempfile, os
    >>> d = os.path.join(tempfile.mkdtemp(), "m")
    >>> with ShardWriter(d, (4, 3)) as w:
    ...     w.write(sp.csr_matrix([[1, 0, 0], [0, 2, 0]], dtype="float32"))
    ...     w.write(sp.csr_matrix([[0, 0, 3], [4, 0, 0]], dtype="float32"))
    >>> w.result.to_scipy().toarray().tolist()
    [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [4.0, 0.0, 0.0]]
    """

    result: ShardedMatrix | None

    def __init__(self, path: StrPath, shape: tuple[int, int], dtype: npt.DTypeLike = np.float32,
                 name: str = "path") -> None:
        self._store = _Store(path, name)
        self.shape = _check_shape(shape)
        self.dtype = np.dtype(dtype)
        self._created = self._store.make_empty()
        self._entries: list[dict[str, Any]] = []
        self._next_row = 0
        self.result = None

    def write(self, matrix: SparseMatrix, row_begin: int | None = None) -> None:
        """Write the rows ``row_begin .. row_begin + matrix.shape[0]`` (by default, right after the
        previous shard's) as the next shard."""
        if self.result is not None:
            raise ValueError("this ShardWriter is committed; open a new one")
        row_begin = self._next_row if row_begin is None else check_int(row_begin, "row_begin", minimum=0)
        if not sp.issparse(matrix) or matrix.ndim != 2 or matrix.shape[1] != self.shape[1]:
            raise ValueError(f"matrix must be a scipy.sparse matrix with {self.shape[1]} columns, got "
                             f"{type(matrix).__name__} with shape {getattr(matrix, 'shape', None)}")
        if row_begin + matrix.shape[0] > self.shape[0]:
            raise ValueError(f"rows {row_begin}..{row_begin + matrix.shape[0]} exceed the {self.shape[0]} rows")
        entry = write_shard(self._store.path, len(self._entries), row_begin, matrix.astype(self.dtype, copy=False))
        self._entries.append(entry)
        self._next_row = row_begin + matrix.shape[0]

    def commit(self) -> ShardedMatrix:
        """Write the manifest; returns the `ShardedMatrix`."""
        if self.result is None:
            self.result = commit(self._store.path, self.shape, self._entries, self.dtype)
        return self.result

    def abort(self) -> None:
        """Remove every file written (and the directory when this writer created it)."""
        discard(self._store.path, remove_dir=self._created)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()
        return False
