"""The parallel text pass: files cut into blocks at whitespace and tokenized by several threads
give exactly the single-threaded result (words, counts, order, ids, sentence offsets), which is a
plain Python str.split() reading of the lines."""
import bz2
import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedcore as ec
from embedcore import _sgd
from reference import reference_encode, reference_vocabulary

THREADS = (1, 2, 3, 7)
UNICODE_SPACES = "\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000"


def file_sentences(texts):
    """What gensim reads from the files: each "\\n"-ended line split as str.split() splits."""
    return [line.split() for text in texts for line in text.split("\n")]


def write_files(directory, texts, opener=open, suffix=""):
    paths = []
    for i, text in enumerate(texts):
        path = directory / f"part{i}.txt{suffix}"
        with opener(path, "wb") as f:
            f.write(text.encode("utf-8"))
        paths.append(path)
    return paths


@pytest.fixture
def chunk_bytes():
    """Sets the bytes each thread tokenizes at a time (tiny values put chunk and block boundaries
    inside every line), restoring it afterwards."""
    old = _sgd._text.CHUNK_BYTES

    def set_to(n):
        _sgd._text.CHUNK_BYTES = n
    yield set_to
    _sgd._text.CHUNK_BYTES = old


def check_against_reference(paths, sentences, min_count, threads):
    words, counts = reference_vocabulary(sentences, min_count)
    ids, offsets = reference_encode(sentences, words)
    if not words:
        with pytest.raises(ValueError):
            ec.Vocab.from_corpus(paths, min_count=min_count, workers=threads)
        return
    vocab = ec.Vocab.from_corpus(paths, min_count=min_count, workers=threads)
    assert vocab.words == words and vocab.counts.tolist() == counts
    assert vocab.total_words == sum(len(s) for s in sentences)
    corpus = vocab.encode(paths, workers=threads)
    assert corpus.ids.tolist() == ids and corpus.offsets.tolist() == offsets
    assert corpus.raw_tokens == vocab.total_words
    one_pass_vocab, one_pass = ec.Vocab.count_and_encode(paths, min_count=min_count, workers=threads)
    assert one_pass_vocab.words == words and one_pass_vocab.counts.tolist() == counts
    assert one_pass.ids.tolist() == ids and one_pass.offsets.tolist() == offsets
    assert one_pass.raw_tokens == corpus.raw_tokens
    counter = _sgd.WordCounter(0, "strict", threads)
    for path in paths:
        counter.feed_file(path)
    assert counter.sentences == sum(1 for s in sentences if s)


line = st.text(alphabet="ab\u00e9\u4e2d\U0001f600\u200b \t\r\x0b\x0c" + UNICODE_SPACES, max_size=30)
texts = st.lists(st.lists(line, max_size=8).map("\n".join), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts, st.sampled_from([1, 3, 5, 16, 1 << 22]), st.sampled_from([True, False]), st.integers(1, 2))
def test_random_files_match_the_reference_for_any_thread_count(tmp_path_factory, chunk_bytes, texts,
                                                               chunk, trailing_newline, min_count):
    # unicode, CRLF and the other spaces, empty files and lines, with and without a final "\n"
    texts = [t + "\n" if trailing_newline and t else t for t in texts]
    paths = write_files(tmp_path_factory.mktemp("p"), texts)
    chunk_bytes(chunk)  # the fixture is set anew for each example
    sentences = file_sentences(texts)
    for threads in THREADS:
        check_against_reference(paths, sentences, min_count, threads)


@pytest.mark.parametrize("threads", THREADS)
def test_long_lines_and_long_tokens_cut_into_many_chunks(tmp_path, chunk_bytes, threads):
    texts = [" ".join(f"w{i % 997}" for i in range(50_000)) + " " + "x" * 5000 + "\r\nlast line",
             "\n\n" + "\u3000".join(f"ü{i % 13}" for i in range(3000)),  # one line, no '\n' at the end
             "",
             "  \n a b\n"]
    paths = write_files(tmp_path, texts)
    chunk_bytes(1000)
    check_against_reference(paths, file_sentences(texts), 2, threads)


def test_the_read_block_is_capped_whatever_the_number_of_threads():
    assert _sgd._text.read_bytes(1) == _sgd._text.CHUNK_BYTES
    assert _sgd._text.read_bytes(2) == 2 * _sgd._text.CHUNK_BYTES
    assert _sgd._text.read_bytes(1000) == _sgd._text.READ_BYTES_MAX == 64 << 20


@pytest.mark.parametrize("threads", [1, 7])
def test_a_file_is_read_in_capped_blocks_with_the_uncapped_result(tmp_path, chunk_bytes, monkeypatch, threads):
    # a cap below threads * CHUNK_BYTES: every read asks for at most the cap, and the words,
    # counts and ids are those of the uncapped reading
    texts = ["\n".join(" ".join(f"w{(i * j) % 211}" for j in range(i % 30)) for i in range(3000))]
    paths = write_files(tmp_path, texts)
    chunk_bytes(4096)
    asked = []
    real_open = _sgd._text.open_source

    class Recording:
        def __init__(self, f):
            self.f = f

        def read(self, size):
            asked.append(size)
            return self.f.read(size)

        def __enter__(self):
            self.f.__enter__()
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

    monkeypatch.setattr(_sgd._text, "open_source", lambda path: Recording(real_open(path)))
    monkeypatch.setattr(_sgd._text, "READ_BYTES_MAX", 5000)
    check_against_reference(paths, file_sentences(texts), 2, threads)
    assert asked and max(asked) == min(threads * 4096, 5000)


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open)])
def test_compressed_files_give_the_plain_result(tmp_path, chunk_bytes, suffix, opener):
    texts = ["\n".join(" ".join(f"t{(i * j) % 101}" for j in range(i % 40)) for i in range(2000))]
    paths = write_files(tmp_path, texts, opener, suffix)
    chunk_bytes(4096)
    for threads in THREADS:
        check_against_reference(paths, file_sentences(texts), 3, threads)


def test_the_first_invalid_utf8_is_reported_whatever_chunk_holds_it(tmp_path, chunk_bytes):
    data = b"good words here\n" * 200 + b"bad\xff one\n" + b"more words\n" * 200 + b"\xc3 later\n"
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    chunk_bytes(64)
    first = f"byte offset {data.index(bytes([0xFF]))} "
    for threads in THREADS:
        with pytest.raises(ValueError, match=first):
            ec.Vocab.from_corpus(path, min_count=1, workers=threads)
        with pytest.raises(ValueError, match=first):
            ec.Vocab(["good"], [1]).encode(path, workers=threads)
    for errors in ("replace", "ignore"):
        vocab = ec.Vocab.from_corpus(path, min_count=1, errors=errors, workers=1)
        corpus = vocab.encode(path, errors=errors, workers=1)
        for threads in THREADS[1:]:
            again, one_pass = ec.Vocab.count_and_encode(path, min_count=1, errors=errors, workers=threads)
            assert again.words == vocab.words and again.counts.tolist() == vocab.counts.tolist()
            assert one_pass.ids.tolist() == corpus.ids.tolist()
            assert one_pass.offsets.tolist() == corpus.offsets.tolist()


@pytest.mark.parametrize("threads", THREADS[1:])
def test_pruning_happens_at_the_same_token_as_with_one_thread(tmp_path, chunk_bytes, threads):
    # a table bound of 50 words is crossed many times: chunks near it are counted token by token
    text = "\n".join(" ".join(f"w{(i * 7 + j * j) % 400}" for j in range(i % 30)) for i in range(3000))
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    chunk_bytes(2000)
    expected = ec.Vocab.from_corpus(path, min_count=1, max_size=20, workers=1, _prune_at=50)
    vocab = ec.Vocab.from_corpus(path, min_count=1, max_size=20, workers=threads, _prune_at=50)
    assert vocab.words == expected.words and vocab.counts.tolist() == expected.counts.tolist()
    assert vocab.total_words == expected.total_words


def test_count_and_encode_after_pruning_reads_again(tmp_path, chunk_bytes, monkeypatch):
    monkeypatch.setattr("embedcore.vocab.MIN_PRUNE_AT", 64)
    text = "\n".join(" ".join(f"w{(i * 7 + j * j) % 400}" for j in range(i % 30)) for i in range(3000))
    path = tmp_path / "c.txt"
    path.write_text(text, encoding="utf-8")
    chunk_bytes(2000)
    vocab = ec.Vocab.from_corpus(path, min_count=1, max_size=30, workers=2)
    corpus = vocab.encode(path, workers=2)
    again, one_pass = ec.Vocab.count_and_encode(path, min_count=1, max_size=30, workers=2)
    assert again.words == vocab.words and again.counts.tolist() == vocab.counts.tolist()
    assert one_pass.ids.tolist() == corpus.ids.tolist() and one_pass.offsets.tolist() == corpus.offsets.tolist()


def test_count_and_encode_of_sentence_lists_matches_the_two_calls():
    sentences = [["a", "b", "a"], [], ["c", "a"], ["b"]]
    vocab, corpus = ec.Vocab.count_and_encode(sentences, min_count=2)
    words, counts = reference_vocabulary(sentences, 2)
    assert vocab.words == words and vocab.counts.tolist() == counts
    ids, offsets = reference_encode(sentences, words)
    assert corpus.ids.tolist() == ids and corpus.offsets.tolist() == offsets


def test_bad_workers_name_the_argument(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="workers"):
        ec.Vocab.from_corpus(path, min_count=1, workers=0)
    with pytest.raises(TypeError, match="workers"):
        ec.Vocab(["a"], [1]).encode(path, workers="2")
