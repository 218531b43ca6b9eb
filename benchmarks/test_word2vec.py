"""Benchmarks of skip-gram and CBOW training: the `word2vec` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "word2vec"]


@pytest.mark.parametrize("name", CASES)
def test_word2vec(run_case, name):
    run_case(name)
