"""The backend protocol: both devices define every operation of backends.OPS, with the same
signature, and the backends sit below everything else (they import no model)."""
import ast
import inspect
from pathlib import Path

import pytest

from embedcore import backends
from embedcore.backends import cpu
from embedcore.backends.cuda import ops as cuda_ops

BACKENDS = {"cpu": cpu, "cuda": cuda_ops}


@pytest.mark.parametrize("op", backends.OPS)
def test_every_backend_defines_the_operation_with_one_signature(op):
    signatures = {}
    for name, module in BACKENDS.items():
        assert callable(getattr(module, op, None)), f"backends.{name} lacks the operation {op}"
        signatures[name] = inspect.signature(getattr(module, op))
    assert signatures["cpu"] == signatures["cuda"], f"{op}: cpu{signatures['cpu']} != cuda{signatures['cuda']}"


def test_every_operation_has_a_docstring():
    for name, module in BACKENDS.items():
        for op in backends.OPS:
            assert inspect.getdoc(getattr(module, op)), f"backends.{name}.{op} has no docstring"


def test_a_backend_names_its_device():
    assert cpu.NAME == "cpu" and cuda_ops.NAME == "cuda"
    assert backends.get_backend("cpu") is cpu


def test_the_protocol_test_notices_a_missing_operation(monkeypatch):
    monkeypatch.delattr(cuda_ops, "ppmi")
    with pytest.raises(AssertionError, match="backends.cuda lacks the operation ppmi"):
        test_every_backend_defines_the_operation_with_one_signature("ppmi")


def _embedcore_imports(path):
    """The embedcore modules a source file imports (at any depth of its code)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n == "embedcore" or n.startswith("embedcore.")}


def test_the_backends_import_nothing_above_them():
    # the kernels' modules and each other: never a model, a public function or a helper of theirs
    root = Path(backends.__file__).parent
    allowed = ("embedcore.backends", "embedcore._native", "embedcore._sgd")
    for path in sorted(root.rglob("*.py")):
        upward = {n for n in _embedcore_imports(path) if not n.startswith(allowed) and n != "embedcore"}
        assert not upward, f"{path.relative_to(root.parent)} imports {sorted(upward)}"
