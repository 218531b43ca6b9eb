import os
import sys

# the tests import their references as a plain module
sys.path.insert(0, os.path.dirname(__file__))

import pytest


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    """Each test that takes it runs once per device; the CUDA run is skipped without a usable GPU."""
    if request.param == "cuda":
        from embedcore.backends import cuda
        usable, reason = cuda._probe()
        if not usable:
            pytest.skip(f"no usable CUDA GPU ({reason})")
    return request.param
