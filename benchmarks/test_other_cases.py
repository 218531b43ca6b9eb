"""Registered cases of kernels that have no test file of their own yet (so none is left out)."""
import glob
import os

import pytest

from embedcore.bench import available_cases

_HAVE_FILES = {os.path.basename(p)[len("test_"):-len(".py")]
               for p in glob.glob(os.path.join(os.path.dirname(__file__), "test_*.py"))}
OTHERS = [name for name, c in available_cases().items() if c.kernel not in _HAVE_FILES and not c.on_request]


@pytest.mark.parametrize("name", OTHERS or [pytest.param(None, marks=pytest.mark.skip(reason="every kernel has its file"))])
def test_other_case(run_case, name):
    run_case(name)
