"""Memory estimates and the MemoryError raised before a stage allocates more than it may.

Each stage runs in a child process (this file run as a script) whose address space is limited
with RLIMIT_AS to what it holds after building its input plus a headroom the stage cannot meet;
the child must end with embedcore's MemoryError (naming the bytes needed), not be killed, and
leave nothing in its temporary directory.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore import _memory
from embedcore.cooccurrence import in_memory_count_bytes
from embedcore.sharded import ShardedMatrix
from embedcore.similarity import topk_bytes
from embedcore.svd import ppmi_bytes, svd_working_bytes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and RLIMIT_AS")

MB = 1 << 20


# ------------------------------------------------------------------ parsing of the limits
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_meminfo_available_reads_kilobytes(tmp_path):
    write(tmp_path / "meminfo", "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:    2000000 kB\n")
    assert _memory.meminfo_available(str(tmp_path)) == 2_000_000 * 1024


def test_meminfo_without_memavailable_is_none(tmp_path):
    write(tmp_path / "meminfo", "MemTotal:       24000000 kB\n")
    assert _memory.meminfo_available(str(tmp_path)) is None
    assert _memory.meminfo_available(str(tmp_path / "missing")) is None


def test_cgroup_v2_headroom_is_the_smallest_over_the_ancestors(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "self" / "cgroup", "0::/a/b\n")
    write(root / "a" / "memory.max", "1000000\n")
    write(root / "a" / "memory.current", "400000\n")
    write(root / "a" / "b" / "memory.max", "max\n")
    write(root / "a" / "b" / "memory.current", "300000\n")
    assert _memory.cgroup_headroom(str(proc), str(root)) == 600_000


def test_cgroup_v2_without_a_limit_is_none(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "self" / "cgroup", "0::/\n")
    write(root / "memory.max", "max\n")
    assert _memory.cgroup_headroom(str(proc), str(root)) is None


def test_cgroup_v2_usage_above_the_limit_leaves_nothing(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "self" / "cgroup", "0::/job\n")
    write(root / "job" / "memory.max", "1000\n")
    write(root / "job" / "memory.current", "5000\n")
    assert _memory.cgroup_headroom(str(proc), str(root)) == 0


def test_cgroup_v1_headroom_and_its_unlimited_value(tmp_path):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "self" / "cgroup", "5:cpu,cpuacct:/\n4:memory:/job\n0::/\n")
    write(root / "memory" / "job" / "memory.limit_in_bytes", "2000000\n")
    write(root / "memory" / "job" / "memory.usage_in_bytes", "500000\n")
    assert _memory.cgroup_headroom(str(proc), str(root)) == 1_500_000
    write(root / "memory" / "job" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert _memory.cgroup_headroom(str(proc), str(root)) is None


def test_limits_name_each_source_and_available_bytes_takes_the_smallest(tmp_path, monkeypatch):
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    write(proc / "meminfo", "MemAvailable: 3000 kB\n")
    write(proc / "self" / "cgroup", "0::/job\n")
    write(root / "job" / "memory.max", "1000000\n")
    write(root / "job" / "memory.current", "0\n")
    monkeypatch.setattr(_memory, "PROC", str(proc))
    monkeypatch.setattr(_memory, "CGROUP_ROOT", str(root))
    found = _memory.limits()
    assert found["available system memory"] == 3000 * 1024
    assert found["the cgroup memory limit less its usage"] == 1_000_000
    assert _memory.available_bytes() == 1_000_000
    with pytest.raises(MemoryError, match=r"needs 2000000 bytes .* only 1000000 bytes .* \(the cgroup"):
        _memory.require(2_000_000, "a stage")
    _memory.require(1_000_000, "a stage")  # exactly what is there fits


def test_available_bytes_without_any_limit_is_unbounded(tmp_path, monkeypatch):
    monkeypatch.setattr(_memory, "PROC", str(tmp_path))
    monkeypatch.setattr(_memory, "CGROUP_ROOT", str(tmp_path))
    monkeypatch.setattr(_memory, "address_space_headroom", lambda proc=None: None)
    assert _memory.available_bytes() == sys.maxsize
    _memory.require(1 << 62, "a stage")


def test_require_names_max_memory_and_every_hint():
    with pytest.raises(MemoryError) as info:
        _memory.require(5000, "cooccurrence", ["pass max_memory=", "a smaller window"], max_memory=4000)
    assert str(info.value) == ("cooccurrence needs 5000 bytes (5.0 kB) but max_memory allows 4000 bytes "
                               "(4.0 kB); pass max_memory=; or a smaller window")


def test_address_space_headroom_follows_rlimit_as(tmp_path):
    code = ("import resource; from embedcore import _memory; "
            "resource.setrlimit(resource.RLIMIT_AS, (1 << 40, resource.RLIM_INFINITY)); "
            "print(_memory.address_space_headroom()); "
            "print(next(l for l in open('/proc/self/status') if l.startswith('VmSize')).split()[1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout.split()
    headroom, vmsize = int(out[0]), int(out[1]) * 1024
    assert abs((1 << 40) - vmsize - headroom) < 16 * MB


# ------------------------------------------------------------------ the estimates
def test_in_memory_count_bytes_formula():
    counts = np.array([100, 3, 0], dtype=np.int64)  # 103 tokens, V = 3, window 2, symmetric
    # loose rows: min(3, 4 * 100), min(3, 4 * 3), 0 -> 6 nonzeros
    fixed = 13 * 3 * 2 + 12 * 3
    assert in_memory_count_bytes(counts, 2, True, 2) == fixed + 8 * 103 + (40 + 16) * 3 + 12 * 6


def test_in_memory_count_bytes_bounds_the_kernels_own_account():
    rng = np.random.default_rng(0)
    corpus = ec.EncodedCorpus(rng.integers(0, 500, 20_000, dtype=np.int32))
    ec.cooccurrence(corpus, 500, window=5, workers=2)
    counts = np.bincount(corpus.ids, minlength=500)
    assert ec.cooccurrence.last_stats["working_bytes"] <= in_memory_count_bytes(counts, 5, True, 2)


def test_glove_fit_bytes_formula():
    model = ec.GloVe(vector_size=20)  # rows padded to 32 floats
    # the order of the nonzeros (4 bytes each, and 4 bytes of row hints per 64) and the model
    assert model.fit_bytes(1000, 10) == 4 * 1000 + 4 * (1000 // 64 + 2) + 4 * 10 * (4 * 32 + 4)
    # from 2**32 nonzeros on, an order entry takes 8 bytes
    big = 1 << 33
    assert model.fit_bytes(big, 10) == 8 * big + 4 * (big // 64 + 2) + 4 * 10 * (4 * 32 + 4)


def test_svd_working_bytes_formula():
    assert svd_working_bytes((100, 50), 700, 5, 10) == 8 * 700 + 8 * 51 + 16 * 150 * 15
    assert svd_working_bytes((100, 8), 0, 5, 10) == 16 * 108 * 8  # dense: no transposed copy


def test_ppmi_bytes_formula():
    # the result (8 per nonzero, 8 per row and one), the column sums with their partials over
    # g row groups and their float32 logs, the row sums; g = nnz // n_cols here (14)
    assert ppmi_bytes((100, 50), 700) == 8 * 700 + 8 * 101 + 8 * 15 * 50 + 4 * 50 + 8 * 100
    # at most 16 groups, at most one per row, at least one
    assert ppmi_bytes((100, 50), 5000) == 8 * 5000 + 8 * 101 + 8 * 17 * 50 + 4 * 50 + 8 * 100
    assert ppmi_bytes((3, 50), 1000) == 8 * 1000 + 8 * 4 + 8 * 4 * 50 + 4 * 50 + 8 * 3
    assert ppmi_bytes((3, 50), 10) == 8 * 10 + 8 * 4 + 8 * 2 * 50 + 4 * 50 + 8 * 3
    # a wide matrix: at most 256 MiB of partials
    wide = 1 << 24
    assert ppmi_bytes((100, wide), 1 << 30) == 8 * (1 << 30) + 8 * 101 + 8 * 3 * wide + 4 * wide + 8 * 100


def test_topk_bytes_counts_the_float32_copy_only_when_one_is_made():
    q32 = np.zeros((10, 8), dtype=np.float32)
    db32 = np.zeros((100, 8), dtype=np.float32)
    base = topk_bytes(q32, db32, 5, True, 1)
    assert base == 12 * 10 * 5 * 2 + 4 * (1024 * 8 + 256 * 1024)
    assert topk_bytes(q32, db32.astype(np.float64), 5, True, 1) == base + 4 * 100 * 8
    assert topk_bytes(q32, np.asfortranarray(db32), 5, False, 1) == base + 4 * 100 * 8 + 4 * 10 * 8


def test_stages_that_fit_do_not_raise(monkeypatch):
    rng = np.random.default_rng(1)
    corpus = ec.EncodedCorpus(rng.integers(0, 50, 5000, dtype=np.int32))
    X = ec.cooccurrence(corpus, 50, window=3, workers=1)
    ec.ppmi(X)
    ec.randomized_svd(X, 5)
    ec.cosine_topk(rng.random((5, 8)), rng.random((40, 8)), k=3)
    ec.GloVe(vector_size=8, epochs=1, workers=1).fit(X, vocab=[str(i) for i in range(50)])


# ------------------------------------------------------------------ each stage under a limit
def _cooccurrence_corpus():
    # 3M uniform ids over 500k words, window 5: ~30M distinct pairs, a 240 MB result
    rng = np.random.default_rng(7)
    return ec.EncodedCorpus(rng.integers(0, 500_000, 3_000_000, dtype=np.int32))


WORDS = [f"w{i}" for i in range(100)]


def _write_text(path, lines):
    """`lines` lines of the 100 WORDS."""
    with open(path, "w") as f:
        f.write((" ".join(WORDS) + "\n") * lines)


def _stage(name):
    """(setup, run) of one stage: setup builds the input (before the limit), run is the call."""
    if name in ("cooccurrence", "cooccurrence_bounded", "cooccurrence_out_dir"):
        def setup():
            ec.cooccurrence(ec.EncodedCorpus(np.arange(100, dtype=np.int32) % 7), 7, workers=2)  # threads up
            return _cooccurrence_corpus()
        max_memory = 64 * MB if name == "cooccurrence_bounded" else None
        return setup, lambda c: ec.cooccurrence(c, 500_000, window=5, workers=2, max_memory=max_memory)
    if name == "glove":
        def setup():  # 1M words x 100 (stride 112): a 1.8 GB model for a 1M-nonzero matrix
            n = 1_000_000
            return sp.identity(n, dtype=np.float32, format="csr"), [f"w{i}" for i in range(n)]
        return setup, lambda X, words: ec.GloVe(vector_size=100, epochs=1, workers=2).fit(X, vocab=words)
    if name == "glove_shards":
        def setup():  # the same model, the identity written as 4 shards of 250k rows
            n = 1_000_000
            path = os.path.join(os.environ["TMPDIR"], "cooc")
            shards = ShardedMatrix.from_scipy(sp.identity(n, dtype=np.float32, format="csr"), path,
                                                 rows_per_shard=n // 4)
            return shards, [f"w{i}" for i in range(n)]

        def run(shards, words):
            try:
                ec.GloVe(vector_size=100, epochs=1, workers=2).fit(shards, vocab=words)
            finally:
                shards.remove()
        return setup, run
    if name == "ppmi":
        def setup():  # 40M nonzeros: a 320 MB result
            n, per_row = 400_000, 100
            indptr = np.arange(n + 1, dtype=np.int64) * per_row
            indices = (np.arange(n * per_row, dtype=np.int64) % n).astype(np.int32)
            indices = np.sort(indices.reshape(n, per_row), axis=1).ravel()
            return sp.csr_matrix((np.ones(n * per_row, np.float32), indices, indptr), shape=(n, n))
        return setup, lambda X: ec.ppmi(X, workers=2)
    if name == "svd":
        def setup():  # 5M x 5M, k=100: 16 GB of dense blocks
            return sp.identity(5_000_000, dtype=np.float32, format="csr")
        return setup, lambda X: ec.randomized_svd(X, 100, workers=2)
    if name == "topk":
        def setup():  # a float64 database of 1M x 512 (a broadcast view): a 2 GB float32 copy
            ec.cosine_topk(np.ones((2, 4), np.float32), np.ones((3, 4), np.float32), k=1, workers=2)
            return np.ones((10, 512)), np.broadcast_to(np.linspace(0, 1, 512), (1_000_000, 512))
        return setup, lambda q, db: ec.cosine_topk(q, db, k=5, workers=2, device="cpu")
    if name in ("word2vec", "fasttext"):
        def setup():  # 1M words x 300: 2.4 GB of vectors; fastText adds 10M buckets
            n = 1_000_000
            vocab = ec.Vocab([f"w{i}" for i in range(n)], np.full(n, 5, dtype=np.int64))
            return ec.EncodedCorpus(np.arange(n, dtype=np.int32) % 1000), vocab
        if name == "word2vec":
            return setup, lambda c, v: ec.Word2Vec(vector_size=300, epochs=1, workers=2, device="cpu").fit(c, v)
        return setup, lambda c, v: ec.FastText(vector_size=300, epochs=1, workers=2, bucket=10_000_000,
                                               device="cpu").fit(c, v)
    if name == "encode":
        def setup():  # 8M tokens of text: a 32 MB id array
            path = os.path.join(os.environ["TMPDIR"], "corpus.txt")
            _write_text(path, 80_000)
            return ec.Vocab(WORDS, np.ones(len(WORDS), dtype=np.int64)), path

        def run(vocab, path):
            try:
                # one worker: each further thread reserves address space (its stack, a malloc
                # arena) that this address-space limit counts although it is never touched
                vocab.encode(path, workers=1)
            finally:
                os.unlink(path)
        return setup, run
    raise KeyError(name)


def _vmsize():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


def _child(name, headroom):
    import resource
    setup, run = _stage(name)
    inputs = setup()
    resource.setrlimit(resource.RLIMIT_AS, (_vmsize() + headroom, resource.RLIM_INFINITY))
    if name == "cooccurrence_out_dir":  # the same count, its result written as shards: it fits
        shards = ec.cooccurrence(inputs, 500_000, window=5, workers=2, max_memory=64 * MB,
                                 out_dir=os.path.join(os.environ["TMPDIR"], "cooc"))
        print(f"nnz {shards.nnz} shards {shards.n_shards}", flush=True)
        shards.remove()
        return 0
    try:
        run(*inputs if isinstance(inputs, tuple) else (inputs,))
    except MemoryError as exc:
        print(f"MemoryError: {exc}", flush=True)
        return 0
    print("no MemoryError", flush=True)
    return 1


STAGES = {  # name: address-space headroom of the child
    "cooccurrence": 160 * MB, "cooccurrence_bounded": 160 * MB, "glove": 256 * MB, "glove_shards": 256 * MB,
    "ppmi": 192 * MB,
    "svd": 256 * MB, "topk": 256 * MB, "word2vec": 256 * MB, "fasttext": 256 * MB,
    # encode: the output (32 MB) is held as it is made, and the parallel pass holds a few 4 MB
    # chunks, a read-ahead block and thread stacks beside it; the copy-out then cannot fit
    "encode": 80 * MB,
}


def _run_child(name, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # encode reads ahead on a second thread; with one malloc arena, whether that thread maps an
    # arena of its own (address space the limit counts) does not depend on lock timing
    env = dict(os.environ, TMPDIR=str(tmp), MALLOC_ARENA_MAX="1" if name == "encode" else "2",
               OMP_NUM_THREADS="2")
    done = subprocess.run([sys.executable, __file__, name, str(STAGES[name])], capture_output=True, text=True,
                          env=env, timeout=600)
    return done, tmp


_RESULT_NNZ = []


def _cooccurrence_result_bytes():
    if not _RESULT_NNZ:
        _RESULT_NNZ.append(ec.cooccurrence(_cooccurrence_corpus(), 500_000, window=5, workers=2).nnz)
    return 8 * _RESULT_NNZ[0]


NEEDED = {  # name: the bytes its message must name
    "cooccurrence": _cooccurrence_result_bytes,
    "cooccurrence_bounded": _cooccurrence_result_bytes,
    "glove": lambda: ec.GloVe(vector_size=100).fit_bytes(1_000_000, 1_000_000),
    # the largest shard read (12 bytes per nonzero, 8 per row and one), its order, the model
    "glove_shards": lambda: (12 * 250_000 + 8 * 250_001 + ec.GloVe(vector_size=100).fit_bytes(250_000, 1_000_000)),
    "ppmi": lambda: ppmi_bytes((400_000, 400_000), 40_000_000),
    "svd": lambda: svd_working_bytes((5_000_000, 5_000_000), 5_000_000, 100, 10),
    "topk": lambda: topk_bytes(np.ones((10, 512)), np.broadcast_to(np.zeros(512), (1_000_000, 512)), 5, False, 2),
    "word2vec": lambda: 8 * 1_000_000 * 300,
    "fasttext": lambda: 4 * 300 * (2 * 1_000_000 + 10_000_000),
    "encode": lambda: 4 * 8_000_000 + 8 * 80_001,
}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_raises_memoryerror_under_a_limit_it_cannot_meet(name, tmp_path):
    done, tmp = _run_child(name, tmp_path)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-3000:])
    message = done.stdout.strip().splitlines()[-1]
    needed = re.search(r"needs (\d+) bytes", message)
    available = re.search(r"but only (\d+) bytes", message)
    assert needed and available, message
    assert int(needed.group(1)) == NEEDED[name](), message
    assert int(needed.group(1)) > int(available.group(1)), message
    assert ";" in message, message  # the options that would make it fit
    assert os.listdir(tmp) == [], "the stage left files behind"


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2])))


# ------------------------------------------------------------------ a memory-mapped corpus
def test_mmap_load_of_a_200mb_corpus_stays_out_of_resident_memory(tmp_path):
    code = f"""
import numpy as np, embedcore as ec
def rss():
    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmRSS'))
ids = np.arange(50_000_000, dtype=np.int32) % 100_000  # 200 MB
ec.EncodedCorpus(ids, np.arange(0, 50_000_001, 1000)).save({str(tmp_path / 'c')!r})
del ids
before = rss()
corpus = ec.EncodedCorpus.load({str(tmp_path / 'c')!r}, mmap=True)
after = rss()
assert isinstance(corpus.ids, np.memmap) and len(corpus) == 50_000_000
print(after - before)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    grown = int(done.stdout.split()[-1])
    assert grown < 10 * MB, f"loading a 200 MB corpus with mmap grew the resident memory by {grown} bytes"


def test_load_of_a_corpus_saved_without_its_id_range_reads_and_checks_the_ids(tmp_path):
    ec.EncodedCorpus([3, 1, 2], raw_tokens=5).save(tmp_path / "c")
    np.save(tmp_path / "c.raw_tokens.npy", np.array([5], dtype=np.int64))  # as saved before the range was kept
    back = ec.EncodedCorpus.load(tmp_path / "c")
    assert back.raw_tokens == 5 and back.ids.tolist() == [3, 1, 2]
    np.save(tmp_path / "c.ids.npy", np.array([3, -1, 2], dtype=np.int32))
    with pytest.raises(ValueError, match="non-negative"):
        ec.EncodedCorpus.load(tmp_path / "c")


def test_load_refuses_a_stored_id_range_that_cannot_be_right(tmp_path):
    ec.EncodedCorpus([3, 1, 2]).save(tmp_path / "c")
    assert np.load(tmp_path / "c.raw_tokens.npy").tolist() == [3, 1, 3]
    np.save(tmp_path / "c.raw_tokens.npy", np.array([3, -4, 3], dtype=np.int64))
    with pytest.raises(ValueError, match=r"ids in \[-4, 3\]"):
        ec.EncodedCorpus.load(tmp_path / "c")


def test_ids_changed_after_the_save_are_caught_where_they_are_used(tmp_path):
    ec.EncodedCorpus(np.array([0, 1, 2, 1, 0], dtype=np.int32)).save(tmp_path / "c")
    ids = np.load(tmp_path / "c.ids.npy", mmap_mode="r+")
    ids[2] = -7  # the stored range no longer tells the truth
    ids.flush()
    del ids
    corpus = ec.EncodedCorpus.load(tmp_path / "c", mmap=True)
    vocab = ec.Vocab(["a", "b", "c"], [2, 2, 1])
    with pytest.raises(ValueError, match="ids must"):
        ec.cooccurrence(corpus, 3, window=2)
    with pytest.raises(ValueError, match="ids must"):
        ec.Word2Vec(vector_size=4, epochs=1, min_count=1, workers=1).fit(corpus, vocab)


def test_encode_peaks_at_its_output_plus_a_bounded_buffer(tmp_path):
    path = tmp_path / "corpus.txt"
    _write_text(path, 200_000)  # 20M tokens: 80 MB of ids
    code = f"""
import resource, numpy as np, embedcore as ec
vocab = ec.Vocab({WORDS!r}, np.ones({len(WORDS)}, dtype=np.int64))
vocab.encode([["w1"]])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
corpus = vocab.encode({str(path)!r})
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(grown, corpus.ids.nbytes + corpus.offsets.nbytes)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    grown, output = map(int, done.stdout.split())
    assert output == 4 * 20_000_000 + 8 * 200_001
    assert grown < output + 24 * MB, f"encode grew the peak by {grown} bytes for {output} bytes of output"


# ------------------------------------------------------------------ a count written as shards
def _small_corpus():
    rng = np.random.default_rng(3)
    return ec.EncodedCorpus(rng.integers(0, 3000, 200_000, dtype=np.int32), np.arange(0, 200_001, 50))


def test_bounded_count_with_out_dir_writes_the_same_matrix_as_shards(tmp_path):
    expected = ec.cooccurrence(_small_corpus(), 3000, window=5, workers=2)
    shards = ec.cooccurrence(_small_corpus(), 3000, window=5, workers=2, max_memory=2_000_000,
                             out_dir=tmp_path / "cooc")
    assert isinstance(shards, ec.sharded.ShardedMatrix) and shards.n_shards > 1
    assert ec.cooccurrence.last_stats["shards"] == shards.n_shards
    got = shards.to_scipy()
    assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)  # bit-identical


def test_in_memory_count_with_out_dir_writes_it_as_shards(tmp_path):
    expected = ec.cooccurrence(_small_corpus(), 3000, window=5, workers=2)
    shards = ec.cooccurrence(_small_corpus(), 3000, window=5, workers=2, out_dir=tmp_path / "cooc")
    assert (shards.to_scipy() != expected).nnz == 0


def test_a_count_that_fails_midway_leaves_no_shards(tmp_path, monkeypatch):
    from embedcore import _native
    calls = []
    count = _native.cooccur_count_occurrences

    def fail_on_the_third_range(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return count(*args)

    monkeypatch.setattr(_native, "cooccur_count_occurrences", fail_on_the_third_range)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ec.cooccurrence(_small_corpus(), 3000, window=5, workers=2, max_memory=2_000_000, out_dir=tmp_path / "cooc")
    assert not (tmp_path / "cooc").exists()


def test_a_result_too_large_for_memory_fits_as_shards(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), MALLOC_ARENA_MAX="2", OMP_NUM_THREADS="2")
    done = subprocess.run([sys.executable, __file__, "cooccurrence_out_dir", str(STAGES["cooccurrence"])],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, (done.stdout, done.stderr[-3000:])
    assert f"nnz {_cooccurrence_result_bytes() // 8} " in done.stdout
    assert os.listdir(tmp) == []
