"""The pytest-benchmark suite: `embedcore bench`'s cases, run under pytest.

Each ``test_<kernel>.py`` runs the cases registered for that kernel in
`embedcore.benchcases` (the same functions `embedcore bench` runs; nothing is defined twice).
A case times the peer and embedcore itself, alternating in this one process, and checks the
quality of both; pytest-benchmark records the case's wall time, and the rows (peer seconds,
embedcore seconds, ratio, both qualities) go into the test's ``extra_info``, so
``--benchmark-json`` carries them. The side-by-side table is printed at the end of the run;
``python benchmarks/plot_benchmarks.py results.json figure.png`` draws it.

Options: ``--bench-size quick|full|all`` (default quick: the cases' small sizes),
``--bench-data DIR`` (default benchmarks/data), ``--bench-workers N`` (default 2).
"""
import os

import pytest

pytest.importorskip("pytest_benchmark", reason="the benchmark suite needs pytest-benchmark "
                                               "(pip install 'embedcore[bench]')")

from embedcore.bench import Context, available_cases, format_table  # noqa: E402

SIZES = {"quick": ["quick"], "full": ["full"], "all": ["quick", "full"]}

_ROWS = []  # every row of this run, in order, for the summary table


def pytest_addoption(parser):
    group = parser.getgroup("embedcore benchmarks")
    group.addoption("--bench-size", choices=sorted(SIZES), default="quick",
                    help="problem sizes to run: quick (the cases' small sizes, default), full, or all")
    group.addoption("--bench-data", default=os.path.join(os.path.dirname(__file__), "data"),
                    help="folder with corpus.txt and the evaluation files (default benchmarks/data)")
    group.addoption("--bench-workers", type=int, default=2, help="threads on both sides (default 2)")


def pytest_generate_tests(metafunc):
    if "bench_size" in metafunc.fixturenames:
        metafunc.parametrize("bench_size", SIZES[metafunc.config.getoption("--bench-size")])


@pytest.fixture
def run_case(benchmark, bench_size, request, tmp_path):
    """Run the registered case `name` once under `benchmark` at this size; return its rows."""
    config = request.config

    def run(name):
        c = available_cases()[name]
        ctx = Context(quick=bench_size == "quick", workers=config.getoption("--bench-workers"),
                      data_dir=config.getoption("--bench-data"), scratch=str(tmp_path))
        benchmark.group = f"{c.kernel} ({bench_size})"
        rows = benchmark.pedantic(c.function, args=(ctx,), rounds=1, iterations=1)
        benchmark.extra_info.update(case=name, size=bench_size, description=c.description,
                                    rows=[r.as_dict() for r in rows])
        _ROWS.extend(rows)
        if not rows:
            pytest.skip(f"{name}: no rows (its data or peer is missing; see benchmarks/README.md)")
        for r in rows:
            assert r.ours_seconds > 0, f"{name}: {r.work} has no embedcore time"
        return rows

    return run


def pytest_terminal_summary(terminalreporter):
    if _ROWS:
        terminalreporter.write_sep("-", "peer and embedcore side by side (ratio = peer s / embedcore s)")
        terminalreporter.write_line(format_table(_ROWS))
