"""Types of embedcore._sgd._fasttext (Cython: _fasttext.pyx). Arrays updated in place are refused unless
float32, C-contiguous and writeable; the typed read-only views take any buffer of their dtype."""
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U32 = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

def fasttext_hash(data: bytes) -> int: ...
def fasttext_initial_vectors(rows: int, dim: int, seed: int, threads: int = 1) -> _F32: ...
def fasttext_subword_rows(words: Sequence[str], min_n: int, max_n: int, bucket: int, row_base: int,
                          include_self: bool = True, self_base: int = 0) -> tuple[_I64, _I32]: ...
def fasttext_train_chunk(input_vectors: _F32, output_vectors: _F32, sub_indptr: _I64, sub_rows: _I32, keep: _U64,
                         noise_prob: _U32, noise_alias: _I32, ids: _I32, offsets: _I64, starts: _I64, ends: _I64,
                         rng_states: _U64, loss: npt.NDArray[np.float64], words_done: int, skip_gram: bool,
                         shared: bool, window: int, negative: int, alpha: float, min_alpha: float, total_words: int,
                         simd: str = "") -> tuple[int, str]: ...
def fasttext_step(input_vectors: _F32, output_vectors: _F32, rows: _I32, targets: _I32, weights: _F32, n_pos: int,
                  alpha: float) -> float: ...
