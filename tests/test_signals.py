"""Signals at random points of training, counting and saving, in a child process.

Each case starts a child that repeats one kind of work forever (a save alternating between two
contents, a spilling co-occurrence count, training then saving, the `train` command), waits a
random time after the child says it is working, and sends SIGINT, SIGTERM or SIGKILL. Afterwards
the outputs must be whole (the old content or a complete new one, never a mix or a partial file)
and neither the output folder nor the temporary folder may hold a leftover file. A loader
finishing a multi-file save that was killed after its commit point counts as whole (that is the
design: see embedcore._io).

The delays come from a seeded generator; EMBEDCORE_SIGNAL_TRIALS=N runs N random points per case
(default 1) for a longer stress run.
"""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import embedcore as ec

TRIALS = int(os.environ.get("EMBEDCORE_SIGNAL_TRIALS", "1"))
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
PACKAGE_ROOT = os.path.dirname(os.path.dirname(ec.__file__))

PRELUDE = """
import os, sys
import numpy as np
import embedcore as ec
out, data = sys.argv[1], sys.argv[2]
def ready():
    print("ready", flush=True)
"""

CHILDREN = {
    # word2vec text and binary files, alternating between two contents
    "save vectors": """
a = ec.KeyedVectors.load_word2vec_format(os.path.join(data, "a.txt"))
b = ec.KeyedVectors.load_word2vec_format(os.path.join(data, "b.txt"))
ready()
while True:
    for kv in (b, a):
        kv.save_word2vec_format(os.path.join(out, "vectors.txt"))
        kv.save_word2vec_format(os.path.join(out, "vectors.bin.gz"), binary=True)
""",
    # a corpus (three files together) and a vocabulary, alternating between two contents
    "save corpus": """
a = ec.EncodedCorpus.load(os.path.join(data, "a"), mmap=False)
b = ec.EncodedCorpus.load(os.path.join(data, "b"), mmap=False)
va, vb = ec.Vocab.load(os.path.join(data, "a.vocab")), ec.Vocab.load(os.path.join(data, "b.vocab"))
ready()
while True:
    for corpus, vocab in ((b, vb), (a, va)):
        corpus.save(os.path.join(out, "corpus"))
        vocab.save(os.path.join(out, "vocab.txt"))
""",
    # a co-occurrence count that spills to the temporary folder
    "count": """
corpus = ec.EncodedCorpus.load(os.path.join(data, "a"), mmap=False)
ready()
while True:
    ec.cooccurrence(corpus, 3000, window=5, max_memory=300_000, workers=1)
""",
    # training, then saving what was trained
    "train": """
corpus = ec.EncodedCorpus.load(os.path.join(data, "a"), mmap=False)
vocab = ec.Vocab.load(os.path.join(data, "a.vocab"))
ready()
while True:
    model = ec.Word2Vec(vector_size=16, epochs=1, workers=1, min_count=1).fit(corpus, vocab=vocab)
    if model.stats.get("interrupted"):  # Ctrl-C stopped training early: a script would stop here
        raise SystemExit(130)
    model.wv.save_word2vec_format(os.path.join(out, "vectors.bin"), binary=True)
""",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two versions of every output, saved once: what a child writes and what is checked."""
    folder = tmp_path_factory.mktemp("signal-data")
    rng = np.random.default_rng(0)
    for name, n in (("a", 20_000), ("b", 15_000)):
        words = [f"{name}{i}" for i in range(n)]
        ec.KeyedVectors(words, rng.standard_normal((n, 20)).astype(np.float32)).save_word2vec_format(
            folder / f"{name}.txt")
    synth = ec.datasets.synthetic_corpus(300_000, 3000, seed=1)
    synth.corpus.save(folder / "a")
    synth.vocab.save(folder / "a.vocab")
    ec.EncodedCorpus(synth.corpus.ids[:100_000] % 50, [0, 60_000, 100_000]).save(folder / "b")
    ec.Vocab([f"w{i}" for i in range(50)], np.arange(50, 0, -1)).save(folder / "b.vocab")
    return folder


def start_child(kind, out, data, tmpdir):
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(CHILDREN[kind])
    env = dict(os.environ, TMPDIR=str(tmpdir), OMP_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, "-c", script, str(out), str(data)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=PACKAGE_ROOT)
    line = child.stdout.readline()
    if line != b"ready\n":
        child.kill()
        raise AssertionError(f"child did not start: {line!r} {child.stderr.read().decode()[-2000:]}")
    return child


def same_vectors(kv, other):
    return kv.words == other.words and np.array_equal(kv.vectors, other.vectors)


def check_outputs(kind, out, data):
    """Every output is one of the complete versions; returns the files the folder may hold."""
    if kind == "save vectors":
        versions = [ec.KeyedVectors.load_word2vec_format(data / f"{v}.txt") for v in ("a", "b")]
        text = ec.KeyedVectors.load_word2vec_format(out / "vectors.txt")
        binary = ec.KeyedVectors.load_word2vec_format(out / "vectors.bin.gz", binary=True)
        assert any(same_vectors(text, v) for v in versions) and any(same_vectors(binary, v) for v in versions)
        return {"vectors.txt", "vectors.bin.gz"}
    if kind == "save corpus":
        back = ec.EncodedCorpus.load(out / "corpus", mmap=False)  # finishes a save killed after its commit
        versions = [ec.EncodedCorpus.load(data / v, mmap=False) for v in ("a", "b")]
        assert any(np.array_equal(back.ids, v.ids) and np.array_equal(back.offsets, v.offsets)
                   and back.raw_tokens == v.raw_tokens for v in versions), "a mix of two corpora"
        vocab = ec.Vocab.load(out / "vocab.txt")
        assert vocab.words in ([f"w{i}" for i in range(50)], ec.Vocab.load(data / "a.vocab").words)
        return {"corpus.ids.npy", "corpus.offsets.npy", "corpus.raw_tokens.npy", "vocab.txt"}
    if kind == "count":
        return set()
    kv = ec.KeyedVectors.load_word2vec_format(out / "vectors.bin", binary=True)
    assert len(kv) == 3000 and kv.vector_size in (16, 20)  # the old file (20) or a complete new one
    return {"vectors.bin"}


def seed_outputs(kind, out, data):
    """The outputs as they are before the child starts (the 'old' version)."""
    if kind == "save vectors":
        kv = ec.KeyedVectors.load_word2vec_format(data / "a.txt")
        kv.save_word2vec_format(out / "vectors.txt")
        kv.save_word2vec_format(out / "vectors.bin.gz", binary=True)
    elif kind == "save corpus":
        ec.EncodedCorpus.load(data / "a").save(out / "corpus")
        ec.Vocab.load(data / "a.vocab").save(out / "vocab.txt")
    elif kind == "train":
        words = ec.Vocab.load(data / "a.vocab").words
        ec.KeyedVectors(words, np.ones((len(words), 20), np.float32)).save_word2vec_format(out / "vectors.bin",
                                                                                          binary=True)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("kind", sorted(CHILDREN))
def test_a_signal_at_a_random_point_leaves_whole_outputs_and_no_temporary_file(tmp_path, data, kind, signum):
    rng = random.Random(f"{kind}-{signum}")
    for trial in range(TRIALS):
        out, tmpdir = tmp_path / f"out{trial}", tmp_path / f"tmp{trial}"
        out.mkdir()
        tmpdir.mkdir()
        seed_outputs(kind, out, data)
        child = start_child(kind, out, data, tmpdir)
        try:
            time.sleep(rng.uniform(0.05, 1.5))
            child.send_signal(signum)
            status = child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
            child.stdout.close()
            stderr = child.stderr.read().decode()
            child.stderr.close()
        assert status != 0, "the child should have been stopped by the signal"
        assert "Segmentation fault" not in stderr and status != -signal.SIGSEGV
        expected = check_outputs(kind, out, data)
        assert set(os.listdir(out)) == expected, f"leftover files: {set(os.listdir(out)) - expected}"
        assert os.listdir(tmpdir) == [], f"leftover temporary files: {os.listdir(tmpdir)}"


@pytest.fixture(scope="module")
def corpus_text(tmp_path_factory):
    path = tmp_path_factory.mktemp("signal-text") / "corpus.txt"
    ec.datasets.synthetic_corpus(400_000, 3000, seed=2).write_text(path)
    return path


def test_ctrl_c_during_cli_training_exits_130_and_leaves_the_previous_vectors(tmp_path, corpus_text):
    # before, the partly trained vectors replaced prev.bin and the command exited 0
    prev = tmp_path / "prev.bin"
    prev.write_bytes(b"previous vectors")
    child = subprocess.Popen(
        [sys.executable, "-m", "embedcore", "train", str(corpus_text), "--model", "sgns", "--epochs", "50",
         "--workers", "1", "--min-count", "1", "-o", str(prev)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PACKAGE_ROOT, env=dict(os.environ, TMPDIR=str(tmp_path)))
    # wait until training has started (the first epoch's log line), then interrupt
    deadline = time.monotonic() + 60
    seen = b""
    while b"epoch 1/" not in seen.lower() and time.monotonic() < deadline:
        chunk = child.stderr.readline()
        if not chunk:
            break
        seen += chunk
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, (seen + err).decode()[-2000:]
    assert prev.read_bytes() == b"previous vectors"
    assert "interrupted" in err.decode() and "Traceback" not in err.decode()
    assert sorted(os.listdir(tmp_path)) == ["prev.bin"]
