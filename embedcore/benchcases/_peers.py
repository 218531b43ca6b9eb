"""The C peers that benchmarks/build_peers.sh builds: Stanford GloVe's tools and word2vec.c.

They are on neither PyPI nor Debian, so the script fetches them at pinned commits and compiles
them under benchmarks/peers/. Cases find the binaries through EMBEDCORE_PEERS_DIR (default
benchmarks/peers in the working directory, else next to this source tree), run them as
subprocesses in a folder under the bench scratch folder, and, where they are missing, skip their
rows with a note saying how to build them. Also here: Stanford GloVe's file formats (the binary
co-occurrence records and the vocabulary file), so both tools train on counts embedcore made.
"""
import os
import re
import subprocess
import time

import numpy as np
import scipy.sparse as sp

ENV_VAR = "EMBEDCORE_PEERS_DIR"
BUILD_HINT = f"run bash benchmarks/build_peers.sh, or set {ENV_VAR} to the folder it built"

# where build_peers.sh puts each binary, relative to the peers folder
_BINARIES = {
    "vocab_count": ("GloVe", "build", "vocab_count"),
    "cooccur": ("GloVe", "build", "cooccur"),
    "shuffle": ("GloVe", "build", "shuffle"),
    "glove": ("GloVe", "build", "glove"),
    "word2vec": ("word2vec", "word2vec"),
}

# one record of GloVe's cooccur/shuffle/glove files: struct {int word1; int word2; double val;},
# ids 1-based in the order of the vocabulary file, native byte order, no padding (16 bytes)
COOCCURRENCE_RECORD = np.dtype([("word1", np.int32), ("word2", np.int32), ("value", np.float64)])


def peers_dir():
    """The folder of built peers: $EMBEDCORE_PEERS_DIR, else benchmarks/peers if it exists, else None."""
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    source_tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    for root in (os.getcwd(), source_tree):
        path = os.path.join(root, "benchmarks", "peers")
        if os.path.isdir(path):
            return os.path.normpath(path)
    return None


def find(*names):
    """{name: path} of the named binaries when all are built and executable, else None."""
    folder = peers_dir()
    if folder is None:
        return None
    paths = {name: os.path.join(folder, *_BINARIES[name]) for name in names}
    if all(os.path.isfile(p) and os.access(p, os.X_OK) for p in paths.values()):
        return paths
    return None


def missing_note(what):
    """The note of a skipped peer row."""
    folder = peers_dir()
    where = f"in {folder}" if folder else f"(no ${ENV_VAR}, no benchmarks/peers)"
    return f"{what} not built {where}, its side-by-side row skipped: {BUILD_HINT}"


def version(peer):
    """'GloVe@11e9dfe' from the versions.txt that build_peers.sh writes; '+?' marks a source tree
    whose commit was not checked; the bare name when the file is missing."""
    folder = peers_dir()
    try:
        with open(os.path.join(folder, "versions.txt")) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == peer:
                    unchecked = len(fields) > 2 and fields[2] == "unchecked"
                    return f"{peer}@{fields[1][:7]}" + ("+?" if unchecked else "")
    except (OSError, TypeError):
        pass
    return peer


def run(args, watch="stderr", stdin=None, stdout=None, cwd=None):
    """Run a peer binary to completion.

    Returns (wall seconds, lines): the lines of the watched stream ('stderr' or 'stdout', split at
    newlines and carriage returns), each with the seconds since the start at which it arrived, so
    a caller can time the phases a tool reports as it goes. `stdin` and `stdout` are open files or
    None; the stream not watched and not given goes to /dev/null. Raises RuntimeError with the
    last lines when the tool fails.
    """
    streams = {"stdin": stdin, "stdout": stdout or subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    streams[watch] = subprocess.PIPE
    start = time.perf_counter()
    lines, pending = [], b""
    with subprocess.Popen(args, cwd=cwd, **streams) as process:
        pipe = process.stderr if watch == "stderr" else process.stdout
        for chunk in iter(lambda: pipe.read1(1 << 16), b""):
            now = time.perf_counter() - start
            *complete, pending = re.split(rb"[\r\n]", pending + chunk)
            lines += [(now, line.decode("utf-8", "replace")) for line in complete if line.strip()]
        code = process.wait()
    seconds = time.perf_counter() - start
    if pending.strip():
        lines.append((seconds, pending.decode("utf-8", "replace")))
    if code != 0:
        tail = "\n".join(text for _, text in lines[-5:])
        raise RuntimeError(f"{os.path.basename(args[0])} exited with status {code}:\n{tail}")
    return seconds, lines


def write_vocab(words, counts, path):
    """Write a vocabulary file as GloVe's vocab_count does: 'word count' per line; the line order
    gives the 1-based ids of the co-occurrence records."""
    with open(path, "w", encoding="utf-8") as f:
        for word, count in zip(words, counts):
            f.write(f"{word} {int(count)}\n")


def read_vocab(path):
    """The words of a vocabulary file, in id order."""
    with open(path, encoding="utf-8") as f:
        return [line.split()[0] for line in f if line.strip()]


def write_cooccurrence(matrix, path, chunk_rows=4096):
    """Write a square sparse co-occurrence matrix as GloVe's binary records (COOCCURRENCE_RECORD):
    row i, column j, value x become (i + 1, j + 1, x), row by row; zeros are left out, as glove
    cannot take the log of them. Returns the number of records."""
    csr = sp.csr_matrix(matrix)
    if csr.ndim != 2 or csr.shape[0] != csr.shape[1]:
        raise ValueError(f"matrix must be square, got shape {csr.shape}")
    written = 0
    with open(path, "wb") as f:
        # in row blocks, so the records never need a second full-size copy in memory
        for first in range(0, csr.shape[0], chunk_rows):
            block = csr[first:first + chunk_rows]
            keep = block.data != 0
            rows = np.repeat(np.arange(first, first + block.shape[0]), np.diff(block.indptr))
            records = np.empty(int(keep.sum()), dtype=COOCCURRENCE_RECORD)
            records["word1"] = rows[keep] + 1
            records["word2"] = block.indices[keep] + 1
            records["value"] = block.data[keep]
            records.tofile(f)
            written += len(records)
    return written


def read_cooccurrence(path, id_map, n_words):
    """A file of GloVe records as a float32 CSR matrix of n_words x n_words; `id_map[k]` is the row
    of the word with 1-based id k + 1 (so counts made with another vocabulary order compare)."""
    records = np.fromfile(path, dtype=COOCCURRENCE_RECORD)
    id_map = np.asarray(id_map)
    rows = id_map[records["word1"] - 1]
    cols = id_map[records["word2"] - 1]
    return sp.csr_matrix((records["value"], (rows, cols)), shape=(n_words, n_words)).astype(np.float32)
