"""``digitlab sweep``: many training runs (seeds, a grid of settings) on a Dask cluster.

Each run is built exactly as ``digitlab train --mode M --seed S <options>`` builds it and
trained by the same recipe (:mod:`engine.train.recipes`), so its figures equal that command's to
the last digit. Runs go to ``dask.distributed`` workers: a local cluster on every core by
default (one process of one thread a worker), or an existing scheduler. A worker loads and
prepares the data itself, once per worker process and data key, so no arrays travel
through the scheduler.

Every finished run is added to one table (CSV, or Parquet with pyarrow), rewritten
atomically, so an interrupted sweep resumes and skips the runs already in it. The summary
(:mod:`engine.sweep.summary`) places the article's own run among the seeds, or tabulates a
grid, and saves its plots as PNG images. Each finished run is also recorded in the runs
folder, with the plots, by this process (:mod:`engine.sweep.recorded`).

Dask and matplotlib are the optional extra ``sweep``; without them the command says how to
get them. This module imports neither at import time.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from ..cli_parts import seed as seed_arg
from ..files.data import DataError
from ..train.recipes import RunSettings
from .cluster import (WORKER_ENV, Stalled, blas_threads, connect, forget_clusters, results,
                            run_kept, run_one)
from .plan import GET_EXTRA, SweepError, parse_grid, parse_seeds, plan_runs, run_key
from .table import (FIGURES, add_rows, check_writable, plain, read_table, row_to_run,
                          write_table)

__all__ = ["SweepError", "GET_EXTRA", "WORKER_ENV", "FIGURES", "parse_seeds", "parse_grid",
           "plan_runs", "run_key", "blas_threads", "run_one", "run_kept", "read_table", "write_table",
           "row_to_run", "add_sweep_parser", "cmd_sweep"]


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
    s.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                   help="stop, saying which runs are left, when no worker is there (or the scheduler "
                        "does not answer) for this long (default 120); a scheduler that does not answer "
                        "within min(SECONDS, 20) is refused")
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
    t.add_argument("--seed", type=seed_arg, help="the seed when --seeds is not given")
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
        except Stalled as e:
            print(f"digitlab: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            forget_clusters()               # one started half-way: no traceback at exit
            raise
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, before)
    s.set_defaults(func=run)


def _label(settings: RunSettings, grid: dict) -> str:
    return " ".join([f"seed {settings.seed:>3}"] + [f"{k}={getattr(settings, k)}" for k in grid])


def cmd_sweep(args, settings_from_args: Callable, *, article: dict) -> int:
    """``digitlab sweep``: plan, skip what the table holds, run the rest, summarise."""
    import contextlib
    try:
        import pandas as pd
        import distributed  # noqa: F401 - the optional extra is there
    except ImportError:
        raise SweepError(GET_EXTRA) from None
    if not (args.wait > 0 and math.isfinite(args.wait)):
        raise SweepError(f"--wait {args.wait}: give a number of seconds above 0")
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
    check_writable(out)
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
        from ..history.runs import default_runs_dir
        from .recorded import SweepRecorder
        recorder = SweepRecorder(args.runs_dir or default_runs_dir(), out,
                                 say=lambda line: print(line, flush=True))
    t0 = time.perf_counter()
    blas = blas_threads()        # before the local cluster sets OMP_NUM_THREADS here
    if todo:
        with contextlib.ExitStack() as stack:
            client, where = connect(args, stack)
            print(f"running {len(todo)} on {where}; the table: {out}", flush=True)
            futures = {client.submit(run_one if recorder is None else run_kept, s, blas, pure=False,
                                     key=f"digitlab-run-{hashlib.sha1(run_key(s).encode()).hexdigest()[:16]}"): s
                       for s in todo}
            width = len(str(len(todo)))
            for n, (fut, s) in enumerate(results(client, futures, args.wait), 1):
                try:
                    row = fut.result()
                    if recorder is not None:         # before the table: a crash between the two
                        row, outcome = row           # reruns the run, never records it twice
                        recorder.save_run(row["key"], s, outcome)
                except DataError as e:           # every run would fail alike: stop here
                    raise SweepError(f"a worker could not load the data: {e}") from None
                except Exception as e:  # noqa: BLE001 - one run's failure must not lose the others
                    failed.append((s, e))
                    print(f"[{n:>{width}}/{len(todo)}] {_label(s, grid)}: failed: "
                          f"{type(e).__name__}: {e}", flush=True)
                    continue
                table = add_rows(out, [row])         # under the table's lock: other sweeps' rows kept
                rows = table.to_dict("records")
                elapsed = time.perf_counter() - t0
                print(f"[{n:>{width}}/{len(todo)}] {_label(s, grid)}: "
                      f"{row['iterations']} iterations ({row['reason']}), "
                      f"{row['percent_correct']:.2f}% correct, arg-max {row['argmax_accuracy']:.2f}%, "
                      f"test error {row['test_error']:.5f}  [{row['wall_seconds']:.0f} s; "
                      f"{elapsed:.0f} s so far]", flush=True)
    wall = time.perf_counter() - t0
    by_key = {r["key"]: r for r in rows}
    mine = [row_to_run(by_key[run_key(s)]) for s in runs if run_key(s) in by_key]
    from .summary import save_plots, summarize, summary_lines
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
                          "wall_seconds": wall}, default=plain))
    if failed:
        print(f"digitlab: {len(failed)} run{'s' if len(failed) != 1 else ''} failed; run the same "
              "command again to retry them", file=sys.stderr)
        return 1
    return 0
