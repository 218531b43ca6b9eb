"""Text files across workers: the vocabulary, the encoded corpus and co-occurrence counts.

A partition is one file: each task reads its file with embedcore's text pass and counts with
embedcore's kernels; the client only plans and merges small results.
"""
import glob
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from embedcore import sharded
from embedcore._typing import StrPath
from embedcore._validation import check_choice, check_int, check_path
from embedcore.cooccurrence import cooccurrence as _count_corpus
from embedcore.corpus import EncodedCorpus
from embedcore.distributed._scheduler import delayed, resolve, tree_reduce
from embedcore.vocab import Vocab

_ERRORS = ("strict", "replace", "ignore")


def corpus_paths(paths, name="paths"):
    """The files of `paths`: one path, a glob pattern (sorted matches), or a list of paths (in
    the order given). Each must be a file readable at the same path by every worker."""
    if isinstance(paths, (str, os.PathLike)):
        pattern = os.fspath(paths)
        files = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not files:
            raise FileNotFoundError(f"{name}: no file matches {pattern!r}")
    elif isinstance(paths, (list, tuple)):
        if not paths:
            raise ValueError(f"{name} must name at least one file, got an empty {type(paths).__name__}")
        files = [check_path(p, f"{name}[{i}]") for i, p in enumerate(paths)]
    else:
        raise TypeError(f"{name} must be a path, a glob pattern or a list of paths, got {type(paths).__name__}")
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(f"{name}: no such file: {f!r}")
    return [os.path.abspath(f) for f in files]


# ---------------------------------------------------------------------------------------------
# Vocabulary


def _count_file(path, errors):
    """(words in order of first appearance, their counts, tokens) of one file.

    `Vocab.from_corpus` sorts by count, so the order of first appearance, which breaks ties in
    the merged vocabulary, comes from encoding the file with its own words (a second pass)."""
    try:
        vocab = Vocab.from_corpus(path, min_count=1, errors=errors)
    except ValueError:
        if Vocab([], []).encode(path, errors=errors).raw_tokens == 0:  # a file without tokens
            return [], np.zeros(0, dtype=np.int64), 0
        raise
    ids = vocab.encode(path, errors=errors).ids
    first = np.full(len(vocab), len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    order = np.argsort(first, kind="stable")
    return [vocab.words[i] for i in order], vocab.counts[order], vocab.total_words


def _merge_counts(*tables):
    """Word counts of consecutive parts of the corpus added up; words keep the order of their
    first appearance across the parts (a dict keeps insertion order)."""
    merged, total = {}, 0
    for words, counts, tokens in tables:
        total += tokens
        get = merged.get
        for word, count in zip(words, counts.tolist()):
            merged[word] = get(word, 0) + count
    return list(merged), np.fromiter(merged.values(), dtype=np.int64, count=len(merged)), total


def _keep_frequent(table, min_count, max_size):
    """The vocabulary of a merged table: descending count, ties by first appearance."""
    words, counts, total = table
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    if max_size is not None:
        order = order[:max_size]
    return [words[i] for i in order], counts[order], total


def build_vocab(paths: StrPath | Iterable[StrPath], min_count: int = 5, max_size: int | None = None,
                client: Any = None, errors: str = "strict", progress: bool = False) -> Vocab:
    """Count the words of many text files across Dask workers: the same `Vocab` as
    ``Vocab.from_corpus(files)`` on one machine.

    Each file is a partition: a task counts its words with embedcore's text pass and lists them
    in order of first appearance; the tables are merged by a tree of tasks, counts added exactly,
    so the words come out by descending count with ties in order of first appearance across the
    files, as the single-machine pass orders them.

    Parameters
    ----------
    paths : str, os.PathLike, or list of them
        A file, a glob pattern (``"corpus/*.txt.gz"``, matches sorted by name) or a list of files
        (in that order): UTF-8 text, one sentence per line, ``.gz`` and ``.bz2`` decompressed.
        Every worker must read them at the same path (a shared filesystem).
    min_count : int
        Words seen fewer times are left out.
    max_size : int, optional
        Keep at most this many words (the most frequent). Counts are never pruned here (each
        task counts every distinct word of its file), so the result equals the single-machine
        vocabulary whenever that one did not need to prune (fewer than ``max(2 * max_size,
        2**20)`` distinct words) and is exact otherwise.
    client : distributed.Client, 'threads' or 'sync', optional
        Where the tasks run; None uses the current Dask client, or Dask's threaded scheduler
        when there is none.
    errors : {'strict', 'replace', 'ignore'}
        Invalid UTF-8, as for `Vocab.from_corpus`.
    progress : bool
        Show Dask's progress bar.

    Returns
    -------
    Vocab

    Raises
    ------
    FileNotFoundError
        A path is not a file, or a pattern matches none.
    ValueError
        The files hold no token, no word reaches `min_count`, or the text is not UTF-8.

    Examples
    --------
    >>> from embedcore import distributed
    >>> vocab = distributed.build_vocab("corpus/part-*.txt", min_count=5)  # doctest: +SKIP
    """
    files = corpus_paths(paths)
    min_count = check_int(min_count, "min_count", minimum=1)
    if max_size is not None:
        max_size = check_int(max_size, "max_size", minimum=1)
    check_choice(errors, "errors", _ERRORS)
    scheduler = resolve(client, progress)
    tables = [delayed(_count_file)(f, errors) for f in files]
    root = delayed(_keep_frequent)(tree_reduce(tables, _merge_counts), min_count, max_size)
    words, counts, total = scheduler.compute([root])[0]
    if total == 0:
        raise ValueError(f"paths hold no tokens ({len(files)} empty file{'' if len(files) == 1 else 's'})")
    if not words:
        raise ValueError(f"no word occurs at least min_count={min_count} times in paths ({total} tokens); "
                         f"lower min_count")
    return Vocab(words, counts, total_words=total)


# ---------------------------------------------------------------------------------------------
# Encoding


def _check_vocab(vocab):
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab (from build_vocab or Vocab.from_corpus), got {type(vocab).__name__}")
    if len(vocab) == 0:
        raise ValueError("vocab must hold at least one word")
    return vocab


def _encode_file(path, vocab, errors):
    corpus = vocab.encode(path, errors=errors)
    return corpus.ids, corpus.offsets, corpus.raw_tokens


def encode(paths: StrPath | Iterable[StrPath], vocab: Vocab, client: Any = None, errors: str = "strict",
           progress: bool = False) -> EncodedCorpus:
    """Encode many text files to ids across Dask workers: the same `EncodedCorpus` as
    ``vocab.encode(files)`` on one machine (each file's sentences in the order of `paths`).

    Parameters
    ----------
    paths : str, os.PathLike, or list of them
        As for `build_vocab`.
    vocab : Vocab
        The words to keep; other tokens are dropped.
    client, errors, progress
        As for `build_vocab`.

    Returns
    -------
    EncodedCorpus
        The whole corpus, on the client.
    """
    files = corpus_paths(paths)
    vocab = _check_vocab(vocab)
    check_choice(errors, "errors", _ERRORS)
    scheduler = resolve(client, progress)
    shared = scheduler.share(vocab)
    parts = scheduler.compute([delayed(_encode_file)(f, shared, errors) for f in files])
    ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    offsets, base = [np.zeros(1, dtype=np.int64)], 0
    for part_ids, part_offsets, _ in parts:
        offsets.append(part_offsets[1:] + base)
        base += len(part_ids)
    return EncodedCorpus(ids, np.concatenate(offsets), raw_tokens=sum(p[2] for p in parts))


# ---------------------------------------------------------------------------------------------
# Co-occurrence counts


def _count_cooccurrence(path, vocab, window, symmetric, distance_weighting, errors):
    """The co-occurrence counts of one file (float32 CSR, vocabulary x vocabulary)."""
    corpus = vocab.encode(path, errors=errors)
    return _count_corpus(corpus, len(vocab), window=window, symmetric=symmetric,
                         distance_weighting=distance_weighting, workers=1, device="cpu")


def _add(*parts):
    """Sum of partial counts in float64 (the kernel's own accumulator type): float32 counts add up
    exactly there, so the shape of the tree does not change the result; `_finish` rounds once to
    float32."""
    total = parts[0].astype(np.float64)
    for part in parts[1:]:
        total = total + part
    return total


def _finish(total):
    csr = total.astype(np.float32).tocsr()
    csr.sort_indices()
    return csr


def _row_nonzeros(*parts):
    """Nonzeros per row, added over partial count matrices (or over earlier such sums)."""
    return sum(np.diff(p.indptr).astype(np.int64) if sp.issparse(p) else p for p in parts)


def _rows(part, lo, hi):
    return part[lo:hi]


def _write_rows(out_dir, index, lo, *pieces):
    """Add the pieces of rows lo.. of every partial count and write the sum as shard `index`."""
    return sharded.write_shard(out_dir, index, lo, _finish(_add(*pieces)))


def _nonzeros(part):
    return part.nnz


def cooccurrence(paths: StrPath | Iterable[StrPath], vocab: Vocab, window: int = 10, symmetric: bool = True,
                 distance_weighting: bool = True, max_memory: int | None = None, out_dir: StrPath | None = None,
                 client: Any = None, errors: str = "strict",
                 progress: bool = False) -> "sp.csr_matrix | sharded.ShardedMatrix":
    """Count word-word co-occurrences of many text files across Dask workers: the matrix of
    ``embedcore.cooccurrence(vocab.encode(files), len(vocab), ...)`` on one machine.

    Each file is a partition: a task encodes it against the shared vocabulary and counts it with
    embedcore's co-occurrence kernel (one thread per task; windows never cross a sentence or a
    file). The partial matrices are then either added up by a tree of sparse additions into one
    CSR matrix on the client, or, with `out_dir`, cut into row ranges, each range's pieces added
    by one task and written as a shard of a `ShardedMatrix`, so that no task and not the client
    holds the whole result.

    Partial counts are added in float64 and rounded once to float32. The result has exactly the
    single-machine nonzeros; its values are bit-identical when the partial counts are exact in
    float32 (``distance_weighting=False`` with counts below 2**24), and otherwise agree to a few
    float32 roundings (relative 1e-6): the single-machine count rounds each sum once, here each
    file's sum is rounded once before they are added.

    Parameters
    ----------
    paths : str, os.PathLike, or list of them
        As for `build_vocab`.
    vocab : Vocab
        The rows and columns; tokens outside it are dropped before counting.
    window, symmetric, distance_weighting
        As for ``embedcore.cooccurrence``.
    max_memory : int, optional
        Bytes one piece of the result may take (12 bytes per nonzero, 8 per row, counted from
        the partial counts, an upper bound): with `out_dir` the size of each shard (default
        256 MiB); without, the largest result gathered on the client, beyond which the count
        stops with a MemoryError that suggests `out_dir` (default: no limit).
    out_dir : str or os.PathLike, optional
        A new or empty directory, local (shared with the workers) or any fsspec URL, for the
        result's row-range shards. The shards are removed again if the count fails.
    client, errors, progress
        As for `build_vocab`.

    Returns
    -------
    scipy.sparse.csr_matrix or ShardedMatrix
        float32, ``len(vocab) x len(vocab)``, sorted column indices.

    Raises
    ------
    TypeError, ValueError
        Bad arguments (named in the message); `out_dir` not empty.
    MemoryError
        Without `out_dir`: the result would exceed `max_memory`.
    """
    files = corpus_paths(paths)
    vocab = _check_vocab(vocab)
    window = check_int(window, "window", minimum=1, maximum=65535)
    for value, name in ((symmetric, "symmetric"), (distance_weighting, "distance_weighting")):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    if max_memory is not None:
        max_memory = check_int(max_memory, "max_memory", minimum=1)
    check_choice(errors, "errors", _ERRORS)
    scheduler = resolve(client, progress)
    n = len(vocab)
    if out_dir is None:
        partials = _count_partials(scheduler, files, vocab, window, symmetric, distance_weighting, errors)
        if max_memory is not None:
            bound = 12 * sum(scheduler.compute([delayed(_nonzeros)(p) for p in partials])) + 8 * (n + 1)
            if bound > max_memory:
                raise MemoryError(f"the co-occurrence matrix may need up to {bound} bytes, more than "
                                  f"max_memory={max_memory}; pass out_dir to write it as row-range shards")
        return scheduler.compute([delayed(_finish)(tree_reduce(partials, _add))])[0]
    path, created = sharded.prepare_directory(out_dir, "out_dir")
    try:
        partials = _count_partials(scheduler, files, vocab, window, symmetric, distance_weighting, errors)
        return _write_shards(scheduler, partials, (n, n), path, max_memory or sharded.DEFAULT_SHARD_BYTES)
    except BaseException:
        sharded.discard(path, remove_dir=created)
        raise


def _count_partials(scheduler, files, vocab, window, symmetric, distance_weighting, errors):
    """One persisted partial count per file."""
    shared = scheduler.share(vocab)
    return scheduler.persist([delayed(_count_cooccurrence)(f, shared, window, bool(symmetric),
                                                           bool(distance_weighting), errors) for f in files])


def _write_shards(scheduler, partials, shape, out_dir, shard_bytes):
    """Row ranges of about `shard_bytes` each, planned from the partials' row nonzeros; one task
    per range adds the range's rows of every partial and writes them as a shard of `out_dir`
    (an empty directory); returns the committed ShardedMatrix."""
    row_nnz = scheduler.compute([tree_reduce([delayed(_row_nonzeros)(p) for p in partials], _row_nonzeros)])[0]
    bounds = sharded.plan_row_ranges(12 * row_nnz + 8, shard_bytes)
    tasks = []
    for index, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        pieces = [delayed(_rows)(p, lo, hi) for p in partials]
        tasks.append(delayed(_write_rows)(out_dir, index, lo, *pieces))
    return sharded.commit(out_dir, shape, scheduler.compute(tasks))
