"""A sweep in the runs folder: its runs recorded as any run, its plots beside them.

The process that collects a sweep's results (the client, never a worker: a remote
worker's disk may not be this one's) records each finished run with
:func:`engine.history.runs.save_run`: settings, per-iteration figures and final model, marked with
the sweep's id and the run's key, and no snapshots (a timeline a run would make a 100-seed
sweep weigh gigabytes). The worker sends back the final model and the figures
(:class:`RunOutcome`, a few hundred KiB at most).

The sweep itself is the folder ``<runs dir>/sweeps/<sweep id>/``: ``sweep.json`` (what it
ran, its summary in words, its plots) and copies of its PNG plots, which the window's Runs
view shows. A sweep's id comes from its table (``--out``): the same table is the same
sweep, so a resumed sweep adds to the same record, and a run already recorded under its id
(found by its key) is never recorded again.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..files.safefile import atomic_write, read_bytes
from ..history.runs import RunLog, RunsError, list_runs, save_run
from ..history.snapshots import Timeline
from ..net.model import Model
from ..train.events import Finished

__all__ = ["SWEEPS", "SWEEP_FILE", "RunOutcome", "SweepInfo", "sweep_id", "recorded_keys",
           "SweepRecorder", "save_sweep", "list_sweeps"]

#: The sub-folder of the runs folder that holds the sweeps.
SWEEPS = "sweeps"
SWEEP_FILE = "sweep.json"


@dataclass
class RunOutcome:
    """What a worker sends back besides the table's row, for the runs folder.

    Attributes
    ----------
    model : Model
        The final model, its record holding the test figures.
    curves : list of dict
        Per-iteration figures (rows of :class:`engine.history.runs.RunLog`).
    finished : Finished
    data_description : str
    """

    model: Model
    curves: list
    finished: Finished
    data_description: str = ""


@dataclass
class SweepInfo:
    """What ``sweep.json`` says of a sweep."""

    id: str
    path: Path
    created: float
    updated: float
    table: str
    description: str
    runs: int
    plots: list = field(default_factory=list)          # Paths of the PNG copies
    summary: list = field(default_factory=list)        # the summary, in lines of text


def sweep_id(table) -> str:
    """The id of the sweep whose table is ``table``: its name and a hash of its full path."""
    path = Path(table).expanduser().resolve()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)[:40] or "sweep"
    return f"{stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"


def recorded_keys(runs_dir, sid: str) -> set[str]:
    """The keys of the runs of sweep ``sid`` already in ``runs_dir``."""
    runs, _ = list_runs(runs_dir)
    return {r.sweep_key for r in runs if r.sweep == sid and r.sweep_key}


class SweepRecorder:
    """Records a sweep's runs and plots in a runs folder, each run once.

    Parameters
    ----------
    runs_dir : path
    table : path
        The sweep's table (its id comes from it: :func:`sweep_id`).
    say : callable
        Prints a line (a run that cannot be recorded is a note, never a failed run).
    """

    def __init__(self, runs_dir, table, say=print):
        self.runs_dir = Path(runs_dir).expanduser()
        self.id = sweep_id(table)
        self.table = Path(table)
        self.say = say
        self.done = recorded_keys(self.runs_dir, self.id)
        self.recorded = 0

    def save_run(self, key: str, settings, outcome: RunOutcome) -> Path | None:
        """Save one run in the runs folder unless its key is there already; its folder or None."""
        if key in self.done:
            return None
        log = RunLog()
        log.rows = list(outcome.curves)
        try:
            folder = save_run(self.runs_dir, settings, outcome.model, Timeline(), log, outcome.finished,
                              data_description=outcome.data_description,
                              sweep={"id": self.id, "key": key})
        except (OSError, ValueError) as e:
            self.say(f"note: the run was not recorded: {e}")
            return None
        self.done.add(key)
        self.recorded += 1
        return folder

    def finish(self, description: str, runs: int, summary: list[str], plots: list[str]) -> Path | None:
        """Record the sweep itself (:func:`save_sweep`); a failure is a note."""
        try:
            return save_sweep(self.runs_dir, self.id, table=str(self.table), description=description,
                              runs=runs, summary=summary, plots=plots)
        except (OSError, ValueError) as e:
            self.say(f"note: the sweep's plots were not recorded: {e}")
            return None


def save_sweep(runs_dir, sid: str, *, table: str, description: str, runs: int, summary: list[str],
               plots: list[str], now: float | None = None) -> Path:
    """Write (or update) ``<runs_dir>/sweeps/<sid>/``: copies of ``plots`` and ``sweep.json``.

    Raises
    ------
    RunsError
        Naming the folder or file that could not be written or read.
    """
    folder = Path(runs_dir).expanduser() / SWEEPS / sid
    now = time.time() if now is None else float(now)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunsError(f"{folder}: cannot make the sweep's folder ({e.strerror or e})") from None
    created = now
    if (folder / SWEEP_FILE).is_file():
        try:
            created = float(json.loads((folder / SWEEP_FILE).read_text(encoding="utf-8"))["created"])
        except (OSError, ValueError, KeyError, TypeError):
            pass                                    # rewritten whole below
    names = []
    for p in map(Path, plots):
        try:
            data = p.read_bytes()
        except OSError as e:
            raise RunsError(f"{p}: cannot read the plot ({e.strerror or e})") from None
        with atomic_write(folder / p.name, RunsError) as fh:
            fh.write(data)
        names.append(p.name)
    record = {"id": sid, "created": created, "updated": now, "table": table,
              "description": description, "runs": int(runs), "plots": names, "summary": list(summary)}
    with atomic_write(folder / SWEEP_FILE, RunsError, mode="w") as fh:
        json.dump(record, fh, indent=1)
    return folder


def _plot_name(name) -> str:
    """A plot's file name as ``sweep.json`` gives it: a plain ``.png`` name in the sweep's own
    folder (never a path elsewhere, ``../../etc/passwd``)."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", "..") \
            or "\\" in name or not name.lower().endswith(".png"):
        raise ValueError(f"the plot {name!r} is not a .png file name in the sweep's folder")
    return name


def _read_sweep(folder: Path) -> SweepInfo:
    path = folder / SWEEP_FILE
    try:
        d = json.loads(read_bytes(path, 16 << 20, RunsError).decode("utf-8"))
        return SweepInfo(id=str(d["id"]), path=folder, created=float(d["created"]),
                         updated=float(d.get("updated", d["created"])), table=str(d.get("table", "")),
                         description=str(d.get("description", "")), runs=int(d.get("runs", 0)),
                         plots=[folder / _plot_name(n) for n in d.get("plots") or []],
                         summary=[str(s) for s in d.get("summary") or []])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as e:
        raise RunsError(f"{path}: not a readable sweep record ({e})") from None


def list_sweeps(runs_dir) -> tuple[list[SweepInfo], list[str]]:
    """The sweeps recorded in ``runs_dir``, last updated first, and one message per sweep
    folder that could not be read (left as it is)."""
    root = Path(runs_dir).expanduser() / SWEEPS
    try:
        if not root.is_dir():
            return [], []
        folders = sorted(root.iterdir())
    except OSError as e:
        return [], [f"{root}: cannot be read ({e.strerror or e})"]
    sweeps, faults = [], []
    for folder in folders:
        try:
            if not (folder / SWEEP_FILE).is_file():
                continue
            sweeps.append(_read_sweep(folder))
        except RunsError as e:
            faults.append(str(e))
        except OSError as e:
            faults.append(f"{folder}: cannot be read ({e.strerror or e})")
    sweeps.sort(key=lambda s: s.updated, reverse=True)
    return sweeps, faults
