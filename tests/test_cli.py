"""The command line: every subcommand runs, and bad input ends with a message, not a traceback."""
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
