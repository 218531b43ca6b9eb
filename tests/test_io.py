"""embedcore._io: opening sources once (compression by magic bytes) and replacing files atomically."""
import bz2
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import threading

import pytest

from embedcore import _io

TEXT = b"the cat sat\non the mat\n" * 50


@pytest.fixture(params=["unnamed", "named"])
def temp_kind(request, monkeypatch):
    """Every write test runs with unnamed temporary files (Linux O_TMPFILE) and with named ones
    (the fallback elsewhere)."""
    if request.param == "named":
        monkeypatch.setattr(_io, "_HAS_TMPFILE", False)
    elif not _io._HAS_TMPFILE:
        pytest.skip("no O_TMPFILE here")
    return request.param


def feed_fifo(path, data):
    """A thread that writes `data` into the named pipe at `path` in small pieces."""
    def write():
        with open(path, "wb", buffering=0) as f:
            for i in range(0, len(data), 7):
                f.write(data[i:i + 7])
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


# ------------------------------------------------------------------------------------- reading
@pytest.mark.parametrize("name", ["plain.txt", "plain"])
def test_plain_files_read_as_they_are(tmp_path, name):
    (tmp_path / name).write_bytes(TEXT)
    with _io.open_source(tmp_path / name) as f:
        assert f.read() == TEXT
        assert f.compression is None and f.size == len(TEXT)


@pytest.mark.parametrize("compress,kind", [(gzip.compress, "gzip"), (bz2.compress, "bz2")])
@pytest.mark.parametrize("name", ["corpus.txt", "corpus.txt.gz", "corpus.txt.bz2"])
def test_compression_is_recognised_by_magic_bytes_whatever_the_name(tmp_path, compress, kind, name):
    (tmp_path / name).write_bytes(compress(TEXT))
    with _io.open_source(tmp_path / name) as f:
        assert f.compression == kind
        assert f.read() == TEXT


@pytest.mark.parametrize("name,kind", [("v.txt.gz", "gzip"), ("v.txt.bz2", "bz2")])
def test_a_compressed_suffix_on_plain_text_is_an_error_naming_the_file(tmp_path, name, kind):
    (tmp_path / name).write_bytes(TEXT)
    with pytest.raises(ValueError, match=f"{name}: corrupt or truncated {kind} data"):
        with _io.open_source(tmp_path / name) as f:
            f.read()


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_truncated_or_corrupt_compressed_data_is_a_valueerror_naming_the_file(tmp_path, compress):
    data = compress(os.urandom(50_000))
    (tmp_path / "cut").write_bytes(data[: len(data) // 2])
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0xFF
    (tmp_path / "bad").write_bytes(bytes(corrupt))
    for name in ("cut", "bad"):
        with pytest.raises(ValueError, match=f"{name}: corrupt or truncated"):
            with _io.open_source(tmp_path / name) as f:
                f.read()


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress, bz2.compress])
def test_a_named_pipe_is_opened_once_and_read_whole(tmp_path, compress):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = feed_fifo(fifo, compress(TEXT))
    with _io.open_source(fifo) as f:
        assert f.read() == TEXT and f.size is None
    writer.join(5)
    assert not writer.is_alive()


def test_short_files_shorter_than_the_magic_read_fine(tmp_path):
    for data in (b"", b"a", b"\x1f", b"BZh"):
        (tmp_path / "f").write_bytes(data)
        with _io.open_source(tmp_path / "f") as f:
            assert f.read() == data


def test_missing_files_and_directories_raise_oserrors(tmp_path):
    with pytest.raises(FileNotFoundError):
        _io.open_source(tmp_path / "none")
    with pytest.raises(IsADirectoryError):
        _io.open_source(tmp_path)
    with pytest.raises(TypeError, match="source must be a path"):
        _io.open_source(3, "source")


def test_anonymous_temp_files_have_no_name(tmp_path):
    with _io.anonymous_temp_file(tmp_path) as f:
        f.write(b"spill")
        assert os.listdir(tmp_path) == []
        f.seek(0)
        assert f.read() == b"spill"


# ------------------------------------------------------------------------------------- writing
def write(path, data, **kwargs):
    with _io.atomic_write(path, **kwargs) as f:
        f.write(data)


def test_atomic_write_creates_and_replaces(tmp_path, temp_kind):
    path = tmp_path / "out"
    write(path, b"one")
    write(path, b"two")
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["out"]


def test_text_mode_and_compression_by_name(tmp_path, temp_kind):
    write(tmp_path / "a.txt", "größe\n", mode="w")
    assert (tmp_path / "a.txt").read_bytes() == "größe\n".encode()
    write(tmp_path / "a.txt.gz", b"zip", compression="infer")
    assert gzip.decompress((tmp_path / "a.txt.gz").read_bytes()) == b"zip"
    write(tmp_path / "a.txt.bz2", b"bz", compression="infer")
    assert bz2.decompress((tmp_path / "a.txt.bz2").read_bytes()) == b"bz"
    with pytest.raises(ValueError, match="compression must be"):
        write(tmp_path / "x", b"", compression="zip")


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_an_error_while_writing_leaves_the_old_file_and_no_temporary_file(tmp_path, temp_kind, error):
    path = tmp_path / "out"
    path.write_bytes(b"old")
    with pytest.raises(type(error)):
        with _io.atomic_write(path) as f:
            f.write(b"partial")
            raise error
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out"]


def test_a_users_file_named_path_tmp_is_never_touched(tmp_path, temp_kind):
    (tmp_path / "out.tmp").write_bytes(b"mine")
    write(tmp_path / "out", b"new")
    with pytest.raises(OSError):
        with _io.atomic_write(tmp_path / "out") as f:
            raise OSError("fail")
    assert (tmp_path / "out.tmp").read_bytes() == b"mine"
    assert sorted(os.listdir(tmp_path)) == ["out", "out.tmp"]


def test_permissions_of_a_replaced_file_are_kept(tmp_path, temp_kind):
    path = tmp_path / "secret"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    write(path, b"new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    write(path, b"newer")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path, temp_kind):
    old = os.umask(0o027)
    try:
        write(tmp_path / "new", b"x")
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "fchown") or os.geteuid() != 0, reason="changing a file's group needs root")
def test_the_group_of_a_replaced_file_is_kept(tmp_path, temp_kind):
    path = tmp_path / "shared"
    path.write_bytes(b"old")
    os.chown(path, -1, 4242)
    os.chmod(path, 0o640)
    write(path, b"new")
    info = os.stat(path)
    assert info.st_gid == 4242 and stat.S_IMODE(info.st_mode) == 0o640


def test_when_the_group_cannot_be_kept_group_access_is_dropped_not_widened(tmp_path, temp_kind, monkeypatch):
    path = tmp_path / "shared"
    path.write_bytes(b"old")
    os.chmod(path, 0o664)
    monkeypatch.setattr(os, "getegid", lambda: os.stat(path).st_gid + 1)  # "not our group"

    def refuse(*args):
        raise PermissionError("not a member")
    monkeypatch.setattr(os, "fchown", refuse)
    write(path, b"new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604


def test_a_symlink_is_written_through(tmp_path, temp_kind):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "vectors"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    link = tmp_path / "link"
    link.symlink_to(target)
    write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new" and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(tmp_path / "real") == ["vectors"]


def test_a_dangling_symlink_creates_its_target(tmp_path, temp_kind):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target")
    write(link, b"new")
    assert link.is_symlink() and (tmp_path / "target").read_bytes() == b"new"


def test_a_target_that_is_not_a_regular_file_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    write(fifo, b"through the pipe")
    reader.join(5)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_missing_directory_raises_and_creates_nothing(tmp_path, temp_kind):
    with pytest.raises(FileNotFoundError):
        write(tmp_path / "nowhere" / "f", b"x")
    assert os.listdir(tmp_path) == []


SIGTERM_CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
from embedcore import _io
if {named}:
    _io._HAS_TMPFILE = False
with _io.atomic_write({path!r}) as f:
    f.write(b"x" * 1_000_000)
    print("writing", flush=True)
    time.sleep(30)
"""


@pytest.mark.parametrize("named", [False, True])
def test_sigterm_while_writing_removes_the_temporary_file_and_ends_the_process(tmp_path, named):
    path = tmp_path / "out"
    path.write_bytes(b"old")
    root = os.path.dirname(os.path.dirname(_io.__file__))
    child = subprocess.Popen([sys.executable, "-c", SIGTERM_CHILD.format(root=root, path=str(path), named=named)],
                             stdout=subprocess.PIPE, cwd=root)
    assert child.stdout.readline() == b"writing\n"
    child.send_signal(signal.SIGTERM)
    assert child.wait(10) == -signal.SIGTERM
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out"]


def test_signals_during_the_renames_wait_until_they_are_done(tmp_path, monkeypatch):
    path = tmp_path / "out"
    path.write_bytes(b"old")
    real_replace = os.replace

    def interrupted_replace(a, b):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C right at the rename
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        write(path, b"new")
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out"]


# ------------------------------------------------------------------------------ sets of files
def paths_of(tmp_path):
    return [str(tmp_path / "c.a"), str(tmp_path / "c.b")], str(tmp_path / ".c.commit")


def write_set(tmp_path, contents):
    paths, journal = paths_of(tmp_path)
    with _io.atomic_write_many(paths, journal) as files:
        for f, data in zip(files, contents):
            f.write(data)


def read_set(tmp_path):
    paths, journal = paths_of(tmp_path)
    return [open(p, "rb").read() for p in _io.recover_many(paths, journal)]


def test_a_set_is_written_together(tmp_path, temp_kind):
    write_set(tmp_path, [b"a1", b"b1"])
    write_set(tmp_path, [b"a2", b"b2"])
    assert read_set(tmp_path) == [b"a2", b"b2"]
    assert sorted(os.listdir(tmp_path)) == ["c.a", "c.b"]


def test_a_failure_on_the_second_file_leaves_the_whole_old_set(tmp_path, temp_kind):
    write_set(tmp_path, [b"a1", b"b1"])
    paths, journal = paths_of(tmp_path)
    with pytest.raises(OSError, match="No space"):
        with _io.atomic_write_many(paths, journal) as (a, b):
            a.write(b"a2")
            raise OSError(28, "No space left on device")
    assert read_set(tmp_path) == [b"a1", b"b1"]
    assert sorted(os.listdir(tmp_path)) == ["c.a", "c.b"]


def test_a_crash_after_the_commit_point_is_finished_by_the_next_load(tmp_path, temp_kind, monkeypatch):
    write_set(tmp_path, [b"a1", b"b1"])
    real_replace = os.replace

    def crash_after_first_rename(a, b):
        if b.endswith("c.b"):  # the journal and c.a are in place: the process "dies" now
            raise SystemExit("killed")
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", crash_after_first_rename)
    with pytest.raises(SystemExit):
        write_set(tmp_path, [b"a2", b"b2"])
    monkeypatch.setattr(os, "replace", real_replace)
    assert open(tmp_path / "c.a", "rb").read() == b"a2"  # the mix on disk...
    assert read_set(tmp_path) == [b"a2", b"b2"]  # ...is never what a load sees
    assert sorted(os.listdir(tmp_path)) == ["c.a", "c.b"]


KILLED_CHILD = """
import os, sys
sys.path.insert(0, {root!r})
from embedcore import _io
if {named}:
    _io._HAS_TMPFILE = False
real, calls = _io._fsync_directory, []
def die_at_the_second(directory):
    calls.append(directory)
    if len(calls) == {at}:
        os._exit(9)  # as SIGKILL: no cleanup runs
    real(directory)
_io._fsync_directory = die_at_the_second
with _io.atomic_write_many({paths!r}, {journal!r}) as (a, b):
    a.write(b"a2")
    b.write(b"b2")
"""


@pytest.mark.parametrize("at, expected", [(2, [b"a1", b"b1"]), (3, [b"a2", b"b2"])],
                         ids=["temporary files named, not committed", "committed, not renamed"])
@pytest.mark.parametrize("named", [False, True])
def test_a_save_killed_anywhere_is_settled_by_the_next_load(tmp_path, at, expected, named):
    write_set(tmp_path, [b"a1", b"b1"])
    paths, journal = paths_of(tmp_path)
    root = os.path.dirname(os.path.dirname(_io.__file__))
    code = KILLED_CHILD.format(root=root, named=named, at=at, paths=paths, journal=journal)
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 9
    assert len(os.listdir(tmp_path)) > 2  # the named temporary files and records it left
    assert read_set(tmp_path) == expected
    assert sorted(os.listdir(tmp_path)) == ["c.a", "c.b"]


def test_a_load_that_cannot_finish_the_renames_reads_the_new_files_where_they_are(tmp_path, monkeypatch):
    write_set(tmp_path, [b"a1", b"b1"])
    (tmp_path / ".c.b.0123456789ab.tmp").write_bytes(b"b2")
    (tmp_path / ".c.commit").write_text(json.dumps({"embedcore_commit": [[".c.b.0123456789ab.tmp", "c.b"]]}))

    def read_only(*args):
        raise PermissionError("read-only")
    monkeypatch.setattr(os, "replace", read_only)
    assert read_set(tmp_path) == [b"a1", b"b2"]


def test_a_foreign_file_where_the_journal_goes_is_an_error(tmp_path):
    (tmp_path / ".c.commit").write_text("my notes")
    with pytest.raises(ValueError, match="not a commit journal"):
        read_set(tmp_path)


@pytest.mark.parametrize("entries", [
    [[".c.b.0123456789ab.tmp", "../elsewhere"]],    # a target outside the set
    [["victim", "c.b"]],                             # a source that is no temporary file of ours
    [["sub/.c.b.0123456789ab.tmp", "c.b"]],          # a temporary file in another directory
    [[".c.b.0123456789ab.tmp", "c.b"], [".c.b.0123456789ac.tmp", "c.b"]],  # one target twice
])
def test_a_crafted_journal_moves_nothing(tmp_path, entries):
    write_set(tmp_path, [b"a1", b"b1"])
    (tmp_path / "victim").write_bytes(b"keep")
    (tmp_path / ".c.b.0123456789ab.tmp").write_bytes(b"x")
    (tmp_path / ".c.commit").write_text(json.dumps({"embedcore_commit": entries}))
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ValueError, match="names files other than this save's"):
        read_set(tmp_path)
    assert sorted(os.listdir(tmp_path)) == before and (tmp_path / "victim").read_bytes() == b"keep"
