"""embedcore: fast kernels for learning and using word embeddings.

Skip-gram and CBOW with negative sampling, fastText's subword vectors, co-occurrence counting and GloVe, PPMI and truncated
SVD, and exact cosine top-k search, as C++ kernels under a gensim-familiar API.
"""
from embedcore._version import __version__
from embedcore._base import NotFittedError
from embedcore._typing import BuildInfo
from embedcore.cooccurrence import cooccurrence
from embedcore.corpus import EncodedCorpus
from embedcore.fasttext import FastText, FastTextKeyedVectors, load_facebook_model, save_facebook_model
from embedcore.glove import GloVe
from embedcore.formats._errors import TruncatedVectorFileError, VectorFileDecodeError, VectorFileError
from embedcore.interactions import Interactions, ranking_metrics, train_test_split
from embedcore.keyedvectors import KeyedVectors
from embedcore.node2vec import Node2Vec
from embedcore.recommend import Item2Vec, SVDRecommender, recommend, recommend_all
from embedcore.sentences import sentence_vectors
from embedcore.similarity import cosine_topk
from embedcore.svd import SVDEmbedding, ppmi, randomized_svd
from embedcore.vocab import Vocab
from embedcore.word2vec import Word2Vec
from embedcore import datasets


def build_info() -> BuildInfo:
    """What this build of embedcore was compiled with and can use now.

    Returns
    -------
    dict
        ``version`` (str), ``openmp`` (bool: kernels compiled with OpenMP), ``simd`` (str: the
        widest instruction set the hot loops dispatch to on this CPU: ``"avx512"``, ``"avx2"`` or
        ``"baseline"``), ``simd_kernels`` (dict: the level each kernel runs at, e.g.
        ``{"word2vec": "avx512", "cooccur": "baseline", ...}``; kernels without SIMD copies report
        ``"baseline"``), ``cuda`` (bool: CuPy and a GPU are usable now), ``max_threads`` (int:
        threads a kernel uses with ``workers=None``).
    """
    from embedcore import _native
    from embedcore.backends import HAS_CUDA
    from embedcore._threads import usable_cores

    kernels = dict(_native.simd_kernels())
    order = ("baseline", "avx2", "avx512")
    return {
        "version": __version__,
        "openmp": bool(_native.openmp()),
        "simd": max(kernels.values(), key=order.index),
        "simd_kernels": kernels,
        "cuda": HAS_CUDA(),
        "max_threads": usable_cores() if _native.openmp() else 1,
    }


__all__ = ["EncodedCorpus", "FastText", "FastTextKeyedVectors", "GloVe", "Interactions", "Item2Vec",
           "KeyedVectors", "Node2Vec", "NotFittedError", "SVDEmbedding", "SVDRecommender",
           "TruncatedVectorFileError", "VectorFileDecodeError", "VectorFileError", "Vocab", "Word2Vec",
           "build_info", "cooccurrence", "cosine_topk", "datasets", "load_facebook_model", "ppmi",
           "randomized_svd", "ranking_metrics", "recommend", "recommend_all", "save_facebook_model",
           "sentence_vectors", "train_test_split", "__version__"]
