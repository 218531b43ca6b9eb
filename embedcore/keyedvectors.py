"""KeyedVectors: words and their vectors."""
import numpy as np

from embedcore._validation import as_float32_matrix


class KeyedVectors:
    def __init__(self, words, vectors):
        self.words = list(words)
        self.vectors = as_float32_matrix(vectors, "vectors")
