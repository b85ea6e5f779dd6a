"""The ``digitlab`` command: the window, or the terminal commands when given arguments."""
from __future__ import annotations

import os
import sys

__all__ = ["main", "has_display", "NO_DISPLAY_MESSAGE"]

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


def main(argv=None) -> int:
    """Entry point of the ``digitlab`` console script.

    With arguments, run the terminal command line (:func:`engine.cli.main`); with none,
    open the window, or, on a Linux machine with no display, print one line saying so
    and return 1 (instead of Qt aborting).
    """
    from engine.startup import quiet_start
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv:
        with quiet_start():             # Ctrl+C while the command line loads: one line, exit 130
            from engine.cli import main as cli_main
        return cli_main(argv)
    if not has_display():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr)
        return 1
    with quiet_start():
        from app.main_window import run
    return run(sys.argv[:1])


if __name__ == "__main__":
    raise SystemExit(main())
