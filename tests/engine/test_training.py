"""The shared training driver: events, stopping rule, stop flag, divergence."""
import math
import threading

import numpy as np
import pytest

from engine.net.model import Config
from engine.train.events import Evaluated, Finished, IterationEnd, Progress
from engine.train.training import train

CONFIG = Config(2, 5, 4)


def after_steps(start, steps):
    """``start`` after ``steps`` batches of the fake stepper (+1 each, in this order)."""
    out = start.copy()
    for _ in range(steps):
        out += 1.0
    return out


class FakeStepper:
    """Adds 1 to W2 per batch and reports a scripted error per iteration.

    ``blow_up_at=(iteration, batch)`` makes that batch's weights infinite (``where="weights"``,
    its reported error finite) or its reported error infinite (``where="error"``).
    """

    def __init__(self, model, errors, batches=5, batch=10, blow_up_at=None, where="weights"):
        self.model, self.errors, self.batches, self.batch = model, errors, batches, batch
        self.size = batches * batch
        self.blow_up_at, self.where = blow_up_at, where
        self.calls = 0

    def epoch(self, iteration):
        err = self.errors[min(iteration, len(self.errors) - 1)]
        for b in range(self.batches):
            self.calls += 1
            self.model.params["W2"] += 1.0
            done = (b + 1) * self.batch
            if (iteration, b) == self.blow_up_at:
                if self.where == "weights":
                    self.model.params["W2"][0, 0] = np.inf
                else:
                    yield done, math.nan, math.nan
                    return
            yield done, err * done, err * done


def test_stops_at_tolerance_like_the_article(small_model):
    m = small_model(config=CONFIG)
    events = list(train(m, FakeStepper(m, [0.5, 0.2, 0.1, 0.05]), max_iter=50, tol=0.1,
                        report_seconds=0))
    ends = [e for e in events if isinstance(e, IterationEnd)]
    assert [e.iteration for e in ends] == [0, 1, 2]          # 0.1 <= tol stops, as `while err > tol`
    assert [e.train_error for e in ends] == pytest.approx([0.5, 0.2, 0.1])
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.reason == "converged" and fin.iterations == 3
    assert fin.images == 150
    progress = [e for e in events if isinstance(e, Progress)]
    assert [(e.iteration, e.done) for e in progress[:5]] == [(0, 10), (0, 20), (0, 30), (0, 40), (0, 50)]


def test_max_iter_and_evaluation(small_model):
    m = small_model(config=CONFIG)
    X = np.random.RandomState(0).rand(7, 28, 28)
    y = np.arange(7) % 10
    events = list(train(m, FakeStepper(m, [0.5]), max_iter=3, tol=0.1, test=(X, y), eval_every=2))
    evals = [e for e in events if isinstance(e, Evaluated)]
    assert [e.iteration for e in evals] == [1, 2]             # every 2nd and the last
    assert evals[0].figures.images == 7 and evals[0].figures.confusion.sum() == 7
    assert events[-1].reason == "max_iter" and events[-1].iterations == 3


def test_injected_clock_throttles_progress(small_model):
    """One Progress per report period of the clock given, none in between."""
    m = small_model(config=CONFIG)
    ticks = iter(np.arange(0.0, 1000.0, 0.1))
    events = list(train(m, FakeStepper(m, [0.5], batches=20), max_iter=1, tol=None,
                        report_seconds=1.0, clock=lambda: float(next(ticks))))
    done = [e.done for e in events if isinstance(e, Progress)]
    assert 0 < len(done) < 20 and done == sorted(done)


@pytest.mark.parametrize("flag", ["event", "callable"])
def test_stop_flag_is_honoured_within_one_batch(small_model, flag):
    m = small_model(config=CONFIG)
    event = threading.Event()
    stop = event if flag == "event" else event.is_set
    st = FakeStepper(m, [0.5], batches=100)
    gen = train(m, st, max_iter=5, tol=None, stop=stop, report_seconds=0)
    first = next(gen)                 # a Progress after the first batch
    assert isinstance(first, Progress) and first.done == 10
    event.set()
    rest = list(gen)
    assert rest[-1].reason == "stopped" and "after 20 images" in rest[-1].message
    assert st.calls == 2


@pytest.mark.parametrize("where", ["weights", "error"])
def test_divergence_keeps_the_weights_of_the_last_finite_batch(small_model, where):
    m = small_model(config=CONFIG)
    start = m.params["W2"].copy()
    st = FakeStepper(m, [0.5], batches=4, blow_up_at=(1, 2), where=where)
    events = list(train(m, st, max_iter=5, tol=None, report_seconds=1e9))
    fin = events[-1]
    assert fin.reason == "diverged" and fin.iterations == 1
    # four batches of iteration 0 and two finite ones of iteration 1: six steps of +1
    np.testing.assert_array_equal(m.params["W2"], after_steps(start, 6))
    assert "the weights after image 20 of iteration 1 were kept" in fin.message
    assert "lower learning rate" in fin.message


def test_divergence_at_the_first_batch_of_an_iteration_keeps_the_previous_iteration(small_model):
    m = small_model(config=CONFIG)
    start = m.params["W2"].copy()
    st = FakeStepper(m, [0.5], batches=4, blow_up_at=(2, 0))
    fin = list(train(m, st, max_iter=5, tol=None))[-1]
    np.testing.assert_array_equal(m.params["W2"], after_steps(start, 8))
    assert fin.iterations == 2 and "the weights at the end of iteration 1 were kept" in fin.message


def test_divergence_in_the_first_batch_keeps_the_starting_weights(small_model):
    m = small_model(config=CONFIG)
    start = {k: v.copy() for k, v in m.params.items()}
    st = FakeStepper(m, [0.5], batches=4, blow_up_at=(3, 0))
    fin = list(train(m, st, max_iter=2, tol=None, start_iteration=3))[-1]
    for k, v in start.items():
        np.testing.assert_array_equal(m.params[k], v)
    assert fin.iterations == 0 and "the weights the run started from were kept" in fin.message


def blas_threads():
    """How many threads NumPy's BLAS uses now (skips without threadpoolctl or a BLAS it sees;
    SciPy, which JAX loads, may bring a BLAS of its own)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    found = [p["num_threads"] for p in threadpoolctl.threadpool_info()
             if p["user_api"] == "blas" and "numpy" in p["filepath"]]
    if not found:
        pytest.skip("no BLAS that threadpoolctl can see")
    return found[0]


def test_a_run_tests_with_blas_on_one_thread_and_gives_its_threads_back(small_model, monkeypatch):
    """A run's tests run NumPy's BLAS on one thread (its helper thread, spinning after a
    product, took half a core from the training); the run leaves it as it found it."""
    import threadpoolctl
    seen = []
    m = small_model(config=CONFIG)
    real = m.forward                        # (the tests' products: one forward pass a test here)
    monkeypatch.setattr(m, "forward", lambda *a, **k: (seen.append(blas_threads()), real(*a, **k))[1])
    X, y = np.random.RandomState(0).rand(7, 28, 28), np.arange(7) % 10
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        list(train(m, FakeStepper(m, [0.5]), max_iter=2, tol=None, test=(X, y)))
        assert seen == [1, 1] and blas_threads() == 2


def test_one_thread_contexts_of_two_threads_that_overlap_put_blas_back_once_both_ended():
    """The training thread's and the window's contexts overlap: the last to close, whichever
    thread opened first, puts BLAS back."""
    import threadpoolctl
    from engine.net.blas import one_thread
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        first_in, second_in, seen = threading.Event(), threading.Event(), []

        def other():                     # opens first, closes while the main thread's is open
            with one_thread():
                first_in.set()
                second_in.wait(10)
                seen.append(blas_threads())

        t = threading.Thread(target=other)
        t.start()
        first_in.wait(10)
        with one_thread():
            second_in.set()
            t.join(10)
            seen.append(blas_threads())  # the other thread's closed: still one thread
        assert seen == [1, 1] and blas_threads() == 2
        with one_thread():               # and the main thread can set it again
            assert blas_threads() == 1
        assert blas_threads() == 2
