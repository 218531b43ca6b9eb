"""Plain-Python references the kernels are tested against (slow, obviously correct)."""
import collections

import numpy as np


def reference_vocabulary(sentences, min_count=1, max_size=None):
    """(words, counts) sorted by descending count, ties by first appearance."""
    counts = collections.Counter()
    first = {}
    for sentence in sentences:
        for token in sentence:
            counts[token] += 1
            first.setdefault(token, len(first))
    words = [w for w in counts if counts[w] >= min_count]
    words.sort(key=lambda w: (-counts[w], first[w]))
    if max_size is not None:
        words = words[:max_size]
    return words, [counts[w] for w in words]


def reference_encode(sentences, words):
    """(ids, offsets): out-of-vocabulary tokens dropped, empty sentences dropped."""
    index = {w: i for i, w in enumerate(words)}
    ids, offsets = [], [0]
    for sentence in sentences:
        kept = [index[t] for t in sentence if t in index]
        if kept:
            ids.extend(kept)
            offsets.append(len(ids))
    return ids, offsets


def analogy_accuracy(words, vectors, analogies):
    """3CosAdd accuracy over all words (the three inputs excluded) for (section, a, b, c, d)
    questions, in plain numpy."""
    index = {w: i for i, w in enumerate(words)}
    q = np.array([[index[w] for w in question[1:]] for question in analogies])
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = (v[q[:, 1]] - v[q[:, 0]] + v[q[:, 2]]) @ v.T
    for j in range(3):
        scores[np.arange(len(q)), q[:, j]] = -np.inf
    return float((scores.argmax(axis=1) == q[:, 3]).mean())


def glove_epoch_reference(records, params, eta, bias_eta):
    """Stanford glove.c's epoch in float64, serial, on copies of `params`; returns (params, cost).

    `records`: int32 (nnz, 4) of (row, col, log x, f(x)), the two floats as their bit patterns.
    Vector gradients are clipped to +-100 and scaled by eta; the bias step is scaled by bias_eta.
    """
    p = {name: np.asarray(value, dtype=np.float64).copy() for name, value in params.items()}
    cost = 0.0
    for row, col, log_x_bits, weight_bits in np.asarray(records):
        log_x = float(np.int32(log_x_bits).view(np.float32))
        weight = float(np.int32(weight_bits).view(np.float32))
        w, c = p["word"][row], p["context"][col]
        diff = w @ c + p["word_bias"][row] + p["context_bias"][col] - log_x
        fdiff = weight * diff
        cost += 0.5 * fdiff * diff
        t1 = eta * np.clip(fdiff * c, -100, 100)
        t2 = eta * np.clip(fdiff * w, -100, 100)
        p["word"][row] = w - t1 / np.sqrt(p["word_gradsq"][row])
        p["context"][col] = c - t2 / np.sqrt(p["context_gradsq"][col])
        p["word_gradsq"][row] += t1 * t1
        p["context_gradsq"][col] += t2 * t2
        h = bias_eta * fdiff
        p["word_bias"][row] -= h / np.sqrt(p["word_bias_gradsq"][row])
        p["context_bias"][col] -= h / np.sqrt(p["context_bias_gradsq"][col])
        p["word_bias_gradsq"][row] += h * h
        p["context_bias_gradsq"][col] += h * h
    return p, cost


# ---------------------------------------------------------------------------------------------
# word2vec: one SGD step in float64 by the CPU kernel's rules (csrc/embedcore/sgns.hpp), the
# ground truth of both devices: word2vec.c's tabulated sigmoid, every delta of a step from the
# values before the step, a noise word equal to the centre word skipped.

SIGMOID_CELLS = 1000
MAX_EXP = 6.0


def _cell(f):
    return int((np.float32(f) + np.float32(MAX_EXP)) * np.float32(SIGMOID_CELLS / MAX_EXP / 2.0))


def _cell_x(cell):
    return (cell / SIGMOID_CELLS * 2.0 - 1.0) * MAX_EXP


def table_sigmoid(f):
    """word2vec.c's sigmoid: a 1000-cell table on [-6, 6], saturated outside."""
    if f >= MAX_EXP:
        return 1.0
    if f <= -MAX_EXP:
        return 0.0
    x = _cell_x(_cell(f))
    return float(np.float32(np.exp(x) / (np.exp(x) + 1.0)))


def table_loss(f, label):
    """The loss the CPU kernel adds for a pair: -log sigma(f) (label 1) or -log sigma(-f) (label
    0), from the same table (linear outside it)."""
    if f >= MAX_EXP:
        return 0.0 if label else f
    if f <= -MAX_EXP:
        return -f if label else 0.0
    neg_log_sigma = float(np.float32(np.log1p(np.exp(-_cell_x(_cell(f))))))
    return neg_log_sigma if label else neg_log_sigma + f


def sg_exact_step(inp, out, centre, ctx, negs, alpha):
    """word2vec.c skip-gram: K fresh negatives per context word, applied pair by pair, in place
    on float64 arrays; returns the step's loss."""
    K = len(negs) // len(ctx)
    loss = 0.0
    for a, c in enumerate(ctx):
        neu1e = np.zeros(inp.shape[1])
        for k in range(K + 1):
            t = centre if k == 0 else negs[a * K + k - 1]
            if k > 0 and t == centre:
                continue
            f = inp[c] @ out[t]
            loss += table_loss(f, k == 0)
            g = ((k == 0) - table_sigmoid(f)) * alpha
            neu1e += g * out[t]
            out[t] += g * inp[c]
        inp[c] += neu1e
    return loss


def sg_shared_step(inp, out, centre, ctx, negs, alpha):
    """Skip-gram with shared negatives, in place on float64 arrays: G = (labels - sigma(In
    Out^T)) alpha; In += G Out; Out += G^T In (from the values before the step); returns the
    step's loss."""
    targets = [centre] + list(negs)
    G = np.zeros((len(ctx), len(targets)))
    loss = 0.0
    for a, c in enumerate(ctx):
        for k, t in enumerate(targets):
            if k > 0 and t == centre:
                continue
            f = inp[c] @ out[t]
            loss += table_loss(f, k == 0)
            G[a, k] = ((k == 0) - table_sigmoid(f)) * alpha
    d_in, d_out = G @ out[targets], G.T @ inp[ctx]
    np.add.at(inp, ctx, d_in)
    np.add.at(out, targets, d_out)
    return loss


def cbow_step(inp, out, centre, ctx, negs, alpha, mean):
    """CBOW, in place on float64 arrays: h = mean (or sum) of the contexts; every context row
    gets the whole gradient of h (word2vec.c does not divide it by the context size, for the
    mean either); returns the step's loss."""
    h = inp[ctx].sum(axis=0)
    if mean:
        h /= len(ctx)
    targets = [centre] + list(negs)
    g = np.zeros(len(targets))
    loss = 0.0
    for k, t in enumerate(targets):
        if k > 0 and t == centre:
            continue
        f = h @ out[t]
        loss += table_loss(f, k == 0)
        g[k] = ((k == 0) - table_sigmoid(f)) * alpha
    neu1e = g @ out[targets]
    np.add.at(out, targets, np.outer(g, h))
    np.add.at(inp, ctx, np.broadcast_to(neu1e, (len(ctx), inp.shape[1])))
    return loss
