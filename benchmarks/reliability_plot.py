"""The shipped model's calibration: ECE with and without its temperature, and a reliability diagram.

Reads MNIST's test set (``--mnist``; else the bundled sample's 1,000 test digits) and
``--styled`` drawings in the styles of :mod:`engine.handwriting.strokes`; prints the expected calibration
error (15 bins) at temperature 1 and at the model's own, and with ``--out`` draws the
reliability diagram (confidence against accuracy by bin) of both as a PNG.

Usage::

    python benchmarks/reliability_plot.py [--model PATH] [--mnist path/to/mnist] [--styled 3000]
        [--out docs/reliability.png]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine.files import data  # noqa: E402
from engine.handwriting import calibration, strokes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--mnist", default=os.environ.get("DIGITLAB_MNIST",
                                                      str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")))
    ap.add_argument("--styled", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    model = engine.load_model(a.model)
    try:
        ds = data.load_local(a.mnist)
    except data.DataError:
        ds = data.load_sample()
    rng = np.random.default_rng(a.seed)
    names = [str(s) for s in rng.choice(list(strokes.STYLES), a.styled)]
    sets = {"MNIST test": (ds.test_images / 255.0, ds.test_labels),
            "styled drawings": (strokes.synthesise(names, rng), np.array([int(n[0]) for n in names]))}
    plain = model.copy()
    plain.temperature = 1.0
    curves = {}
    for name, (X, y) in sets.items():
        for label, m in ((f"T = 1", plain), (f"T = {model.temperature:.2f}", model)):
            p = m.predict_proba(X)
            e = calibration.ece(p, y)
            curves[(name, label)] = (calibration.reliability(p, y), e)
            print(f"{name:16s} {label:10s} ECE {e:.4f}  accuracy {100 * (p.argmax(1) == y).mean():.2f}%  "
                  f"({len(y):,} images)")
    if a.out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharey=True)
        for ax, name in zip(axes, sets):
            ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
            for (n, label), ((conf, acc, count), e) in curves.items():
                if n == name:
                    seen = count > 0
                    ax.plot(conf[seen], acc[seen], marker="o", label=f"{label}: ECE {e:.3f}")
            ax.set_title(name)
            ax.set_xlabel("confidence (top probability)")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.legend(loc="upper left", fontsize=8)
        axes[0].set_ylabel("accuracy")
        fig.suptitle("Reliability of the shipped model (15 bins)")
        fig.tight_layout()
        fig.savefig(a.out, dpi=100)
        print(f"saved {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
