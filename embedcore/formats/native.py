"""embedcore's own KeyedVectors format (``KeyedVectors.save`` / ``KeyedVectors.load``).

A save at PATH is three files, replaced together (:func:`embedcore._io.atomic_write_many`):

- ``PATH``: UTF-8 JSON metadata: ``{"format": "embedcore.KeyedVectors", "version": 1,
  "vector_size": d, "count": n, "dtype": "<f4", "next_index": i, "vecattrs": {name: dtype},
  "keys": [...]}``; ``keys`` lists the n keys in row order (str or int; null for a slot that was
  allocated but not filled);
- ``PATH.vectors.npy``: the (n, d) vectors as a plain ``.npy`` array, so ``load(mmap='r')``
  maps it instead of reading it;
- ``PATH.vecattrs.npz``: one array of n values per attribute (``count`` ...), numbers only.

Nothing is pickled, so loading a file runs no code from it.
"""
import json
import os
from typing import Any

import numpy as np

from embedcore._io import atomic_write_many, recover_many
from embedcore.formats._errors import VectorFileError

FORMAT = "embedcore.KeyedVectors"
VERSION = 1
MMAP_MODES = (None, "r", "r+", "c")


def paths(path):
    """The metadata, vectors and attribute files of a save at `path`."""
    path = os.fspath(path)
    return [path, path + ".vectors.npy", path + ".vecattrs.npz"]


def _journal(path):
    directory, base = os.path.split(os.fspath(path))
    return os.path.join(directory, f".{base}.commit")


def looks_like_ours(head: bytes) -> bool:
    """Whether the first bytes of a file are our metadata (JSON) rather than a pickle."""
    return head.lstrip()[:1] == b"{"


def save(path: Any, keys: list[Any], vectors: Any, vecattrs: dict[str, Any], next_index: int) -> None:
    """Write a KeyedVectors' parts (checked here: keys str/int/None, numeric attributes)."""
    for i, key in enumerate(keys):
        if not (key is None or isinstance(key, str) or (isinstance(key, (int, np.integer))
                                                         and not isinstance(key, bool))):
            raise TypeError(f"keys[{i}] must be a str or an int to be saved, got {type(key).__name__}")
    for name, values in vecattrs.items():
        if values.dtype.kind not in "biuf":
            raise TypeError(f"vecattr {name!r} holds {values.dtype} values; only numbers can be saved "
                            f"(the format stores no Python objects)")
    meta = {"format": FORMAT, "version": VERSION, "vector_size": int(vectors.shape[1]),
            "count": int(vectors.shape[0]), "dtype": vectors.dtype.str, "next_index": int(next_index),
            "vecattrs": {name: values.dtype.str for name, values in vecattrs.items()},
            "keys": [k if k is None or isinstance(k, str) else int(k) for k in keys]}
    with atomic_write_many(paths(path), _journal(path)) as (meta_file, vectors_file, attrs_file):
        meta_file.write(json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        np.save(vectors_file, np.ascontiguousarray(vectors), allow_pickle=False)
        np.savez(attrs_file, **{name: np.ascontiguousarray(v) for name, v in vecattrs.items()})


def load(path: Any, mmap: str | None = None) -> tuple[list[Any], Any, dict[str, Any], int]:
    """(keys, vectors, vecattrs, next_index) of a save at `path`; see the module notes.

    Raises
    ------
    FileNotFoundError
        A file of the save is missing.
    VectorFileError
        The files are not one consistent save of ours.
    """
    meta_path, vectors_path, attrs_path = recover_many(paths(path), _journal(path))

    def refuse(reason):
        return VectorFileError(f"{path}: not a KeyedVectors save of embedcore: {reason}")

    with open(meta_path, "rb") as f:
        raw = f.read()
    try:
        meta = json.loads(raw.decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}")
        if meta.get("version") != VERSION:
            raise ValueError(f"version {meta.get('version')!r} (this embedcore reads version {VERSION})")
        keys, count, size = meta["keys"], meta["count"], meta["vector_size"]
        next_index, attr_types = meta["next_index"], meta["vecattrs"]
        if not isinstance(keys, list) or len(keys) != count:
            raise ValueError(f"'keys' must list {count} keys")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise refuse(f"{meta_path}: {exc}") from None
    for p in (vectors_path, attrs_path):
        if not os.path.isfile(p):
            raise FileNotFoundError(f"{path}: the save is incomplete: {p} is missing")
    try:
        vectors = np.load(vectors_path, mmap_mode=mmap, allow_pickle=False)
    except Exception as exc:  # numpy reports a damaged header with several exception types
        raise refuse(f"{vectors_path}: {type(exc).__name__}: {exc}") from None
    if vectors.shape != (count, size) or vectors.dtype.kind != "f" or vectors.dtype.str != meta["dtype"]:
        raise refuse(f"{vectors_path} holds {vectors.dtype} {vectors.shape}, the metadata announces "
                     f"{meta['dtype']} {(count, size)}")
    vecattrs = {}
    try:
        with np.load(attrs_path, allow_pickle=False) as archive:
            for name in archive.files:
                vecattrs[name] = archive[name]
    except Exception as exc:
        raise refuse(f"{attrs_path}: {type(exc).__name__}: {exc}") from None
    if sorted(vecattrs) != sorted(attr_types) or any(v.shape != (count,) for v in vecattrs.values()):
        raise refuse(f"{attrs_path} does not hold one value per key for each of {sorted(attr_types)}")
    return keys, vectors, vecattrs, next_index
