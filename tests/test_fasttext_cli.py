"""`embedcore train --model fasttext` and `embedcore similar` on a fastText model."""
import numpy as np
import pytest

import embedcore as ec
from embedcore.cli import main


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    ec.datasets.synthetic_corpus(30_000, 1000, seed=1).write_text(path)
    return str(path)


def train(corpus_file, output, *extra):
    return main(["-q", "train", corpus_file, "--model", "fasttext", "--dim", "8", "--epochs", "1", "--workers", "1",
                 "--bucket", "5000", "-o", str(output), *extra])


def test_train_writes_a_fasttext_model_for_a_bin_name(corpus_file, tmp_path, capsys):
    path = tmp_path / "m.bin"
    assert train(corpus_file, path, "--min-n", "2", "--max-n", "4") == 0
    model = ec.load_facebook_model(path)
    assert (model.vector_size, model.min_n, model.max_n, model.bucket) == (8, 2, 4, 5000)
    assert "fasttext:" in capsys.readouterr().out


def test_train_writes_vec_text_for_other_names(corpus_file, tmp_path):
    path = tmp_path / "m.vec"
    assert train(corpus_file, path) == 0
    kv = ec.KeyedVectors.load_word2vec_format(path)
    assert kv.vector_size == 8 and len(kv) > 100


def test_similar_answers_an_unseen_word_from_a_fasttext_model(corpus_file, tmp_path, capsys):
    path = tmp_path / "m.bin"
    assert train(corpus_file, path) == 0
    wv = ec.load_facebook_model(path).wv
    unseen = wv.words[5] + "qz"
    assert unseen not in wv.key_to_index
    capsys.readouterr()
    assert main(["similar", str(path), unseen, "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{unseen}:" and len(lines) == 4
    want = wv.most_similar(unseen, topn=3)
    assert [line.split()[1] for line in lines[1:]] == [w for w, _ in want]
    assert np.isclose(float(lines[1].split()[0]), want[0][1], atol=1e-4)


def test_ngram_options_are_refused_for_other_models(corpus_file, tmp_path):
    with pytest.raises(SystemExit, match="fasttext only"):
        main(["-q", "train", corpus_file, "--model", "sgns", "--bucket", "10", "-o", str(tmp_path / "v.txt")])


def test_bad_ngram_lengths_are_a_message(corpus_file, tmp_path):
    with pytest.raises(SystemExit, match="min_n must be <= max_n"):
        train(corpus_file, tmp_path / "m.bin", "--min-n", "5", "--max-n", "3")
