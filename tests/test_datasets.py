"""The synthetic corpus: shapes, determinism, Zipfian filler, planted words, file writers, errors."""
import numpy as np
import pytest

from embedcore import EncodedCorpus, Vocab
from embedcore.datasets import SyntheticCorpus, _sample_cdf, synthetic_corpus

N_TOKENS, VOCAB_SIZE = 60_000, 3_000


@pytest.fixture(scope="module")
def data():
    return synthetic_corpus(N_TOKENS, VOCAB_SIZE, seed=3)


def test_returns_a_synthetic_corpus_with_exactly_n_tokens(data):
    assert isinstance(data, SyntheticCorpus)
    assert isinstance(data.vocab, Vocab) and isinstance(data.corpus, EncodedCorpus)
    assert len(data.corpus) == N_TOKENS
    assert data.vocab.total_words == N_TOKENS


def test_ids_are_int32_and_offsets_int64_valid_sentence_bounds(data):
    ids, offsets = data.corpus.ids, data.corpus.offsets
    assert ids.dtype == np.int32 and offsets.dtype == np.int64
    assert offsets[0] == 0 and offsets[-1] == N_TOKENS
    assert np.all(np.diff(offsets) > 0)  # no empty sentence
    assert ids.min() >= 0 and ids.max() < len(data.vocab)


def test_vocab_counts_equal_bincount_of_ids(data):
    counts = np.bincount(data.corpus.ids, minlength=len(data.vocab))
    np.testing.assert_array_equal(counts, data.vocab.counts)


def test_vocab_is_sorted_by_descending_count_and_every_word_occurs(data):
    assert np.all(np.diff(data.vocab.counts) <= 0)
    assert data.vocab.counts.min() >= 1
    assert len(data.vocab) <= VOCAB_SIZE


def test_same_seed_gives_the_same_corpus_and_other_seed_differs():
    a = synthetic_corpus(20_000, 2_000, seed=7)
    b = synthetic_corpus(20_000, 2_000, seed=7)
    c = synthetic_corpus(20_000, 2_000, seed=8)
    np.testing.assert_array_equal(a.corpus.ids, b.corpus.ids)
    np.testing.assert_array_equal(a.corpus.offsets, b.corpus.offsets)
    assert a.vocab.words == b.vocab.words and a.pairs == b.pairs
    assert not np.array_equal(a.corpus.ids, c.corpus.ids)


def test_filler_is_zipf_like(data):
    counts = np.array([c for w, c in zip(data.vocab.words, data.vocab.counts) if w[0] == "w" and w[1:].isdigit()])
    assert counts[0] > 50 * np.median(counts)
    # Zipf: rank 1 about twice rank 2 ... roughly; here just the top word against rank 10.
    assert counts[0] > 3 * counts[9]


def test_planted_tokens_are_a_minority(data):
    is_filler = np.array([w[0] == "w" and w[1:].isdigit() for w in data.vocab.words])
    filler_share = data.vocab.counts[is_filler].sum() / N_TOKENS
    assert 0.65 <= filler_share <= 0.75  # planted_fraction defaults to 0.3


def test_every_analogy_word_is_in_the_vocab_and_occurs_evenly(data):
    words = {w for q in data.analogies for w in q[1:]}
    assert len(words) == 5 * 20 * 2
    counts = np.array([data.vocab.counts[data.vocab[w]] for w in words])
    assert counts.max() - counts.min() <= 1
    assert counts.min() >= 0.3 * N_TOKENS / 7 / 200 - 1  # 7 tokens per snippet


def test_analogies_pair_members_of_the_same_family(data):
    assert len(data.analogies) == 5 * 20 * 19
    assert data.analogies[0] == ("country-capital", "country_0", "capital_0", "country_1", "capital_1")
    for section, a, b, c, d in data.analogies:
        assert a.split("_")[1] == b.split("_")[1] and c.split("_")[1] == d.split("_")[1]
        assert a != c


def test_pairs_grade_same_pair_above_other_family(data):
    scores = {(w1, w2): s for w1, w2, s in data.pairs}
    assert all(0.0 <= s <= 10.0 for s in scores.values())
    assert scores[("country_0", "capital_0")] > 3.0
    other_family = [s for (w1, w2), s in scores.items() if w1.startswith("country_")
                    and not w2.startswith(("country", "capital"))]
    assert other_family and max(other_family) == 0.0
    assert len({round(s, 1) for s in scores.values()}) >= 3  # graded, not binary


def test_write_text_reads_back_identically(data, tmp_path):
    path = tmp_path / "corpus.txt"
    data.write_text(path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == data.corpus.n_sentences
    vocab = Vocab.from_corpus(str(path), min_count=1)
    assert vocab.words == data.vocab.words
    np.testing.assert_array_equal(vocab.counts, data.vocab.counts)
    encoded = vocab.encode(str(path))
    np.testing.assert_array_equal(encoded.ids, data.corpus.ids)
    np.testing.assert_array_equal(encoded.offsets, data.corpus.offsets)


def test_write_text_first_line_is_the_first_sentence(data, tmp_path):
    path = tmp_path / "corpus.txt"
    data.write_text(path)
    first = path.read_text(encoding="utf-8").split("\n", 1)[0].split(" ")
    assert first == [data.vocab.words[i] for i in data.corpus.sentence(0)]


def test_write_analogies_uses_the_google_format(data, tmp_path):
    path = tmp_path / "questions.txt"
    data.write_analogies(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ": country-capital"
    assert lines[1] == "country_0 capital_0 country_1 capital_1"
    assert sum(line.startswith(": ") for line in lines) == 5
    assert len(lines) == 5 + len(data.analogies)


def test_write_pairs_is_tab_separated(data, tmp_path):
    path = tmp_path / "pairs.tsv"
    data.write_pairs(path)
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(data.pairs) and all(len(r) == 3 for r in rows)
    assert rows[0][:2] == list(data.pairs[0][:2])
    assert float(rows[0][2]) == pytest.approx(data.pairs[0][2], abs=0.005)


def test_more_families_get_generic_names():
    data = synthetic_corpus(30_000, 2_000, n_families=6, pairs_per_family=3)
    assert {q[0] for q in data.analogies} >= {"country-capital", "relation5"}
    assert "rel5a_0" in data.vocab


def test_sample_cdf_matches_binary_search():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 5_000):
        cdf = np.cumsum(1.0 / (np.arange(n) + 2.7))
        cdf /= cdf[-1]
        u = rng.random(50_000)
        u[:2] = [0.0, cdf[0]]
        expected = np.minimum(np.searchsorted(cdf, u, side="right"), n - 1)
        np.testing.assert_array_equal(_sample_cdf(cdf, u), expected)


def test_too_small_vocab_size_names_the_minimum():
    # 200 planted + 100 pairs x 6 topic + 10 sides x 8 role words + 10 filler = 890.
    with pytest.raises(ValueError, match="vocab_size must be at least 890"):
        synthetic_corpus(100_000, 889)
    synthetic_corpus(100_000, 890)


def test_too_few_tokens_names_the_minimum():
    # 200 planted words x 7 tokens per snippet / 0.3 = 4667.
    with pytest.raises(ValueError, match="n_tokens must be at least 4667"):
        synthetic_corpus(4_666, 1_000)
    assert len(synthetic_corpus(4_667, 1_000).corpus) == 4_667


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_tokens": 0}, ValueError, "n_tokens must be >= 1"),
    ({"n_tokens": 1e5}, TypeError, "n_tokens must be an int"),
    ({"vocab_size": "big"}, TypeError, "vocab_size must be an int"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"pairs_per_family": 1}, ValueError, "pairs_per_family must be >= 2"),
    ({"topic_draw": 7}, ValueError, "topic_draw must be <= 6"),
    ({"planted_fraction": 0.0}, ValueError, "planted_fraction must be > 0"),
    ({"planted_fraction": 0.95}, ValueError, "planted_fraction must be <= 0.9"),
    ({"zipf_exponent": -1.0}, ValueError, "zipf_exponent must be > 0"),
])
def test_bad_arguments_raise_naming_the_argument(kwargs, exc, match):
    args = {"n_tokens": 50_000, "vocab_size": 2_000, **kwargs}
    with pytest.raises(exc, match=match):
        synthetic_corpus(**args)


def test_write_text_to_a_gz_name_is_compressed_and_reads_back(data, tmp_path):
    import gzip
    path = tmp_path / "corpus.txt.gz"
    data.write_text(path)
    assert gzip.decompress(path.read_bytes()).count(b"\n") == data.corpus.n_sentences
    vocab = Vocab.from_corpus(path, min_count=1)
    assert vocab.words == data.vocab.words


def test_writers_leave_a_users_tmp_file_alone(data, tmp_path):
    for write, name in ((data.write_text, "c.txt"), (data.write_analogies, "q.txt"), (data.write_pairs, "p.tsv")):
        (tmp_path / (name + ".tmp")).write_text("mine")
        write(tmp_path / name)
        assert (tmp_path / (name + ".tmp")).read_text() == "mine"
