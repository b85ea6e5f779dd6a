"""Issue 11, item 6: the Train tab fits the screen (no horizontal scrolling; Start, Stop,
the progress and all four plots on screen) at 1366x768 and at 1920x1080 with
QT_SCALE_FACTOR=1.5. Each case runs the window in its own process, on an offscreen screen
of that size (Qt's offscreen platform reads the screen from a configuration file)."""
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
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.main_window import MainWindow
from app.prompts import NoPrompts
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

plots = tp.plots
out = {
    "screen": [screen.width(), screen.height()],
    "window": [w.frameGeometry().width(), w.frameGeometry().height()],
    "panel_width": tp.width(), "viewport_width": vp.width(),
    "panel_min_width": tp.minimumSizeHint().width(),
    "h_scroll": scroll.horizontalScrollBar().maximum(),
    "seen": {name: on_screen(x) for name, x in (
        ("start", tp.start_button), ("stop", tp.stop_button), ("progress", tp.progress_bar),
        ("error plot", plots.error_plot), ("accuracy plot", plots.accuracy_plot),
        ("kernels", plots.kernels_widget), ("confusion matrix", plots.confusion_plot))},
}
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


@pytest.mark.parametrize("width, height, scale", [(1366, 768, 1), (1920, 1080, 1.5)])
def test_the_train_tab_fits_the_screen(tmp_path, width, height, scale):
    out = _run(tmp_path, width, height, scale)
    sw, sh = out["screen"]
    assert out["window"][0] <= sw + 4 and out["window"][1] <= sh + 4, out      # not wider than the screen
    assert out["h_scroll"] == 0, out                                           # no horizontal scrolling
    assert out["panel_min_width"] <= out["viewport_width"], out                 # nothing cut off on the right
    assert all(out["seen"].values()), out["seen"]                              # Start, Stop, every plot
