"""Plain numpy references of the CUDA kernels (float64, serial, obviously correct).

They replay the kernels' counter-based random draws (embedcore/backends/cuda/kernels/common.cuh), so a
kernel run in its sequential mode can be compared value by value.
"""
import numpy as np

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


def sentence_of(offsets, p):
    """The sentence s with offsets[s] <= p < offsets[s + 1]."""
    return int(np.searchsorted(offsets, p, side="right")) - 1


def noise_word(draw, prob, alias):
    """The alias-table draw of sgns.cu's ec_noise_word."""
    cell = ((draw & 0xFFFFFFFF) * len(prob)) >> 32
    return cell if (draw >> 32) < int(prob[cell]) else int(alias[cell])


def topk_reference(queries, database, k, exclude=None):
    """(scores, indices) of the exact cosine top-k in float64, ties by lower index."""
    q = np.asarray(queries, dtype=np.float64)
    d = np.asarray(database, dtype=np.float64)
    qn = np.linalg.norm(q, axis=1, keepdims=True)
    dn = np.linalg.norm(d, axis=1, keepdims=True)
    scores = (q / np.where(qn > 0, qn, 1)) @ (d / np.where(dn > 0, dn, 1)).T
    out_s = np.empty((len(q), k))
    out_i = np.empty((len(q), k), dtype=np.int64)
    for r in range(len(q)):
        row = scores[r].copy()
        candidates = np.arange(len(d))
        if exclude is not None and exclude[r] >= 0:
            candidates = candidates[candidates != exclude[r]]
        order = np.lexsort((candidates, -row[candidates]))[:k]
        out_i[r] = candidates[order]
        out_s[r] = row[out_i[r]]
    return out_s, out_i


def cooccurrence_reference(ids, offsets, vocab_size, window, symmetric=True, distance_weighting=True):
    """Dense float64 co-occurrence counts: X[a, b] += w for a at p, b at p + d in one sentence."""
    x = np.zeros((vocab_size, vocab_size))
    for s in range(len(offsets) - 1):
        for p in range(offsets[s], offsets[s + 1]):
            for d in range(1, window + 1):
                if p + d >= offsets[s + 1]:
                    break
                w = 1.0 / d if distance_weighting else 1.0
                a, b = ids[p], ids[p + d]
                x[a, b] += w
                if symmetric:
                    x[b, a] += w
    return x


def _gradient(f, label, alpha):
    if f > 6.0:
        return (label - 1.0) * alpha
    if f < -6.0:
        return label * alpha
    return (label - 1.0 / (1.0 + np.exp(-f))) * alpha


def _softplus(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


def keep_mask_reference(ids, keep_table, seed, epoch):
    """Which tokens survive subsampling in `epoch` (sgns.cu's w2v_keep_mask)."""
    return np.array([(ec_random(seed, 4 * epoch, p) >> 32) < int(keep_table[w]) for p, w in enumerate(ids)])


def word2vec_reference(ids, offsets, input_vectors, output_vectors, prob, alias, window, negative, alpha, sg,
                       cbow_mean, seed, epoch):
    """A serial word2vec pass over every position in float64, with the kernels' random draws and
    shared negatives (sgns.cu). Returns (input, output, loss)."""
    inp = np.asarray(input_vectors, dtype=np.float64).copy()
    out = np.asarray(output_vectors, dtype=np.float64).copy()
    loss = 0.0
    for p in range(len(ids)):
        s = sentence_of(offsets, p)
        b = 1 + ec_random(seed, 4 * epoch + 1, p) % window
        lo, hi = max(offsets[s], p - b), min(offsets[s + 1], p + b + 1)
        centre = int(ids[p])
        targets = [centre]
        for j in range(1, negative + 1):
            w = noise_word(ec_random(seed, 4 * epoch + 2, p * 256 + j), prob, alias)
            targets.append(-1 if w == centre else w)
        labels = [1.0] + [0.0] * negative
        context = [q for q in range(lo, hi) if q != p]
        if sg:
            rows = np.array([out[t] if t >= 0 else np.zeros(out.shape[1]) for t in targets])
            grads = np.zeros_like(rows)
            for q in context:
                w = ids[q]
                e = np.zeros(inp.shape[1])
                for j, t in enumerate(targets):
                    if t < 0:
                        continue
                    f = inp[w] @ rows[j]
                    loss += _softplus(-f if labels[j] else f)
                    g = _gradient(f, labels[j], alpha)
                    e += g * rows[j]
                    grads[j] += g * inp[w]
                inp[w] += e
            for j, t in enumerate(targets):
                if t >= 0:
                    out[t] += grads[j]
        else:
            if not context:
                continue
            scale = 1.0 / len(context) if cbow_mean else 1.0
            h = sum(inp[ids[q]] for q in context) * scale
            e = np.zeros(inp.shape[1])
            for j, t in enumerate(targets):
                if t < 0:
                    continue
                f = h @ out[t]
                loss += _softplus(-f if labels[j] else f)
                g = _gradient(f, labels[j], alpha)
                e += g * out[t]
                out[t] += g * h
            for q in context:
                inp[ids[q]] += e * scale
    return inp, out, loss


def ppmi_reference(counts, cds=0.75, shift=1.0):
    """Dense float64 shifted PPMI with context-distribution smoothing."""
    c = np.asarray(counts, dtype=np.float64)
    rows = c.sum(axis=1, keepdims=True)
    smoothed = c.sum(axis=0) ** cds
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(c * smoothed.sum() / (rows * smoothed[None, :])) - np.log(shift)
    pmi[~np.isfinite(pmi)] = 0.0
    return np.maximum(pmi, 0.0)
