"""What the window remembers between sessions (QSettings), every value checked on reading.

A value of the wrong kind in the settings file (hand-edited, another version) falls back
to its default instead of stopping the window; recent files that no longer exist are
dropped and the list is capped.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["Preferences", "MAX_RECENT", "BRUSH_RANGE"]

MAX_RECENT = 8
BRUSH_RANGE = (4, 60)


def _as_bool(value, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    if isinstance(value, int):
        return bool(value)
    return default


class Preferences:
    """Typed access to the window's QSettings.

    Parameters
    ----------
    qsettings : QSettings
    """

    def __init__(self, qsettings: QSettings):
        self.qsettings = qsettings

    def _get(self, key: str, default=None):
        try:
            return self.qsettings.value(key, default)
        except Exception:       # noqa: BLE001 - an unreadable value is a missing one
            return default

    # -- drawing --------------------------------------------------------------------------
    def brush_width(self, default: float) -> float:
        """The brush width, within :data:`BRUSH_RANGE`; ``default`` if missing or not a number."""
        try:
            v = float(self._get("brushWidth", default))
        except (TypeError, ValueError):
            return default
        if not math.isfinite(v):
            return default
        return min(max(v, BRUSH_RANGE[0]), BRUSH_RANGE[1])

    def set_brush_width(self, value: float) -> None:
        self.qsettings.setValue("brushWidth", value)

    def preprocess(self) -> bool:
        return _as_bool(self._get("preprocess", True), True)

    # -- files ----------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Models opened lately, newest first: only those still there, at most :data:`MAX_RECENT`."""
        value = self._get("recentModels", [])
        if isinstance(value, str):
            value = [value] if value else []
        if not isinstance(value, (list, tuple)):
            value = []
        out = []
        for v in value:
            if isinstance(v, str) and v and v not in out and os.path.exists(v):
                out.append(v)
        out = out[:MAX_RECENT]
        if out != list(value):
            self.qsettings.setValue("recentModels", out)
        return out

    def remember(self, path: str) -> None:
        """``path`` was opened or saved: first in the recent list, reopened at the next start."""
        recent = [p for p in self.recent_files() if p != path]
        self.qsettings.setValue("recentModels", [path] + recent[:MAX_RECENT - 1])
        self.qsettings.setValue("lastModel", path)

    def clear_recent(self) -> None:
        self.qsettings.setValue("recentModels", [])

    def forget_last_model(self) -> None:
        """The next start opens the shipped model."""
        self.qsettings.setValue("lastModel", "")

    def last_model(self) -> str | None:
        v = self._get("lastModel", "")
        return v if isinstance(v, str) and v and os.path.exists(v) else None

    def start_dir(self) -> str:
        v = self._get("lastDir", "")
        return v if isinstance(v, str) and v and os.path.isdir(v) else str(Path.home())

    def set_start_dir(self, folder: str) -> None:
        self.qsettings.setValue("lastDir", folder)

    # -- window ---------------------------------------------------------------------------
    def theme(self) -> str:
        """The theme: "system", "light" or "dark" (anything else reads as "system")."""
        v = self._get("theme", "system")
        return v if v in ("system", "light", "dark") else "system"

    def set_theme(self, name: str) -> None:
        self.qsettings.setValue("theme", name)

    def forget_layout(self) -> None:
        """Drop the saved window size and dock layout (View ▸ Reset Layout)."""
        self.qsettings.remove("geometry")
        self.qsettings.remove("windowState")

    def geometry(self) -> QByteArray | None:
        v = self._get("geometry")
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        v = self._get("windowState")
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def screen(self) -> tuple[int, int] | None:
        """The available size (logical pixels) of the screen the layout was saved on."""
        v = str(self._get("screen", "") or "")
        try:
            w, h = (int(x) for x in v.split("x"))
        except ValueError:
            return None
        return (w, h) if w > 0 and h > 0 else None

    def save_window(self, geometry: QByteArray, state: QByteArray, preprocess: bool,
                    screen: tuple[int, int] | None = None) -> None:
        if screen is not None:
            self.qsettings.setValue("screen", f"{screen[0]}x{screen[1]}")
        self.qsettings.setValue("geometry", geometry)
        self.qsettings.setValue("windowState", state)
        self.qsettings.setValue("preprocess", preprocess)
        self.qsettings.sync()
