"""Snapshots: the log-spaced schedule, exact image counts, thinning past the cap."""
from __future__ import annotations

import numpy as np
import pytest

from engine.history.snapshots import CAP, Timeline, TimePoint, checkpoints, snapshot_events
from engine.train.events import Checkpoint, Evaluated, IterationEnd
from engine.train.recipes import make_run, run_events
from tests.app.conftest import small_settings, synthetic_data


def test_schedule_doubles_from_64_within_the_first_iteration():
    assert checkpoints(20000) == [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
    assert checkpoints(64) == []


def test_a_run_snapshots_at_the_exact_image_counts_and_every_iteration_end():
    s = small_settings(train=None, epochs=3)
    data = synthetic_data(n_train=300, n_test=40)
    model, stepper = make_run(s, data, chunk=64)
    tl = Timeline()
    events = list(snapshot_events(run_events(s, data, model, stepper, eval_every=1,
                                    checkpoints=checkpoints(stepper.size)), model, tl, stepper.size))
    assert [e.images for e in events if isinstance(e, Checkpoint)] == [64, 128, 256]
    assert [p.images for p in tl] == [0, 64, 128, 256, 300, 600, 900]
    assert [p.position for p in tl][-3:] == [1.0, 2.0, 3.0]
    ends = [p for p in tl if p.position in (1.0, 2.0, 3.0)]
    errors = [e.train_error for e in events if isinstance(e, IterationEnd)]
    assert [p.train_error for p in ends] == errors
    tests = [e.figures for e in events if isinstance(e, Evaluated)]
    assert [p.test for p in ends] == tests
    # the snapshots are copies: the first still holds the initial weights, the last the final ones
    assert not np.allclose(tl[0].model.params["W1"], model.params["W1"])
    np.testing.assert_array_equal(tl[-1].model.params["W1"], model.params["W1"])


def _point(i):
    from tests.conftest import make_small_model
    return TimePoint(i, float(i), 0.0, make_small_model(0))


def test_thinning_keeps_the_timeline_bounded_with_its_first_and_last_points():
    tl = Timeline(cap=8)
    for i in range(100):
        tl.add(_point(i))
        assert len(tl) <= 8
    images = [p.images for p in tl]
    assert images[0] == 0 and images[-1] == 99 and images == sorted(images)
    assert CAP >= 59           # a 50-iteration article run (9 early + 50 ends + start) stays whole


def test_a_cap_too_small_is_refused():
    with pytest.raises(ValueError, match="at least 4"):
        Timeline(cap=2)
