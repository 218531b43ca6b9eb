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


USER_CODE = '''
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import assert_type

import embedcore as ec

kv = ec.KeyedVectors(["a", "b"], np.eye(2, dtype=np.float32))
assert_type(kv.most_similar("a"), list[tuple[str | int, float]])
assert_type(kv.most_similar("a", topn=None), npt.NDArray[np.float32])
assert_type(kv.similarity("a", "b"), float)
assert_type(kv["a"], npt.NDArray[np.floating[Any]])
scores, ids = ec.cosine_topk(np.eye(2), np.eye(2), k=1)
assert_type(scores, npt.NDArray[np.float32])
assert_type(ids, npt.NDArray[np.int64])
model = ec.Word2Vec(vector_size=8).fit([["a", "b"]])
assert_type(model, ec.Word2Vec)
assert_type(model.wv, ec.KeyedVectors)
assert_type(ec.Vocab.from_corpus([["a"]], min_count=1).words, list[str])
assert_type(ec.build_info()["simd"], str)
ec.Word2Vec(vector_size="8")  # line 23: a str where an int goes
'''


def test_the_public_api_type_checks_as_a_user_sees_it(tmp_path, monkeypatch):
    """A user's code checked with mypy --strict against the package as imported here: the types of
    the main calls are what the docs say, and a wrong argument type is reported."""
    api = pytest.importorskip("mypy.api")
    import os
    import sysconfig

    import embedcore
    where = os.path.dirname(os.path.dirname(os.path.abspath(embedcore.__file__)))
    if os.path.realpath(where) != os.path.realpath(sysconfig.get_paths()["purelib"]) and \
            os.path.realpath(where) != os.path.realpath(sysconfig.get_paths()["platlib"]):
        monkeypatch.setenv("MYPYPATH", where)  # a source checkout (editable install): check it there
    script = tmp_path / "user.py"
    script.write_text(USER_CODE)
    out, err, status = api.run([str(script), "--strict", "--follow-imports=silent", "--python-version", "3.12",
                                "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "user.py:23:" in errors[0] and "vector_size" in errors[0], out + err
