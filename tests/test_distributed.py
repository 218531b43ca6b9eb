"""embedcore.distributed against the single-machine functions, on a LocalCluster of two worker
processes and on Dask's threaded scheduler: every result is the single-machine result on the
concatenated input, including empty files, one file, a file with no word of the vocabulary, and
a worker killed in the middle of a computation."""
import bz2
import gzip
import inspect
import os
import signal
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec

pytest.importorskip("dask")
from embedcore import distributed as dd  # noqa: E402
from embedcore.datasets import synthetic_corpus  # noqa: E402
from embedcore.sharded import ShardedMatrix  # noqa: E402


def _local_cluster():
    distributed = pytest.importorskip("distributed")
    # no dashboard; the scheduler's small HTTP server (health checks) on a free port, not 8787
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                                       dashboard_address=None,
                                       scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"})
    return cluster, distributed.Client(cluster, set_as_default=False)


@pytest.fixture(scope="module")
def cluster_client():
    cluster, client = _local_cluster()
    yield client
    client.close()
    cluster.close()


@pytest.fixture(params=["threads", "cluster"])
def client(request):
    """Each test that takes it runs on Dask's threaded scheduler and on a 2-process LocalCluster."""
    if request.param == "threads":
        return "threads"
    return request.getfixturevalue("cluster_client")


def _write(path, text):
    opener = gzip.open if path.endswith(".gz") else bz2.open if path.endswith(".bz2") else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    """A synthetic corpus (Zipfian words with planted relations) cut into files of every kind:
    plain, .gz, .bz2, an empty file, one with blank lines only, one holding only words that are
    rare (outside the vocabulary at min_count=3) and one without a final newline."""
    d = tmp_path_factory.mktemp("corpus")
    data = synthetic_corpus(60_000, 2_000, seed=3)
    full = str(tmp_path_factory.mktemp("synthetic") / "full.txt")
    data.write_text(full)
    with open(full, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    n = len(lines)
    paths = [
        _write(str(d / "a.txt"), "".join(lines[: n // 3])),
        _write(str(d / "empty.txt"), ""),
        _write(str(d / "b.txt.gz"), "".join(lines[n // 3: n // 2])),
        _write(str(d / "blank.txt"), "\n\n  \n"),
        _write(str(d / "rare.txt"), "zzrare1 zzrare2\nzzrare3\n"),
        _write(str(d / "c.txt.bz2"), "".join(lines[n // 2: n - 5])),
        _write(str(d / "d.txt"), "".join(lines[n - 5:]).rstrip("\n")),
    ]
    return paths


@pytest.fixture(scope="module")
def vocab(corpus_files):
    return ec.Vocab.from_corpus(corpus_files, min_count=3)


@pytest.fixture(scope="module")
def cooc(corpus_files, vocab):
    return ec.cooccurrence(vocab.encode(corpus_files), len(vocab), window=5, device="cpu")


def assert_same_csr(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


def files_in(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def assert_only_committed_files(matrix):
    """The directory holds the manifest and the files of the manifest's shards, nothing else."""
    expected = {"manifest.json"} | {f"shard-{i:06d}.{a}.npy" for i in range(matrix.n_shards)
                                    for a in ("indptr", "indices", "data")}
    assert set(files_in(matrix.path)) == expected


# --- vocabulary and encoding -----------------------------------------------------------------


def test_build_vocab_equals_the_single_machine_vocab(corpus_files, vocab, client):
    got = dd.build_vocab(corpus_files, min_count=3, client=client)
    assert got.words == vocab.words
    np.testing.assert_array_equal(got.counts, vocab.counts)
    assert got.total_words == vocab.total_words


def test_build_vocab_breaks_ties_by_first_appearance_across_files(tmp_path, client):
    # y leads in the first file, but x appears first, and both end with count 2
    files = [_write(str(tmp_path / "1.txt"), "x y y\n"), _write(str(tmp_path / "2.txt"), "w x\n")]
    single = ec.Vocab.from_corpus(files, min_count=1)
    got = dd.build_vocab(files, min_count=1, client=client)
    assert single.words == ["x", "y", "w"]
    assert got.words == single.words
    np.testing.assert_array_equal(got.counts, single.counts)


def test_build_vocab_of_one_file_with_max_size_and_a_glob(corpus_files, tmp_path):
    single = ec.Vocab.from_corpus(corpus_files[0], min_count=1, max_size=50)
    got = dd.build_vocab(corpus_files[0], min_count=1, max_size=50, client="sync")
    assert got.words == single.words and len(got) == 50
    np.testing.assert_array_equal(got.counts, single.counts)
    assert got.total_words == single.total_words
    pattern = os.path.join(os.path.dirname(corpus_files[0]), "*.txt*")
    matched = sorted(p for p in corpus_files)
    assert dd.build_vocab(pattern, min_count=3, client="threads").words == \
        ec.Vocab.from_corpus(matched, min_count=3).words


def test_build_vocab_refuses_bad_input_naming_the_argument(tmp_path, corpus_files):
    with pytest.raises(FileNotFoundError, match="paths"):
        dd.build_vocab(str(tmp_path / "nothing-*.txt"))
    with pytest.raises(FileNotFoundError, match=r"paths: no such file"):
        dd.build_vocab([str(tmp_path / "missing.txt")])
    with pytest.raises(ValueError, match="paths must name at least one file"):
        dd.build_vocab([])
    with pytest.raises(TypeError, match="paths"):
        dd.build_vocab(42)
    with pytest.raises(ValueError, match="min_count"):
        dd.build_vocab(corpus_files, min_count=0)
    with pytest.raises(ValueError, match="no tokens"):
        dd.build_vocab([corpus_files[1], corpus_files[3]], client="sync")
    with pytest.raises(ValueError, match="min_count=1000000"):
        dd.build_vocab(corpus_files, min_count=1_000_000, client="sync")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xff\xfe broken\n")
    with pytest.raises(ValueError, match="UTF-8"):
        dd.build_vocab([corpus_files[0], str(bad)], client="sync")
    with pytest.raises(TypeError, match="client"):
        dd.build_vocab(corpus_files, client=3)
    with pytest.raises(ValueError, match="client"):
        dd.build_vocab(corpus_files, client="processes-please")


def test_encode_equals_the_single_machine_encoding(corpus_files, vocab, client):
    single = vocab.encode(corpus_files)
    got = dd.encode(corpus_files, vocab, client=client)
    np.testing.assert_array_equal(got.ids, single.ids)
    np.testing.assert_array_equal(got.offsets, single.offsets)
    assert got.raw_tokens == single.raw_tokens


# --- co-occurrence -----------------------------------------------------------------------------


@pytest.mark.parametrize("symmetric", [True, False])
def test_cooccurrence_with_unit_weights_is_bit_identical(corpus_files, vocab, client, symmetric):
    single = ec.cooccurrence(vocab.encode(corpus_files), len(vocab), window=4, symmetric=symmetric,
                             distance_weighting=False, device="cpu")
    got = dd.cooccurrence(corpus_files, vocab, window=4, symmetric=symmetric, distance_weighting=False,
                          client=client)
    assert_same_csr(got, single)


def test_cooccurrence_with_distance_weights_has_the_same_nonzeros_and_float32_values(
        corpus_files, vocab, cooc, client):
    got = dd.cooccurrence(corpus_files, vocab, window=5, client=client)
    np.testing.assert_array_equal(got.indptr, cooc.indptr)
    np.testing.assert_array_equal(got.indices, cooc.indices)
    # each file's sum is rounded to float32 once before the files are added
    np.testing.assert_allclose(got.data, cooc.data, rtol=1e-6, atol=0)


def test_cooccurrence_of_one_file_is_the_kernel_result(corpus_files, vocab):
    single = ec.cooccurrence(vocab.encode(corpus_files[0]), len(vocab), window=5, device="cpu")
    assert_same_csr(dd.cooccurrence(corpus_files[0], vocab, window=5, client="sync"), single)


def test_cooccurrence_of_files_without_vocabulary_words_is_empty(corpus_files, vocab):
    got = dd.cooccurrence([corpus_files[1], corpus_files[4]], vocab, client="threads")
    assert got.shape == (len(vocab), len(vocab)) and got.nnz == 0 and got.dtype == np.float32


def test_cooccurrence_written_as_row_range_shards(corpus_files, vocab, cooc, client, tmp_path):
    tree = dd.cooccurrence(corpus_files, vocab, window=5, client=client)
    out = str(tmp_path / "cooc")
    got = dd.cooccurrence(corpus_files, vocab, window=5, out_dir=out, max_memory=200_000, client=client)
    assert isinstance(got, ShardedMatrix) and got.n_shards > 3
    assert got.shape == cooc.shape and got.nnz == cooc.nnz
    assert_same_csr(got.to_scipy(), tree)
    assert_only_committed_files(got)
    for (lo, hi), piece in got:
        assert_same_csr(piece, tree[lo:hi])


def test_cooccurrence_refuses_a_directory_that_is_not_empty(corpus_files, vocab, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="out_dir .* is not empty"):
        dd.cooccurrence(corpus_files, vocab, out_dir=str(tmp_path), client="sync")
    assert files_in(tmp_path) == ["keep.txt"]


def test_cooccurrence_beyond_max_memory_asks_for_out_dir(corpus_files, vocab):
    with pytest.raises(MemoryError, match="out_dir"):
        dd.cooccurrence(corpus_files, vocab, max_memory=10_000, client="threads")


def test_cooccurrence_failure_removes_its_shards(corpus_files, vocab, tmp_path, client):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe not text\n")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="UTF-8"):
        dd.cooccurrence(corpus_files + [str(bad)], vocab, out_dir=str(out), client=client)
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ValueError, match="UTF-8"):
        dd.cooccurrence(corpus_files + [str(bad)], vocab, out_dir=str(existing), client=client)
    assert existing.exists() and files_in(existing) == []


def test_cooccurrence_refuses_bad_arguments(corpus_files, vocab):
    with pytest.raises(TypeError, match="vocab"):
        dd.cooccurrence(corpus_files, vocab.words)
    with pytest.raises(ValueError, match="window"):
        dd.cooccurrence(corpus_files, vocab, window=0)
    with pytest.raises(TypeError, match="symmetric"):
        dd.cooccurrence(corpus_files, vocab, symmetric="yes")
    with pytest.raises(ValueError, match="max_memory"):
        dd.cooccurrence(corpus_files, vocab, max_memory=0)


# --- PPMI and SVD ----------------------------------------------------------------------------


def random_counts(n_rows, n_cols, density=0.05, seed=0):
    rng = np.random.default_rng(seed)
    m = sp.random(n_rows, n_cols, density=density, format="csr", random_state=rng, dtype=np.float64)
    m.data = np.ceil(m.data * 20).astype(np.float64)  # small integer counts, as a corpus gives
    return m


def test_ppmi_is_bit_identical_for_a_cooccurrence_matrix(cooc, client):
    assert_same_csr(dd.ppmi(cooc, client=client), ec.ppmi(cooc))


@pytest.mark.parametrize("cds,shift", [(1.0, 1.0), (0.75, 5.0)])
def test_ppmi_is_bit_identical_for_random_counts(cds, shift, client):
    counts = random_counts(300, 200, seed=1).tolil()
    counts[7] = 0  # an empty row and an empty column
    counts[:, 11] = 0
    counts = counts.tocsr()
    assert_same_csr(dd.ppmi(counts, cds=cds, shift=shift, client=client), ec.ppmi(counts, cds=cds, shift=shift))


def test_ppmi_of_shards_written_as_shards(cooc, client, tmp_path):
    shards = ShardedMatrix.from_scipy(cooc, str(tmp_path / "cooc"), shard_bytes=50_000)
    got = dd.ppmi(shards, out_dir=str(tmp_path / "ppmi"), client=client)
    assert isinstance(got, ShardedMatrix) and got.row_ranges == shards.row_ranges
    assert_same_csr(got.to_scipy(), ec.ppmi(cooc))
    assert_only_committed_files(got)
    assert_same_csr(dd.ppmi(shards, client=client), ec.ppmi(cooc))


def test_ppmi_names_the_row_of_a_negative_count():
    counts = random_counts(50, 40, seed=2).tolil()
    counts[33, 5] = -1.0
    with pytest.raises(ValueError, match="row 33"):
        dd.ppmi(counts.tocsr(), client="threads")
    with pytest.raises(TypeError, match="matrix"):
        dd.ppmi(np.ones((3, 3)))
    with pytest.raises(ValueError, match="cds"):
        dd.ppmi(sp.csr_matrix(np.ones((3, 3))), cds=0)


def assert_same_svd(got, single):
    (u, s, vt), (u1, s1, vt1) = got, single
    np.testing.assert_allclose(s, s1, rtol=1e-4)  # the acceptance bound
    np.testing.assert_allclose(s, s1, rtol=1e-6, atol=0)  # products row by row as on one machine
    np.testing.assert_allclose(u, u1, atol=1e-5)
    np.testing.assert_allclose(vt, vt1, atol=1e-5)


def test_randomized_svd_gives_the_single_machine_factors(cooc, client):
    weighted = ec.ppmi(cooc)
    single = ec.randomized_svd(weighted, 12, n_oversamples=10, seed=4)
    assert_same_svd(dd.randomized_svd(weighted, 12, seed=4, client=client), single)


def test_randomized_svd_of_a_wide_matrix_and_of_shards(client, tmp_path):
    wide = random_counts(120, 400, density=0.08, seed=5).astype(np.float32)
    single = ec.randomized_svd(wide, 6, seed=0)
    assert_same_svd(dd.randomized_svd(wide, 6, client=client), single)
    shards = ShardedMatrix.from_scipy(wide, str(tmp_path / "wide"), rows_per_shard=17)
    assert_same_svd(dd.randomized_svd(shards, 6, client=client), single)


def test_defaults_are_the_single_machine_ones():
    """Same arguments, same result: the distributed functions default as the single-machine ones."""
    for ours, single, names in ((dd.randomized_svd, ec.randomized_svd, ("n_oversamples", "n_iter", "seed")),
                                (dd.ppmi, ec.ppmi, ("cds", "shift"))):
        ours, single = inspect.signature(ours).parameters, inspect.signature(single).parameters
        for name in names:
            assert ours[name].default == single[name].default, name


def test_randomized_svd_refuses_bad_arguments():
    m = random_counts(20, 10, seed=6)
    with pytest.raises(ValueError, match="k must be <= min"):
        dd.randomized_svd(m, 11)
    with pytest.raises(ValueError, match="must not be empty"):
        dd.randomized_svd(sp.csr_matrix((0, 5)), 1)
    with pytest.raises(ValueError, match="n_iter"):
        dd.randomized_svd(m, 2, n_iter=-1)
    bad = m.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dd.randomized_svd(bad, 2, client="sync")


def test_svd_embedding_fits_a_sharded_matrix(cooc, vocab, tmp_path):
    shards = ShardedMatrix.from_scipy(cooc, str(tmp_path / "cooc"), shard_bytes=40_000)
    single = ec.SVDEmbedding(vector_size=8).fit(cooc, vocab=vocab)
    got = ec.SVDEmbedding(vector_size=8).fit(shards, vocab=vocab)
    assert got.wv.words == single.wv.words
    np.testing.assert_allclose(got.singular_values_, single.singular_values_, rtol=1e-6)
    np.testing.assert_allclose(got.wv.vectors, single.wv.vectors, atol=1e-5)
    assert got.stats["nnz"] == single.stats["nnz"]


# --- top-k ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database():
    rng = np.random.default_rng(7)
    db = rng.standard_normal((700, 12)).astype(np.float32)
    db[450] = db[30]      # equal rows in different shards tie: lower global id first
    db[451] = 2 * db[30]  # and a parallel one
    db[100] = 0.0         # a zero row scores 0
    queries = rng.standard_normal((40, 12)).astype(np.float32)
    queries[0] = db[30]
    return queries, db


def shard_list(db):
    return [db[:0], db[:250], db[250:253], db[253:254], db[254:]]


@pytest.mark.parametrize("k", [1, 10, 60])
def test_cosine_topk_equals_the_search_of_the_concatenation(database, client, k):
    queries, db = database
    single = ec.cosine_topk(queries, db, k=k, device="cpu")
    got = dd.cosine_topk(queries, shard_list(db), k=k, client=client)
    np.testing.assert_array_equal(got[0], single[0])
    np.testing.assert_array_equal(got[1], single[1])
    assert got[1][0, :3].tolist() == [30, 450, 451][:k]


def test_cosine_topk_excludes_a_global_row_per_query(database, client):
    queries, db = database
    exclude = np.random.default_rng(8).integers(-1, len(db), len(queries))
    exclude[0], exclude[1], exclude[2] = 30, 252, 253  # rows in a 3-row and a 1-row shard
    single = ec.cosine_topk(queries, db, k=15, exclude=exclude, device="cpu")
    got = dd.cosine_topk(queries, shard_list(db), k=15, exclude=exclude, client=client)
    np.testing.assert_array_equal(got[0], single[0])
    np.testing.assert_array_equal(got[1], single[1])
    assert not (got[1] == exclude[:, None]).any()


def test_cosine_topk_of_every_row_but_the_excluded_one(database):
    queries, db = database
    small = db[:9]
    exclude = np.full(len(queries), 4)
    single = ec.cosine_topk(queries, small, k=8, exclude=exclude, device="cpu")
    got = dd.cosine_topk(queries, [small[:4], small[4:5], small[5:]], k=8, exclude=exclude, client="threads")
    np.testing.assert_array_equal(got[1], single[1])
    np.testing.assert_array_equal(got[0], single[0])


def test_cosine_topk_over_npy_files_and_a_dask_array(database, client, tmp_path):
    import dask.array as da
    queries, db = database
    paths = []
    for i, shard in enumerate(shard_list(db)):
        paths.append(str(tmp_path / f"shard{i}.npy"))
        np.save(paths[-1], shard)
    unit = db / np.maximum(np.linalg.norm(db, axis=1, keepdims=True), 1e-30)
    for shards, normalized, base in ((paths, False, db), (da.from_array(unit, chunks=(90, 6)), True, unit)):
        single = ec.cosine_topk(queries, base, k=7, normalized=normalized, device="cpu")
        got = dd.cosine_topk(queries, shards, k=7, normalized=normalized, client=client)
        np.testing.assert_array_equal(got[1], single[1])
        np.testing.assert_array_equal(got[0], single[0])


def test_cosine_topk_refuses_bad_input_naming_the_argument(database, tmp_path):
    queries, db = database
    with pytest.raises(ValueError, match=r"shards\[1\] with 5"):
        dd.cosine_topk(queries, [db, db[:, :5]], k=3)
    with pytest.raises(ValueError, match="k must be <= the number of database rows"):
        dd.cosine_topk(queries, [db[:3], db[3:5]], k=6)
    with pytest.raises(ValueError, match="k must be <= 4"):
        dd.cosine_topk(queries, [db[:3], db[3:5]], k=5, exclude=np.zeros(len(queries), dtype=int))
    with pytest.raises(ValueError, match="exclude"):
        dd.cosine_topk(queries, [db], k=3, exclude=[1, 2])
    with pytest.raises(FileNotFoundError, match=r"shards\[0\]"):
        dd.cosine_topk(queries, [str(tmp_path / "none.npy")], k=3)
    with pytest.raises(TypeError, match="shards"):
        dd.cosine_topk(queries, 5, k=3)
    with pytest.raises(ValueError, match="queries"):
        dd.cosine_topk(queries[:, :, None], [db], k=3)
    broken = db.copy()
    broken[500, 3] = np.nan
    with pytest.raises(ValueError, match=r"shards\[1\]"):
        dd.cosine_topk(queries, [db[:10], broken], k=3, client="sync")


# --- scheduler choice and progress -----------------------------------------------------------


def test_client_none_uses_the_current_client_else_threads(cluster_client):
    from embedcore.distributed._scheduler import resolve
    assert resolve(None).client is None and resolve(None).local == "threads"
    with cluster_client.as_current():
        assert resolve(None).client is cluster_client


def test_progress_shows_the_dask_progress_bar(corpus_files, capsys):
    dd.build_vocab(corpus_files, min_count=3, client="threads", progress=True)
    assert "Completed" in capsys.readouterr().out


# --- a worker killed in the middle -------------------------------------------------------------


def _slow_down(module_name, function_name, seconds, stray_in=None):
    """(Run on a worker.) Make module.function sleep first, so that a test can kill the worker
    while it runs; with `stray_in`, first leave a half-written shard file there, as a writer
    killed mid-write would."""
    import importlib
    import time as _time
    module = importlib.import_module(module_name)
    original = getattr(module, function_name)

    def slow(*args, **kwargs):
        if stray_in is not None:
            with open(os.path.join(stray_in, f"shard-000000.data.npy.tmp-{os.getpid()}"), "wb") as f:
                f.write(b"half")
        _time.sleep(seconds)
        return original(*args, **kwargs)

    setattr(module, function_name, slow)


def _kill_a_worker_running(client, key_prefix, timeout=30.0):
    """SIGKILL the process of a worker that is running a task whose key starts with key_prefix."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(str(key).startswith(key_prefix) for key in keys) and address in pids:
                time.sleep(0.3)  # into the task's sleep
                os.kill(pids[address], signal.SIGKILL)
                return
        time.sleep(0.05)
    raise AssertionError(f"no task {key_prefix}* started within {timeout} s")


def _run_in_background(function):
    result = {}

    def target():
        try:
            result["value"] = function()
        except BaseException as exc:  # handed to the test
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


@pytest.mark.parametrize("stage", ["count", "write"])
def test_a_worker_killed_mid_count_is_replaced_and_the_result_is_unchanged(corpus_files, vocab, tmp_path, stage):
    cluster, client = _local_cluster()
    try:
        out = str(tmp_path / "out")
        os.makedirs(out)
        if stage == "count":
            client.run(_slow_down, "embedcore.distributed._text", "_count_corpus", 1.5)
            prefix = "_count_cooccurrence"
        else:
            client.run(_slow_down, "embedcore.sharded", "write_shard", 1.5, out)
            prefix = "_write_rows"
        thread, result = _run_in_background(lambda: dd.cooccurrence(
            corpus_files, vocab, window=5, distance_weighting=False, out_dir=out, max_memory=400_000,
            client=client))
        _kill_a_worker_running(client, prefix)
        thread.join(120)
        assert "error" not in result, result.get("error")
        got = result["value"]
        single = ec.cooccurrence(vocab.encode(corpus_files), len(vocab), window=5, distance_weighting=False,
                                 device="cpu")
        assert_same_csr(got.to_scipy(), single)
        assert_only_committed_files(got)  # the killed writer's temporary file is gone
    finally:
        client.close()
        cluster.close()


def test_a_worker_killed_mid_svd_is_replaced_and_the_factors_are_unchanged(cooc):
    weighted = ec.ppmi(cooc)
    cluster, client = _local_cluster()
    try:
        client.run(_slow_down, "embedcore.distributed._matrix", "_matmul", 1.0)
        thread, result = _run_in_background(lambda: dd.randomized_svd(weighted, 5, n_iter=1, client=client))
        _kill_a_worker_running(client, "_matmul")  # the blocks it held are rebuilt elsewhere
        thread.join(120)
        assert "error" not in result, result.get("error")
        assert_same_svd(result["value"], ec.randomized_svd(weighted, 5, n_iter=1))
    finally:
        client.close()
        cluster.close()


def test_a_shared_value_survives_the_loss_of_every_worker_that_held_it():
    """A value every task reads (the vocabulary of a count, a factor of the SVD) must not be lost
    with the workers that held it: results computed from it are rebuilt on the new workers."""
    import distributed
    from embedcore.distributed._scheduler import Scheduler, delayed
    cluster, client = _local_cluster()
    try:
        scheduler = Scheduler(client)
        shared = scheduler.share(np.arange(10, dtype=np.int64))
        [total] = scheduler.persist([delayed(np.sum)(shared)])
        client.gather(distributed.futures_of(total))
        holders = {address for addresses in client.who_has(distributed.futures_of(total) +
                                                           distributed.futures_of(shared)).values()
                   for address in addresses}
        pids = client.run(os.getpid)
        for address in holders:
            os.kill(pids[address], signal.SIGKILL)
        assert scheduler.compute([delayed(int)(total)])[0] == 45
    finally:
        client.close()
        cluster.close()
