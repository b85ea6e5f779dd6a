"""Does teaching work? Simulated writers each correct 20 drawings; how well does the model then read them?

Each simulated writer (:func:`engine.strokes.random_writer`) draws every digit in one style of
its own (mostly the styles MNIST rarely has), with its own slant, size, width and brush. The
writer gives two drawings of each digit (20 corrections); :func:`engine.finetune.finetune`
learns them; the writer's other drawings (``--others`` a digit) are read before and after, and
MNIST's test set before and after (the forgetting meter). Prints one line a writer, then the
mean and the worst.

Usage::

    python benchmarks/teach_check.py [--model PATH] [--writers 10] [--others 20] [--seed 0]
        [--mnist path/to/mnist]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine import data, strokes  # noqa: E402
from engine.finetune import default_replay, finetune  # noqa: E402


def accuracy(model, X, y) -> float:
    return float((model.predict_proba(X).argmax(1) == y).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--writers", type=int, default=10)
    ap.add_argument("--others", type=int, default=20, help="other drawings of each digit per writer")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mnist", default=os.environ.get("DIGITLAB_MNIST",
                                                      str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")))
    a = ap.parse_args(argv)
    model = engine.load_model(a.model)
    try:
        ds = data.load_local(a.mnist)
        Xt, yt, what = ds.test_images / 255.0, ds.test_labels, "MNIST test (10,000)"
    except data.DataError:
        ds = data.load_sample()
        Xt, yt, what = ds.test_images / 255.0, ds.test_labels, "the bundled sample's 1,000 test digits"
    replay = default_replay()
    mnist_before = accuracy(model, Xt, yt)
    rng = np.random.default_rng(a.seed)
    finetune(model, Xt[:2], yt[:2], replay=replay, steps=1)            # compile once, not timed
    print(f"model: {model.title}; {a.writers} writers, 20 corrections each, {a.others} other drawings "
          f"of each digit; forgetting measured on {what}; {os.cpu_count()} cores (shared)")
    rows = []
    for w in range(a.writers):
        writer = strokes.random_writer(rng)
        y = np.repeat(np.arange(10), 2)
        Xc = writer.digits(y, rng)
        yo = np.repeat(np.arange(10), a.others)
        Xo = writer.digits(yo, rng)
        t0 = time.perf_counter()
        tuned = finetune(model, Xc, y, replay=replay, seed=w)
        secs = time.perf_counter() - t0
        before, after = accuracy(model, Xo, yo), accuracy(tuned, Xo, yo)
        m_after = accuracy(tuned, Xt, yt)
        rows.append((before, after, m_after, secs))
        hard = [s for s in writer.styles if s in strokes.HARD_STYLES]
        print(f"writer {w:2d}: {100 * before:5.1f}% -> {100 * after:5.1f}%   MNIST {100 * mnist_before:.2f}% -> "
              f"{100 * m_after:.2f}%   {secs:4.1f} s   styles: {', '.join(hard)}", flush=True)
    r = np.array(rows)
    print(f"mean over writers: {100 * r[:, 0].mean():.1f}% -> {100 * r[:, 1].mean():.1f}%; worst writer "
          f"{100 * r[:, 0].min():.1f}% -> {100 * r[:, 1].min():.1f}%; MNIST {100 * mnist_before:.2f}% -> "
          f"{100 * r[:, 2].mean():.2f}% on average (worst {100 * r[:, 2].min():.2f}%); "
          f"fine-tuning {r[:, 3].mean():.1f} s on average, {r[:, 3].max():.1f} s at most")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
