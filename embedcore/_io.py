"""Files in and out: the one place that opens what we read and replaces what we write.

Reading: :func:`open_source` opens a path once, sniffs gzip or bz2 by its magic bytes (then by its
suffix) from that one stream, and returns a buffered binary reader over the decompressed bytes.
Corrupt compressed data raises ValueError naming the path.

Writing: :func:`atomic_write` (one file) and :func:`atomic_write_many` (a set of files that must
change together) write to temporary files in the target's directory and replace the targets only
when everything is written and on disk:

- the temporary file has no name while it is written where the system allows it (Linux
  ``O_TMPFILE``), so even SIGKILL leaves nothing behind; elsewhere it is a hidden file with a
  unique name (``.NAME.RANDOM.tmp``), removed on any exception, Ctrl-C and SIGTERM. A user's file
  named ``NAME.tmp`` is never touched;
- a replaced file keeps its permission bits and group (and its owner when run as root); when the
  group cannot be kept the group bits are dropped, never widened; a new file gets the mode
  ``open()`` would give it (0666 less the umask);
- a symlink is written through: the link stays, its target is replaced;
- the data is fsynced, renamed over the target, and the directory fsynced;
- a target that exists and is not a regular file (``/dev/stdout``, a pipe) is written directly.

A set of files (:func:`atomic_write_many`) is all-or-nothing: every temporary file is written and
fsynced first; then a record (``.NAME.commit.prepared``) naming each temporary file and its target
is put in place, the temporary files get those hidden names, and the commit journal
(``.NAME.commit``, the same list) is put in place: the commit point; then each temporary file is
renamed over its target and both records are removed. Interrupted before the commit point, the
old files are untouched; whatever a killed save left, :func:`recover_many` (called by the loaders
and by the next save) settles it: it removes the named temporary files of a save that never
committed and finishes the renames of one that did, so a reader sees the old set or the new set,
never a mix. Ctrl-C and SIGTERM that arrive during these steps are held until they are done.

Spill files: :func:`anonymous_temp_file` opens a read-write file that has no name, so it
disappears when closed or when the process dies, however it dies.
"""
import bz2
import contextlib
import gzip
import io
import json
import os
import re
import secrets
import signal
import stat
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from typing import IO, Any

from embedcore._validation import check_path

_GZIP_MAGIC = b"\x1f\x8b\x08"
# "BZh", the block size digit, then the magic of the first block or of the end of the stream
_BZ2_PREFIX = b"BZh"
_BZ2_BLOCK_MAGICS = (b"1AY&SY", b"\x17rE8P\x90")
_MAGIC_BYTES = 10
_SUFFIXES = {".gz": "gzip", ".bz2": "bz2"}
_READ_BUFFER_BYTES = 1 << 16


# ------------------------------------------------------------------------------------------ reading
def compression_of_name(path: "str | os.PathLike[str]") -> str | None:
    """'gzip' for a name ending in .gz, 'bz2' for .bz2, else None (how writers choose)."""
    return _SUFFIXES.get(os.path.splitext(os.fspath(path))[1].lower())


def _compression_of_magic(prefix):
    if prefix.startswith(_GZIP_MAGIC):
        return "gzip"
    if (len(prefix) >= 10 and prefix.startswith(_BZ2_PREFIX) and prefix[3:4].isdigit()
            and prefix[3:4] != b"0" and prefix[4:10] in _BZ2_BLOCK_MAGICS):
        return "bz2"
    return None


class _Prefixed(io.RawIOBase):
    """A non-seekable raw stream with the bytes already read from it put back in front."""

    def __init__(self, raw, prefix):
        self._raw, self._prefix = raw, prefix

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        return self._raw.readinto(buffer)

    def close(self):
        self._raw.close()
        super().close()


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a gzip or bz2 stream; corrupt or truncated data raises ValueError
    naming the path and how many decompressed bytes came before the damage."""

    def __init__(self, path, compression, stream, closing):
        self._path, self._compression = path, compression
        self._stream, self._closing = stream, closing
        self._offset = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        try:
            n = self._stream.readinto(buffer)
        except (EOFError, zlib.error, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real I/O error, not bad data
            raise ValueError(f"{self._path}: corrupt or truncated {self._compression} data after byte "
                             f"{self._offset} of the decompressed text ({exc})") from exc
        self._offset += n
        return n

    def close(self):
        try:
            self._stream.close()
        finally:
            self._closing.close()
            super().close()


class Source(io.BufferedReader):
    """A buffered binary reader from :func:`open_source`.

    Attributes
    ----------
    path : str
    compression : {'gzip', 'bz2', None}
    size : int or None
        Bytes of the file on disk when it is a regular file (compressed size for a compressed
        file), else None (a pipe).
    """

    path: str
    compression: str | None
    size: int | None


def _read_prefix(raw, n):
    prefix = b""
    while len(prefix) < n:
        more = raw.read(n - len(prefix))
        if not more:
            break
        prefix += more
    return prefix


def open_source(path: object, name: str = "path") -> "Source":
    """Open a file for reading bytes, decompressing gzip and bz2.

    The compression is recognised by the file's magic bytes, else by its suffix (so a gzipped
    ``corpus.txt`` reads, and a ``.gz`` file that is not gzip is an error, not text). The path is
    opened exactly once and the magic bytes are read from that stream, so named pipes and other
    one-shot files work.

    Parameters
    ----------
    path : str or os.PathLike
    name : str
        The argument's name, for error messages.

    Returns
    -------
    Source
        A buffered binary reader (a context manager); ``.compression`` and ``.size`` tell what it
        reads.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        The path cannot be opened.
    ValueError
        While reading: corrupt or truncated compressed data (the message names the path).

    Examples
    --------
    >>> with open_source("corpus.txt.gz") as f:  # doctest: +SKIP
    ...     first_line = f.readline()
    """
    path = check_path(path, name)
    raw = open(path, "rb", buffering=0)
    try:
        info = os.fstat(raw.fileno())
        prefix = _read_prefix(raw, _MAGIC_BYTES)
        compression = _compression_of_magic(prefix) or compression_of_name(path)
        if raw.seekable():
            raw.seek(0)
            base = raw
        else:
            base = _Prefixed(raw, prefix)
        if compression is None:
            stream = Source(base, _READ_BUFFER_BYTES)
        else:
            packed = io.BufferedReader(base, _READ_BUFFER_BYTES)
            opener = gzip.GzipFile(fileobj=packed, mode="rb") if compression == "gzip" else bz2.BZ2File(packed, "rb")
            stream = Source(_Decompressed(path, compression, opener, packed), _READ_BUFFER_BYTES)
    except BaseException:
        raw.close()
        raise
    stream.path = path
    stream.compression = compression
    stream.size = info.st_size if stat.S_ISREG(info.st_mode) else None
    return stream


def is_regular_file(path: "str | os.PathLike[str]") -> bool:
    """Whether `path` is a regular file (or a link to one): a source that can be read twice."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def anonymous_temp_file(dir: "str | os.PathLike[str] | None" = None) -> io.BufferedRandom:
    """A new read-write binary file without a name, for spilling data to disk.

    The file is created in `dir` (default: ``tempfile.gettempdir()``) and has no name from the
    start (or from right after its creation on systems without Linux's ``O_TMPFILE``), so the
    system frees it when it is closed or when the process ends, even by SIGKILL.

    Examples
    --------
    >>> with anonymous_temp_file() as f:
    ...     _ = f.write(b"spilled")
    ...     _ = f.seek(0)
    ...     f.read()
    b'spilled'
    """
    return tempfile.TemporaryFile(mode="w+b", dir=dir, prefix="embedcore-spill-")


# ------------------------------------------------------------------------------------------ writing
_HAS_TMPFILE = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class _Terminated(BaseException):
    """SIGTERM arrived while a temporary file was open: unwind, remove it, then die by SIGTERM."""


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _sigterm_unwinds():
    """While writing: SIGTERM (at its default action, in the main thread) unwinds the stack so the
    temporary files are removed, then the process ends by SIGTERM as it would have."""
    if not _in_main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def unwind(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
        raise  # pragma: no cover - the process has ended
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM wait until the block (a few renames) is done, then act as they would
    have (main thread only: Python runs signal handlers nowhere else)."""
    if not _in_main_thread():
        yield
        return
    pending, previous = [], {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is not None:  # None: installed outside Python; leave it alone
            previous[signum] = handler
            signal.signal(signum, lambda s, frame: pending.append(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # not possible here (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unique_name(directory, base):
    return os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")


class _Replacement:
    """The new content of one target file, written to a temporary file next to it."""

    def __init__(self, path):
        self.path = path
        # write through a symlink: replace what it points to
        self.target = os.path.realpath(path) if os.path.islink(path) else path
        self.directory = os.path.dirname(os.path.abspath(self.target))
        self.base = os.path.basename(self.target)
        self.name = None  # the temporary file's name, once it has one
        try:
            old = os.stat(self.target)
        except FileNotFoundError:
            old = None
        self.direct = old is not None and not stat.S_ISREG(old.st_mode)
        if self.direct:  # a device or a pipe: nothing to replace atomically
            self.file = open(self.target, "wb")
            return
        mode = 0o666 if old is None else 0o600  # 0o666: the umask applies, as open() does
        fd = None
        if _HAS_TMPFILE:
            try:
                fd = os.open(self.directory, os.O_TMPFILE | os.O_WRONLY | _CLOEXEC, mode)
            except OSError:  # a file system without O_TMPFILE, or a missing directory
                fd = None
        if fd is None:
            name = _unique_name(self.directory, self.base)
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, mode)
            self.name = name
        try:
            if old is not None:
                self._copy_ownership(fd, old)
            self.file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            self.discard()
            raise

    @staticmethod
    def _copy_ownership(fd, old):
        mode = stat.S_IMODE(old.st_mode)
        if hasattr(os, "fchown"):
            uid = old.st_uid if os.geteuid() == 0 else -1
            if old.st_gid != os.getegid() or uid != -1:
                try:
                    os.fchown(fd, uid, old.st_gid)
                except OSError:  # not a member of that group: never widen access
                    mode &= ~(stat.S_IRWXG | stat.S_ISGID)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)

    def flush(self):
        """Everything written reaches the disk."""
        self.file.flush()
        if not self.direct:
            os.fsync(self.file.fileno())

    def materialize(self, name=None):
        """Give an unnamed temporary file a name in the target's directory (`name`, or a new
        unique one); returns the name."""
        if self.name is None:
            name = name or _unique_name(self.directory, self.base)
            directory_fd = os.open(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.link(f"/proc/self/fd/{self.file.fileno()}", os.path.basename(name),
                        dst_dir_fd=directory_fd, follow_symlinks=True)
            finally:
                os.close(directory_fd)
            self.name = name
        return self.name

    def replace(self):
        """Put the new content in place of the target (one atomic step)."""
        if self.direct:
            return
        if self.name is None and not os.path.lexists(self.target):
            try:  # a new file: link it under its final name, nothing to rename
                self.materialize(self.target)
                self.name = None
                return
            except FileExistsError:
                pass
        os.replace(self.materialize(), self.target)
        self.name = None

    def discard(self):
        """Close and remove the temporary file (safe to call twice)."""
        file = getattr(self, "file", None)
        if file is not None:
            try:
                file.close()
            except OSError:
                pass
        if self.name is not None:
            try:
                os.unlink(self.name)
            except FileNotFoundError:
                pass
            self.name = None

    def close(self):
        self.file.close()


def _compressed_writer(file, compression, path):
    if compression == "gzip":
        name = os.path.basename(path)
        return gzip.GzipFile(filename=name[:-3] if name.endswith(".gz") else name, mode="wb", fileobj=file)
    return bz2.BZ2File(file, "wb")


@contextlib.contextmanager
def atomic_write(path: "str | os.PathLike[str]", mode: str = "wb", encoding: str = "utf-8",
                 compression: str | None = None, name: str = "path") -> Iterator[IO[Any]]:
    """Write a file so that it is either completely replaced or left untouched.

    See the module notes for what is guaranteed (temporary file, permissions, symlinks, fsync,
    signals).

    Parameters
    ----------
    path : str or os.PathLike
    mode : {'wb', 'w'}
        Bytes, or text in `encoding`.
    encoding : str
        For text mode.
    compression : {None, 'gzip', 'bz2', 'infer'}
        Compress what is written; 'infer' chooses by the suffix (.gz, .bz2) as readers do.
    name : str
        The argument's name, for error messages.

    Yields
    ------
    file object
        Write to it inside the ``with`` block; the target changes only when the block ends
        without an exception.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_write(path, "w") as f:
    ...     _ = f.write("done\\n")
    >>> open(path).read()
    'done\\n'
    """
    path = check_path(path, name)
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    if compression == "infer":
        compression = compression_of_name(path)
    if compression not in (None, "gzip", "bz2"):
        raise ValueError(f"compression must be 'gzip', 'bz2', 'infer' or None, got {compression!r}")
    with _sigterm_unwinds():
        replacement = _Replacement(path)
        text = packed = None
        try:
            stream = replacement.file
            packed = _compressed_writer(stream, compression, path) if compression else None
            stream = packed or stream
            text = io.TextIOWrapper(stream, encoding=encoding, newline="\n") if mode == "w" else None
            yield text or stream
            if text is not None:
                text.flush()
                text.detach()
                text = None
            if packed is not None:
                packed.close()
                packed = None
            replacement.flush()
            with _signals_held():
                replacement.replace()
                replacement.close()
                if not replacement.direct:
                    _fsync_directory(replacement.directory)
        except BaseException:
            for layer in (text, packed):  # closed quietly: the temporary file goes anyway
                if layer is not None:
                    with contextlib.suppress(Exception):
                        layer.close()
            replacement.discard()
            raise


def _journal_entries(journal, pairs):
    """[[temporary, target], ...] relative to the journal's directory, as the journal stores them."""
    here = os.path.dirname(os.path.abspath(journal))
    return [[os.path.relpath(os.path.abspath(a), here), os.path.relpath(_resolved(b), here)] for a, b in pairs]


def _resolved(path):
    """The file a write to `path` replaces: the target of a symlink, as an absolute path."""
    return os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)


def _is_temporary_name_of(temporary, target):
    """Whether `temporary` is a name `_unique_name` could give a temporary file of `target`."""
    directory, base = os.path.split(target)
    return (os.path.dirname(temporary) == directory
            and re.fullmatch(r"\.%s\.[0-9a-f]{12}\.tmp" % re.escape(base), os.path.basename(temporary)) is not None)


def _read_journal(journal, paths):
    """The (temporary, target) absolute path pairs of a commit journal, or None without one.

    A journal is obeyed only when it names targets of `paths` and, for each, a temporary file
    next to it with the name a save gives: a crafted journal cannot move other files.
    """
    try:
        with open(journal, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    here = os.path.dirname(os.path.abspath(journal))
    expected = {_resolved(p) for p in paths}
    try:
        entries = json.loads(data.decode("utf-8"))["embedcore_commit"]
        pairs = [(os.path.normpath(os.path.join(here, a)), os.path.normpath(os.path.join(here, b)))
                 for a, b in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{journal}: not a commit journal written by embedcore; move it away "
                         f"({type(exc).__name__}: {exc})") from None
    targets = [target for _, target in pairs]
    if len(set(targets)) != len(targets) or not all(
            target in expected and _is_temporary_name_of(temporary, target) for temporary, target in pairs):
        raise ValueError(f"{journal}: a commit journal that names files other than this save's; move it away")
    return pairs


def _prepared(journal):
    """The record a save writes before naming its temporary files."""
    return journal + ".prepared"


def recover_many(paths: "Sequence[str]", journal: str) -> list[str]:
    """The paths to read a file set from, after settling a save that was interrupted.

    A save interrupted after its commit point (the journal exists) is finished: the renames it
    lists are completed and the journal removed; when that is not possible (a read-only
    directory), the new files are read where they are. A save interrupted between naming its
    temporary files and its commit point (only the ``.prepared`` record exists) is undone: the
    temporary files it names are removed. Without either record this is `paths` itself.

    Parameters
    ----------
    paths : sequence of str
    journal : str
        The journal path the save used.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        A record that is not one a save of these files wrote (nothing is touched).
    """
    committed = _read_journal(journal, paths)
    prepared = _read_journal(_prepared(journal), paths)
    if committed is None and prepared is None:
        return list(paths)
    try:
        with _signals_held():
            if committed is not None:  # past the commit point: the new set wins
                for temporary, target in committed:
                    if os.path.lexists(temporary):
                        os.replace(temporary, target)
                for directory in {os.path.dirname(t) for _, t in committed}:
                    _fsync_directory(directory)
                os.unlink(journal)
            else:  # never committed: the old set stays, the new files go
                for temporary, _ in prepared:
                    if os.path.lexists(temporary):
                        os.unlink(temporary)
            if prepared is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(_prepared(journal))
            # where temporary files have names from the start, the records' own may be left too
            here = os.path.dirname(os.path.abspath(journal))
            for name in os.listdir(here):
                name = os.path.join(here, name)
                if _is_temporary_name_of(name, os.path.abspath(journal)) or _is_temporary_name_of(
                        name, os.path.abspath(_prepared(journal))):
                    os.unlink(name)
            _fsync_directory(here)
        return list(paths)
    except OSError:
        if committed is None:
            return list(paths)
        pending = {target: temporary for temporary, target in committed if os.path.lexists(temporary)}
        return [pending.get(_resolved(p), p) for p in paths]


@contextlib.contextmanager
def atomic_write_many(paths: "Sequence[str]", journal: str) -> Iterator[list[IO[bytes]]]:
    """Write several files that change together: all of them, or none.

    The scheme (see the module notes): write and fsync every temporary file; put a record
    naming each (temporary, target) pair in place (``JOURNAL.prepared``); give each temporary
    file that hidden name next to its target; put the journal (the same pairs) in place: the
    commit point; rename each temporary file over its target; remove the journal, then the
    record. Both records are created whole in one step (on Linux they are linked from unnamed
    files), so a process killed anywhere leaves a state that :func:`recover_many`, called by every
    loader and by the next save, settles: undone before the commit point, finished after it.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The target files.
    journal : str or os.PathLike
        Where the commit journal goes (by convention ``.NAME.commit`` next to the files).

    Yields
    ------
    list of binary file objects, one per path.

    Examples
    --------
    >>> import os, tempfile
    >>> base = os.path.join(tempfile.mkdtemp(), "pair")
    >>> with atomic_write_many([base + ".a", base + ".b"], base + ".commit") as (a, b):
    ...     _ = a.write(b"1"), b.write(b"2")
    >>> open(base + ".a").read() + open(base + ".b").read()
    '12'
    """
    paths = [check_path(p, f"paths[{i}]") for i, p in enumerate(paths)]
    journal = check_path(journal, "journal")
    recover_many(paths, journal)
    with _sigterm_unwinds():
        replacements = []
        prepared = committed = False
        try:
            for p in paths:
                replacements.append(_Replacement(p))
            yield [r.file for r in replacements]
            for r in replacements:
                r.flush()
            staged = [r for r in replacements if not r.direct]
            names = [r.name or _unique_name(r.directory, r.base) for r in staged]
            content = json.dumps({"embedcore_commit": _journal_entries(
                journal, [(n, r.target) for n, r in zip(names, staged)])}).encode("utf-8")
            records = []
            for record_path in (_prepared(journal), journal):
                record = _Replacement(record_path)
                replacements.append(record)
                record.file.write(content)
                record.flush()
                records.append(record)
            directories = {r.directory for r in staged}
            with _signals_held():
                records[0].replace()
                prepared = True  # from here on recover_many can undo what follows
                _fsync_directory(records[0].directory)
                for r, name in zip(staged, names):
                    r.materialize(name)
                for directory in directories:
                    _fsync_directory(directory)
                records[1].replace()
                committed = True  # the journal is in place: from here on the new set wins
                for r in staged:
                    os.replace(r.name, r.target)
                    r.name = None
                for directory in directories | {records[1].directory}:
                    _fsync_directory(directory)
                os.unlink(journal)
                os.unlink(_prepared(journal))
                _fsync_directory(records[1].directory)
            for r in replacements:
                r.close()
        except BaseException:
            if committed:  # keep what the journal names: the next load or save finishes the renames
                for r in replacements:
                    r.name = None
            for r in replacements:
                r.discard()
            if prepared and not committed:
                with contextlib.suppress(OSError):
                    os.unlink(_prepared(journal))
            raise
