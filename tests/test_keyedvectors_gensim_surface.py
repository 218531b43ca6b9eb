"""KeyedVectors: gensim's surface (construction, adding, attributes, queries, files, exceptions),
each behaviour checked on small explicit data and, where gensim is installed, against gensim's
answer on the same vectors."""
import os
import pickle

import numpy as np
import pytest

import embedcore as ec
from embedcore.keyedvectors import KeyedVectors

WORDS = [f"w{i}" for i in range(40)]


def random_kv(n=40, dim=8, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return KeyedVectors([f"w{i}" for i in range(n)], rng.standard_normal((n, dim)).astype(dtype))


def gensim_twin(kv):
    """gensim's KeyedVectors with the same keys, vectors and counts."""
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(kv.vector_size)
    theirs.add_vectors(list(kv.words), kv.vectors.copy())
    for name, values in kv.expandos.items():
        for key, value in zip(kv.words, values.tolist()):
            theirs.set_vecattr(key, name, value)
    return theirs


def same_ranking(ours, theirs, atol=1e-5):
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=atol, rtol=0)


# --------------------------------------------------------------------------- construction
def test_gensim_constructor_makes_an_empty_set_and_preallocated_slots():
    kv = KeyedVectors(3)
    assert len(kv) == 0 and kv.vector_size == 3 and kv.vectors.dtype == np.float32
    slots = KeyedVectors(vector_size=2, count=2, dtype=np.float64)
    assert len(slots) == 2 and slots.vectors.dtype == np.float64 and slots.index_to_key == [None, None]
    assert slots.add_vector("a", [1.0, 2.0]) == 0 and slots.add_vector("b", [3.0, 4.0]) == 1
    assert slots.index_to_key == ["a", "b"] and slots["b"].tolist() == [3.0, 4.0]
    grown = KeyedVectors(2, 1)
    grown.add_vector("x", [0.0, 1.0])
    with pytest.warns(UserWarning, match="grows by one"):
        assert grown.add_vector("y", [1.0, 1.0]) == 1
    assert len(grown) == 2 and grown.index_to_key == ["x", "y"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: KeyedVectors(0), ValueError, "vector_size must be >= 1"),
    (lambda: KeyedVectors(2, -1), ValueError, "count must be >= 0"),
    (lambda: KeyedVectors(2, dtype=np.int32), TypeError, "dtype must be float16, float32 or float64"),
    (lambda: KeyedVectors(["a"]), TypeError, "needs words and vectors"),
    (lambda: KeyedVectors(["a"], [[1.0]], count=3), TypeError, "vector_size and count are for gensim's form"),
])
def test_constructor_refuses_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------------- adding
def test_add_vectors_appends_new_keys_and_keeps_old_vectors_unless_replace():
    kv = KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    kv.add_vectors(["b", "c"], np.array([[9.0, 9.0], [2.0, 2.0]]))
    assert kv.index_to_key == ["a", "b", "c"] and kv["b"].tolist() == [0.0, 1.0] and kv["c"].tolist() == [2.0, 2.0]
    kv.add_vectors(["b"], [[5.0, 5.0]], replace=True)
    assert kv["b"].tolist() == [5.0, 5.0] and kv.vectors.dtype == np.float32


def test_setitem_adds_or_replaces_one_or_several_keys():
    kv = KeyedVectors(2)
    kv["a"] = np.array([1.0, 2.0])
    kv[["a", "b"]] = [np.array([3.0, 4.0]), np.array([5.0, 6.0])]
    assert kv.index_to_key == ["a", "b"] and kv.vectors.tolist() == [[3.0, 4.0], [5.0, 6.0]]


def test_add_vectors_stores_extras_and_grows_every_attribute():
    kv = KeyedVectors(["a"], [[1.0]])
    kv.set_vecattr("a", "count", 5)
    kv.add_vectors(["b", "c"], [[2.0], [3.0]], extras={"count": np.array([7, 9])})
    assert kv.expandos["count"].tolist() == [5, 7, 9]
    kv.add_vectors(["d"], [[4.0]])
    assert kv.get_vecattr("d", "count") == 0


@pytest.mark.parametrize("call, error, message", [
    (lambda kv: kv.add_vectors(["x", "x"], [[1.0, 1.0], [2.0, 2.0]]), ValueError, r"keys\[1\] 'x' repeats keys\[0\]"),
    (lambda kv: kv.add_vectors(["x"], [[1.0, 1.0, 1.0]]), ValueError, "weights must have one row per word|2 columns"),
    (lambda kv: kv.add_vectors(["x"], [[np.nan, 1.0]]), ValueError, "NaN"),
    (lambda kv: kv.add_vectors(["a b"], [[1.0, 1.0]]), ValueError, "contains whitespace"),
    (lambda kv: kv.add_vectors([1.5], [[1.0, 1.0]]), TypeError, "must be a str or an int"),
    (lambda kv: kv.add_vector("a", [1.0, 1.0]), ValueError, "already present"),
    (lambda kv: kv.add_vector("z", [1.0]), ValueError, "vector must have 2 values"),
])
def test_adding_refuses_bad_keys_and_vectors_and_changes_nothing(call, error, message):
    kv = KeyedVectors(["a"], [[1.0, 0.0]])
    with pytest.raises(error, match=message):
        call(kv)
    assert kv.index_to_key == ["a"] and kv.vectors.tolist() == [[1.0, 0.0]]


# ------------------------------------------------------------------------------- norms
@pytest.mark.parametrize("change", [
    lambda kv: kv.__setitem__("b", np.array([1.0, 0.0])),
    lambda kv: kv.add_vectors(["b"], [[1.0, 0.0]], replace=True),
    lambda kv: setattr(kv, "vectors", [[1.0, 0.0], [1.0, 0.0]]),
])
def test_cached_norms_follow_every_change_made_through_the_api(change):
    kv = KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 3.0]])
    assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(0.0) and kv.norms[1] == 3.0
    change(kv)
    assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(1.0) and kv.norms[1] == 1.0


def test_norms_follow_new_keys_and_sorting():
    kv = KeyedVectors(["a"], [[3.0, 4.0]])
    kv.fill_norms()
    kv["b"] = np.array([0.0, 2.0])
    assert kv.norms.tolist() == [5.0, 2.0] and kv.get_normed_vectors().shape == (2, 2)
    kv.set_vecattr("a", "count", 1)
    kv.set_vecattr("b", "count", 9)
    kv.sort_by_descending_frequency()
    assert kv.norms.tolist() == [2.0, 5.0]


def test_a_vector_returned_by_lookup_is_read_only_so_norms_cannot_go_stale_through_it():
    kv = KeyedVectors(["a"], [[3.0, 4.0]])
    with pytest.raises(ValueError, match="read-only"):
        kv["a"][0] = 1.0


def test_unit_normalize_all_scales_rows_in_place_and_keeps_zero_rows():
    kv = KeyedVectors(["a", "z"], [[3.0, 4.0], [0.0, 0.0]])
    kv.unit_normalize_all()
    np.testing.assert_allclose(kv.vectors, [[0.6, 0.8], [0.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(kv.norms, [1.0, 0.0], atol=1e-7)


# ------------------------------------------------------------------------------ attributes
def test_vecattrs_follow_gensim_types_and_refuse_unknown_names():
    kv = KeyedVectors(["a", "b"], [[1.0], [2.0]])
    kv.set_vecattr("b", "count", 3)
    kv.set_vecattr("a", "weight", 0.5)
    assert kv.expandos["count"].dtype == np.int64 and kv.get_vecattr("b", "count") == 3
    assert kv.get_vecattr("a", "weight") == 0.5
    with pytest.raises(KeyError, match="no attribute 'nope'"):
        kv.get_vecattr("a", "nope")


def test_sort_by_descending_frequency_orders_as_gensim_does_ties_included():
    kv = random_kv(n=6)
    counts = [3, 7, 3, 1, 7, 0]
    for key, count in zip(kv.words, counts):
        kv.set_vecattr(key, "count", count)
    theirs = gensim_twin(kv)
    before = {k: kv[k].copy() for k in kv.words}
    kv.sort_by_descending_frequency()
    theirs.sort_by_descending_frequency()
    assert kv.index_to_key == theirs.index_to_key
    assert all((kv[k] == before[k]).all() for k in kv.words)
    assert kv.key_to_index == theirs.key_to_index


def test_sort_without_counts_raises_keyerror():
    with pytest.raises(KeyError, match="count"):
        random_kv().sort_by_descending_frequency()


def test_vectors_for_all_keeps_present_keys_once_in_order():
    kv = random_kv()
    sub = kv.vectors_for_all(["w3", "nope", "w1", "w3"])
    assert sub.index_to_key == ["w3", "w1"] and (sub["w1"] == kv["w1"]).all()
    assert sub.expandos["count"].tolist() == [2, 1]


# ----------------------------------------------------------------------------- int keys
def test_int_keys_and_row_positions_follow_gensim():
    kv = KeyedVectors(2)
    kv.add_vectors([10, "x"], [[1.0, 0.0], [0.0, 1.0]])
    assert kv.get_index(10) == 0 and kv.get_index(1) == 1 and kv.get_index(5, default=-1) == -1
    assert kv[10].tolist() == [1.0, 0.0] and kv[1].tolist() == [0.0, 1.0]
    assert kv.most_similar(0, topn=1)[0][0] == "x"
    with pytest.raises(KeyError):
        kv.get_index(99)


# ------------------------------------------------------------------------------- queries
@pytest.mark.parametrize("kwargs", [
    {"positive": ["w1"]},
    {"positive": ["w1", "w2"], "negative": ["w3"]},
    {"positive": [("w1", 2.0), "w4"], "negative": [("w2", 0.5)]},
    {"positive": ["w1"], "restrict_vocab": 20},
    {"positive": ["w1"], "clip_start": 5, "clip_end": 30},
    {"positive": 3},
])
def test_most_similar_matches_gensim(kwargs):
    kv = random_kv(seed=1)
    same_ranking(kv.most_similar(topn=7, **kwargs), gensim_twin(kv).most_similar(topn=7, **kwargs))


def test_most_similar_takes_a_2d_array_of_vectors_as_gensim_does():
    kv = random_kv(seed=2)
    rows = kv.vectors[:3]
    same_ranking(kv.most_similar(positive=rows, topn=5), gensim_twin(kv).most_similar(positive=rows, topn=5))


def test_most_similar_with_topn_none_and_clipping_returns_the_clipped_similarities():
    kv = random_kv(seed=3)
    ours = kv.most_similar("w0", topn=None, clip_start=4, clip_end=9)
    theirs = gensim_twin(kv).most_similar("w0", topn=None, clip_start=4, clip_end=9)
    assert ours.shape == (5,)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_most_similar_hands_the_query_to_an_indexer():
    class Indexer:
        def most_similar(self, vector, topn):
            self.seen = (vector.copy(), topn)
            return [("from the indexer", 1.0)]

    kv, indexer = random_kv(), Indexer()
    assert kv.most_similar("w1", topn=3, indexer=indexer) == [("from the indexer", 1.0)]
    np.testing.assert_allclose(indexer.seen[0], kv.get_vector("w1", norm=True), atol=1e-6)
    assert indexer.seen[1] == 3


@pytest.mark.parametrize("kwargs", [
    {"positive": ["w1", "w2"], "negative": ["w3"]},
    {"positive": ["w5"]},
    {"positive": "w1", "negative": "w2"},
])
def test_most_similar_cosmul_matches_gensim(kwargs):
    kv = random_kv(seed=4)
    same_ranking(kv.most_similar_cosmul(topn=6, **kwargs), gensim_twin(kv).most_similar_cosmul(topn=6, **kwargs))
    np.testing.assert_allclose(kv.most_similar_cosmul(topn=None, **kwargs),
                               gensim_twin(kv).most_similar_cosmul(topn=None, **kwargs), atol=1e-6)


def test_most_similar_cosmul_needs_a_positive_input():
    with pytest.raises(ValueError, match="positive is empty"):
        random_kv().most_similar_cosmul(negative=["w1"])


def test_queries_on_sets_of_words_match_gensim():
    kv = random_kv(seed=5)
    theirs = gensim_twin(kv)
    words = ["w1", "w2", "w3", "w9"]
    assert kv.doesnt_match(words) == theirs.doesnt_match(words)
    ours_rank = kv.rank_by_centrality(words)
    their_rank = theirs.rank_by_centrality(words)
    assert [w for _, w in ours_rank] == [w for _, w in their_rank]
    np.testing.assert_allclose([s for s, _ in ours_rank], [s for s, _ in their_rank], atol=1e-6)
    assert kv.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(float(theirs.n_similarity(["w1", "w2"], ["w3"])),
                                                                 abs=1e-6)
    assert sorted(kv.closer_than("w1", "w7")) == sorted(theirs.closer_than("w1", "w7"))
    assert kv.rank("w1", "w7") == theirs.rank("w1", "w7")
    assert kv.most_similar_to_given("w1", ["w2", "w3", "w4"]) == theirs.most_similar_to_given("w1", ["w2", "w3", "w4"])
    assert kv.relative_cosine_similarity("w1", "w2") == pytest.approx(
        float(theirs.relative_cosine_similarity("w1", "w2")), abs=1e-5)


def test_distances_and_cosine_similarities_match_gensim():
    kv = random_kv(seed=6)
    theirs = gensim_twin(kv)
    np.testing.assert_allclose(kv.distances("w1"), theirs.distances("w1"), atol=1e-6)
    np.testing.assert_allclose(kv.distances("w1", ["w2", "w5"]), theirs.distances("w1", ["w2", "w5"]), atol=1e-6)
    np.testing.assert_allclose(KeyedVectors.cosine_similarities(kv["w1"], kv.vectors[:4]),
                               theirs.cosine_similarities(kv["w1"], kv.vectors[:4]), atol=1e-6)
    assert kv.distance("w3", "w3") == 0 and kv.similarity("w3", "w3") == 1


def test_get_mean_vector_matches_gensim():
    kv = random_kv(seed=7)
    theirs = gensim_twin(kv)
    keys = ["w1", "w2", "unknown", "w4"]
    for kwargs in ({}, {"weights": [1.0, 2.0, 3.0, 0.5]}, {"pre_normalize": False}, {"post_normalize": True}):
        np.testing.assert_allclose(kv.get_mean_vector(keys, **kwargs), theirs.get_mean_vector(keys, **kwargs),
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(KeyError):
        kv.get_mean_vector(keys, ignore_missing=False)
    with pytest.raises(ValueError, match="no input"):
        kv.get_mean_vector([])


def test_n_similarity_of_an_empty_list_is_a_valueerror_and_a_zerodivisionerror():
    with pytest.raises(ValueError):
        random_kv().n_similarity([], ["w1"])
    with pytest.raises(ZeroDivisionError):
        random_kv().n_similarity(["w1"], [])


def test_wmdistance_matches_gensim_when_pot_is_installed():
    pytest.importorskip("ot")
    kv = random_kv(seed=8)
    theirs = gensim_twin(kv)
    d1, d2 = ["w1", "w2", "w2", "nope"], ["w3", "w4", "w1"]
    assert kv.wmdistance(d1, d2, norm=False) == pytest.approx(theirs.wmdistance(d1, d2, norm=False), rel=1e-6)
    assert kv.wmdistance(d1, d2) == pytest.approx(theirs.wmdistance(d1, d2), rel=1e-5)
    assert kv.wmdistance(["nope"], d2) == float("inf")


# ----------------------------------------------------------------------------- evaluation
def test_evaluate_word_analogies_defaults_to_gensims_restrict_vocab_and_its_numbers(tmp_path):
    path = tmp_path / "analogies.txt"
    path.write_text(": s\nw1 w2 w3 w4\nw5 w6 w7 w8\nw1 w2 w9 w39\n")
    kv = random_kv(seed=9)
    theirs = gensim_twin(kv)
    assert kv.evaluate_word_analogies(path) == theirs.evaluate_word_analogies(str(path))
    import inspect
    assert inspect.signature(KeyedVectors.evaluate_word_analogies).parameters["restrict_vocab"].default == 300000
    with pytest.warns(UserWarning, match="3CosAdd"):
        kv.evaluate_word_analogies(path, similarity_function="most_similar_cosmul")


# ---------------------------------------------------------------------- word2vec files
def test_load_sets_gensims_dummy_counts_and_fvocab_counts(tmp_path):
    kv = random_kv(n=4)
    kv.save_word2vec_format(tmp_path / "v.txt")
    assert KeyedVectors.load_word2vec_format(tmp_path / "v.txt").expandos["count"].tolist() == [4, 3, 2, 1]
    (tmp_path / "vocab.txt").write_text("w0 10\nw1 30\nw2 20\nw3 5\n")
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.txt", tmp_path / "vocab.txt")
    assert back.expandos["count"].tolist() == [10, 30, 20, 5]


def test_save_orders_by_count_and_writes_fvocab_prefix_and_total_vec_as_gensim(tmp_path):
    kv = random_kv(n=5)
    for key, count in zip(kv.words, [2, 9, 2, 5, 1]):
        kv.set_vecattr(key, "count", count)
    theirs = gensim_twin(kv)
    kv.save_word2vec_format(tmp_path / "ours.txt", tmp_path / "ours.vocab", prefix="p_", total_vec=7)
    theirs.save_word2vec_format(str(tmp_path / "theirs.txt"), str(tmp_path / "theirs.vocab"), prefix="p_",
                                total_vec=7)
    assert (tmp_path / "ours.vocab").read_text() == (tmp_path / "theirs.vocab").read_text()
    ours_lines = (tmp_path / "ours.txt").read_text().splitlines()
    their_lines = (tmp_path / "theirs.txt").read_text().splitlines()
    assert ours_lines[0] == their_lines[0] == "7 8"
    for mine, other in zip(ours_lines[1:], their_lines[1:]):
        assert mine.split()[0] == other.split()[0]
        np.testing.assert_array_equal(np.float32(mine.split()[1:]), np.float32(other.split()[1:]))


def test_append_adds_to_the_file(tmp_path):
    path = tmp_path / "v.txt"
    KeyedVectors(["a"], [[1.0]]).save_word2vec_format(path, write_header=False)
    KeyedVectors(["b"], [[2.0]]).save_word2vec_format(path, write_header=False, append=True)
    assert path.read_text() == "a 1\nb 2\n"


def test_fvocab_without_the_sort_attribute_is_refused(tmp_path):
    kv = KeyedVectors(["a"], [[1.0]])
    with pytest.raises(ValueError, match="'count' because that attribute does not exist"):
        kv.save_word2vec_format(tmp_path / "v.txt", tmp_path / "vocab.txt")
    assert not (tmp_path / "v.txt").exists()


def test_float64_text_keeps_every_digit_both_ways(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 2\na -0.0008546282343595379 0.1\nb 1e-300 2\n")
    kv = KeyedVectors.load_word2vec_format(path, datatype=np.float64)
    assert kv.vectors.dtype == np.float64 and kv["a"][0] == -0.0008546282343595379 and kv["b"][0] == 1e-300
    kv.save_word2vec_format(tmp_path / "again.txt")
    assert (KeyedVectors.load_word2vec_format(tmp_path / "again.txt", datatype=np.float64).vectors == kv.vectors).all()


def test_errors_is_an_alias_of_unicode_errors(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"1 1\nb\xff 2\n")
    assert KeyedVectors.load_word2vec_format(path, errors="replace").words == ["b\ufffd"]
    assert KeyedVectors.load_word2vec_format(path, unicode_errors="ignore").words == ["b"]
    with pytest.raises(TypeError, match="not both"):
        KeyedVectors.load_word2vec_format(path, unicode_errors="ignore", errors="replace")


def test_strict_decoding_raises_an_error_that_is_also_a_unicodedecodeerror(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 1\na 1\nb\xff 2\n")
    with pytest.raises(UnicodeDecodeError) as caught:
        KeyedVectors.load_word2vec_format(path)
    error = caught.value
    assert isinstance(error, ec.VectorFileError) and isinstance(error, ValueError)
    assert str(error).startswith(f"{path}: line 3: the word is not valid UTF-8")
    assert error.object == b"b\xff" and error.start == 1
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


@pytest.mark.parametrize("binary", [False, True])
def test_a_file_shorter_than_its_header_raises_an_error_that_is_also_an_eoferror(tmp_path, binary):
    path = tmp_path / "v.bin"
    random_kv(n=3).save_word2vec_format(path, binary=binary)
    data = path.read_bytes()
    path.write_bytes(b"4" + data[1:])
    with pytest.raises(EOFError) as caught:
        KeyedVectors.load_word2vec_format(path, binary=binary)
    assert isinstance(caught.value, ec.TruncatedVectorFileError) and isinstance(caught.value, ValueError)
    assert "the file ends after 3 of the 4 vectors" in str(caught.value)


def test_intersect_takes_the_files_vectors_for_keys_present(tmp_path):
    path = tmp_path / "v.txt"
    KeyedVectors(["b", "z"], [[7.0, 7.0], [8.0, 8.0]]).save_word2vec_format(path)
    kv = KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    kv.fill_norms()
    assert kv.intersect_word2vec_format(path) == 1
    assert kv.index_to_key == ["a", "b"] and kv["b"].tolist() == [7.0, 7.0]
    assert kv.norms[1] == pytest.approx(np.hypot(7.0, 7.0))
    with pytest.raises(ValueError, match="incompatible vector size 2"):
        KeyedVectors(["a"], [[1.0]]).intersect_word2vec_format(path)


# --------------------------------------------------------------------------- save / load
def test_save_and_load_round_trip_keys_vectors_and_attributes(tmp_path):
    kv = KeyedVectors(3)
    kv.add_vectors(["a", 7, "c"], np.arange(9, dtype=np.float32).reshape(3, 3))
    kv.set_vecattr("a", "count", 4)
    kv.set_vecattr(7, "weight", 0.25)
    path = tmp_path / "vectors.kv"
    kv.save(path)
    assert sorted(os.listdir(tmp_path)) == ["vectors.kv", "vectors.kv.vecattrs.npz", "vectors.kv.vectors.npy"]
    back = KeyedVectors.load(path)
    assert back.index_to_key == ["a", 7, "c"] and (back.vectors == kv.vectors).all()
    assert back.get_vecattr("a", "count") == 4 and back.get_vecattr(7, "weight") == 0.25
    assert back.expandos["count"].dtype == np.int64


def test_load_with_mmap_maps_the_vectors_read_only(tmp_path):
    kv = random_kv()
    kv.save(tmp_path / "v.kv")
    back = KeyedVectors.load(tmp_path / "v.kv", mmap="r")
    assert isinstance(back.vectors, np.memmap) and not back.vectors.flags.writeable
    assert (back.vectors == kv.vectors).all()
    same_ranking(back.most_similar("w1"), kv.most_similar("w1"), atol=0)


def test_a_failing_save_leaves_the_previous_save_whole(tmp_path, monkeypatch):
    path = tmp_path / "v.kv"
    random_kv(seed=1).save(path)

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_save)
    with pytest.raises(OSError, match="disk full"):
        random_kv(seed=2).save(path)
    assert (KeyedVectors.load(path).vectors == random_kv(seed=1).vectors).all()
    assert sorted(os.listdir(tmp_path)) == ["v.kv", "v.kv.vecattrs.npz", "v.kv.vectors.npy"]


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_text('{"format": "other"}'), "format is 'other'"),
    (lambda p: p.write_text("{not json"), "not a KeyedVectors save of embedcore"),
    (lambda p: (p.parent / "v.kv.vectors.npy").write_bytes(b"\x93NUMPY junk"), "vectors.npy"),
    (lambda p: p.write_bytes(b"plain text"), "neither a KeyedVectors save"),
])
def test_a_damaged_save_raises_vectorfileerror_naming_it(tmp_path, damage, message):
    path = tmp_path / "v.kv"
    random_kv().save(path)
    damage(path)
    with pytest.raises(ec.VectorFileError, match=message):
        KeyedVectors.load(path)


def test_an_object_attribute_is_refused_by_save(tmp_path):
    kv = KeyedVectors(["a"], [[1.0]])
    kv.set_vecattr("a", "tag", "noun")
    with pytest.raises(TypeError, match="only numbers can be saved"):
        kv.save(tmp_path / "v.kv")


def test_load_reads_gensim_saves_of_keyedvectors_and_models(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    kv = random_kv()
    theirs = gensim_twin(kv)
    theirs.set_vecattr("w1", "count", 99)
    theirs.save(str(tmp_path / "theirs.kv"))
    back = KeyedVectors.load(tmp_path / "theirs.kv")
    assert back.index_to_key == kv.index_to_key and (back.vectors == kv.vectors).all()
    assert back.get_vecattr("w1", "count") == 99
    model = gensim_models.Word2Vec([["a", "b", "c"], ["b", "c", "d"]], vector_size=4, min_count=1, seed=1, workers=1)
    model.save(str(tmp_path / "w2v.model"))
    from_model = KeyedVectors.load(tmp_path / "w2v.model")
    assert from_model.index_to_key == model.wv.index_to_key and (from_model.vectors == model.wv.vectors).all()


def test_pickling_a_keyedvectors_round_trips():
    kv = random_kv()
    kv.fill_norms()
    back = pickle.loads(pickle.dumps(kv))
    assert back.index_to_key == kv.index_to_key and (back.vectors == kv.vectors).all()


def test_lifecycle_events_are_recorded_as_in_gensim():
    kv = random_kv()
    kv.add_lifecycle_event("loaded", msg="from a test")
    assert kv.lifecycle_events[-1]["event"] == "loaded" and kv.lifecycle_events[-1]["msg"] == "from a test"


def test_a_gensim_save_with_a_key_our_formats_cannot_hold_is_refused(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(2)
    theirs.add_vectors(["new york", "b"], np.ones((2, 2), dtype=np.float32))
    theirs.save(str(tmp_path / "theirs.kv"))
    with pytest.raises(ec.VectorFileError, match=r"key\[0\] .new york. contains whitespace"):
        KeyedVectors.load(tmp_path / "theirs.kv")
