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
# word2vec's per-example rules in float64 (word2vec.c; the CPU and GPU kernels share them through
# embedcore/include/ecmath/sgns.hpp)

def sigmoid_cell(f):
    """word2vec.c's table cell of a score inside (-6, 6), computed as the kernels do in float32."""
    return int((np.float32(f) + np.float32(6.0)) * np.float32(1000 / 6.0 / 2.0))


def sgns_pair(f, label, alpha):
    """(g, loss) of a pair with score f: g = (label - sigma(f)) alpha with sigma read at the cell
    of f and saturated (0 or 1) outside [-6, 6]; loss -log sigma(f) for label 1, -log sigma(-f)
    for label 0, from the same cell (the score's magnitude when saturated the wrong way)."""
    if f >= 6.0:
        return (label - 1.0) * alpha, (f if label == 0 else 0.0)
    if f <= -6.0:
        return label * alpha, (-f if label == 1 else 0.0)
    x = (sigmoid_cell(f) / 1000 * 2.0 - 1.0) * 6.0
    sigma = 1.0 / (1.0 + np.exp(-x))
    nls = np.log1p(np.exp(-x))
    return (label - sigma) * alpha, (nls if label == 1 else nls + f)


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
            g, pair_loss = sgns_pair(inp[c] @ out[t], 1.0 if k == 0 else 0.0, alpha)
            loss += pair_loss
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
            G[a, k], pair_loss = sgns_pair(inp[c] @ out[t], 1.0 if k == 0 else 0.0, alpha)
            loss += pair_loss
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
        g[k], pair_loss = sgns_pair(h @ out[t], 1.0 if k == 0 else 0.0, alpha)
        loss += pair_loss
    neu1e = g @ out[targets]
    np.add.at(out, targets, np.outer(g, h))
    np.add.at(inp, ctx, np.broadcast_to(neu1e, (len(ctx), inp.shape[1])))
    return loss


def exact_topk(scores, k, exclude=None):
    """(scores, indices) of the k best columns of each row of a score matrix, best first, ties by
    lower column; `exclude` one column per row to leave out (-1 for none)."""
    scores = np.asarray(scores)
    out_s = np.empty((scores.shape[0], k), dtype=scores.dtype)
    out_i = np.empty((scores.shape[0], k), dtype=np.int64)
    for r, row in enumerate(scores):
        columns = np.arange(row.shape[0])
        if exclude is not None and exclude[r] >= 0:
            columns = columns[columns != exclude[r]]
        # -0.0 and 0.0 tie: compare as numbers, break by column
        order = np.lexsort((columns, -row[columns].astype(np.float64)))[:k]
        out_i[r] = columns[order]
        out_s[r] = row[out_i[r]]
    return out_s, out_i
