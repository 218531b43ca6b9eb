"""Benchmarks of SIF sentence vectors: the `sentences` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "sentences"]


@pytest.mark.parametrize("name", CASES)
def test_sentences(run_case, name):
    run_case(name)
