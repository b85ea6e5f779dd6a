"""Qt fixtures of the app's tests: settings in a temporary file, scripted prompts, a window,
a training panel, synthetic data and a fake stepper released chunk by chunk."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from engine.net.model import Normalisation
from engine.train.recipes import PreparedData, RunSettings
from tests.helpers import FakePrompts

GATE_TIMEOUT = 20.0


class Gate:
    """Lets a fake stepper run ``n`` more chunks at a time (or all, once opened)."""

    def __init__(self):
        self._sem = threading.Semaphore(0)
        self.open = False

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self._sem.release()

    def open_all(self) -> None:
        self.open = True
        self.release(1)

    def wait(self) -> None:
        if self.open:
            return
        if not self._sem.acquire(timeout=GATE_TIMEOUT):
            raise TimeoutError("the test never released the stepper")
        if self.open:
            self._sem.release()


class GatedStepper:
    """A stand-in for a mode's stepper: each chunk waits for the gate, then nudges the kernels."""

    def __init__(self, model, gate: Gate, size=100, chunk=10, error=0.5, blow_up_at=None):
        self.model, self.gate = model, gate
        self.size, self.chunk, self.error, self.blow_up_at = size, chunk, error, blow_up_at
        self.chunks = 0

    def epoch(self, iteration):
        done, sq = 0, 0.0
        while done < self.size:
            self.gate.wait()
            self.model.params["K"] *= 0.999
            self.model.params["K"][0, 0] += 0.01
            n = min(self.chunk, self.size - done)
            done += n
            sq += self.error * n / (iteration + 1)
            self.chunks += 1
            if self.blow_up_at is not None and self.chunks >= self.blow_up_at:
                self.model.params["W2"][...] = np.inf
                sq = math.inf
            yield done, sq, sq


def synthetic_data(n_train=200, n_test=50, seed=0) -> PreparedData:
    """Digit-like arrays: each class a bright bar at its own place, plus noise (normalised)."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = np.arange(n) % 10
        X = rng.normal(0, 0.1, (n, 28, 28))
        for c in range(10):
            X[y == c, 2 + 2 * c:5 + 2 * c, 4:24] += 1.0
        return X, y.astype(np.int64)

    Xtr, ytr = make(n_train)
    Xte, yte = make(n_test)
    return PreparedData(Xtr, ytr, Xte, yte, Normalisation(0.0, 255.0, "standard"), "synthetic",
                        "synthetic bars")


def small_settings(**kw) -> RunSettings:
    base = dict(mode="article", source="sample", train=300, epochs=2, tol=0.0, alpha=0.01,
                kernels=4, kernel_size=5, hidden=16, seed=0)
    base.update(kw)
    return RunSettings(**base)


def use_gated(panel, gate: Gate, **stepper_kw) -> list:
    """Make ``panel`` train GatedSteppers on synthetic data; returns the list they go into."""
    made = []

    def factory(model, data, settings):
        s = GatedStepper(model, gate, **stepper_kw)
        made.append(s)
        return s

    panel.data_override = synthetic_data()
    panel.stepper_factory = factory
    panel.report_seconds = 0.0          # a Progress (and a pause point) after every chunk
    panel.snapshot_seconds = 0.0
    return made


@pytest.fixture
def settings(tmp_path):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    yield s
    s.sync()


@pytest.fixture
def prompts():
    return FakePrompts()


@pytest.fixture
def gate():
    g = Gate()
    yield g
    g.open_all()                         # never leave a stepper waiting


@pytest.fixture(autouse=True)
def no_thread_left():
    """Every test leaves no worker thread running (set up first, so checked last)."""
    from app.threads.jobs import running_threads
    yield
    left = running_threads()
    for t in left:                       # (so that one failure does not spoil the rest)
        t.quit()
        t.wait(int(GATE_TIMEOUT * 1000))
    assert not left, "a worker thread was left running"


def _finish(panel):
    panel.quiet = True
    assert panel.shutdown(GATE_TIMEOUT), "the training thread was left running"
    assert not panel.worker.is_running()


@pytest.fixture
def window(qtbot, settings, prompts, small_model, gate):
    from app.main_window import MainWindow
    w = MainWindow(model=small_model(), settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.reading.forward is not None, timeout=GATE_TIMEOUT * 1000)   # first reading
    yield w
    gate.open_all()
    _finish(w.training_panel)


@pytest.fixture
def owner(prompts, small_model):
    from app.model_owner import ModelOwner
    o = ModelOwner(ask=prompts.ask_save, save=lambda: False)
    o.set_model(small_model())
    return o


@pytest.fixture
def panel(qtbot, owner, prompts, gate):
    from app.train.panel import TrainingPanel
    p = TrainingPanel(owner, prompts, updates_per_second=1e9)
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    yield p
    gate.open_all()
    _finish(p)
