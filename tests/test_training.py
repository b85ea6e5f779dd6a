"""The shared training driver: events, stopping rule, stop flag, divergence."""
import math

import numpy as np

from engine.events import Evaluated, Finished, IterationEnd, Progress
from engine.model import Config, Model
from engine.training import StopFlag, train


class FakeStepper:
    """Adds `step` to W2 per batch and reports a scripted error per iteration."""

    def __init__(self, model, errors, batches=5, batch=10, blow_up_at=None):
        self.model, self.errors, self.batches, self.batch = model, errors, batches, batch
        self.size = batches * batch
        self.blow_up_at = blow_up_at
        self.calls = 0

    def epoch(self, iteration):
        err = self.errors[min(iteration, len(self.errors) - 1)]
        for b in range(self.batches):
            self.calls += 1
            self.model.params["W2"] += 1.0
            if self.blow_up_at is not None and (iteration, b) == self.blow_up_at:
                self.model.params["W2"][0, 0] = np.inf
                yield (b + 1) * self.batch, math.inf, math.inf
                return
            yield (b + 1) * self.batch, err * (b + 1) * self.batch, err * (b + 1) * self.batch


def small_model():
    return Model.article_init(Config(2, 5, 4), np.random.RandomState(0))


def test_stops_at_tolerance_like_the_article():
    m = small_model()
    events = list(train(m, FakeStepper(m, [0.5, 0.2, 0.1, 0.05]), max_iter=50, tol=0.1,
                        report_seconds=0))
    ends = [e for e in events if isinstance(e, IterationEnd)]
    assert [e.iteration for e in ends] == [0, 1, 2]          # 0.1 <= tol stops, as `while err > tol`
    assert math.isclose(ends[-1].train_error, 0.1)
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.reason == "converged" and fin.iterations == 3
    assert any(isinstance(e, Progress) for e in events)


def test_max_iter_and_evaluation():
    m = small_model()
    X = np.random.RandomState(0).rand(7, 28, 28)
    y = np.arange(7) % 10
    events = list(train(m, FakeStepper(m, [0.5]), max_iter=3, tol=0.1, test=(X, y), eval_every=2))
    evals = [e for e in events if isinstance(e, Evaluated)]
    assert [e.iteration for e in evals] == [1, 2]             # every 2nd and the last
    assert evals[0].confusion.sum() == 7
    assert events[-1].reason == "max_iter" and events[-1].iterations == 3


def test_stop_flag_is_honoured_within_one_batch():
    m = small_model()
    stop = StopFlag()
    st = FakeStepper(m, [0.5], batches=100)
    gen = train(m, st, max_iter=5, tol=None, stop=stop, report_seconds=0)
    next(gen)                 # a Progress after the first batch
    stop.set()
    rest = list(gen)
    assert rest[-1].reason == "stopped"
    assert st.calls <= 2


def test_divergence_restores_last_good_weights():
    m = small_model()
    st = FakeStepper(m, [0.5], batches=4, blow_up_at=(1, 2))
    events = list(train(m, st, max_iter=5, tol=None, report_seconds=0))
    fin = events[-1]
    assert fin.reason == "diverged" and "lower learning rate" in fin.message
    assert np.isfinite(m.params["W2"]).all()
    assert fin.iterations == 1
