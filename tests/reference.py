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
