"""Types of embedcore._sgd._word2vec (Cython: _word2vec.pyx): SGNS/CBOW chunks and their tables."""

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U32 = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

def word2vec_noise_table(counts: _I64, power: float = 0.75) -> tuple[_U32, _I32]: ...
def word2vec_keep_table(counts: _I64, sample: float, total: int) -> _U64: ...
def word2vec_stream_states(seed: int, threads: int) -> _U64: ...
def word2vec_train_chunk(input_vectors: _F32, output_vectors: _F32, keep: _U64, noise_prob: _U32, noise_alias: _I32,
                         ids: _I32, offsets: _I64, starts: _I64, ends: _I64, rng_states: _U64,
                         loss: npt.NDArray[np.float64], words_done: int, skip_gram: bool, cbow_mean: bool,
                         shared: bool, cbow_batch: int, window: int, negative: int, alpha: float, min_alpha: float,
                         total_words: int, simd: str = "") -> tuple[int, str]: ...
def word2vec_step(input_vectors: _F32, output_vectors: _F32, centre: int, contexts: _I32, negatives: _I32,
                  alpha: float, skip_gram: bool = True, shared: bool = False, cbow_mean: bool = True,
                  simd: str = "") -> float: ...
