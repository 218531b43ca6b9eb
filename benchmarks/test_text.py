"""Benchmarks of vocabulary pass (text -> Vocab and encoded corpus): the `text` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "text"]


@pytest.mark.parametrize("name", CASES)
def test_text(run_case, name):
    run_case(name)
