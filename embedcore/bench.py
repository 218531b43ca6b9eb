"""Side-by-side comparisons behind `embedcore bench`.

Each kernel has one case module in `embedcore/benchcases/` listed in CASE_MODULES. A case module
registers functions with `@case(...)`; each function takes a `Context` and returns a list of `Row`s:
the same work done by a peer (gensim, faiss, scikit-learn, scipy, ...) and by embedcore in this one
process, with the quality of both next to the times. Peers are imported inside the case; a case
whose peer is missing returns rows with `peer_seconds=None` and says so in `notes`.

The rules the cases follow are in the project's benchmarking notes: same input, settings and threads
on both sides, a warm-up, then the best of alternating runs. Cases compare CPU paths, so they pass
`device="cpu"` explicitly; GPU figures come from benchmarks/gpu_check.py.
"""
import dataclasses
import importlib
import json
import logging
import os
import platform
import tempfile
import time

logger = logging.getLogger("embedcore")

CASE_MODULES = (
    "embedcore.benchcases.text",
    "embedcore.benchcases.svd",
    "embedcore.benchcases.glove",
    "embedcore.benchcases.topk",
    "embedcore.benchcases.word2vec",
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


def case(name, kernel, description):
    """Register a benchmark case function `f(ctx) -> list[Row]` under `name`."""
    def register(function):
        _CASES[name] = Case(name, kernel, description, function)
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


def machine_description():
    """CPU model, cores, BLAS (threadpoolctl when installed) and OPENBLAS_CORETYPE."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [model, f"{os.cpu_count()} cores"]
    try:
        from threadpoolctl import threadpool_info
        blas = [f"{i['internal_api']} {i.get('version') or ''} ({i.get('architecture') or '?'})".strip()
                for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            parts.append("BLAS " + ", ".join(sorted(set(blas))))
    except ImportError:
        pass
    if os.environ.get("OPENBLAS_CORETYPE"):
        parts.append(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}")
    return "; ".join(parts)


def run(names=None, quick=False, workers=2, data_dir=None):
    """Run the named cases (all when None) and return their rows."""
    cases = available_cases()
    if names:
        unknown = sorted(set(names) - set(cases))
        if unknown:
            raise ValueError(f"unknown benchmark case(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(cases))}")
        selected = [cases[n] for n in names]
    else:
        selected = list(cases.values())
    rows = []
    with tempfile.TemporaryDirectory(prefix="embedcore-bench-") as scratch:
        ctx = Context(quick=quick, workers=workers, data_dir=data_dir, scratch=scratch)
        for c in selected:
            logger.info("bench case %s: %s", c.name, c.description)
            rows.extend(c.function(ctx))
    return rows


def format_table(rows):
    """A plain-text table of the rows."""
    header = ["case", "work", "peer", "peer s", "embedcore s", "ratio", "peer quality", "embedcore quality"]
    lines = [[r.case, r.work, r.peer,
              "-" if r.peer_seconds is None else f"{r.peer_seconds:.3f}",
              f"{r.ours_seconds:.3f}",
              "-" if r.ratio is None else f"{r.ratio:.2f}x",
              r.peer_quality, r.ours_quality] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    out = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    out += [fmt.format(*line) for line in lines]
    notes = [f"  {r.case}: {r.notes}" for r in rows if r.notes]
    if notes:
        out += ["", "notes:"] + notes
    return "\n".join(out)


def write_json(rows, path, extra=None):
    """Write the rows and the machine description as JSON (temporary file, then rename)."""
    payload = {"machine": machine_description(), "rows": [r.as_dict() for r in rows]}
    payload.update(extra or {})
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=2)
    os.replace(tmp, path)


def plot(rows, path):
    """A bar chart of the speed ratios (needs matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib (pip install 'embedcore[bench]')") from None
    shown = [r for r in rows if r.ratio is not None]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(shown) + 1.5))
    labels = [f"{r.case}: {r.work} vs {r.peer}" for r in shown]
    ax.barh(labels, [r.ratio for r in shown], color="tab:blue")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("speed-up over the peer (peer time / embedcore time)")
    ax.invert_yaxis()
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
