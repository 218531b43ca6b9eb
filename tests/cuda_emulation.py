"""The CUDA backend's operations run on the CPU: numpy in place of CuPy, serial Python in place of
the kernels.

`install(monkeypatch)` makes ``device="cuda"`` usable without a GPU: backends/cuda/ops.py then
runs its own code (chunking, subsampling streams, learning-rate steps, candidate selection and
exact rescoring, segmented sums, conversions) on numpy arrays, with each ``launch_*`` replaced
by a serial emulation that follows the kernel's contract: the same random draws
(tests/cuda_reference.py) and the CPU's arithmetic (tests/reference.py). The twin tests thus
check the GPU operations' bookkeeping on every machine; the kernels themselves are checked on a
GPU by the same tests' "cuda" runs.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from cuda_reference import ec_random_array, sentence_of, train_positions
from reference import glove_epoch_reference

EMPTY_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)


def skip_emulated(device, why="too slow with emulated kernels"):
    """Skip a twin test on the emulated device."""
    if getattr(device, "emulated", False):
        pytest.skip(why)


def topk_merge_tile(scores, row_offset, col_offset, exclude, k, best_scores, best_indices):
    """topk.cu: merge a tile into each query's running best k (score descending, ties by lower
    index, -1 for an empty slot), leaving out the excluded row."""
    rows, cols = scores.shape
    held_s, held_i = best_scores[row_offset:row_offset + rows], best_indices[row_offset:row_offset + rows]
    cand_s = np.concatenate([held_s, scores], axis=1).astype(np.float64)
    cand_i = np.concatenate([held_i, np.broadcast_to(np.arange(col_offset, col_offset + cols), (rows, cols))], axis=1)
    empty = cand_i < 0
    if exclude is not None:
        skip = exclude[row_offset:row_offset + rows]
        empty |= (cand_i == skip[:, None]) & (skip[:, None] >= 0)
    order = np.lexsort((cand_i, -cand_s, empty), axis=-1)[:, :k]
    chosen_s = np.take_along_axis(cand_s, order, axis=1)
    chosen_i = np.take_along_axis(cand_i, order, axis=1)
    chosen_empty = np.take_along_axis(empty, order, axis=1)
    held_s[...] = np.where(chosen_empty, 0.0, chosen_s)
    held_i[...] = np.where(chosen_empty, -1, chosen_i)


def segment_sums(weights, starts, sums):
    """cooccur.cu: each run of weights summed in order, in float64."""
    for s in range(len(sums)):
        run = weights[starts[s]:starts[s + 1]]
        sums[s] = np.cumsum(run)[-1] if len(run) else 0.0


def cooccur_pairs(ids, offsets, begin, end, window, symmetric, distance_weighting, vocab_size, keys, weights):
    """cooccur.cu: (key, weight) records of the pairs whose earlier token is in [begin, end)."""
    copies = 2 if symmetric else 1
    keys[:] = EMPTY_KEY
    weights[:] = 0.0
    for p in range(begin, end):
        sentence_end = offsets[sentence_of(offsets, p) + 1]
        for d in range(1, window + 1):
            slot = ((p - begin) * window + d - 1) * copies
            if p + d < sentence_end:
                a, b = int(ids[p]), int(ids[p + d])
                w = 1.0 / d if distance_weighting else 1.0
                keys[slot], weights[slot] = a * vocab_size + b, w
                if symmetric:
                    keys[slot + 1], weights[slot + 1] = b * vocab_size + a, w


def glove_epoch(records, word, context, word_bias, context_bias, word_gradsq, context_gradsq, word_bias_gradsq,
                context_bias_gradsq, eta, bias_eta, cost, sequential=False):
    """glove.cu, the records in order (its sequential mode), by the float64 reference."""
    names = ("word", "context", "word_bias", "context_bias", "word_gradsq", "context_gradsq", "word_bias_gradsq",
             "context_bias_gradsq")
    arrays = (word, context, word_bias, context_bias, word_gradsq, context_gradsq, word_bias_gradsq,
              context_bias_gradsq)
    params, epoch_cost = glove_epoch_reference(records, dict(zip(names, arrays)), eta, bias_eta)
    for name, array in zip(names, arrays):
        array[...] = params[name]
    cost[0] += epoch_cost


def w2v_keep_mask(ids, keep_table, seed, epoch, mask):
    """sgns.cu: token p survives when the high 32 bits of its draw are below its threshold."""
    draws = ec_random_array(seed, 4 * epoch, np.arange(len(ids))) >> np.uint64(32)
    mask[:] = draws < keep_table[ids]


def sgns(ids, offsets, begin, end, input_vectors, output_vectors, noise_prob, noise_alias, window, negative, alpha,
         sg, cbow_mean, seed, epoch, loss, sequential=False):
    """sgns.cu, the positions in order (its sequential mode), by the CPU's step rules in float64."""
    inp, out = input_vectors.astype(np.float64), output_vectors.astype(np.float64)
    loss[0] += train_positions(ids, offsets, begin, end, inp, out, noise_prob, noise_alias, window, negative, alpha,
                               sg, cbow_mean, seed, epoch)
    input_vectors[...] = inp
    output_vectors[...] = out


def install(monkeypatch):
    """Make device="cuda" run backends/cuda/ops.py on numpy with the emulated kernels."""
    from embedcore.backends.cuda import ops, probe
    monkeypatch.setattr(probe, "_probe", lambda: (True, ""))
    monkeypatch.setattr(ops, "_cupy", lambda: np)
    monkeypatch.setattr(ops, "_sparse", lambda: sp)
    for name, emulation in (("launch_topk_merge_tile", topk_merge_tile), ("launch_segment_sums", segment_sums),
                            ("launch_cooccur_pairs", cooccur_pairs), ("launch_glove_epoch", glove_epoch),
                            ("launch_w2v_keep_mask", w2v_keep_mask), ("launch_sgns", sgns)):
        monkeypatch.setattr(ops, name, emulation)
