"""The CUDA backend: embedcore's primitive operations on CuPy arrays.

The same names, signatures and mathematics as ``backends/cpu.py`` (see ``backends.OPS``):
arrays are CuPy arrays, sparse matrices ``cupyx.scipy.sparse.csr_matrix``; inputs that are
host arrays are copied to the device once. Dense products, sorting and sparse products use
what CuPy provides (cuBLAS, CUB, cuSPARSE); the kernels CuPy lacks are launched through
``launch.py``; the arithmetic both devices share is in ``backends/_shared.py``. Small host
work that decides results (tables, the order of GloVe's records, the p x p eigenproblems of the
SVD) runs on the host with the CPU's code, so the two devices agree.

CuPy is imported on first use (`_cupy`), so importing this module works without it. Everything
here that is not a kernel launch uses only what numpy also has, so the tests run these
operations on the CPU with numpy and emulated kernels (tests/cuda_emulation.py).
"""
import logging
from typing import Any, NamedTuple

import numpy as np

from embedcore.backends import _shared
from embedcore.backends.cuda.launch import (EMPTY_KEY, MAX_NEGATIVE, TOPK_MAX_K, fasttext_warps_per_block,
                                            launch_cooccur_pairs, launch_fasttext, launch_glove_epoch,
                                            launch_node2vec_walks, launch_segment_sums, launch_sgns,
                                            launch_topk_merge_tile, launch_w2v_keep_mask, sgns_warps_per_block)
from embedcore.backends.cuda.probe import cupy as _cupy
from embedcore.backends.cuda.probe import is_device_array

logger = logging.getLogger("embedcore")

NAME = "cuda"

# Raw tokens per word2vec launch: the learning rate is held within one (the CPU steps it every
# 10,000 tokens of a thread), progress and Ctrl-C are seen between them.
SGNS_CHUNK_TOKENS = 1 << 18
# Records of co-occurrence pairs per chunk (16 bytes each, plus the sort's workspace).
COOCCUR_CHUNK_RECORDS = 1 << 26
# Rows per GEMM tile of cosine top-k: queries, and database rows (a 4096 x 16384 float32 tile
# is 256 MiB).
TOPK_TILES = (4096, 1 << 14)


def _sparse():
    """cupyx.scipy.sparse (imported with CuPy)."""
    _cupy()
    from cupyx.scipy import sparse
    return sparse


def _host(value):
    """A numpy array of a device (or host) array."""
    return value.get() if is_device_array(value) else np.asarray(value)


# ----------------------------------------------------------------------------------------------
# arrays

def asarray(value, dtype=None):
    """A C-contiguous CuPy array of `value` (host arrays are copied to the device)."""
    cp = _cupy()
    return cp.ascontiguousarray(cp.asarray(value, dtype=dtype))


def to_host(value):
    """numpy arrays / scipy.sparse matrices of device arrays and matrices (others as they are)."""
    if isinstance(value, tuple):
        return tuple(to_host(v) for v in value)
    if is_device_array(value):
        return value.get()
    return value


def issparse(value):
    """True for a cupyx or scipy sparse matrix."""
    import scipy.sparse as sp
    return sp.issparse(value) or (is_device_array(value) and _sparse().issparse(value))


def csr_matrix(value):
    """The device CSR (float32 data, int32 indices) of a sparse matrix or a dense 2-D array,
    host or device (converted, not validated)."""
    import scipy.sparse as sp
    cp, csp = _cupy(), _sparse()
    if csp.issparse(value):
        csr = value.tocsr()
    elif sp.issparse(value):
        host = value.tocsr()
        csr = csp.csr_matrix((cp.asarray(host.data, dtype=cp.float32), cp.asarray(host.indices, dtype=cp.int32),
                              cp.asarray(host.indptr, dtype=cp.int32)), shape=host.shape)
    else:
        csr = csp.csr_matrix(cp.ascontiguousarray(cp.asarray(value, dtype=cp.float32)))
    if csr.dtype != np.float32:
        csr = csr.astype(cp.float32)
    if csr.indices.dtype != np.int32:
        csr = csp.csr_matrix((csr.data, csr.indices.astype(cp.int32), csr.indptr.astype(cp.int32)), shape=csr.shape)
    return csr


# ----------------------------------------------------------------------------------------------
# word2vec

def word2vec_tables(counts, sample, power=0.75):
    """(keep, noise_prob, noise_alias) on the device, built on the host by the CPU's code."""
    from embedcore.backends import cpu
    return tuple(asarray(t) for t in cpu.word2vec_tables(_host(counts), sample, power))


class SgnsData(NamedTuple):
    """What `sgns_epoch` trains on, on the device."""
    ids: object
    offsets: object
    keep: object
    noise_prob: object
    noise_alias: object
    seed: int
    threads: int
    chunk_tokens: int
    sequential: bool
    config: dict


def sgns_setup(ids, offsets, tables, *, vector_size, window, negative, sg, cbow_mean, shared, seed, threads,
               sequential=False, chunk_tokens=None, cbow_batch=1, simd=""):
    """Prepare word2vec training on the GPU (see the CPU's sgns_setup). One warp trains one
    centre word; `threads`, `cbow_batch` and `simd` do not apply; `sequential` runs one warp
    over the positions in order (a reference mode for tests).

    Raises ValueError for what the GPU kernels cannot do: ``shared=False`` (word2vec.c's
    per-pair update), more than MAX_NEGATIVE negatives, or a skip-gram block of vector_size x
    (negative + 1) floats that does not fit a block's shared memory."""
    if not shared:
        raise ValueError("negative_sharing=False (word2vec.c's per-pair update) runs on the CPU only; "
                         "use device='cpu'")
    if negative > MAX_NEGATIVE:
        raise ValueError(f"negative must be <= {MAX_NEGATIVE} with device='cuda', got {negative}")
    sgns_warps_per_block(bool(sg), vector_size, negative, window)  # raises when it does not fit
    keep, prob, alias = (asarray(t) for t in tables)
    ids, offsets = asarray(ids, np.int32), asarray(offsets, np.int64)
    _check_offsets(offsets, ids.shape[0])
    config = dict(window=window, negative=negative, sg=bool(sg), cbow_mean=bool(cbow_mean))
    return SgnsData(ids, offsets, keep, prob, alias, int(seed), 1, int(chunk_tokens or SGNS_CHUNK_TOKENS),
                    bool(sequential), config)


def sgns_epoch(data, input_vectors, output_vectors, epoch, words_before, total_words, alpha, min_alpha):
    """One word2vec epoch on the GPU, in place, as a generator (see the CPU's sgns_epoch): yields
    raw tokens per launch, returns ``(loss, "cuda")``.

    The tokens kept by this epoch's subsampling (a counter-based draw per raw position, see
    sgns.cu) form the epoch's stream; the raw corpus is trained in chunks of `chunk_tokens` raw
    tokens, each launch taking the kept positions of its chunk at the learning rate of the raw
    tokens trained before it. Windows reach across chunks, not across sentences."""
    cp = _cupy()
    cfg = data.config
    kept_ids, kept_offsets, raw_bounds, kept_bounds = _epoch_stream(data, epoch)
    loss = cp.zeros(1, dtype=cp.float64)
    for a, b, begin, end in zip(raw_bounds[:-1], raw_bounds[1:], kept_bounds[:-1], kept_bounds[1:]):
        rate = _shared.learning_rate(alpha, min_alpha, words_before + a, total_words)
        launch_sgns(kept_ids, kept_offsets, begin, end, input_vectors, output_vectors, data.noise_prob,
                    data.noise_alias, cfg["window"], cfg["negative"], rate, cfg["sg"], cfg["cbow_mean"], data.seed,
                    epoch, loss, data.sequential)
        yield b - a
    return float(_host(loss)[0]), "cuda"


def _epoch_stream(data, epoch):
    """The epoch's kept token stream (see sgns_epoch): (kept ids, kept sentence offsets, raw chunk
    bounds, kept chunk bounds)."""
    cp = _cupy()
    ids, offsets = data.ids, data.offsets
    n_raw = ids.shape[0]
    mask = cp.empty(n_raw, dtype=cp.uint8)
    launch_w2v_keep_mask(ids, data.keep, data.seed, epoch, mask)
    kept = mask.astype(cp.bool_)
    before = cp.concatenate([cp.zeros(1, dtype=cp.int64), cp.cumsum(kept, dtype=cp.int64)])
    raw_bounds = list(range(0, n_raw, data.chunk_tokens)) + [n_raw]
    kept_bounds = _host(before[cp.asarray(np.array(raw_bounds, dtype=np.int64))]).tolist()
    return cp.ascontiguousarray(ids[kept]), cp.ascontiguousarray(before[offsets]), raw_bounds, kept_bounds


# ----------------------------------------------------------------------------------------------
# fastText

class FastTextData(NamedTuple):
    """What `fasttext_epoch` trains on, on the device: the word2vec data and every word's input
    rows (CSR)."""
    words: SgnsData
    sub_indptr: object
    sub_rows: object

    @property
    def threads(self):
        return self.words.threads


def fasttext_setup(ids, offsets, tables, subwords, *, vector_size, window, negative, sg, shared, seed, threads,
                   sequential=False, chunk_tokens=None, simd=""):
    """Prepare fastText training on the GPU (see the CPU's fasttext_setup): one warp trains one
    centre word; `threads` and `simd` do not apply. ValueError for ``shared=False`` (noise words
    per pair run on the CPU only), more than MAX_NEGATIVE negatives or a warp's scratch beyond a
    block's shared memory."""
    if not shared:
        raise ValueError("negative_sharing=False (noise words drawn per pair) runs on the CPU only; use device='cpu'")
    if negative > MAX_NEGATIVE:
        raise ValueError(f"negative must be <= {MAX_NEGATIVE} with device='cuda', got {negative}")
    fasttext_warps_per_block(vector_size, negative, window)  # raises when it does not fit
    words = sgns_setup(ids, offsets, tables, vector_size=vector_size, window=window, negative=negative, sg=sg,
                       cbow_mean=True, shared=True, seed=seed, threads=threads, sequential=sequential,
                       chunk_tokens=chunk_tokens)
    indptr, rows = subwords
    return FastTextData(words, asarray(indptr, np.int64), asarray(rows, np.int32))


def fasttext_epoch(data, input_vectors, output_vectors, epoch, words_before, total_words, alpha, min_alpha):
    """One fastText epoch on the GPU, in place, as a generator (see the CPU's fasttext_epoch and
    sgns_epoch here): yields raw tokens per launch, returns ``(loss, "cuda")``."""
    cp = _cupy()
    w = data.words
    cfg = w.config
    kept_ids, kept_offsets, raw_bounds, kept_bounds = _epoch_stream(w, epoch)
    loss = cp.zeros(1, dtype=cp.float64)
    for a, b, begin, end in zip(raw_bounds[:-1], raw_bounds[1:], kept_bounds[:-1], kept_bounds[1:]):
        rate = _shared.learning_rate(alpha, min_alpha, words_before + a, total_words)
        launch_fasttext(kept_ids, kept_offsets, begin, end, input_vectors, output_vectors, data.sub_indptr,
                        data.sub_rows, w.noise_prob, w.noise_alias, cfg["window"], cfg["negative"], rate, cfg["sg"],
                        w.seed, epoch, loss, w.sequential)
        yield b - a
    return float(_host(loss)[0]), "cuda"


# ----------------------------------------------------------------------------------------------
# random walks (DeepWalk / node2vec)

# Rejected node2vec proposals before the exact draw (the CPU kernel's default, walks.hpp).
WALK_MAX_TRIALS = 16


class WalkGraph(NamedTuple):
    """A graph on the device as the walk kernel reads it (see the CPU's WalkGraph)."""
    indptr: object
    indices: object
    weights: object
    alias_prob: object
    alias_index: object

    @property
    def n_nodes(self):
        return self.indptr.shape[0] - 1


def walk_graph(indptr, indices, weights, threads):
    """The device WalkGraph of a validated CSR adjacency; the alias tables are built on the host
    by the CPU's code (so both devices draw the same walks)."""
    from embedcore.backends import cpu
    host = cpu.walk_graph(_host(indptr), _host(indices), None if weights is None else _host(weights), threads)
    return WalkGraph(*(None if a is None else asarray(a) for a in host))


def walks(graph, starts, walk_length, p, q, seed, first_index, threads):
    """The walks from `starts` on the GPU: (int32 (n, walk_length), int32 (n,) lengths) CuPy
    arrays, equal bit for bit to the CPU's `walks` (entries past a walk's length are 0)."""
    cp = _cupy()
    starts = asarray(starts, np.int32)
    out = cp.zeros((starts.shape[0], walk_length), dtype=cp.int32)
    lengths = cp.zeros(starts.shape[0], dtype=cp.int32)
    g = graph
    launch_node2vec_walks(g.indptr, g.indices, g.weights, g.alias_prob, g.alias_index, starts, walk_length, p, q,
                          WALK_MAX_TRIALS, seed, first_index, out, lengths)
    return out, lengths


def _walk_tokens(out, lengths):
    """(the nodes of the walks in order, the walk of each node) of a padded walk matrix."""
    cp = _cupy()
    valid = cp.arange(out.shape[1], dtype=cp.int32)[None, :] < lengths[:, None]
    return out[valid], cp.repeat(cp.arange(out.shape[0], dtype=cp.int64), lengths.astype(cp.int64))


def walk_visits(graph, starts, walk_length, p, q, seed, first_index, threads):
    """Visits of each node (int64 CuPy array) by the walks `walks` would return."""
    cp = _cupy()
    out, lengths = walks(graph, starts, walk_length, p, q, seed, first_index, threads)
    nodes, _ = _walk_tokens(out, lengths)
    return cp.bincount(nodes, minlength=graph.n_nodes).astype(cp.int64)


class Node2VecData(NamedTuple):
    """What `node2vec_train` trains on, on the device."""
    graph: WalkGraph
    keep: object
    noise_prob: object
    noise_alias: object
    seed: int
    threads: int
    chunk_walks: int
    config: dict


def node2vec_setup(graph, tables, *, vector_size, window, negative, walk_length, p, q, seed, walk_seed, threads,
                   shared=True, simd=""):
    """Prepare skip-gram training on the walks of a device WalkGraph (see the CPU's
    node2vec_setup). Raises ValueError for what the GPU kernels cannot do (``shared=False``,
    more than MAX_NEGATIVE negatives, a block that does not fit shared memory)."""
    if not shared:
        raise ValueError("negative_sharing=False (word2vec.c's per-pair update) runs on the CPU only; "
                         "use device='cpu'")
    if negative > MAX_NEGATIVE:
        raise ValueError(f"negative must be <= {MAX_NEGATIVE} with device='cuda', got {negative}")
    sgns_warps_per_block(True, vector_size, negative, window)  # raises when it does not fit
    keep, prob, alias = (asarray(t) for t in tables)
    chunk_walks = max(1, SGNS_CHUNK_TOKENS // walk_length)
    config = dict(vector_size=vector_size, window=window, negative=negative, walk_length=walk_length, p=p, q=q,
                  walk_seed=walk_seed)
    return Node2VecData(graph, keep, prob, alias, int(seed), 1, chunk_walks, config)


def node2vec_train(data, input_vectors, output_vectors, starts, first_index, words_before, total_words, alpha,
                   min_alpha, on_walks=None):
    """Generate the walks from `starts` on the GPU (the CPU's walks) and train skip-gram on them
    in place, chunk by chunk, as a generator (see the CPU's node2vec_train): yields walks per
    chunk, returns ``(loss, words_done, "cuda")``. Each chunk's walks are subsampled by the
    word2vec kernel's counter-based rule and trained by one launch at the learning rate of the
    nodes trained before it; the chunk's first walk index names its random draws."""
    cp = _cupy()
    g, cfg = data.graph, data.config
    loss = cp.zeros(1, dtype=cp.float64)
    words_done = words_before
    starts = np.ascontiguousarray(_host(starts), dtype=np.int32)
    for begin in range(0, len(starts), data.chunk_walks):
        part = starts[begin:begin + data.chunk_walks]
        index = first_index + begin
        out, lengths = walks(g, part, cfg["walk_length"], cfg["p"], cfg["q"], cfg["walk_seed"], index, 1)
        nodes, walk_of = _walk_tokens(out, lengths)
        mask = cp.empty(nodes.shape[0], dtype=cp.uint8)
        launch_w2v_keep_mask(nodes, data.keep, data.seed, index, mask)
        kept = mask.astype(cp.bool_)
        kept_ids = cp.ascontiguousarray(nodes[kept])
        per_walk = cp.bincount(walk_of[kept], minlength=len(part))
        offsets = cp.concatenate([cp.zeros(1, dtype=cp.int64), cp.cumsum(per_walk, dtype=cp.int64)])
        rate = _shared.learning_rate(alpha, min_alpha, words_done, total_words)
        launch_sgns(kept_ids, offsets, 0, kept_ids.shape[0], input_vectors, output_vectors, data.noise_prob,
                    data.noise_alias, cfg["window"], cfg["negative"], rate, True, True, data.seed, index, loss)
        words_done += int(nodes.shape[0])
        if on_walks is not None:
            on_walks(_host(out), _host(lengths))
        yield len(part)
    return float(_host(loss)[0]), words_done, "cuda"


# ----------------------------------------------------------------------------------------------
# co-occurrence and GloVe

def _check_offsets(offsets, n_tokens):
    """Sentence offsets must run from 0 to n_tokens: the kernels index tokens through them."""
    if offsets.ndim != 1 or offsets.shape[0] < 1 or int(offsets[0]) != 0 or int(offsets[-1]) != n_tokens:
        raise ValueError(f"offsets must be 1-D and run from 0 to the number of tokens ({n_tokens})")


def _segment_sums(weights, starts):
    """sums[s] = weights[starts[s]:starts[s + 1]].sum() in float64, each run added in order."""
    cp = _cupy()
    sums = cp.empty(starts.shape[0] - 1, dtype=cp.float64)
    launch_segment_sums(cp.ascontiguousarray(weights, dtype=cp.float64), cp.ascontiguousarray(starts), sums)
    return sums


def _reduce_sorted(keys, weights):
    """(unique keys, summed weights) of records sorted by key."""
    cp = _cupy()
    n = keys.shape[0]
    if n == 0:
        return keys, weights
    boundary = cp.empty(n, dtype=cp.bool_)
    boundary[0] = True
    cp.not_equal(keys[1:], keys[:-1], out=boundary[1:])
    starts = cp.concatenate([cp.flatnonzero(boundary).astype(cp.int64), cp.array([n], dtype=cp.int64)])
    return keys[starts[:-1]], _segment_sums(weights, starts)


def _sort_reduce(keys, weights):
    cp = _cupy()
    order = cp.argsort(keys)
    return _reduce_sorted(keys[order], weights[order])


def cooccur_counts(ids, offsets, vocab_size, window, symmetric, distance_weighting, threads):
    """Co-occurrence counts on the GPU: (cupyx CSR float32, sorted indices, no explicit zeros;
    peak bytes of pair records). See the CPU's cooccur_counts.

    The tokens are taken in chunks; for each, a kernel writes one (row * V + col, weight) record
    per pair, CuPy sorts them, and a segmented sum adds up equal keys in float64; the chunks'
    sums are merged the same way. The result is cast to float32 at the end, so it matches the
    CPU count (float64 accumulators) up to the order of float64 additions. ValueError for more
    than 2**31 - 1 nonzeros (cupyx's CSR has int32 indices) or bad offsets."""
    cp, csp = _cupy(), _sparse()
    ids, offsets = asarray(ids, np.int32), asarray(offsets, np.int64)
    n_tokens = ids.shape[0]
    _check_offsets(offsets, n_tokens)
    if vocab_size * vocab_size >= 2 ** 64 - 1:
        raise ValueError(f"vocab_size={vocab_size} is too large for 64-bit pair keys")
    copies = 2 if symmetric else 1
    chunk_tokens = max(1, COOCCUR_CHUNK_RECORDS // (window * copies))
    parts_keys, parts_sums, pending, peak = [], [], 0, 0
    for begin in range(0, n_tokens, chunk_tokens):
        end = min(n_tokens, begin + chunk_tokens)
        n_slots = (end - begin) * window * copies
        keys = cp.empty(n_slots, dtype=cp.uint64)
        weights = cp.empty(n_slots, dtype=cp.float64)
        peak = max(peak, 16 * n_slots)
        launch_cooccur_pairs(ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size,
                             keys, weights)
        n_valid = n_slots - int(cp.count_nonzero(keys == EMPTY_KEY))
        order = cp.argsort(keys)  # the empty slots sort last
        keys, weights = keys[order[:n_valid]], weights[order[:n_valid]]
        del order
        keys, weights = _reduce_sorted(keys, weights)
        parts_keys.append(keys)
        parts_sums.append(weights)
        pending += keys.shape[0]
        if len(parts_keys) > 1 and pending > COOCCUR_CHUNK_RECORDS:
            merged = _sort_reduce(cp.concatenate(parts_keys), cp.concatenate(parts_sums))
            parts_keys, parts_sums, pending = [merged[0]], [merged[1]], merged[0].shape[0]
    if len(parts_keys) > 1:
        keys, sums = _sort_reduce(cp.concatenate(parts_keys), cp.concatenate(parts_sums))
    elif parts_keys:
        keys, sums = parts_keys[0], parts_sums[0]
    else:
        keys, sums = cp.empty(0, dtype=cp.uint64), cp.empty(0, dtype=cp.float64)
    nnz = keys.shape[0]
    if nnz >= 2 ** 31:
        raise ValueError(f"the count has {nnz} nonzeros; the GPU's CSR holds at most 2**31 - 1 (use device='cpu')")
    v = cp.uint64(vocab_size)
    rows = (keys // v).astype(cp.int64)
    cols = (keys % v).astype(cp.int32)
    indptr = cp.searchsorted(rows, cp.arange(vocab_size + 1, dtype=cp.int64)).astype(cp.int32)
    matrix = csp.csr_matrix((sums.astype(cp.float32), cols, indptr), shape=(vocab_size, vocab_size))
    return matrix, peak


def glove_records(csr: Any, x_max: float, alpha: float, seed: int, threads: int,
                  positive: int | None = None) -> Any:
    """GloVe's records on the device: the CPU's records (same values, same seeded order), copied."""
    from embedcore.backends import cpu
    counts = cpu.glove_records(cpu.csr_matrix(to_host(csr)), x_max, alpha, seed, threads, positive)
    return asarray(cpu.glove_record_array(counts, threads))


def glove_epoch(records: Any, params: dict[str, Any], learning_rate: float, bias_learning_rate: float, threads: int,
                sequential: bool = False, simd: str = "") -> tuple[float, str]:
    """One GloVe epoch on the GPU, in place on `params` (see the CPU's glove_epoch; one warp per
    record, Hogwild; `sequential`: one warp over the records in order); returns
    ``(cost, "cuda")``."""
    cp = _cupy()
    cost = cp.zeros(1, dtype=cp.float64)
    p = params
    launch_glove_epoch(records, p["word"], p["context"], p["word_bias"], p["context_bias"], p["word_gradsq"],
                       p["context_gradsq"], p["word_bias_gradsq"], p["context_bias_gradsq"], learning_rate,
                       bias_learning_rate, cost, sequential)
    return float(_host(cost)[0]), "cuda"


# ----------------------------------------------------------------------------------------------
# sparse matrices

def check_csr(indptr, indices, n_rows, n_cols, threads):
    """Raise ValueError unless (indptr, indices) on the device is the structure of an n_rows x
    n_cols CSR matrix (the checks of the CPU's check_csr)."""
    nnz = indices.shape[0]
    if indptr.ndim != 1 or indptr.shape[0] != n_rows + 1:
        raise ValueError(f"CSR indptr must have {n_rows + 1} entries, got shape {tuple(indptr.shape)}")
    if int(indptr[0]) != 0:
        raise ValueError(f"CSR indptr must start at 0, got {int(indptr[0])}")
    if int(indptr[-1]) != nnz:
        raise ValueError(f"CSR indptr must end at nnz = {nnz}, got {int(indptr[-1])}")
    if n_rows and bool((indptr[1:] < indptr[:-1]).any()):
        row = int(_host(indptr[1:] < indptr[:-1]).argmax())
        raise ValueError(f"CSR indptr decreases at row {row}")
    if nnz and (int(indices.min()) < 0 or int(indices.max()) >= n_cols):
        raise ValueError(f"CSR column indices must be in [0, {n_cols}), got values in "
                         f"[{int(indices.min())}, {int(indices.max())}]")


def ppmi(csr, cds, shift, threads):
    """Positive PMI of a canonical device CSR (see the CPU's ppmi), deterministic: float64 row and
    column sums by ordered segmented sums (no atomics)."""
    csp = _sparse()
    indptr, indices, data = _shared.ppmi(_cupy(), csr.indptr, csr.indices, csr.data, csr.shape[0], csr.shape[1],
                                         cds, shift, _segment_sums)
    return csp.csr_matrix((data, indices, indptr.astype(np.int32)), shape=csr.shape)


def csr_matmul(csr, dense, threads):
    """csr @ dense (cuSPARSE): float32 (n_rows, p)."""
    cp = _cupy()
    return cp.ascontiguousarray(csr @ asarray(dense, np.float32), dtype=cp.float32)


def csr_transpose(csr: Any, threads: int) -> Any:
    """The CSR of csr^T."""
    return csr.T.tocsr()


# ----------------------------------------------------------------------------------------------
# dense linear algebra

def matmul(a, b, threads):
    """a @ b (cuBLAS)."""
    return a @ b


def gram(y, threads):
    """y^T y as a symmetric float64 (p, p) numpy array (on the host), computed in y's precision."""
    g = _host(y.T @ y).astype(np.float64)
    return (g + g.T) * 0.5


def _householder(y):
    cp = _cupy()
    q, _ = cp.linalg.qr(y)
    return cp.ascontiguousarray(q, dtype=cp.float32)


def orthonormalize(y, threads, exact=False):
    """A basis of the column span of a tall float32 y: the CPU's algorithm (_shared.orthonormalize)
    with cuBLAS products and the p x p eigenproblems on the host."""
    cp = _cupy()
    return _shared.orthonormalize(
        y, exact, gram=lambda a: gram(a, threads),
        times=lambda a, w: cp.ascontiguousarray(a @ cp.asarray(w, dtype=cp.float32)),
        absmax=lambda a: float(cp.abs(a).max()) if a.size else 0.0, qr=_householder)


# ----------------------------------------------------------------------------------------------
# search

def topk(queries: Any, database: Any, k: int, exclude: Any, normalized: bool, threads: int,
         tiles: tuple[int, int] | None = None) -> tuple[Any, Any]:
    """Exact cosine top-k on the GPU with the CPU's results (see the CPU's topk): cuBLAS tiles
    and the topk_merge_tile kernel select k + TOPK_EXTRA candidates per query by float32
    score; they are rescored exactly (_shared.exact_topk). ValueError for NaN or infinity.
    `tiles`: (query rows, database rows) per GEMM tile."""
    cp = _cupy()
    queries, database = asarray(queries, np.float32), asarray(database, np.float32)
    for name, rows in (("queries", queries), ("database", database)):
        if not bool(cp.isfinite(rows).all()):
            raise ValueError(f"{name} contains NaN or infinity")
    if exclude is not None:
        exclude = asarray(exclude, np.int64)
    tile_queries, tile_database = tiles or TOPK_TILES
    return _shared.exact_topk(cp, queries, database, k, exclude, normalized, tile_queries, tile_database,
                              TOPK_MAX_K, launch_topk_merge_tile)


def inner_topk(queries, database, k, skip, threads, tiles=None):
    """Exact inner-product top-k on the GPU with the CPU's results (see the CPU's inner_topk):
    cuBLAS tiles whose excluded entries (the rows of `skip` falling in the tile) are set to -inf,
    merged by the topk_merge_tile kernel into k + TOPK_EXTRA candidates per query, rescored
    exactly (_shared.exact_inner_topk). Slots beyond a query's candidates: score -inf, index -1."""
    cp = _cupy()
    queries, database = asarray(queries, np.float32), asarray(database, np.float32)
    tile_queries, tile_database = tiles or TOPK_TILES
    if skip is not None:
        skip = (asarray(skip.indptr, np.int64), asarray(skip.indices, np.int64))
    return _shared.exact_inner_topk(cp, queries, database, k, skip, tile_queries, tile_database, TOPK_MAX_K,
                                    launch_topk_merge_tile)
