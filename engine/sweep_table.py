"""A sweep's table: every finished run, one row each (CSV, or Parquet with pyarrow).

The table is rewritten atomically after each run, so an interrupted sweep resumes and
skips the runs already in it.
"""
from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from .recipes import RunSettings
from .safefile import atomic_write
from .sweep_plan import SweepError

if TYPE_CHECKING:
    import pandas

__all__ = ["FIGURES", "read_table", "write_table", "row_to_run", "ordered_columns", "plain"]

#: A run's figures, as the table and ``--json`` hold them (after ``seed``, before the settings).
FIGURES = ("iterations", "reason", "train_error", "test_error", "percent_correct",
           "argmax_accuracy", "train_seconds", "images_per_second", "train_images", "data_source",
           "wall_seconds")
_INTS = {"iterations", "train_images"}
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

