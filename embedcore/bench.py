"""Side-by-side comparisons behind `embedcore bench`.

Each kernel has one case module in `embedcore/benchcases/` listed in the registry's CASE_MODULES
(`embedcore/benchcases/_registry.py`, which the cases import; they never import this module, so
there is no import cycle). A case module registers functions with `@case(...)`; each function takes
a `Context` and returns a list of `Row`s:
the same work done by a peer (gensim, faiss, scikit-learn, scipy, ...) and by embedcore in this one
process, with the quality of both next to the times. Peers are imported inside the case; a case
whose peer is missing returns rows with `peer_seconds=None` and says so in `notes`.

The rules the cases follow are in the project's benchmarking notes: same input, settings and threads
on both sides, a warm-up, then the best of alternating runs. Cases compare CPU paths, so they pass
`device="cpu"` explicitly; GPU figures come from benchmarks/gpu_check.py.
"""
import json
import logging
import os
import platform
import tempfile
from collections.abc import Iterable
from typing import Any

from embedcore._io import atomic_write
from embedcore.benchcases._registry import (  # the names scripts use, re-exported
    CASE_MODULES, Case, Context, Row, alternate, available_cases, best_of, case)

logger = logging.getLogger("embedcore")

__all__ = ["CASE_MODULES", "Case", "Context", "Row", "alternate", "available_cases", "best_of", "case",
           "format_table", "machine_description", "plot", "run", "write_json"]

def machine_description() -> str:
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


def run(names: "Iterable[str] | None" = None, quick: bool = False, workers: int = 2,
        data_dir: "str | os.PathLike[str] | None" = None) -> list[Any]:
    """Run the named cases (when None, all but those run only on request) and return their rows."""
    cases = available_cases()
    if names:
        unknown = sorted(set(names) - set(cases))
        if unknown:
            raise ValueError(f"unknown benchmark case(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(cases))}")
        selected = [cases[n] for n in names]
    else:
        selected = [c for c in cases.values() if not c.on_request]
    rows = []
    with tempfile.TemporaryDirectory(prefix="embedcore-bench-") as scratch:
        ctx = Context(quick=quick, workers=workers, data_dir=data_dir, scratch=scratch)
        for c in selected:
            logger.info("bench case %s: %s", c.name, c.description)
            rows.extend(c.function(ctx))
    return rows


def format_table(rows: "Iterable[Any]") -> str:
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


def write_json(rows: "Iterable[Any]", path: "str | os.PathLike[str]", extra: "dict[str, Any] | None" = None) -> None:
    """Write the rows and the machine description as JSON (replaced atomically)."""
    payload = {"machine": machine_description(), "rows": [r.as_dict() for r in rows]}
    payload.update(extra or {})
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2)


def plot(rows: "Iterable[Any]", path: "str | os.PathLike[str]") -> None:
    """A bar chart of the speed ratios (needs matplotlib), replaced atomically."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib (pip install 'embedcore[bench]')") from None
    shown = [r for r in rows if r.ratio is not None]
    fig, ax = plt.subplots(figsize=(11, 0.6 * len(shown) + 1.5))
    labels = [f"{r.case}: {r.work}\nvs {r.peer}" for r in shown]
    ratios = [r.ratio for r in shown]
    ax.barh(range(len(shown)), ratios, color=["tab:blue" if x >= 1 else "tab:red" for x in ratios])
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    for i, x in enumerate(ratios):
        ax.annotate(f"{x:.2f}x", (x, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xscale("log")  # ratios span orders of magnitude; 1 = as fast as the peer
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("speed-up over the peer (peer time / embedcore time, log scale)")
    ax.invert_yaxis()
    fig.tight_layout()
    try:
        with atomic_write(path) as f:
            fig.savefig(f, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
