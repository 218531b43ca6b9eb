"""PPMI and randomized SVD streamed over a ShardedMatrix (one shard in memory at a time), against
the same functions on the matrix in memory (``sharded.to_scipy()``), and their memory under a
limit.

Exactness: the SVD's products are the same float32 multiply-adds in the same order (A @ Q row by
row; A^T @ Q accumulated over the shards in row order, as one product with the whole transpose),
so U, S and Vt are bit-identical. The PPMI is bit-identical when the float64 column sums are
exact (integer counts, or any counts whose float32 binary exponents span few bits); otherwise the
shards add their column sums in another order than the in-memory row groups, and the result may
differ by float32 rounding of the column terms (tested to 1e-6).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore.sharded import ShardedMatrix, ShardWriter
from embedcore.svd import ppmi_bytes, streamed_ppmi_bytes, streamed_svd_bytes


def integer_counts(n_rows, n_cols, density, seed):
    rng = np.random.default_rng(seed)
    m = sp.random(n_rows, n_cols, density=density, format="csr", random_state=rng, dtype=np.float32)
    m.data = np.ceil(m.data * 50).astype(np.float32)
    return m


def assert_same_csr(got, want):
    got, want = sp.csr_matrix(got), sp.csr_matrix(want)
    assert got.shape == want.shape and got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def with_empty_pieces(counts, path):
    """`counts` written as shards that include a shard of no rows, one of rows without nonzeros
    and rows without nonzeros inside a shard."""
    counts = counts.tolil()
    counts[10:20, :] = 0  # a shard of empty rows
    counts[33, :] = 0     # an empty row inside a shard
    counts = counts.tocsr()
    counts.eliminate_zeros()
    with ShardWriter(path, counts.shape) as w:
        w.write(counts[0:10], row_begin=0)
        w.write(counts[10:10], row_begin=10)  # no rows
        w.write(counts[10:20], row_begin=10)
        w.write(counts[20:counts.shape[0]], row_begin=20)
    return w.result, counts


# ------------------------------------------------------------------ PPMI
def test_ppmi_of_one_shard_is_the_in_memory_ppmi(tmp_path):
    counts = integer_counts(80, 60, 0.3, 0)
    shards = ShardedMatrix.from_scipy(counts, tmp_path / "c", rows_per_shard=80)
    assert shards.n_shards == 1
    assert_same_csr(ec.ppmi(shards), ec.ppmi(counts))


@pytest.mark.parametrize("cds, shift", [(0.75, 1.0), (1.0, 5.0)])
def test_ppmi_of_several_shards_is_bit_identical_to_the_in_memory_ppmi(tmp_path, cds, shift):
    counts = integer_counts(200, 150, 0.2, 1)
    shards = ShardedMatrix.from_scipy(counts, tmp_path / "c", rows_per_shard=23)
    assert shards.n_shards == 9
    want = ec.ppmi(shards.to_scipy(), cds=cds, shift=shift)
    assert_same_csr(ec.ppmi(shards, cds=cds, shift=shift), want)
    out = ec.ppmi(shards, cds=cds, shift=shift, out_dir=tmp_path / "p")
    assert isinstance(out, ShardedMatrix)
    assert out.row_ranges == shards.row_ranges and out.shape == shards.shape and out.dtype == np.float32
    assert_same_csr(out.to_scipy(), want)


def test_ppmi_of_a_cooccurrence_matrix_written_as_shards_is_bit_identical(tmp_path):
    # 1/d-weighted counts: float32 sums of 1, 1/2, ..., 1/5 whose float64 column sums are exact
    rng = np.random.default_rng(3)
    corpus = ec.EncodedCorpus(rng.integers(0, 300, 30_000, dtype=np.int32))
    shards = ec.cooccurrence(corpus, 300, window=5, workers=2, max_memory=200_000, out_dir=tmp_path / "c")
    assert shards.n_shards > 1
    assert_same_csr(ec.ppmi(shards, workers=2), ec.ppmi(shards.to_scipy(), workers=2))


def test_ppmi_of_float_counts_over_many_binary_orders_matches_to_rounding(tmp_path):
    # counts from 1e-6 to 1e4: float64 column sums added in another order may differ in the last
    # bit, which can move a float32 column term by one unit in the last place (about 1e-7 of
    # cds * log n(c) <= 10)
    rng = np.random.default_rng(4)
    counts = integer_counts(120, 90, 0.3, 5)
    counts.data = (10.0 ** rng.uniform(-6, 4, counts.nnz)).astype(np.float32)
    shards = ShardedMatrix.from_scipy(counts, tmp_path / "c", rows_per_shard=17)
    np.testing.assert_allclose(ec.ppmi(shards).toarray(), ec.ppmi(counts).toarray(), rtol=0, atol=4e-6)


def test_ppmi_of_float64_shards_weights_their_float32_values(tmp_path):
    counts = integer_counts(40, 40, 0.4, 6).astype(np.float64)
    shards = ShardedMatrix.from_scipy(counts, tmp_path / "c", rows_per_shard=7)
    assert shards.dtype == np.float64
    assert_same_csr(ec.ppmi(shards), ec.ppmi(counts.astype(np.float32)))


def test_ppmi_over_empty_shards_and_empty_rows(tmp_path):
    shards, counts = with_empty_pieces(integer_counts(60, 50, 0.3, 7), tmp_path / "c")
    assert (0, 0) not in shards.row_ranges and (10, 10) in shards.row_ranges
    want = ec.ppmi(counts)
    assert_same_csr(ec.ppmi(shards), want)
    out = ec.ppmi(shards, out_dir=tmp_path / "p")
    assert out.row_ranges == shards.row_ranges
    assert_same_csr(out.to_scipy(), want)
    assert out.to_scipy()[10:20].nnz == 0 and out.to_scipy()[33].nnz == 0


def test_ppmi_of_shards_without_any_nonzero_is_empty(tmp_path):
    shards = ShardedMatrix.from_scipy(sp.csr_matrix((9, 4), dtype=np.float32), tmp_path / "c", rows_per_shard=4)
    got = ec.ppmi(shards)
    assert got.shape == (9, 4) and got.nnz == 0
    assert ec.ppmi(shards, out_dir=tmp_path / "p").nnz == 0


def test_ppmi_of_a_matrix_in_memory_with_out_dir_writes_row_range_shards(tmp_path):
    counts = integer_counts(70, 30, 0.3, 8)
    out = ec.ppmi(counts, out_dir=tmp_path / "p")
    assert isinstance(out, ShardedMatrix) and out.shape == (70, 30)
    assert_same_csr(out.to_scipy(), ec.ppmi(counts))


def test_ppmi_names_the_shard_and_row_of_a_bad_count_and_leaves_nothing(tmp_path):
    dense = integer_counts(30, 20, 0.5, 9).toarray()
    dense[17, 3] = -2.0
    shards = ShardedMatrix.from_scipy(sp.csr_matrix(dense), tmp_path / "c", rows_per_shard=8)
    with pytest.raises(ValueError, match=r"cooc shard 2 \(rows 16\.\.24\) must hold finite, non-negative counts, "
                                         r"got -2\.0 in row 17"):
        ec.ppmi(shards, out_dir=tmp_path / "p")
    assert not (tmp_path / "p").exists()
    (tmp_path / "mine").mkdir()
    dense[17, 3] = np.nan
    nan = ShardedMatrix.from_scipy(sp.csr_matrix(dense), tmp_path / "n", rows_per_shard=8)
    with pytest.raises(ValueError, match=r"cooc shard 2 \(rows 16\.\.24\) .* got nan in row 17"):
        ec.ppmi(nan, out_dir=tmp_path / "mine")
    assert os.listdir(tmp_path / "mine") == []  # a directory the caller made stays, empty


def test_ppmi_that_fails_while_writing_shards_leaves_nothing(tmp_path, monkeypatch):
    from embedcore.backends import cpu
    shards = ShardedMatrix.from_scipy(integer_counts(40, 40, 0.3, 19), tmp_path / "c", rows_per_shard=10)
    weigh, calls = cpu.ppmi_with_column_sums, []

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return weigh(*args)
    monkeypatch.setattr(cpu, "ppmi_with_column_sums", failing)
    with pytest.raises(OSError, match="disk full"):
        ec.ppmi(shards, out_dir=tmp_path / "p")
    assert not (tmp_path / "p").exists()
    (tmp_path / "mine").mkdir()
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        ec.ppmi(shards, out_dir=tmp_path / "mine")
    assert os.listdir(tmp_path / "mine") == []


def test_ppmi_bad_arguments_are_named(tmp_path):
    shards = ShardedMatrix.from_scipy(integer_counts(10, 10, 0.5, 10), tmp_path / "c", rows_per_shard=4)
    with pytest.raises(ValueError, match="cds"):
        ec.ppmi(shards, cds=0)
    with pytest.raises(ValueError, match="shift"):
        ec.ppmi(shards, shift=-1.0)
    with pytest.raises(ValueError, match="on the CPU"):
        ec.ppmi(shards, device="cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        ec.ppmi(shards, device="tpu")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(ValueError, match="out_dir .* is not empty"):
        ec.ppmi(shards, out_dir=tmp_path / "full")
    assert os.listdir(tmp_path / "full") == ["x"]
    with pytest.raises(TypeError, match="out_dir"):
        ec.ppmi(shards, out_dir=3)
    with pytest.raises((TypeError, ValueError), match="cooc"):
        ec.ppmi("not a matrix", out_dir=tmp_path / "p")
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------ randomized SVD
def assert_same_svd(got, want):
    for g, w, name in zip(got, want, ("U", "S", "Vt")):
        assert g.dtype == w.dtype == np.float32, name
        np.testing.assert_array_equal(g, w, err_msg=name)


@pytest.mark.parametrize("rows_per_shard", [300, 41, 1])
def test_randomized_svd_of_shards_is_bit_identical_to_the_in_memory_one(tmp_path, rows_per_shard):
    X = integer_counts(300, 120, 0.1, 11)
    shards = ShardedMatrix.from_scipy(X, tmp_path / "x", rows_per_shard=rows_per_shard)
    assert_same_svd(ec.randomized_svd(shards, 6, seed=3, workers=2), ec.randomized_svd(X, 6, seed=3, workers=2))


def test_randomized_svd_of_a_wide_sharded_matrix_is_bit_identical(tmp_path):
    # more columns than rows: the range finder works on the transpose, so the products swap
    X = integer_counts(90, 400, 0.08, 12)
    shards = ShardedMatrix.from_scipy(X, tmp_path / "x", rows_per_shard=20)
    assert_same_svd(ec.randomized_svd(shards, 5, n_iter=2, n_oversamples=3, seed=1),
                    ec.randomized_svd(X, 5, n_iter=2, n_oversamples=3, seed=1))


def test_randomized_svd_over_empty_shards_and_empty_rows(tmp_path):
    shards, X = with_empty_pieces(integer_counts(60, 50, 0.3, 13), tmp_path / "x")
    got = ec.randomized_svd(shards, 4, seed=2)
    assert_same_svd(got, ec.randomized_svd(X, 4, seed=2))
    assert not got[0][10:20].any() and not got[0][33].any()


def test_randomized_svd_of_shards_finds_the_singular_values(tmp_path):
    X = integer_counts(150, 80, 0.2, 14)
    shards = ShardedMatrix.from_scipy(X, tmp_path / "x", rows_per_shard=50)
    _, s, _ = ec.randomized_svd(shards, 5, n_iter=8)
    np.testing.assert_allclose(s, np.linalg.svd(X.toarray(), compute_uv=False)[:5], rtol=1e-3)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # the inf - inf of the finiteness check
def test_randomized_svd_of_shards_bad_arguments_are_named(tmp_path):
    X = integer_counts(20, 12, 0.5, 15)
    shards = ShardedMatrix.from_scipy(X, tmp_path / "x", rows_per_shard=6)
    with pytest.raises(ValueError, match=r"k must be <= min\(X.shape\) = 12, got 13"):
        ec.randomized_svd(shards, 13)
    with pytest.raises(ValueError, match="n_iter"):
        ec.randomized_svd(shards, 2, n_iter=-1)
    with pytest.raises(ValueError, match="on the CPU"):
        ec.randomized_svd(shards, 2, device="cuda")
    empty = ShardedMatrix.from_scipy(sp.csr_matrix((0, 5), dtype=np.float32), tmp_path / "e", rows_per_shard=1)
    with pytest.raises(ValueError, match="X must not be empty"):
        ec.randomized_svd(empty, 1)
    dense = X.toarray()
    dense[13, 0] = np.inf
    bad = ShardedMatrix.from_scipy(sp.csr_matrix(dense), tmp_path / "b", rows_per_shard=6)
    with pytest.raises(ValueError, match=r"X shard 2 \(rows 12\.\.18\) contains NaN or infinity"):
        ec.randomized_svd(bad, 2)


# ------------------------------------------------------------------ SVDEmbedding
@pytest.fixture
def own_tempdir(tmp_path, monkeypatch):
    """tempfile's directory for the test: where SVDEmbedding puts the PPMI shards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_svd_embedding_of_shards_is_bit_identical_and_leaves_no_files(tmp_path, own_tempdir):
    counts = integer_counts(120, 120, 0.2, 16)
    words = [f"w{i}" for i in range(120)]
    shards = ShardedMatrix.from_scipy(counts, tmp_path / "c", rows_per_shard=25)
    got = ec.SVDEmbedding(vector_size=6, seed=4, workers=2).fit(shards, vocab=words)
    want = ec.SVDEmbedding(vector_size=6, seed=4, workers=2).fit(shards.to_scipy(), vocab=words)
    np.testing.assert_array_equal(got.wv.vectors, want.wv.vectors)
    np.testing.assert_array_equal(got.singular_values_, want.singular_values_)
    np.testing.assert_array_equal(got.components_, want.components_)
    assert got.stats["nnz"] == want.stats["nnz"] and got.wv.words == words
    assert os.listdir(own_tempdir) == []


def test_svd_embedding_of_shards_without_vocab_factorises_them_as_they_are(tmp_path, own_tempdir):
    X = integer_counts(100, 40, 0.2, 17)
    shards = ShardedMatrix.from_scipy(X, tmp_path / "x", rows_per_shard=30)
    got = ec.SVDEmbedding(vector_size=4).fit(shards)
    want = ec.SVDEmbedding(vector_size=4).fit(X)
    np.testing.assert_array_equal(got.components_, want.components_)
    np.testing.assert_array_equal(got.fit_transform(shards), want.fit_transform(X))
    assert os.listdir(own_tempdir) == []


def test_svd_embedding_of_bad_shards_raises_naming_them_and_leaves_no_files(tmp_path, own_tempdir):
    dense = integer_counts(30, 30, 0.4, 18).toarray()
    dense[25, 1] = -1.0
    shards = ShardedMatrix.from_scipy(sp.csr_matrix(dense), tmp_path / "c", rows_per_shard=10)
    words = [str(i) for i in range(30)]
    model = ec.SVDEmbedding(vector_size=3)
    with pytest.raises(ValueError, match=r"cooc shard 2 \(rows 20\.\.30\) .* in row 25"):
        model.fit(shards, vocab=words)
    assert not model.is_fitted
    assert os.listdir(own_tempdir) == []
    with pytest.raises(ValueError, match="vocab must have one word per row of X"):
        ec.SVDEmbedding(vector_size=3).fit(shards, vocab=words[:29])
    with pytest.raises(ValueError, match=r"vector_size must be <= min\(X.shape\) = 30"):
        ec.SVDEmbedding(vector_size=31).fit(shards, vocab=words)
    cuda = ec.SVDEmbedding(vector_size=3)
    cuda.device = "cuda"  # as a GPU machine's SVDEmbedding(device="cuda") holds it
    with pytest.raises(ValueError, match="on the CPU"):
        cuda.fit(shards, vocab=words)
    with pytest.raises(TypeError, match="X must be a scipy.sparse matrix, a 2-D array, a ShardedMatrix"):
        ec.SVDEmbedding(vector_size=3).fit(object(), vocab=words)
    assert os.listdir(own_tempdir) == []


def test_svd_embedding_of_shards_runs_on_dask_in_a_process_with_a_client(tmp_path, monkeypatch, own_tempdir):
    # with a dask.distributed Client started, the shards are weighted and factorised as tasks
    # (here the client check is stood in for, and Dask's threaded scheduler runs the tasks)
    pytest.importorskip("dask")
    from embedcore import distributed, svd
    calls = []
    real = distributed.randomized_svd
    monkeypatch.setattr(svd, "_current_dask_client", lambda: object())
    monkeypatch.setattr(distributed, "randomized_svd", lambda *a, **k: calls.append(1) or real(*a, **k))
    counts = integer_counts(60, 60, 0.3, 22)
    words = [str(i) for i in range(60)]
    shards = ShardedMatrix.from_scipy(counts, tmp_path / "c", rows_per_shard=20)
    got = ec.SVDEmbedding(vector_size=4).fit(shards, vocab=words)
    want = ec.SVDEmbedding(vector_size=4).fit(counts, vocab=words)
    assert calls == [1]
    np.testing.assert_allclose(got.singular_values_, want.singular_values_, rtol=1e-6)
    assert os.listdir(own_tempdir) == []


# ------------------------------------------------------------------ memory
def test_streamed_estimates_hold_one_block_and_not_the_matrix():
    # 1M x 1M, 1G nonzeros in 100 shards of 10M: PPMI in memory needs 8 GB of result
    shape, shards = (1_000_000, 1_000_000), [(10_000, 10_000_000)] * 100
    assert ppmi_bytes(shape, 10 ** 9) > 8 * 10 ** 9
    groups = 10  # a shard's partials: one per million nonzeros of the shard (nnz // n_cols)
    assert streamed_ppmi_bytes(shape, shards) == (8 * 10 ** 6 + 8 * groups * 10 ** 6 + 4 * 10 ** 6
                                                  + 24 * 10 ** 7 + 24 * 10_001)
    assert streamed_ppmi_bytes(shape, shards, in_memory_result=True) == \
        streamed_ppmi_bytes(shape, shards) + 8 * 10 ** 9 + 8 * (10 ** 6 + 1)
    # the SVD: the dense blocks (p = 110) and one shard with its transpose
    assert streamed_svd_bytes(shape, shards, 100, 10, 2) == (16 * 2 * 10 ** 6 * 110 + 29 * 10 ** 7 + 8 * 10_001
                                                             + 8 * (10 ** 6 + 1) + 8 * 2 * 10 ** 6)


_LIMITED = """
import os, re, resource, sys
import numpy as np, embedcore as ec
from embedcore.sharded import ShardedMatrix

def vmsize():
    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmSize:'))

side, path, headroom = sys.argv[1], sys.argv[2], int(sys.argv[3])
shards = ShardedMatrix(path)
# OpenMP threads, malloc arenas and the BLAS's buffers up before the limit
ec.ppmi(shards.shard(0), workers=2)
ec.randomized_svd(shards.shard(0)[:300], 5, workers=2)
X = shards.to_scipy() if side == "memory" else shards
resource.setrlimit(resource.RLIMIT_AS, (vmsize() + headroom, resource.RLIM_INFINITY))
out = os.path.join(os.environ["TMPDIR"], "ppmi")
for what, call in (("ppmi", lambda: ec.ppmi(X, workers=2, out_dir=out if side == "shards" else None)),
                   ("svd", lambda: ec.randomized_svd(X, 5, n_oversamples=5, n_iter=2, workers=2))):
    try:
        result = call()
        print(what, "ok", result[1][:3] if what == "svd" else result.nnz, flush=True)
        if what == "ppmi" and side == "shards":
            result.remove()
    except MemoryError as exc:
        print(what, "MemoryError:", exc, flush=True)
"""

MB = 1 << 20


@pytest.fixture(scope="module")
def big_counts(tmp_path_factory):
    """20M nonzeros over 50k x 50k (400 per row) in 20 shards of 1M: 240 MB of shards."""
    n, per_row, rows = 50_000, 400, 2_500
    path = tmp_path_factory.mktemp("big") / "c"
    rng = np.random.default_rng(0)
    step = n // per_row
    with ShardWriter(path, (n, n)) as writer:
        for lo in range(0, n, rows):
            cols = (np.arange(lo, lo + rows)[:, None] * 7 % step + np.arange(per_row)[None, :] * step)
            data = rng.integers(1, 60, rows * per_row).astype(np.float32)
            writer.write(sp.csr_matrix((data, cols.ravel().astype(np.int32), np.arange(rows + 1) * per_row),
                                       shape=(rows, n)))
    return str(path)


def _limited(side, path, headroom, tmp_path):
    tmp = tmp_path / side
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), MALLOC_ARENA_MAX="2", OMP_NUM_THREADS="2")
    # run outside the source tree, so that `-c` imports the installed embedcore, not ./embedcore
    done = subprocess.run([sys.executable, "-c", _LIMITED, side, path, str(headroom)], capture_output=True,
                          text=True, env=env, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, (done.stdout, done.stderr[-3000:])
    assert os.listdir(tmp) == [], "files left behind"
    return dict(line.split(" ", 1) for line in done.stdout.strip().splitlines())


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc")


@linux_only
def test_a_matrix_too_large_for_memory_is_weighted_and_factorised_as_shards(big_counts, tmp_path):
    # under 96 MB more address space: in memory, the PPMI result (160 MB) and the SVD's
    # transposed copy (160 MB) cannot fit, and each MemoryError names the bytes and the way out;
    # streamed, one 1M-nonzero shard at a time, both fit
    memory = _limited("memory", big_counts, 96 * MB, tmp_path)
    assert memory["ppmi"].startswith("MemoryError: ppmi of 20000000 nonzeros (50000 x 50000) needs "
                                     f"{ppmi_bytes((50_000, 50_000), 20_000_000)} bytes"), memory["ppmi"]
    assert "out_dir=" in memory["ppmi"] and "ShardedMatrix" in memory["ppmi"]
    assert memory["svd"].startswith("MemoryError: randomized_svd of a 50000 x 50000 matrix"), memory["svd"]
    assert "ShardedMatrix" in memory["svd"]
    shards = _limited("shards", big_counts, 96 * MB, tmp_path)
    assert shards["ppmi"].startswith("ok"), shards
    assert shards["svd"].startswith("ok"), shards


@linux_only
def test_streaming_under_a_limit_it_cannot_meet_raises_and_leaves_nothing(big_counts, tmp_path):
    got = _limited("shards", big_counts, 16 * MB, tmp_path)
    shard = (2_500, 1_000_000)
    need = streamed_ppmi_bytes((50_000, 50_000), [shard] * 20)
    assert got["ppmi"].startswith(f"MemoryError: ppmi of 20 row blocks of at most 1000000 nonzeros (50000 x 50000) "
                                  f"needs {need} bytes"), got["ppmi"]
    assert "smaller shards" in got["ppmi"]
    need = streamed_svd_bytes((50_000, 50_000), [shard] * 20, 5, 5, 2)
    assert got["svd"].startswith("MemoryError: randomized_svd of a 50000 x 50000 ShardedMatrix (20 shards of at "
                                 f"most 1000000 nonzeros) with k=5 needs {need} bytes"), got["svd"]


# ------------------------------------------------------------------ the accumulating product
@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
@pytest.mark.parametrize("p", [1, 21, 130])
def test_a_product_accumulated_over_row_blocks_of_the_transpose_is_bit_identical(isa, p):
    # A^T Y as the sum over row blocks of A of (block^T)(its rows of Y), accumulated in block
    # order into one output, against the one product with the whole transpose; p = 130 spans
    # several column blocks of every kernel, 21 a masked tail
    from embedcore import _native
    from embedcore.backends import cpu
    if isa != "baseline" and _native.spmm_isa() not in (isa, "avx512"):
        pytest.skip(f"CPU lacks {isa}")
    A = cpu.csr_matrix(sp.random(90, 70, density=0.2, format="csr", random_state=20, dtype=np.float32))
    Y = np.random.default_rng(21).standard_normal((90, p)).astype(np.float32)

    def product(csr, x, out, accumulate):
        _native.csr_matmul(csr.indptr, csr.indices, csr.data, csr.shape[1], x, out, 2, isa, accumulate=accumulate)

    whole = np.empty((70, p), np.float32)
    product(cpu.csr_transpose(A, 1), Y, whole, False)
    summed = np.zeros((70, p), np.float32)
    full = sp.csr_matrix((A.data, A.indices, A.indptr), shape=A.shape)
    for lo, hi in ((0, 13), (13, 14), (14, 60), (60, 90)):
        product(cpu.csr_transpose(cpu.csr_matrix(full[lo:hi]), 1), np.ascontiguousarray(Y[lo:hi]), summed, True)
    np.testing.assert_array_equal(summed, whole)
    np.testing.assert_allclose(whole, full.T.toarray() @ Y, rtol=1e-4, atol=1e-4)
    again = whole.copy()
    product(cpu.csr_transpose(A, 1), Y, again, True)  # accumulating onto a result doubles it
    np.testing.assert_allclose(again, 2 * whole, rtol=1e-4, atol=1e-4)
