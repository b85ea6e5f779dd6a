"""The runs folder: every training run recorded, listed, opened, exported and deleted.

A run is a folder ``<runs dir>/<id>/`` holding ``run.json`` (settings, per-iteration
figures, summary), ``snapshots.npz`` (the timeline's weights, stacked, and each
snapshot's figures) and ``model.npz`` (the final model). A run of a sweep
(:mod:`engine.sweep.recorded`) is marked with the sweep's id and keeps no snapshots (its timeline
is its final model alone). Every file is written atomically (:mod:`engine.files.safefile`). :func:`default_runs_dir` is the one place that
decides where runs go (the window and the command line use it); ``DIGITLAB_RUNS_DIR``
overrides it, as does ``--runs-dir``.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files.safefile import FileFault, atomic_write, read_bytes
from ..net.model import Model
from ..train.events import Evaluated, IterationEnd
from ..train.record import TestFigures
from .png import kernel_strip, png_bytes
from .snapshots import TimePoint, Timeline

__all__ = ["RunsError", "RunInfo", "RunLog", "default_runs_dir", "save_run", "list_runs",
           "load_timeline", "load_run_model", "delete_run", "curves_frame", "export_curves_csv",
           "export_kernel_strip", "kernel_strip"]

RUN_FILE, SNAP_FILE, MODEL_FILE = "run.json", "snapshots.npz", "model.npz"
#: The largest run.json read (its curves: a few hundred bytes an iteration).
MAX_RUN_FILE = 64 << 20


class RunsError(FileFault):
    """A run folder cannot be read or written (the message names the file and the fault)."""


def default_runs_dir() -> Path:
    """Where runs are recorded: ``$DIGITLAB_RUNS_DIR``, else the user's data folder
    (``%APPDATA%\\Digitlab\\runs`` on Windows, ``~/Library/Application Support/Digitlab/runs``
    on macOS, ``$XDG_DATA_HOME/Digitlab/runs`` or ``~/.local/share/Digitlab/runs`` elsewhere)."""
    env = os.environ.get("DIGITLAB_RUNS_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "Digitlab" / "runs"


class RunLog:
    """Per-iteration figures of a run, gathered from its events (pass them to :meth:`see`)."""

    def __init__(self):
        self.rows: list[dict] = []

    def see(self, ev) -> None:
        if isinstance(ev, IterationEnd):
            self.rows.append({"iteration": ev.iteration + 1, "train_error": ev.train_error,
                              "loss": ev.loss, "seconds": ev.seconds})
        elif isinstance(ev, Evaluated):
            f = ev.figures
            for row in reversed(self.rows):
                if row["iteration"] == ev.iteration + 1:
                    row.update(test_error=f.test_error, argmax_accuracy=f.argmax_accuracy,
                               percent_correct=f.percent_correct)
                    break


@dataclass
class RunInfo:
    """What ``run.json`` says of a run (the list's row)."""

    id: str
    path: Path
    created: float
    mode: str
    iterations: int
    argmax_accuracy: float | None
    percent_correct: float | None
    test_error: float | None
    train_seconds: float
    snapshots: int
    architecture: str
    data: str
    reason: str
    settings: dict = field(default_factory=dict)
    curves: list = field(default_factory=list)
    sweep: str | None = None
    sweep_key: str | None = None
    finished: bool = True

    def to_json(self) -> dict:
        return {"id": self.id, "mode": self.mode, "iterations": self.iterations,
                "argmax_accuracy": self.argmax_accuracy, "percent_correct": self.percent_correct,
                "test_error": self.test_error, "snapshots": self.snapshots, "path": str(self.path),
                "created": self.created, "train_seconds": self.train_seconds,
                "architecture": self.architecture, "data": self.data, "reason": self.reason,
                "sweep": self.sweep, "finished": self.finished}


def _finite(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _new_id(runs_dir: Path, mode: str, now: float) -> str:
    stem = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{mode}"
    name, n = stem, 1
    while (runs_dir / name).exists():
        n += 1
        name = f"{stem}-{n}"
    return name


def save_run(runs_dir, settings, model: Model, timeline: Timeline, log: RunLog, finished, *,
             data_description: str = "", now: float | None = None, sweep: dict | None = None) -> Path:
    """Record a finished run in ``runs_dir`` (created if needed); returns the run's folder.

    Parameters
    ----------
    runs_dir : str or Path
    settings : engine.train.recipes.RunSettings
    model : Model
        The final model (its record holds the test figures).
    timeline : Timeline
    log : RunLog
    finished : engine.train.events.Finished
    data_description : str
    now : float, optional
        Time stamp (seconds since the epoch).
    sweep : dict, optional
        ``{"id": sweep id, "key": the run's key in the sweep}`` for a run of a sweep; such a
        run may come with an empty timeline (then no ``snapshots.npz`` is written).

    Raises
    ------
    RunsError
        Naming the folder or file that could not be written.
    """
    from ..files.modelfile import save_model
    if not len(timeline) and sweep is None:
        raise RunsError("a run without snapshots is not recorded")
    runs_dir = Path(runs_dir).expanduser()
    now = time.time() if now is None else float(now)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        folder = runs_dir / _new_id(runs_dir, settings.mode, now)
        folder.mkdir()
    except OSError as e:
        raise RunsError(f"{runs_dir}: cannot make a run folder here ({e.strerror or e})") from None
    c, rec = model.config, model.record
    t = rec.test
    summary = {"id": folder.name, "created": now, "mode": settings.mode,
               "iterations": int(rec.iterations), "reason": finished.reason,
               "train_error": _finite(float(finished.train_error)),
               "train_seconds": float(finished.seconds),
               "test_error": t.test_error if t else None,
               "argmax_accuracy": t.argmax_accuracy if t else None,
               "percent_correct": t.percent_correct if t else None,
               "snapshots": len(timeline),
               "architecture": f"{c.kernels} kernels {c.kernel_size}x{c.kernel_size}, {c.hidden} hidden",
               "data": data_description, "settings": settings.to_dict(),
               "curves": [{k: _finite(v) for k, v in row.items()} for row in log.rows]}
    if sweep is not None:
        summary["sweep"] = {"id": str(sweep["id"]), "key": str(sweep["key"])}
    try:
        if len(timeline):
            _write_snapshots(folder / SNAP_FILE, timeline)
        save_model(model, folder / MODEL_FILE)
        with atomic_write(folder / RUN_FILE, RunsError, mode="w") as fh:   # last: marks the run whole
            json.dump(summary, fh, indent=1)
    except BaseException:                   # nothing half-written stays behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _write_snapshots(path: Path, timeline: Timeline) -> None:
    pts = timeline.points
    arrays = {f"p_{k}": np.stack([p.model.params[k] for p in pts]) for k in pts[0].model.params}
    tests = np.full((len(pts), 3), np.nan)
    conf = np.zeros((len(pts), 10, 10), np.int64)
    for i, p in enumerate(pts):
        if p.test is not None:
            tests[i] = (p.test.test_error, p.test.percent_correct, p.test.argmax_accuracy)
            if p.test.confusion is not None:
                conf[i] = p.test.confusion
    arrays.update(images=np.array([p.images for p in pts], np.int64),
                  position=np.array([p.position for p in pts]),
                  train_error=np.array([p.train_error for p in pts]), tests=tests, confusion=conf)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with atomic_write(path, RunsError) as fh:
        fh.write(buf.getvalue())


def _field(d: dict, key: str, kind, default=None, *, optional: bool = False):
    """``d[key]`` checked: ``kind`` is int, float or str; None allowed when ``optional``."""
    v = d.get(key, default)
    if v is None and (optional or default is None and kind is not str):
        if optional:
            return None
        raise ValueError(f"no '{key}'")
    if kind is str:
        if not isinstance(v, str):
            raise ValueError(f"'{key}' must be text, not {v!r}")
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"'{key}' must be a finite number, not {v!r}")
    if kind is int:
        if v != int(v):
            raise ValueError(f"'{key}' must be a whole number, not {v!r}")
        return int(v)
    return float(v)


def _read_info(folder: Path) -> RunInfo:
    path = folder / RUN_FILE
    try:
        d = json.loads(read_bytes(path, MAX_RUN_FILE, RunsError).decode("utf-8"))
        if not isinstance(d, dict):
            raise ValueError(f"a JSON object was expected, not {type(d).__name__}")
        sweep = d.get("sweep") or {}
        settings, curves = d.get("settings") or {}, d.get("curves") or []
        if not isinstance(sweep, dict) or not isinstance(settings, dict) or not isinstance(curves, list) \
                or not all(isinstance(c, dict) for c in curves):
            raise ValueError("'sweep' and 'settings' must be objects, 'curves' a list of objects")
        sid, skey = sweep.get("id"), sweep.get("key")
        if not all(v is None or isinstance(v, str) for v in (sid, skey)):
            raise ValueError("the sweep's 'id' and 'key' must be text")
        return RunInfo(id=_field(d, "id", str), path=folder, created=_field(d, "created", float),
                       mode=_field(d, "mode", str), iterations=_field(d, "iterations", int),
                       argmax_accuracy=_field(d, "argmax_accuracy", float, optional=True),
                       percent_correct=_field(d, "percent_correct", float, optional=True),
                       test_error=_field(d, "test_error", float, optional=True),
                       train_seconds=_field(d, "train_seconds", float, optional=True) or 0.0,
                       snapshots=_field(d, "snapshots", int, 0), architecture=_field(d, "architecture", str, ""),
                       data=_field(d, "data", str, ""), reason=_field(d, "reason", str, ""),
                       settings=dict(settings), curves=list(curves), sweep=sid, sweep_key=skey)
    except RunsError:
        raise
    except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError) as e:
        raise RunsError(f"{path}: not a readable run record ({e})") from None


_RUN_ID = re.compile(r"^\d{8}-\d{6}-(article|backprop)(-\d+)?$")


def _unfinished(folder: Path) -> RunInfo:
    """A run folder that never got its ``run.json`` (the run or its recording was interrupted)."""
    try:
        created = folder.stat().st_mtime
    except OSError:
        created = 0.0
    return RunInfo(id=folder.name, path=folder, created=created, mode=_RUN_ID.match(folder.name)[1],
                   iterations=0, argmax_accuracy=None, percent_correct=None, test_error=None,
                   train_seconds=0.0, snapshots=0, architecture="unfinished: never recorded whole",
                   data="", reason="unfinished", finished=False)


def list_runs(runs_dir=None) -> tuple[list[RunInfo], list[str]]:
    """The runs recorded in ``runs_dir`` (default :func:`default_runs_dir`), newest first,
    and one message per folder that could not be read (left as it is). A run folder left
    without its ``run.json`` (interrupted) is listed with ``finished=False``; it can be deleted."""
    runs_dir = Path(runs_dir).expanduser() if runs_dir is not None else default_runs_dir()
    try:
        if not runs_dir.is_dir():
            return [], []
        folders = sorted(runs_dir.iterdir())
    except OSError as e:
        return [], [f"{runs_dir}: cannot be read ({e.strerror or e})"]
    runs, faults = [], []
    for folder in folders:
        try:
            if not (folder / RUN_FILE).is_file():
                if _RUN_ID.match(folder.name) and folder.is_dir():
                    runs.append(_unfinished(folder))
                continue
            runs.append(_read_info(folder))
        except RunsError as e:
            faults.append(str(e))
        except OSError as e:
            faults.append(f"{folder}: cannot be read ({e.strerror or e})")
    runs.sort(key=lambda r: r.created, reverse=True)
    return runs, faults


def load_run_model(run: RunInfo) -> Model:
    """The final model of a run."""
    from ..files.modelfile import load_model
    return load_model(run.path / MODEL_FILE)


def load_timeline(run: RunInfo, model: Model | None = None) -> Timeline:
    """A run's snapshots as a :class:`Timeline` (``model``: its final model, for the
    architecture and normalisation; read from the run when not given). A run that kept no
    snapshots (a sweep's) gives one point: its final model, with its test figures."""
    model = model if model is not None else load_run_model(run)
    if run.snapshots == 0:
        rec = model.record
        tl = Timeline()
        tl.points.append(TimePoint(int(rec.iterations * (rec.train_images or 0)), float(run.iterations),
                                   float(rec.train_error), model, rec.test))
        return tl
    path = run.path / SNAP_FILE
    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        keys = [k[2:] for k in d if k.startswith("p_")]
        n = len(d["images"])
        if set(keys) != set(model.params) or any(len(d[f"p_{k}"]) != n for k in keys):
            raise ValueError("the snapshots do not match the run's model")
    except (OSError, ValueError, KeyError) as e:
        raise RunsError(f"{path}: cannot read the snapshots ({e})") from None
    tl = Timeline(cap=max(n, 4))
    for i in range(n):
        m = Model(model.config, {k: d[f"p_{k}"][i] for k in keys}, model.norm, name=f"{run.id} #{i}")
        te, pc, am = d["tests"][i]
        test = None if math.isnan(te) else TestFigures(float(te), float(pc), float(am), 0,
                                                       d["confusion"][i])
        tl.points.append(TimePoint(int(d["images"][i]), float(d["position"][i]),
                                   float(d["train_error"][i]), m, test))
    return tl


def delete_run(run: RunInfo) -> None:
    """Delete a run's folder (only a folder holding a run record, or an unfinished run's)."""
    if not (run.path / RUN_FILE).is_file() and not (_RUN_ID.match(run.path.name) and run.path.is_dir()):
        raise RunsError(f"{run.path}: not a run folder; nothing deleted")
    try:
        shutil.rmtree(run.path)
    except OSError as e:
        raise RunsError(f"{run.path}: could not delete it ({e.strerror or e})") from None


def curves_frame(run: RunInfo):
    """The run's per-iteration figures as a pandas DataFrame (one row an iteration)."""
    import pandas as pd
    cols = ["iteration", "train_error", "loss", "seconds", "test_error", "argmax_accuracy",
            "percent_correct"]
    return pd.DataFrame(run.curves).reindex(columns=cols)


def export_curves_csv(run: RunInfo, path) -> Path:
    """Write the run's curves as CSV (pandas), atomically."""
    path = Path(path)
    text = curves_frame(run).to_csv(index=False)
    with atomic_write(path, RunsError, mode="w") as fh:
        fh.write(text)
    return path


def export_kernel_strip(timeline: Timeline, path, zoom: int = 4) -> Path:
    """Write :func:`kernel_strip` as a PNG file, atomically."""
    path = Path(path)
    with atomic_write(path, RunsError) as fh:
        fh.write(png_bytes(kernel_strip(timeline, zoom)))
    return path
