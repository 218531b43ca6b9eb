"""Benchmarks of exact cosine top-k and analogy evaluation: the `topk` cases of embedcore.benchcases."""
import pytest

from embedcore.bench import available_cases

CASES = [name for name, c in available_cases().items() if c.kernel == "topk"]


@pytest.mark.parametrize("name", CASES)
def test_topk(run_case, name):
    run_case(name)
