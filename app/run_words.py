"""What the Train tab says about a run, in words: the progress bar's text and tooltip, the log's
lines, the summary at the end (no Qt)."""
from __future__ import annotations

import math

__all__ = ["fmt_time", "unit", "progress", "iteration_line", "test_line", "ended", "download"]


def fmt_time(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``; ``?`` when unknown."""
    if not math.isfinite(seconds):
        return "?"
    h, rem = divmod(int(round(seconds)), 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def unit(request) -> str:
    """What an iteration is called in a run's mode (an :class:`app.training_jobs.RunRequest`):
    an epoch in backprop mode."""
    return "epoch" if request is not None and request.settings.mode == "backprop" else "iteration"


def progress(ev, request) -> tuple[float, str, str]:
    """The share of the run done (0 to 1), the bar's short text and its tooltip for a
    :class:`engine.events.Progress`."""
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
    u, s = unit(request), "s" if fin.iterations != 1 else ""
    bar = f"{fin.reason.replace('_', ' ')} · {fin.iterations} {u}{s} · {fin.images_per_second:,.0f} img/s"
    err = f"{fin.train_error:.5f}" if math.isfinite(fin.train_error) else "–"
    summary = (f"{fin.message[:1].upper()}{fin.message[1:]}. {fin.iterations} {u}{s}, "
               f"training error of the last complete {u} {err}")
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
