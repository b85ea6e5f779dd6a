"""A sweep's table: every finished run, one row each (CSV, or Parquet with pyarrow).

The table is rewritten atomically after each run, so an interrupted sweep resumes and
skips the runs already in it.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..files.safefile import atomic_write
from ..train.recipes import RunSettings
from .plan import SweepError

try:
    import fcntl
    msvcrt = None
except ImportError:                                   # Windows
    fcntl = None
    import msvcrt

if TYPE_CHECKING:
    import pandas

__all__ = ["FIGURES", "read_table", "write_table", "add_rows", "table_lock", "check_writable", "row_to_run",
           "ordered_columns", "plain"]

#: A run's figures, as the table and ``--json`` hold them (after ``seed``, before the settings).
FIGURES = ("iterations", "reason", "train_error", "test_error", "percent_correct",
           "argmax_accuracy", "train_seconds", "images_per_second", "train_images", "data_source",
           "wall_seconds")
_INTS = {"iterations", "train_images"}
_NUMBERS = ("seed", "iterations", "train_error", "test_error", "percent_correct", "argmax_accuracy",
            "train_seconds", "images_per_second", "train_images", "wall_seconds")
_SETTINGS = tuple(f.name for f in fields(RunSettings))


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
    for col in [c for c in _NUMBERS if c in df.columns]:
        numbers = pd.to_numeric(df[col], errors="coerce")
        bad = numbers.isna() & df[col].notna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise SweepError(f"{path}: row {i + 1}, column {col}: {df[col].iloc[i]!r} is not a number; "
                             "correct or remove that row (it is run again), or give another --out")
        df[col] = numbers
    for i, key in enumerate(df["key"]):
        try:
            ok = isinstance(json.loads(key), dict)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SweepError(f"{path}: row {i + 1}, column key: not a run's settings; correct or "
                             "remove that row, or give another --out")
    return df


def check_writable(path) -> None:
    """Refuse, before any run, a table that could not be written (Parquet without pyarrow)."""
    if _is_parquet(Path(path)):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise SweepError(f"--out {path}: a Parquet table needs pyarrow (pip install pyarrow); "
                             "or give a .csv table") from None


@contextlib.contextmanager
def table_lock(path, timeout: float = 60.0):
    """Hold the table's lock (``.<name>.lock`` beside it) while reading, merging and writing:
    two sweeps writing one table take turns, and neither loses the other's rows."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise SweepError(f"{lock}: cannot make the table's lock ({e.strerror or e})") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                else:                                              # Windows
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SweepError(f"{path}: another sweep held the table for {timeout:.0f} s; "
                                     "run the command again") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)                                   # closing releases the lock


def add_rows(path, rows: list[dict]):
    """Add ``rows`` to the table at ``path`` under its lock: the table read as it is now (other
    sweeps' rows kept), a row of the same key replaced, written atomically. Returns the table."""
    import pandas as pd
    with table_lock(path):
        now = read_table(path)
        merged = {} if now is None else {r["key"]: r for r in now.to_dict("records")}
        merged.update({r["key"]: r for r in rows})
        df = ordered_columns(pd.DataFrame(list(merged.values())))
        write_table(df, path)
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


def plain(v):
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
        v = plain(row.get(k))
        out[k] = int(v) if k in _INTS and v is not None else v
    out.update({k: v for k, v in settings.items() if k != "seed"})
    return out


def ordered_columns(df):
    first = ["seed", *FIGURES, *(s for s in _SETTINGS if s != "seed")]
    return df[[c for c in first if c in df.columns] + [c for c in df.columns if c not in first]]

