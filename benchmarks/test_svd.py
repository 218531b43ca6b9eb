"""Benchmarks of PPMI and randomized SVD: the `svd` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "svd"]


@pytest.mark.parametrize("name", CASES)
def test_svd(run_case, name):
    run_case(name)
