"""Thread-count semantics shared by every kernel (scikit-learn's convention)."""
import os

from embedcore._validation import check_int


def usable_cores() -> int:
    """Cores this process may run on: the affinity mask, capped by OMP_NUM_THREADS when set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    omp = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if omp.isdigit() and int(omp) > 0:
        cores = min(cores, int(omp))
    return max(1, cores)


def effective_workers(workers: int | None) -> int:
    """None or -1: all usable cores; k > 0: k threads; -k: all but k-1; 0 is an error."""
    if workers is None:
        return usable_cores()
    workers = check_int(workers, "workers")
    if workers == 0:
        raise ValueError("workers must be a positive thread count, None or a negative number "
                         "(-1 = all cores), got 0")
    if workers < 0:
        return max(1, usable_cores() + 1 + workers)
    return workers
