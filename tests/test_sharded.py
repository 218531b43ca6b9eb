"""ShardedMatrix: row-range CSR shards on disk with an atomically written manifest."""
import json
import mmap
import os

import numpy as np
import pytest
import scipy.sparse as sp

from embedcore import sharded
from embedcore.sharded import ShardedMatrix, ShardWriter


def random_csr(n_rows=60, n_cols=40, density=0.1, seed=0):
    m = sp.random(n_rows, n_cols, density=density, format="csr", dtype=np.float32,
                  random_state=np.random.default_rng(seed))
    m = m.tolil()
    m[5, :] = 0  # an empty row
    return m.tocsr()


def assert_same_csr(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


def test_round_trip_by_rows_per_shard(tmp_path):
    m = random_csr()
    s = ShardedMatrix.from_scipy(m, tmp_path / "m", rows_per_shard=7)
    assert s.shape == m.shape and s.nnz == m.nnz and s.dtype == np.float32
    assert s.row_ranges == [(lo, min(lo + 7, 60)) for lo in range(0, 60, 7)]
    assert_same_csr(s.to_scipy(), m)
    reopened = ShardedMatrix(str(tmp_path / "m"))
    for (lo, hi), piece in reopened:
        assert_same_csr(piece, m[lo:hi])


def test_shards_are_cut_by_bytes_and_a_large_row_gets_its_own(tmp_path):
    m = random_csr(density=0.05).tolil()
    m[10, :] = 1.0  # 40 nonzeros: 488 bytes, more than the budget
    m = m.tocsr()
    s = ShardedMatrix.from_scipy(m, tmp_path / "m", shard_bytes=200)
    assert (10, 11) in s.row_ranges
    for (lo, hi), piece in s:
        assert hi - lo == 1 or 12 * piece.nnz + 8 * (hi - lo) <= 200
    assert_same_csr(s.to_scipy(), m)


def test_local_shards_are_memory_mapped(tmp_path):
    s = ShardedMatrix.from_scipy(random_csr(), tmp_path / "m", rows_per_shard=30)
    piece = s.shard(0)
    for array in (piece.data, piece.indices):
        base = array
        while base is not None and not isinstance(base, (np.memmap, mmap.mmap)):
            base = getattr(base, "base", None)
        assert base is not None  # a view of the file's mapping, not a copy
        assert not array.flags.writeable
    assert s.shard(0, mmap=False).data.flags.writeable


def test_empty_matrices_and_empty_shards(tmp_path):
    zero_rows = ShardedMatrix.from_scipy(sp.csr_matrix((0, 4), dtype=np.float32), tmp_path / "a")
    assert zero_rows.shape == (0, 4) and zero_rows.to_scipy().shape == (0, 4)
    no_values = ShardedMatrix.from_scipy(sp.csr_matrix((3, 4), dtype=np.float32), tmp_path / "b")
    assert no_values.nnz == 0 and no_values.shard(0).shape == (3, 4)


def test_writer_commits_the_manifest_last_and_removes_everything_on_error(tmp_path):
    path = tmp_path / "m"
    with pytest.raises(RuntimeError, match="boom"):
        with ShardWriter(path, (4, 3)) as w:
            w.write(sp.csr_matrix(np.eye(2, 3, dtype=np.float32)))
            assert "manifest.json" not in os.listdir(path)  # not a matrix until committed
            raise RuntimeError("boom")
    assert not path.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(RuntimeError):
        with ShardWriter(existing, (2, 3)) as w:
            w.write(sp.csr_matrix(np.eye(2, 3, dtype=np.float32)))
            raise RuntimeError("boom")
    assert existing.exists() and os.listdir(existing) == []


def test_writer_refuses_rows_that_do_not_cover_the_shape(tmp_path):
    with pytest.raises(ValueError, match="cover rows"):
        with ShardWriter(tmp_path / "m", (5, 3)) as w:
            w.write(sp.csr_matrix(np.ones((2, 3), dtype=np.float32)))
    assert not (tmp_path / "m").exists()
    with ShardWriter(tmp_path / "n", (5, 3)) as w:
        with pytest.raises(ValueError, match="3 columns"):
            w.write(sp.csr_matrix(np.ones((2, 4), dtype=np.float32)))
        with pytest.raises(ValueError, match="exceed"):
            w.write(sp.csr_matrix(np.ones((6, 3), dtype=np.float32)))
        w.write(sp.csr_matrix(np.ones((5, 3), dtype=np.float32)))
    assert w.result.nnz == 15


def test_a_directory_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        ShardedMatrix.from_scipy(random_csr(), tmp_path)
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_commit_removes_leftover_temporary_and_unlisted_shard_files(tmp_path):
    path, created = sharded.prepare_directory(tmp_path / "m")
    assert created
    m = random_csr()
    entries = [sharded.write_shard(path, 0, 0, m[:30]), sharded.write_shard(path, 1, 30, m[30:])]
    sharded.write_shard(path, 7, 0, m[:1])  # a stray shard
    (tmp_path / "m" / "shard-000001.data.npy.tmp-deadbeef").write_bytes(b"half")  # a killed writer's
    (tmp_path / "m" / ".shard-000001.data.npy.0123456789ab.tmp").write_bytes(b"half")  # hidden, as _io names them
    s = sharded.commit(path, m.shape, entries)
    assert sorted(os.listdir(path)) == sorted(["manifest.json"] + [f"shard-00000{i}.{a}.npy" for i in (0, 1)
                                                                   for a in ("indptr", "indices", "data")])
    assert_same_csr(s.to_scipy(), m)


def test_a_shard_is_replaced_as_every_saved_file_is(tmp_path, monkeypatch):
    """Shard files go through the package's one atomic write: a rewrite that fails leaves the old
    file and nothing else; one that succeeds keeps the replaced file's permissions."""
    path, _ = sharded.prepare_directory(tmp_path / "m")
    m = random_csr()
    sharded.write_shard(path, 0, 0, m)
    data = tmp_path / "m" / "shard-000000.data.npy"
    os.chmod(data, 0o640)
    before = sorted(os.listdir(path)), data.read_bytes()
    real = np.lib.format.write_array

    def fail_midway(f, array, **kwargs):
        f.write(b"\x93NUMPY partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", fail_midway)
    with pytest.raises(OSError, match="No space"):
        sharded.write_shard(path, 0, 0, m * 2)
    assert (sorted(os.listdir(path)), data.read_bytes()) == before
    monkeypatch.setattr(np.lib.format, "write_array", real)
    sharded.write_shard(path, 0, 0, m * 2)  # a task that is rerun
    assert os.stat(data).st_mode & 0o777 == 0o640
    assert_same_csr(sharded.commit(path, m.shape, [sharded.write_shard(path, 0, 0, m * 2)]).to_scipy(), m * 2)


def test_opening_refuses_missing_or_inconsistent_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest"):
        ShardedMatrix(tmp_path)
    s = ShardedMatrix.from_scipy(random_csr(), tmp_path / "m", rows_per_shard=20)
    manifest = tmp_path / "m" / "manifest.json"
    good = manifest.read_text()
    manifest.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        ShardedMatrix(tmp_path / "m")
    bad = json.loads(good)
    bad["shards"][1]["rows"] = [21, 40]
    manifest.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="expected from 20"):
        ShardedMatrix(tmp_path / "m")
    manifest.write_text(good)
    os.remove(tmp_path / "m" / "shard-000001.indices.npy")
    with pytest.raises(FileNotFoundError, match="shard-000001"):
        s.shard(1)
    np.save(tmp_path / "m" / "shard-000001.indices.npy", np.full(s._shards[1][3], 99, dtype=np.int32))
    with pytest.raises(ValueError, match="column indices outside"):
        s.shard(1)
    np.save(tmp_path / "m" / "shard-000002.data.npy", np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="does not match the manifest"):
        s.shard(2)


def test_remove_deletes_the_matrix(tmp_path):
    s = ShardedMatrix.from_scipy(random_csr(), tmp_path / "m", rows_per_shard=20)
    s.remove()
    assert not (tmp_path / "m").exists()


def test_an_fsspec_url_holds_a_matrix_too():
    pytest.importorskip("fsspec")
    m = random_csr(seed=3)
    url = "memory://embedcore-test/sharded-m"
    s = ShardedMatrix.from_scipy(m, url, rows_per_shard=25)
    assert not s.is_local
    assert_same_csr(ShardedMatrix(url).to_scipy(), m)
    s.remove()
    with pytest.raises(FileNotFoundError):
        ShardedMatrix(url)
