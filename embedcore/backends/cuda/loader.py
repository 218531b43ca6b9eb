"""The CUDA C sources of ``kernels/`` as NVRTC compiles them, and the compiled kernels.

Local includes are inlined with ``#line`` directives (compile errors name the right file and
line); CuPy's compile cache, keyed by the source text, sees changes to the headers.
"""
import functools
import logging
import re
from pathlib import Path

from embedcore.backends.cuda.probe import cupy as _cupy

logger = logging.getLogger("embedcore")

KERNEL_DIR = Path(__file__).resolve().parent / "kernels"
KERNEL_FILES = ("topk.cu", "cooccur.cu", "glove.cu", "sgns.cu", "fasttext.cu", "walks.cu")
COMPILE_OPTIONS = ("-std=c++17",)

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$')
_PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\s*$")


def kernel_source(filename):
    """The text NVRTC compiles for ``kernels/<filename>``.

    Local includes (``#include "x"``) are inlined once each, and every piece of text is preceded
    by a ``#line`` directive naming its file, so that a compile error points at the right line of
    the right file. A name is looked up as a C preprocessor looks up a quoted include: beside the
    including file, then in ``embedcore/include`` (the per-example math the C++ kernels share,
    ``ecmath/*.hpp``; it ships as package data, so the same lookup works in an installed wheel and
    in a source tree). Inlining (rather than an include path) also makes CuPy's compile cache,
    keyed by the source text, see changes to the headers.

    Parameters
    ----------
    filename : str
        A file of the kernels directory, e.g. ``"topk.cu"``.

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        The file, or a file it includes, does not exist.
    """
    return _expand(KERNEL_DIR / filename, filename, set())


def _include_dirs():
    import importlib.resources
    return (Path(str(importlib.resources.files("embedcore") / "include")),)


def _resolve(name, including_dir):
    for folder in (including_dir,) + _include_dirs():
        path = folder / name
        if path.is_file():
            return path.resolve()
    raise FileNotFoundError(f"CUDA source {name} not found beside {including_dir} nor in "
                            f"{', '.join(str(d) for d in _include_dirs())}")


def _expand(path, display, seen):
    if not path.is_file():
        raise FileNotFoundError(f"CUDA source {display} not found in {path.parent}")
    seen.add(path.resolve())
    out = [f'#line 1 "{display}"']
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _INCLUDE.match(line)
        if match:
            included = _resolve(match.group(1), path.parent)
            if included not in seen:
                out.append(_expand(included, match.group(1), seen))
            out.append(f'#line {number + 1} "{display}"')
        elif _PRAGMA_ONCE.match(line):
            out.append("")  # each file is inlined once anyway
        else:
            out.append(line)
    return "\n".join(out)


@functools.lru_cache(maxsize=None)
def _module(filename, options):
    cp = _cupy()
    logger.debug("compiling CUDA kernels of %s with %s", filename, " ".join(options))
    return cp.RawModule(code=kernel_source(filename), options=options)


@functools.lru_cache(maxsize=None)
def compiled_kernel(filename, name, options=COMPILE_OPTIONS):
    """The compiled kernel `name` of `filename` (compiled once per (file, options))."""
    return _module(filename, tuple(options)).get_function(name)


def compile_all():
    """Compile every kernel now (so that timings exclude NVRTC); returns the kernel names."""
    names = {
        "topk.cu": ("topk_merge_tile",),
        "cooccur.cu": ("cooccur_pairs", "segment_sums"),
        "glove.cu": ("glove_epoch",),
        "sgns.cu": ("w2v_keep_mask", "sgns_skipgram", "sgns_cbow"),
        "fasttext.cu": ("fasttext_train",),
    }
    for filename, kernels in names.items():
        for name in kernels:
            compiled_kernel(filename, name)
    return [n for kernels in names.values() for n in kernels]
