"""The first reading of a fresh window compiles nothing on the event loop (issue 11, item 1).

Run in a fresh process, so that no compiled loop is in memory yet: the window's warm-up
must have compiled (or loaded from numba's cache) every loop the reading of a drawing uses,
the non-digit check and the other views' one-image path included, before the user draws."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, tempfile, threading
    from numba.core import dispatcher
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from app.main_window import MainWindow
    from tests.helpers import NoPrompts
    from tests.helpers import draw_strokes, three
    compiled_on_main = []
    original = dispatcher.Dispatcher._compile_for_args
    def spy(self, *args, **kw):
        if threading.current_thread() is threading.main_thread():
            compiled_on_main.append(self.py_func.__name__)
        return original(self, *args, **kw)
    dispatcher.Dispatcher._compile_for_args = spy
    tmp = tempfile.mkdtemp()
    w = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat), prompts=NoPrompts())
    assert w.warmup.wait(120.0)
    w.show()
    draw_strokes(w.canvas, [three()])
    w.classify_now()
    assert w.reading.proba is not None
    print("compiled on the event loop:", compiled_on_main)
    assert not compiled_on_main, compiled_on_main
    w.close()
""")


def test_the_first_reading_compiles_nothing_on_the_event_loop(tmp_path):
    env_cache = {"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}      # a cold cache
    import os
    env = {**os.environ, **env_cache, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "compiled on the event loop: []" in out.stdout
