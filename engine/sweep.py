"""``digitlab sweep``: many training runs (seeds, a grid of settings) on a Dask cluster.

Each run is built exactly as ``digitlab train --mode M --seed S <options>`` builds it and
trained by the same recipe (:mod:`engine.recipes`), so its figures equal that command's to
the last digit. Runs go to ``dask.distributed`` workers: a local cluster on every core by
default (one process of one thread a worker), or an existing scheduler. A worker loads and
prepares the data itself, once per worker process and data key, so no arrays travel
through the scheduler.

Every finished run is added to one table (CSV, or Parquet with pyarrow), rewritten
atomically, so an interrupted sweep resumes and skips the runs already in it. The summary
(:mod:`engine.sweep_summary`) places the article's own run among the seeds, or tabulates a
grid, and saves its plots as PNG images. Each finished run is also recorded in the runs
folder, with the plots, by this process (:mod:`engine.sweep_runs`).

Dask and matplotlib are the optional extra ``sweep``; without them the command says how to
get them. This module imports neither at import time.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import math
import os
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .data import DataError
from .recipes import RunSettings, load_data, make_run, prepare
from .safefile import atomic_write

if TYPE_CHECKING:
    import pandas

__all__ = ["SweepError", "GET_EXTRA", "WORKER_ENV", "FIGURES", "parse_seeds", "parse_grid",
           "plan_runs", "run_key", "blas_threads", "run_one", "run_kept", "read_table", "write_table", "row_to_run",
           "add_sweep_parser"]

#: How to get the optional extra.
GET_EXTRA = ('the sweep needs the optional extra "sweep" (dask.distributed and matplotlib): '
             'pip install -e ".[sweep]" in a checkout, or pip install "digitlab[sweep]"')
#: Environment of the local cluster's workers: one thread each, so runs do not fight for cores.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}
#: A run's figures, as the table and ``--json`` hold them (after ``seed``, before the settings).
FIGURES = ("iterations", "reason", "train_error", "test_error", "percent_correct",
           "argmax_accuracy", "train_seconds", "images_per_second", "train_images", "data_source",
           "wall_seconds")
_INTS = {"iterations", "train_images"}
_SETTINGS = tuple(f.name for f in fields(RunSettings))


class SweepError(Exception):
    """A user-facing error of the sweep: printed as one line, exit status 2."""


# ------------------------------------------------------------------------------------------
# What to run
# ------------------------------------------------------------------------------------------
def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-99"``, ``"1,5,9"`` or a mix (``"0-9,20-29"``), in order, no repeats."""
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        try:
            if "-" in part[1:]:
                cut = part.index("-", 1)
                lo, hi = int(part[:cut]), int(part[cut + 1:])
                if hi < lo:
                    raise SweepError(f"--seeds {text}: the range {part} runs backwards")
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise SweepError(f"--seeds {text}: {part!r} is neither a whole number nor a range "
                             "such as 0-99") from None
    return list(dict.fromkeys(seeds))


def _field_value(name: str, kind: str, text: str):
    low = text.strip().lower()
    if "None" in kind and low in ("none", "all"):
        return None
    try:
        if kind == "bool":
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        what = {"bool": "true or false", "float": "a number"}.get(kind, "a whole number")
        raise SweepError(f"--grid {name}: {text!r} is not {what}") from None
    return text


def parse_grid(items: list[str] | None) -> dict[str, list]:
    """``["alpha=0.005,0.01", "kernels=4,9"]`` as ``{"alpha": [0.005, 0.01], "kernels": [4, 9]}``.

    Any :class:`~engine.recipes.RunSettings` field may be named (dashes or underscores);
    values are converted to the field's type (``train=all`` is every image).
    """
    kinds = {f.name: str(f.type) for f in fields(RunSettings)}
    grid: dict[str, list] = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not values.strip():
            raise SweepError(f"--grid {item}: give NAME=V1,V2,... (e.g. alpha=0.005,0.01,0.02)")
        if name not in kinds:
            raise SweepError(f"--grid {item}: {name!r} is not a training setting; one of "
                             f"{', '.join(kinds)}")
        if name == "seed":
            raise SweepError("--grid seed=...: give the seeds with --seeds")
        if name in grid:
            raise SweepError(f"--grid names {name} twice")
        grid[name] = list(dict.fromkeys(_field_value(name, kinds[name], v)
                                        for v in values.split(",") if v.strip()))
    return grid


def plan_runs(args, settings_from_args: Callable, seeds: list[int] | None,
              grid: dict[str, list]) -> list[RunSettings]:
    """Every run of the sweep, as ``digitlab train`` would build it from the same options.

    Parameters
    ----------
    args : argparse.Namespace
        The sweep's options (those of ``digitlab train``).
    settings_from_args : callable
        ``engine.cli.settings_from_args``: options to :class:`RunSettings`.
    seeds : list of int or None
        None: the one seed the options give (``--seed``, else the mode's default).
    grid : dict
        Setting name to its values (:func:`parse_grid`); every combination, seeds innermost.
    """
    runs: dict[str, RunSettings] = {}
    names = list(grid)
    for combo in itertools.product(*(grid[n] for n in names)) if names else [()]:
        for seed in seeds if seeds is not None else [getattr(args, "seed", None)]:
            ns = copy.copy(args)
            given = dict(zip(names, combo))
            for name, value in given.items():
                setattr(ns, "data" if name == "path" else name, value)
            ns.seed = seed
            settings = settings_from_args(ns)
            rest = {k: v for k, v in given.items() if getattr(settings, k) != v}
            if rest:                              # a field the command line has no option for
                settings = settings.replace(**rest)
            runs.setdefault(run_key(settings), settings)
    return list(runs.values())


def run_key(settings: RunSettings) -> str:
    """A run's identity in the table: its settings as canonical JSON."""
    return json.dumps(settings.to_dict(), sort_keys=True)


# ------------------------------------------------------------------------------------------
# One run (on a worker)
# ------------------------------------------------------------------------------------------
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
    from .sweep_runs import RunOutcome
    from .tracker import RunTracker
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


# ------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------
def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def read_table(path) -> "pandas.DataFrame | None":
    """The runs already in the table at ``path`` (None if there is no file).

    Raises SweepError naming the file when it cannot be read or is not a sweep's table.
    """
    import pandas as pd
    path = Path(path)
    if not path.exists():
        return None
    try:
        if _is_parquet(path):
            df = pd.read_parquet(path)
        else:
            exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
            df = pd.read_csv(path, **exact)            # floats read back to the last digit
    except ImportError as e:
        raise SweepError(f"{path}: reading Parquet needs pyarrow ({e}); or use a .csv table") from None
    except Exception as e:  # noqa: BLE001 - any parse failure is the file's fault
        raise SweepError(f"{path} is not a readable table ({type(e).__name__}: {e}); "
                         "move it away or give another --out") from None
    missing = [c for c in ("key", "seed", *FIGURES[:6]) if c not in df.columns]
    if missing:
        raise SweepError(f"{path} is not a sweep's table: no column {', '.join(missing)}; "
                         "give another --out")
    return df


def write_table(df, path) -> None:
    """Write the table atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    try:
        with atomic_write(path, SweepError) as fh:
            if _is_parquet(path):
                df.to_parquet(fh, index=False)
            else:
                df.to_csv(fh, index=False)
    except ImportError as e:
        raise SweepError(f"{path}: writing Parquet needs pyarrow ({e}); or use a .csv table") from None


def _plain(v):
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def row_to_run(row: dict) -> dict:
    """A table row as a run of ``--json``: seed, figures, then the settings (from its key)."""
    settings = json.loads(row["key"])
    out = {"seed": settings["seed"]}
    for k in FIGURES:
        v = _plain(row.get(k))
        out[k] = int(v) if k in _INTS and v is not None else v
    out.update({k: v for k, v in settings.items() if k != "seed"})
    return out


def _ordered_columns(df):
    first = ["seed", *FIGURES, *(s for s in _SETTINGS if s != "seed")]
    return df[[c for c in first if c in df.columns] + [c for c in df.columns if c not in first]]


# ------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------
def add_sweep_parser(sub, data_opts: Callable, settings_from_args: Callable, *,
                     article_iterations: int, article_percent_correct: float) -> None:
    """Register ``digitlab sweep`` on the command line's sub-parsers.

    ``data_opts`` adds ``--data``, ``--source`` and ``--json``; ``settings_from_args`` is
    the one way options become :class:`RunSettings` (that of ``digitlab train``); the
    article's figures are those its summary compares with.
    """
    s = sub.add_parser(
        "sweep", help="many training runs (seeds, a grid of settings) on every core or a Dask cluster",
        description="Train many runs at once on dask.distributed workers and summarise them. Each run "
                    "equals `digitlab train --mode M --seed S <options>`. Needs the optional extra: "
                    'pip install -e ".[sweep]"')
    data_opts(s)
    s.add_argument("--seeds", metavar="LIST",
                   help="seeds: a range and/or a list, e.g. 0-99 or 0-9,20,30 (default: --seed)")
    s.add_argument("--grid", nargs="+", metavar="NAME=V1,V2",
                   help="every combination of these settings, e.g. alpha=0.005,0.01,0.02 kernels=4,9,16 "
                        "(any training setting: mode, train, epochs, tol, alpha, dropout, kernels, "
                        "kernel_size, hidden, batch, momentum, loss, schedule, weight_decay, augment, "
                        "biases, float64)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler (e.g. tcp://host:8786); default: a local cluster")
    s.add_argument("--workers", type=int, metavar="N",
                   help="local cluster: N worker processes (default: every core); with --scheduler: "
                        "wait for N workers")
    s.add_argument("--out", metavar="FILE", default="sweep.csv",
                   help="the runs table, .csv or .parquet (default sweep.csv); runs already in it "
                        "are skipped")
    s.add_argument("--plots", metavar="PREFIX",
                   help="save the plots as PREFIX-seeds.png / PREFIX-grid.png (default: the table's "
                        "name without its suffix)")
    s.add_argument("--no-plots", action="store_true", help="save no plots")
    s.add_argument("--runs-dir", metavar="DIR",
                   help="record each run and the plots in this runs folder, as `digitlab runs` lists "
                        "them (default: the user's data folder)")
    s.add_argument("--no-record", action="store_true", help="record nothing in the runs folder")
    t = s.add_argument_group("training (as `digitlab train`)")
    t.add_argument("--mode", choices=["article", "backprop"], default="article")
    t.add_argument("--seed", type=int, help="the seed when --seeds is not given")
    t.add_argument("--train", type=int, metavar="N")
    t.add_argument("--epochs", "--max-iter", dest="epochs", type=int, metavar="N")
    t.add_argument("--tol", type=float)
    t.add_argument("--alpha", type=float)
    t.add_argument("--dropout", type=float)
    t.add_argument("--kernels", type=int)
    t.add_argument("--kernel-size", type=int)
    t.add_argument("--hidden", type=int)
    t.add_argument("--batch", type=int)
    t.add_argument("--momentum", type=float)
    t.add_argument("--loss", choices=["xent", "mse"])
    t.add_argument("--schedule", choices=["constant", "cosine", "step"])
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    t.add_argument("--biases", action=argparse.BooleanOptionalAction, default=None)
    t.add_argument("--float64", action="store_true")

    def run(args):
        import signal

        def stop(signum, frame):            # a job killed with SIGTERM stops as with Ctrl+C:
            raise KeyboardInterrupt         # the cluster is closed, the table holds every finished run
        main_thread = threading.current_thread() is threading.main_thread()
        before = signal.signal(signal.SIGTERM, stop) if main_thread else None
        try:
            return cmd_sweep(args, settings_from_args,
                             article={"iterations": article_iterations,
                                      "percent_correct": article_percent_correct})
        except SweepError as e:
            print(f"digitlab: {e}", file=sys.stderr)
            return 2
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, before)
    s.set_defaults(func=run)


def _label(settings: RunSettings, grid: dict) -> str:
    return " ".join([f"seed {settings.seed:>3}"] + [f"{k}={getattr(settings, k)}" for k in grid])


def _cluster(args, stack):
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


def cmd_sweep(args, settings_from_args: Callable, *, article: dict) -> int:
    """``digitlab sweep``: plan, skip what the table holds, run the rest, summarise."""
    import contextlib
    try:
        import pandas as pd
        from distributed import as_completed
    except ImportError:
        raise SweepError(GET_EXTRA) from None
    if args.workers is not None and args.workers < 1:
        raise SweepError(f"--workers {args.workers}: give at least 1")
    seeds = parse_seeds(args.seeds) if args.seeds else None
    grid = parse_grid(args.grid)
    runs = plan_runs(args, settings_from_args, seeds, grid)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise SweepError(f"--out {args.out}: the folder {out.parent} does not exist")
    if not args.scheduler:               # local workers read the data where this process does
        for path in dict.fromkeys(s.path for s in runs if s.path):
            if not Path(path).exists():
                raise SweepError(f"--data {path}: no such file or folder")
    done = read_table(out)
    have = set(done["key"]) if done is not None else set()
    todo = [s for s in runs if run_key(s) not in have]
    description = (f"{len(runs)} run{'s' if len(runs) != 1 else ''}: {runs[0].describe()}"
                   + (f"; seeds {args.seeds}" if seeds else "")
                   + "".join(f"; {k} in {', '.join(map(str, v))}" for k, v in grid.items()))
    print(description, flush=True)
    if len(todo) < len(runs):
        print(f"{len(runs) - len(todo)} already in {out}: skipped", flush=True)
    rows = [] if done is None else done.to_dict("records")
    failed = []
    recorder = None
    if not args.no_record:
        from .runs import default_runs_dir
        from .sweep_runs import SweepRecorder
        recorder = SweepRecorder(args.runs_dir or default_runs_dir(), out,
                                 say=lambda line: print(line, flush=True))
    t0 = time.perf_counter()
    blas = blas_threads()        # before the local cluster sets OMP_NUM_THREADS here
    if todo:
        with contextlib.ExitStack() as stack:
            client, where = _cluster(args, stack)
            print(f"running {len(todo)} on {where}; the table: {out}", flush=True)
            futures = {client.submit(run_one if recorder is None else run_kept, s, blas, pure=False,
                                     key=f"digitlab-run-{hashlib.sha1(run_key(s).encode()).hexdigest()[:16]}"): s
                       for s in todo}
            for n, fut in enumerate(as_completed(futures), 1):
                s = futures[fut]
                try:
                    row = fut.result()
                    if recorder is not None:         # before the table: a crash between the two
                        row, outcome = row           # reruns the run, never records it twice
                        recorder.save_run(row["key"], s, outcome)
                except DataError as e:           # every run would fail alike: stop here
                    raise SweepError(f"a worker could not load the data: {e}") from None
                except Exception as e:  # noqa: BLE001 - one run's failure must not lose the others
                    failed.append((s, e))
                    print(f"[{n:>{len(str(len(todo)))}}/{len(todo)}] {_label(s, grid)}: failed: "
                          f"{type(e).__name__}: {e}", flush=True)
                    continue
                rows.append(row)
                write_table(_ordered_columns(pd.DataFrame(rows)), out)
                elapsed = time.perf_counter() - t0
                print(f"[{n:>{len(str(len(todo)))}}/{len(todo)}] {_label(s, grid)}: "
                      f"{row['iterations']} iterations ({row['reason']}), "
                      f"{row['percent_correct']:.2f}% correct, arg-max {row['argmax_accuracy']:.2f}%, "
                      f"test error {row['test_error']:.5f}  [{row['wall_seconds']:.0f} s; "
                      f"{elapsed:.0f} s so far]", flush=True)
    wall = time.perf_counter() - t0
    by_key = {r["key"]: r for r in rows}
    mine = [row_to_run(by_key[run_key(s)]) for s in runs if run_key(s) in by_key]
    from .sweep_summary import save_plots, summarize, summary_lines
    summary = summarize(pd.DataFrame(mine), list(grid), article=article) if mine else {}
    for line in summary_lines(summary):
        print(line, flush=True)
    plots = []
    if mine and not args.no_plots:
        try:
            plots = save_plots(pd.DataFrame(mine), list(grid), summary,
                               args.plots or str(out.with_suffix("")), article=article)
        except ImportError:
            print(f"no plots: {GET_EXTRA}", flush=True)
        for p in plots:
            print(f"saved the plot {p}", flush=True)
    if recorder is not None and mine:
        where = recorder.finish(description, len(mine), summary_lines(summary), plots)
        if where is not None:
            print(f"{recorder.recorded} run{'s' if recorder.recorded != 1 else ''} recorded in "
                  f"{recorder.runs_dir}; the sweep: {where}", flush=True)
    if todo:
        print(f"{len(todo) - len(failed)} runs in {wall:.1f} s", flush=True)
    if args.json:
        print(json.dumps({"runs": mine, "summary": summary, "table": str(out), "plots": plots,
                          "skipped": len(runs) - len(todo), "failed": len(failed),
                          "sweep": recorder.id if recorder else None,
                          "recorded": recorder.recorded if recorder else 0,
                          "wall_seconds": wall}, default=_plain))
    if failed:
        print(f"digitlab: {len(failed)} run{'s' if len(failed) != 1 else ''} failed; run the same "
              "command again to retry them", file=sys.stderr)
        return 1
    return 0
