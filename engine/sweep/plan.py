"""What a sweep runs: its seeds and grid of settings, each run as ``digitlab train`` builds it.

:func:`parse_seeds` and :func:`parse_grid` read the options, :func:`plan_runs` expands them
into :class:`~engine.train.recipes.RunSettings` (counted before anything is expanded: at most
:data:`MAX_RUNS` runs a sweep), :func:`run_key` is a run's identity in the table.
"""
from __future__ import annotations

import copy
import itertools
import json
from dataclasses import fields
from typing import Callable

from ..train.recipes import RunSettings

__all__ = ["SweepError", "GET_EXTRA", "MAX_RUNS", "parse_seeds", "parse_grid", "plan_runs", "run_key"]

#: How to get the optional extra.
GET_EXTRA = ('the sweep needs the optional extra "sweep" (dask.distributed and matplotlib): '
             'pip install -e ".[sweep]" in a checkout, or pip install "digitlab[sweep]"')
#: The most runs one sweep may plan (seeds times grid combinations), checked before expanding.
MAX_RUNS = 10_000


class SweepError(Exception):
    """A user-facing error of the sweep: printed as one line, exit status 2."""


# ------------------------------------------------------------------------------------------
# What to run
# ------------------------------------------------------------------------------------------
def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-99"``, ``"1,5,9"`` or a mix (``"0-9,20-29"``), in order, no repeats.

    Each seed lies in 0..2**32-1 and there are at most :data:`MAX_RUNS`, counted before any
    range is expanded."""
    parts: list[tuple[int, int]] = []
    for part in (p.strip() for p in str(text).split(",")):
        try:
            if "-" in part[1:]:
                cut = part.index("-", 1)
                lo, hi = int(part[:cut]), int(part[cut + 1:])
                if hi < lo:
                    raise SweepError(f"--seeds {text}: the range {part} runs backwards")
            else:
                lo = hi = int(part)
        except ValueError:
            raise SweepError(f"--seeds {text}: {part!r} is neither a whole number nor a range "
                             "such as 0-99") from None
        if lo < 0 or hi >= 2**32:
            raise SweepError(f"--seeds {text}: {part} is outside 0..{2**32 - 1}, the seeds there are")
        parts.append((lo, hi))
    count = sum(hi - lo + 1 for lo, hi in parts)
    if count > MAX_RUNS:
        raise SweepError(f"--seeds {text}: {count:,} runs, more than the {MAX_RUNS:,} a sweep may plan")
    seeds: list[int] = []
    for lo, hi in parts:
        seeds.extend(range(lo, hi + 1))
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

    Any :class:`~engine.train.recipes.RunSettings` field may be named (dashes or underscores);
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
    count = len(seeds) if seeds is not None else 1
    for n in names:
        count *= len(grid[n])
    if count > MAX_RUNS:
        raise SweepError(f"{count:,} runs (seeds times the grid's combinations), more than the "
                         f"{MAX_RUNS:,} a sweep may plan")
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
                try:
                    settings = settings.replace(**rest)
                except ValueError as e:
                    raise SweepError(f"--grid: {e}") from None
            runs.setdefault(run_key(settings), settings)
    return list(runs.values())


def run_key(settings: RunSettings) -> str:
    """A run's identity in the table: its settings as canonical JSON."""
    return json.dumps(settings.to_dict(), sort_keys=True)

