"""Issue 19, start-up: the window shows before the warm-up is done and says so on the canvas;
``digitlab`` on Linux without the libraries of Qt's X11 plugin says which and exits 1."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from tests.helpers import draw_on, line

from .conftest import GATE_TIMEOUT

TIMEOUT = int(GATE_TIMEOUT * 1000)


def test_run_shows_the_window_before_the_warm_up_and_the_canvas_says_so(qtbot, settings, prompts,
                                                                        monkeypatch):
    """The window is on screen while the first reading's compile still runs, the canvas
    takes a stroke then and says the reading follows; the reading arrives once it is done."""
    from app.main_window import MainWindow, run
    from app.threads import warmup as wu
    release = threading.Event()
    original = wu.WarmUp._run

    def held(self, model):
        release.wait(GATE_TIMEOUT)
        original(self, model)
    monkeypatch.setattr(wu.WarmUp, "_run", held)
    monkeypatch.setattr("app.main_window.freeze_startup", lambda: None)   # (not in the test process)
    w = MainWindow(settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    seen = {}

    def while_warming():
        seen["visible"] = w.isVisible()
        seen["warm"] = w.warmup.is_done()
        seen["notice"] = w.canvas.notice()
        draw_on(w, line(140, 50, 140, 230))
        seen["strokes"] = len(w.canvas.strokes())
        seen["read"] = w.reading.proba
        QApplication.instance().quit()       # run's event loop ends
    QTimer.singleShot(50, while_warming)
    try:
        run(["digitlab"], window=w)
    finally:
        release.set()
    assert seen["visible"] and not seen["warm"]
    assert "getting ready" in seen["notice"].lower()
    assert seen["strokes"] == 1 and seen["read"] is None
    w.show()
    qtbot.waitUntil(lambda: w.reading.proba is not None, timeout=TIMEOUT)
    assert w.canvas.notice() is None


def test_on_a_cold_cache_a_child_compiles_and_the_first_reading_still_comes(qtbot, settings, prompts,
                                                                          monkeypatch):
    """With numba's cache cold the warm-up has a child process compile the reading's loop
    (not this one, whose GUI thread it would hold up); if the child fails, the warm-up
    compiles here as before and the drawing is read all the same."""
    from app.main_window import MainWindow
    from app.threads import warmup as wu
    asked = []
    monkeypatch.setattr(wu, "loops_cached", lambda dtype: False)
    monkeypatch.setattr(wu, "compile_in_child", lambda dtype: asked.append(dtype) or False)
    w = MainWindow(settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.show()
    assert w.warmup.wait(GATE_TIMEOUT) and w.warmup.error is None
    assert asked == [w.owner.model().dtype]
    draw_on(w, line(140, 50, 140, 230))
    qtbot.waitUntil(lambda: w.reading.proba is not None, timeout=TIMEOUT)


def test_the_child_fills_an_empty_numba_cache(tmp_path, monkeypatch):
    """The child process leaves the compiled reading loop in numba's on-disk cache."""
    import numpy as np

    from app.threads.warmup import compile_in_child
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert compile_in_child(np.float32)
    assert any(p.name.startswith("conv_loops._conv_max_serial") for p in tmp_path.rglob("*.nbc"))


def _fake_ldd(tmp_path, missing):
    """An ``ldd`` that reports ``missing`` as not found (and a plugin file to ask about)."""
    ldd = tmp_path / "ldd"
    lines = "".join(f'echo "\t{m} => not found"\n' for m in missing)
    ldd.write_text("#!/bin/sh\necho \"\tlibc.so.6 => /lib/libc.so.6 (0x0)\"\n" + lines)
    ldd.chmod(ldd.stat().st_mode | stat.S_IEXEC)
    return ldd


def test_missing_xcb_libraries_are_named_from_ldd(tmp_path, monkeypatch):
    from app.launcher import missing_xcb_libraries
    _fake_ldd(tmp_path, ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-cursor.so.0"])
    monkeypatch.setenv("PATH", str(tmp_path))
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    assert missing_xcb_libraries(plugin) == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]
    _fake_ldd(tmp_path, [])
    assert missing_xcb_libraries(plugin) == []


def test_digitlab_without_the_xcb_libraries_prints_them_and_the_apt_line_and_exits_1(tmp_path):
    """A real ``digitlab`` process on an X display whose system lacks a library of Qt's
    X11 plugin (simulated by an ``ldd`` that says so): one message, exit status 1, no abort."""
    if not sys.platform.startswith("linux"):
        return
    from app.launcher import APT_LINE, xcb_plugin
    if xcb_plugin() is None:
        return
    _fake_ldd(tmp_path, ["libxcb-cursor.so.0"])
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":99", PATH=f"{tmp_path}{os.pathsep}{env.get('PATH', '')}")
    out = subprocess.run([sys.executable, "-m", "app.launcher"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "libxcb-cursor.so.0" in out.stderr and APT_LINE in out.stderr
    assert "Traceback" not in out.stderr and "Aborted" not in out.stderr


def test_no_check_when_qt_is_told_to_draw_offscreen_or_on_wayland():
    from app.launcher import platform_problem
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux") is None
    assert platform_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert platform_problem({"DISPLAY": ":0"}, "darwin") is None
