"""KeyedVectors: lookups, similarity against a float64 reference, and the word2vec file formats."""
import bz2
import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import embedcore as ec
from embedcore.formats import word2vec as w2v_format

NON_ASCII = ["größe", "東京", "naïve", "a", "Ωmega"]


def random_kv(n=200, dim=16, seed=0, words=None):
    rng = np.random.default_rng(seed)
    words = words if words is not None else [f"w{i}" for i in range(n)]
    return ec.KeyedVectors(words, rng.standard_normal((len(words), dim)).astype(np.float32))


def unit_rows_f64(vectors):
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    return np.where(norms[:, None] > 0, v / np.where(norms > 0, norms, 1)[:, None], 0.0)


def reference_most_similar(kv, positive=(), negative=(), topn=10):
    """gensim's rule in float64: weighted mean of unit vectors (vectors as given), unit length,
    cosine against every unit row, input words left out."""
    unit = unit_rows_f64(kv.vectors)
    mean = np.zeros(kv.vector_size)
    total = 0.0
    exclude = set()
    for items, sign in ((positive, 1.0), (negative, -1.0)):
        for item in items:
            if isinstance(item, str):
                exclude.add(kv.words.index(item))
                mean += sign * unit[kv.words.index(item)]
            else:
                mean += sign * np.asarray(item, dtype=np.float64)
            total += 1.0
    mean /= total
    if np.linalg.norm(mean) > 0:
        mean /= np.linalg.norm(mean)
    sims = unit @ mean
    order = [i for i in np.argsort(-sims, kind="stable") if i not in exclude]
    return [(kv.words[i], sims[i]) for i in order[:topn]], sims


def assert_same_answer(got, expected, atol=1e-5):
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=atol, rtol=0)
    assert all(isinstance(s, float) for _, s in got)


def write_bytes(tmp_path, data, name="vectors.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ------------------------------------------------------------------------------------ lookups
def test_getitem_returns_the_row_of_the_word():
    kv = ec.KeyedVectors(["a", "b"], [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(kv["b"], np.array([3.0, 4.0], np.float32))


def test_getitem_with_a_list_returns_a_2d_array_in_that_order():
    kv = ec.KeyedVectors(["a", "b", "c"], [[1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(kv[["c", "a"]], np.array([[3.0], [1.0]], np.float32))


def test_index_len_contains_words_and_vector_size():
    kv = ec.KeyedVectors(["a", "b", "c"], np.zeros((3, 5)))
    assert kv.index("c") == 2
    assert len(kv) == 3
    assert "b" in kv and "z" not in kv and 3 not in kv
    assert kv.words == ["a", "b", "c"]
    assert kv.vector_size == 5
    assert kv.key_to_index == {"a": 0, "b": 1, "c": 2}


def test_unknown_word_raises_keyerror_naming_it():
    kv = ec.KeyedVectors(["a"], [[1.0]])
    with pytest.raises(KeyError, match="zebra"):
        kv.index("zebra")
    with pytest.raises(KeyError, match="zebra"):
        kv["zebra"]
    with pytest.raises(KeyError, match="zebra"):
        kv[["a", "zebra"]]
    with pytest.raises(KeyError, match="zebra"):
        kv.similarity("a", "zebra")
    with pytest.raises(KeyError, match="zebra"):
        kv.most_similar("zebra")


def test_vectors_are_stored_as_c_contiguous_float32():
    source = np.asfortranarray(np.arange(6, dtype=np.float64).reshape(3, 2))
    kv = ec.KeyedVectors(["a", "b", "c"], source)
    assert kv.vectors.dtype == np.float32 and kv.vectors.flags.c_contiguous
    np.testing.assert_array_equal(kv.vectors, source)


@pytest.mark.parametrize("words, vectors, error, message", [
    (["a", "b", "a"], np.zeros((3, 2)), ValueError, r"words\[2\] 'a' repeats words\[0\]"),
    (["a", ""], np.zeros((2, 2)), ValueError, r"words\[1\] is empty"),
    (["a", "b c"], np.zeros((2, 2)), ValueError, r"words\[1\] 'b c' contains whitespace"),
    (["a\tb"], np.zeros((1, 2)), ValueError, r"words\[0\] .* contains whitespace"),
    (["x", "a\nb"], np.zeros((2, 2)), ValueError, r"words\[1\] .* contains whitespace"),
    (["a", "b\x0c"], np.zeros((2, 2)), ValueError, r"words\[1\] .* contains whitespace"),
    (["a", 7], np.zeros((2, 2)), TypeError, r"words\[1\] must be a str, got int"),
    ("ab", np.zeros((2, 2)), TypeError, "words must be a sequence of str"),
    (["a", "b"], np.zeros((3, 2)), ValueError, r"one row per word \(2 rows\), got 3 rows \(shape \(3, 2\)\)"),
    (["a", "b"], np.zeros(2), ValueError, "vectors must be a 2-D array"),
    (["a"], [[1.0, np.nan]], ValueError, "NaN or infinity"),
    (["a"], [[1.0, np.inf]], ValueError, "NaN or infinity"),
    (["a"], np.zeros((1, 0)), ValueError, "at least one column"),
    (["a"], [["x", "y"]], TypeError, "real numbers"),
])
def test_constructor_rejects_bad_input_with_a_message_naming_it(words, vectors, error, message):
    with pytest.raises(error, match=message):
        ec.KeyedVectors(words, vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_words_with_unicode_spaces_round_trip_and_gensim_reads_them(tmp_path, binary):
    # fastText and word2vec.c split text on ASCII whitespace only, so their vectors of French or
    # CJK text hold words such as "oui\u00a0!"; the formats carry them
    words = ["oui\u00a0!", "\u6771\u3000\u4eac", "a\u2009b", "plain"]
    kv = ec.KeyedVectors(words, np.arange(8, dtype=np.float32).reshape(4, 2))
    path = tmp_path / ("v.bin" if binary else "v.txt")
    kv.save_word2vec_format(path, binary=binary)
    back = ec.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.words == words and (back.vectors == kv.vectors).all()
    gensim = pytest.importorskip("gensim")
    theirs = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert theirs.index_to_key == words


def test_an_int_that_is_not_a_key_stands_for_its_row_as_in_gensim():
    kv = ec.KeyedVectors(["a", "b"], [[1.0], [2.0]])
    assert kv[1][0] == 2.0 and kv[np.int64(0)][0] == 1.0
    assert 1 in kv and 2 not in kv
    with pytest.raises(KeyError, match="key 2 is not in the vocabulary"):
        kv[2]


def test_getitem_rejects_a_key_that_is_neither_str_nor_int():
    kv = ec.KeyedVectors(["a"], [[1.0]])
    with pytest.raises(TypeError, match="key must be a word"):
        kv[1.5]


# ------------------------------------------------------------------------------- unit vectors
def test_normed_vectors_have_unit_length_and_zero_rows_stay_zero():
    kv = ec.KeyedVectors(["a", "zero", "b"], [[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(kv.get_normed_vectors(), [[0.6, 0.8], [0.0, 0.0], [-1.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(kv.norms, [5.0, 0.0, 1.0])
    np.testing.assert_allclose(kv.get_vector("a", norm=True), [0.6, 0.8], atol=1e-7)


def test_assigning_vectors_refreshes_the_normed_cache():
    kv = ec.KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    assert kv.similarity("a", "b") == pytest.approx(0.0)
    kv.vectors = [[1.0, 0.0], [1.0, 0.0]]
    assert kv.similarity("a", "b") == pytest.approx(1.0)
    assert kv.vectors.dtype == np.float32


def test_assigning_vectors_of_the_wrong_shape_raises():
    kv = ec.KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="one row per word"):
        kv.vectors = np.zeros((3, 2))


def test_in_place_edit_needs_fill_norms_force_to_be_seen():
    kv = ec.KeyedVectors(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(0.0)
    kv.vectors[1] = [2.0, 0.0]  # numpy, in place: the cache is documented to be stale
    assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(0.0)
    assert kv.norms[1] == pytest.approx(1.0)
    kv.fill_norms(force=True)
    assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(1.0)
    assert kv.norms[1] == pytest.approx(2.0)


# ------------------------------------------------------------------------------- similarity
def test_most_similar_to_one_word_matches_the_float64_reference():
    kv = random_kv()
    expected, _ = reference_most_similar(kv, ["w3"], topn=10)
    assert_same_answer(kv.most_similar("w3", topn=10), expected)
    assert_same_answer(kv.most_similar(positive=["w3"]), expected)


def test_most_similar_with_positive_and_negative_matches_the_reference():
    kv = random_kv(seed=1)
    expected, _ = reference_most_similar(kv, ["w1", "w2"], ["w3"], topn=15)
    assert_same_answer(kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=15), expected)


def test_most_similar_with_only_negative_words_matches_the_reference():
    kv = random_kv(seed=2)
    expected, _ = reference_most_similar(kv, [], ["w5"], topn=5)
    assert_same_answer(kv.most_similar(negative="w5", topn=5), expected)


def test_most_similar_leaves_the_input_words_out():
    kv = ec.KeyedVectors(["a", "b", "c", "d"], [[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [-1.0, 0.0]])
    answer = kv.most_similar(positive=["a", "b"], topn=10)
    assert [w for w, _ in answer] == ["c", "d"]


def test_most_similar_to_a_vector_uses_it_as_given_and_excludes_nothing():
    kv = random_kv(seed=3)
    vector = kv["w7"] * 10.0 + 1.0
    expected, _ = reference_most_similar(kv, [vector], topn=8)
    assert_same_answer(kv.most_similar(positive=[vector], topn=8), expected)
    assert_same_answer(kv.similar_by_vector(vector, topn=8), expected)
    assert kv.similar_by_vector(kv["w7"], topn=1)[0][0] == "w7"


def test_most_similar_mixing_words_and_vectors_matches_the_reference():
    kv = random_kv(seed=4)
    vector = np.linspace(-1, 1, kv.vector_size)
    expected, _ = reference_most_similar(kv, ["w1", vector], ["w2"], topn=6)
    assert_same_answer(kv.most_similar(positive=["w1", vector], negative=["w2"], topn=6), expected)


def test_most_similar_weighted_pairs_scale_the_contributions():
    kv = ec.KeyedVectors(["a", "b", "c", "d"], [[1.0, 0.0], [0.0, 1.0], [1.0, 3.0], [3.0, 1.0]])
    assert kv.most_similar(positive=[("a", 1.0), ("b", 3.0)], topn=1)[0][0] == "c"
    assert kv.most_similar(positive=[("a", 3.0), ("b", 1.0)], topn=1)[0][0] == "d"


def test_one_query_path_gives_the_kernels_answer_ties_and_clipping_included():
    # most_similar answers one query with a matrix-vector product; the batch goes through the
    # blocked kernel: the two must agree, ties by lower row, excluded rows left out
    vectors = np.random.default_rng(6).standard_normal((300, 8)).astype(np.float32)
    vectors[50:60] = vectors[10]  # ten ties with w10 (and with each other)
    kv = ec.KeyedVectors([f"w{i}" for i in range(300)], vectors)
    for word in ("w10", "w55", "w299"):
        one = kv.most_similar(word, topn=20)
        batch = kv.most_similar_batch([word], topn=20, workers=2)[0]
        assert [w for w, _ in one] == [w for w, _ in batch]
        np.testing.assert_allclose([s for _, s in one], [s for _, s in batch], atol=1e-6)
    assert [w for w, _ in kv.most_similar("w10", topn=3)] == ["w50", "w51", "w52"]
    clipped = kv.most_similar("w10", topn=5, clip_start=52, clip_end=100)
    assert [w for w, _ in clipped][:3] == ["w52", "w53", "w54"]
    assert len(kv.most_similar("w10", topn=1000)) == 299
    assert len(kv.most_similar(["w10", "w11"], topn=1000, restrict_vocab=20)) == 18


def test_one_query_path_raises_for_nan_written_in_place():
    kv = random_kv(seed=7)
    kv.vectors[3, 0] = np.nan
    kv.fill_norms(force=True)
    with pytest.raises(ValueError, match="NaN"):
        kv.most_similar("w1")


def test_zero_norm_rows_score_zero():
    kv = ec.KeyedVectors(["a", "zero", "b"], [[1.0, 0.0], [0.0, 0.0], [-1.0, 0.1]])
    answer = dict(kv.most_similar("a", topn=2))
    assert answer["zero"] == 0.0
    assert kv.similarity("a", "zero") == 0.0


def test_most_similar_with_topn_none_returns_every_similarity_as_gensim_does():
    kv = random_kv(seed=5)
    _, sims = reference_most_similar(kv, ["w1"], ["w2"])
    got = kv.most_similar(positive=["w1"], negative=["w2"], topn=None)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (len(kv),)
    np.testing.assert_allclose(got, sims, atol=1e-5)


def test_most_similar_topn_beyond_the_vocabulary_returns_every_other_word():
    kv = random_kv(n=6, seed=6)
    answer = kv.most_similar("w0", topn=100)
    assert sorted(w for w, _ in answer) == ["w1", "w2", "w3", "w4", "w5"]
    assert kv.most_similar("w0", topn=0) == []


def test_most_similar_restrict_vocab_searches_only_the_first_words():
    kv = random_kv(seed=7)
    answer = kv.most_similar("w0", topn=100, restrict_vocab=20)
    assert sorted(w for w, _ in answer) == sorted(f"w{i}" for i in range(1, 20))


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, ValueError, "at least one word or vector"),
    ({"positive": ["w0"], "topn": -1}, ValueError, "topn must be >= 0"),
    ({"positive": ["w0"], "topn": 2.5}, TypeError, "topn must be an int"),
    ({"positive": [np.zeros(3)]}, ValueError, "vector of length 16"),
    ({"positive": [np.full(16, np.nan)]}, ValueError, "NaN"),
    ({"positive": 5.5}, TypeError, "positive must be a word"),
    ({"positive": ["w0"], "restrict_vocab": 0}, ValueError, "restrict_vocab must be >= 1"),
])
def test_most_similar_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        random_kv().most_similar(**kwargs)


def test_similarity_and_distance_match_the_reference():
    kv = random_kv(seed=8)
    unit = unit_rows_f64(kv.vectors)
    assert kv.similarity("w1", "w2") == pytest.approx(unit[1] @ unit[2], abs=1e-6)
    assert kv.distance("w1", "w2") == pytest.approx(1 - unit[1] @ unit[2], abs=1e-6)
    assert kv.similarity("w4", "w4") == pytest.approx(1.0, abs=1e-6)


def test_n_similarity_compares_the_means_of_the_raw_vectors_as_gensim_does():
    kv = random_kv(seed=9)
    raw = kv.vectors.astype(np.float64)
    a, b = raw[[1, 2]].mean(0), raw[[3, 4, 5]].mean(0)
    expected = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert kv.n_similarity(["w1", "w2"], ["w3", "w4", "w5"]) == pytest.approx(expected, abs=1e-6)


def test_most_similar_agrees_with_gensim():
    gensim_models = pytest.importorskip("gensim.models")
    kv = random_kv(seed=10)
    theirs = gensim_models.KeyedVectors(kv.vector_size)
    theirs.add_vectors(kv.words, kv.vectors.copy())
    vector = np.linspace(-1, 1, kv.vector_size).astype(np.float32)
    for kwargs in ({"positive": ["w1"]}, {"positive": ["w1", "w2"], "negative": ["w3"]},
                   {"positive": ["w4", vector], "negative": ["w5"]}):
        assert_same_answer(kv.most_similar(topn=12, **kwargs), theirs.most_similar(topn=12, **kwargs))


# --------------------------------------------------------------------- formats: exact bytes
HAND_WORDS = ["a", "größe"]
HAND_VECTORS = [[0.5, -1.0, 3.0], [0.25, 100.0, -0.125]]


def test_save_text_writes_exactly_the_word2vec_text_format(tmp_path):
    path = str(tmp_path / "v.txt")
    ec.KeyedVectors(HAND_WORDS, HAND_VECTORS).save_word2vec_format(path)
    expected = b"2 3\n" + b"a 0.5 -1 3\n" + "größe".encode() + b" 0.25 100 -0.125\n"
    assert open(path, "rb").read() == expected


def test_save_without_header_writes_glove_text(tmp_path):
    path = str(tmp_path / "v.txt")
    ec.KeyedVectors(HAND_WORDS, HAND_VECTORS).save_word2vec_format(path, write_header=False)
    assert open(path, "rb").read() == b"a 0.5 -1 3\n" + "größe".encode() + b" 0.25 100 -0.125\n"


def test_save_binary_writes_exactly_the_word2vec_binary_format(tmp_path):
    path = str(tmp_path / "v.bin")
    ec.KeyedVectors(HAND_WORDS, HAND_VECTORS).save_word2vec_format(path, binary=True)
    expected = (b"2 3\n"
                + b"a " + struct.pack("<3f", 0.5, -1.0, 3.0) + b"\n"
                + "größe".encode() + b" " + struct.pack("<3f", 0.25, 100.0, -0.125) + b"\n")
    assert open(path, "rb").read() == expected


def test_load_handwritten_text_with_tabs_trailing_spaces_and_crlf(tmp_path):
    data = b"3 2\r\n" + b"a 0.5 -1 \n" + "東京\t1e-3\t2.5E+1\r\n".encode() + b"b -0 +7\n\n"
    kv = ec.KeyedVectors.load_word2vec_format(write_bytes(tmp_path, data))
    assert kv.words == ["a", "東京", "b"]
    np.testing.assert_array_equal(kv.vectors, np.array([[0.5, -1.0], [1e-3, 25.0], [0.0, 7.0]], np.float32))


def test_values_below_the_float32_range_round_to_zero_or_subnormal(tmp_path):
    data = b"1 4\nw 1e-50 -1e-400 1e-40 3.4028235e38\n"
    kv = ec.KeyedVectors.load_word2vec_format(write_bytes(tmp_path, data))
    expected = np.array([0.0, -0.0, 1e-40, 3.4028235e38], np.float32)
    np.testing.assert_array_equal(kv["w"].view(np.uint32), expected.view(np.uint32))


def test_load_handwritten_binary_with_and_without_record_newlines(tmp_path):
    data = (b"3 2\n"
            + b"a " + struct.pack("<2f", 0.5, -1.0) + b"\n"       # word2vec.c writes a newline
            + "naïve".encode() + b" " + struct.pack("<2f", 2.0, 3.0)  # gensim does not
            + b"b " + struct.pack("<2f", 10.0, 0.0))                   # no final newline either
    kv = ec.KeyedVectors.load_word2vec_format(write_bytes(tmp_path, data, "v.bin"), binary=True)
    assert kv.words == ["a", "naïve", "b"]
    np.testing.assert_array_equal(kv.vectors, np.array([[0.5, -1.0], [2.0, 3.0], [10.0, 0.0]], np.float32))


def test_load_binary_value_bytes_that_look_like_newlines_and_spaces(tmp_path):
    # 0x0a and 0x20 inside the float bytes must not be taken as separators
    values = np.frombuffer(b"\x0a\x20\x0a\x20\x20\x0a\x0a\x3f", dtype="<f4")
    data = b"1 2\n" + b"x " + values.tobytes() + b"\n"
    kv = ec.KeyedVectors.load_word2vec_format(write_bytes(tmp_path, data, "v.bin"), binary=True)
    np.testing.assert_array_equal(kv["x"], values)


def test_load_glove_text_without_header(tmp_path):
    data = "the 0.1 0.2 0.3\nof -1 0 1\ngröße 4 5 6\n".encode()
    kv = ec.KeyedVectors.load_word2vec_format(write_bytes(tmp_path, data), no_header=True)
    assert kv.words == ["the", "of", "größe"]
    np.testing.assert_array_equal(kv.vectors, np.array([[0.1, 0.2, 0.3], [-1, 0, 1], [4, 5, 6]], np.float32))


def test_load_a_file_with_zero_vectors(tmp_path):
    kv = ec.KeyedVectors.load_word2vec_format(write_bytes(tmp_path, b"0 4\n"))
    assert len(kv) == 0 and kv.vector_size == 4


# ---------------------------------------------------------------------- formats: round trips
@pytest.mark.parametrize("binary, header, suffix", [
    (False, True, ".txt"), (True, True, ".bin"), (False, False, ".txt"),
    (False, True, ".txt.gz"), (True, True, ".bin.gz"), (False, False, ".txt.bz2"), (True, True, ".bin.bz2"),
])
def test_round_trip_with_non_ascii_words_is_exact(tmp_path, binary, header, suffix):
    kv = random_kv(words=NON_ASCII + [f"w{i}" for i in range(50)], dim=7, seed=11)
    path = str(tmp_path / ("v" + suffix))
    kv.save_word2vec_format(path, binary=binary, write_header=header)
    back = ec.KeyedVectors.load_word2vec_format(path, binary=binary, no_header=not header)
    assert back.words == kv.words
    assert back.vectors.dtype == np.float32
    np.testing.assert_array_equal(back.vectors.view(np.uint32), kv.vectors.view(np.uint32))


WORD = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=8) \
    .filter(lambda w: not any(c.isspace() for c in w))


@settings(max_examples=25, deadline=None)
@given(words=st.lists(WORD, min_size=1, max_size=12, unique=True), dim=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1), binary=st.booleans())
def test_round_trip_of_any_unicode_words_and_float32_bits(tmp_path_factory, words, dim, seed, binary):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, size=(len(words), dim), dtype=np.uint64).astype(np.uint32)
    vectors = bits.view(np.float32).copy()
    vectors[~np.isfinite(vectors)] = 1.5
    kv = ec.KeyedVectors(words, vectors)
    path = str(tmp_path_factory.mktemp("rt") / "v")
    kv.save_word2vec_format(path, binary=binary)
    back = ec.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.words == words
    np.testing.assert_array_equal(back.vectors.view(np.uint32), vectors.view(np.uint32))


def test_compressed_files_really_are_compressed(tmp_path):
    kv = random_kv(n=5, dim=3)
    kv.save_word2vec_format(str(tmp_path / "v.txt.gz"))
    kv.save_word2vec_format(str(tmp_path / "v.txt.bz2"))
    assert gzip.open(tmp_path / "v.txt.gz").read().startswith(b"5 3\nw0 ")
    assert bz2.open(tmp_path / "v.txt.bz2").read().startswith(b"5 3\nw0 ")


def test_text_round_trip_is_exact_for_extreme_float32_values(tmp_path):
    rng = np.random.default_rng(12)
    bits = rng.integers(0, 2**32, size=4000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = values[np.isfinite(values)][:3000]
    special = np.array([0.0, -0.0, 1e-45, -1e-45, 1.17549435e-38, 3.4028235e38, -3.4028235e38, 0.1],
                       np.float32)
    matrix = np.concatenate([special, values])[: 3000 // 8 * 8].reshape(-1, 8)
    kv = ec.KeyedVectors([f"w{i}" for i in range(len(matrix))], matrix)
    path = str(tmp_path / "v.txt")
    kv.save_word2vec_format(path)
    back = ec.KeyedVectors.load_word2vec_format(path)
    np.testing.assert_array_equal(back.vectors.view(np.uint32), kv.vectors.view(np.uint32))


@pytest.mark.parametrize("binary", [False, True])
def test_loading_in_tiny_chunks_gives_the_same_vectors(tmp_path, monkeypatch, binary):
    kv = random_kv(words=NON_ASCII + [f"w{i}" for i in range(30)], dim=5, seed=13)
    path = str(tmp_path / "v")
    kv.save_word2vec_format(path, binary=binary)
    for chunk in (1, 3, 7, 64):
        monkeypatch.setattr(w2v_format, "_CHUNK_BYTES", chunk)
        back = ec.KeyedVectors.load_word2vec_format(path, binary=binary)
        assert back.words == kv.words
        np.testing.assert_array_equal(back.vectors, kv.vectors)


def test_parsing_text_with_several_threads_gives_the_same_vectors(tmp_path):
    kv = random_kv(n=6000, dim=3, seed=18)  # enough lines for the parallel path
    path = str(tmp_path / "v.txt")
    kv.save_word2vec_format(path)
    for workers in (1, 2, 3):
        back = ec.KeyedVectors.load_word2vec_format(path, workers=workers)
        assert back.words == kv.words
        np.testing.assert_array_equal(back.vectors, kv.vectors)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_the_first_bad_line_is_reported_whatever_the_thread_count(tmp_path, workers):
    lines = [b"6000 2"] + [b"w%d 1 2" % i for i in range(6000)]
    lines[5001] = b"w5000 1 bad"   # line 5002
    lines[5500] = b""              # line 5501: blank inside the file
    lines[101] = b"w100 1"         # line 102: the first error
    path = write_bytes(tmp_path, b"\n".join(lines) + b"\n")
    with pytest.raises(ValueError, match="line 102: expected the word and 2 values"):
        ec.KeyedVectors.load_word2vec_format(path, workers=workers)


def test_workers_zero_is_rejected(tmp_path):
    path = write_bytes(tmp_path, b"1 1\na 1\n")
    with pytest.raises(ValueError, match="workers must be"):
        ec.KeyedVectors.load_word2vec_format(path, workers=0)


@pytest.mark.parametrize("binary, header", [(False, True), (True, True), (False, False)])
def test_limit_reads_only_the_first_vectors(tmp_path, binary, header):
    kv = random_kv(n=20, dim=4, seed=14)
    path = str(tmp_path / "v")
    kv.save_word2vec_format(path, binary=binary, write_header=header)
    back = ec.KeyedVectors.load_word2vec_format(path, binary=binary, no_header=not header, limit=5)
    assert back.words == kv.words[:5]
    np.testing.assert_array_equal(back.vectors, kv.vectors[:5])


def test_errors_replace_substitutes_invalid_utf8(tmp_path):
    path = write_bytes(tmp_path, b"2 1\na 1\nb\xff 2\n")
    kv = ec.KeyedVectors.load_word2vec_format(path, errors="replace")
    assert kv.words == ["a", "b\ufffd"]


def test_load_and_save_reject_bad_arguments(tmp_path):
    path = write_bytes(tmp_path, b"1 1\na 1\n")
    with pytest.raises(ValueError, match="errors must be one of"):
        ec.KeyedVectors.load_word2vec_format(path, errors="bogus")
    with pytest.raises(ValueError, match="limit must be >= 1"):
        ec.KeyedVectors.load_word2vec_format(path, limit=0)
    with pytest.raises(ValueError, match="no_header=True is only possible for text"):
        ec.KeyedVectors.load_word2vec_format(path, binary=True, no_header=True)
    with pytest.raises(FileNotFoundError):
        ec.KeyedVectors.load_word2vec_format(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="write_header=False is only possible for text"):
        random_kv(n=2).save_word2vec_format(str(tmp_path / "x.bin"), binary=True, write_header=False)


# --------------------------------------------------------------------- formats: corrupt files
def rec(word, *values):
    return word.encode() + b" " + struct.pack(f"<{len(values)}f", *values) + b"\n"


CORRUPT_TEXT = {
    "header not numbers": (b"x y\na 1 2\n", "line 1: expected a header"),
    "glove file read with a header": (b"the 1 2\nof 3 4\n", "pass no_header=True"),
    "header counts too many rows": (b"3 2\na 1 2\nb 3 4\n", "line 4: the file ends after 2 of the 3"),
    "header counts too few rows": (b"1 2\na 1 2\nb 3 4\n", "line 3: more data after the 1 vectors"),
    "row with too few values": (b"2 2\na 1 2\nb 3\n", "line 3: expected the word and 2 values, got the word 'b' and 1"),
    "row with too many values": (b"2 2\na 1 2\nb 3 4 5\n", "line 3: expected the word and 2 values"),
    "non-numeric value": (b"2 2\na 1 2\nb 3 x4\n", "line 3: value 2 'x4' is not a number"),
    "number with junk": (b"2 2\na 1 2\nb 3 4.5.6\n", "line 3: value 2 '4.5.6' is not a number"),
    "nan": (b"2 2\na nan 2\nb 3 4\n", "line 2: value 1 'nan' is NaN or infinite"),
    "inf": (b"2 2\na 1 2\nb -inf 4\n", "line 3: value 1 '-inf' is NaN or infinite"),
    "beyond float32": (b"2 2\na 1 2\nb 1e39 4\n", "line 3: value 1 '1e39' is NaN or infinite"),
    "duplicate word": (b"3 1\na 1\nb 2\na 3\n", "line 4: duplicate word 'a' (first at line 2)"),
    "invalid utf-8": (b"2 1\na 1\n\xff\xfe 2\n", "line 3: the word is not valid UTF-8"),
    "blank line inside": (b"2 1\na 1\n\nb 2\n", "line 3: empty line before the end of the file"),
    "line starting with a space": (b"2 1\na 1\n b 2\n", "line 3: starts with whitespace"),
    "empty file": (b"", "the file is empty"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_TEXT))
def test_corrupt_text_raises_valueerror_naming_path_and_line(tmp_path, case):
    data, message = CORRUPT_TEXT[case]
    path = write_bytes(tmp_path, data)
    with pytest.raises(ValueError, match=rf"^{_re(path)}: .*{_re(message)}"):
        ec.KeyedVectors.load_word2vec_format(path)


def _re(text):
    import re
    return re.escape(text)


@pytest.mark.parametrize("data, message", [
    (b"a 1 2\nb 3\n", "line 2: expected the word and 2 values"),
    (b"a\nb\n", "line 1: expected a word followed by its values"),
    (b"a 1\nb x\n", "line 2: value 1 'x' is not a number"),
    (b"a 1\nb 2\na 3\n", "line 3: duplicate word 'a' (first at line 1)"),
])
def test_corrupt_glove_text_raises_valueerror_naming_the_line(tmp_path, data, message):
    path = write_bytes(tmp_path, data)
    with pytest.raises(ValueError, match=_re(message)):
        ec.KeyedVectors.load_word2vec_format(path, no_header=True)


HEADER = b"2 2\n"
FIRST = rec("a", 1.0, 2.0)             # bytes 4 .. 4 + 11
SECOND_AT = len(HEADER) + len(FIRST)   # 15
CORRUPT_BINARY = {
    "truncated vector": (HEADER + FIRST + rec("b", 3.0, 4.0)[:6], f"byte offset {SECOND_AT}: the file ends inside vector 2"),
    "truncated word": (HEADER + FIRST + b"bb", f"byte offset {SECOND_AT}: the file ends inside the word of vector 2"),
    "header counts too many": (HEADER + FIRST, f"byte offset {SECOND_AT}: the file ends after 1 of the 2"),
    "header counts too few": (b"1 2\n" + FIRST + rec("b", 3.0, 4.0), f"byte offset {SECOND_AT}: more data after the 1 vectors"),
    "nan value": (HEADER + FIRST + rec("b", 3.0, float("nan")), f"byte offset {SECOND_AT}: value 2 of vector 2 is NaN or infinite"),
    "inf value": (HEADER + rec("a", float("inf"), 2.0) + rec("b", 3.0, 4.0), "byte offset 4: value 1 of vector 1 is NaN"),
    "duplicate word": (HEADER + FIRST + rec("a", 3.0, 4.0), f"byte offset {SECOND_AT}: duplicate word 'a' (first at byte offset 4)"),
    "invalid utf-8": (HEADER + FIRST + b"\xc3\x28" + rec("", 3.0, 4.0), f"byte offset {SECOND_AT}: the word is not valid UTF-8"),
    "header not numbers": (b"two 2\n" + FIRST, "line 1: expected a header"),
    "empty word": (HEADER + FIRST + rec("", 3.0, 4.0), f"byte offset {SECOND_AT}: empty word"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_BINARY))
def test_corrupt_binary_raises_valueerror_naming_path_and_byte_offset(tmp_path, case):
    data, message = CORRUPT_BINARY[case]
    path = write_bytes(tmp_path, data, "v.bin")
    with pytest.raises(ValueError, match=rf"^{_re(path)}: .*{_re(message)}"):
        ec.KeyedVectors.load_word2vec_format(path, binary=True)


@pytest.mark.parametrize("binary", [False, True])
def test_a_header_announcing_far_more_vectors_than_the_file_holds_is_refused_before_allocating(
        tmp_path, binary):
    body = rec("a", 1.0, 2.0, 3.0) if binary else b"a 1 2 3\n"
    path = write_bytes(tmp_path, b"100000000000 3\n" + body)  # 1.2 TB of vectors
    with pytest.raises(ValueError, match=r"line 1: the header announces 100000000000 vectors of "
                                         r"dimension 3, which take at least \d+ bytes, but only "
                                         f"{len(body)} follow"):
        ec.KeyedVectors.load_word2vec_format(path, binary=binary)


def test_a_huge_header_count_in_a_compressed_file_is_refused(tmp_path):
    path = str(tmp_path / "v.txt.gz")
    with gzip.open(path, "wb") as f:
        f.write(b"100000000000000 300\na 1\n")
    with pytest.raises(ValueError, match="line 1: the header announces 100000000000000 vectors"):
        ec.KeyedVectors.load_word2vec_format(path)


def test_truncated_gzip_raises_valueerror_naming_the_path(tmp_path):
    kv = random_kv(n=500, dim=8)
    path = str(tmp_path / "v.txt.gz")
    kv.save_word2vec_format(path)
    data = open(path, "rb").read()
    cut = write_bytes(tmp_path, data[: len(data) // 2], "cut.txt.gz")
    with pytest.raises(ValueError, match=_re(cut)):
        ec.KeyedVectors.load_word2vec_format(cut)


@pytest.mark.parametrize("binary,compress", [(False, None), (True, None), (False, gzip.compress),
                                             (True, bz2.compress)])
def test_a_named_pipe_loads_without_hanging(tmp_path, binary, compress):
    import threading
    kv = random_kv(n=50, dim=4)
    saved = tmp_path / "v"
    kv.save_word2vec_format(saved, binary=binary)
    data = saved.read_bytes()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as f:
            f.write(compress(data) if compress else data)
    threading.Thread(target=feed, daemon=True).start()
    result = []
    reader = threading.Thread(
        target=lambda: result.append(ec.KeyedVectors.load_word2vec_format(fifo, binary=binary)), daemon=True)
    reader.start()
    reader.join(20)
    assert not reader.is_alive(), "load_word2vec_format hangs on a named pipe"
    assert result[0].words == kv.words and (result[0].vectors == kv.vectors).all()


def test_a_large_header_in_a_pipe_is_not_refused_for_its_size(tmp_path):
    # the size check before allocating needs a file size; a pipe has none
    import threading
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    rows = 3000
    text = f"{rows} 6000\n".encode() + b"".join(b"w%d " % i + b"0 " * 5999 + b"0\n" for i in range(rows))

    def feed():
        with open(fifo, "wb") as f:
            f.write(text)
    threading.Thread(target=feed, daemon=True).start()
    kv = ec.KeyedVectors.load_word2vec_format(fifo)
    assert kv.vectors.shape == (rows, 6000)


# ------------------------------------------------------------------------------- atomic save
def test_a_failing_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = str(tmp_path / "vectors.txt")
    with open(path, "wb") as f:
        f.write(b"old content")

    def failing_write(stream, words, vectors, binary):
        stream.write(b"partial rows")
        raise OSError("disk full")

    monkeypatch.setattr(w2v_format, "_write_block", failing_write)
    with pytest.raises(OSError, match="disk full"):
        random_kv(n=3, dim=2).save_word2vec_format(path)
    assert open(path, "rb").read() == b"old content"
    assert os.listdir(tmp_path) == ["vectors.txt"]


def test_save_replaces_an_existing_file(tmp_path):
    path = str(tmp_path / "vectors.txt")
    random_kv(n=10, dim=2, seed=1).save_word2vec_format(path)
    kv = random_kv(n=3, dim=2, seed=2)
    kv.save_word2vec_format(path)
    assert ec.KeyedVectors.load_word2vec_format(path).words == kv.words
    assert os.listdir(tmp_path) == ["vectors.txt"]


def test_save_into_a_missing_directory_raises_and_leaves_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        random_kv(n=2).save_word2vec_format(str(tmp_path / "nowhere" / "v.txt"))
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- gensim interop
@pytest.mark.parametrize("binary", [False, True])
def test_files_we_write_load_in_gensim_with_equal_vectors(tmp_path, binary):
    gensim_models = pytest.importorskip("gensim.models")
    kv = random_kv(words=NON_ASCII + [f"w{i}" for i in range(40)], dim=9, seed=15)
    path = str(tmp_path / "v")
    kv.save_word2vec_format(path, binary=binary)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert list(theirs.index_to_key) == kv.words
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)


def test_glove_files_we_write_load_in_gensim(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    kv = random_kv(words=NON_ASCII, dim=3, seed=16)
    path = str(tmp_path / "v")
    kv.save_word2vec_format(path, write_header=False)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(path, no_header=True)
    assert list(theirs.index_to_key) == kv.words
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_files_gensim_writes_load_with_equal_vectors(tmp_path, binary):
    gensim_models = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(17)
    words = NON_ASCII + [f"w{i}" for i in range(40)]
    theirs = gensim_models.KeyedVectors(9)
    theirs.add_vectors(words, rng.standard_normal((len(words), 9)).astype(np.float32))
    path = str(tmp_path / "v")
    theirs.save_word2vec_format(path, binary=binary)
    ours = ec.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert ours.words == words
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)


def test_save_keeps_permissions_and_group_writes_through_symlinks_and_leaves_tmp_files(tmp_path):
    # before, a 0600 file came back 0644 (world-readable) and a symlink was replaced by a file
    import stat
    real = tmp_path / "real.txt"
    random_kv(n=3, dim=2, seed=1).save_word2vec_format(real)
    os.chmod(real, 0o600)
    if os.geteuid() == 0:
        os.chown(real, -1, 4242)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    (tmp_path / "link.txt.tmp").write_text("mine")
    kv = random_kv(n=5, dim=2, seed=2)
    kv.save_word2vec_format(link)
    assert link.is_symlink() and ec.KeyedVectors.load_word2vec_format(real).words == kv.words
    info = os.stat(real)
    assert stat.S_IMODE(info.st_mode) == 0o600
    if os.geteuid() == 0:
        assert info.st_gid == 4242
    assert (tmp_path / "link.txt.tmp").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["link.txt", "link.txt.tmp", "real.txt"]


def test_a_word_that_is_not_valid_unicode_is_refused_when_built():
    with pytest.raises(ValueError, match=r"words\[1\] .* not encodable as UTF-8"):
        ec.KeyedVectors(["a", "b\ud800"], np.zeros((2, 2)))


# ------------------------------------------------------------------ trained models' count attribute
def _count_corpus():
    rng = np.random.default_rng(8)
    words = [f"t{i}" for i in range(30)]
    return [[words[j] for j in rng.zipf(1.5, 12) % 30] for _ in range(200)]


def test_trained_word_vectors_carry_the_corpus_count_as_gensim_does():
    from gensim.models import Word2Vec as GensimWord2Vec
    sentences = _count_corpus()
    theirs = GensimWord2Vec(sentences, vector_size=8, min_count=2, epochs=1, workers=1, seed=1).wv
    vocab = ec.Vocab.from_corpus(sentences, min_count=2)
    expected = {w: int(c) for w, c in zip(vocab.words, vocab.counts)}
    assert expected == {w: int(theirs.get_vecattr(w, "count")) for w in theirs.index_to_key}
    models = [ec.Word2Vec(vector_size=8, min_count=2, epochs=1, workers=1),
              ec.FastText(vector_size=8, min_count=2, epochs=1, workers=1, bucket=100),
              ec.GloVe(vector_size=8, epochs=1, workers=1), ec.SVDEmbedding(vector_size=4, min_count=2)]
    for model in models:
        if isinstance(model, ec.GloVe):
            model.fit(sentences, min_count=2)
        else:
            model.fit(sentences)
        wv = model.wv
        assert {w: int(wv.get_vecattr(w, "count")) for w in wv.index_to_key} == expected, type(model).__name__


def test_vectors_fitted_on_a_list_of_words_get_descending_dummy_counts():
    cooc = ec.cooccurrence(ec.Vocab.from_corpus(_count_corpus(), min_count=1).encode(_count_corpus()), 30)
    words = [f"t{i}" for i in range(cooc.shape[0])]
    wv = ec.SVDEmbedding(vector_size=4).fit(cooc, vocab=words).wv
    assert [int(wv.get_vecattr(w, "count")) for w in words] == list(range(len(words), 0, -1))
