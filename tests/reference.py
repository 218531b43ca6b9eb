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


def sgns_shared_step(inp, out, centre, contexts, negatives, alpha):
    """Skip-gram with the negatives shared by the context words, on float64 copies: every pair's
    gradient from the values before the step, then In += G Out and Out += G^T In. A negative equal
    to the centre word is skipped. Returns (inp, out, loss)."""
    inp, out = np.array(inp, dtype=np.float64), np.array(out, dtype=np.float64)
    targets = [centre] + list(negatives)
    G = np.zeros((len(contexts), len(targets)))
    loss = 0.0
    for a, c in enumerate(contexts):
        for j, t in enumerate(targets):
            if j > 0 and t == centre:
                continue
            G[a, j], pair_loss = sgns_pair(inp[c] @ out[t], 1.0 if j == 0 else 0.0, alpha)
            loss += pair_loss
    d_in, d_out = G @ out[targets], G.T @ inp[contexts]
    np.add.at(inp, contexts, d_in)
    np.add.at(out, targets, d_out)
    return inp, out, loss


def cbow_step(inp, out, centre, contexts, negatives, alpha, mean):
    """CBOW on float64 copies: h = mean (or sum) of the context rows; the targets' gradients from
    the old rows; out_t += g_t h; every context row += sum_t g_t out_t, the whole gradient also
    for the mean (word2vec.c). Returns (inp, out, loss)."""
    inp, out = np.array(inp, dtype=np.float64), np.array(out, dtype=np.float64)
    h = inp[contexts].sum(axis=0)
    if mean:
        h /= len(contexts)
    targets = [centre] + list(negatives)
    g = np.zeros(len(targets))
    loss = 0.0
    for j, t in enumerate(targets):
        if j > 0 and t == centre:
            continue
        g[j], pair_loss = sgns_pair(h @ out[t], 1.0 if j == 0 else 0.0, alpha)
        loss += pair_loss
    neu1e = g @ out[targets]
    np.add.at(out, targets, np.outer(g, h))
    np.add.at(inp, contexts, np.broadcast_to(neu1e, (len(contexts), inp.shape[1])))
    return inp, out, loss


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
