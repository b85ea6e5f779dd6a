"""The ``digitlab`` command: the window, or one clear line when there is no display."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.launcher import NO_DISPLAY_MESSAGE, has_display

ROOT = Path(__file__).resolve().parents[2]


def test_has_display():
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "darwin") and has_display({}, "win32")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux")
def test_launcher_without_display_prints_one_line_and_exits_1():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", "from app.launcher import main; raise SystemExit(main([]))"],
                       env=env, capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert r.returncode == 1
    out = (r.stdout + r.stderr).strip()
    assert out == NO_DISPLAY_MESSAGE and "\n" not in out
    for cmd in ("digitlab reproduce", "digitlab train", "digitlab evaluate", "digitlab --help"):
        assert cmd in out


def test_launcher_with_arguments_runs_the_command_line(monkeypatch):
    import app.launcher as launcher
    import engine.cli
    seen = []
    monkeypatch.setattr(engine.cli, "main", lambda argv=None: seen.append(argv) or 0)
    assert launcher.main(["evaluate", "--json"]) == 0
    assert seen == [["evaluate", "--json"]]
