"""The pytest-benchmark suite's plumbing: every registered case is run by some test file, and
its JSON turns into the comparison figure."""
import ast
import importlib.util
import json
import os

import pytest

from embedcore.bench import Row, available_cases

BENCHMARKS = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCHMARKS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_case_has_a_test_file_for_its_kernel():
    files = {f[len("test_"):-3] for f in os.listdir(BENCHMARKS) if f.startswith("test_") and f.endswith(".py")}
    for name, c in available_cases().items():
        if c.kernel in files:
            source = open(os.path.join(BENCHMARKS, f"test_{c.kernel}.py")).read()
            assert f'c.kernel == "{c.kernel}"' in source, name
    # a kernel without a file is run by test_other_cases.py
    tree = ast.parse(open(os.path.join(BENCHMARKS, "test_other_cases.py")).read())
    assert any(isinstance(n, ast.FunctionDef) and n.name == "test_other_case" for n in tree.body)


def test_plot_script_reads_pytest_benchmark_json_and_draws(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [Row("topk-search", "1k x 100k", "faiss", 2.0, 0.5, "recall 1.0", "recall 1.0"),
            Row("text-real", "vocabulary", "gensim", 3.0, 1.0),
            Row("glove-real", "epochs", "Stanford glove (not built)", None, 4.0)]
    payload = {"benchmarks": [{"name": "test_topk[quick-topk-search]",
                               "extra_info": {"rows": [r.as_dict() for r in rows[:1]]}},
                              {"name": "test_text[quick-text-real]",
                               "extra_info": {"rows": [r.as_dict() for r in rows[1:]]}}]}
    results = tmp_path / "results.json"
    results.write_text(json.dumps(payload))
    script = _load("plot_benchmarks")
    assert script.rows_from_json(str(results)) == rows
    figure = tmp_path / "speedups.png"
    script.main([str(results), str(figure)])
    assert figure.read_bytes().startswith(b"\x89PNG") and figure.stat().st_size > 5000
    with pytest.raises(ValueError, match="neither"):
        (tmp_path / "other.json").write_text("{}")
        script.rows_from_json(str(tmp_path / "other.json"))


def test_a_plain_run_leaves_out_cases_run_only_on_request(monkeypatch):
    import embedcore.bench as bench
    from embedcore.benchcases._registry import Case

    def rows(name):
        return lambda ctx: [Row(name, "work", "peer", None, 0.0)]
    fake = {"quick-one": Case("quick-one", "k", "d", rows("quick-one")),
            "long-one": Case("long-one", "k", "d", rows("long-one"), on_request=True)}
    monkeypatch.setattr(bench, "available_cases", lambda: dict(fake))
    assert [r.case for r in bench.run()] == ["quick-one"]
    assert [r.case for r in bench.run(["long-one"])] == ["long-one"]
    assert available_cases()["scale"].on_request
