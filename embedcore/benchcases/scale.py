"""One machine at scale: a synthetic Zipf corpus through every stage, with time, peak memory and
temporary disk per stage.

The corpus is `tokens` word ids drawn independently from a Zipf law (exponent 1) over `types`
word types, written as text (each word "w" + its base-36 rank padded to five characters, one
sentence of 20 words per line) into a temporary folder. Then: vocabulary (text pass), encode,
bounded co-occurrence (window 10, `max_memory`), GloVe (1 epoch) and PPMI-SVD on those counts, and
skip-gram (1 epoch) on the encoded corpus. Peak RSS of a stage is the largest resident size of
this process sampled every 50 ms while it runs; "disk" is the largest drop of free space on the
temporary folder's file system during the stage (other users of the disk add noise) and the size
of the files left in the folder at its end. A stage whose known need (bytes per nonzero, as
measured) exceeds the available memory is skipped and says so rather than risk the OOM killer on
a shared machine (GloVe's need is its own estimate, `GloVe.fit_bytes`). PPMI-SVD runs in memory
when its estimate (`ppmi_bytes` + `svd_working_bytes`) fits the memory this process may use, and
otherwise streams over shards: the counts are written as a ShardedMatrix in the temporary folder
(part of the stage's time and disk) and weighted and factorised one shard at a time
(`streamed_ppmi_bytes`, `streamed_svd_bytes`). The folder is removed at the end whatever happens.
"""
import os
import shutil
import tempfile
import threading
import time

import numpy as np

from embedcore.benchcases._registry import Row, case

SENTENCE = 20           # words per line
WIDTH = 6               # bytes per word in the text: "w", four base-36 digits, a separator
_GIB = float(1 << 30)
SVD_DIM, SVD_OVERSAMPLES = 100, 10  # SVDEmbedding's vector_size and n_oversamples here
# shard size when PPMI-SVD streams (ShardedMatrix.from_scipy's default)
SHARD_BYTES = 256 << 20


def _rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def available_memory():
    """MemAvailable of /proc/meminfo in bytes (0 when unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def ppmi_svd_memory():
    """Bytes the PPMI-SVD stage may use: embedcore's own bound (available memory, a cgroup limit,
    RLIMIT_AS)."""
    from embedcore import _memory
    return _memory.available_bytes()


def ppmi_svd_needs(cooc, workers, shard_bytes):
    """(bytes in memory, bytes streamed over shards of about `shard_bytes`) of
    SVDEmbedding(vector_size=SVD_DIM).fit on the counts `cooc` (a scipy CSR), by embedcore's
    estimates; the PPMI's nonzeros are bounded by the counts'."""
    from embedcore import sharded
    from embedcore.svd import ppmi_bytes, streamed_ppmi_bytes, streamed_svd_bytes, svd_working_bytes
    shape, nnz = cooc.shape, cooc.nnz
    in_memory = ppmi_bytes(shape, nnz) + svd_working_bytes(shape, nnz, SVD_DIM, SVD_OVERSAMPLES)
    bounds = sharded.plan_row_ranges(np.diff(cooc.indptr) * 12 + 8, shard_bytes)
    shards = [(hi - lo, int(cooc.indptr[hi] - cooc.indptr[lo])) for lo, hi in zip(bounds[:-1], bounds[1:])]
    streamed = max(streamed_ppmi_bytes(shape, shards),
                   streamed_svd_bytes(shape, shards, SVD_DIM, SVD_OVERSAMPLES, workers))
    return in_memory, streamed


def _folder_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


class Stage:
    """Times a block and samples RSS and free disk in a thread while it runs."""

    def __init__(self, name, folder):
        self.name, self.folder = name, folder
        self.seconds = self.peak_rss = self.disk_drop = self.files = 0
        self.note = ""
        self.failed = False

    def _free(self):
        st = os.statvfs(self.folder)
        return st.f_bavail * st.f_frsize

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak_rss = max(self.peak_rss, _rss())
            self.disk_drop = max(self.disk_drop, self._free_start - self._free())

    def __enter__(self):
        self._stop = threading.Event()
        self._free_start = self._free()
        self.peak_rss = _rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._start = time.perf_counter()
        return self

    def __exit__(self, kind, value, tb):
        self.seconds = time.perf_counter() - self._start
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, _rss())
        self.disk_drop = max(self.disk_drop, self._free_start - self._free())
        self.files = _folder_bytes(self.folder)
        if kind is not None and issubclass(kind, MemoryError):
            # recorded as the stage's outcome; what needs its result is skipped
            self.note = f"failed: MemoryError: {value}"
            self.failed = True
            return True
        return False

    def describe(self):
        return (f"{self.name}: {self.seconds:.1f} s, peak RSS {self.peak_rss / _GIB:.2f} GiB, "
                f"disk {max(self.disk_drop, 0) / _GIB:.2f} GiB (files left {self.files / _GIB:.2f} GiB)"
                + (f"; {self.note}" if self.note else ""))


def _alias_table(p):
    """Walker's alias method: (prob, alias) so that a draw is i = uniform int, kept with prob[i],
    else alias[i]."""
    n = len(p)
    scaled = p * n
    prob = np.zeros(n)
    alias = np.zeros(n, dtype=np.int64)
    small = list(np.flatnonzero(scaled < 1.0))
    large = list(np.flatnonzero(scaled >= 1.0))
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    for i in small + large:
        prob[i], alias[i] = 1.0, i
    return prob, alias


def _word_table(types):
    """(types, WIDTH) bytes: "w" + base-36 rank, space padded, last byte a space."""
    digits = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    table = np.full((types, WIDTH), ord(" "), dtype=np.uint8)
    table[:, 0] = ord("w")
    rank = np.arange(types)
    length = np.maximum(1, np.ceil(np.log(rank + 1) / np.log(36) + 1e-12).astype(int))
    length[rank == 0] = 1
    if types > 36 ** (WIDTH - 2):
        raise ValueError(f"types must be at most {36 ** (WIDTH - 2)}")
    for pos in range(WIDTH - 2):
        # digit `pos` from the left of a `length`-digit number
        power = np.maximum(length - 1 - pos, 0)
        digit = (rank // 36 ** power) % 36
        table[:, 1 + pos] = np.where(pos < length, digits[digit], ord(" "))
    return table


def write_zipf_corpus(path, tokens, types, seed=0, chunk=20_000_000):
    """Write `tokens` Zipf(1) words over `types` types to `path` (SENTENCE words a line)."""
    p = 1.0 / np.arange(1, types + 1)
    prob, alias = _alias_table(p / p.sum())
    table = _word_table(types)
    rng = np.random.default_rng(seed)
    chunk -= chunk % SENTENCE
    with open(path, "wb") as f:
        for start in range(0, tokens, chunk):
            n = min(chunk, tokens - start)
            i = rng.integers(0, types, n)
            ids = np.where(rng.random(n) < prob[i], i, alias[i])
            text = table[ids]
            text[SENTENCE - 1 - start % SENTENCE::SENTENCE, WIDTH - 1] = ord("\n")
            text[-1, WIDTH - 1] = ord("\n")
            f.write(text.tobytes())


def run_scale(tokens, types=1 << 20, max_memory=2 << 30, workers=2, folder=None, stages=None, log=print):
    """Run the pipeline; returns a list of finished `Stage`s (skipped ones carry a note)."""
    import embedcore as ec
    from embedcore.sharded import ShardedMatrix
    wanted = set(stages or ("vocab", "encode", "cooccurrence", "glove", "ppmi-svd", "skipgram"))
    done = []
    scratch = tempfile.mkdtemp(prefix="embedcore-scale-", dir=folder)
    old_tempdir = tempfile.tempdir
    tempfile.tempdir = scratch  # the bounded count spills under tempfile.gettempdir()

    def stage(name):
        s = Stage(name, scratch)
        done.append(s)
        return s

    try:
        path = os.path.join(scratch, "corpus.txt")
        with stage("write corpus") as s:
            write_zipf_corpus(path, tokens, types)
        if s.failed:
            return done
        s.note = f"{tokens:,} tokens, {types:,} types, {os.path.getsize(path) / _GIB:.2f} GiB of text"
        log(s.describe())
        with stage("vocab") as s:
            vocab = ec.Vocab.from_corpus(path, min_count=5)
            s.note = f"{len(vocab):,} words with min_count=5"
        log(s.describe())
        if s.failed:
            return done
        with stage("encode") as s:
            corpus = vocab.encode(path)
            s.note = f"{len(corpus):,} tokens kept"
        log(s.describe())
        if s.failed:
            return done
        os.remove(path)
        cooc = None
        if wanted & {"cooccurrence", "glove", "ppmi-svd"}:
            with stage("cooccurrence") as s:
                cooc = ec.cooccurrence(corpus, len(vocab), window=10, workers=workers, device="cpu",
                                       max_memory=max_memory)
                s.note = f"window 10, max_memory {max_memory / _GIB:.1f} GiB, {cooc.nnz:,} nonzeros"
            log(s.describe())
        if "glove" in wanted and cooc is not None:
            # its own estimate: the order of the nonzeros and the model
            need = ec.GloVe(vector_size=100).fit_bytes(cooc.nnz, len(vocab))
            have = available_memory()
            if need > have:
                s = stage("glove")
                s.note = (f"skipped: needs about {need / _GIB:.1f} GiB ({need / cooc.nnz:.1f} B per nonzero with "
                          f"the model, GloVe.fit_bytes), {have / _GIB:.1f} GiB available")
            else:
                model = None
                with stage("glove") as s:
                    model = ec.GloVe(vector_size=100, epochs=1, workers=workers, device="cpu")
                    model.fit(cooc, vocab=vocab.words)
                    s.note = f"1 epoch, dim 100, cost {model.loss_history[-1]:.4f}"
                del model
            log(s.describe())
        if "ppmi-svd" in wanted and cooc is not None:
            in_memory, streamed = ppmi_svd_needs(cooc, workers, SHARD_BYTES)
            have = ppmi_svd_memory()
            if min(in_memory, streamed) > have:
                s = stage("ppmi-svd")
                s.note = (f"skipped: needs about {in_memory / _GIB:.1f} GiB in memory and {streamed / _GIB:.1f} "
                          f"GiB streamed over shards (embedcore's estimates), {have / _GIB:.1f} GiB available")
            else:
                model = None
                with stage("ppmi-svd") as s:
                    model = ec.SVDEmbedding(vector_size=SVD_DIM, n_oversamples=SVD_OVERSAMPLES, workers=workers,
                                            device="cpu")
                    how = f"in memory (needs about {in_memory / _GIB:.1f} GiB)"
                    if in_memory > have:  # the counts go to disk as shards; the copy in memory is dropped
                        start = time.perf_counter()
                        counts = ShardedMatrix.from_scipy(cooc, os.path.join(scratch, "cooc-shards"),
                                                          shard_bytes=SHARD_BYTES)
                        cooc = None
                        how = (f"streamed over {counts.n_shards} shards (in memory it needs about "
                               f"{in_memory / _GIB:.1f} GiB, {have / _GIB:.1f} GiB available; streamed "
                               f"{streamed / _GIB:.1f} GiB; shards written in {time.perf_counter() - start:.1f} s)")
                    else:
                        counts = cooc
                    model.fit(counts, vocab=vocab)
                    if isinstance(counts, ShardedMatrix):
                        counts.remove()
                    s.note = f"dim {SVD_DIM}, cds 0.75, n_iter 5, {how}; " + ", ".join(
                        f"{k} {v:.1f}" for k, v in model.stats.items() if k.endswith("seconds"))
                    del counts
                del model
            log(s.describe())
        del cooc
        if "skipgram" in wanted:
            model = None
            with stage("skipgram") as s:
                model = ec.Word2Vec(vector_size=100, window=5, negative=5, sg=1, epochs=1, workers=workers,
                                    device="cpu")
                model.fit(corpus, vocab=vocab)
                s.note = f"1 epoch, dim 100, window 5, negative 5, {len(corpus) / (time.perf_counter() - s._start) / 1e6:.2f}M tokens/s"
            del model
            log(s.describe())
        return done
    finally:
        tempfile.tempdir = old_tempdir
        shutil.rmtree(scratch, ignore_errors=True)


def rows_of(stages, tokens):
    return [Row("scale", f"{tokens:,} tokens: {s.name}", "-", None, s.seconds,
                ours_quality=f"peak RSS {s.peak_rss / _GIB:.2f} GiB, disk {max(s.disk_drop, 0) / _GIB:.2f} GiB",
                notes=f"{s.name}: {s.note}" if s.note else "") for s in stages]


@case("scale", "pipeline", "1B-token Zipf corpus: text -> vocab -> encode -> bounded co-occurrence -> GloVe, "
      "PPMI-SVD, skip-gram; time, peak RSS and disk per stage (quick: 10M tokens)", on_request=True)
def scale(ctx):
    tokens = 10_000_000 if ctx.quick else 1_000_000_000
    return rows_of(run_scale(tokens, workers=ctx.workers, folder=ctx.scratch or None), tokens)
