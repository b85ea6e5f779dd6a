"""``digitlab runs``: list the recorded runs and sweeps, delete runs (finished or not)."""
from __future__ import annotations

import json
import sys

from .cli_parts import CliError, jsonable

__all__ = ["cmd_runs"]


def _say(args, *a, **k):
    print(*a, **k, flush=True)


def _runs_dir(args):
    from .history.runs import default_runs_dir
    return getattr(args, "runs_dir", None) or default_runs_dir()


def cmd_runs(args) -> int:
    from .history.runs import RunsError, delete_run, list_runs
    runs, faults = list_runs(_runs_dir(args))
    if getattr(args, "delete", None):
        by_id = {r.id: r for r in runs}
        unknown = [i for i in args.delete if i not in by_id]
        if unknown:
            raise CliError(f"--delete: no run {', '.join(unknown)} in {_runs_dir(args)}")
        for i in args.delete:
            try:
                delete_run(by_id[i])
            except RunsError as e:
                raise CliError(str(e)) from None
            _say(args, f"deleted the run {i}")
        runs = [r for r in runs if r.id not in args.delete]
    for f in faults:
        print(f"digitlab: skipped {f}", file=sys.stderr)
    if not runs:
        _say(args, f"no runs recorded in {_runs_dir(args)}")
    for r in runs:
        if not r.finished:
            _say(args, f"{r.id}  unfinished: never recorded whole (delete it with "
                       f"digitlab runs --delete {r.id})")
            continue
        acc = f"{r.argmax_accuracy:.2f}%" if r.argmax_accuracy is not None else "–"
        _say(args, f"{r.id}  {r.mode:<8} {r.iterations:>3} it  {acc:>7}  {r.snapshots:>3} snapshots  "
                   f"{r.architecture}" + (f"  (sweep {r.sweep})" if r.sweep else ""))
    from .sweep.recorded import list_sweeps
    sweeps, faults = list_sweeps(_runs_dir(args))
    for f in faults:
        print(f"digitlab: skipped {f}", file=sys.stderr)
    for sw in sweeps:
        _say(args, f"sweep {sw.id}: {sw.runs} runs, plots {', '.join(str(p) for p in sw.plots) or 'none'}")
    if args.json:
        print(json.dumps({"runs": [jsonable(r.to_json()) for r in runs],
                          "sweeps": [{"id": sw.id, "runs": sw.runs, "table": sw.table, "path": str(sw.path),
                                      "plots": [str(p) for p in sw.plots]} for sw in sweeps]}))
    return 0
