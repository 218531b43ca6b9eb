"""Benchmarks of subword skip-gram training: the `fasttext` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "fasttext"]


@pytest.mark.parametrize("name", CASES)
def test_fasttext(run_case, name):
    run_case(name)
