"""benchmarks/gpu_check.py cannot pass without a GPU: it says why and exits non-zero, and what it
wrote to the output folder says that nothing was checked."""
import importlib.util
import json
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "gpu_check.py")


@pytest.fixture
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_without_a_gpu_exits_non_zero_and_says_why(gpu_check, no_gpu, tmp_path, capsys):
    status = gpu_check.main(["--out", str(tmp_path)])
    assert status == gpu_check.NO_GPU_EXIT != 0
    assert "NO GPU: no CUDA device is visible" in capsys.readouterr().out
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert result["exit_status"] == status
    assert [c["status"] for c in result["checks"]] == ["not run"]
    assert "NO GPU" in (tmp_path / "gpu_check.log").read_text()


def test_a_check_that_did_not_run_fails_the_summary(gpu_check, tmp_path, capsys):
    report = gpu_check.Report(None, 0.0)
    report.check("passes", "passed")
    report.check("skipped", "not run", "time budget spent")
    assert gpu_check.summary(report) == 1
    assert "GPU CHECK FAILED: 1 check(s) failed or did not run: skipped" in capsys.readouterr().out
