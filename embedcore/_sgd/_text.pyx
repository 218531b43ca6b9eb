# distutils: language = c++
"""The text pass: count words and encode a corpus to ids, streaming files in blocks that several
threads tokenize at once (csrc/embedcore/text.hpp). It lives in Cython because it reads Python str
and file objects."""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy
from libcpp.vector cimport vector
from concurrent.futures import ThreadPoolExecutor

cimport numpy as cnp
import numpy as np

from embedcore._io import open_source
from embedcore._memory import require
from embedcore._sgd.text cimport (CountWorkers, EncodeWorkers, Encoder, StringTable, Utf8Policy,
                                  VocabCounter, last_cut)

cnp.import_array()

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL

_POLICIES = {"strict": 0, "replace": 1, "ignore": 2}
# Bytes each thread tokenizes at a time; a file is read in blocks of threads * CHUNK_BYTES, at
# most READ_BYTES_MAX (so the block held, and the next one being read, do not grow with the
# number of threads: 64 threads share one 64 MB block).
CHUNK_BYTES = 1 << 22
READ_BYTES_MAX = 1 << 26


def read_bytes(int threads):
    """The bytes a file is read in at a time by `threads` threads: threads * CHUNK_BYTES, at
    most READ_BYTES_MAX."""
    return max(1, min(max(threads, 1) * CHUNK_BYTES, READ_BYTES_MAX))


cdef Utf8Policy _policy(str errors):
    try:
        return <Utf8Policy>_POLICIES[errors]
    except KeyError:
        raise ValueError(f"errors must be one of 'strict', 'replace', 'ignore', got {errors!r}") from None


def _utf8_error(path, int64_t offset):
    return ValueError(f"{path}: invalid UTF-8 at byte offset {offset} "
                      f"(pass errors='replace' or errors='ignore' to read it anyway)")


def _token_lists(sentences):
    """(i, sentence) for each sentence of `sentences`; TypeError for a str given as a sentence."""
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, str):
            raise TypeError(f"source sentence {i} is a str; each sentence must be a list of str tokens")
        yield i, sentence


cdef const char* _token_utf8(object token, object sentence, Py_ssize_t* size) except NULL:
    """The UTF-8 bytes of a token of sentence number `sentence` (TypeError unless a str)."""
    if not PyUnicode_Check(token):
        raise TypeError(f"source sentence {sentence} holds a {type(token).__name__}; tokens must be str")
    return PyUnicode_AsUTF8AndSize(token, size)


def _blocks(path, Py_ssize_t size, progress):
    """(block, cut, offset) for the blocks of a file: block[:cut] is the next piece to tokenize,
    ending just after ASCII whitespace (or at the end of the file), found at `offset` (in the
    decompressed stream). The next read (and its decompression) runs in a thread while the caller
    tokenizes the current block."""
    cdef bytes block, data
    cdef bytes carry = b""
    cdef int64_t offset = 0
    cdef size_t cut
    with open_source(path) as f, ThreadPoolExecutor(1) as reader:
        pending = reader.submit(f.read, size)
        while True:
            data = pending.result()
            if not data:
                if carry:
                    yield carry, len(carry), offset
                return
            pending = reader.submit(f.read, size)
            if progress is not None:
                progress(len(data))
            block = carry + data if carry else data
            cut = last_cut(PyBytes_AS_STRING(block), <size_t>PyBytes_GET_SIZE(block))
            if cut == 0:  # a token longer than the block: read on
                carry = block
                continue
            yield block, cut, offset
            offset += cut
            carry = block[cut:]


cdef class WordCounter:
    """Word counter over files or sentences (a thin owner of the C++ VocabCounter); files are
    tokenized by `threads` threads. With keep_stream, the token stream is kept too, so that
    `encode_stream` encodes the corpus without reading it again."""
    cdef VocabCounter* counter
    cdef CountWorkers* workers
    cdef Utf8Policy policy
    cdef int threads
    cdef public object progress

    def __cinit__(self, int64_t prune_at=0, str errors="strict", int threads=1, bint keep_stream=False):
        self.policy = _policy(errors)
        self.threads = max(threads, 1)
        self.counter = new VocabCounter(prune_at, self.policy)
        self.counter.keep_stream(keep_stream)
        self.workers = new CountWorkers(self.threads, self.policy, keep_stream)
        self.progress = None

    def __dealloc__(self):
        del self.workers
        del self.counter

    def feed_file(self, path):
        cdef bytes block
        cdef size_t cut
        cdef int64_t offset, bad
        cdef const char* buf
        self.counter.reset_stream(self.policy)
        for block, cut, offset in _blocks(path, read_bytes(self.threads), self.progress):
            buf = PyBytes_AS_STRING(block)
            with nogil:
                bad = self.workers.feed(self.counter[0], buf, cut, offset)
            if bad >= 0:
                raise _utf8_error(path, bad)
        self.counter.end_file()

    def feed_sentences(self, sentences):
        cdef Py_ssize_t size
        cdef const char* s
        for i, sentence in _token_lists(sentences):
            for token in sentence:
                s = _token_utf8(token, i, &size)
                if size > 0:
                    self.counter.add(s, <size_t>size)
            self.counter.end_sentence()
        self.counter.keep_stream(False)  # sentences given as lists are encoded from the lists

    @property
    def stream_kept(self):
        """Whether `encode_stream` can encode what was fed (no pruning, no sentence lists)."""
        return self.counter.stream_kept()

    def encode_stream(self, int64_t min_count, int64_t max_size):
        """(ids int32, offsets int64, dropped) of the kept token stream under `vocabulary`'s
        words; the stream is released."""
        cdef vector[int64_t] order = self.counter.sorted_vocabulary(min_count, max_size)
        cdef vector[int32_t] ids
        cdef vector[int64_t] offsets
        cdef int64_t dropped
        with nogil:
            dropped = self.counter.encode_stream(order, ids, offsets)
        return _to_numpy(ids, offsets) + (dropped,)

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
    """Maps tokens of files or sentences to the ids of a fixed word list; files are tokenized by
    `threads` threads."""
    cdef Encoder* encoder
    cdef EncodeWorkers* workers
    cdef Utf8Policy policy
    cdef int threads
    cdef public object progress

    def __cinit__(self, list words, str errors="strict", int threads=1):
        cdef Py_ssize_t size
        cdef const char* s
        self.policy = _policy(errors)
        self.threads = max(threads, 1)
        self.encoder = new Encoder(self.policy)
        self.progress = None
        for w in words:
            s = PyUnicode_AsUTF8AndSize(w, &size)
            self.encoder.add_word(s, <size_t>size)
        self.workers = new EncodeWorkers(self.threads, self.policy, self.encoder[0])

    def __dealloc__(self):
        del self.workers
        del self.encoder

    def feed_file(self, path):
        cdef bytes block
        cdef size_t cut
        cdef int64_t offset, bad
        cdef const char* buf
        self.encoder.reset_stream(self.policy)
        try:
            for block, cut, offset in _blocks(path, read_bytes(self.threads), self.progress):
                buf = PyBytes_AS_STRING(block)
                with nogil:
                    bad = self.workers.feed(self.encoder[0], buf, cut, offset)
                if bad >= 0:
                    raise _utf8_error(path, bad)
        except MemoryError:
            # the output's size is known only at the end: say how far the pass got
            held = self.encoder.n_ids()
            raise MemoryError(f"encode: out of memory in {path!r} after {held} token ids "
                              f"({4 * held} bytes of output); encode a part of the corpus at a "
                              f"time, or with fewer workers (each holds a {CHUNK_BYTES >> 20} MB "
                              f"chunk)") from None
        self.encoder.end_file()

    def feed_sentences(self, sentences):
        cdef Py_ssize_t size
        cdef const char* s
        for i, sentence in _token_lists(sentences):
            for token in sentence:
                s = _token_utf8(token, i, &size)
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


cdef tuple _to_numpy(vector[int32_t]& ids, vector[int64_t]& offsets):
    """(ids, offsets) copied into new numpy arrays; the vectors are released."""
    cdef cnp.ndarray out_ids = np.empty(ids.size(), dtype=np.int32)
    cdef cnp.ndarray out_offsets = np.empty(offsets.size(), dtype=np.int64)
    if ids.size():
        memcpy(cnp.PyArray_DATA(out_ids), ids.data(), ids.size() * sizeof(int32_t))
    memcpy(cnp.PyArray_DATA(out_offsets), offsets.data(), offsets.size() * sizeof(int64_t))
    ids.clear()
    ids.shrink_to_fit()
    offsets.clear()
    offsets.shrink_to_fit()
    return out_ids, out_offsets
