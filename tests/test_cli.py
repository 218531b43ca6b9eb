"""The command line: every subcommand runs, and bad input ends with a message, not a traceback."""
import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

import embedcore as ec
from embedcore.cli import main


def test_info_prints_the_build(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "openmp:" in out and "simd:" in out


def test_demo_runs_the_pipeline_on_a_small_corpus(capsys):
    assert main(["-q", "demo", "--tokens", "200000", "--vocab", "2000"]) == 0
    out = capsys.readouterr().out
    assert "vocabulary + encode" in out and "matches the generator" in out


def test_similar_prints_neighbours(tmp_path, capsys):
    words = ["a", "b", "c", "d"]
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], dtype=np.float32)
    path = tmp_path / "v.txt"
    ec.KeyedVectors(words, vectors).save_word2vec_format(path)
    assert main(["similar", str(path), "a", "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "a:" and lines[1].endswith(" b") and lines[2].endswith(" c")


def test_similar_with_an_unknown_word_is_a_message(tmp_path):
    path = tmp_path / "v.txt"
    ec.KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32)).save_word2vec_format(path)
    with pytest.raises(SystemExit, match="'zzz' is not in"):
        main(["similar", str(path), "zzz"])


def test_similar_on_a_corrupt_file_is_a_message(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(SystemExit, match="line 3"):
        main(["similar", str(path), "a"])


def test_bench_rejects_unknown_cases():
    with pytest.raises(SystemExit, match="unknown benchmark case"):
        main(["-q", "bench", "no-such-case"])


# ------------------------------------------------------------------------------------- train
@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    ec.datasets.synthetic_corpus(30_000, 1000, seed=1).write_text(path)
    return str(path)


def train(corpus_file, output, *extra):
    return main(["-q", "train", corpus_file, "--model", "sgns", "--dim", "8", "--epochs", "1", "--workers", "1",
                 "-o", str(output), *extra])


def test_train_output_reads_back_with_the_layout_its_name_gives(corpus_file, tmp_path, capsys):
    # before, -o v.bin.gz was written as text and read back as binary
    for name, binary in (("v.bin.gz", True), ("v.txt.gz", False), ("v.bin", True), ("v.txt.bz2", False)):
        path = tmp_path / name
        assert train(corpus_file, path) == 0
        kv = ec.KeyedVectors.load_word2vec_format(path, binary=binary)
        assert kv.vector_size == 8
        assert main(["similar", str(path), kv.words[0], "-k", "1"]) == 0
    with gzip.open(tmp_path / "v.bin.gz", "rb") as f:
        header = f.readline()
        word, rest = f.read(1000).split(b" ", 1)
    # binary values, not decimals: the first record is the word, a space and 8 little-endian float32
    kv = ec.KeyedVectors.load_word2vec_format(tmp_path / "v.bin.gz", binary=True)
    assert header[-3:] == b" 8\n"
    np.testing.assert_array_equal(np.frombuffer(rest[:32], dtype="<f4"), kv[word.decode()])
    capsys.readouterr()


def test_binary_and_text_flags_work_both_ways(corpus_file, tmp_path):
    path = tmp_path / "vectors.vec"
    assert train(corpus_file, path, "--binary") == 0
    kv = ec.KeyedVectors.load_word2vec_format(path, binary=True)
    assert main(["similar", str(path), kv.words[0], "--binary"]) == 0
    with pytest.raises(SystemExit, match="embedcore similar: "):
        main(["similar", str(path), kv.words[0]])  # read as text by its name: a clear error
    assert train(corpus_file, tmp_path / "v.bin", "--text") == 0
    assert ec.KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=False).vector_size == 8
    assert main(["similar", str(tmp_path / "v.bin"), kv.words[0], "--text"]) == 0


def test_train_no_header_writes_glove_text(corpus_file, tmp_path):
    path = tmp_path / "glove.txt"
    assert train(corpus_file, path, "--no-header") == 0
    kv = ec.KeyedVectors.load_word2vec_format(path, no_header=True)
    assert len(path.read_text().splitlines()[0].split()) == 9
    assert main(["similar", str(path), kv.words[0], "--no-header"]) == 0


@pytest.mark.parametrize("argv", [
    ["train", "C", "--model", "sgns", "-o", "O", "--window", "0"],
    ["train", "C", "--model", "glove", "-o", "O", "--window", "0"],
    ["train", "C", "--model", "sgns", "-o", "O", "--dim", "0"],
    ["train", "C", "--model", "sgns", "-o", "O", "--epochs", "0"],
    ["train", "C", "--model", "glove", "-o", "O", "--epochs", "0"],
    ["train", "C", "--model", "sgns", "-o", "O", "--min-count", "0"],
    ["train", "C", "--model", "sgns", "-o", "O", "--max-vocab", "0"],
    ["train", "C", "--model", "sgns", "-o", "O", "--workers", "0"],
    ["train", "C", "--model", "svd", "-o", "O", "--seed", "-1"],
    ["train", "C", "--model", "sgns", "-o", "O", "--dim", "x"],
    ["similar", "V", "w", "-k", "0"],
    ["evaluate", "V", "--pairs", "P", "--restrict-vocab", "0"],
    ["demo", "--tokens", "0"], ["demo", "--vocab", "0"], ["demo", "--workers", "0"], ["demo", "--seed", "-2"],
    ["bench", "--workers", "0"],
])
def test_numeric_options_are_checked_never_replaced_by_defaults(argv, capsys):
    # before, `--window 0` trained with window 5 (`args.window or 5`)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "must be" in err or "expected an integer" in err


def test_svd_refuses_epochs(corpus_file, tmp_path):
    with pytest.raises(SystemExit, match="--epochs does not apply to --model svd"):
        main(["-q", "train", corpus_file, "--model", "svd", "--epochs", "3", "-o", str(tmp_path / "v.txt")])


def test_ctrl_c_during_training_exits_130_and_leaves_the_old_output(corpus_file, tmp_path, monkeypatch, capsys):
    import signal

    from embedcore import cli
    out = tmp_path / "prev.bin"
    out.write_bytes(b"previous vectors")

    def interrupted_training(args):
        # as Word2Vec does: Ctrl-C stops training early and the partly trained vectors come back
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass
        return ec.KeyedVectors(["a"], [[1.0]]), {}

    monkeypatch.setitem(cli.TRAINERS, "sgns", interrupted_training)
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "train", corpus_file, "--model", "sgns", "-o", str(out)])
    assert exit_info.value.code == 130
    assert out.read_bytes() == b"previous vectors"
    assert os.listdir(tmp_path) == ["prev.bin"]
    assert "interrupted" in capsys.readouterr().err


def run_cli(*argv):
    # run outside the source tree, so the child imports the installed package, as the parent does
    return subprocess.run([sys.executable, "-m", "embedcore", *argv], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(ec.__file__)))


@pytest.mark.parametrize("case", ["vectors are a directory", "output under a file", "missing source"])
def test_os_errors_are_one_line_and_exit_status_1(case, corpus_file, tmp_path):
    (tmp_path / "file").write_text("x")
    argv = {
        "vectors are a directory": ["similar", str(tmp_path), "a"],
        "output under a file": ["-q", "train", corpus_file, "--model", "sgns", "--dim", "4", "--epochs", "1",
                                "-o", str(tmp_path / "file" / "v.txt")],
        "missing source": ["train", str(tmp_path / "nope.txt"), "--model", "sgns", "-o", str(tmp_path / "v.txt")],
    }[case]
    result = run_cli(*argv)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"embedcore {argv[1] if argv[0] == '-q' else argv[0]}: ")


def test_a_corrupt_compressed_vectors_file_is_one_line(tmp_path):
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(b"2 2\na 1 2\nb 3 4\n")[:-12])
    result = run_cli("similar", str(path), "a")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "v.txt.gz: corrupt or truncated gzip data" in result.stderr


def test_evaluate_searches_gensims_300000_words_by_default(tmp_path, capsys):
    # the question's words are past row 30,000: a smaller default would skip the question
    n = 30_010
    vectors = np.random.default_rng(0).standard_normal((n, 4)).astype(np.float32)
    words = [f"w{i}" for i in range(n)]
    path = str(tmp_path / "v.bin")
    ec.KeyedVectors(words, vectors).save_word2vec_format(path, binary=True)
    questions = tmp_path / "q.txt"
    questions.write_text(f": late\nw{n - 4} w{n - 3} w{n - 2} w{n - 1}\n")
    assert main(["evaluate", path, "--analogies", str(questions)]) == 0
    assert "/1)" in capsys.readouterr().out  # answered (right or wrong)
    assert main(["evaluate", path, "--analogies", str(questions), "--restrict-vocab", "30000"]) == 0
    assert "(0/0)" in capsys.readouterr().out
