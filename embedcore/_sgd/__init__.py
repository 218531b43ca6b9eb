"""embedcore._sgd: the compiled loops that touch Python objects or update arrays in place.

Four Cython modules, each over one kernel header and declaring it in one .pxd:
``_text`` (the text pass: csrc/embedcore/text.hpp), ``_glove`` (GloVe's order and epochs: glove.hpp),
``_word2vec`` (SGNS/CBOW chunks: sgns.hpp), ``_fasttext`` (subword chunks: fasttext.hpp) and
``_walks`` (random walks trained by skip-gram: walks.hpp). This package re-exports their
functions, so callers write ``from embedcore import _sgd; _sgd.word2vec_train_chunk(...)``. (The text module's read
size, ``_sgd._text.CHUNK_BYTES``, is a setting of that module and stays there.)
"""
from embedcore._sgd._fasttext import (fasttext_hash, fasttext_initial_vectors, fasttext_step,
                                      fasttext_subword_rows, fasttext_train_chunk)
from embedcore._sgd._glove import (glove_check_counts, glove_order, glove_records, glove_train_csr_epoch,
                                   glove_train_epoch)
from embedcore._sgd._text import WordCounter, WordEncoder
from embedcore._sgd._word2vec import (word2vec_keep_table, word2vec_noise_table, word2vec_step,
                                      word2vec_stream_states, word2vec_train_chunk)
from embedcore._sgd._walks import (walks_alias, walks_count_visits, walks_csr, walks_generate,
                                   walks_train_chunk)

__all__ = ["WordCounter", "WordEncoder", "fasttext_hash", "fasttext_initial_vectors", "fasttext_step",
           "fasttext_subword_rows", "fasttext_train_chunk", "glove_check_counts", "glove_order", "glove_records",
           "glove_train_csr_epoch", "glove_train_epoch",
           "word2vec_keep_table", "word2vec_noise_table", "word2vec_step", "word2vec_stream_states",
           "word2vec_train_chunk", "walks_alias", "walks_count_visits", "walks_csr", "walks_generate",
           "walks_train_chunk"]
