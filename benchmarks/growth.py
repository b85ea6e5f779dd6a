"""How time and memory grow with the work: training images, kernels, hidden units,
snapshots kept, runs recorded, and a sweep's workers.

Every training figure is ``digitlab train`` in a fresh process (recording on, as for a user;
:func:`benchmarks.user_path.cli_train`): µs an image of training and the process's peak
memory. Snapshots are counted in one process (:class:`engine.train.tracker.RunTracker`):
how many a run keeps and their bytes as the run gets longer. Runs recorded: ``digitlab runs``
over a folder of 10, 100 and 1,000 runs (hard links to one real run's files, each with its
own record). The sweep: ``digitlab sweep`` over four seeds with one and with two local
workers (needs the ``sweep`` extra; left out without it).

Prints Markdown tables (for ``docs/performance.md``).

Usage::

    python benchmarks/growth.py [--data MNIST] [--quick] [--no-sweep]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.user_path import cli_train, data_arguments, load_line  # noqa: E402


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def training_rows(a, mode: str, name: str, values, base: list[str]) -> None:
    """One table: ``digitlab train --mode mode`` with ``--name`` over ``values``."""
    print(f"\n{mode} mode, `--{name}` ({' '.join(base)}):\n")
    print(row(name, "µs an image (training)", "test s", "peak memory MB"))
    print(row("---", "---", "---", "---"))
    for v in values:
        out = cli_train(["--mode", mode, f"--{name}", str(v), *base, *data_arguments(a.data)])
        print(row(f"{v:,}", f"{1e6 / out['images_per_second']:.1f}", f"{out['test_seconds']:.2f}",
                  f"{out['max_rss_mb']:.0f}"), flush=True)


def snapshot_rows(a) -> None:
    """Snapshots kept and their bytes as a run grows (the timeline's cap bounds both)."""
    from engine.train.recipes import ARTICLE, load_data, make_run, prepare
    from engine.train.tracker import RunTracker
    settings = ARTICLE.replace(source="local" if a.data else "sample", path=a.data, train=500, tol=0.0)
    data = prepare(settings, load_data(settings))
    print("\nSnapshots (article mode, 500 images an iteration):\n")
    print(row("iterations", "snapshots kept", "their MB", "run s", "of which training s"))
    print(row("---", "---", "---", "---", "---"))
    for epochs in (1, 10, 100, 400) if not a.quick else (1, 10, 40):
        s = settings.replace(epochs=epochs)
        model, stepper = make_run(s, data)
        run = RunTracker(s, data, model, stepper)
        t0 = time.perf_counter()
        run.run()
        wall = time.perf_counter() - t0
        print(row(epochs, len(run.timeline), f"{run.timeline.nbytes / 1e6:.1f}", f"{wall:.2f}",
                  f"{run.finished.seconds:.2f}"), flush=True)


def runs_rows(a) -> None:
    """``digitlab runs`` over folders of many runs."""
    with tempfile.TemporaryDirectory(prefix="digitlab-runs-") as tmp:
        one = Path(tmp) / "one"
        cli = ["--mode", "article", "--train", "500", "--epochs", "2", "--tol", "0", *data_arguments(a.data)]
        subprocess.run([sys.executable, "-m", "engine", "train", *cli, "--runs-dir", str(one)],
                       cwd=ROOT, check=True, capture_output=True)
        model_run = next(one.iterdir())
        record = json.loads((model_run / "run.json").read_text())
        print("\nRuns recorded (`digitlab runs`, fresh process each):\n")
        print(row("runs", "seconds", "of which listing"))
        print(row("---", "---", "---"))
        for count in (10, 100, 1000):
            folder = Path(tmp) / f"runs{count}"
            folder.mkdir()
            for i in range(count):
                run_id = f"20260101-{i:06d}-article"
                d = folder / run_id
                d.mkdir()
                for f in model_run.iterdir():
                    if f.name != "run.json":
                        os.link(f, d / f.name)
                (d / "run.json").write_text(json.dumps({**record, "id": run_id,
                                                        "created": record["created"] + i}))
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", _LIST, str(folder)], cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            print(row(f"{count:,}", f"{wall:.2f}", f"{float(done.stdout.split()[-1]):.2f}"), flush=True)


#: ``digitlab runs --runs-dir D`` in the child, printing how long the command itself took.
_LIST = ("import sys, time, io, contextlib\n"
         "t0 = time.perf_counter()\n"
         "from engine.cli import main\n"
         "with contextlib.redirect_stdout(io.StringIO()):\n"
         "    main(['runs', '--runs-dir', sys.argv[1]])\n"
         "print(time.perf_counter() - t0)\n")


def sweep_rows(a) -> None:
    """A sweep of four seeds on one and on two local workers."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("\n(sweep left out: the optional `sweep` extra is not installed)")
        return
    print("\nSweep (`digitlab sweep --seeds 0-3 --train 10000 --epochs 2`, the whole command):\n")
    print(row("mode", "workers", "seconds", "speed-up"))
    print(row("---", "---", "---", "---"))
    for mode in ("article", "backprop"):
        first = None
        for workers in (1, 2):
            cmd = [sys.executable, "-m", "engine", "sweep", "--seeds", "0-3", "--mode", mode,
                   "--train", "10000", "--epochs", "2", "--tol", "0", "--workers", str(workers),
                   "--no-record", "--no-plots", *data_arguments(a.data)]
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                subprocess.run(cmd + ["--out", str(Path(tmp) / "sweep.csv")], cwd=ROOT, check=True,
                               capture_output=True)
                wall = time.perf_counter() - t0
            first = first or wall
            print(row(mode, workers, f"{wall:.1f}", f"{first / wall:.2f}x"), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_MNIST"),
                    help="MNIST: a folder of IDX files or an .npz (default: $DIGITLAB_MNIST, else the sample)")
    ap.add_argument("--quick", action="store_true", help="fewer and smaller points")
    ap.add_argument("--no-sweep", action="store_true")
    a = ap.parse_args(argv)
    print(load_line())
    images = (7_500, 15_000, 30_000, 60_000) if a.data else (1_250, 2_500, 5_000)
    if a.quick:
        images = images[:2]
    training_rows(a, "backprop", "train", images, ["--epochs", "1"])
    small = ["--train", "2000" if a.quick else "5000", "--epochs", "1", "--tol", "0"]
    training_rows(a, "article", "kernels", (9, 18, 36), small)
    training_rows(a, "backprop", "kernels", (9, 18, 36), ["--train", "15000", "--epochs", "1"])
    training_rows(a, "article", "hidden", (100, 200, 400, 800), small)
    training_rows(a, "backprop", "hidden", (100, 200, 400, 800), ["--train", "15000", "--epochs", "1"])
    snapshot_rows(a)
    runs_rows(a)
    if not a.no_sweep:
        sweep_rows(a)
    print("\n" + load_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
