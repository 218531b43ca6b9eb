"""gensim's own saves (``KeyedVectors.save`` / ``Word2Vec.save``: a pickle, with large arrays in
``.npy`` files next to it), read through the installed gensim.

A pickle runs code while it is read: load only files you trust, exactly as with gensim itself.
"""
from typing import Any

from embedcore.formats._errors import VectorFileError

PICKLE_MAGIC = b"\x80"


def looks_like_gensim(head: bytes) -> bool:
    """Whether the first bytes of a file are a pickle (protocol 2 or later), as gensim saves are."""
    return head[:1] == PICKLE_MAGIC


def load(path: Any, mmap: str | None = None) -> tuple[list[Any], Any, dict[str, Any], int]:
    """(keys, vectors, vecattrs, next_index) of a gensim KeyedVectors save, or of the word
    vectors (``.wv``) of a gensim model save.

    Raises
    ------
    ImportError
        gensim is not installed.
    VectorFileError
        The file holds no KeyedVectors.
    """
    try:
        from gensim.utils import SaveLoad
    except ImportError:
        raise ImportError(f"{path} is a gensim save (a pickle); reading it needs gensim "
                          f"(pip install gensim)") from None
    obj = SaveLoad.load(str(path), mmap=mmap)
    return parts_of(getattr(obj, "wv", obj), path)


def parts_of(wv, source="the object"):
    """(keys, vectors, vecattrs, next_index) of a gensim KeyedVectors object."""
    if not (hasattr(wv, "index_to_key") and hasattr(wv, "vectors")):
        raise VectorFileError(f"{source}: holds a {type(wv).__name__}, not gensim KeyedVectors or a "
                              f"model with them (.wv)")
    keys = list(wv.index_to_key)
    vecattrs = {name: values for name, values in getattr(wv, "expandos", {}).items()
                if len(values) == len(keys) and values.dtype.kind in "biuf"}
    return keys, wv.vectors, vecattrs, getattr(wv, "next_index", len(keys))
