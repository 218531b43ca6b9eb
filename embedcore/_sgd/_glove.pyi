"""Types of embedcore._sgd._glove (Cython: _glove.pyx). The factor, bias and gradient arrays are updated
in place: float32, C-contiguous and writeable, or refused."""
from typing import Union

import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U32 = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]

_Order = Union[_U32, _U64]

def glove_check_counts(indptr: _I64, indices: _I32, data: _F32, n_cols: int) -> tuple[int, int]: ...
def glove_order(indptr: _I64, indices: _I32, data: _F32, n_cols: int, seed: int, out: _Order,
                threads: int) -> None: ...
def glove_records(indptr: _I64, indices: _I32, data: _F32, n_cols: int, order: _Order, x_max: float, alpha: float,
                  out: _I32, threads: int) -> None: ...
def glove_train_epoch(word: _F32, context: _F32, word_bias: _F32, context_bias: _F32, word_gradsq: _F32,
                      context_gradsq: _F32, word_bias_gradsq: _F32, context_bias_gradsq: _F32, records: _I32,
                      learning_rate: float, bias_learning_rate: float, threads: int,
                      simd: str = "") -> tuple[float, str]: ...
def glove_train_csr_epoch(word: _F32, context: _F32, word_bias: _F32, context_bias: _F32, word_gradsq: _F32,
                          context_gradsq: _F32, word_bias_gradsq: _F32, context_bias_gradsq: _F32, indptr: _I64,
                          indices: _I32, data: _F32, n_cols: int, row_offset: int, order: _Order, x_max: float,
                          alpha: float, learning_rate: float, bias_learning_rate: float, threads: int,
                          simd: str = "") -> tuple[float, str]: ...
