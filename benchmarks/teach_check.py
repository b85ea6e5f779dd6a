"""Does teaching work on real writers? Each held-out pen writer corrects 20 drawings; how well are the rest read then?

For every writer held out of the shipped model's training (:func:`engine.handwriting.pen.held_out_writers`
of each digit collection of the project's pen data), the writer's recorded digits are drawn as
the window's canvas draws them (:func:`engine.handwriting.pen.render_samples`). Two of each digit (chosen at
random, seeded) are the 20 corrections; the window's guarded fine-tuning
(:func:`engine.handwriting.finetune_guard.guarded_finetune`: kept only when a 4-fold check on the 20 says it
reads them at least as well, and the bundled sample's test digits, its forgetting set, lose at most
half a point, after one softer retry) learns them, and the writer's other digits are read before and
after. For comparison the same fine-tuning without the check is read too. MNIST's test set is
read before and after every fine-tuning kept (the forgetting meter). Writers without two of
each digit and ten more are left out (and counted).

Usage::

    python benchmarks/teach_check.py [--model PATH] [--pen DIR] [--mnist DIR] [--max-writers N] [--seed 0]
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
from engine.files import data  # noqa: E402
from engine.handwriting.finetune import default_replay, finetune  # noqa: E402
from engine.handwriting.finetune_guard import guarded_finetune  # noqa: E402
from engine.handwriting.pen import COLLECTIONS, held_out_writers, labels_of, load_collection, render_samples  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def accuracy(model, X, y) -> float:
    """The share of ``X`` read as ``y`` by the window's rule (:func:`engine.read`)."""
    return float((engine.read(model, X).digit == y).mean())


def writers_of(samples) -> dict:
    """The held-out writers of one collection and their samples, in file order."""
    held = held_out_writers(s.writer for s in samples)
    out: dict = {}
    for s in samples:
        if s.writer in held:
            out.setdefault(s.writer, []).append(s)
    return dict(sorted(out.items()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--pen", default=str(SHARED / "pen"), help="folder of the pen recordings")
    ap.add_argument("--mnist", default=os.environ.get("DIGITLAB_MNIST", str(SHARED / "mnist")))
    ap.add_argument("--max-writers", type=int, default=0, help="at most this many writers a collection (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    model = engine.load_model(a.model)
    ds = data.load_local(a.mnist)
    Xt, yt = ds.test_images / 255.0, ds.test_labels
    replay = default_replay()
    mnist_before = accuracy(model, Xt, yt)
    finetune(model, Xt[:2], yt[:2], replay=replay, steps=1)            # compile once, not timed
    print(f"model: {model.title}; MNIST test (10,000) {100 * mnist_before:.2f}%; {os.cpu_count()} cores (shared)")
    rng = np.random.default_rng(a.seed)
    rows, left_out = [], 0
    for name in COLLECTIONS:
        writers = writers_of(load_collection(a.pen, name))
        print(f"\n{name}: {len(writers)} held-out writers")
        for k, (writer, samples) in enumerate(writers.items()):
            if a.max_writers and k >= a.max_writers:
                break
            y = labels_of(samples)
            counts = np.bincount(y, minlength=10)
            if counts.min() < 2 or len(y) < 30:
                left_out += 1
                print(f"  {writer:24s} left out: {len(y)} digits, fewest of one digit {counts.min()}")
                continue
            pick = np.concatenate([rng.choice(np.flatnonzero(y == d), 2, replace=False) for d in range(10)])
            rest = np.setdiff1d(np.arange(len(y)), pick)
            X = render_samples(samples)
            t0 = time.perf_counter()
            g = guarded_finetune(model, X[pick], y[pick], replay=replay, seed=k)
            secs = time.perf_counter() - t0
            raw = g.model if g.keep and not g.softened else finetune(model, X[pick], y[pick], replay=replay, seed=k)
            before = accuracy(model, X[rest], y[rest])
            after = accuracy(g.model, X[rest], y[rest]) if g.keep else before
            unguarded = accuracy(raw, X[rest], y[rest])
            m_after = accuracy(g.model, Xt, yt) if g.keep else mnist_before
            rows.append((before, after, unguarded, m_after, secs, g.keep, len(rest)))
            print(f"  {writer:24s} {len(rest):3d} others: {100 * before:5.1f}% -> {100 * after:5.1f}% "
                  f"({'kept' if g.keep else 'not kept'}{', softened' if g.softened else ''}; "
                  f"{f'{g.before}/20 -> {g.held_out}/20 held out' if g.folds else f'{g.before}/20 read right: not tuned'}; "
                  f"unguarded {100 * unguarded:5.1f}%)   MNIST {100 * m_after:.2f}%   {secs:4.1f} s", flush=True)
    r = np.array(rows, float)
    before, after, unguarded, m_after, secs, kept = (r[:, i] for i in range(6))
    good = before >= 0.98
    print(f"\n{len(r)} writers ({left_out} left out: fewer than two of each digit); kept {int(kept.sum())}")
    print(f"MNIST test drop after a kept tuning: largest {100 * (mnist_before - m_after).max():.2f} points")
    print(f"other digits, mean over writers: {100 * before.mean():.2f}% -> {100 * after.mean():.2f}% "
          f"(unguarded {100 * unguarded.mean():.2f}%)")
    print(f"worst writer: {100 * before.min():.1f}% -> {100 * after.min():.1f}% "
          f"(unguarded {100 * unguarded.min():.1f}%)")
    if good.any():
        print(f"writers read >= 98% before ({int(good.sum())}): largest loss {100 * (before - after)[good].max():.2f} "
              f"points (unguarded {100 * (before - unguarded)[good].max():.2f}); mean change "
              f"{100 * (after - before)[good].mean():+.2f} points")
    print(f"MNIST test: {100 * mnist_before:.2f}% -> {100 * m_after.mean():.2f}% on average, worst "
          f"{100 * m_after.min():.2f}%")
    print(f"fine-tuning with its check: {secs.mean():.1f} s on average, {secs.max():.1f} s at most")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
