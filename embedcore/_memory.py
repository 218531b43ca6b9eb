"""How much memory a stage may allocate, and a clear MemoryError before it allocates more.

The operating system's OOM killer ends a process with SIGKILL, with no Python exception and
nothing said. Every stage that allocates in proportion to its input therefore estimates its need
first and calls :func:`require`, which compares it with :func:`available_bytes` (or with a
``max_memory`` the user gave) and raises a ``MemoryError`` naming the bytes needed, the bytes
available and the option that would make the stage fit.

The limits read (each absent one is skipped; the smallest counts):

- ``MemAvailable`` of ``/proc/meminfo``: what the kernel can give without swapping;
- cgroup v2: ``memory.max - memory.current`` of this process's cgroup and its ancestors
  (``/proc/self/cgroup`` line ``0::/path``, under ``/sys/fs/cgroup``);
- cgroup v1: ``memory.limit_in_bytes - memory.usage_in_bytes`` of the memory controller;
- ``RLIMIT_AS`` (``ulimit -v``, ``prlimit --as``): its soft limit less the address space in use
  (``VmSize`` of ``/proc/self/status``).

Off Linux, the physical pages ``sysconf`` reports as available, or no limit when it reports none.
"""
import os
import sys
from collections.abc import Sequence

try:
    import resource
except ImportError:  # Windows
    resource = None

PROC = "/proc"
CGROUP_ROOT = "/sys/fs/cgroup"
# cgroup v1 writes "no limit" as a huge number (PAGE_COUNTER_MAX pages); treat anything above
# this as unlimited
_UNLIMITED = 1 << 60
ADDRESS_SPACE = "the address-space limit (RLIMIT_AS) less the address space in use"


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def meminfo_available(proc=None):
    """``MemAvailable`` of ``proc/meminfo`` in bytes, or None where the file or the line is missing."""
    text = _read(os.path.join(proc or PROC, "meminfo"))
    for line in (text or "").splitlines():
        if line.startswith("MemAvailable:"):
            fields = line.split()
            scale = 1024 if len(fields) > 2 and fields[2].lower() == "kb" else 1
            return int(fields[1]) * scale
    return None


def _limit_value(text):
    text = (text or "").strip()
    if not text or text == "max":
        return None
    value = int(text)
    return None if value >= _UNLIMITED else value


def cgroup_headroom(proc=None, root=None):
    """Bytes this process's cgroups may still charge (limit - usage, the smallest over the cgroup
    and its ancestors for v2; the memory controller's for v1), or None without a limit."""
    proc, root = proc or PROC, root or CGROUP_ROOT
    headroom = []
    for line in (_read(os.path.join(proc, "self", "cgroup")) or "").splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # v2: every cgroup from this one up to the root
            parts = [p for p in path.strip().split("/") if p]
            for depth in range(len(parts), -1, -1):
                directory = os.path.join(root, *parts[:depth])
                limit = _limit_value(_read(os.path.join(directory, "memory.max")))
                if limit is not None:
                    usage = _limit_value(_read(os.path.join(directory, "memory.current"))) or 0
                    headroom.append(limit - usage)
        elif "memory" in controllers.split(","):  # v1: the memory controller's hierarchy
            for directory in (os.path.join(root, "memory", path.strip().lstrip("/")), os.path.join(root, "memory")):
                limit = _limit_value(_read(os.path.join(directory, "memory.limit_in_bytes")))
                if limit is not None:
                    usage = _limit_value(_read(os.path.join(directory, "memory.usage_in_bytes"))) or 0
                    headroom.append(limit - usage)
                    break
    return max(0, min(headroom)) if headroom else None


def address_space_headroom(proc=None):
    """``RLIMIT_AS``'s soft limit less the address space this process uses, or None without one."""
    if resource is None:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    for line in (_read(os.path.join(proc or PROC, "self", "status")) or "").splitlines():
        if line.startswith("VmSize:"):
            used = int(line.split()[1]) * 1024
    return max(0, soft - used)


def _sysconf_available():
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def limits(proc=None, root=None):
    """Each limit that applies, as ``{description: bytes}`` (`proc` and `root` default to
    ``/proc`` and ``/sys/fs/cgroup``)."""
    found = {}
    available = meminfo_available(proc)
    if available is None and not sys.platform.startswith("linux"):
        available = _sysconf_available()
    if available is not None:
        found["available system memory"] = available
    cgroup = cgroup_headroom(proc, root)
    if cgroup is not None:
        found["the cgroup memory limit less its usage"] = cgroup
    address = address_space_headroom(proc)
    if address is not None:
        found[ADDRESS_SPACE] = address
    return found


def available_bytes() -> int:
    """Bytes this process may still allocate: the smallest of the limits in this module's
    description, or ``sys.maxsize`` where none can be read.

    Examples
    --------
    >>> available_bytes() > 0
    True
    """
    found = limits()
    return min(found.values()) if found else sys.maxsize


def _size(nbytes):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes} bytes ({nbytes / scale:.1f} {unit})"
    return f"{nbytes} bytes"


def require(nbytes: int, what: str, hints: "str | Sequence[str]" = (), max_memory: int | None = None,
            mapped: int | None = None) -> None:
    """Raise MemoryError unless `nbytes` more can be allocated.

    Parameters
    ----------
    nbytes : int
        The estimate of what the stage is about to allocate.
    what : str
        What needs it, e.g. ``"cooccurrence: the result (8 bytes per nonzero)"``.
    hints : str or sequence of str
        Options that would make it fit, e.g. ``"pass max_memory= to count in row ranges"``.
    max_memory : int, optional
        A bound the user gave, used instead of the available memory.
    mapped : int, optional
        The address space the allocation maps, where it exceeds the memory it fills at once
        (an output filled while the input is freed); compared with the RLIMIT_AS headroom
        instead of `nbytes`.

    Raises
    ------
    MemoryError
        ``nbytes`` exceeds the bound: the message names both and the hints.

    Examples
    --------
    >>> require(100, "a test", max_memory=1000)
    >>> require(2000, "a test", "use less", max_memory=1000)
    Traceback (most recent call last):
    ...
    MemoryError: a test needs 2000 bytes (2.0 kB) but max_memory allows 1000 bytes (1.0 kB); use less
    """
    nbytes = int(nbytes)
    mapped = nbytes if mapped is None else int(mapped)
    if max_memory is not None:
        short = [(nbytes, int(max_memory), "max_memory allows {}")] if nbytes > int(max_memory) else []
    else:
        short = [(mapped if source == ADDRESS_SPACE else nbytes, limit, f"only {{}} are available ({source})")
                 for source, limit in limits().items()]
        short = [item for item in short if item[0] > item[1]]
    if not short:
        return
    need, limit, said = min(short, key=lambda item: item[1])
    hints = [hints] if isinstance(hints, str) else list(hints)
    message = f"{what} needs {_size(need)} but {said.format(_size(limit))}"
    if hints:
        message += "; " + "; or ".join(hints)
    raise MemoryError(message)
