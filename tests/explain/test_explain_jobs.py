"""The worker runner: one job per channel, the newest waiting request next."""
from __future__ import annotations

import threading

from app.explain_jobs import LatestRunner


def test_requests_made_while_a_job_runs_are_replaced_by_the_newest(qtbot):
    runner = LatestRunner()
    gate = threading.Event()
    results = []
    runner.done.connect(lambda channel, out: results.append((channel, out)))

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
    runner = LatestRunner(threads=2)
    gate = threading.Event()

    def blocked():
        gate.wait(30)
        return "slow"

    def broken():
        raise ValueError("no ink")

    runner.submit("slow", blocked)
    with qtbot.waitSignal(runner.failed, timeout=30_000) as blocker:
        runner.submit("quick", broken)              # does not wait for the blocked channel
    assert blocker.args == ["quick", "ValueError: no ink"]
    with qtbot.waitSignal(runner.done, timeout=30_000) as blocker:
        gate.set()
    assert blocker.args == ["slow", "slow"]
    runner.wait()
