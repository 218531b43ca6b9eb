"""The text pass: counting, ordering, encoding, file formats and bad input."""
import bz2
import gzip
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import embedcore as ec
from embedcore import _sgd
from reference import reference_encode, reference_vocabulary

SENTENCES = [["the", "cat", "sat", "on", "the", "mat"],
             ["the", "dog", "sat"],
             ["a", "cat", "and", "a", "dog"],
             ["größe", "東京", "the"]]


def write_lines(path, sentences, opener=open):
    with opener(path, "wt", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(s) + "\n")
    return path


def test_counts_and_order_match_counter_reference():
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=1)
    words, counts = reference_vocabulary(SENTENCES)
    assert vocab.words == words
    assert vocab.counts.tolist() == counts
    assert vocab.counts.dtype == np.int64
    assert vocab.total_words == sum(len(s) for s in SENTENCES)


def test_ties_break_by_first_appearance():
    vocab = ec.Vocab.from_corpus([["b", "a", "c"], ["c", "a", "b"]], min_count=1)
    assert vocab.words == ["b", "a", "c"]


def test_min_count_drops_rare_words_but_total_counts_them():
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=2)
    assert vocab.words == ["the", "cat", "sat", "dog", "a"]
    assert vocab.total_words == 17


def test_lookup_and_membership():
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=1)
    assert vocab["the"] == 0
    assert "東京" in vocab and "zebra" not in vocab
    with pytest.raises(KeyError, match="zebra"):
        vocab["zebra"]


def test_file_and_sentence_sources_agree(tmp_path):
    path = write_lines(tmp_path / "c.txt", SENTENCES)
    from_file = ec.Vocab.from_corpus(path, min_count=1)
    from_list = ec.Vocab.from_corpus(SENTENCES, min_count=1)
    assert from_file.words == from_list.words
    assert from_file.counts.tolist() == from_list.counts.tolist()


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".bz2", bz2.open)])
def test_compressed_files_read_like_plain(tmp_path, suffix, opener):
    plain = write_lines(tmp_path / "c.txt", SENTENCES)
    packed = write_lines(tmp_path / ("c.txt" + suffix), SENTENCES, opener)
    a = ec.Vocab.from_corpus(plain, min_count=1)
    b = ec.Vocab.from_corpus(packed, min_count=1)
    assert a.words == b.words and a.counts.tolist() == b.counts.tolist()
    ca, cb = a.encode(plain), a.encode(packed)
    assert ca.ids.tolist() == cb.ids.tolist() and ca.offsets.tolist() == cb.offsets.tolist()


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_compressed_text_without_a_compressed_suffix_reads_as_in_the_vectors_reader(tmp_path, compress):
    # the text pass and load_word2vec_format recognise compression the same way: by content
    text = "".join(" ".join(s) + "\n" for s in SENTENCES).encode("utf-8")
    path = tmp_path / "corpus.txt"
    path.write_bytes(compress(text))
    vocab = ec.Vocab.from_corpus(path, min_count=1)
    assert vocab.words == reference_vocabulary(SENTENCES)[0]
    assert vocab.encode(path).ids.tolist() == reference_encode(SENTENCES, vocab.words)[0]


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_a_corrupt_compressed_corpus_is_a_valueerror_naming_the_file(tmp_path, compress):
    text = "".join(" ".join(s) + "\n" for s in SENTENCES * 200).encode("utf-8")
    data = compress(text)
    path = tmp_path / "corpus.txt.gz"
    path.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ValueError, match=r"corpus\.txt\.gz: corrupt or truncated"):
        ec.Vocab.from_corpus(path, min_count=1)
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=1)
    with pytest.raises(ValueError, match=r"corpus\.txt\.gz: corrupt or truncated"):
        vocab.encode(path)


def test_a_named_pipe_is_read_once_without_hanging(tmp_path):
    import os
    import threading
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = gzip.compress("".join(" ".join(s) + "\n" for s in SENTENCES).encode("utf-8"))

    def feed():
        with open(fifo, "wb") as f:
            f.write(text)
    threading.Thread(target=feed, daemon=True).start()
    result = []
    reader = threading.Thread(target=lambda: result.append(ec.Vocab.from_corpus(fifo, min_count=1)), daemon=True)
    reader.start()
    reader.join(20)
    assert not reader.is_alive(), "reading a named pipe hangs"
    assert result[0].words == reference_vocabulary(SENTENCES)[0]


def test_list_of_paths_is_one_corpus(tmp_path):
    p1 = write_lines(tmp_path / "a.txt", SENTENCES[:2])
    p2 = write_lines(tmp_path / "b.txt", SENTENCES[2:])
    vocab = ec.Vocab.from_corpus([p1, p2], min_count=1)
    assert vocab.words == reference_vocabulary(SENTENCES)[0]
    corpus = vocab.encode([str(p1), str(p2)])
    assert corpus.n_sentences == len(SENTENCES)


def test_encode_drops_unknown_tokens_and_empty_sentences():
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=2)
    source = [["the", "zebra", "cat"], ["zebra"], [], ["dog", "a"]]
    corpus = vocab.encode(source)
    ids, offsets = reference_encode(source, vocab.words)
    assert corpus.ids.dtype == np.int32 and corpus.offsets.dtype == np.int64
    assert corpus.ids.tolist() == ids
    assert corpus.offsets.tolist() == offsets == [0, 2, 4]
    assert len(corpus) == 4 and corpus.n_sentences == 2
    assert corpus.raw_tokens == 6  # the two 'zebra's count as source tokens


def test_sentence_offsets_follow_lines_and_skip_blank_lines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\n\n  \nc\r\na  a\tb\n", encoding="utf-8")
    vocab = ec.Vocab.from_corpus(path, min_count=1)
    corpus = vocab.encode(path)
    assert [vocab.words[i] for i in corpus.ids] == ["a", "b", "c", "a", "a", "b"]
    assert corpus.offsets.tolist() == [0, 2, 3, 6]


def test_last_line_without_newline_is_a_sentence(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b\nb c")
    vocab = ec.Vocab.from_corpus(path, min_count=1)
    assert vocab.encode(path).offsets.tolist() == [0, 2, 4]


def test_tokens_straddling_read_chunks_are_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(_sgd._text, "CHUNK_BYTES", 7)
    sentences = [["alpha", "betagamma", "δέλτα"], ["epsilonzetaeta", "theta"]] * 5
    path = write_lines(tmp_path / "c.txt", sentences)
    vocab = ec.Vocab.from_corpus(path, min_count=1)
    words, counts = reference_vocabulary(sentences)
    assert vocab.words == words and vocab.counts.tolist() == counts
    corpus = vocab.encode(path)
    assert corpus.ids.tolist() == reference_encode(sentences, words)[0]


UNICODE_SPACES = "\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab\u00e9\u4e2d\U0001f600\u200b \t\r\x0b\x0c" + UNICODE_SPACES,
                        max_size=40), min_size=1, max_size=12),
       st.sampled_from([3, 5, 64]))
def test_text_splits_where_str_split_splits(tmp_path_factory, lines, chunk_bytes):
    # gensim reads a line and calls str.split(): Unicode spaces separate tokens too, U+200B does
    # not, and only "\n" ends a sentence
    sentences = [line.split() for line in lines]
    if not any(sentences):
        return
    path = tmp_path_factory.mktemp("t") / "c.txt"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    old = _sgd._text.CHUNK_BYTES
    _sgd._text.CHUNK_BYTES = chunk_bytes  # tokens and multi-byte spaces straddle reads
    try:
        vocab = ec.Vocab.from_corpus(path, min_count=1)
        corpus = vocab.encode(path)
    finally:
        _sgd._text.CHUNK_BYTES = old
    words, counts = reference_vocabulary(sentences)
    assert vocab.words == words and vocab.counts.tolist() == counts
    ids, offsets = reference_encode(sentences, words)
    assert corpus.ids.tolist() == ids and corpus.offsets.tolist() == offsets


def test_very_long_line_is_not_truncated(tmp_path):
    tokens = [f"w{i % 1000}" for i in range(300_000)]
    tokens.append("x" * 100_000)  # one very long token too
    path = tmp_path / "long.txt"
    path.write_text(" ".join(tokens) + "\n", encoding="utf-8")
    vocab = ec.Vocab.from_corpus(path, min_count=1)
    corpus = vocab.encode(path)
    assert vocab.total_words == len(tokens)
    assert len(corpus) == len(tokens) and corpus.n_sentences == 1
    assert "x" * 100_000 in vocab


def test_invalid_utf8_names_file_and_byte_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good words\nok \xff\xfebad more\n")
    with pytest.raises(ValueError, match=r"bad\.txt.*byte offset 14"):
        ec.Vocab.from_corpus(path, min_count=1)


def test_invalid_utf8_offset_counts_from_the_start_of_a_compressed_file(tmp_path):
    path = tmp_path / "bad.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"x" * 10 + b" \xc3\x28\n")
    with pytest.raises(ValueError, match="byte offset 11"):
        ec.Vocab.from_corpus(path, min_count=1)


@pytest.mark.parametrize("bad", [b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"])
def test_overlong_surrogate_and_truncated_sequences_are_invalid(tmp_path, bad):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok " + bad + b"\n")
    with pytest.raises(ValueError, match="byte offset 3"):
        ec.Vocab.from_corpus(path, min_count=1)


def test_errors_replace_and_ignore(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ab\xffcd ok\n")
    replaced = ec.Vocab.from_corpus(path, min_count=1, errors="replace")
    assert replaced.words == ["ab\ufffdcd", "ok"]
    ignored = ec.Vocab.from_corpus(path, min_count=1, errors="ignore")
    assert ignored.words == ["abcd", "ok"]
    assert ignored.encode(path, errors="ignore").ids.tolist() == [0, 1]


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="no tokens"):
        ec.Vocab.from_corpus(path)
    path.write_bytes(b"\n \n\t\n")
    with pytest.raises(ValueError, match="no tokens"):
        ec.Vocab.from_corpus(path)


def test_min_count_above_every_count_is_a_clear_error():
    with pytest.raises(ValueError, match="min_count=100"):
        ec.Vocab.from_corpus(SENTENCES, min_count=100)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        ec.Vocab.from_corpus(tmp_path / "nope.txt")


@pytest.mark.parametrize("kwargs,match", [
    ({"min_count": 0}, "min_count"), ({"min_count": 1.5}, "min_count"),
    ({"max_size": 0}, "max_size"), ({"errors": "loose"}, "errors")])
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ec.Vocab.from_corpus(SENTENCES, **kwargs)


@pytest.mark.parametrize("source,match", [
    (["a b", 3], "source"), ([["a", 1]], "tokens must be str"), (["just a str"], "source"),
    (42, "source"), (b"bytes", "bytes")])
def test_bad_sources_are_type_errors(source, match):
    with pytest.raises((TypeError, FileNotFoundError), match=match):
        ec.Vocab.from_corpus(source, min_count=1)


def test_sentence_given_as_str_is_rejected():
    with pytest.raises(TypeError, match="sentence 0 is a str"):
        ec.Vocab.from_corpus(iter(["a b c"]), min_count=1)


@pytest.mark.parametrize("source,match", [
    ([["a"], ["b", 1]], "source sentence 1 holds a int; tokens must be str"),
    (iter([["a"], "a b"]), "source sentence 1 is a str; each sentence must be a list of str tokens")])
def test_counting_and_encoding_reject_bad_sentences_alike(source, match):
    source = list(source)
    with pytest.raises(TypeError, match=match):
        ec.Vocab.from_corpus(iter(source), min_count=1)
    with pytest.raises(TypeError, match=match):
        ec.Vocab.from_corpus([["a", "b"]], min_count=1).encode(iter(source))


def test_max_size_keeps_the_most_frequent_words():
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=1, max_size=3)
    assert vocab.words == reference_vocabulary(SENTENCES)[0][:3]


def test_max_size_pruning_bounds_the_table_like_gensim():
    # 'common' appears in every sentence; each sentence adds two never-repeated words
    sentences = [["common", f"rare{i}a", f"rare{i}b"] for i in range(1000)]
    vocab = ec.Vocab.from_corpus(sentences, min_count=1, max_size=5, _prune_at=10)
    assert vocab.words[0] == "common"
    # pruning removed words seen once, so 'common' lost at most its count at the first prunes
    assert 990 <= vocab.counts[0] <= 1000
    assert len(vocab) <= 5
    assert vocab.total_words == 3000


def test_max_size_without_pruning_pressure_is_exact():
    sentences = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]]
    vocab = ec.Vocab.from_corpus(sentences, min_count=1, max_size=2)
    assert vocab.words == ["a", "b"] and vocab.counts.tolist() == [5, 3]


words_strategy = st.lists(st.lists(st.sampled_from(
    ["a", "b", "cc", "ü", "東", "longer_word", "x1", "ÿÿ"]), max_size=12), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(words_strategy, st.integers(1, 3))
def test_random_corpora_match_the_reference(tmp_path_factory, sentences, min_count):
    words, counts = reference_vocabulary(sentences, min_count)
    if not any(sentences) or not words:
        with pytest.raises(ValueError):
            ec.Vocab.from_corpus(sentences, min_count=min_count)
        return
    path = write_lines(tmp_path_factory.mktemp("h") / "c.txt", sentences)
    for source in (sentences, path):
        vocab = ec.Vocab.from_corpus(source, min_count=min_count)
        assert vocab.words == words and vocab.counts.tolist() == counts
        corpus = vocab.encode(source)
        ids, offsets = reference_encode(sentences, words)
        assert corpus.ids.tolist() == ids and corpus.offsets.tolist() == offsets


def test_vocab_save_and_load_round_trip(tmp_path):
    vocab = ec.Vocab.from_corpus(SENTENCES, min_count=1)
    vocab.save(tmp_path / "v.txt")
    back = ec.Vocab.load(tmp_path / "v.txt")
    assert back.words == vocab.words and back.counts.tolist() == vocab.counts.tolist()
    assert back.total_words == vocab.total_words
    assert not list(tmp_path.glob("*.tmp"))


def test_vocab_constructor_validates():
    with pytest.raises(ValueError, match="counts"):
        ec.Vocab(["a", "b"], [1])
    with pytest.raises(ValueError, match="distinct"):
        ec.Vocab(["a", "a"], [1, 1])
    with pytest.raises(ValueError, match=r"words\[1\]"):
        ec.Vocab(["a", ""], [1, 1])


# ------------------------------------------------------------------- words the file can hold
@pytest.mark.parametrize("word, reason", [
    ("a b", "contains whitespace"), ("a\tb", "contains whitespace"), ("a\n", "contains whitespace"),
    ("b\r", "contains whitespace"), ("", "is empty"), ("\ud800", "not encodable as UTF-8")])
def test_vocab_refuses_words_it_could_not_save_naming_them(word, reason):
    with pytest.raises(ValueError, match=rf"words\[1\] .*{reason}"):
        ec.Vocab(["ok", word], [2, 1])


def test_vocab_refuses_non_str_words():
    with pytest.raises(TypeError, match=r"words\[0\] must be a str"):
        ec.Vocab([b"a"], [1])


def test_from_corpus_refuses_a_sentence_token_that_could_not_be_saved():
    with pytest.raises(ValueError, match="the token 'new york' cannot be a vocabulary word"):
        ec.Vocab.from_corpus([["new york", "city"], ["new york"]], min_count=1)


def test_vocab_save_writes_only_what_load_reads_back(tmp_path):
    # before, Vocab accepted inner spaces and save wrote lines that load refused
    words = ["oui\u00a0!", "\u6771\u3000\u4eac", "#", "#embedcore", "x\x1cy", "\ufeffbom", "plain"]
    vocab = ec.Vocab(words, [7, 6, 5, 4, 3, 2, 1], total_words=30)
    vocab.save(tmp_path / "v.txt")
    back = ec.Vocab.load(tmp_path / "v.txt")
    assert back.words == words and back.counts.tolist() == [7, 6, 5, 4, 3, 2, 1] and back.total_words == 30


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), min_size=0, max_size=20, unique=True),
       st.sampled_from(["v.txt", "v.txt.gz", "v.txt.bz2"]))
def test_every_vocabulary_it_accepts_round_trips(tmp_path_factory, words, name):
    try:
        vocab = ec.Vocab(words, np.arange(len(words), dtype=np.int64)[::-1])
    except ValueError:
        return  # refused up front: nothing to save
    path = tmp_path_factory.mktemp("v") / name
    vocab.save(path)
    back = ec.Vocab.load(path)
    assert back.words == vocab.words and back.counts.tolist() == vocab.counts.tolist()
    assert back.total_words == vocab.total_words


@pytest.mark.parametrize("data, message", [
    (b"a 1\nb two\n", "line 2: expected 'word count', got 'b two'"),
    (b"a 1\nb 1 2\n", "line 2: expected 'word count'"),
    (b"a 1\n\nb 2\n", "line 2: expected 'word count', got ''"),
    (b"a 1\nb \xc2\xb2\n", "line 2: expected 'word count'"),
    (b"a 1\n\xff 2\n", "line 2: the word is not valid UTF-8"),
    (b"a 1\nb 2\na 3\n", "line 3: the word 'a' repeats line 1"),
    (b"# embedcore vocabulary total_words=x\na 1\n", "line 1: expected '# embedcore vocabulary total_words=N'"),
    (b"a 99999999999999999999\n", "does not fit in int64"),
])
def test_vocab_load_names_the_path_and_line_of_a_bad_line(tmp_path, data, message):
    path = tmp_path / "v.txt"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=re.escape(message)):
        ec.Vocab.load(path)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        ec.Vocab.load(path)


def test_vocab_save_leaves_a_users_tmp_file_alone_and_keeps_permissions(tmp_path):
    import os
    import stat
    (tmp_path / "v.txt.tmp").write_bytes(b"mine")
    (tmp_path / "v.txt").write_bytes(b"old")
    os.chmod(tmp_path / "v.txt", 0o600)
    ec.Vocab(["a"], [1]).save(tmp_path / "v.txt")
    assert (tmp_path / "v.txt.tmp").read_bytes() == b"mine"
    assert stat.S_IMODE(os.stat(tmp_path / "v.txt").st_mode) == 0o600
    assert ec.Vocab.load(tmp_path / "v.txt").words == ["a"]
