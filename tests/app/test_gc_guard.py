"""Cyclic garbage holding Qt objects is destroyed on the GUI thread, never in a worker."""
from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from app.gc_guard import GuiCollector, collect_due, freeze_startup, qt_application


class _Cycle(QObject):
    def __init__(self):
        super().__init__()
        self.me = self                       # a reference cycle: only the collector frees it


def _drop_a_cycle(deaths: list) -> None:
    obj = _Cycle()
    weakref.finalize(obj, lambda: deaths.append(threading.current_thread().name))


def test_a_worker_that_allocates_never_collects_the_guis_garbage(qtbot):
    qt_application()
    assert not gc.isenabled()                # automatic collection is off
    deaths = []
    _drop_a_cycle(deaths)

    def allocate():                          # far past every generation's threshold
        keep = [[i] for i in range(200_000)]
        del keep
    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert deaths == []
    gc.collect()                             # what the GUI thread's timer does when due
    assert deaths == [threading.current_thread().name]


def test_the_gui_timer_collects_what_is_due(qtbot):
    qt_application()
    collector = GuiCollector(interval_ms=5)
    try:
        assert not gc.isenabled()
        deaths = []
        _drop_a_cycle(deaths)
        junk = [[i] for i in range(3 * gc.get_threshold()[0])]      # past generation 0's count
        qtbot.waitUntil(lambda: deaths == [threading.current_thread().name], timeout=5000)
        del junk
    finally:
        collector.stop()
        gc.disable()                         # as the test session keeps it
    assert collect_due((10**9, 10**9, 10**9)) == 0                  # nothing due: nothing done


def test_after_the_startup_freeze_new_garbage_is_still_collected(qtbot):
    try:
        freeze_startup()
        assert gc.get_freeze_count() > 0        # what lives as long as the window is set aside
        deaths = []
        _drop_a_cycle(deaths)
        gc.collect()
        assert deaths == [threading.current_thread().name]
    finally:
        gc.unfreeze()
