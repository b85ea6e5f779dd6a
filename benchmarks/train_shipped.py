"""Train the model the app ships (resources/model.npz): the recipe :data:`engine.recipes.BEST`.

Usage (from the repository root)::

    python benchmarks/train_shipped.py --data path/to/mnist [--out resources/model.npz]

``--data`` is a folder of MNIST IDX files or an ``.npz`` (default: ``DIGITLAB_MNIST``).
The recipe: full MNIST (60,000 training images, standard normalisation), augmentation on
(shifts, rotations, scaling, slant, stroke width) so that mouse-drawn digits read well,
mini-batch SGD with momentum and a cosine learning-rate schedule, float32. Any setting of
the recipe can be changed on the command line (``--epochs 2``...). Prints one line an
epoch and the final figures; with ``--out``, saves the model with its record.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine import modelfile  # noqa: E402
from engine.events import Evaluated, Finished, IterationEnd  # noqa: E402
from engine.recipes import BEST, RunSettings, load_data, make_record, make_run, prepare, run_events  # noqa: E402

#: Settings the command line may change (the data's source and path come from --data).
CHANGEABLE = ("epochs", "alpha", "batch", "momentum", "dropout", "augment", "weight_decay",
              "kernels", "kernel_size", "hidden", "biases", "seed")


def parse(argv=None) -> tuple[argparse.Namespace, RunSettings]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.environ.get("DIGITLAB_MNIST"),
                   help="MNIST: a folder of IDX files or an .npz (default: $DIGITLAB_MNIST)")
    p.add_argument("--out", default=None, help="where to save the model (.npz); default: do not save")
    p.add_argument("--eval-every", type=int, default=5, help="test every this many epochs (5)")
    for name in CHANGEABLE:
        v = getattr(BEST, name)
        flag = f"--{name.replace('_', '-')}"
        if isinstance(v, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=v)
        else:
            p.add_argument(flag, type=type(v), default=v)
    a = p.parse_args(argv)
    if not a.data:
        p.error("--data is required (or set DIGITLAB_MNIST): the recipe trains on full MNIST")
    try:
        settings = BEST.replace(source="local", path=a.data, **{n: getattr(a, n) for n in CHANGEABLE})
    except ValueError as e:
        p.error(str(e))
    return a, settings


def main(argv=None) -> int:
    a, settings = parse(argv)
    t_all = time.perf_counter()
    data = prepare(settings, load_data(settings))
    model, stepper = make_run(settings, data)
    model.name = "shipped"
    print(data.description, flush=True)
    print(settings.describe(), flush=True)
    finished = test = None
    for ev in run_events(settings, data, model, stepper, eval_every=a.eval_every):
        if isinstance(ev, IterationEnd):
            print(f"epoch {ev.iteration:3d}  train error {ev.train_error:.5f}  loss {ev.loss:.5f}  "
                  f"{ev.seconds:6.1f} s", flush=True)
        elif isinstance(ev, Evaluated):
            test = ev.figures
            print(f"          test arg-max accuracy {test.argmax_accuracy:.2f}%", flush=True)
        elif isinstance(ev, Finished):
            finished = ev
    print(f"training {finished.seconds:.1f} s ({finished.message}); test arg-max accuracy "
          f"{test.argmax_accuracy:.2f}%, test error {test.test_error:.5f}, percent correct "
          f"(article's metric) {test.percent_correct:.2f}%")
    model.record = make_record(settings, data, finished, test)
    model.record.notes.update({
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "made_by": "benchmarks/train_shipped.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    })
    if a.out:
        path = modelfile.save_model(model, a.out)
        print(f"saved {path} ({os.path.getsize(path) / 1024:.0f} KB); "
              f"{time.perf_counter() - t_all:.1f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
