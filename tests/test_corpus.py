"""EncodedCorpus: validation and the memory-mappable .npy pair."""
import os

import numpy as np
import pytest

import embedcore as ec


def test_save_and_load_round_trip_memory_mapped(tmp_path):
    corpus = ec.EncodedCorpus(np.array([3, 1, 2, 0, 1], dtype=np.int32), np.array([0, 2, 5]))
    corpus.save(tmp_path / "c")
    back = ec.EncodedCorpus.load(tmp_path / "c")
    assert isinstance(back.ids, np.memmap)
    assert back.ids.tolist() == corpus.ids.tolist() and back.offsets.tolist() == [0, 2, 5]
    assert [s.tolist() for s in back] == [[3, 1], [2, 0, 1]]
    assert not list(tmp_path.glob("*.tmp"))


def test_raw_tokens_round_trip_and_default(tmp_path):
    corpus = ec.EncodedCorpus([3, 1, 2], raw_tokens=10)
    corpus.save(tmp_path / "c")
    assert ec.EncodedCorpus.load(tmp_path / "c").raw_tokens == 10
    (tmp_path / "c.raw_tokens.npy").unlink()  # as saved before raw_tokens was kept
    assert ec.EncodedCorpus.load(tmp_path / "c").raw_tokens == 3
    assert ec.EncodedCorpus([1, 2]).raw_tokens == 2
    with pytest.raises(ValueError, match="raw_tokens"):
        ec.EncodedCorpus([1, 2, 3], raw_tokens=2)


def test_load_without_mmap_reads_into_memory(tmp_path):
    ec.EncodedCorpus([1, 2]).save(tmp_path / "c")
    back = ec.EncodedCorpus.load(tmp_path / "c", mmap=False)
    assert not isinstance(back.ids, np.memmap) and back.ids.tolist() == [1, 2]


def test_load_of_a_missing_or_foreign_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no encoded corpus"):
        ec.EncodedCorpus.load(tmp_path / "none")
    np.save(tmp_path / "c.ids.npy", np.zeros(3, dtype=np.float64))
    np.save(tmp_path / "c.offsets.npy", np.array([0, 3]))
    with pytest.raises(ValueError, match="int32"):
        ec.EncodedCorpus.load(tmp_path / "c")


@pytest.mark.parametrize("ids,offsets,match", [
    ([0, 1, 2], [0, 2], "end at len"), ([0, 1], [1, 2], "start at 0"), ([0, 1], [0, 2, 1, 2], "non-decreasing"),
    ([0, -1], None, "non-negative"), ([[0, 1]], None, "1-D"), ([0.5], None, "integers")])
def test_invalid_arrays_are_rejected(ids, offsets, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ec.EncodedCorpus(ids, offsets)


def test_lengths_and_sentences():
    corpus = ec.EncodedCorpus([5, 6, 7], [0, 1, 3])
    assert len(corpus) == 3 and corpus.n_sentences == 2
    assert corpus.sentence(1).tolist() == [6, 7]


def test_a_source_that_must_be_read_twice_cannot_be_a_pipe(tmp_path):
    import os
    from embedcore.corpus import check_restartable
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="can be read only once"):
        check_restartable(str(fifo))
    (tmp_path / "c.txt").write_text("a b\n")
    check_restartable(str(tmp_path / "c.txt"))


def test_a_directory_is_not_a_source(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        ec.Vocab.from_corpus(tmp_path)


# ------------------------------------------------------------------------- all-or-nothing save
def saved(path):
    back = ec.EncodedCorpus.load(path, mmap=False)
    return back.ids.tolist(), back.offsets.tolist(), back.raw_tokens


OLD = ec.EncodedCorpus([1, 2, 3, 4], [0, 1, 4], raw_tokens=9)
NEW = ec.EncodedCorpus([5, 6], [0, 2], raw_tokens=2)


def test_a_full_disk_on_the_second_file_leaves_the_whole_old_corpus(tmp_path, monkeypatch):
    # before, the new ids were already renamed over the old ones when the offsets failed
    OLD.save(tmp_path / "c")
    real_save, calls = np.save, []

    def disk_full_on_the_second_file(file, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_save(file, array, **kwargs)

    monkeypatch.setattr(np, "save", disk_full_on_the_second_file)
    with pytest.raises(OSError, match="No space left"):
        NEW.save(tmp_path / "c")
    monkeypatch.setattr(np, "save", real_save)
    assert saved(tmp_path / "c") == saved_of(OLD)
    assert sorted(os.listdir(tmp_path)) == ["c.ids.npy", "c.offsets.npy", "c.raw_tokens.npy"]


def saved_of(corpus):
    return corpus.ids.tolist(), corpus.offsets.tolist(), corpus.raw_tokens


def test_a_save_killed_during_the_renames_loads_as_the_new_corpus(tmp_path, monkeypatch):
    OLD.save(tmp_path / "c")
    real_replace = os.replace

    def killed_at_the_offsets(a, b):
        if b.endswith("c.offsets.npy"):
            raise SystemExit("killed")
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", killed_at_the_offsets)
    with pytest.raises(SystemExit):
        NEW.save(tmp_path / "c")
    monkeypatch.setattr(os, "replace", real_replace)
    assert saved(tmp_path / "c") == saved_of(NEW)
    assert sorted(os.listdir(tmp_path)) == ["c.ids.npy", "c.offsets.npy", "c.raw_tokens.npy"]


def test_save_leaves_a_users_tmp_files_alone(tmp_path):
    for name in ("c.ids.npy.tmp", "c.offsets.npy.tmp"):
        (tmp_path / name).write_bytes(b"mine")
    OLD.save(tmp_path / "c")
    NEW.save(tmp_path / "c")
    assert (tmp_path / "c.ids.npy.tmp").read_bytes() == b"mine"
    assert (tmp_path / "c.offsets.npy.tmp").read_bytes() == b"mine"


def test_save_keeps_the_permissions_of_the_replaced_files(tmp_path):
    import stat
    OLD.save(tmp_path / "c")
    os.chmod(tmp_path / "c.ids.npy", 0o600)
    NEW.save(tmp_path / "c")
    assert stat.S_IMODE(os.stat(tmp_path / "c.ids.npy").st_mode) == 0o600


@pytest.mark.parametrize("ids, offsets", [(b"not an npy file", None), (None, b"\x93NUMPY garbage")])
def test_corrupt_files_are_valueerrors_naming_the_corpus(tmp_path, ids, offsets):
    OLD.save(tmp_path / "c")
    if ids is not None:
        (tmp_path / "c.ids.npy").write_bytes(ids)
    if offsets is not None:
        (tmp_path / "c.offsets.npy").write_bytes(offsets)
    with pytest.raises(ValueError, match="is not a saved encoded corpus"):
        ec.EncodedCorpus.load(tmp_path / "c")


def test_offsets_from_another_corpus_are_a_valueerror_naming_the_corpus(tmp_path):
    OLD.save(tmp_path / "c")
    NEW.save(tmp_path / "d")
    os.replace(tmp_path / "d.offsets.npy", tmp_path / "c.offsets.npy")
    with pytest.raises(ValueError, match="is not a valid encoded corpus: offsets must"):
        ec.EncodedCorpus.load(tmp_path / "c")


def test_a_header_length_beyond_the_file_is_refused_before_reading_it(tmp_path):
    # found by fuzzing: a .npy 2.0 header announcing 4 GiB made numpy allocate 4 GiB to read it
    import tracemalloc
    OLD.save(tmp_path / "c")
    (tmp_path / "c.ids.npy").write_bytes(b"\x93NUMPY\x02\x00\xff\xff\xff\xff" + b"\xff" * 100)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="a header of 4294967295 bytes does not fit"):
            ec.EncodedCorpus.load(tmp_path / "c")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20
