"""Benchmarks of co-occurrence counting and GloVe training: the `glove` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "glove"]


@pytest.mark.parametrize("name", CASES)
def test_glove(run_case, name):
    run_case(name)
