"""What every model shares: the fitted-state rule, the device argument, and the epoch loop.

- `NotFittedError`: raised by every fitted-only attribute of every model before `fit`.
- `Model`: the base class. A model lists its fitted-only attributes in `_fitted_attributes`
  (and everything its fit sets in `_state_attributes`) and sets them in `fit`; before that, or
  after a fit that failed, reading one raises NotFittedError naming it.
- `train_epochs`: the training loop written once for every model and device: progress bar,
  epoch-end callbacks, Ctrl-C (stops after the current step and keeps a usable model), the
  per-epoch loss, a clear error when the loss stops being finite, and timings.
"""
import contextlib
import logging
import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from embedcore._progress import call_epoch_end, progress_bar
from embedcore.backends import get_backend

logger = logging.getLogger("embedcore")


class NotFittedError(ValueError, AttributeError):
    """A model was used before `fit` (a ValueError and an AttributeError, as scikit-learn's)."""


class Model:
    """Base of the models: the fitted-state rule and the device argument."""

    #: public attributes that exist only once the model is fitted (NotFittedError before)
    _fitted_attributes: tuple[str, ...] = ()
    #: every attribute a fit sets (the public ones above and private arrays): a failed fit
    #: removes them all
    _state_attributes: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        # reached only when normal lookup fails (a property raising AttributeError included)
        if name in type(self)._fitted_attributes and not self.__dict__.get("_fitted", False):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() before using {name}")
        attribute = getattr(type(self), name, None)
        if isinstance(attribute, property):  # let the property's own AttributeError through
            return attribute.fget(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def is_fitted(self) -> bool:
        """True once `fit` has completed (or was interrupted with a usable model)."""
        return bool(self.__dict__.get("_fitted", False))

    @staticmethod
    def _check_device(device: str) -> str:
        """The device argument, validated now: an unknown name is a ValueError, "cuda" without a
        usable GPU a RuntimeError (before any work)."""
        get_backend(device)
        return device

    @contextlib.contextmanager
    def _fitting(self) -> Iterator[None]:
        """Around the part of `fit` that replaces the fitted attributes. The model sets
        ``self._fitted = True`` as soon as they exist (so that epoch-end callbacks can read
        them); a fit that raises (Ctrl-C is caught by train_epochs and does not) leaves the
        model unfitted, never half-fitted."""
        self._fitted = False
        try:
            yield
        except BaseException:
            self._fitted = False
            for name in type(self)._state_attributes:
                self.__dict__.pop(name, None)
            raise
        self._fitted = True


@dataclass
class TrainingRun:
    """What `train_epochs` did: per-epoch losses and seconds, the work units done, the wall time,
    and whether Ctrl-C stopped it."""
    losses: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    done: int = 0
    seconds: float = 0.0
    interrupted: bool = False


def train_epochs(model: Any, name: str, epochs: int, run_epoch: Callable[[int], Generator[int, None, Any]], total: int,
                 unit: str, after_epoch: Callable[[TrainingRun, int, Any], object] | None = None) -> TrainingRun:
    """Run `epochs` epochs of training with progress, callbacks and Ctrl-C handled once.

    Parameters
    ----------
    model : Model
        Reads ``model.progress`` and ``model.callbacks``; passed to the callbacks.
    name : str
        What trains, for the progress bar, the log and the errors (e.g. "skip-gram").
    epochs : int
    run_epoch : callable
        ``run_epoch(epoch)`` -> a generator over the epoch's steps that yields the work units
        each step did and returns the epoch's loss (a float) or ``(loss, info)``.
    total : int
        Work units of the whole training, for the progress bar.
    unit : str
    after_epoch : callable, optional
        ``after_epoch(run, epoch, result)`` after each finished epoch, before the callbacks,
        with what `run_epoch` returned (the model brings its public state up to date there).

    Returns
    -------
    TrainingRun
        Ctrl-C stops the training after the current step; `interrupted` is then True and the
        model keeps what it learnt.

    Raises
    ------
    FloatingPointError
        The loss of an epoch is NaN or infinite: the training diverged (a learning rate too
        large for the data, typically).
    """
    run = TrainingRun()
    bar = progress_bar(model.progress, total, f"training {name}", unit)
    start = time.perf_counter()
    try:
        for epoch in range(epochs):
            t0 = time.perf_counter()
            steps = run_epoch(epoch)
            while True:
                try:
                    units = next(steps)
                except StopIteration as stop:
                    result = stop.value
                    break
                run.done += units
                bar.update(units)
            loss = result[0] if isinstance(result, tuple) else result
            run.epoch_seconds.append(time.perf_counter() - t0)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"{name} diverged: the loss became {loss} in epoch {epoch + 1}; lower the learning rate "
                    f"(alpha / learning_rate) or check the input")
            run.losses.append(float(loss))
            run.seconds = time.perf_counter() - start
            logger.info("%s epoch %d/%d: loss %.6g, %.2f s", name, epoch + 1, epochs, loss, run.epoch_seconds[-1])
            if after_epoch is not None:
                after_epoch(run, epoch, result)
            call_epoch_end(model.callbacks, model, epoch)
    except KeyboardInterrupt:
        run.interrupted = True
        logger.warning("%s training interrupted after %d of %d %s; the model is usable", name, run.done, total, unit)
    finally:
        bar.close()
        run.seconds = time.perf_counter() - start
    return run
