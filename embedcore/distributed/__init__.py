"""embedcore beyond one machine, on Dask (``pip install "embedcore[dask]"``).

What scales out, and how
------------------------
The count-based pipeline and search, with embedcore's kernels doing the work inside each task:

- `build_vocab` and `encode`: one task per text file (plain, ``.gz``, ``.bz2``); word counts
  merged exactly by a tree of tasks, so the vocabulary is the one ``Vocab.from_corpus`` builds
  from the concatenated files (same words, order and counts).
- `cooccurrence`: each task encodes one file against the shared vocabulary and counts it with the
  co-occurrence kernel; the partial matrices are added by a tree of tasks into one CSR matrix, or,
  with ``out_dir``, written as row-range shards of a `ShardedMatrix` (a directory, local or any
  fsspec URL) without ever being gathered.
- `ppmi` and `randomized_svd` of a CSR matrix or a ShardedMatrix: marginals summed across row
  blocks, PPMI per block with the whole matrix's marginals, and Halko's randomized SVD with the
  sparse products per block (of A and of its transpose) and the small dense steps on the client.
  ``SVDEmbedding().fit(sharded_matrix, vocab=vocab)`` runs both this way.
- `cosine_topk` over a database in row shards (arrays, memory-mapped ``.npy`` files, or a Dask
  array): the top-k kernel per shard, then a tree of k-way merges by score and global row id.

Every result is the single-machine function's on the concatenated input: bit-identical for the
vocabulary, the encoded corpus, PPMI, the SVD factors and top-k (PPMI and SVD while the float64
marginal sums are exact, as for ordinary count matrices); co-occurrence values are rounded to
float32 once per file before the files' counts are added, so with ``distance_weighting=True``
they agree with the single-machine count to a few float32 roundings (1e-6 relative), with the
same nonzeros.

Each function takes ``client=None``: the current ``dask.distributed`` client, or Dask's threaded
scheduler when none was started; pass a ``Client``, ``"threads"`` or ``"sync"`` to choose.
``progress=True`` shows Dask's progress bar (the dashboard shows the tasks too). Text files and
``.npy`` shards must be readable by every worker at the same path (a shared filesystem). A task
runs its kernel on one thread: Dask runs one task per worker thread. A worker lost in the middle
is replaced by Dask and its tasks rerun; shards are written under temporary names and renamed,
the manifest last, and everything written is removed again if the computation fails.

word2vec
--------
Skip-gram and CBOW are not distributed: averaging models trained on parts of a corpus loses
quality, and one machine already trains word2vec at millions of words per second. Train on one
machine (``Word2Vec(device="cuda")`` on a GPU, or all its cores), feeding it a corpus encoded
here (`encode`) if the text is spread over many files; to scale the embedding itself, use the
count-based methods above (PPMI-SVD, or GloVe on the co-occurrence matrix counted here).
"""
try:
    import dask  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError("embedcore.distributed needs Dask: pip install 'embedcore[dask]'") from exc

from embedcore.distributed._matrix import ppmi, randomized_svd
from embedcore.distributed._text import build_vocab, cooccurrence, encode
from embedcore.distributed._topk import cosine_topk
from embedcore.sharded import ShardedMatrix

__all__ = ["ShardedMatrix", "build_vocab", "cooccurrence", "cosine_topk", "encode", "ppmi", "randomized_svd"]
