"""Time the article's training mode: its loop as written, the plain oracle, the compiled loop.

All three start from the same initial weights (the recipe's seeded initialisation,
:data:`engine.train.recipes.ARTICLE` with seed 0) on the same images: the first ``--images``
training images of MNIST (``--data``, a folder of IDX files or an ``.npz``; else
``DIGITLAB_MNIST``; else the bundled sample), normalised the article's way over those
images. Prints microseconds per image for the article's loop as written
(``benchmarks/article_as_written.py``: the bar), the readable oracle
(``tests/engine/oracle_article.py``) and the fast mode; the ratios of the fast mode to
both and to the article's stated 3.5 ms an image; and the largest parameter difference
after the oracle's images (it must be under 1e-9). CPU time is printed beside wall time:
on a busy machine it is the steadier figure.

Then the user's path: ``digitlab train --mode article`` on the same images, one
iteration, in a fresh process that records the run as a user's would (snapshots, run
record, the test): its training speed against the fast loop's (the goal: within 10%) and
against the article's loop (the goal: 250x). Last, how close the loop is to this machine's
limit: its flops an image against the fp64 matrix-product peak measured now, on one core
(the article's update is sequential: one image at a time on one thread).

Usage::

    python benchmarks/article_speed.py [--data MNIST] [--images 20000] [--oracle-images 300]
                                      [--as-written-images 200] [--dropout] [--repeats 3]
                                      [--no-cli]

Other jobs on the machine inflate single runs: compare CPU figures, best of several
repeats, between runs made at the same time.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.train.recipes import ARTICLE, load_data, make_run, prepare  # noqa: E402
from benchmarks.article_as_written import train_as_written  # noqa: E402
from benchmarks.user_path import cli_train, data_arguments, gemm_peak, load_line, training_flops  # noqa: E402
from tests.engine.oracle_article import oracle_epoch  # noqa: E402

ARTICLE_SECONDS_PER_IMAGE = 3.5e-3


def settings_for(data: str | None, images: int, dropout: bool):
    """The article's settings on the first ``images`` images of ``data`` (None: the sample)."""
    return ARTICLE.replace(source="local" if data else "sample", path=data, train=images,
                           dropout=1.0 if dropout else 0.0)


def per_image(fn, n: int) -> tuple[float, float]:
    """Run ``fn()``; wall and CPU seconds per image over ``n`` images."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def max_difference(a, b) -> float:
    return max(float(np.abs(a.params[k] - b.params[k]).max()) for k in a.params)


def parse(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("DIGITLAB_MNIST"),
                    help="MNIST: a folder of IDX files or an .npz (default: $DIGITLAB_MNIST, "
                         "else the bundled sample)")
    ap.add_argument("--images", type=int, default=20_000,
                    help="images for the fast mode and the command line (20000, the article's)")
    ap.add_argument("--oracle-images", type=int, default=300,
                    help="images for the oracle, the first of the same images (300)")
    ap.add_argument("--as-written-images", type=int, default=200,
                    help="images for the article's loop as written, the first of the same (200)")
    ap.add_argument("--dropout", action="store_true", help="train with the article's dropout")
    ap.add_argument("--chunk", type=int, default=256, help="images per compiled call (256)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed passes of the fast mode; the best is shown (3)")
    ap.add_argument("--no-cli", action="store_true", help="leave out the command line's run")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    settings = settings_for(args.data, args.images, args.dropout)
    data = prepare(settings, load_data(settings))
    X, y = data.Xtr, data.ytr
    n = X.shape[0]
    n_oracle = min(args.oracle_images, n)
    n_written = min(args.as_written_images, n)
    print(f"images: {n}; {data.description}; oracle on the first {n_oracle}; "
          f"dropout {'on' if args.dropout else 'off'}; {os.cpu_count()} CPUs")

    def fresh(count: int):
        """The seeded model and its stepper over the first ``count`` images."""
        part = dataclasses.replace(data, Xtr=X[:count], ytr=y[:count])
        return make_run(settings, part, chunk=args.chunk)

    def oracle(count: int, dropout: bool):
        """The oracle's model after the first ``count`` images, and its error sum."""
        model, stepper = fresh(count)
        err = oracle_epoch(model.params, X[:count], y[:count], alpha=settings.alpha, dropout=dropout,
                           rng=stepper.rng)
        return model, err

    # warm-up: compile (or load numba's cache) outside the timings
    t0 = time.perf_counter()
    list(fresh(2)[1].epoch(0))
    print(f"warm-up (compile or load the numba cache): {time.perf_counter() - t0:.2f} s")

    result = {}
    t_slow, c_slow = per_image(lambda: result.update(slow=oracle(n_oracle, args.dropout)), n_oracle)
    slow, err_slow = result["slow"]

    # the article's loop as written (the bar), on the first images, no dropout
    written, _ = fresh(n_written)
    t_written, c_written = per_image(
        lambda: train_as_written(written.params, X[:n_written], np.eye(10)[y[:n_written]]), n_written)
    diff_written = max_difference(written, oracle(n_written, False)[0])

    # fast mode on the oracle's images (agreement), then on all images (speed)
    fast, stepper = fresh(n_oracle)
    err_fast = list(stepper.epoch(0))[-1][1]
    diff = max_difference(fast, slow)
    timings = []
    for _ in range(max(1, args.repeats)):
        stepper = fresh(n)[1]
        timings.append(per_image(lambda: list(stepper.epoch(0)), n))
    best, best_cpu = min(t for t, _ in timings), min(c for _, c in timings)

    print(f"article's loop as written: {t_written * 1e6:9.1f} us/image wall, {c_written * 1e6:9.1f} CPU  "
          f"({n_written} images; agrees with the oracle to {diff_written:.1e})")
    print(f"oracle: {t_slow * 1e6:9.1f} us/image wall, {c_slow * 1e6:9.1f} CPU  ({n_oracle} images)")
    print(f"fast:   {best * 1e6:9.1f} us/image wall, {best_cpu * 1e6:9.1f} CPU  "
          f"({n} images, best of {len(timings)})")
    print(f"fast vs the article's loop as written: {t_written / best:7.1f}x faster (wall), "
          f"{c_written / best_cpu:7.1f}x (CPU); the goal is 100x")
    print(f"fast vs oracle: {t_slow / best:7.1f}x faster")
    print(f"fast vs the article's stated 3.5 ms/image: {ARTICLE_SECONDS_PER_IMAGE / best:7.1f}x faster "
          f"(wall), {ARTICLE_SECONDS_PER_IMAGE / best_cpu:7.1f}x (CPU)")
    print(f"max parameter difference after {n_oracle} images: {diff:.3e}  "
          f"(error sums {err_slow:.12f} vs {err_fast:.12f})")
    ok = diff < 1e-9 and diff_written < 1e-9 and abs(err_slow - err_fast) <= 1e-9 * max(1.0, abs(err_slow))
    print("agreement within 1e-9:", "yes" if ok else "NO")
    if not args.no_cli:
        user_path(args, n, best, t_written)
    limit(settings, best)
    print(load_line())
    return 0 if ok else 1


def user_path(args, n: int, kernel: float, written: float) -> None:
    """Time ``digitlab train --mode article`` on the same images and compare."""
    cli = ["--mode", "article", "--train", str(n), "--epochs", "1", "--tol", "0"]
    cli += data_arguments(args.data)
    cli += ["--dropout", "1"] if args.dropout else []
    out = cli_train(cli)
    per = 1.0 / out["images_per_second"]
    print(f"digitlab train (recording on): {per * 1e6:9.1f} us/image training, "
          f"{kernel / per * 100:.1f}% of the fast loop's speed (goal: at least 90%); "
          f"test {out['test_seconds']:.2f} s, record {out['record_seconds']:.2f} s, "
          f"process {out['process_seconds']:.1f} s")
    print(f"digitlab train vs the article's loop as written: {written / per:7.1f}x faster (wall; goal 250x)")


def limit(settings, kernel: float) -> None:
    """The fast loop's flops an image against this machine's fp64 GEMM peak (one core, all)."""
    c = settings.config
    flops = training_flops(c.kernels, c.kernel_size, c.hidden)
    one, every = gemm_peak(np.float64, threads=1), gemm_peak(np.float64)
    print(f"fp64 matrix-product peak now: {one:.1f} GFLOP/s on one core, {every:.1f} on all")
    for name in ("model", "needed"):
        rate = flops[name] / kernel / 1e9
        print(f"flops an image ({name} count): {flops[name]:,}: {rate:.1f} GFLOP/s, "
              f"{rate / one * 100:.0f}% of one core's peak")


if __name__ == "__main__":
    raise SystemExit(main())
