"""Benchmarks of recommend_all and the recommenders' quality: the `recommend` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "recommend"]


@pytest.mark.parametrize("name", CASES)
def test_recommend(run_case, name):
    run_case(name)
