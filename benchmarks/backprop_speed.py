"""Speed of the backprop mode against the Keras twin, and of one drawn image's forward pass.

Usage (from the repository root)::

    python benchmarks/backprop_speed.py [--data MNIST] [--keras-images 60000] [--no-keras] [--no-cli]

``--data`` is a folder of MNIST IDX files or an ``.npz`` (default: ``DIGITLAB_MNIST``, else
the bundled sample, tiled to 60,000 images). The run is :data:`engine.train.recipes.BACKPROP`
(the article's network: 9 kernels 8x8, hidden 100; batch 64, float32, momentum SGD).

Prints:

- one epoch of our trainer over 60,000 images: seconds and µs an image (best of repeats);
- ``digitlab train --mode backprop --epochs 1`` in a fresh process, recording the run as a
  user's would (snapshots, run record, the test after the epoch): its training speed
  against the trainer's (the goal: within 10%);
- the Keras twin (JAX backend) training the same network at the same batch size with
  SGD + momentum, ``fit`` over a whole epoch (``--keras-images``, default 60,000) after a
  warm-up: seconds, and the ratios of ours and of the command line to it (the goal: 4x);
- the fp32 matrix-product peak of this machine (NumPy's BLAS, every core) measured in the
  same run, and the fraction of it an epoch of ours reaches (flops counted as a framework
  counts them, and as the engine needs them);
- ``Model.forward`` on one (1, 28, 28) image with every feature map, and
  ``Model.predict_proba`` on one image (the window's two calls): medians of many calls.

The machine's load average is printed too: timings on a shared machine vary.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "jax")

from engine.train.recipes import BACKPROP, load_data, make_run, prepare  # noqa: E402
from benchmarks.user_path import cli_train, data_arguments, gemm_peak, load_line, training_flops  # noqa: E402

IMAGES = 60_000


def load(path: str | None, n: int = IMAGES):
    """The settings and ``n`` prepared training images (the sample tiled when it is smaller)."""
    settings = BACKPROP.replace(source="local" if path else "sample", path=path)
    data = prepare(settings, load_data(settings))
    reps = -(-n // len(data.ytr))
    data = dataclasses.replace(data, Xtr=np.tile(data.Xtr, (reps, 1, 1))[:n].astype(np.float32),
                               ytr=np.tile(data.ytr, reps)[:n])
    return settings, data


def time_ours(settings, data, repeats: int = 1) -> float:
    """Seconds for one epoch (best of ``repeats``), after a compile warm-up."""
    warm = dataclasses.replace(data, Xtr=data.Xtr[:512], ytr=data.ytr[:512])
    for _ in make_run(settings, warm)[1].epoch(0):
        pass
    best = np.inf
    for r in range(repeats):
        _, stepper = make_run(settings.replace(seed=r), data)
        t0 = time.perf_counter()
        for _ in stepper.epoch(0):
            pass
        best = min(best, time.perf_counter() - t0)
    return best


def time_keras(settings, data, n: int) -> float:
    """µs an image for Keras ``fit`` (SGD with the settings' rate and momentum) on ``n`` images."""
    import keras
    from tests.engine.keras_twin import to_keras

    model, _ = make_run(settings, dataclasses.replace(data, Xtr=data.Xtr[:1], ytr=data.ytr[:1]))
    km = to_keras(model)
    km.compile(optimizer=keras.optimizers.SGD(learning_rate=settings.alpha, momentum=settings.momentum),
               loss="categorical_crossentropy")
    Y = np.eye(10, dtype=np.float32)[data.ytr]
    Xk = data.Xtr[..., None]
    km.fit(Xk[:2048], Y[:2048], batch_size=settings.batch, epochs=1, verbose=0, shuffle=True)
    n = min(n, len(Xk))
    t0 = time.perf_counter()
    km.fit(Xk[:n], Y[:n], batch_size=settings.batch, epochs=1, verbose=0, shuffle=True)
    return (time.perf_counter() - t0) / n * 1e6


def time_window(settings, data, calls: int = 500) -> tuple[float, float]:
    """Median ms of ``Model.forward`` (every feature map) and of ``Model.predict_proba`` on one image."""
    model, _ = make_run(settings, dataclasses.replace(data, Xtr=data.Xtr[:1], ytr=data.ytr[:1]))
    X = data.Xtr
    images01 = np.random.RandomState(0).rand(calls, 28, 28)
    model.forward(X[:1])
    model.predict_proba(images01[:1])
    full, proba = [], []
    for i in range(calls):
        t0 = time.perf_counter()
        model.forward(X[i % len(X)][None])
        t1 = time.perf_counter()
        model.predict_proba(images01[i][None])
        full.append(t1 - t0)
        proba.append(time.perf_counter() - t1)
    return float(np.median(full)) * 1e3, float(np.median(proba)) * 1e3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.environ.get("DIGITLAB_MNIST"),
                   help="MNIST: a folder of IDX files or an .npz (default: $DIGITLAB_MNIST, else "
                        "the bundled sample, tiled)")
    p.add_argument("--keras-images", type=int, default=60_000,
                   help="images of the Keras twin's timed epoch (60000: a whole epoch)")
    p.add_argument("--no-cli", action="store_true", help="leave out the command line's run")
    p.add_argument("--repeats", type=int, default=2, help="epochs of ours to time (best is reported)")
    p.add_argument("--no-keras", action="store_true")
    a = p.parse_args(argv)

    settings, data = load(a.data)
    print(f"{data.description}; {len(data.ytr):,} images an epoch; batch {settings.batch}; "
          f"{settings.dtype.name}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    sec = time_ours(settings, data, a.repeats)
    ours_us = sec / len(data.ytr) * 1e6
    print(f"ours:  one epoch over {len(data.ytr):,} images in {sec:.2f} s ({ours_us:.1f} µs an image; "
          f"best of {a.repeats})")
    cli_us = None
    if not a.no_cli:
        out = cli_train(["--mode", "backprop", "--epochs", "1", *data_arguments(a.data)])
        cli_us = 1e6 / out["images_per_second"]
        print(f"digitlab train (recording on): one epoch of {out['train_seconds'] * 1e6 / cli_us:,.0f} "
              f"images in {out['train_seconds']:.2f} s training ({cli_us:.1f} µs an image), "
              f"{ours_us / cli_us * 100:.1f}% of the trainer's speed (goal: at least 90%); test "
              f"{out['test_seconds']:.2f} s, record {out['record_seconds']:.2f} s, process "
              f"{out['process_seconds']:.1f} s")
    if not a.no_keras:
        k_us = time_keras(settings, data, a.keras_images)
        n = min(a.keras_images, len(data.ytr))
        print(f"keras: {k_us:.1f} µs an image (fit over {n:,} images after a warm-up: "
              f"{k_us * n / 1e6:.2f} s)")
        print(f"ratio: ours is {k_us / ours_us:.2f}x faster than the Keras twin"
              + (f"; digitlab train {k_us / cli_us:.2f}x (goal: 4x)" if cli_us else ""))
    peak = gemm_peak(np.float32)
    flops = training_flops(settings.kernels, settings.kernel_size, settings.hidden)
    print(f"fp32 matrix-product peak now: {peak:.1f} GFLOP/s (every core)")
    for name in ("model", "needed"):
        rate = flops[name] / (ours_us * 1e-6) / 1e9
        print(f"flops an image ({name} count): {flops[name]:,}: {rate:.1f} GFLOP/s in an epoch of "
              f"ours, {rate / peak * 100:.0f}% of the peak")
    full, proba = time_window(settings, data)
    print(f"forward pass of one image with every feature map: {full:.3f} ms (median)")
    print(f"predict_proba of one drawing: {proba:.3f} ms (median)")
    print(load_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
