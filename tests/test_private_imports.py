"""No module of embedcore uses another module's private names.

The rule: a name that starts with an underscore belongs to the module that defines it; no other
module imports it or reads it as an attribute. A helper that two modules need lives in the module
that owns its subject, under a name without the underscore (kept out of ``__all__`` when it is not
public API), or in a shared internal module. A private module (``_io.py``) may be imported only by
its own package's ``__init__`` (which re-exports it) or, when it exists to be shared, from
anywhere: such a module is listed in SHARED_INTERNAL_MODULES below with what it is for.
"""
import ast
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "embedcore")

SHARED_INTERNAL_MODULES = {
    "embedcore._base": "the model base: parameter checks and the epoch loop of every model",
    "embedcore._io": "open_source and the atomic writes every reader and writer uses",
    "embedcore._memory": "the memory checks made before large allocations",
    "embedcore._native": "the pybind11 kernels",
    "embedcore._progress": "progress bars and epoch-end callbacks",
    "embedcore._range_finder": "the randomized range finder of the SVDs (in memory and distributed)",
    "embedcore._sgd": "the Cython kernels",
    "embedcore._sgd._arrays": "the in-place array check of the Cython kernels",
    "embedcore._threads": "the workers argument and the usable cores",
    "embedcore._typing": "the type aliases of the annotations (FloatArray, Key, Source, ...)",
    "embedcore._validation": "argument checks and conversions of the Python API",
    "embedcore._version": "the version number",
    "embedcore.backends._shared": "the arithmetic both backends share",
    "embedcore.benchcases._peers": "finding and running the benchmark peers",
    "embedcore.benchcases._quality": "the quality scores of the benchmark cases",
    "embedcore.benchcases._registry": "the benchmark case registry and its timing helpers",
    "embedcore.distributed._scheduler": "the task helpers of the distributed functions",
    "embedcore.formats._errors": "the vector-file exceptions",
    "embedcore.formats._words": "the word rule of every vocabulary and file format",
}

_PYX_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+c?import\s+(\([^)]*\)|[^\n]*)", re.M)
_PYX_ATTRIBUTE = re.compile(r"\b(embedcore(?:\.\w+)+)")


def _is_private(part):
    return part.startswith("_") and not part.startswith("__")


def _module_name(path):
    parts = os.path.relpath(os.path.splitext(path)[0], ROOT).split(os.sep)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name):
    """Whether embedcore's `name` is a module or package: a folder, a source file, or a compiled
    module (in the checkout, or where the tests import embedcore from)."""
    import embedcore
    for root in (ROOT, os.path.dirname(os.path.dirname(os.path.abspath(embedcore.__file__)))):
        base = os.path.join(root, *name.split("."))
        if (os.path.isdir(base) or any(os.path.exists(base + ext) for ext in (".py", ".pyx"))
                or glob.glob(base + ".*.so") or glob.glob(base + ".*.pyd")):
            return True
    return False


def _may_use_module(importer, module, is_package_init):
    """A private module may be used by its own package's __init__ or, when listed, anywhere."""
    if module in SHARED_INTERNAL_MODULES:
        return True
    parent = module.rsplit(".", 1)[0]
    return is_package_init and importer == parent


def _check_reference(importer, is_package_init, name):
    """The problem with `importer` using embedcore's `name` (a dotted path), or None."""
    if not name.startswith("embedcore"):
        return None
    parts = name.split(".")
    for i in range(1, len(parts)):
        if not _is_private(parts[i]):
            continue
        prefix = ".".join(parts[:i + 1])
        if prefix == importer or importer.startswith(prefix + "."):
            continue  # a module's own private parts, or its package's
        if _is_module(prefix):
            if not _may_use_module(importer, prefix, is_package_init):
                return f"uses the private module {prefix} (not in SHARED_INTERNAL_MODULES)"
        else:
            return f"uses the private name {parts[i]} of {'.'.join(parts[:i])}"
    return None


def private_uses_in_python(source, importer, is_package_init=False):
    """[(line, problem)] of one Python module's uses of other modules' private names."""
    tree = ast.parse(source)
    package = importer if is_package_init else importer.rsplit(".", 1)[0]
    modules = {}  # local name -> the embedcore module it is bound to
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.append(full)
                if _is_module(full):
                    modules[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names.append(alias.name)
                # `import a.b as c` binds c to a.b; `import a.b` binds a
                bound = alias.name if alias.asname else alias.name.split(".")[0]
                modules[alias.asname or bound] = bound
        for name in names:
            problem = _check_reference(importer, is_package_init, name)
            if problem:
                found.append((node.lineno, problem))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            problem = _check_reference(importer, is_package_init, f"{modules[node.value.id]}.{node.attr}")
            if problem:
                found.append((node.lineno, problem))
    return found


def private_uses_in_cython(source, importer):
    """[(line, problem)] of a .pyx/.pxd file's imports of other modules' private names."""
    found = []
    for match in _PYX_IMPORT.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        module = match.group(1)
        names = [n.strip().split(" as ")[0] for n in match.group(2).strip("() \n").replace("\n", " ").split(",")]
        for name in [module] + [f"{module}.{n}" for n in names if n]:
            problem = _check_reference(importer, False, name)
            if problem:
                found.append((line, problem))
    return found


def all_private_uses():
    found = []
    for path in sorted(glob.glob(os.path.join(PACKAGE, "**", "*.py*"), recursive=True)):
        if not path.endswith((".py", ".pyx", ".pxd")):
            continue
        with open(path, encoding="utf-8") as f:
            source = f.read()
        importer = _module_name(path)
        if path.endswith(".py"):
            uses = private_uses_in_python(source, importer, os.path.basename(path) == "__init__.py")
        else:
            uses = private_uses_in_cython(source, importer)
        found += [f"{os.path.relpath(path, ROOT)}:{line}: {problem}" for line, problem in uses]
    return found


def test_no_module_uses_another_modules_private_names():
    assert all_private_uses() == []


def test_every_shared_internal_module_exists():
    assert [m for m in SHARED_INTERNAL_MODULES if not _is_module(m)] == []


@pytest.mark.parametrize("source,problem", [
    ("from embedcore.keyedvectors import KeyedVectors, _as_item_list", "private name _as_item_list"),
    ("from embedcore.backends.cuda import loader\nloader._module('topk.cu', ())", "private name _module"),
    ("import embedcore.similarity as s\ns._work(1, 2)", "private name _work"),
    ("from embedcore.benchcases import _missing_module", "private name _missing_module"),
    ("from embedcore.backends.cuda.launch import _check", "private name _check"),
])
def test_the_check_finds_a_private_name_used_across_modules(source, problem):
    found = private_uses_in_python(source, "embedcore.fasttext")
    assert len(found) == 1 and problem in found[0][1]


def test_the_check_accepts_shared_modules_and_a_package_init_importing_its_own():
    assert private_uses_in_python("from embedcore import _io, _sgd\nfrom embedcore._io import atomic_write",
                                  "embedcore.vocab") == []
    assert private_uses_in_python("from embedcore.distributed._text import encode", "embedcore.distributed",
                                  is_package_init=True) == []
    assert private_uses_in_python("from embedcore.distributed._text import encode", "embedcore.svd") != []


def test_the_check_reads_cython_imports():
    assert private_uses_in_cython("from embedcore._sgd._arrays import inplace\n", "embedcore._sgd._glove") == []
    found = private_uses_in_cython("from embedcore.keyedvectors import (KeyedVectors,\n    _as_item_list)\n",
                                   "embedcore._sgd._glove")
    assert len(found) == 1 and "_as_item_list" in found[0][1]
