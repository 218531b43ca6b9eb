"""Typed launch wrappers of the CUDA kernels: one ``launch_*`` per kernel, which checks shapes,
dtypes and contiguity of its CuPy arguments, casts scalars to the kernel's C types and computes
the grid. Nothing here allocates results or implements an algorithm (see ops.py).
"""
import functools

import numpy as np

from embedcore.backends.cuda.loader import compiled_kernel
from embedcore.backends.cuda.probe import cupy as _cupy

# Must match the #defines of the kernels.
TOPK_THREADS = 256
TOPK_MAX_K = 1024
EMPTY_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)
MAX_NEGATIVE = 255  # noise draws are counted p * 256 + j


# ----------------------------------------------------------------------------------------------
# argument checks for the launch wrappers

def _describe(array):
    kind = type(array).__module__.split(".")[0]
    return f"{kind} {array.dtype} with shape {tuple(array.shape)}"


def _check(array, name, dtype, shape=None, ndim=None):
    """A CuPy array of `dtype`, C-contiguous, of the given shape (None entries match anything)."""
    cp = _cupy()
    if not isinstance(array, cp.ndarray):
        raise TypeError(f"{name} must be a CuPy array, got {type(array).__name__}")
    if array.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must be {np.dtype(dtype).name}, got {_describe(array)}")
    if ndim is None and shape is not None:
        ndim = len(shape)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {_describe(array)}")
    if shape is not None:
        for got, want in zip(array.shape, shape):
            if want is not None and got != want:
                raise ValueError(f"{name} must have shape {tuple('*' if s is None else s for s in shape)}, "
                                 f"got {_describe(array)}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous, got a strided {_describe(array)}")
    return array


@functools.lru_cache(maxsize=None)
def _max_blocks(device_id):
    cp = _cupy()
    sms = cp.cuda.Device(device_id).attributes["MultiProcessorCount"]
    return 32 * sms


def _grid(n_items, items_per_block):
    """Blocks for a grid-stride loop over n_items: enough to fill the GPU, at least one."""
    cp = _cupy()
    blocks = -(-int(n_items) // int(items_per_block))
    return max(1, min(blocks, _max_blocks(cp.cuda.Device().id)))


# Hogwild kernels (word2vec, GloVe) run at most one warp per this many words of the vocabulary:
# warps in flight update rows concurrently, and with many warps for few words every row would be
# updated at once from the same stale values (one full-batch step). A real vocabulary still fills
# the GPU; a test's few dozen words run a few warps.
WORDS_PER_WARP = 16


def _hogwild_grid(n_items, vocab_size, warps_per_block):
    """(blocks, warps per block) for a warp-per-item Hogwild launch over n_items items."""
    cap = max(1, int(vocab_size) // WORDS_PER_WARP)
    warps = max(1, min(int(n_items), cap))
    per_block = max(1, min(int(warps_per_block), warps))
    return _grid(warps, per_block), per_block


def _check_ids(ids, vocab_size, name="ids"):
    """Every id in [0, vocab_size): kernels index tables with them (one reduction, one sync)."""
    if ids.size == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= vocab_size:
        raise ValueError(f"{name} must lie in [0, {vocab_size}), got values in [{low}, {high}]")


# ----------------------------------------------------------------------------------------------
# cosine top-k

def launch_topk_merge_tile(scores, row_offset, col_offset, exclude, k, best_scores, best_indices):
    """Merge a (rows x cols) tile of scores into the running top-k of its query rows.

    scores: float32 (rows, cols), rows are queries row_offset.., columns database rows
    col_offset..; exclude: int64 (n_queries,) or None; best_scores float32 / best_indices int64
    (n_queries, k), sorted per row, updated in place (index -1 marks an empty slot, listed last);
    1 <= k <= TOPK_MAX_K.
    """
    cp = _cupy()
    _check(scores, "scores", np.float32, ndim=2)
    _check(best_scores, "best_scores", np.float32, ndim=2)
    n_queries = best_scores.shape[0]
    _check(best_indices, "best_indices", np.int64, shape=(n_queries, k))
    if best_scores.shape[1] != k:
        raise ValueError(f"best_scores must have k={k} columns, got {_describe(best_scores)}")
    if not 1 <= k <= TOPK_MAX_K:
        raise ValueError(f"k must be in [1, {TOPK_MAX_K}] on the GPU, got {k}")
    rows, cols = scores.shape
    if row_offset < 0 or row_offset + rows > n_queries:
        raise ValueError(f"tile rows [{row_offset}, {row_offset + rows}) outside the {n_queries} queries")
    if exclude is None:
        exclude_arg, has_exclude = cp.empty(1, dtype=cp.int64), 0
    else:
        exclude_arg, has_exclude = _check(exclude, "exclude", np.int64, shape=(n_queries,)), 1
    if rows == 0 or cols == 0:
        return
    kernel = compiled_kernel("topk.cu", "topk_merge_tile")
    kernel((min(rows, 65535),), (TOPK_THREADS,),
           (scores, np.int32(rows), np.int32(cols), np.int64(row_offset), np.int64(col_offset),
            exclude_arg, np.int32(has_exclude), np.int32(k), best_scores, best_indices),
           shared_mem=topk_shared_bytes(k))


def topk_shared_bytes(k):
    """Dynamic shared memory of topk_merge_tile: 2 kp candidates (float32 score, int64 index),
    kp the power of two >= k (see topk.cu)."""
    kp = 1 << (int(k) - 1).bit_length()
    return 12 * 2 * kp


# ----------------------------------------------------------------------------------------------
# co-occurrence counting

def launch_cooccur_pairs(ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size,
                         keys, weights):
    """Write the (key, weight) records of the pairs whose earlier token is in [begin, end)."""
    n_tokens = ids.shape[0]
    _check(ids, "ids", np.int32, ndim=1)
    _check(offsets, "offsets", np.int64, ndim=1)
    copies = 2 if symmetric else 1
    n_slots = (end - begin) * window * copies
    _check(keys, "keys", np.uint64, shape=(n_slots,))
    _check(weights, "weights", np.float64, shape=(n_slots,))
    if not 0 <= begin <= end <= n_tokens:
        raise ValueError(f"token range [{begin}, {end}) outside the {n_tokens} tokens")
    if end == begin:
        return
    _check_ids(ids[begin:min(n_tokens, end + window)], vocab_size)
    kernel = compiled_kernel("cooccur.cu", "cooccur_pairs")
    kernel((_grid(end - begin, 256),), (256,),
           (ids, offsets, np.int64(offsets.shape[0] - 1), np.int64(begin), np.int64(end), np.int32(window),
            np.int32(bool(symmetric)), np.int32(bool(distance_weighting)), np.int64(vocab_size), keys, weights))


def launch_segment_sums(weights, starts, sums):
    """sums[s] = weights[starts[s]:starts[s + 1]].sum(); a short run summed in order by one
    thread, a long one by a warp in a fixed order, so the sums are deterministic."""
    _check(weights, "weights", np.float64, ndim=1)
    _check(starts, "starts", np.int64, ndim=1)
    n_segments = starts.shape[0] - 1
    _check(sums, "sums", np.float64, shape=(n_segments,))
    if n_segments <= 0:
        return
    kernel = compiled_kernel("cooccur.cu", "segment_sums")
    groups = -(-n_segments // 32)  # one warp per 32 runs
    kernel((_grid(groups, 256 // 32),), (256,), (weights, starts, np.int64(n_segments), sums))


# ----------------------------------------------------------------------------------------------
# GloVe

def launch_glove_epoch(records, word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                       word_bias_gradsq, context_bias_gradsq, eta, bias_eta, cost, sequential=False):
    """One AdaGrad pass over `records` (int32 (nnz, 4)), updating the eight arrays in place.

    Vectors and accumulators: float32 (n_words, stride); biases and their accumulators: float32
    (n_words,); cost: float64 (1,), added to. Rows and columns of the records must lie in
    [0, n_words) (checked). At most one warp per WORDS_PER_WARP words runs at once. `sequential`
    runs one warp, which processes the records strictly in order (for checks against the serial
    CPU epoch).
    """
    _check(records, "records", np.int32, shape=(None, 4))
    _check(word, "word_vectors", np.float32, ndim=2)
    n_words, stride = word.shape
    for name, array in (("context_vectors", context), ("word_gradsq", word_gradsq),
                        ("context_gradsq", context_gradsq)):
        _check(array, name, np.float32, shape=(n_words, stride))
    for name, array in (("word_biases", word_bias), ("context_biases", context_bias),
                        ("word_bias_gradsq", word_bias_gradsq), ("context_bias_gradsq", context_bias_gradsq)):
        _check(array, name, np.float32, shape=(n_words,))
    _check(cost, "cost", np.float64, shape=(1,))
    nnz = records.shape[0]
    if nnz == 0:
        return
    _check_ids(records[:, :2], n_words, "records' rows and columns")
    kernel = compiled_kernel("glove.cu", "glove_epoch")
    blocks, warps = (1, 1) if sequential else _hogwild_grid(nnz, n_words, 8)
    kernel((blocks,), (32 * warps,),
           (records, np.int64(nnz), word, context, word_bias, context_bias, word_gradsq, context_gradsq,
            word_bias_gradsq, context_bias_gradsq, np.int32(stride), np.float32(eta), np.float32(bias_eta),
            cost))


# ----------------------------------------------------------------------------------------------
# word2vec

def launch_w2v_keep_mask(ids, keep_table, seed, epoch, mask):
    """mask[p] = 1 when token p survives subsampling in `epoch` (uint8 (n_tokens,))."""
    _check(ids, "ids", np.int32, ndim=1)
    _check(keep_table, "keep_table", np.uint64, ndim=1)
    _check(mask, "mask", np.uint8, shape=(ids.shape[0],))
    n = ids.shape[0]
    if n == 0:
        return
    _check_ids(ids, keep_table.shape[0])
    kernel = compiled_kernel("sgns.cu", "w2v_keep_mask")
    kernel((_grid(n, 256),), (256,), (ids, np.int64(n), keep_table, np.uint64(seed), np.uint64(epoch), mask))


def sgns_shared_bytes(sg, dim, negative, warps_per_block, window):
    """Dynamic shared memory of a word2vec block (see sgns.cu): per warp, skip-gram keeps the
    1 + negative output rows and their deltas, one context row and the gradients of up to
    2 * window contexts; CBOW the hidden layer, its gradient and 1 + negative gradients."""
    n_targets = 1 + negative
    floats = (2 * n_targets * dim + dim + 2 * window * n_targets) if sg else (2 * dim + n_targets)
    return warps_per_block * (4 * floats + 4 * n_targets)


_SHARED_LIMIT = 48 * 1024  # bytes of shared memory every CUDA card gives a block without opt-in


def _fitting_warps(shared_bytes, dim, negative, window):
    """The most warps per block (8, 4, 2 or 1) whose scratch, shared_bytes(warps), fits a block's
    shared memory; ValueError naming the settings when one warp's does not."""
    for warps in (8, 4, 2, 1):
        if shared_bytes(warps) <= _SHARED_LIMIT:
            return warps
    raise ValueError(f"vector_size={dim} with negative={negative} and window={window} needs "
                     f"{shared_bytes(1)} bytes of shared memory per warp on the GPU, more than {_SHARED_LIMIT}; "
                     f"lower one of them or use device='cpu'")


def _training_launch(ids, begin, end, vocab_size, dim, window, negative, sequential, shared_bytes):
    """The checks and the launch shape of a training kernel that runs one warp per centre
    position of [begin, end): None when the range is empty, else (blocks, threads per block,
    shared bytes). shared_bytes(warps) is the kernel's scratch for a block of that many warps.
    The ids the launch reads (the positions and their windows) must lie in [0, vocab_size)."""
    n_tokens = ids.shape[0]
    if not 0 <= begin <= end <= n_tokens:
        raise ValueError(f"token range [{begin}, {end}) outside the {n_tokens} tokens")
    if not 0 <= negative <= MAX_NEGATIVE:
        raise ValueError(f"negative must be in [0, {MAX_NEGATIVE}] on the GPU, got {negative}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if end == begin:
        return None
    _check_ids(ids[max(0, begin - window):min(n_tokens, end + window)], vocab_size)
    if sequential:
        return 1, 32, shared_bytes(1)
    blocks, warps = _hogwild_grid(end - begin, vocab_size, _fitting_warps(shared_bytes, dim, negative, window))
    return blocks, 32 * warps, shared_bytes(warps)


def sgns_warps_per_block(sg, dim, negative, window, sequential=False):
    """Warps per block of the word2vec kernels (ValueError when one warp's scratch does not fit)."""
    if sequential:
        return 1
    return _fitting_warps(lambda warps: sgns_shared_bytes(sg, dim, negative, warps, window), dim, negative, window)


def launch_sgns(ids, offsets, begin, end, input_vectors, output_vectors, noise_prob, noise_alias, window,
                negative, alpha, sg, cbow_mean, seed, epoch, loss, sequential=False):
    """Train centre positions [begin, end) of the token stream (skip-gram or CBOW), in place.

    The ids the launch reads (the positions and their windows) must lie in [0, vocab_size)
    (checked). At most one warp per WORDS_PER_WARP words runs at once; `sequential` runs one
    warp, centre words strictly in order. loss (float64 (1,)) gets the summed pair losses added.
    """
    _check(ids, "ids", np.int32, ndim=1)
    _check(offsets, "offsets", np.int64, ndim=1)
    _check(input_vectors, "input_vectors", np.float32, ndim=2)
    vocab_size, dim = input_vectors.shape
    _check(output_vectors, "output_vectors", np.float32, shape=(vocab_size, dim))
    _check(noise_prob, "noise_prob", np.uint32, shape=(vocab_size,))
    _check(noise_alias, "noise_alias", np.int32, shape=(vocab_size,))
    _check(loss, "loss", np.float64, shape=(1,))
    shape = _training_launch(ids, begin, end, vocab_size, dim, window, negative, sequential,
                             lambda warps: sgns_shared_bytes(sg, dim, negative, warps, window))
    if shape is None:
        return
    blocks, threads, shared = shape
    common = (ids, offsets, np.int64(offsets.shape[0] - 1), np.int64(begin), np.int64(end), input_vectors,
              output_vectors, np.int32(dim), noise_prob, noise_alias, np.int32(vocab_size), np.int32(window),
              np.int32(negative), np.float32(alpha))
    if sg:
        kernel = compiled_kernel("sgns.cu", "sgns_skipgram")
        args = common + (np.uint64(seed), np.uint64(epoch), loss)
    else:
        kernel = compiled_kernel("sgns.cu", "sgns_cbow")
        args = common + (np.int32(bool(cbow_mean)), np.uint64(seed), np.uint64(epoch), loss)
    kernel((blocks,), (threads,), args, shared_mem=shared)



# ----------------------------------------------------------------------------------------------
# fastText

def fasttext_shared_bytes(dim, negative, warps_per_block, window):
    """Dynamic shared memory of a fastText block (see fasttext.cu): per warp the hidden layer and
    its gradient (2 * dim floats) and up to 2 * window + negative + 1 target gradients and ids."""
    targets = 2 * window + negative + 1
    return warps_per_block * (4 * (2 * dim + targets) + 4 * targets)


def fasttext_warps_per_block(dim, negative, window, sequential=False):
    """Warps per block of the fastText kernel (ValueError when one warp's scratch does not fit)."""
    if sequential:
        return 1
    return _fitting_warps(lambda warps: fasttext_shared_bytes(dim, negative, warps, window), dim, negative, window)


def launch_fasttext(ids, offsets, begin, end, input_vectors, output_vectors, sub_indptr, sub_rows, noise_prob,
                    noise_alias, window, negative, alpha, sg, seed, epoch, loss, sequential=False):
    """Train centre positions [begin, end) of the token stream with fastText's subword step, in
    place on the input (words + buckets, dim) and output (words, dim) tables.

    sub_indptr (int64, words + 1) / sub_rows (int32) list every word's input rows; the caller
    checks them once (rows < input rows). The ids the launch reads must lie in [0, words)
    (checked). `sequential` runs one warp, centre words in order. loss (float64 (1,)) gets the
    summed weighted pair losses added.
    """
    _check(ids, "ids", np.int32, ndim=1)
    _check(offsets, "offsets", np.int64, ndim=1)
    _check(input_vectors, "input_vectors", np.float32, ndim=2)
    _check(output_vectors, "output_vectors", np.float32, ndim=2)
    vocab_size, dim = output_vectors.shape
    if input_vectors.shape[1] != dim or input_vectors.shape[0] < vocab_size:
        raise ValueError(f"input_vectors must be (>= {vocab_size}, {dim}), got {_describe(input_vectors)}")
    _check(sub_indptr, "sub_indptr", np.int64, shape=(vocab_size + 1,))
    _check(sub_rows, "sub_rows", np.int32, ndim=1)
    _check(noise_prob, "noise_prob", np.uint32, shape=(vocab_size,))
    _check(noise_alias, "noise_alias", np.int32, shape=(vocab_size,))
    _check(loss, "loss", np.float64, shape=(1,))
    shape = _training_launch(ids, begin, end, vocab_size, dim, window, negative, sequential,
                             lambda warps: fasttext_shared_bytes(dim, negative, warps, window))
    if shape is None:
        return
    blocks, threads, shared = shape
    kernel = compiled_kernel("fasttext.cu", "fasttext_train")
    kernel((blocks,), (threads,),
           (ids, offsets, np.int64(offsets.shape[0] - 1), np.int64(begin), np.int64(end), input_vectors,
            output_vectors, np.int32(dim), sub_indptr, sub_rows, noise_prob, noise_alias, np.int32(vocab_size),
            np.int32(window), np.int32(negative), np.float32(alpha), np.int32(bool(sg)), np.uint64(seed),
            np.uint64(epoch), loss), shared_mem=shared)

# random walks

WALK_THREADS = 128


def launch_node2vec_walks(indptr, indices, weights, alias_prob, alias_index, starts, walk_length, p, q, max_trials,
                          seed, first_index, out, lengths):
    """Walk i from starts[i] into out[i] (int32 (n_walks, walk_length)) and its length into
    lengths[i] (int32 (n_walks,)): the CPU kernel's walks, bit for bit (see walks.cu). The graph is
    a CSR (int64 indptr, int32 sorted indices) with float32 weights and their per-row alias
    tables (uint32, int32), all three None when unweighted. Start nodes are checked."""
    _check(indptr, "indptr", np.int64, ndim=1)
    n_nodes = indptr.shape[0] - 1
    _check(indices, "indices", np.int32, ndim=1)
    n_edges = indices.shape[0]
    has_weights = weights is not None
    if has_weights:
        _check(weights, "weights", np.float32, shape=(n_edges,))
        _check(alias_prob, "alias_prob", np.uint32, shape=(n_edges,))
        _check(alias_index, "alias_index", np.int32, shape=(n_edges,))
    _check(starts, "starts", np.int32, ndim=1)
    n_walks = starts.shape[0]
    _check(out, "out", np.int32, shape=(n_walks, walk_length))
    _check(lengths, "lengths", np.int32, shape=(n_walks,))
    if walk_length < 1:
        raise ValueError(f"walk_length must be >= 1, got {walk_length}")
    if not (p > 0 and q > 0):
        raise ValueError(f"p and q must be > 0, got p={p}, q={q}")
    if n_walks == 0:
        return
    _check_ids(starts, n_nodes, "start nodes")
    cp = _cupy()
    placeholder = cp.empty(1, dtype=cp.float32)
    kernel = compiled_kernel("walks.cu", "node2vec_walks")
    kernel((_grid(n_walks, WALK_THREADS),), (WALK_THREADS,),
           (indptr, indices, weights if has_weights else placeholder,
            alias_prob if has_weights else cp.empty(1, dtype=cp.uint32),
            alias_index if has_weights else cp.empty(1, dtype=cp.int32), np.int32(has_weights), starts,
            np.int64(n_walks), np.int32(walk_length), np.float64(1.0 / p), np.float64(1.0 / q),
            np.int32(max_trials), np.uint64(seed), np.uint64(first_index), out, lengths))
