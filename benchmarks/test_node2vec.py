"""Benchmarks of node2vec walks and training: the `node2vec` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "node2vec"]


@pytest.mark.parametrize("name", CASES)
def test_node2vec(run_case, name):
    run_case(name)
