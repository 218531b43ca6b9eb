"""SIMD levels: one way to pick a kernel's variant (csrc/embedcore/simd.hpp), honoured and reported
truthfully by every kernel, and shared objects that need nothing beyond x86-64 outside the
dispatched copies."""
import os
import platform
import re
import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import embedcore as ec
from embedcore import _native, _sgd

LEVELS = ("baseline", "avx2", "avx512")
KERNELS = ("word2vec", "glove", "spmm", "ppmi", "topk", "cooccur", "text")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_levels():
    """The levels this CPU runs, narrowest first."""
    return LEVELS[:LEVELS.index(_native.cpu_simd()) + 1]


def tiny_corpus():
    sentences = [["a", "b", "c", "d", "a", "c"], ["b", "d", "a", "c", "b"]] * 20
    vocab = ec.Vocab.from_corpus(sentences, min_count=1)
    return vocab, vocab.encode(sentences)


def tiny_cooc():
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 4, (12, 12)).astype(np.float32)
    return sp.csr_matrix(dense + dense.T)


# ---------------------------------------------------------------------------------------------
# one selection, every kernel

@pytest.mark.parametrize("kernel", KERNELS)
def test_unknown_level_raises_for_every_kernel(kernel):
    with pytest.raises(ValueError, match="'bogus'"):
        _native.simd_select(kernel, "bogus")


@pytest.mark.parametrize("kernel", KERNELS)
def test_empty_level_is_the_best_the_kernel_has_on_this_cpu(kernel):
    assert _native.simd_select(kernel, "") == _native.simd_kernels()[kernel]
    assert LEVELS.index(_native.simd_kernels()[kernel]) <= LEVELS.index(_native.cpu_simd())


def test_levels_above_this_cpu_are_refused():
    above = LEVELS[len(cpu_levels()):]
    if not above:
        pytest.skip("this CPU runs every level")
    for level in above:
        with pytest.raises(ValueError, match=f"'{level}' is not supported by this CPU"):
            _native.simd_select("word2vec", level)


def test_word2vec_with_a_bogus_level_raises_naming_it():
    vocab, corpus = tiny_corpus()
    with pytest.raises(ValueError, match="'bogus'"):
        ec.Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1, _simd="bogus").fit(corpus, vocab=vocab)


def test_glove_with_a_bogus_level_raises_naming_it():
    with pytest.raises(ValueError, match="'bogus'"):
        ec.GloVe(vector_size=8, epochs=1, workers=1, _simd="bogus").fit(tiny_cooc(),
                                                                        vocab=[str(i) for i in range(12)])


def test_sparse_product_ppmi_and_topk_with_a_bogus_level_raise_naming_it():
    a = tiny_cooc()
    indptr, indices, data = a.indptr.astype(np.int64), a.indices, a.data
    x = np.ones((12, 3), np.float32)
    out = np.empty((12, 3), np.float32)
    with pytest.raises(ValueError, match="'bogus'"):
        _native.csr_matmul(indptr, indices, data, 12, x, out, 1, "bogus")
    with pytest.raises(ValueError, match="'bogus'"):
        _native.dense_matmul(x, np.ones((3, 2), np.float32), np.empty((12, 2), np.float32), 1, "bogus")
    with pytest.raises(ValueError, match="'bogus'"):
        _native.ppmi(indptr, indices, data, 12, 12, 0.75, 1.0, 1, "bogus")
    q = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="'bogus'"):
        _native.cosine_topk(q, x, 2, None, False, 1, np.empty((2, 2), np.float32), np.empty((2, 2), np.int64),
                            simd="bogus")


@pytest.mark.parametrize("level", LEVELS)
def test_a_forced_level_is_the_level_that_runs(level):
    if level not in cpu_levels():
        pytest.skip(f"this CPU lacks {level}")
    vocab, corpus = tiny_corpus()
    model = ec.Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1, _simd=level).fit(corpus, vocab=vocab)
    assert model.stats["simd"] == level
    glove = ec.GloVe(vector_size=8, epochs=1, workers=1, _simd=level).fit(tiny_cooc(),
                                                                          vocab=[str(i) for i in range(12)])
    assert glove.stats["simd"] == level


def test_build_info_reports_what_the_kernels_run():
    info = ec.build_info()
    vocab, corpus = tiny_corpus()
    model = ec.Word2Vec(vector_size=8, min_count=1, epochs=1, workers=1).fit(corpus, vocab=vocab)
    glove = ec.GloVe(vector_size=8, epochs=1, workers=1).fit(tiny_cooc(), vocab=[str(i) for i in range(12)])
    assert model.stats["simd"] == info["simd_kernels"]["word2vec"]
    assert glove.stats["simd"] == info["simd_kernels"]["glove"]
    assert _native.spmm_isa() == info["simd_kernels"]["spmm"]
    assert info["simd"] == max(info["simd_kernels"].values(), key=LEVELS.index)


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_of_the_sparse_kernels_gives_the_same_product(level):
    if level not in cpu_levels():
        pytest.skip(f"this CPU lacks {level}")
    a = sp.random(300, 200, density=0.05, format="csr", dtype=np.float32, random_state=1)
    x = np.random.default_rng(2).standard_normal((200, 37)).astype(np.float32)
    out = np.empty((300, 37), np.float32)
    _native.csr_matmul(a.indptr.astype(np.int64), a.indices, a.data, 200, x, out, 1, level)
    np.testing.assert_allclose(out, a.astype(np.float64) @ x.astype(np.float64), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# the build: builtins in one header, baseline code outside the dispatched copies

def test_no_compiler_builtin_outside_the_simd_header():
    csrc = os.path.join(ROOT, "csrc")
    if not os.path.isdir(csrc):
        pytest.skip("run from a source tree")
    pattern = re.compile(r"__builtin|__attribute__|_mm_prefetch|__restrict|target_clones|__cpuid|_xgetbv")
    found = []
    for folder, _, files in os.walk(csrc):
        for name in files:
            path = os.path.join(folder, name)
            if name == "simd.hpp" and os.path.basename(folder) == "embedcore":
                continue
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if pattern.search(line):
                        found.append(f"{os.path.relpath(path, ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


# Mnemonics of instruction sets beyond x86-64's SSE2 that a compiler emits unasked only under
# -march flags (tzcnt is absent: GCC's `rep bsf` for __builtin_ctz disassembles as tzcnt and
# runs as bsf on older CPUs).
BEYOND_BASELINE = {
    "popcnt", "lzcnt", "andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "pdep", "pext", "rorx", "sarx",
    "shlx", "shrx", "mulx", "movbe", "crc32", "pshufb", "pmaxsd", "pminsd", "pmaxud", "pminud", "pmulld",
    "ptest", "roundps", "roundpd", "roundss", "roundsd", "blendps", "blendpd", "blendvps", "blendvpd",
    "pblendvb", "pblendw", "insertps", "extractps", "pextrd", "pextrq", "pinsrd", "pinsrq", "pinsrb",
    "pextrb", "dpps", "dppd", "haddps", "haddpd", "hsubps", "hsubpd", "movshdup", "movsldup", "movddup",
    "lddqu", "pabsb", "pabsw", "pabsd", "palignr", "phaddd", "phaddw", "pmaddubsw", "pmulhrsw", "pcmpeqq",
    "pcmpgtq", "packusdw", "pcmpestri", "pcmpistri", "pmuldq", "pminsb", "pmaxsb", "pminuw", "pmaxuw",
}


def shared_objects():
    import embedcore
    folder = os.path.dirname(embedcore.__file__)
    found = []
    for sub, _, files in os.walk(folder):
        found += [os.path.join(sub, f) for f in files if f.endswith((".so", ".pyd"))]
    return found


def beyond_baseline(instruction):
    """Why an objdump instruction line needs more than x86-64 baseline, or ''."""
    match = re.match(r"^\s*[0-9a-f]+:\s+(.*)$", instruction)
    if not match:
        return ""
    text = match.group(1).strip()
    mnemonic = text.split()[0] if text else ""
    if re.search(r"%[yz]mm\d|%k[0-7]\b", text):
        return "256/512-bit or mask registers"
    if mnemonic.startswith("v") and mnemonic not in ("verr", "verw"):
        return "a VEX/EVEX instruction"
    if mnemonic.startswith(("pmovzx", "pmovsx")) or mnemonic in BEYOND_BASELINE:
        return "an instruction beyond SSE2"
    return ""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 only")
@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
def test_code_outside_the_dispatched_copies_is_x86_64_baseline():
    if _native.native_build():
        pytest.skip("built with EMBEDCORE_NATIVE=1 (-march=native)")
    objects = shared_objects()
    assert len(objects) >= 4, objects
    offenders = {}
    dispatched = 0
    for path in objects:
        listing = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", path], capture_output=True,
                                 text=True, check=True).stdout
        function = None
        for line in listing.splitlines():
            header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
            if header:
                function = header.group(1)
                continue
            if function is None or not line.startswith(" "):
                continue
            why = beyond_baseline(line)
            if not why:
                continue
            # the dispatched copies: named after their level (clones keep the name)
            if re.search(r"avx2|avx512", function):
                dispatched += 1
                continue
            offenders.setdefault(f"{os.path.basename(path)}: {function}", (why, line.strip()))
    assert not offenders, "\n".join(f"{k}: {v[0]}: {v[1]}" for k, v in list(offenders.items())[:30])
    assert dispatched > 0, "no AVX2/AVX-512 copy found: the scan did not see the dispatched code"


@pytest.mark.skipif(platform.system() != "Linux" or shutil.which("readelf") is None, reason="ELF and readelf")
def test_no_ifunc_symbols_so_the_wheels_load_on_musl():
    for path in shared_objects():
        symbols = subprocess.run(["readelf", "-sW", path], capture_output=True, text=True, check=True).stdout
        assert " IFUNC " not in symbols, f"{path} has IFUNC symbols (target_clones needs an ifunc-capable libc)"


def test_sgd_package_reexports_the_cython_modules():
    for name in ("word2vec_train_chunk", "word2vec_step", "word2vec_noise_table", "word2vec_keep_table",
                 "word2vec_stream_states", "glove_train_epoch", "glove_records", "WordCounter", "WordEncoder"):
        assert callable(getattr(_sgd, name)), name
