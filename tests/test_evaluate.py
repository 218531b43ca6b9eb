"""Analogy and word-pair evaluation: hand-checked cases and parity with gensim."""
import os

import numpy as np
import pytest

from embedcore.evaluate import evaluate_word_analogies, evaluate_word_pairs, read_analogies

gensim = pytest.importorskip("gensim")
from gensim.models import KeyedVectors as GensimKeyedVectors  # noqa: E402

GENSIM_DATA = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def gensim_kv(words, vectors):
    kv = GensimKeyedVectors(vectors.shape[1])
    kv.add_vectors(list(words), np.asarray(vectors, dtype=np.float32))
    return kv


def planted_vocabulary(seed=3, n=300, dim=24):
    """Random vectors where 'w{i}b' = 'w{i}a' + offset + noise, so some analogies hold."""
    rng = np.random.default_rng(seed)
    words, vectors = [], []
    offset = rng.standard_normal(dim)
    for i in range(n // 2):
        base = rng.standard_normal(dim)
        words += [f"w{i}a", f"w{i}b"]
        vectors += [base, base + offset + 0.8 * rng.standard_normal(dim)]
    # case variants: a later, less frequent 'W0A' must not replace 'w0a'
    words.append("W0A")
    vectors.append(rng.standard_normal(dim))
    return words, np.array(vectors, dtype=np.float32)


def planted_questions(words, rng, n=400):
    pairs = [(words[2 * i], words[2 * i + 1]) for i in range(len(words) // 2)]
    lines = [": first-section"]
    for j in range(n):
        if j == n // 2:
            lines.append(": second-section")
        (a, b), (c, d) = (pairs[i] for i in rng.choice(len(pairs), size=2, replace=False))
        lines.append(f"{a} {b} {c} {d}")
    lines += ["w0a w0b missing w1b", "only three words", "W1A w1B w2a W2B"]
    return "\n".join(lines) + "\n"


def test_read_analogies_parses_sections_and_skips_malformed_lines(tmp_path):
    path = write(tmp_path, "q.txt", ": capital\nathens greece berlin germany\nbad line\n\n: verbs\na b c d\n")
    assert read_analogies(path) == [("capital", [("ATHENS", "GREECE", "BERLIN", "GERMANY")]),
                                    ("verbs", [("A", "B", "C", "D")])]
    assert read_analogies(path, case_insensitive=False)[0][1] == [("athens", "greece", "berlin", "germany")]


def test_read_analogies_rejects_a_question_before_any_section(tmp_path):
    path = write(tmp_path, "q.txt", "a b c d\n: s\n")
    with pytest.raises(ValueError, match="before any ': section' header"):
        read_analogies(path)


def test_analogy_answer_is_the_nearest_word_with_question_words_excluded(tmp_path):
    # king - man + woman: 'king' itself is nearest to the query but is a question word
    words = ["king", "man", "woman", "queen", "apple"]
    vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0.1, 0.9, 1.1], [-1, -1, -1]], np.float32)
    path = write(tmp_path, "q.txt", ": royal\nman king woman queen\nman king woman apple\n")
    accuracy, sections = evaluate_word_analogies(words, vectors, path)
    assert accuracy == 0.5
    assert sections[0]["correct"] == [("MAN", "KING", "WOMAN", "QUEEN")]
    assert sections[0]["incorrect"] == [("MAN", "KING", "WOMAN", "APPLE")]
    assert sections[-1]["section"] == "Total accuracy"


def test_analogy_questions_outside_restrict_vocab_are_skipped_or_counted_wrong(tmp_path):
    words = ["king", "man", "woman", "queen"]
    vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0.1, 0.9, 1.1]], np.float32)
    path = write(tmp_path, "q.txt", ": royal\nman king woman queen\n")
    accuracy, sections = evaluate_word_analogies(words, vectors, path, restrict_vocab=3)
    assert accuracy == 0.0 and sections[-1]["correct"] == sections[-1]["incorrect"] == []
    accuracy, sections = evaluate_word_analogies(words, vectors, path, restrict_vocab=3, dummy4unknown=True)
    assert sections[-1]["incorrect"] == [("MAN", "KING", "WOMAN", "QUEEN")]


def test_3cosmul_matches_a_numpy_reference(tmp_path):
    words, vectors = planted_vocabulary(seed=5)
    rng = np.random.default_rng(0)
    path = write(tmp_path, "q.txt", planted_questions(words, rng, n=200))
    accuracy, sections = evaluate_word_analogies(words, vectors, path, method="3cosmul")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    lookup = {}
    for row, word in enumerate(words):
        lookup.setdefault(word.upper(), row)
    correct = total = 0
    for _, questions in read_analogies(path):
        for q in questions:
            if any(w not in lookup for w in q):
                continue
            a, b, c = (unit[lookup[w]].astype(np.float64) for w in q[:3])
            cos = lambda v: (1 + unit.astype(np.float64) @ v) / 2  # noqa: E731
            score = cos(b) * cos(c) / (cos(a) + 1e-6)
            score[[lookup[w] for w in q[:3]]] = -np.inf
            best = next(words[i].upper() for i in np.argsort(-score, kind="stable")
                        if words[i].upper() not in q[:3])
            correct += best == q[3]
            total += 1
    assert total == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert accuracy == pytest.approx(correct / total, abs=1e-12)
    assert 0.0 < accuracy < 1.0


@pytest.mark.parametrize("restrict_vocab", [300000, 120])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_analogies_equal_gensim_on_random_vectors(tmp_path, restrict_vocab, case_insensitive):
    words, vectors = planted_vocabulary()
    path = write(tmp_path, "q.txt", planted_questions(words, np.random.default_rng(1)))
    ours = evaluate_word_analogies(words, vectors, path, restrict_vocab=restrict_vocab,
                                   case_insensitive=case_insensitive)
    theirs = gensim_kv(words, vectors).evaluate_word_analogies(path, restrict_vocab=restrict_vocab,
                                                               case_insensitive=case_insensitive)
    assert ours[0] == theirs[0]
    assert 0.0 < ours[0] < 1.0
    assert ours[1] == theirs[1]


@pytest.fixture(scope="module")
def trained_model():
    from gensim.models import Word2Vec

    corpus = os.path.join(GENSIM_DATA, "lee_background.cor")
    sentences = [line.lower().split() for line in open(corpus, encoding="utf-8")]
    model = Word2Vec(sentences, vector_size=32, min_count=3, epochs=20, workers=1, seed=7)
    return model.wv.index_to_key, model.wv.vectors


def test_analogies_equal_gensim_on_a_trained_model(trained_model):
    words, vectors = trained_model
    path = os.path.join(GENSIM_DATA, "questions-words.txt")
    ours = evaluate_word_analogies(words, vectors, path, restrict_vocab=30000)
    theirs = gensim_kv(words, vectors).evaluate_word_analogies(path, restrict_vocab=30000)
    assert len(ours[1][-1]["correct"]) > 0 and len(ours[1][-1]["incorrect"]) > 100
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_word_pairs_equal_gensim_on_a_trained_model(trained_model, name):
    words, vectors = trained_model
    path = os.path.join(GENSIM_DATA, name)
    pearson, spearman, oov = evaluate_word_pairs(words, vectors, path)
    g_pearson, g_spearman, g_oov = gensim_kv(words, vectors).evaluate_word_pairs(path)
    assert oov == pytest.approx(g_oov, abs=1e-12)
    assert pearson[0] == pytest.approx(g_pearson[0], abs=1e-6)
    assert spearman[0] == pytest.approx(g_spearman[0], abs=1e-6)
    assert pearson[1] == pytest.approx(g_pearson[1], rel=1e-4)


def test_word_pairs_hand_made_file(tmp_path):
    words = ["cat", "dog", "car", "Truck"]
    vectors = np.array([[1, 0.1], [1, 0.3], [0, 1], [0.2, 1]], np.float32)
    path = write(tmp_path, "pairs.tsv",
                 "# comment\ncat\tdog\t9.0\ncat\tcar\t1.0\ndog\ttruck\t2.5\ncar\ttruck\t8.0\n"
                 "cat\tunicorn\t3.0\nbroken line\n")
    pearson, spearman, oov = evaluate_word_pairs(words, vectors, path)
    assert spearman[0] == pytest.approx(1.0)
    assert oov == pytest.approx(100.0 / 5)
    space = write(tmp_path, "pairs.txt", "cat dog 9\ncat car 1\ndog truck 2.5\ncar truck 8\n")
    assert evaluate_word_pairs(words, vectors, space)[1][0] == pytest.approx(1.0)
    pearson, spearman, oov = evaluate_word_pairs(words, vectors, path, dummy4unknown=True)
    assert oov == pytest.approx(100.0 / 5)


def test_word_pairs_with_nothing_in_vocabulary_raises(tmp_path):
    path = write(tmp_path, "pairs.tsv", "x\ty\t1.0\n")
    with pytest.raises(ValueError, match="no valid similarity judgements"):
        evaluate_word_pairs(["a"], np.ones((1, 2)), path)


def test_evaluation_rejects_mismatched_words_and_vectors(tmp_path):
    path = write(tmp_path, "q.txt", ": s\na b c d\n")
    with pytest.raises(ValueError, match="words and vectors must have the same length"):
        evaluate_word_analogies(["a", "b"], np.ones((3, 2)), path)
    with pytest.raises(ValueError, match="method must be one of"):
        evaluate_word_analogies(["a"], np.ones((1, 2)), path, method="3cosavg")


def test_keyedvectors_evaluations_equal_gensim(tmp_path, trained_model):
    import embedcore as ec

    words, vectors = trained_model
    kv = ec.KeyedVectors(words, vectors)
    theirs = gensim_kv(words, vectors)
    questions = os.path.join(GENSIM_DATA, "questions-words.txt")
    assert kv.evaluate_word_analogies(questions) == theirs.evaluate_word_analogies(questions, restrict_vocab=30000)
    pairs = os.path.join(GENSIM_DATA, "wordsim353.tsv")
    ours, ref = kv.evaluate_word_pairs(pairs), theirs.evaluate_word_pairs(pairs)
    assert ours[1][0] == pytest.approx(ref[1][0], abs=1e-6)
    assert ours[2] == pytest.approx(ref[2], abs=1e-12)


def test_cli_evaluate_prints_sections_and_correlations(tmp_path, capsys):
    from embedcore.cli import main
    import embedcore as ec

    words = ["king", "man", "woman", "queen", "apple"]
    vectors = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0.1, 0.9, 1.1], [-1, -1, -1]], np.float32)
    path = tmp_path / "v.txt"
    ec.KeyedVectors(words, vectors).save_word2vec_format(str(path))
    questions = write(tmp_path, "q.txt", ": royal\nman king woman queen\nman king woman apple\n")
    pairs = write(tmp_path, "p.tsv", "king\tqueen\t9\nman\tapple\t1\nwoman\tqueen\t8\n")
    assert main(["-q", "evaluate", str(path), "--analogies", questions, "--pairs", pairs]) == 0
    out = capsys.readouterr().out
    assert "royal" in out and "50.0%  (1/2)" in out
    assert "Total accuracy" in out
    assert "p.tsv: Pearson" in out and "pairs with unknown words 0.0%" in out


def test_cli_evaluate_without_files_is_a_message(tmp_path):
    from embedcore.cli import main

    with pytest.raises(SystemExit, match="give --analogies"):
        main(["-q", "evaluate", str(tmp_path / "v.txt")])


def test_pairs_with_a_nan_or_infinite_score_are_skipped_with_a_warning(tmp_path, caplog):
    # before, a NaN gold score went into the correlation and made it NaN without a word
    words = ["cat", "dog", "car", "truck"]
    vectors = np.array([[1, 0.1], [1, 0.3], [0, 1], [0.2, 1]], np.float32)
    clean = "cat\tdog\t9.0\ncat\tcar\t1.0\ndog\ttruck\t2.5\ncar\ttruck\t8.0\n"
    with_nan = write(tmp_path, "nan.tsv", clean + "dog\tcar\tnan\ncat\ttruck\tinf\n")
    with caplog.at_level("WARNING", logger="embedcore"):
        pearson, spearman, oov = evaluate_word_pairs(words, vectors, with_nan)
    expected = evaluate_word_pairs(words, vectors, write(tmp_path, "clean.tsv", clean))
    assert np.isfinite(pearson[0]) and pearson[0] == pytest.approx(expected[0][0])
    assert spearman[0] == pytest.approx(expected[1][0]) and oov == expected[2]
    assert "skipped 2 pair(s) whose score is NaN or infinite (lines 5, 6)" in caplog.text


def test_evaluation_files_may_be_compressed(tmp_path):
    import bz2
    import gzip
    words = ["cat", "dog", "car", "truck"]
    vectors = np.array([[1, 0.1], [1, 0.3], [0, 1], [0.2, 1]], np.float32)
    text = b"cat\tdog\t9.0\ncat\tcar\t1.0\ndog\ttruck\t2.5\ncar\ttruck\t8.0\n"
    (tmp_path / "pairs.tsv.gz").write_bytes(gzip.compress(text))
    assert evaluate_word_pairs(words, vectors, tmp_path / "pairs.tsv.gz")[1][0] == pytest.approx(1.0)
    (tmp_path / "q.txt").write_bytes(bz2.compress(b": s\ncat dog car truck\n"))
    assert read_analogies(tmp_path / "q.txt") == [("s", [("CAT", "DOG", "CAR", "TRUCK")])]


def test_a_line_that_is_not_utf8_is_a_valueerror_naming_the_file_and_line(tmp_path):
    (tmp_path / "q.txt").write_bytes(b": s\na b c d\n\xff b c d\n")
    with pytest.raises(ValueError, match=r"q\.txt: line 3 is not valid utf-8"):
        read_analogies(tmp_path / "q.txt")
    (tmp_path / "p.tsv").write_bytes(b"a\tb\t1\n\xffa\tb\t2\n")
    with pytest.raises(ValueError, match=r"p\.tsv: line 2 is not valid utf8"):
        evaluate_word_pairs(["a", "b"], np.eye(2), tmp_path / "p.tsv")
    with pytest.raises(ValueError, match="encoding must be a known text encoding"):
        evaluate_word_pairs(["a", "b"], np.eye(2), tmp_path / "p.tsv", encoding="nope")
