"""The bench cases' side of the C peers: Stanford GloVe's file formats, locating the binaries that
benchmarks/build_peers.sh builds, and reading what the tools print. No peer binary is needed."""
import os
import struct
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from embedcore.benchcases import _peers
from embedcore.benchcases.glove import _read_glove_cost


def small_counts():
    # rows 0..2; row 1 holds an explicit zero, row 2 is empty
    return sp.csr_matrix((np.array([2.5, 1.0, 0.0, 0.125], dtype=np.float32),
                          np.array([0, 2, 0, 1]), np.array([0, 2, 4, 4])), shape=(3, 3))


def test_cooccurrence_records_are_c_structs_of_int_int_double_with_one_based_ids(tmp_path):
    path = tmp_path / "cooccurrence.bin"
    assert _peers.write_cooccurrence(small_counts(), path) == 3
    data = path.read_bytes()
    # struct {int word1; int word2; double val;}: 16 bytes, no padding, native byte order
    assert len(data) == 3 * 16
    assert list(struct.iter_unpack("=iid", data)) == [(1, 1, 2.5), (1, 3, 1.0), (2, 2, 0.125)]


def test_cooccurrence_records_read_back_with_numpy_as_the_matrix(tmp_path):
    counts = sp.random(40, 40, density=0.2, format="csr", dtype=np.float32, random_state=3)
    path = tmp_path / "cooccurrence.bin"
    _peers.write_cooccurrence(counts, path, chunk_rows=7)
    records = np.fromfile(path, dtype=np.dtype([("w1", np.int32), ("w2", np.int32), ("x", np.float64)]))
    back = sp.csr_matrix((records["x"], (records["w1"] - 1, records["w2"] - 1)), shape=(40, 40))
    assert len(records) == counts.nnz
    assert (back != counts).nnz == 0


def test_read_cooccurrence_maps_another_vocabulary_order_to_ours(tmp_path):
    counts = small_counts()
    order = np.array([2, 0, 1])  # their word k is our word order[k]
    theirs = counts[order][:, order]
    path = tmp_path / "cooccurrence.bin"
    _peers.write_cooccurrence(theirs, path)
    back = _peers.read_cooccurrence(path, order, 3)
    counts.eliminate_zeros()
    assert back.dtype == np.float32
    assert (back != counts).nnz == 0


def test_vocabulary_file_has_word_and_count_per_line_in_id_order(tmp_path):
    path = tmp_path / "vocab.txt"
    _peers.write_vocab(["the", "cat", "ran"], np.array([10, 4, 4]), path)
    assert path.read_text() == "the 10\ncat 4\nran 4\n"
    assert _peers.read_vocab(path) == ["the", "cat", "ran"]


def test_glove_epochs_run_from_the_line_before_each_cost_line():
    lines = [(0.05, "TRAINING MODEL"), (0.5, "alpha: 0.750000"),
             (1.5, "11/27/26 - 06:25.11PM, iter: 001, cost: 0.026235"),
             (3.0, "11/27/26 - 06:25.12PM, iter: 002, cost: 0.016300")]
    costs, seconds = _read_glove_cost(lines)
    assert costs == [0.026235, 0.0163]
    assert seconds == pytest.approx([1.0, 1.5])


def fake_peers(folder):
    for parts in (("GloVe", "build", "glove"), ("word2vec", "word2vec")):
        path = os.path.join(folder, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(path, 0o755)
    with open(os.path.join(folder, "versions.txt"), "w") as f:
        f.write("GloVe 11e9dfedcfc29685efaf48a37ad4c87768fea7b4 checked\n"
                "word2vec e092540633572b883e25b367938b0cca2cf3c0e7 unchecked\n")


def test_peers_are_found_through_the_environment_variable(tmp_path, monkeypatch):
    fake_peers(tmp_path)
    monkeypatch.setenv(_peers.ENV_VAR, str(tmp_path))
    assert _peers.find("glove", "word2vec") == {"glove": str(tmp_path / "GloVe" / "build" / "glove"),
                                                "word2vec": str(tmp_path / "word2vec" / "word2vec")}
    assert _peers.version("GloVe") == "GloVe@11e9dfe"
    assert _peers.version("word2vec") == "word2vec@e092540+?"


def test_a_missing_peer_is_none_and_its_note_says_how_to_build_it(tmp_path, monkeypatch):
    fake_peers(tmp_path)
    monkeypatch.setenv(_peers.ENV_VAR, str(tmp_path))
    assert _peers.find("glove", "shuffle") is None
    assert "benchmarks/build_peers.sh" in _peers.missing_note("Stanford glove")


def test_run_returns_the_watched_lines_split_at_carriage_returns():
    seconds, lines = _peers.run([sys.executable, "-c", "import sys; sys.stdout.write('a\\rb\\nc')"],
                                watch="stdout")
    assert [text for _, text in lines] == ["a", "b", "c"]
    assert all(0 <= t <= seconds for t, _ in lines)


def test_run_raises_with_the_tool_output_when_it_fails():
    with pytest.raises(RuntimeError, match="status 3:\nno vocab file"):
        _peers.run([sys.executable, "-c", "import sys; sys.stderr.write('no vocab file\\n'); sys.exit(3)"])


# ---------------------------------------------------------------------------- the case registry
def test_case_modules_do_not_import_the_bench_runner():
    # the registry is a module of its own, so bench.py and the cases do not import each other
    import subprocess
    import sys

    import embedcore
    from embedcore.benchcases._registry import CASE_MODULES
    for module in CASE_MODULES:
        code = f"import sys, {module}; assert 'embedcore.bench' not in sys.modules, '{module} imports embedcore.bench'"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.dirname(embedcore.__file__)))
        assert result.returncode == 0, result.stderr


def test_every_case_module_registers_its_cases():
    from embedcore import bench
    registered = {c.function.__module__ for c in bench.available_cases().values()}
    assert registered == set(bench.CASE_MODULES)


def test_write_json_replaces_atomically_and_leaves_tmp_files_alone(tmp_path):
    import json

    from embedcore import bench
    (tmp_path / "out.json.tmp").write_text("mine")
    row = bench.Row("c", "work", "peer", 2.0, 1.0)
    bench.write_json([row], tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text())["rows"][0]["ratio"] == 2.0
    assert (tmp_path / "out.json.tmp").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.json.tmp"]
