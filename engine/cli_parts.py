"""Small parts of the command line: the terminal progress bar, JSON-ready values, option types."""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from .train.events import Progress

__all__ = ["CliError", "ProgressBar", "jsonable", "positive_int", "seed", "nonneg_float"]


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class ProgressBar:
    """A one-line progress bar on a terminal (stderr); silent when stderr is not a terminal."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.shown = False

    def update(self, ev: Progress) -> None:
        if not self.enabled:
            return
        frac = ev.done / max(ev.total, 1)
        fill = int(round(frac * self.width))
        left = (ev.total - ev.done) / ev.images_per_second if ev.images_per_second > 0 else math.nan
        self.stream.write(f"\r  iteration {ev.iteration:>3} [{'#' * fill}{'.' * (self.width - fill)}] "
                          f"{ev.done:>6}/{ev.total} error {ev.running_error:.5f} "
                          f"{ev.images_per_second:,.0f} img/s, {left:4.0f} s left ")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
            self.shown = False


def jsonable(obj):
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return v


def seed(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"{text} must lie in 0..{2**32 - 1}")
    return v


def nonneg_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"{text} must be a finite number, 0 or more")
    return v
