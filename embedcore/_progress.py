"""Progress reporting for long work: a tqdm bar on a terminal, periodic log lines otherwise."""
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger("embedcore")


class _LogProgress:
    """Logs `desc: done/total` at most every `interval` seconds."""

    def __init__(self, total, desc, unit, interval=5.0):
        self.total, self.desc, self.unit, self.interval = total, desc, unit, interval
        self.done = 0
        self.last = time.perf_counter()

    def update(self, n=1):
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            if self.total:
                logger.info("%s: %.1f%% (%d of %d %s)", self.desc, 100.0 * self.done / self.total,
                            self.done, self.total, self.unit)
            else:
                logger.info("%s: %d %s", self.desc, self.done, self.unit)

    def close(self):
        pass


class _NoProgress:
    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(enabled: bool, total: int | None = None, desc: str = "", unit: str = "it") -> Any:
    """A tqdm bar when `enabled` and stderr is a terminal and tqdm is installed; log lines when
    enabled otherwise; nothing when not enabled. Use as a context manager or call close()."""
    if not enabled:
        return _NoProgress()
    if sys.stderr.isatty():
        try:
            from tqdm.auto import tqdm
            return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)
        except ImportError:
            pass
    return _LogProgress(total, desc, unit)


def call_epoch_end(callbacks: Iterable[Any], model: Any, epoch: int) -> None:
    """Call each training callback at the end of an epoch: an object with `on_epoch_end(model)`
    (gensim's CallbackAny2Vec style) or a plain function `f(model, epoch)`."""
    for callback in callbacks:
        if hasattr(callback, "on_epoch_end"):
            callback.on_epoch_end(model)
        else:
            callback(model, epoch)
