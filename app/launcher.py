"""The ``digitlab`` command: the window, or the terminal commands when given arguments."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["main", "has_display", "NO_DISPLAY_MESSAGE", "APT_LINE", "missing_xcb_libraries",
           "xcb_plugin", "platform_problem"]

NO_DISPLAY_MESSAGE = (
    "digitlab: no display found (DISPLAY and WAYLAND_DISPLAY are not set), so the window cannot "
    "open; use the terminal commands instead: digitlab reproduce, digitlab train, "
    "digitlab evaluate (digitlab --help lists them).")


def has_display(environ=None, platform: str | None = None) -> bool:
    """Whether a window can open: always outside Linux; on Linux, when DISPLAY,
    WAYLAND_DISPLAY or QT_QPA_PLATFORM (e.g. ``offscreen``) is set."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


APT_LINE = ("sudo apt-get install libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 "
            "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
            "libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0")
"""The one line that installs every system library Qt's X11 window needs (Debian/Ubuntu;
the README's *System libraries on Linux* gives the same line)."""

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def xcb_plugin() -> Path | None:
    """Qt's X11 platform plugin (``libqxcb.so``) in the installed PySide6, if there is one."""
    try:
        import PySide6
    except ImportError:
        return None
    p = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return p if p.is_file() else None


def missing_xcb_libraries(plugin: Path | None = None, timeout: float = 10.0) -> list[str]:
    """The shared libraries Qt's X11 platform plugin needs and the system lacks (as ``ldd``
    reports them, e.g. ``libxcb-cursor.so.0``), in order, each once. Empty when nothing is
    missing, or when it cannot be told (no plugin, no ``ldd``, ``ldd`` failed)."""
    plugin = plugin if plugin is not None else xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(out.stdout)))


def _uses_xcb(environ) -> bool:
    """Whether Qt will open its window through X11 (xcb): asked for, or left to choose
    with no Wayland session."""
    asked = environ.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(":")[0].split(";")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def platform_problem(environ=None, platform: str | None = None) -> str | None:
    """On Linux, when Qt's X11 platform plugin cannot load: the message to print (the
    missing libraries and the ``apt-get install`` line), else None."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or not _uses_xcb(env):
        return None
    missing = missing_xcb_libraries()
    if not missing:
        return None
    return ("digitlab: the window cannot open: Qt's X11 platform plugin (xcb) needs system "
            f"libraries that are missing: {', '.join(missing)}.\nInstall them with:\n    {APT_LINE}\n"
            "(the terminal commands work without them: digitlab --help)")


def main(argv=None) -> int:
    """Entry point of the ``digitlab`` console script.

    With arguments, run the terminal command line (:func:`engine.cli.main`); with none,
    open the window, or, on a Linux machine with no display or without the system libraries
    Qt's X11 plugin needs, print what is wrong and return 1 (instead of Qt aborting).
    """
    from engine.startup import quiet_start, release_interrupts
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv:
        with quiet_start():             # Ctrl+C while the command line loads: one line, exit 130
            from engine.cli import main as cli_main
        return cli_main(argv)           # (it releases Ctrl+C to its own handling)
    if not has_display():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr)
        return 1
    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    with quiet_start():
        from app.main_window import run
    return run(sys.argv[:1])


if __name__ == "__main__":
    raise SystemExit(main())
