"""The threads module: a generator job on its QThread (pause and stop between yields,
throttled events, a bounded close), function jobs on a pool (the newest request wins), one
registry closed by window."""
from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QObject, Qt, Slot

from app.threads.jobs import FunctionPool, GeneratorJob, running_threads
from engine.train.events import IterationEnd, Progress

from .conftest import Gate


class Recorder(QObject):
    """Collects what the worker sends, noting the thread each arrives in."""

    def __init__(self, worker):
        super().__init__()
        self.events, self.failures, self.threads = [], [], set()
        worker.yielded.connect(self.add)
        worker.errored.connect(self.fail)

    @Slot(object)
    def add(self, ev):
        self.threads.add(threading.current_thread().name)
        self.events.append(ev)

    @Slot(str)
    def fail(self, text):
        self.failures.append(text)


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def progress(i):
    return Progress(0, i, 100, 0.5, 10.0, 1.0)


@pytest.fixture
def make_worker():
    """``make_worker(*args, **kw) -> GeneratorJob``; each is closed after the test."""
    made = []

    def make(*args, **kw):
        w = GeneratorJob(*args, **kw)
        made.append(w)
        return w
    yield make
    for w in made:
        assert w.close(20)


def run(qtbot, worker, work):
    with qtbot.waitSignal(worker.finished, timeout=20000):
        worker.start(work)
    assert worker.wait(20)


def test_events_arrive_in_order_on_the_gui_thread_then_finished(qtbot, make_worker):
    w = make_worker()
    rec = Recorder(w)
    run(qtbot, w, lambda ctl: iter(["a", "b", "c"]))
    assert rec.events == ["a", "b", "c"]
    assert rec.threads == {threading.main_thread().name}
    assert not w.is_running()


def test_an_exception_becomes_one_message_and_finished_still_comes(qtbot, make_worker):
    def work(ctl):
        yield "before"
        raise RuntimeError("the stepper is broken")
    w = make_worker()
    rec = Recorder(w)
    run(qtbot, w, work)
    assert rec.events == ["before"]
    assert rec.failures == ["RuntimeError: the stepper is broken"]


def test_throttled_events_at_most_a_few_a_second_the_others_always(qtbot, make_worker):
    clock = FakeClock()

    def work(ctl):
        for i in range(10):            # ten progress events within 0.09 s: one goes out
            clock.t = i * 0.01
            yield progress(i)
        yield IterationEnd(0, 0.5, 0.5, 1.0, 10.0)     # always
        clock.t = 0.5
        yield progress(99)             # 0.5 s later: goes out
    w = make_worker((Progress,), updates_per_second=4, clock=clock)
    rec = Recorder(w)
    run(qtbot, w, work)
    kinds = [(type(e).__name__, getattr(e, "done", None)) for e in rec.events]
    assert kinds == [("Progress", 0), ("IterationEnd", None), ("Progress", 99)]


def test_pause_holds_between_yields_and_leaves_paused_time_out_of_the_clock(qtbot, make_worker):
    clock = FakeClock()
    gate = Gate()
    seen_clock = []

    def work(ctl):
        yield 1
        gate.wait()                      # the test pauses before letting it go on
        yield 2                          # the worker holds after this one
        seen_clock.append(ctl.clock())
        yield 3
    w = make_worker(clock=clock)
    rec = Recorder(w)
    with qtbot.waitSignal(w.pausedChanged, timeout=20000) as paused:
        w.start(work)
        qtbot.waitUntil(lambda: rec.events == [1], timeout=20000)
        w.pause()
        gate.release()
    assert paused.args == [True] and w.is_paused()
    qtbot.waitUntil(lambda: rec.events == [1, 2], timeout=20000)
    clock.t = 100.0                      # a long pause
    assert rec.events == [1, 2] and w.is_running()
    with qtbot.waitSignal(w.finished, timeout=20000):
        w.resume()
    assert rec.events == [1, 2, 3]
    assert seen_clock == [pytest.approx(0.0)]


def test_stop_is_a_flag_the_work_reads_and_wait_has_a_timeout(qtbot, make_worker):
    gate = Gate()

    def work(ctl):
        gate.wait()                      # stuck (a data load that cannot be interrupted)
        yield ctl.stop_requested()
    w = make_worker()
    rec = Recorder(w)
    w.start(work)
    w.stop()
    assert w.stop_event.is_set()
    assert w.wait(0.01) is False and w.is_running()   # bounded, nothing forced
    with qtbot.waitSignal(w.finished, timeout=20000):
        gate.release()
    assert w.wait(20) and rec.events == [True]


def test_a_second_start_while_running_is_refused(qtbot, make_worker):
    gate = Gate()

    def work(ctl):
        gate.wait()
        yield 1
    w = make_worker()
    w.start(work)
    try:
        with pytest.raises(RuntimeError, match="still running"):
            w.start(work)
    finally:
        gate.open_all()
        assert w.wait(20)


def test_every_run_uses_the_worker_s_one_thread_and_even_plain_functions_hear_it_in_the_gui(
        qtbot, make_worker):
    w = make_worker()
    ran_in, heard_in = [], []
    w.yielded.connect(lambda ev: heard_in.append(threading.get_ident()))

    def work(ctl):
        ran_in.append(threading.get_ident())
        yield "x"
    run(qtbot, w, work)
    run(qtbot, w, work)
    assert len(ran_in) == 2 and ran_in[0] == ran_in[1] != threading.get_ident()
    assert heard_in == [threading.get_ident()] * 2


def test_close_is_bounded_and_a_thread_that_cannot_stop_is_kept_until_it_ends(qtbot, make_worker):
    gate = Gate()

    def work(ctl):
        gate.wait()                      # cannot be interrupted (a first compile)
        yield "late"
    w = make_worker()
    w.start(work)
    assert w.close(0.01) is False        # bounded, nothing forced
    assert w.is_running() and len(running_threads()) == 1
    with qtbot.waitSignal(w.finished, timeout=20000):
        gate.release()
    assert w.close(20) and not running_threads()


def test_a_closed_worker_runs_again_when_started(qtbot, make_worker):
    w = make_worker()
    rec = Recorder(w)
    run(qtbot, w, lambda ctl: iter([1]))
    assert w.close(20) and not running_threads()
    run(qtbot, w, lambda ctl: iter([2]))
    assert rec.events == [1, 2]


# -- function jobs: newest request first ----------------------------------------------------------


def test_requests_made_while_a_job_runs_are_replaced_by_the_newest(qtbot):
    runner = FunctionPool()
    gate = threading.Event()
    results = []
    runner.returned.connect(lambda channel, out: results.append((channel, out)))

    def slow(x):
        gate.wait(30)
        return x

    runner.submit("why", slow, "first")
    runner.submit("why", slow, "second")          # waits...
    runner.submit("why", slow, "third")           # ...and is replaced by this one
    assert runner.busy("why")
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 2 and not runner.busy(), timeout=30_000)
    assert results == [("why", "first"), ("why", "third")]
    runner.wait()


def test_channels_run_side_by_side_and_failures_are_reported(qtbot):
    runner = FunctionPool(threads=2)
    gate = threading.Event()

    def blocked():
        gate.wait(30)
        return "slow"

    def broken():
        raise ValueError("no ink")

    runner.submit("slow", blocked)
    with qtbot.waitSignal(runner.errored, timeout=30_000) as blocker:
        runner.submit("quick", broken)              # does not wait for the blocked channel
    assert blocker.args == ["quick", "ValueError: no ink"]
    with qtbot.waitSignal(runner.returned, timeout=30_000) as blocker:
        gate.set()
    assert blocker.args == ["slow", "slow"]
    runner.wait()


def test_a_replaced_request_is_dropped_and_its_ticket_says_so(qtbot):
    runner = FunctionPool()
    gate = threading.Event()
    first = runner.submit("why", lambda: gate.wait(30) and "first")
    second = runner.submit("why", lambda: "second")
    third = runner.submit("why", lambda: "third")
    assert second.is_done() and second.dropped and not first.is_done()
    gate.set()
    assert first.wait(30)
    qtbot.waitUntil(third.is_done, timeout=30_000)      # started once the first one's end reached the GUI
    assert third.result == "third" and not third.dropped
    runner.wait()


def test_a_generator_job_sends_what_it_returned(qtbot, make_worker):
    w = make_worker()

    def work(ctl):
        yield 1
        return "done"
    with qtbot.waitSignal(w.returned, timeout=20000) as blocker:
        w.start(work)
    assert blocker.args == ["done"]
    assert w.wait(20)


def test_the_registry_closes_the_jobs_under_one_object_only(qtbot):
    from app.threads.jobs import close_jobs
    mine, other = QObject(), QObject()
    inside, outside = GeneratorJob(parent=mine), GeneratorJob(parent=other)
    assert close_jobs(mine, 20)
    assert not inside._thread.isRunning() and outside._thread.isRunning()
    assert outside.close(20) and not running_threads()



def test_a_slot_of_finished_sees_the_job_idle_and_may_start_the_next(qtbot, make_worker):
    """The finished signal comes when the job is idle: a button enabled in a slot of finished
    (the Teach tab's Fine-tune) is enabled, and a new work can start at once."""
    w = make_worker()
    seen = []
    release = threading.Event()

    def work(ctl):
        yield "one"
        release.wait(5)             # the runner sends finished only after this, from its thread

    w.finished.connect(lambda: seen.append(w.is_running()))
    # a slow moment in the job's thread between sending finished and becoming idle
    w._runner.finished.connect(lambda: time.sleep(0.3), Qt.DirectConnection)
    with qtbot.waitSignal(w.finished, timeout=20000):
        w.start(work)
        release.set()
    assert seen == [False]
    run(qtbot, w, lambda ctl: iter(["two"]))        # starts without "still running"
    assert seen == [False, False]
