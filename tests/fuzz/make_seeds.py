"""Write the seed corpus of every fuzz target into tests/fuzz/corpus/TARGET/ (small valid files
and near misses of each format). Run it again after a format changes; the files are committed."""
import bz2
import gzip
import io
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def text_vectors(header=True):
    rows = [b"the 0.1 -0.2 3e-5", b"\xc3\xa9t\xc3\xa9 1 2 3", b"of\t-1.5\t0\t2", b"oui\xc2\xa0! 0 0 0"]
    return (b"4 3\n" if header else b"") + b"\n".join(rows) + b"\n"


def binary_vectors(newlines=True):
    out = b"3 2\n"
    for word, values in ((b"a", (1.0, -2.0)), (b"\xe6\x9d\xb1", (0.5, 1e-30)), (b"zz", (3.0, 4.0))):
        out += word + b" " + struct.pack("<2f", *values) + (b"\n" if newlines else b"")
    return out


def npy(array):
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def corpus_input(ids, offsets, raw=None, journal=b"", bits=1):
    parts = [npy(np.asarray(ids, np.int32)), npy(np.asarray(offsets, np.int64)),
             npy(np.array([raw if raw is not None else len(ids)], np.int64)), journal]
    head = b"".join(struct.pack("<H", len(p)) for p in parts[:3])
    return bytes([bits]) + head + b"".join(parts)


SEEDS = {
    "word2vec_text": {
        "plain": b"\x04" + text_vectors(),
        "limit": b"\x01" + text_vectors(),
        "crlf": b"\x04" + text_vectors().replace(b"\n", b"\r\n"),
        "gzip": b"\x04" + gzip.compress(text_vectors()),
        "bz2": b"\x04" + bz2.compress(text_vectors()),
        "short row": b"\x04" + b"2 3\na 1 2 3\nb 1 2\n",
        "empty": b"\x04",
    },
    "word2vec_binary": {
        "word2vec.c": b"\x04" + binary_vectors(),
        "gensim": b"\x04" + binary_vectors(newlines=False),
        "gzip": b"\x04" + gzip.compress(binary_vectors()),
        "truncated": b"\x04" + binary_vectors()[:-5],
    },
    "glove_text": {
        "plain": b"\x04" + text_vectors(header=False),
        "gzip": b"\x04" + gzip.compress(text_vectors(header=False)),
        "ragged": b"\x04the 1 2\nof 3\n",
    },
    "vocab_file": {
        "saved": b"# embedcore vocabulary total_words=12\nthe 5\n\xc3\xa9t\xc3\xa9 4\noui\xc2\xa0! 3\n",
        "no header": b"a 2\nb 1\n",
        "gzip": gzip.compress(b"# embedcore vocabulary total_words=3\na 2\nb 1\n"),
        "bad count": b"a 2\nb x\n",
    },
    "encoded_corpus": {
        "saved": corpus_input([0, 1, 2, 1], [0, 2, 4], raw=6),
        "mmap": corpus_input([3, 1], [0, 2], bits=5),
        "empty": corpus_input([], [0]),
        "journal": corpus_input([0], [0, 1], journal=b'{"embedcore_commit": [[".corpus.ids.npy.0123456789ab.tmp", '
                                                    b'"corpus.ids.npy"]]}', bits=3),
        "offsets past the end": corpus_input([0, 1], [0, 5]),
    },
    "compressed_text": {
        "plain": b"\x01the cat sat\non the mat\n",
        "gzip in .txt": b"\x01" + gzip.compress(b"the cat sat\non the mat\n"),
        "bz2 in .txt": b"\x01" + bz2.compress(b"the cat sat\non the mat\n"),
        "gzip in .gz": b"\x00" + gzip.compress("größe 東京\u00a0x\n".encode()),
        "bz2 in .bz2": b"\x02" + bz2.compress(b"a b\n\nc\n"),
        "two gzip members": b"\x01" + gzip.compress(b"a b\n") + gzip.compress(b"c d\n"),
        "invalid utf-8": b"\x01ok \xff\xfe bad\n",
    },
}


def main():
    for target, seeds in SEEDS.items():
        folder = os.path.join(HERE, "corpus", target)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, "seed-" + name.replace(" ", "-").replace(".", "")), "wb") as f:
                f.write(data)
    print(f"wrote {sum(len(s) for s in SEEDS.values())} seeds for {len(SEEDS)} targets")


if __name__ == "__main__":
    main()
