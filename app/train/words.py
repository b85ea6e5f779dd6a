"""What the Train tab says about a run, in words: the progress bar's text and tooltip, the log's
lines, the summary at the end (no Qt)."""
from __future__ import annotations

import math
import re

__all__ = ["fmt_time", "unit_of", "unit", "counted", "singular_ones", "model_name", "progress",
           "iteration_line", "test_line", "ended", "download", "download_ended", "STEP_TIP"]

STEP_TIP = "One more pass over the training images from the current weights (an iteration; an epoch in backprop mode)"
"""The Step button's tooltip."""


def fmt_time(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``; ``?`` when unknown."""
    if not math.isfinite(seconds):
        return "?"
    h, rem = divmod(int(round(seconds)), 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def unit_of(mode: str) -> str:
    """What one pass over the training images is called in ``mode``: "epoch" in backprop
    mode, "iteration" in the article's (the one word each mode uses everywhere)."""
    return "epoch" if mode == "backprop" else "iteration"


def unit(request) -> str:
    """What an iteration is called in a run's mode (an :class:`app.train.run_jobs.RunRequest`):
    an epoch in backprop mode."""
    return unit_of(request.settings.mode if request is not None else "article")


def counted(n: int, word: str) -> str:
    """``n`` and ``word``, plural unless ``n`` is 1: "1 epoch", "12 epochs"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def singular_ones(text: str) -> str:
    """``text`` with "1 iterations", "1 epochs", "1 images"... made singular."""
    return re.sub(r"(?<![\d.,])1 (iteration|epoch|image|drawing|kernel|run)s\b", r"1 \1", text)


def model_name(request, iterations: int) -> str:
    """The name of a model trained in the window by ``request`` over ``iterations`` passes."""
    return f"trained in the window ({request.settings.mode}, {counted(iterations, unit(request))})"


def progress(ev, request) -> tuple[float, str, str]:
    """The share of the run done (0 to 1), the bar's short text and its tooltip for a
    :class:`engine.train.events.Progress`."""
    r = request
    start = r.start_iteration if r else 0
    end = start + (r.epochs or r.settings.epochs) if r else ev.iteration + 1
    frac = (ev.iteration - start + ev.done / max(ev.total, 1)) / max(end - start, 1)
    left = ((end - ev.iteration) * ev.total - ev.done) / ev.images_per_second \
        if ev.images_per_second > 0 else math.inf
    at_most = " at most" if r and r.settings.tol and r.epochs != 1 else ""
    text = f"{ev.iteration + 1}/{end} · {ev.images_per_second:,.0f} img/s · {fmt_time(left)} left"
    tip = (f"{unit(r)} {ev.iteration + 1} of {end}{at_most}, {ev.images_per_second:,.0f} images a second, "
           f"{fmt_time(left)} left")
    return min(max(frac, 0.0), 1.0), text, tip


def iteration_line(ev, request) -> str:
    extra = f", loss {ev.loss:.5f}" if not math.isclose(ev.loss, ev.train_error) else ""
    return (f"{unit(request)} {ev.iteration}: training error {ev.train_error:.5f}{extra} "
            f"({ev.seconds:.1f} s, {ev.images_per_second:,.0f} img/s)")


def test_line(f) -> str:
    return (f"    test error {f.test_error:.5f}, arg-max accuracy {f.argmax_accuracy:.2f}%, "
            f"percent correct (article's rule) {f.percent_correct:.2f}%")


def ended(fin, record, request, wall: float) -> tuple[str, str]:
    """The bar's text and the summary line when a run ended (``record``: its record or None;
    ``wall``: seconds in all)."""
    u, ran = unit(request), counted(fin.iterations, unit(request))
    bar = f"{fin.reason.replace('_', ' ')} · {ran} · {fin.images_per_second:,.0f} img/s"
    err = f"{fin.train_error:.5f}" if math.isfinite(fin.train_error) else "–"
    said = singular_ones(re.sub(r"\biteration(s?)\b", lambda m: u + m.group(1), fin.message))  # the mode's word
    summary = (f"{said[:1].upper()}{said[1:]}" + ("" if ran in said else f". {ran}")
               + f", training error of the last complete {u} {err}")
    t = record.test if record is not None else None
    if t is not None:
        summary += (f", test error {t.test_error:.5f}, arg-max accuracy {t.argmax_accuracy:.2f}%, "
                    f"percent correct {t.percent_correct:.2f}%")
    summary += f"; training {fin.seconds:.1f} s ({fin.images_per_second:,.0f} img/s), {wall:.1f} s in all."
    return bar, summary


def download(ev) -> tuple[float | None, str]:
    """The share downloaded (None: size unknown) and the bar's text for a DownloadProgress."""
    if ev.total > 0:
        return ev.done / ev.total, f"downloading MNIST: {ev.done / 1e6:.1f} of {ev.total / 1e6:.1f} MB"
    return None, f"downloading MNIST: {ev.done / 1e6:.1f} MB"


def download_ended(ev) -> str:
    """The progress bar's one short line when a download ended (the whole message goes to
    its tooltip and the log: the bar holds no more)."""
    return ("MNIST downloaded" if ev.ok else "download cancelled" if "cancelled" in ev.message
            else "download failed: see the log")
