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
