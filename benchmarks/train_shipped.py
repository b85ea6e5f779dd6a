"""Train the model the app ships (resources/model.npz) with the backprop mode.

Usage (from the repository root)::

    PYTHONPATH=. /work/venv/bin/python benchmarks/train_shipped.py \
        --data ../shared/data/mnist --out resources/model.npz

Full MNIST (60,000 training images, standard normalisation), augmentation on (shifts,
rotations, scaling, slant, stroke width) so that mouse-drawn digits read well, mini-batch
SGD with momentum and a cosine learning-rate schedule, float32. Prints one line an epoch
and the final figures; saves with :func:`engine.io.save_model` (float32 parameters) and a
record of how the model was made.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine import data, io  # noqa: E402
from engine.backprop import BackpropStepper  # noqa: E402
from engine.evaluate import evaluate  # noqa: E402
from engine.events import Evaluated, Finished, IterationEnd  # noqa: E402
from engine.model import Config, Model  # noqa: E402
from engine.training import train  # noqa: E402

SHIPPED = {"kernels": 32, "kernel_size": 5, "hidden": 256, "biases": True, "epochs": 30,
           "alpha": 0.05, "batch": 64, "momentum": 0.9, "dropout": 0.0, "augment": True,
           "seed": 1}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"), help="folder of the MNIST IDX files")
    p.add_argument("--out", default=None, help="where to save the model (.npz); default: do not save")
    for k, v in SHIPPED.items():
        if isinstance(v, bool):
            p.add_argument(f"--{k.replace('_', '-')}", action=argparse.BooleanOptionalAction, default=v)
        else:
            p.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    a = p.parse_args(argv)

    t_all = time.perf_counter()
    ds = data.load("local", a.data)
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "standard")
    Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
    cfg = Config(a.kernels, a.kernel_size, a.hidden, a.biases)
    model = Model.scaled_init(cfg, np.random.default_rng(a.seed), norm, np.float32)
    model.name = "shipped"
    kw = dict(alpha=a.alpha, batch=a.batch, momentum=a.momentum, loss="xent", schedule="cosine",
              dropout=a.dropout, augment=a.augment)
    print(f"{len(ytr):,} training images; {cfg.kernels} kernels {cfg.kernel_size}x{cfg.kernel_size}, "
          f"hidden {cfg.hidden}, biases {cfg.biases}; {a.epochs} epochs; {kw}; seed {a.seed}", flush=True)
    stepper = BackpropStepper(model, Xtr, ytr, seed=a.seed, epochs_hint=a.epochs, **kw)
    fin = None
    for ev in train(model, stepper, max_iter=a.epochs, tol=None, test=(Xte, yte), eval_every=5):
        if isinstance(ev, IterationEnd):
            print(f"epoch {ev.iteration:3d}  train error {ev.train_error:.5f}  loss {ev.loss:.5f}  "
                  f"{ev.seconds:6.1f} s", flush=True)
        elif isinstance(ev, Evaluated):
            print(f"          test arg-max accuracy {ev.argmax_accuracy:.2f}%", flush=True)
        elif isinstance(ev, Finished):
            fin = ev
    r = evaluate(model, Xte, yte)
    print(f"training {fin.seconds:.1f} s; test arg-max accuracy {r['argmax_accuracy']:.2f}%, "
          f"test error {r['test_error']:.5f}, percent correct (article's metric) {r['percent_correct']:.2f}%")
    model.record.update({
        "mode": "backprop", "config": cfg.to_dict(), "epochs": fin.iterations, "seed": a.seed,
        **kw, "normalisation": "standard", "dtype": "float32",
        "data_source": ds.source, "data": ds.description, "train_images": int(len(ytr)),
        "test_images": int(len(yte)), "argmax_accuracy": r["argmax_accuracy"],
        "test_error": r["test_error"], "percent_correct": r["percent_correct"],
        "train_error": fin.train_error,
        "train_seconds": fin.seconds, "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "made_by": "benchmarks/train_shipped.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    })
    if a.out:
        io.save_model(model, a.out)
        print(f"saved {a.out} ({os.path.getsize(a.out) / 1024:.0f} KB); "
              f"{time.perf_counter() - t_all:.1f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
