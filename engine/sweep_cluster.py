"""The Dask side of a sweep: the cluster, one run on a worker.

A worker loads and prepares the data itself, once per worker process and data key, so no
arrays travel through the scheduler. :func:`connect` gives a connected client: a local
cluster on every core (one process of one thread a worker, no dashboard) or an existing
scheduler, reached within a bounded time.
"""
from __future__ import annotations

import math
import os
import threading
import time

from .recipes import RunSettings, load_data, make_record, make_run, prepare, run_events
from .sweep_plan import SweepError, run_key

__all__ = ["WORKER_ENV", "blas_threads", "run_one", "run_kept", "connect"]

#: Environment of the local cluster's workers: one thread each, so runs do not fight for cores.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


_CACHE_LOCK = threading.Lock()
_DATASETS: dict = {}      # (source, path) -> engine.data.Dataset, in this process
_PREPARED: dict = {}      # RunSettings.data_key() -> PreparedData, in this process


def _prepared(settings: RunSettings):
    """The run's prepared data, loaded once per process and data key (a few kept)."""
    key = settings.data_key()
    with _CACHE_LOCK:
        if key not in _PREPARED:
            where = (settings.source, settings.path)
            if where not in _DATASETS:
                _DATASETS.clear()
                _DATASETS[where] = load_data(settings)
            if len(_PREPARED) >= 2:
                _PREPARED.clear()
            _PREPARED[key] = prepare(settings, _DATASETS[where])
        return _PREPARED[key]


def blas_threads() -> int | None:
    """The BLAS threads of this process (what ``digitlab train`` here would use); None if unknown.

    The last digit of a test error depends on it (OpenBLAS splits the dense products among
    its threads), so every run of a sweep uses the client's count, whatever the worker's.
    """
    try:
        from threadpoolctl import threadpool_info
        counts = [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # noqa: BLE001 - threadpoolctl unable to inspect the libraries
        return None
    return max(counts) if counts else None


def run_one(settings: RunSettings, blas: int | None = None) -> dict:
    """Train one run as ``digitlab train`` does and return its row of the table.

    Parameters
    ----------
    settings : RunSettings
    blas : int, optional
        BLAS threads during the run (:func:`blas_threads` of the client); None: as they are.

    Returns
    -------
    dict
        ``seed``, the :data:`FIGURES`, every setting, and ``key`` (:func:`run_key`).
    """
    return run_kept(settings, blas)[0]


def run_kept(settings: RunSettings, blas: int | None = None):
    """:func:`run_one`, also returning what the runs folder records of the run.

    Returns
    -------
    (dict, engine.sweep_runs.RunOutcome)
        The table's row; the final model (its record set) and per-iteration figures.
    """
    import contextlib
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if blas:
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(limits=int(blas), user_api="blas"))
        return _run_one(settings, t0)


def _run_one(settings: RunSettings, t0: float):
    from .events import Evaluated, Finished
    from .runs import RunLog
    from .sweep_runs import RunOutcome
    data = _prepared(settings)
    model, stepper = make_run(settings, data)
    finished = test = None
    log = RunLog()
    for ev in run_events(settings, data, model, stepper):
        log.see(ev)
        if isinstance(ev, Evaluated):
            test = ev.figures
        elif isinstance(ev, Finished):
            finished = ev
    rec = make_record(settings, data, finished, test)
    model.record = rec
    t = rec.test
    row = {"seed": settings.seed, "iterations": rec.iterations, "reason": rec.reason,
           "train_error": rec.train_error,
           "test_error": t.test_error if t else math.nan,
           "percent_correct": t.percent_correct if t else math.nan,
           "argmax_accuracy": t.argmax_accuracy if t else math.nan,
           "train_seconds": rec.train_seconds, "images_per_second": rec.images_per_second,
           "train_images": rec.train_images, "data_source": data.source,
           "wall_seconds": time.perf_counter() - t0}
    row.update({k: v for k, v in settings.to_dict().items() if k != "seed"})
    row["key"] = run_key(settings)
    return row, RunOutcome(model, log.rows, finished, data.description)



def connect(args, stack):
    """A connected Client (and the words describing where the runs go)."""
    import logging
    from distributed import Client, LocalCluster
    if args.scheduler:
        try:
            client = stack.enter_context(Client(args.scheduler, timeout="20s"))
        except (OSError, TimeoutError) as e:
            raise SweepError(f"--scheduler {args.scheduler}: cannot connect ({e})") from None
        if args.workers:
            try:
                client.wait_for_workers(args.workers, timeout=300)
            except TimeoutError:
                raise SweepError(f"--workers {args.workers}: fewer workers joined {args.scheduler} "
                                 "within 5 minutes") from None
        n = len(client.scheduler_info(n_workers=-1)["workers"])
        return client, f"the cluster at {args.scheduler} ({n} workers now)"
    n = args.workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count() or 1)
    cluster = stack.enter_context(LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, env=dict(WORKER_ENV),
        dashboard_address=None, silence_logs=logging.ERROR))
    client = stack.enter_context(Client(cluster))
    return client, f"a local cluster of {n} worker process{'es' if n != 1 else ''} (one thread each)"

