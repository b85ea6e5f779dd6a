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

from ..train.recipes import RunSettings, load_data, make_run, prepare
from .plan import SweepError, run_key

__all__ = ["WORKER_ENV", "blas_threads", "run_one", "run_kept", "connect", "local_cluster",
           "CONNECT_SECONDS", "Stalled", "probe_scheduler", "results", "forget_clusters"]

#: Environment of the local cluster's workers: one thread each, so runs do not fight for cores.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


_CACHE_LOCK = threading.Lock()
_DATASETS: dict = {}      # (source, path) -> engine.files.data.Dataset, in this process
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
    (dict, engine.sweep.recorded.RunOutcome)
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
    from ..train.tracker import RunTracker
    from .recorded import RunOutcome
    data = _prepared(settings)
    model, stepper = make_run(settings, data)
    run = RunTracker(settings, data, model, stepper, snapshots=False).run()
    rec = run.recorded_model().record
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
    return row, RunOutcome(model, run.log.rows, run.finished, data.description)



def connect(args, stack):
    """A connected Client (and the words describing where the runs go)."""
    from distributed import Client
    if args.scheduler:
        wait = float(getattr(args, "wait", 120.0))
        seconds = min(wait, CONNECT_SECONDS)
        probe_scheduler(args.scheduler, seconds)
        try:
            client = stack.enter_context(Client(args.scheduler, timeout=f"{seconds}s"))
        except (OSError, TimeoutError) as e:
            raise SweepError(f"--scheduler {args.scheduler}: cannot connect ({e})") from None
        except Exception as e:  # noqa: BLE001 - a bad address raises ValueError, TypeError...
            raise SweepError(f"--scheduler {args.scheduler}: not a scheduler's address "
                             f"({type(e).__name__}: {e}); give e.g. tcp://host:8786") from None
        if args.workers:
            try:
                client.wait_for_workers(args.workers, timeout=wait)
            except TimeoutError:
                raise SweepError(f"--workers {args.workers}: fewer workers joined {args.scheduler} "
                                 f"within {wait:.0f} s (--wait)") from None
        n = len(client.scheduler_info(n_workers=-1)["workers"])
        return client, f"the cluster at {args.scheduler} ({n} workers now)"
    n = args.workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count() or 1)
    cluster = stack.enter_context(local_cluster(n))
    client = stack.enter_context(Client(cluster))
    return client, f"a local cluster of {n} worker process{'es' if n != 1 else ''} (one thread each)"



def local_cluster(n: int):
    """A local cluster of ``n`` worker processes of one thread, with no dashboard: the scheduler's
    HTTP server (which Dask always starts, on port 8787 unless told) listens on a free port of
    127.0.0.1 only, and serves no dashboard."""
    import logging
    from distributed import LocalCluster
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, env=dict(WORKER_ENV),
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR,
                        preload=["engine.sweep.preload"])


#: The longest wait for a scheduler to answer a new connection, in seconds.
CONNECT_SECONDS = 20.0


class Stalled(Exception):
    """No worker, or no answer from the scheduler, for longer than ``--wait``; the message
    names the runs left (the table holds the finished ones; rerunning finishes the rest)."""


def probe_scheduler(address: str, seconds: float) -> None:
    """Refuse, within ``seconds``, an address where nothing answers as a Dask scheduler does.

    A Dask server speaks first: it sends its handshake as soon as a connection opens. A silent
    socket, or an HTTP server, accepts the connection and says nothing; Dask's client would then
    wait for minutes. Only ``tcp://`` addresses are probed (``tls://`` and others go to Dask)."""
    import socket
    from urllib.parse import urlsplit
    if "://" not in address:
        address = "tcp://" + address
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise SweepError(f"--scheduler {address}: give a host and a port, e.g. tcp://host:8786")
    deadline = time.monotonic() + seconds
    while True:                              # a scheduler still starting refuses: try again, as Dask does
        left = max(deadline - time.monotonic(), 0.1)
        connected = False
        try:
            with socket.create_connection((host, port), timeout=left) as sock:
                connected = True
                sock.settimeout(max(deadline - time.monotonic(), 0.1))
                first = sock.recv(1)
            break
        except socket.timeout:
            if not connected:
                raise SweepError(f"--scheduler {address}: no connection within {seconds:.0f} s") from None
            raise SweepError(f"--scheduler {address}: connected, but nothing answered within "
                             f"{seconds:.0f} s; is a Dask scheduler listening there?") from None
        except OSError as e:
            if time.monotonic() + 0.25 >= deadline:
                raise SweepError(f"--scheduler {address}: cannot connect within {seconds:.0f} s "
                                 f"({e.strerror or e})") from None
            time.sleep(0.25)
    if not first:
        raise SweepError(f"--scheduler {address}: the connection was closed without an answer; "
                         "is a Dask scheduler listening there?")


def _workers(client) -> int:
    """The workers the scheduler has now (0 when it does not answer within 10 s)."""
    try:
        client.sync(client._update_scheduler_info, n_workers=-1, callback_timeout=10)
        return len((client._scheduler_identity or {}).get("workers", {}))
    except Exception:  # noqa: BLE001 - a scheduler gone or silent counts as no worker
        return 0


def results(client, futures: dict, wait: float, *, poll: float = 2.0):
    """``(future, settings)`` pairs as the runs finish, in that order.

    Raises :class:`Stalled` when for ``wait`` seconds no run finished and the scheduler had no
    worker (or did not answer), naming the runs left."""
    from distributed import wait as wait_for
    pending = set(futures)
    idle = None
    while pending:
        try:
            done, rest = wait_for(list(pending), timeout=min(poll, wait), return_when="FIRST_COMPLETED")
            pending = set(rest)
        except TimeoutError:
            done = ()
        for fut in done:
            yield fut, futures[fut]
        if done or _workers(client) > 0:
            idle = None
            continue
        idle = idle if idle is not None else time.monotonic()
        if time.monotonic() - idle >= wait:
            left = sorted((futures[f] for f in pending), key=lambda s: s.seed)
            seeds = ", ".join(str(s.seed) for s in left[:12]) + (", ..." if len(left) > 12 else "")
            raise Stalled(f"no worker for {wait:.0f} s (--wait): {len(left)} run"
                          f"{'s' if len(left) != 1 else ''} left (seeds {seeds}); the table holds the "
                          "finished ones: run the same command again to finish them")


def forget_clusters() -> None:
    """Close, quietly and within seconds, any local cluster a Ctrl+C left half started (its
    constructor interrupted, so no ``with`` block closes it), so that Dask's own clean-up at
    exit finds nothing to close (it printed a 30-line traceback)."""
    try:
        from distributed.deploy.spec import SpecCluster
    except ImportError:
        return
    for cluster in list(SpecCluster._instances):
        try:
            cluster.close(timeout=5)
        except Exception:  # noqa: BLE001 - a cluster half started may fail to close: it is left
            pass
        cluster.shutdown_on_close = False
