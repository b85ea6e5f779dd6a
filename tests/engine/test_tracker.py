"""One run followed by one tracker: its log, snapshots and last test figures, and a record made once."""
from __future__ import annotations

import json

from engine.history.runs import list_runs
from engine.train.events import Evaluated, Finished
from engine.train.recipes import make_record, make_run
from engine.train.tracker import RunTracker
from tests.app.conftest import small_settings, synthetic_data


def test_a_tracked_run_keeps_what_it_saw_and_makes_its_record_once(tmp_path):
    s = small_settings(train=None, epochs=2)
    d = synthetic_data(n_train=200, n_test=40)
    model, stepper = make_run(s, d, chunk=64)
    run = RunTracker(s, d, model, stepper)
    events = list(run.events(eval_every=1))
    tests = [e.figures for e in events if isinstance(e, Evaluated)]
    assert run.finished is events[-1] and isinstance(run.finished, Finished)
    assert run.test is tests[-1]
    assert [r["iteration"] for r in run.log.rows] == [1, 2]
    assert len(run.timeline) >= 3 and run.timeline[-1].test is tests[-1]
    first = run.record
    assert run.record is first                          # made once
    assert first == make_record(s, d, run.finished, run.test)
    assert run.recorded_model() is model and model.record is first
    folder = run.save(tmp_path)
    [info], _ = list_runs(tmp_path)
    assert info.path == folder and info.iterations == 2
    assert json.loads((folder / "run.json").read_text())["curves"] == run.log.rows


def test_a_record_before_the_end_is_refused():
    s = small_settings(train=None, epochs=1)
    d = synthetic_data(n_train=100, n_test=20)
    model, stepper = make_run(s, d, chunk=64)
    run = RunTracker(s, d, model, stepper, snapshots=False)
    try:
        run.record
    except RuntimeError as e:
        assert "not finished" in str(e)
    else:
        raise AssertionError("a record was made before the run finished")
    run.run()
    assert len(run.timeline) == 0 and run.record.iterations == 1
