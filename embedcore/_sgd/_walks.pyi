"""Types of embedcore._sgd._walks (Cython: _walks.pyx): random walks and their skip-gram training."""

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U32 = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

def walks_csr(indptr: _I64, indices: _I32, data: _F32, undirected: bool, with_weights: bool, threads: int,
              max_edges: int = 2 ** 31 - 1) -> tuple[_I64, _I32, _F32 | None]: ...
def walks_alias(indptr: _I64, weights: _F32, threads: int) -> tuple[_U32, _I32]: ...
def walks_generate(indptr: _I64, indices: _I32, weights: _F32, alias_prob: _U32, alias_index: _I32, starts: _I32,
                   walk_length: int, p: float, q: float, seed: int, first_index: int, threads: int,
                   max_trials: int = 16) -> tuple[_I32, _I32]: ...
def walks_count_visits(indptr: _I64, indices: _I32, weights: _F32, alias_prob: _U32, alias_index: _I32,
                       starts: _I32, walk_length: int, p: float, q: float, seed: int, first_index: int, threads: int,
                       max_trials: int = 16) -> _I64: ...
def walks_train_chunk(indptr: _I64, indices: _I32, weights: _F32, alias_prob: _U32, alias_index: _I32, starts: _I32,
                      walk_length: int, p: float, q: float, seed: int, first_index: int, input_vectors: _F32,
                      output_vectors: _F32, keep: _U64, noise_prob: _U32, noise_alias: _I32, window: int,
                      negative: int, alpha: float, min_alpha: float, total_words: int, words_done: int,
                      train_states: _U64, loss: npt.NDArray[np.float64], saved: _I32 | None = None,
                      saved_lengths: _I32 | None = None, max_trials: int = 16, shared: bool = True,
                      simd: str = "") -> tuple[int, str]: ...
