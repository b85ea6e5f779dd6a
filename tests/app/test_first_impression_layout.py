"""Issue 11, item 6: the window fits the screen at 1366x768 and 1920x1080, at scale 1 to 2
(down to 683x384 logical pixels): never wider or taller than the screen, no horizontal
scrolling in any dock, the canvas on screen and at least 200 pixels, Start, Stop, the
progress and all four plots on screen (at the smallest sizes: reachable by scrolling
down). Each case runs the window in its own process, on an offscreen screen of that size
(Qt's offscreen platform reads the screen from a configuration file)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, sys, tempfile
from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication, QScrollArea
app = QApplication([])
from app.main_window import MainWindow
from tests.helpers import NoPrompts
w = MainWindow(settings=QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat),
               prompts=NoPrompts())
w.show()
for _ in range(20):
    app.processEvents()
w.train_dock.raise_()
for _ in range(20):
    app.processEvents()
screen = app.primaryScreen().availableGeometry()
tp = w.training_panel
scroll = w.train_scroll
vp = scroll.viewport()

def on_screen(widget):
    # the whole widget inside the scroll area's viewport and inside the window
    top_left = widget.mapTo(vp, widget.rect().topLeft())
    r = QRect(top_left, widget.size())
    in_window = QRect(widget.mapTo(w, widget.rect().topLeft()), widget.size())
    return (widget.isVisible() and vp.rect().contains(r) and w.rect().contains(in_window))

def reachable(widget):
    # on screen once the Train tab is scrolled to it (vertically: nothing scrolls sideways)
    at = widget.mapTo(scroll.widget(), widget.rect().center())
    scroll.ensureVisible(at.x(), at.y(), widget.width() // 2 + 1, widget.height() // 2 + 1)
    for _ in range(5):
        app.processEvents()
    return on_screen(widget)

def settle():
    for _ in range(10):
        app.processEvents()

def areas(name, dock, found):
    # the sideways room of every scroll area on screen in the dock (nothing may be cut off)
    for i, area in enumerate(a for a in dock.findChildren(QScrollArea) if a.isVisible()):
        found[f"{name} {i}"] = {
            "h_scroll": area.horizontalScrollBar().maximum(),
            "min_width": area.widget().minimumSizeHint().width(),
            "viewport_width": area.viewport().width(), "visible": dock.isVisible()}

def docks():
    # every dock of the right-hand area in front in turn, every tab of the Why? panel
    found = {}
    for dock in (w.net_dock, w.train_dock, w.explain_dock, getattr(w, "teach_dock", None)):
        if dock is None:
            continue
        dock.raise_()
        settle()
        areas(dock.objectName(), dock, found)
    for dock in (w.timeline_dock, w.runs_dock):             # hidden at first: shown, then hidden
        dock.show()
        dock.raise_()
        settle()
        areas(dock.objectName(), dock, found)
        found[dock.objectName() + " window"] = {"window": [w.frameGeometry().width(),
                                                           w.frameGeometry().height()]}
        dock.hide()
    tabs = w.explain_panel.tabs
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        settle()
        areas(tabs.tabText(i), w.explain_dock, found)
    tabs.setCurrentIndex(0)
    w.train_dock.raise_()
    for _ in range(10):
        app.processEvents()
    return found

plots = tp.plots
named = (("start", tp.start_button), ("stop", tp.stop_button), ("progress", tp.progress_bar),
         ("error plot", plots.error_plot), ("accuracy plot", plots.accuracy_plot),
         ("kernels", plots.kernels_widget), ("confusion matrix", plots.confusion_plot))
c = w.canvas
out = {
    "screen": [screen.width(), screen.height()],
    "window": [w.frameGeometry().width(), w.frameGeometry().height()],
    "panel_width": tp.width(), "viewport_width": vp.width(),
    "panel_min_width": tp.minimumSizeHint().width(),
    "h_scroll": scroll.horizontalScrollBar().maximum(),
    "seen": {name: on_screen(x) for name, x in named},
    "canvas": [c.isVisible() and w.rect().contains(QRect(c.mapTo(w, c.rect().topLeft()), c.size())),
               c.target_rect().width()],
    "docks": docks(),
}
out["reachable"] = {name: reachable(x) for name, x in named}
if os.environ.get("GRAB_TO"):
    w.grab().save(os.environ["GRAB_TO"])
w.prompts = NoPrompts()
w.close()
print(json.dumps(out))
"""


def _run(tmp_path, width, height, scale):
    conf = tmp_path / "screen.json"
    conf.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                             "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={conf}", QT_SCALE_FACTOR=str(scale),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=str(tmp_path), capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("width, height, scale, all_at_once", [
    (1366, 768, 1, True), (1920, 1080, 1.5, True),
    (1366, 768, 1.5, False), (1366, 768, 2, False), (1920, 1080, 2, False)])
def test_the_window_fits_the_screen(tmp_path, width, height, scale, all_at_once):
    out = _run(tmp_path, width, height, scale)
    sw, sh = out["screen"]
    assert out["window"][0] <= sw + 4 and out["window"][1] <= sh + 4, out      # not larger than the screen
    assert out["h_scroll"] == 0, out                                           # no horizontal scrolling
    assert out["panel_min_width"] <= out["viewport_width"], out                 # nothing cut off on the right
    for name, dock in out["docks"].items():                                    # in no dock
        if "window" in dock:                                                   # (Timeline, Runs shown)
            assert dock["window"][0] <= sw + 4 and dock["window"][1] <= sh + 4, (name, dock)
            continue
        assert dock["visible"] and dock["h_scroll"] == 0, (name, dock)
        assert dock["min_width"] <= dock["viewport_width"], (name, dock)
    shown, side = out["canvas"]
    assert shown and side >= 195, out["canvas"]                                # the canvas, on screen
    if all_at_once:
        assert all(out["seen"].values()), out["seen"]                          # Start, Stop, every plot
    assert all(out["reachable"].values()), out["reachable"]                    # (by scrolling down)
