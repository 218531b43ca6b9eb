"""EncodedCorpus: validation and the memory-mappable .npy pair."""
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
