"""Where the tasks run: a dask.distributed Client, or one of Dask's local schedulers.

Every function of embedcore.distributed builds its stages as ``dask.delayed`` graphs and hands
them to a `Scheduler`, which persists intermediate results on the workers, gathers small ones to
the client, shares read-only inputs once, and shows Dask's own progress bar when asked.
"""
import contextlib

import dask

LOCAL_SCHEDULERS = ("threads", "sync")


def _distributed_client_type():
    try:
        from distributed import Client
    except ImportError:
        return None
    return Client


class Scheduler:
    """Runs dask.delayed graphs on `client` (a distributed Client) or on a local scheduler."""

    def __init__(self, client=None, local="threads", progress=False):
        self.client, self.local, self.progress = client, local, progress

    @property
    def is_distributed(self):
        return self.client is not None

    def share(self, value):
        """A read-only value that many tasks take (a vocabulary, a dense factor). On a cluster
        it travels inside the graph, once, as one task of its own that the others depend on: the
        scheduler keeps it, so when a worker is lost, the value and every result computed from it
        can be rebuilt elsewhere. (Scattered data is not safe: Dask's memory manager drops the
        extra copies of a broadcast, and the worker that holds the last one may be the one lost.)"""
        if self.client is None:
            return value
        return dask.delayed(value, pure=False, traverse=False)

    def spread(self, values):
        """Values that each go to one task. On a cluster they travel inside the graph, as Dask's
        own collections send in-memory chunks, for the same reason as `share`."""
        if self.client is None:
            return list(values)
        return [dask.delayed(value, pure=False, traverse=False) for value in values]

    def persist(self, objs):
        """Compute `objs` and keep the results where they are (worker memory): delayed objects
        that later stages take as arguments."""
        objs = list(objs)
        if not objs:
            return []
        if self.client is not None:
            with _in_memory_inputs_in_graph():
                persisted = self.client.persist(objs)
            if self.progress:
                from distributed import progress
                progress(persisted)
            return persisted
        with self._local_progress():
            return list(dask.persist(*objs, scheduler=self.local))

    def compute(self, objs):
        """Compute `objs` and bring the results to the client, as a list."""
        objs = list(objs)
        if not objs:
            return []
        if self.client is not None:
            with _in_memory_inputs_in_graph():
                futures = self.client.compute(objs)
            try:
                if self.progress:
                    from distributed import progress
                    progress(futures)
                return self.client.gather(futures)
            except BaseException:
                self.client.cancel(futures)
                raise
        with self._local_progress():
            return list(dask.compute(*objs, scheduler=self.local))

    def _local_progress(self):
        if not self.progress:
            return contextlib.nullcontext()
        from dask.diagnostics import ProgressBar
        return ProgressBar()


def _in_memory_inputs_in_graph():
    """Graphs that carry in-memory inputs (see Scheduler.share and spread) are large by design: no
    warning."""
    return dask.config.set({"distributed.admin.large-graph-warning-threshold": 1 << 62})


def resolve(client, progress=False):
    """The Scheduler for a `client` argument: a dask.distributed Client; None for the current
    Client (the one last created, or the one a task runs under), else Dask's threaded scheduler;
    or the name of a local scheduler, 'threads' or 'sync' (one thread, for debugging)."""
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    client_type = _distributed_client_type()
    if client is None:
        if client_type is not None:
            from distributed import default_client
            try:
                return Scheduler(default_client(), progress=progress)
            except ValueError:  # no Client was started
                pass
        return Scheduler(None, "threads", progress)
    if isinstance(client, str):
        if client not in LOCAL_SCHEDULERS:
            raise ValueError(f"client must be a dask.distributed Client, None, or one of "
                             f"{', '.join(map(repr, LOCAL_SCHEDULERS))}, got {client!r}")
        return Scheduler(None, client, progress)
    if client_type is not None and isinstance(client, client_type):
        if client.status not in ("running", "newly-created"):
            raise ValueError(f"client is not connected (status {client.status!r})")
        return Scheduler(client, progress=progress)
    raise TypeError(f"client must be a dask.distributed Client, None, 'threads' or 'sync', "
                    f"got {type(client).__name__}")


def tree_reduce(items, combine, fan_in=4):
    """One delayed result of `combine(*group)` applied level by level to groups of at most
    `fan_in` items (a tree of depth log_fan_in(len(items)); each task holds one group)."""
    items = list(items)
    if not items:
        raise ValueError("tree_reduce needs at least one item")
    task = dask.delayed(combine, pure=False)
    if len(items) == 1:
        return task(items[0])
    while len(items) > 1:
        items = [task(*items[i:i + fan_in]) if len(items[i:i + fan_in]) > 1 else items[i]
                 for i in range(0, len(items), fan_in)]
    return items[0]


def delayed(function, nout=None):
    """dask.delayed(function) with a unique key per call (inputs are not hashed); `nout` splits
    a tuple result into that many delayed items."""
    return dask.delayed(function, pure=False, nout=nout)
