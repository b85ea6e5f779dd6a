"""Speed of the backprop mode against the Keras twin, and of one drawn image's forward pass.

Usage (from the repository root)::

    PYTHONPATH=. /work/venv/bin/python benchmarks/backprop_speed.py [--keras-images 10000]

Prints:

- one epoch of our trainer (the article's network: 9 kernels 8x8, hidden 100) over 60,000
  images (full MNIST when ../shared/data/mnist is there, else the bundled sample tiled),
  batch 64, float32, momentum SGD: seconds and µs an image;
- the Keras twin (JAX backend) training the same network at the same batch size with
  SGD + momentum, ``fit`` on a subset after a warm-up: µs an image;
- their ratio;
- ``Model.forward`` on one (1, 28, 28) image with every feature map: median of many calls.

The machine's load average is printed too: timings on a shared machine vary.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "jax")

from engine import data  # noqa: E402
from engine.backprop import BackpropStepper  # noqa: E402
from engine.model import Config, Model  # noqa: E402

MNIST = str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")


def load_images(n: int = 60_000):
    """``n`` normalised float32 training images (N, 28, 28), labels (N,), norm and a description."""
    if os.path.isdir(MNIST):
        ds = data.load("local", MNIST)
        what = "full MNIST"
    else:
        ds = data.load_sample("benchmark")
        what = "the bundled sample, tiled"
    X, y, _, _, norm = data.prepare(ds, "standard")
    reps = -(-n // len(y))
    X = np.tile(X, (reps, 1, 1))[:n].astype(np.float32)
    y = np.tile(y, reps)[:n]
    return X, y, norm, what


def time_ours(X, y, norm, batch: int, repeats: int = 1) -> float:
    """Seconds for one epoch over ``X`` (best of ``repeats``), after a compile warm-up."""
    model = Model.scaled_init(Config(), np.random.default_rng(0), norm)
    warm = BackpropStepper(model, X[:512], y[:512], batch=batch, seed=0)
    for _ in warm.epoch(0):
        pass
    best = np.inf
    for r in range(repeats):
        model = Model.scaled_init(Config(), np.random.default_rng(0), norm)
        st = BackpropStepper(model, X, y, batch=batch, seed=r)
        t0 = time.perf_counter()
        for _ in st.epoch(0):
            pass
        best = min(best, time.perf_counter() - t0)
    return best


def time_keras(X, y, norm, batch: int, n: int) -> float:
    """µs an image for Keras ``fit`` (SGD, momentum 0.9) on ``n`` images, after a warm-up."""
    import keras
    from engine.keras_twin import to_keras

    model = Model.scaled_init(Config(), np.random.default_rng(0), norm)
    km = to_keras(model)
    km.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
               loss="categorical_crossentropy")
    Y = np.eye(10, dtype=np.float32)[y]
    Xk = X[..., None]
    km.fit(Xk[:2048], Y[:2048], batch_size=batch, epochs=1, verbose=0, shuffle=True)
    t0 = time.perf_counter()
    km.fit(Xk[:n], Y[:n], batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return (time.perf_counter() - t0) / n * 1e6


def time_forward(X, norm, calls: int = 500) -> float:
    """Median ms of ``Model.forward`` on one (1, 28, 28) image, feature maps included."""
    model = Model.scaled_init(Config(), np.random.default_rng(0), norm)
    x = X[:1]
    model.forward(x)
    ts = []
    for i in range(calls):
        t0 = time.perf_counter()
        model.forward(X[i % len(X)][None])
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1e3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--keras-images", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=2, help="epochs of ours to time (best is reported)")
    p.add_argument("--no-keras", action="store_true")
    a = p.parse_args(argv)

    X, y, norm, what = load_images()
    print(f"data: {what}, {len(y):,} images; batch {a.batch}; float32; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    sec = time_ours(X, y, norm, a.batch, a.repeats)
    ours_us = sec / len(y) * 1e6
    print(f"ours:  one epoch over {len(y):,} images in {sec:.2f} s ({ours_us:.1f} µs an image; "
          f"best of {a.repeats})")
    if not a.no_keras:
        try:
            k_us = time_keras(X, y, norm, a.batch, a.keras_images)
        except ImportError as e:
            print(f"keras: unavailable ({e})")
        else:
            print(f"keras: {k_us:.1f} µs an image (fit on {a.keras_images:,} images after a warm-up; "
                  f"an epoch of {len(y):,} would take {k_us * len(y) / 1e6:.2f} s)")
            print(f"ratio: ours is {k_us / ours_us:.2f}x faster than the Keras twin")
    ms = time_forward(X, norm)
    print(f"forward pass of one image with every feature map: {ms:.3f} ms (median)")
    print(f"load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
