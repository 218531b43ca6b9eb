# distutils: language = c++
"""The text pass: count words and encode a corpus to ids, streaming files in chunks
(csrc/embedcore/text.hpp). It lives in Cython because it reads Python str and file objects."""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy
from libcpp.vector cimport vector

cimport numpy as cnp
import numpy as np

from embedcore._io import open_source
from embedcore._memory import require
from embedcore._sgd.text cimport (Encoder, StringTable, Utf8Policy, VocabCounter, feed_counter,
                                  feed_encoder)

cnp.import_array()

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL

_POLICIES = {"strict": 0, "replace": 1, "ignore": 2}
CHUNK_BYTES = 1 << 22


cdef Utf8Policy _policy(str errors):
    try:
        return <Utf8Policy>_POLICIES[errors]
    except KeyError:
        raise ValueError(f"errors must be one of 'strict', 'replace', 'ignore', got {errors!r}") from None


def _utf8_error(path, int64_t offset):
    return ValueError(f"{path}: invalid UTF-8 at byte offset {offset} "
                      f"(pass errors='replace' or errors='ignore' to read it anyway)")


cdef class WordCounter:
    """Streaming word counter over files or sentences (a thin owner of the C++ VocabCounter)."""
    cdef VocabCounter* counter
    cdef Utf8Policy policy
    cdef public object progress

    def __cinit__(self, int64_t prune_at=0, str errors="strict"):
        self.policy = _policy(errors)
        self.counter = new VocabCounter(prune_at, self.policy)
        self.progress = None

    def __dealloc__(self):
        del self.counter

    def feed_file(self, path):
        cdef bytes chunk
        cdef int64_t bad
        cdef const char* buf
        cdef size_t n
        self.counter.reset_stream(self.policy)
        with open_source(path) as f:
            while True:
                chunk = f.read(CHUNK_BYTES)
                buf = PyBytes_AS_STRING(chunk)
                n = <size_t>PyBytes_GET_SIZE(chunk)
                with nogil:
                    bad = feed_counter(self.counter[0], buf, n, n == 0)
                if bad >= 0:
                    raise _utf8_error(path, bad)
                if n == 0:
                    break
                if self.progress is not None:
                    self.progress(n)

    def feed_sentences(self, sentences):
        cdef Py_ssize_t size
        cdef const char* s
        cdef int64_t i = 0
        for i, sentence in enumerate(sentences):
            if isinstance(sentence, str):
                raise TypeError(f"source sentence {i} is a str; each sentence must be a list of str tokens")
            for token in sentence:
                if not PyUnicode_Check(token):
                    raise TypeError(f"source sentence {i} holds a {type(token).__name__}; tokens must be str")
                s = PyUnicode_AsUTF8AndSize(token, &size)
                if size > 0:
                    self.counter.add(s, <size_t>size)
            self.counter.end_sentence()

    @property
    def total_words(self):
        return self.counter.total_words()

    @property
    def sentences(self):
        return self.counter.sentences()

    @property
    def prunes(self):
        return self.counter.prunes()

    def vocabulary(self, int64_t min_count, int64_t max_size):
        """(words, counts) with count >= min_count, by descending count then first appearance."""
        cdef vector[int64_t] order = self.counter.sorted_vocabulary(min_count, max_size)
        cdef const StringTable* table = &self.counter.table()
        cdef cnp.ndarray[cnp.int64_t, ndim=1] counts = np.empty(order.size(), dtype=np.int64)
        cdef list words = []
        cdef size_t i, j
        for i in range(order.size()):
            j = <size_t>order[i]
            words.append(table.data(j)[:table.length(j)].decode("utf-8", "surrogateescape"))
            counts[i] = table.count(j)
        return words, counts


cdef class WordEncoder:
    """Maps tokens of files or sentences to the ids of a fixed word list."""
    cdef Encoder* encoder
    cdef Utf8Policy policy
    cdef public object progress

    def __cinit__(self, list words, str errors="strict"):
        cdef Py_ssize_t size
        cdef const char* s
        self.policy = _policy(errors)
        self.encoder = new Encoder(self.policy)
        self.progress = None
        for w in words:
            s = PyUnicode_AsUTF8AndSize(w, &size)
            self.encoder.add_word(s, <size_t>size)

    def __dealloc__(self):
        del self.encoder

    def feed_file(self, path):
        cdef bytes chunk
        cdef int64_t bad
        cdef const char* buf
        cdef size_t n
        self.encoder.reset_stream(self.policy)
        with open_source(path) as f:
            while True:
                chunk = f.read(CHUNK_BYTES)
                buf = PyBytes_AS_STRING(chunk)
                n = <size_t>PyBytes_GET_SIZE(chunk)
                with nogil:
                    bad = feed_encoder(self.encoder[0], buf, n, n == 0)
                if bad >= 0:
                    raise _utf8_error(path, bad)
                if n == 0:
                    break
                if self.progress is not None:
                    self.progress(n)

    def feed_sentences(self, sentences):
        cdef Py_ssize_t size
        cdef const char* s
        cdef int64_t i = 0
        for i, sentence in enumerate(sentences):
            if isinstance(sentence, str):
                raise TypeError(f"source sentence {i} is a str; each sentence must be a list of str tokens")
            for token in sentence:
                if not PyUnicode_Check(token):
                    raise TypeError(f"source sentence {i} holds a {type(token).__name__}; tokens must be str")
                s = PyUnicode_AsUTF8AndSize(token, &size)
                self.encoder.add_token(s, <size_t>size)
            self.encoder.end_sentence()

    @property
    def dropped(self):
        return self.encoder.dropped()

    def result(self):
        """(ids int32, offsets int64) as new numpy arrays; the encoder's buffers are released
        as they are copied (the peak is the output plus one block of ids)."""
        cdef int64_t n = self.encoder.n_ids()
        cdef vector[int64_t]* offsets = &self.encoder.offsets()
        # the output maps 4 bytes per token and 8 per sentence boundary, but fills at most one
        # block of ids (4 MB) beyond what the blocks it frees held
        require(4 * min(n, 1 << 20) + 8 * offsets.size(), f"encode: {n} token ids",
                "encode a part of the corpus at a time", mapped=4 * n + 8 * offsets.size())
        cdef cnp.ndarray out_ids = np.empty(n, dtype=np.int32)
        cdef cnp.ndarray out_offsets = np.empty(offsets.size(), dtype=np.int64)
        self.encoder.take_ids(<int32_t*>cnp.PyArray_DATA(out_ids))
        memcpy(cnp.PyArray_DATA(out_offsets), offsets.data(), offsets.size() * sizeof(int64_t))
        offsets.clear()
        offsets.shrink_to_fit()
        return out_ids, out_offsets
