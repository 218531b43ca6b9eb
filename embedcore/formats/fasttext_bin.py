"""fastText's binary model format (``.bin``, version 12; version 11 is read too).

Layout (little-endian, as fastText writes it on every platform it supports), after
fastText's src/fasttext.cc, args.cc, dictionary.cc and densematrix.cc:

- int32 magic 793712314, int32 version;
- the arguments: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss (1 hs, 2 ns, 3 softmax,
  4 ova), model (1 cbow, 2 sg, 3 supervised), bucket, minn, maxn, lrUpdateRate; float64 t;
- the dictionary: int32 size, nwords, nlabels; int64 ntokens, pruneidx_size (-1 for a model
  that was not pruned; fastText refuses a full model with any other value); per entry the
  word's UTF-8 bytes and a NUL, int64 count, int8 type (0 word, 1 label); pruneidx_size pairs of
  int32;
- uint8 quant_input; the input matrix: int64 rows (nwords + bucket), int64 cols (dim), float32
  values row by row; uint8 qout; the output matrix the same way (nwords x dim).

`read` returns the pieces as a `FastTextFile`; `write` writes them atomically. Quantized
(``.ftz``) and supervised models are refused with a clear error.
"""
import mmap
import os
import struct
from typing import Any, NamedTuple

import numpy as np

from embedcore._io import atomic_write
from embedcore._validation import check_path

MAGIC = 793712314
VERSION = 12
_ARGS = struct.Struct("<12id")
_DICT_HEAD = struct.Struct("<3i2q")
_ENTRY_TAIL = struct.Struct("<qb")
_MATRIX_HEAD = struct.Struct("<2q")
MODELS = {1: "cbow", 2: "sg", 3: "supervised"}
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}


class FastTextFile(NamedTuple):
    """The contents of a fastText .bin: the arguments (a dict with fastText's names: dim, ws,
    epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, t), the
    words with their counts (int64), the token count, the input matrix (float32, words +
    buckets rows) and the output matrix (float32, one row per word)."""
    args: dict
    words: list
    counts: np.ndarray
    ntokens: int
    input_matrix: np.ndarray
    output_matrix: np.ndarray


class _Reader:
    """Sequential reads from a bytes buffer that name the path and offset of a short read."""

    def __init__(self, data, path):
        self.data, self.path, self.pos = data, path, 0

    def fail(self, what):
        raise ValueError(f"{self.path}: not a valid fastText .bin at byte offset {self.pos}: {what}")

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.data):
            self.fail(f"the file is truncated ({what} needs {n} bytes, {len(self.data) - self.pos} left)")
        start = self.pos
        self.pos += n
        return start

    def unpack(self, layout, what):
        return layout.unpack_from(self.data, self.take(layout.size, what))

    def matrix(self, what, rows, cols):
        m, n = self.unpack(_MATRIX_HEAD, f"the {what} matrix's shape")
        if (m, n) != (rows, cols):
            self.fail(f"the {what} matrix is {m} x {n}, expected {rows} x {cols}")
        start = self.take(4 * m * n, f"the {what} matrix")
        return np.frombuffer(self.data, dtype="<f4", count=m * n, offset=start).astype(np.float32).reshape(m, n)


def is_fasttext_bin(path: Any) -> bool:
    """True when the file at `path` starts with fastText's magic number (False for a file too
    short, or one that cannot be opened)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and struct.unpack("<i", head)[0] == MAGIC


def read(path: Any) -> "FastTextFile":
    """The `FastTextFile` of a fastText .bin.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Wrong magic number or version, a corrupt or truncated file, a quantized or supervised
        model; the message names the path and the byte offset.
    """
    path = check_path(path, "path")
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            raise ValueError(f"{path}: not a valid fastText .bin: the file is empty")
        # mapped, not read: the matrices are copied once, straight from the page cache
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse(_Reader(data, path), data, path)


def _parse(r, data, path):
    magic, version = r.unpack(struct.Struct("<2i"), "the magic number and version")
    if magic != MAGIC:
        raise ValueError(f"{path}: not a fastText .bin file (magic number {magic}, expected {MAGIC})")
    if version not in (11, VERSION):
        raise ValueError(f"{path}: unsupported fastText .bin version {version} (11 and {VERSION} are read)")
    values = r.unpack(_ARGS, "the arguments")
    names = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket", "minn", "maxn",
             "lrUpdateRate", "t")
    args = dict(zip(names, values))
    if args["model"] not in MODELS or args["loss"] not in LOSSES:
        r.fail(f"unknown model {args['model']} or loss {args['loss']}")
    if args["model"] == 3:
        raise ValueError(f"{path}: a supervised fastText model (classifier); only cbow and skip-gram models load")
    if args["dim"] < 1 or args["bucket"] < 0 or args["minn"] < 0 or args["maxn"] < 0:
        r.fail(f"dim {args['dim']}, bucket {args['bucket']}, minn {args['minn']}, maxn {args['maxn']} out of range")
    if args["maxn"] > 0 and (args["bucket"] < 1 or args["minn"] < 1 or args["minn"] > args["maxn"]):
        r.fail(f"n-grams {args['minn']}..{args['maxn']} with bucket {args['bucket']}")
    size, nwords, nlabels, ntokens, pruneidx_size = r.unpack(_DICT_HEAD, "the dictionary header")
    if not (0 <= nwords <= size) or nlabels != size - nwords or ntokens < 0 or pruneidx_size < -1:
        r.fail(f"dictionary of {size} entries, {nwords} words, {nlabels} labels, {ntokens} tokens")
    if nlabels:
        raise ValueError(f"{path}: the dictionary holds {nlabels} labels: a supervised model, not loaded")
    if nwords < 1:
        r.fail("the dictionary has no words")
    words = []
    counts = np.empty(nwords, dtype=np.int64)
    for i in range(nwords):
        end = data.find(b"\0", r.pos)
        if end < 0:
            r.fail(f"the file is truncated inside word {i}")
        start = r.take(end - r.pos + 1, f"word {i}")
        try:
            words.append(data[start:end].decode("utf-8"))
        except UnicodeDecodeError as exc:
            r.pos = start
            r.fail(f"word {i} is not valid UTF-8 ({exc.reason})")
        count, kind = r.unpack(_ENTRY_TAIL, f"the count of word {i}")
        if count < 0 or kind != 0:
            r.fail(f"word {i} {words[-1]!r} has count {count} and type {kind} (expected a word, count >= 0)")
        counts[i] = count
    if pruneidx_size >= 0:
        raise ValueError(f"{path}: a pruned (quantized) fastText model; only full models load")
    (quant_input,) = r.unpack(struct.Struct("<B"), "the quantization flag")
    if quant_input:
        raise ValueError(f"{path}: a quantized fastText model (.ftz); only full models load")
    dim = args["dim"]
    input_matrix = r.matrix("input", nwords + args["bucket"], dim)
    (quant_output,) = r.unpack(struct.Struct("<B"), "the output quantization flag")
    if quant_output:
        raise ValueError(f"{path}: a quantized fastText model (.ftz); only full models load")
    output_matrix = r.matrix("output", nwords, dim)
    if r.pos != len(data):
        r.fail(f"{len(data) - r.pos} bytes follow the output matrix")
    if not (np.isfinite(input_matrix).all() and np.isfinite(output_matrix).all()):
        raise ValueError(f"{path}: the model's matrices hold NaN or infinity")
    return FastTextFile(args, words, counts, int(ntokens), input_matrix, output_matrix)


def write(path: Any, file: "FastTextFile") -> None:
    """Write a `FastTextFile` as a fastText .bin (version 12), atomically
    (:func:`embedcore._io.atomic_write`). The caller checks the pieces; the shapes are checked
    here."""
    args, words = file.args, file.words
    inp = np.ascontiguousarray(file.input_matrix, dtype="<f4")
    out = np.ascontiguousarray(file.output_matrix, dtype="<f4")
    nwords, dim = len(words), int(args["dim"])
    if inp.shape != (nwords + int(args["bucket"]), dim) or out.shape != (nwords, dim):
        raise ValueError(f"input matrix {inp.shape} and output matrix {out.shape} do not fit {nwords} words, "
                         f"{args['bucket']} buckets and dim {dim}")
    entries = bytearray()
    for word, count in zip(words, np.asarray(file.counts, dtype=np.int64).tolist()):
        entries += word.encode("utf-8") + b"\0" + _ENTRY_TAIL.pack(count, 0)
    with atomic_write(os.fspath(path)) as f:
        f.write(struct.pack("<2i", MAGIC, VERSION))
        f.write(_ARGS.pack(*(int(args[k]) for k in ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss",
                                                   "model", "bucket", "minn", "maxn", "lrUpdateRate")),
                           float(args["t"])))
        f.write(_DICT_HEAD.pack(nwords, nwords, 0, int(file.ntokens), -1))
        f.write(bytes(entries))
        for flag, matrix in ((0, inp), (0, out)):
            f.write(struct.pack("<B", flag))
            f.write(_MATRIX_HEAD.pack(*matrix.shape))
            f.write(memoryview(matrix).cast("B"))
