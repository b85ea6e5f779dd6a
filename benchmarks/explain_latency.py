"""Latency of the explanation panel's views on the shipped model and a drawn digit.

Prints, for each view, the engine's compute time (median and slowest over repeats, on
the calling thread) and the panel's latency from ``set_drawing`` (or the click) to the
view's signal, through the worker threads and the event loop.

Usage::

    QT_QPA_PLATFORM=offscreen python -m benchmarks.explain_latency [--repeats N]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402


def stats(times) -> str:
    t = np.asarray(times) * 1000
    return f"median {np.median(t):7.1f} ms, slowest {t.max():7.1f} ms"


def partial_drawings(strokes, n):
    """``n`` drawings of the stroke being drawn: the points so far, as the canvas sees them."""
    from tests.helpers import render_strokes as draw
    pts = [(i, j) for i, s in enumerate(strokes) for j in range(1, len(s) + 1)]
    picks = np.linspace(len(pts) // 3, len(pts) - 1, n).astype(int)
    out = []
    for k in picks:
        i, j = pts[k]
        out.append(draw([s for s in strokes[:i]] + [strokes[i][:max(j, 2)]]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    qapp = qt_application()
    import engine
    from engine.net.preprocess import to_mnist
    from tests.helpers import curly_seven, wait_for
    from app.explain import work as tasks
    from app.explain.panel import ExplainPanel
    from engine.explain.attribution import METHODS

    model = engine.load_model()
    drawings = partial_drawings(curly_seven(), args.repeats)
    inputs = [to_mnist(d) for d in drawings]
    print(f"shipped model ({model.config.kernels} kernels {model.config.kernel_size}x{model.config.kernel_size}, "
          f"{model.config.hidden} hidden); {args.repeats} partial drawings of a 7 on a 280x280 canvas; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    tasks.why_task(model, 0, inputs[-1], drawings[-1], True, "gradient × input", None)     # warm up
    print("engine, on the calling thread:")
    for method in METHODS:
        times = []
        for x, c in zip(inputs, drawings):
            t0 = time.perf_counter()
            tasks.why_task(model, 0, x, c, True, method, None)
            times.append(time.perf_counter() - t0)
        print(f"  overlay by {method:22s} {stats(times)}")
    t0 = time.perf_counter()
    ctx = tasks.build_context(model, 0, None)
    print(f"  index + PCA of the sample     {1000 * (time.perf_counter() - t0):7.1f} ms (once per model)")
    for name, fn in (("robustness (on and off)", lambda x, c: tasks.robust_task(model, 0, c)),
                     ("break it (reading + accuracy)", lambda x, c: tasks.break_task(
                         ctx, tasks.Damage(noise=float(np.random.rand())), x)),
                     ("looks like", lambda x, c: tasks.looks_task(ctx, x))):
        times = []
        for x, c in list(zip(inputs, drawings))[:5 if "robust" in name else None]:
            t0 = time.perf_counter()
            fn(x, c)
            times.append(time.perf_counter() - t0)
        print(f"  {name:29s} {stats(times)}")
    t0 = time.perf_counter()
    tasks.rank_task(ctx)
    print(f"  kernel ranking ({len(ctx.test_labels)} images)  {1000 * (time.perf_counter() - t0):7.1f} ms")

    panel = ExplainPanel()
    panel.resize(900, 700)
    panel.show()
    panel.set_model(model)
    wait_for(panel.dataReady)
    print("panel, set_drawing to the view's signal (worker threads and event loop):")
    for method in ("gradient × input", "integrated gradients", "occlusion"):
        panel.method_box.setCurrentText(method)
        wait_for(panel.overlayChanged)
        times = []
        for x, c in zip(inputs, drawings):
            t0 = time.perf_counter()
            panel.set_drawing(x, c)
            wait_for(panel.overlayChanged)
            times.append(time.perf_counter() - t0)
        print(f"  overlay by {method:22s} {stats(times)}")
    panel.overlay_box.setChecked(False)
    for tab, signal, name in ((2, panel.brokenChanged, "break it"), (3, panel.looksChanged, "looks like")):
        panel.tabs.setCurrentIndex(tab)
        wait_for(signal)
        times = []
        for x, c in zip(inputs, drawings):
            t0 = time.perf_counter()
            panel.set_drawing(x, c)
            wait_for(signal)
            times.append(time.perf_counter() - t0)
        print(f"  {name:33s} {stats(times)}")
    panel.tabs.setCurrentIndex(1)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        panel.robust_button.click()
        wait_for(panel.robustnessChanged)
        times.append(time.perf_counter() - t0)
    print(f"  {'robustness (one click)':33s} {stats(times)}")
    panel.tabs.setCurrentIndex(2)
    t0 = time.perf_counter()
    panel.rank_button.click()
    wait_for(panel.rankingChanged)
    print(f"  {'kernel ranking (one click)':33s} {1000 * (time.perf_counter() - t0):7.1f} ms")
    panel.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
