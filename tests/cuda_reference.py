"""The GPU kernels' random draws, replayed in Python (the random stream only, not the math).

The kernels name every random decision by a counter (embedcore/backends/cuda/kernels/common.cuh,
sgns.cu); these functions draw the same numbers, so a test can run a kernel in its sequential
mode and compare with a serial pass that takes the same decisions. The arithmetic of such a pass
comes from tests/reference.py, the CPU's float64 references: the ground truth of both devices.
"""
import numpy as np

from reference import cbow_step, sg_shared_step

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z):
    """SplitMix64's finaliser on a Python int (ec_mix64)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def ec_random(seed, stream, counter):
    """The kernels' random draw for (seed, stream, counter): a 64-bit int."""
    h = mix64((seed ^ GOLDEN) & MASK64)
    h = mix64(h ^ ((stream + GOLDEN) & MASK64))
    return mix64(h ^ ((counter + GOLDEN) & MASK64))


def _mix64_array(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def ec_random_array(seed, stream, counters):
    """ec_random for an array of counters (uint64 arithmetic wraps as the kernels' does)."""
    h = np.uint64(mix64(mix64((seed ^ GOLDEN) & MASK64) ^ ((stream + GOLDEN) & MASK64)))
    with np.errstate(over="ignore"):
        return _mix64_array(h ^ (np.asarray(counters, dtype=np.uint64) + np.uint64(GOLDEN)))


def sentence_of(offsets, p):
    """The sentence s with offsets[s] <= p < offsets[s + 1]."""
    return int(np.searchsorted(offsets, p, side="right")) - 1


def noise_word(draw, prob, alias):
    """The alias-table draw of sgns.cu's ec_noise_word."""
    cell = ((draw & 0xFFFFFFFF) * len(prob)) >> 32
    return cell if (draw >> 32) < int(prob[cell]) else int(alias[cell])


def keep_mask_reference(ids, keep_table, seed, epoch):
    """Which tokens survive subsampling in `epoch` (sgns.cu's w2v_keep_mask)."""
    draws = ec_random_array(seed, 4 * epoch, np.arange(len(ids))) >> np.uint64(32)
    return draws < np.asarray(keep_table, dtype=np.uint64)[np.asarray(ids)]


def window_of(offsets, p, window, seed, epoch):
    """[lo, hi): the reduced window of position p of the epoch's stream, inside its sentence."""
    s = sentence_of(offsets, p)
    b = 1 + ec_random(seed, 4 * epoch + 1, p) % window
    return max(int(offsets[s]), p - b), min(int(offsets[s + 1]), p + b + 1)


def negatives_of(centre, p, negative, prob, alias, seed, epoch):
    """The noise words of position p, a word equal to the centre left out (it is skipped)."""
    words = [noise_word(ec_random(seed, 4 * epoch + 2, p * 256 + j), prob, alias) for j in range(1, negative + 1)]
    return [w for w in words if w != centre]


def train_positions(ids, offsets, begin, end, inp, out, prob, alias, window, negative, alpha, sg, cbow_mean, seed,
                    epoch):
    """Train positions [begin, end) of an epoch's stream in order, with the kernels' draws and the
    CPU's step rules, in place on float64 arrays; returns the summed loss. A centre word without
    context words is skipped (as the CPU skips it)."""
    loss = 0.0
    for p in range(begin, end):
        lo, hi = window_of(offsets, p, window, seed, epoch)
        context = [int(ids[q]) for q in range(lo, hi) if q != p]
        if not context:
            continue
        centre = int(ids[p])
        negs = negatives_of(centre, p, negative, prob, alias, seed, epoch)
        if sg:
            loss += sg_shared_step(inp, out, centre, context, negs, alpha)
        else:
            loss += cbow_step(inp, out, centre, context, negs, alpha, cbow_mean)
    return loss


def gpu_epoch_reference(ids, offsets, inp, out, keep, prob, alias, window, negative, alpha, min_alpha, sg,
                        cbow_mean, seed, epoch, words_before, total_words, chunk_tokens):
    """A whole word2vec epoch as the GPU backend defines it, serially in float64: the tokens kept
    by the epoch's subsampling draws form the stream; the raw corpus is trained in chunks of
    `chunk_tokens` raw tokens, each at the learning rate after the raw tokens before it
    (linear from alpha to min_alpha over total_words, in float32 as the CPU computes it).
    Returns (input, output, loss)."""
    inp = np.asarray(inp, dtype=np.float64).copy()
    out = np.asarray(out, dtype=np.float64).copy()
    kept = keep_mask_reference(ids, keep, seed, epoch)
    before = np.concatenate([[0], np.cumsum(kept)])
    stream, stream_offsets = np.asarray(ids)[kept], before[np.asarray(offsets)]
    loss = 0.0
    for a in range(0, len(ids), chunk_tokens):
        b = min(len(ids), a + chunk_tokens)
        frac = min(1.0, (words_before + a) / total_words)
        rate = float(np.float32(max(alpha - (alpha - min_alpha) * frac, min_alpha)))
        loss += train_positions(stream, stream_offsets, int(before[a]), int(before[b]), inp, out, prob, alias,
                                window, negative, rate, sg, cbow_mean, seed, epoch)
    return inp, out, loss
