"""Coverage-guided fuzzing of one reader with atheris (libFuzzer for Python).

    python tests/fuzz/fuzz.py TARGET [libFuzzer options] [CORPUS_DIR ...]

TARGET is a name in targets.TARGETS. The embedcore package is imported under atheris's
instrumentation, so the Python code of the readers guides the search; C++ code guides it too when
the extensions were built with ``-fsanitize=fuzzer-no-link`` (see run.py). A finding is an
exception other than ValueError, a crash, a hang past -timeout, or memory past -rss_limit_mb;
libFuzzer saves the input as crash-*/timeout-*/oom-* (in -artifact_prefix).
"""
import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["embedcore"]):
    import embedcore  # noqa: F401 - imported here to be instrumented
    import embedcore._io  # noqa: F401
    import embedcore.corpus  # noqa: F401
    import embedcore.formats.word2vec  # noqa: F401
    import embedcore.vocab  # noqa: F401
    import embedcore._sgd  # noqa: F401

import targets  # noqa: E402

# Small read chunks: records straddle chunk ends far more often (the code that joins them is
# fuzzed too), and each input costs less than the 16 MiB buffer of an ordinary load.
embedcore.formats.word2vec._CHUNK_BYTES = 1 << 12
embedcore._sgd.CHUNK_BYTES = 1 << 10


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        raise SystemExit(f"usage: fuzz.py TARGET [libFuzzer options] [corpus dirs]; targets: "
                         f"{', '.join(targets.TARGETS)}")
    name = sys.argv.pop(1)

    def test_one_input(data):
        targets.run_one(name, data)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
