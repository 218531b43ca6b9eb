"""The registry of `embedcore bench` cases: the types a case uses and the list of case modules.

A case module (one per kernel, listed in CASE_MODULES) imports `case`, `Row` and the timing helpers
from here and registers its functions with ``@case(name, kernel, description)``; each function takes
a `Context` and returns a list of `Row`s. `embedcore.bench` runs and reports them. Cases import this
module, never `embedcore.bench`, so the two do not import each other.
"""
import dataclasses
import importlib
import os
import time

CASE_MODULES = (
    "embedcore.benchcases.text",
    "embedcore.benchcases.svd",
    "embedcore.benchcases.glove",
    "embedcore.benchcases.topk",
    "embedcore.benchcases.word2vec",
    "embedcore.benchcases.recommend",
    "embedcore.benchcases.fasttext",
    "embedcore.benchcases.node2vec",
    "embedcore.benchcases.scale",
)

_CASES = {}


@dataclasses.dataclass
class Row:
    """One comparison: `work` done by `peer` and by embedcore, in seconds, with quality."""
    case: str
    work: str
    peer: str
    peer_seconds: float | None
    ours_seconds: float
    peer_quality: str = ""
    ours_quality: str = ""
    notes: str = ""

    @property
    def ratio(self):
        """How many times faster embedcore is (peer time / our time)."""
        if self.peer_seconds is None or self.ours_seconds <= 0:
            return None
        return self.peer_seconds / self.ours_seconds

    def as_dict(self):
        return dict(dataclasses.asdict(self), ratio=self.ratio)


@dataclasses.dataclass
class Context:
    """What a case may use: size preset, thread count, data folder and a scratch folder."""
    quick: bool = False
    workers: int = 2
    data_dir: str | None = None
    scratch: str = ""

    def data_file(self, name):
        """Path of `name` in the data folder, or None when absent."""
        if not self.data_dir:
            return None
        path = os.path.join(self.data_dir, name)
        return path if os.path.exists(path) else None


@dataclasses.dataclass
class Case:
    name: str
    kernel: str
    description: str
    function: object
    on_request: bool = False  # run only when named (too long for a default run)


def case(name, kernel, description, on_request=False):
    """Register a benchmark case function `f(ctx) -> list[Row]` under `name`; an `on_request` case
    runs only when named."""
    def register(function):
        _CASES[name] = Case(name, kernel, description, function, on_request)
        return function
    return register


def available_cases():
    for module in CASE_MODULES:
        importlib.import_module(module)
    return dict(_CASES)


def best_of(function, repeats=2, warmup=True):
    """(best seconds, last result) of `repeats` timed calls after one untimed warm-up call."""
    if warmup:
        function()
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def alternate(peer, ours, repeats=2, warmup=True):
    """Best times of two functions run A B A B (after one warm-up each): (peer_s, ours_s, peer_result,
    our_result)."""
    if warmup:
        peer()
        ours()
    best = [float("inf"), float("inf")]
    results = [None, None]
    for _ in range(repeats):
        for i, function in enumerate((peer, ours)):
            start = time.perf_counter()
            results[i] = function()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1], results[0], results[1]
