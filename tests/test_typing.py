"""The package's type information (PEP 561): the py.typed marker and the stubs of the compiled
modules are installed with it, and each stub names exactly the functions and parameters its
compiled module has."""
import ast
import importlib
import importlib.machinery
import importlib.resources
import inspect
import re

import pytest


COMPILED = ["embedcore._native", "embedcore._sgd._fasttext", "embedcore._sgd._glove", "embedcore._sgd._text",
            "embedcore._sgd._walks", "embedcore._sgd._word2vec"]


def _stub(module_name):
    package, _, leaf = module_name.rpartition(".")
    return importlib.resources.files(package).joinpath(leaf + ".pyi")


def _stub_functions(module_name):
    """{name: [parameter names]} of the module-level functions and class methods of a stub."""
    tree = ast.parse(_stub(module_name).read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
        elif isinstance(node, ast.ClassDef):
            found[node.name] = None
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name != "__init__":
                    found[f"{node.name}.{item.name}"] = None
    return found


def _runtime_parameters(function):
    """Parameter names of a compiled function: from inspect (Cython) or the signature line pybind11
    writes first in the docstring."""
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        first = (function.__doc__ or "").splitlines()[0]
        inside = first[first.index("(") + 1:first.rindex(")")]
        return re.findall(r"(?:^|, )(\w+):", inside)


def test_the_installed_package_carries_the_py_typed_marker():
    assert importlib.resources.files("embedcore").joinpath("py.typed").is_file()


@pytest.mark.parametrize("module_name", COMPILED)
def test_every_compiled_module_is_installed_with_its_stub(module_name):
    module = importlib.import_module(module_name)
    assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert _stub(module_name).is_file()


@pytest.mark.parametrize("module_name", COMPILED)
def test_each_stub_names_exactly_the_functions_of_its_compiled_module(module_name):
    module = importlib.import_module(module_name)
    stub = _stub_functions(module_name)
    runtime = {name for name, value in vars(module).items()
               if not name.startswith("_") and (inspect.isbuiltin(value) or callable(value) and
                                                 getattr(value, "__module__", None) == module_name)}
    assert {name for name in stub if "." not in name} == runtime
    for name, parameters in stub.items():
        owner, _, attribute = name.rpartition(".")
        value = getattr(getattr(module, owner), attribute) if owner else getattr(module, name)
        if parameters is not None:
            assert parameters == _runtime_parameters(value), name
        else:
            assert value is not None


def test_the_stubs_describe_what_the_compiled_functions_return():
    from embedcore import _native, _sgd
    assert isinstance(_native.openmp(), bool)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in _native.simd_kernels().items())
    counter = _sgd.WordCounter()
    counter.feed_sentences([["a", "b", "a"]])
    words, counts = counter.vocabulary(1, 0)
    assert words == ["a", "b"] and counts.dtype.name == "int64"
    assert isinstance(counter.total_words, int)
    assert isinstance(_sgd.fasttext_hash(b"abc"), int)
