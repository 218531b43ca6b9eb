"""fastText .bin files: round trips through embedcore, the fasttext package and gensim (skipped
where a peer is not installed), and corrupt files refused with clear errors."""
import struct

import numpy as np
import pytest

import embedcore as ec
from embedcore.formats import fasttext_bin

SEEN = ["walking", "walked", "walks", "été", "naïve", "日本語"]
UNSEEN = ["walkings", "éténaïve", "日本", "zzzq", "Walking"]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = SEEN + [f"w{i}" for i in range(30)]
    lines = [" ".join(rng.choice(words, 12)) for _ in range(300)]
    path = tmp_path_factory.mktemp("ft") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ours(corpus_file):
    return ec.FastText(vector_size=12, min_count=1, epochs=2, bucket=3000, min_n=2, max_n=5, workers=1,
                       seed=5).fit(str(corpus_file))


@pytest.fixture(scope="module")
def saved(ours, tmp_path_factory):
    path = tmp_path_factory.mktemp("bin") / "ours.bin"
    ec.save_facebook_model(ours, path)
    return path


def test_round_trip_through_embedcore_keeps_every_array(ours, saved):
    loaded = ec.load_facebook_model(saved)
    assert isinstance(loaded, ec.FastText)
    assert loaded.vocab.words == ours.vocab.words
    np.testing.assert_array_equal(loaded.vocab.counts, ours.vocab.counts)
    np.testing.assert_array_equal(loaded.input_vectors, ours.input_vectors)
    np.testing.assert_array_equal(loaded.syn1neg, ours.syn1neg)
    assert (loaded.vector_size, loaded.min_n, loaded.max_n, loaded.bucket, loaded.sg) == (12, 2, 5, 3000, 1)
    for word in SEEN + UNSEEN:
        np.testing.assert_array_equal(loaded.wv[word], ours.wv[word])


def test_the_fasttext_package_reads_our_file_with_the_same_vectors(ours, saved):
    fasttext = pytest.importorskip("fasttext")
    model = fasttext.load_model(str(saved))
    assert model.words == ours.vocab.words
    for word in SEEN + UNSEEN:
        np.testing.assert_allclose(model.get_word_vector(word), ours.wv[word], rtol=1e-5, atol=1e-7, err_msg=word)


def test_gensim_reads_our_file_with_the_same_vectors(ours, saved):
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext")
    model = gensim_fasttext.load_facebook_model(str(saved))
    for word in SEEN + UNSEEN:
        np.testing.assert_allclose(model.wv[word], ours.wv[word], rtol=1e-5, atol=1e-7, err_msg=word)


def test_a_file_written_by_fasttext_loads_with_its_vectors(corpus_file, tmp_path):
    fasttext = pytest.importorskip("fasttext")
    theirs = fasttext.train_unsupervised(str(corpus_file), model="cbow", dim=10, epoch=1, minCount=1, minn=3,
                                         maxn=6, bucket=2000, thread=1, verbose=0)
    path = tmp_path / "theirs.bin"
    theirs.save_model(str(path))
    loaded = ec.load_facebook_model(path)
    assert loaded.sg == 0 and loaded.vocab.words == theirs.words  # "</s>" included, as fastText counts it
    for word in SEEN + UNSEEN:
        np.testing.assert_allclose(loaded.wv[word], theirs.get_word_vector(word), rtol=1e-5, atol=1e-7, err_msg=word)
    np.testing.assert_array_equal(loaded.input_vectors, theirs.get_input_matrix())
    # and back out: the file we write loads in fastText with the same vectors
    again = tmp_path / "again.bin"
    ec.save_facebook_model(loaded, again)
    reread = fasttext.load_model(str(again))
    for word in SEEN + UNSEEN:
        np.testing.assert_allclose(reread.get_word_vector(word), theirs.get_word_vector(word), rtol=1e-6, atol=1e-8)


def test_unseen_word_queries_work_after_loading(saved):
    wv = ec.load_facebook_model(saved).wv
    answer = wv.most_similar("walkings", topn=3)
    assert len(answer) == 3 and all(w in wv.key_to_index for w, _ in answer)


# ---------------------------------------------------------------------------------------------
# bad files

def test_wrong_magic_is_refused(saved, tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(struct.pack("<i", 12345) + saved.read_bytes()[4:])
    with pytest.raises(ValueError, match="not a fastText .bin file"):
        ec.load_facebook_model(bad)


def test_unknown_version_is_refused(saved, tmp_path):
    bad = tmp_path / "bad.bin"
    data = saved.read_bytes()
    bad.write_bytes(data[:4] + struct.pack("<i", 13) + data[8:])
    with pytest.raises(ValueError, match="version 13"):
        ec.load_facebook_model(bad)


@pytest.mark.parametrize("keep", [0, 3, 10, 60, 100, 400, -5, -1])
def test_a_truncated_file_is_refused(saved, tmp_path, keep):
    data = saved.read_bytes()
    bad = tmp_path / "cut.bin"
    bad.write_bytes(data[:keep] if keep >= 0 else data[:len(data) + keep])
    with pytest.raises(ValueError, match="truncated|empty|not a valid"):
        ec.load_facebook_model(bad)


def test_trailing_bytes_are_refused(saved, tmp_path):
    bad = tmp_path / "long.bin"
    bad.write_bytes(saved.read_bytes() + b"\0\0")
    with pytest.raises(ValueError, match="follow the output matrix"):
        ec.load_facebook_model(bad)


def test_a_corrupt_matrix_shape_is_refused(ours, tmp_path):
    path = tmp_path / "m.bin"
    ec.save_facebook_model(ours, path)
    data = bytearray(path.read_bytes())
    # the input matrix header follows the dictionary and one flag byte: find it by its values
    header = struct.pack("<2q", len(ours.vocab) + ours.bucket, ours.vector_size)
    at = bytes(data).index(header)
    data[at:at + 16] = struct.pack("<2q", len(ours.vocab) + ours.bucket, ours.vector_size + 1)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="input matrix"):
        ec.load_facebook_model(path)


def test_saving_an_unfitted_model_raises(tmp_path):
    with pytest.raises(ec.NotFittedError):
        ec.save_facebook_model(ec.FastText(), tmp_path / "x.bin")
    with pytest.raises(TypeError, match="FastText"):
        ec.save_facebook_model(object(), tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ec.load_facebook_model(tmp_path / "none.bin")
