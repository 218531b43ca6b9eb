"""Fuzz targets: every reader of a file a user hands us, fed arbitrary bytes.

Each target takes one input (bytes), writes it where the reader expects a file, and calls the
reader. A reader may refuse the input with ValueError (UnicodeError is one) naming the file; any
other exception, a crash or a hang is a finding. The same targets run three ways:
- under atheris (coverage-guided; `python tests/fuzz/fuzz.py TARGET ...`, or `tests/fuzz/run.py`
  for all of them with a time budget each);
- over the seed corpus and the saved findings in tests/fuzz/corpus/TARGET/ in the test suite
  (tests/fuzz/test_fuzz_corpus.py), so a fixed finding stays fixed;
- directly: `python tests/fuzz/targets.py TARGET FILE` replays one input.
"""
import os
import struct
import sys
import tempfile

import numpy as np

# Set up once per process: a private folder the targets write their inputs into.
_WORK = tempfile.mkdtemp(prefix="embedcore-fuzz-")
EXPECTED = (ValueError,)


def _file(data, name):
    path = os.path.join(_WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _flags(data):
    """(first byte as option bits, the rest) so one input also picks the reader's options."""
    return (data[0], data[1:]) if data else (0, data)


def word2vec_text(data):
    import embedcore as ec
    bits, body = _flags(data)
    path = _file(body, "vectors.txt")
    ec.KeyedVectors.load_word2vec_format(path, binary=False, errors=("strict", "replace", "ignore")[bits % 3],
                                         limit=None if bits & 4 else 1 + bits % 5, workers=1 + (bits >> 7))


def word2vec_binary(data):
    import embedcore as ec
    bits, body = _flags(data)
    path = _file(body, "vectors.bin")
    ec.KeyedVectors.load_word2vec_format(path, binary=True, errors=("strict", "replace", "ignore")[bits % 3],
                                         limit=None if bits & 4 else 1 + bits % 5)


def glove_text(data):
    import embedcore as ec
    bits, body = _flags(data)
    path = _file(body, "glove.txt")
    ec.KeyedVectors.load_word2vec_format(path, no_header=True, errors=("strict", "replace", "ignore")[bits % 3],
                                         limit=None if bits & 4 else 1 + bits % 5, workers=1 + (bits >> 7))


def vocab_file(data):
    import embedcore as ec
    path = _file(data, "vocab.txt")
    vocab = ec.Vocab.load(path)
    # what load accepts, save writes back and load reads the same
    again = _file(b"", "vocab.again.txt")
    vocab.save(again)
    back = ec.Vocab.load(again)
    assert back.words == vocab.words and back.counts.tolist() == vocab.counts.tolist(), "round trip differs"


def _split(data, parts):
    """`parts` byte strings cut from data by the little-endian uint16 lengths at its start."""
    out = []
    header, rest = data[:2 * (parts - 1)], data[2 * (parts - 1):]
    header = header.ljust(2 * (parts - 1), b"\0")
    for i in range(parts - 1):
        n = struct.unpack_from("<H", header, 2 * i)[0]
        out.append(rest[:n])
        rest = rest[n:]
    out.append(rest)
    return out


def encoded_corpus(data):
    """The three .npy files of a saved corpus and its commit journal, cut from one input."""
    from embedcore.corpus import EncodedCorpus
    bits, body = _flags(data)
    ids, offsets, raw, journal = _split(body, 4)
    prefix = os.path.join(_WORK, "corpus")
    for suffix in (".ids.npy", ".offsets.npy", ".raw_tokens.npy"):
        if os.path.lexists(prefix + suffix):
            os.unlink(prefix + suffix)
    _file(ids, "corpus.ids.npy")
    _file(offsets, "corpus.offsets.npy")
    if bits & 1:
        _file(raw, "corpus.raw_tokens.npy")
    journal_path = os.path.join(_WORK, ".corpus.commit")
    if bits & 2:
        _file(journal, ".corpus.commit")
    elif os.path.lexists(journal_path):
        os.unlink(journal_path)
    corpus = EncodedCorpus.load(prefix, mmap=bool(bits & 4))
    # a corpus that loads is one the kernels may be given: its arrays must be consistent
    assert corpus.offsets[0] == 0 and corpus.offsets[-1] == len(corpus.ids), "inconsistent offsets"
    assert np.all(np.diff(corpus.offsets) >= 0) and (len(corpus.ids) == 0 or corpus.ids.min() >= 0)


def compressed_text(data):
    """A corpus file of any bytes (gzip, bz2 or plain, recognised by content) through the text
    pass, and through open_source on its own."""
    import embedcore as ec
    from embedcore import _io
    bits, body = _flags(data)
    path = _file(body, "corpus.txt" if bits & 1 else ("corpus.txt.gz", "corpus.txt.bz2")[(bits >> 1) & 1])
    with _io.open_source(path) as f:
        f.read()
    try:
        vocab = ec.Vocab.from_corpus(path, min_count=1, errors=("strict", "replace", "ignore")[bits % 3])
    except ValueError:
        return
    corpus = vocab.encode(path, errors="replace" if bits % 3 == 1 else ("strict", "replace", "ignore")[bits % 3])
    assert len(corpus) <= vocab.total_words


TARGETS = {
    "word2vec_text": word2vec_text,
    "word2vec_binary": word2vec_binary,
    "glove_text": glove_text,
    "vocab_file": vocab_file,
    "encoded_corpus": encoded_corpus,
    "compressed_text": compressed_text,
}


def run_one(target, data):
    """Call a target; the exceptions a reader may raise are fine, anything else propagates."""
    try:
        TARGETS[target](data)
    except EXPECTED:
        pass


if __name__ == "__main__":
    name, file = sys.argv[1], sys.argv[2]
    with open(file, "rb") as f:
        run_one(name, f.read())
    print(f"{name}: {file}: ok")
