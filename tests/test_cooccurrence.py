"""embedcore.cooccurrence: GloVe's cooccur counts, checked against a pure-Python reference."""
import os
import sys
import tempfile

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore import _native

# the module, not the function of the same name that embedcore exports
cooc_module = sys.modules["embedcore.cooccurrence"]


def reference_counts(ids, offsets, vocab_size, window, symmetric=True, distance_weighting=True):
    """Dense float64 counts, one pair at a time, as GloVe's cooccur.c adds them."""
    X = np.zeros((vocab_size, vocab_size))
    for s in range(len(offsets) - 1):
        sentence = ids[offsets[s]:offsets[s + 1]]
        for j in range(len(sentence)):
            for k in range(max(0, j - window), j):
                w = 1.0 / (j - k) if distance_weighting else 1.0
                X[sentence[k], sentence[j]] += w
                if symmetric:
                    X[sentence[j], sentence[k]] += w
    return X


def random_corpus(seed, n_tokens=600, vocab_size=13):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab_size, size=n_tokens).astype(np.int32)
    cuts = np.sort(rng.choice(np.arange(1, n_tokens), size=25, replace=False))
    # an empty sentence and a one-token sentence among them
    offsets = np.concatenate([[0, 0], cuts[:3], [cuts[2] + 1], cuts[3:], [n_tokens]]).astype(np.int64)
    offsets = np.maximum.accumulate(offsets)
    return ec.EncodedCorpus(ids, offsets)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("distance_weighting", [True, False])
@pytest.mark.parametrize("window", [1, 3, 10])
def test_counts_equal_the_reference(device, symmetric, distance_weighting, window):
    corpus = random_corpus(window)
    X = ec.cooccurrence(corpus, 13, window=window, symmetric=symmetric,
                        distance_weighting=distance_weighting, workers=2, device=device)
    expected = reference_counts(corpus.ids, corpus.offsets, 13, window, symmetric, distance_weighting)
    np.testing.assert_allclose(X.toarray(), expected, rtol=1e-6, atol=0)


def test_pairs_never_cross_a_sentence_boundary(device):
    corpus = ec.EncodedCorpus([0, 1, 2, 3], [0, 2, 4])
    X = ec.cooccurrence(corpus, 4, window=5, device=device).toarray()
    assert X[1, 2] == 0 and X[2, 1] == 0 and X[0, 3] == 0
    assert X[0, 1] == 1 and X[2, 3] == 1


def test_window_larger_than_the_sentence_counts_every_pair_once(device):
    corpus = ec.EncodedCorpus([0, 1, 2], [0, 3])
    X = ec.cooccurrence(corpus, 3, window=50, device=device).toarray()
    np.testing.assert_allclose(X, [[0, 1, 0.5], [1, 0, 1], [0.5, 1, 0]])


def test_one_sided_counts_put_the_earlier_word_in_the_row(device):
    corpus = ec.EncodedCorpus([0, 1, 1, 2], [0, 4])
    X = ec.cooccurrence(corpus, 3, window=2, symmetric=False, distance_weighting=False, device=device).toarray()
    # pairs (0,1) (0,1) (1,1) (1,2) (1,2): the earlier word is the row, as in cooccur -symmetric 0
    np.testing.assert_array_equal(X, [[0, 2, 0], [0, 1, 2], [0, 0, 0]])


def test_a_repeated_word_counts_on_the_diagonal(device):
    corpus = ec.EncodedCorpus([4, 4], [0, 2])
    X = ec.cooccurrence(corpus, 5, window=1, device=device).toarray()
    assert X[4, 4] == 2  # once in each order


def test_symmetric_counts_are_a_symmetric_matrix(device):
    X = ec.cooccurrence(random_corpus(5), 13, window=4, device=device)
    assert abs(X - X.T).max() == 0


def test_result_is_sorted_float32_csr_of_vocab_size(device):
    X = ec.cooccurrence(random_corpus(2), 20, window=3, device=device)
    assert isinstance(X, sp.csr_matrix)
    assert X.shape == (20, 20) and X.dtype == np.float32
    assert X.has_canonical_format
    assert (X.data > 0).all()
    assert X[13:].nnz == 0  # ids 13..19 never occur


def test_workers_do_not_change_the_result():
    corpus = random_corpus(7, n_tokens=5000, vocab_size=40)
    one = ec.cooccurrence(corpus, 40, window=6, workers=1)
    two = ec.cooccurrence(corpus, 40, window=6, workers=2)
    assert (one != two).nnz == 0
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.data, two.data)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("max_memory", [20_000, 40_000])
def test_max_memory_does_not_change_the_result(max_memory, symmetric):
    corpus = random_corpus(8, n_tokens=5000, vocab_size=40)
    full = ec.cooccurrence(corpus, 40, window=6, symmetric=symmetric, workers=2)
    bounded = ec.cooccurrence(corpus, 40, window=6, symmetric=symmetric, workers=2, max_memory=max_memory)
    assert ec.cooccurrence.last_stats["shards"] > 1
    assert ec.cooccurrence.last_stats["working_bytes"] <= max_memory
    np.testing.assert_array_equal(full.indptr, bounded.indptr)
    np.testing.assert_array_equal(full.indices, bounded.indices)
    np.testing.assert_array_equal(full.data, bounded.data)  # same rows, summed in the same order


def zipf_corpus(seed, n_tokens, vocab_size):
    """Word frequencies falling off as in text, sentences of about 20 tokens."""
    rng = np.random.default_rng(seed)
    ids = ((rng.zipf(1.3, n_tokens) - 1) % vocab_size).astype(np.int32)
    cuts = np.sort(rng.choice(np.arange(1, n_tokens), size=n_tokens // 20, replace=False))
    return ec.EncodedCorpus(ids, np.concatenate([[0], cuts, [n_tokens]]))


def hub_corpus(vocab_size, repeats):
    """Word 0 between every two other words: its row meets every word of the vocabulary."""
    others = np.tile(np.arange(1, vocab_size, dtype=np.int32), repeats)
    ids = np.zeros(2 * len(others), dtype=np.int32)
    ids[1::2] = others
    return ec.EncodedCorpus(ids, [0, len(ids)])


def joined(*corpora):
    ids = np.concatenate([c.ids for c in corpora])
    offsets, at = [0], 0
    for c in corpora:
        offsets.extend(np.asarray(c.offsets[1:]) + at)
        at += len(c.ids)
    return ec.EncodedCorpus(ids, offsets)


@pytest.mark.parametrize("corpus, vocab_size, max_memory", [
    (ec.EncodedCorpus(np.zeros(4000, np.int32), [0, 4000]), 50, 36_000),
    (hub_corpus(300, 10), 300, 41_000),
    (zipf_corpus(0, 20_000, 3000), 3000, 300_000),
], ids=["one word repeated", "a word next to every word", "text-like frequencies"])
def test_bounded_counts_stay_within_max_memory(corpus, vocab_size, max_memory):
    full = ec.cooccurrence(corpus, vocab_size, window=5, workers=2)
    bounded = ec.cooccurrence(corpus, vocab_size, window=5, workers=2, max_memory=max_memory)
    assert ec.cooccurrence.last_stats["shards"] > 1
    assert ec.cooccurrence.last_stats["working_bytes"] <= max_memory
    np.testing.assert_array_equal(full.indptr, bounded.indptr)
    np.testing.assert_array_equal(full.indices, bounded.indices)
    np.testing.assert_array_equal(full.data, bounded.data)


def neighbour_row_bound(corpus, vocab_size, window, symmetric, chunk, threads):
    """The planner's row bound, from tallies of the occurrences sorted chunk by chunk."""
    counts = np.bincount(corpus.ids, minlength=vocab_size)
    tier_of, sizes = cooc_module._neighbour_tiers(counts)
    tallies = np.zeros(3 * vocab_size, dtype=np.uint32)
    for a in range(0, len(corpus.ids), chunk):
        _native.cooccur_sort_occurrences(corpus.ids, corpus.offsets, a, min(len(corpus.ids), a + chunk),
                                         vocab_size, window, symmetric, tier_of, tallies, threads)
    return cooc_module._row_bound(tallies, sizes, vocab_size)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("window", [1, 4])
def test_row_bounds_are_never_below_the_nonzeros(monkeypatch, symmetric, window):
    monkeypatch.setattr(cooc_module, "NEIGHBOUR_TIERS", (4, 40))  # tiers well inside the vocabulary
    corpus = joined(zipf_corpus(1, 20_000, 500), hub_corpus(500, 2))
    nnz = np.diff(ec.cooccurrence(corpus, 500, window=window, symmetric=symmetric).indptr)
    bound = neighbour_row_bound(corpus, 500, window, symmetric, chunk=7000, threads=2)
    assert (bound >= nnz).all()
    reach = 2 * window if symmetric else window
    loose = np.minimum(500, reach * np.bincount(corpus.ids, minlength=500))
    assert (bound <= loose).all() and bound.sum() < 0.7 * loose.sum()


def test_row_bounds_hold_when_a_wide_window_fills_a_tally_table():
    # one thread tallies 40000 occurrences, more than its table takes at once with this window
    corpus = zipf_corpus(2, 40_000, 500)
    nnz = np.diff(ec.cooccurrence(corpus, 500, window=65535).indptr)
    bound = neighbour_row_bound(corpus, 500, 65535, True, chunk=40_000, threads=1)
    assert (bound >= nnz).all()


def test_sorted_occurrences_are_grouped_by_word_in_position_order():
    corpus = random_corpus(9, n_tokens=3000, vocab_size=30)
    entries, word_start = _native.cooccur_sort_occurrences(corpus.ids, corpus.offsets, 1000, 3000, 30, 4, True,
                                                           None, None, 2)
    positions = (entries >> np.uint64(24)).astype(np.int64)
    for w in range(30):
        expected = 1000 + np.flatnonzero(corpus.ids[1000:] == w)
        np.testing.assert_array_equal(positions[word_start[w]:word_start[w + 1]], expected)


def test_the_range_kernel_rejects_occurrences_that_do_not_fit_the_corpus():
    ids = np.array([0, 1, 2, 1], dtype=np.int32)
    starts = np.array([[0, 1]])
    bound = np.array([3])
    beyond = np.array([(3 << 24) | (1 << 12) | 5], dtype=np.uint64)  # position 3, 5 to its right
    with pytest.raises(ValueError, match="reaches outside the corpus"):
        _native.cooccur_count_occurrences(ids, beyond, starts, bound, 1, 2, 3, 5, True, True, 1)
    other_word = np.array([(2 << 24) | (1 << 12) | 1], dtype=np.uint64)  # position 2 holds word 2
    with pytest.raises(ValueError, match="not its row's word"):
        _native.cooccur_count_occurrences(ids, other_word, starts, bound, 1, 2, 3, 5, True, True, 1)


def test_accepts_an_ids_offsets_pair():
    ids = np.array([0, 1, 2], dtype=np.int32)
    X = ec.cooccurrence((ids, np.array([0, 3])), 3, window=1)
    assert X[0, 1] == 1 and X[0, 2] == 0


def test_gpu_chunks_and_their_merges_give_the_one_chunk_count(device, monkeypatch):
    # the GPU counts pairs in chunks of records and merges the chunks' sums; tiny chunks here
    from embedcore.backends.cuda import ops
    monkeypatch.setattr(ops, "COOCCUR_CHUNK_RECORDS", 40)
    corpus = random_corpus(3, n_tokens=900, vocab_size=12)
    X = ec.cooccurrence(corpus, 12, window=4, device=device)
    np.testing.assert_allclose(X.toarray(), reference_counts(corpus.ids, corpus.offsets, 12, 4), rtol=1e-6)


def test_empty_corpus_gives_an_empty_matrix(device):
    X = ec.cooccurrence(ec.EncodedCorpus(np.zeros(0, np.int32)), 4, device=device)
    assert X.shape == (4, 4) and X.nnz == 0


def open_files_under(directory):
    """Files this process holds open under `directory` (named or not); Linux only."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory) + os.sep):
            held.append(target)
    return held


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_temporary_files_are_removed_after_a_bounded_count(private_tmp):
    ec.cooccurrence(random_corpus(3, n_tokens=3000, vocab_size=30), 30, window=5, max_memory=20_000)
    assert ec.cooccurrence.last_stats["shards"] > 1
    assert os.listdir(private_tmp) == []


@pytest.mark.parametrize("stage", ["cooccur_sort_occurrences", "cooccur_count_occurrences"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_temporary_files_are_removed_when_counting_fails_midway(private_tmp, monkeypatch, error, stage):
    calls = []

    class Failing:
        def __getattr__(self, name):
            if name != stage:
                return getattr(_native, name)

            def fail_on_the_second_call(*args):
                calls.append(args)
                if len(calls) == 2:
                    assert open_files_under(private_tmp)  # the spill files exist by now...
                    assert os.listdir(private_tmp) == []  # ...without a name, so a kill leaves nothing
                    raise error("stop")
                return getattr(_native, name)(*args)
            return fail_on_the_second_call

    monkeypatch.setattr(cooc_module, "_native", Failing())
    with pytest.raises(error):
        ec.cooccurrence(random_corpus(3, n_tokens=3000, vocab_size=30), 30, window=5, max_memory=20_000)
    assert len(calls) == 2
    assert os.listdir(private_tmp) == []


def test_window_below_one_is_an_error():
    with pytest.raises(ValueError, match="window must be >= 1, got 0"):
        ec.cooccurrence(random_corpus(1), 13, window=0)


def test_ids_out_of_range_for_vocab_size_are_an_error(device):
    with pytest.raises(ValueError, match=r"vocab_size=10\), got ids in \[0, 12\]"):
        ec.cooccurrence(random_corpus(1), 10, device=device)


def test_negative_ids_written_after_validation_are_an_error(device):
    corpus = random_corpus(1)
    corpus.ids[5] = -3  # an EncodedCorpus validated at construction, changed afterwards
    with pytest.raises(ValueError, match=r"got ids in \[-3, "):
        ec.cooccurrence(corpus, 13, device=device)


def test_the_kernel_rejects_ids_out_of_range_too():
    ids = np.array([0, 5, 1], dtype=np.int32)
    with pytest.raises(ValueError, match=r"corpus ids must lie in \[0, vocab_size=3\), got 5 at position 1"):
        _native.cooccur_count(ids, np.array([0, 3]), 0, 3, 3, 2, True, True, 1)


def test_bad_corpus_type_is_an_error():
    with pytest.raises(TypeError, match="corpus must be an EncodedCorpus"):
        ec.cooccurrence([[0, 1], [2]], 3)


def test_max_memory_below_the_accumulators_is_an_error():
    with pytest.raises(ValueError, match="max_memory must be at least"):
        ec.cooccurrence(random_corpus(1), 13, max_memory=100)


@pytest.mark.parametrize("seed", range(12))
def test_the_minimum_max_memory_an_error_names_is_enough_and_kept(seed):
    # short sentences and tight budgets: many scan chunks, so per-chunk bookkeeping counts
    import re
    rng = np.random.default_rng(seed)
    vocab_size, n = int(rng.integers(50, 300)), int(rng.integers(100, 3000))
    ids = np.minimum(rng.zipf(1.5, n) - 1, vocab_size - 1).astype(np.int32)
    cuts = np.sort(rng.choice(np.arange(1, n), size=n // 3, replace=False))
    corpus = ec.EncodedCorpus(ids, np.concatenate([[0], cuts, [n]]))
    window = int(rng.integers(1, 12))
    expected = ec.cooccurrence(corpus, vocab_size, window=window, workers=1)
    with pytest.raises(ValueError, match="max_memory must be at least") as info:
        ec.cooccurrence(corpus, vocab_size, window=window, workers=2, max_memory=1000)
    minimum = int(re.search(r"at least (\d+)", str(info.value)).group(1))
    for max_memory in (minimum, minimum + 97, 2 * minimum):
        got = ec.cooccurrence(corpus, vocab_size, window=window, workers=2, max_memory=max_memory)
        assert ec.cooccurrence.last_stats["working_bytes"] <= max_memory
        assert (got != expected).nnz == 0


def test_cuda_device_without_a_gpu_is_a_runtime_error(no_gpu):
    with pytest.raises(RuntimeError, match="no CUDA device is visible"):
        ec.cooccurrence(random_corpus(1), 13, device="cuda")


@pytest.mark.parametrize("max_memory", [None, 5_000])
def test_windows_beyond_4095_use_the_wide_packing_and_stay_exact(max_memory):
    corpus = random_corpus(4, n_tokens=600)
    X = ec.cooccurrence(corpus, 13, window=5000, max_memory=max_memory, workers=2)
    assert (ec.cooccurrence.last_stats["shards"] > 1) == (max_memory is not None)
    assert ec.cooccurrence.last_stats["working_bytes"] <= (max_memory or np.inf)
    expected = reference_counts(corpus.ids, corpus.offsets, 13, 5000)
    np.testing.assert_allclose(X.toarray(), expected, rtol=1e-6)
