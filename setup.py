"""Build the compiled modules of embedcore.

embedcore._native       pybind11, C++17 sources in csrc/bindings/ over the kernels in csrc/embedcore/
embedcore._sgd._text    Cython (embedcore/_sgd/*.pyx, each over one .pxd): the text pass,
embedcore._sgd._glove   GloVe epochs, word2vec and fastText chunks, and random walks trained by
embedcore._sgd._word2vec  skip-gram (loops that touch Python objects or update arrays in place)
embedcore._sgd._fasttext
embedcore._sgd._walks

Include path: csrc/ (the kernels, the bindings' glue headers) and embedcore/include/ (the
per-example math shared with the CUDA kernels, shipped as package data for the GPU loader).
No -march flag: the kernels compile their hot loops per SIMD level and pick one at run time
(csrc/embedcore/simd.hpp).

Environment switches:
  EMBEDCORE_OPENMP=1   a compiler without OpenMP is an error
  EMBEDCORE_OPENMP=0   build without OpenMP (serial kernels)
  EMBEDCORE_NATIVE=1   compile with -march=native (never for wheels)
  EMBEDCORE_SANITIZE=address,undefined
                       a sanitizer build (GCC or clang): -fsanitize=<list> -fno-omit-frame-pointer -g
                       -O1 for compiling and linking. Python itself is not instrumented, so the
                       runtime must be preloaded; .ci/sanitize builds one in a fresh venv and runs
                       the tests under it:
                         LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)" \
                         ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                         pytest tests
"""
import os
import shutil
import sys
import sysconfig
import tempfile
import textwrap
import warnings
from glob import glob

import numpy
import pybind11
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError

HERE = os.path.dirname(os.path.abspath(__file__))
IS_MSVC_HINT = sys.platform == "win32"


SANITIZERS = ("address", "undefined", "leak", "thread")


def _sanitize_list():
    """The sanitizers EMBEDCORE_SANITIZE names (a comma-separated subset of SANITIZERS), or []."""
    value = os.environ.get("EMBEDCORE_SANITIZE", "").strip()
    if not value:
        return []
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SANITIZERS]
    if unknown:
        raise SystemExit(f"EMBEDCORE_SANITIZE must be a comma-separated list of {', '.join(SANITIZERS)}; "
                         f"got {value!r}")
    return names


def _env_flag(name):
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    if value not in ("0", "1"):
        raise SystemExit(f"{name} must be 0 or 1, got {value!r}")
    return value == "1"


def _try_compile(compiler, source, suffix, extra_args=(), include_dirs=()):
    """Compile `source` with the build compiler; return True when it succeeds."""
    tmp = tempfile.mkdtemp(prefix="embedcore-probe-")
    try:
        path = os.path.join(tmp, "probe" + suffix)
        with open(path, "w") as f:
            f.write(source)
        devnull = open(os.devnull, "w")
        old_out, old_err = os.dup(1), os.dup(2)
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            compiler.compile([path], output_dir=tmp, extra_postargs=list(extra_args),
                             include_dirs=list(include_dirs))
            return True
        except CompileError:
            return False
        finally:
            os.dup2(old_out, 1)
            os.dup2(old_err, 2)
            os.close(old_out)
            os.close(old_err)
            devnull.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    """build_ext that checks the toolchain, probes OpenMP and sets flags per compiler."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        msvc = ctype == "msvc"
        std = ["/std:c++17"] if msvc else ["-std=c++17"]
        self._check_toolchain(std)

        # -Wno-psabi: the vector helpers of simd.hpp take AVX-sized vectors by value; they are always
        # inlined into the copy compiled for that level, so GCC's ABI note does not apply
        flags = std + (["/O2", "/EHsc"] if msvc else ["-O3", "-fvisibility=hidden", "-ffp-contract=fast",
                                                       "-Wno-psabi"])
        define = []
        link = []
        if _env_flag("EMBEDCORE_NATIVE"):
            flags.append("-march=native")
            define.append(("EMBEDCORE_NATIVE_BUILD", "1"))
        sanitizers = _sanitize_list()
        if sanitizers:
            if msvc:
                raise SystemExit("EMBEDCORE_SANITIZE needs GCC or clang")
            sanitize = ["-fsanitize=" + ",".join(sanitizers)]
            # -O1 keeps the reports readable; frame pointers give whole stacks
            flags = [f for f in flags if not f.startswith("-O")] + sanitize + ["-O1", "-g", "-fno-omit-frame-pointer"]
            link = sanitize

        want_omp = _env_flag("EMBEDCORE_OPENMP")
        omp_compile, omp_link = self._openmp_flags(msvc)
        have_omp = False
        if want_omp is not False:
            have_omp = _try_compile(self.compiler, "#include <omp.h>\nint main(){return omp_get_max_threads();}\n",
                                    ".cpp", std + omp_compile)
            if not have_omp:
                if want_omp:
                    raise SystemExit(
                        "EMBEDCORE_OPENMP=1 but the compiler cannot build OpenMP code. Install OpenMP "
                        "(Debian/Ubuntu: libgomp comes with g++; macOS: `brew install libomp`) or unset it.")
                warnings.warn("embedcore: the C++ compiler has no OpenMP; building serial kernels "
                              "(set EMBEDCORE_OPENMP=1 to make this an error).")
        if have_omp:
            define.append(("EMBEDCORE_OPENMP", "1"))
        for ext in self.extensions:
            ext.extra_compile_args = flags + (omp_compile if have_omp else [])
            ext.extra_link_args = (omp_link if have_omp else []) + link
            ext.define_macros = list(ext.define_macros or []) + define
        super().build_extensions()

    def _openmp_flags(self, msvc):
        if msvc:
            return ["/openmp"], []
        if sys.platform == "darwin":
            # llvm-openmp (brew libomp or conda) provides omp.h and libomp
            prefix = os.environ.get("OPENMP_PREFIX", "/opt/homebrew/opt/libomp")
            return (["-Xpreprocessor", "-fopenmp", f"-I{prefix}/include"],
                    [f"-L{prefix}/lib", "-lomp"])
        return ["-fopenmp"], ["-fopenmp"]

    def _check_toolchain(self, std):
        include = sysconfig.get_paths()["include"]
        if not _try_compile(self.compiler, "int main(){return 0;}\n", ".cpp", std):
            raise SystemExit(textwrap.dedent("""
                embedcore needs a C++17 compiler and none works here.
                  Debian/Ubuntu: sudo apt-get install g++
                  Fedora/RHEL:   sudo dnf install gcc-c++
                  macOS:         xcode-select --install
                  Windows:       install the "Desktop development with C++" workload of Visual Studio
                """))
        if not _try_compile(self.compiler, "#include <Python.h>\nint main(){return 0;}\n", ".cpp", std,
                            include_dirs=[include]):
            ver = f"{sys.version_info.major}.{sys.version_info.minor}"
            raise SystemExit(textwrap.dedent(f"""
                embedcore needs the Python development headers (Python.h), not found in {include}.
                  Debian/Ubuntu: sudo apt-get install python{ver}-dev
                  Fedora/RHEL:   sudo dnf install python{ver.replace('.', '')}-devel  (or python3-devel)
                """))


INCLUDE = ["csrc", os.path.join("embedcore", "include"), numpy.get_include()]
HEADERS = sorted(glob("csrc/embedcore/*.hpp")) + sorted(glob("csrc/bindings/*.hpp")) + \
    sorted(glob("embedcore/include/ecmath/*.hpp"))

native = Extension(
    "embedcore._native",
    sources=sorted(glob("csrc/bindings/*.cpp")),
    include_dirs=INCLUDE + [pybind11.get_include()],
    depends=HEADERS,
    language="c++",
)
sgd = [
    Extension(
        f"embedcore._sgd._{name}",
        sources=[f"embedcore/_sgd/_{name}.pyx"],
        include_dirs=INCLUDE,
        depends=HEADERS + [f"embedcore/_sgd/{name}.pxd"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        language="c++",
    )
    for name in ("text", "glove", "word2vec", "fasttext", "walks")
]

setup(
    ext_modules=[native] + cythonize(
        sgd, language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True,
                             "initializedcheck": False}),
    cmdclass={"build_ext": BuildExt},
)
