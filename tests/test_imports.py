"""Every module of the package imports on its own, in a fresh interpreter: no circular import,
no module that works only when another was imported first."""
import os
import pkgutil
import subprocess
import sys

import pytest

import embedcore

# __main__ runs the command line when imported: that is its job, not an import to test
MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(embedcore.__path__, "embedcore.")
                 if not name.endswith(".__main__"))


@pytest.fixture(scope="module")
def imports():
    """Each module imported by its own interpreter (all started at once)."""
    # run from the tests' folder: from a checkout's root, the uncompiled sources would shadow the
    # installed package
    here = os.path.dirname(os.path.abspath(__file__))
    running = {m: subprocess.Popen([sys.executable, "-c", f"import {m}"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, cwd=here) for m in MODULES}
    return {m: (p.wait(timeout=300), p.communicate()[1]) for m, p in running.items()}


def test_the_package_lists_its_modules():
    assert {"embedcore._base", "embedcore.backends", "embedcore.backends.cpu",
            "embedcore.backends.cuda.ops", "embedcore.word2vec"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_alone_in_a_fresh_interpreter(imports, module):
    returncode, stderr = imports[module]
    assert returncode == 0, stderr
