"""Train the model the app ships (resources/model.npz): the recipe :data:`engine.train.recipes.BEST`.

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

import numpy as np  # noqa: E402

from engine.files import modelfile  # noqa: E402
from engine.train.events import Evaluated, IterationEnd  # noqa: E402
from engine.train.recipes import BEST, RunSettings, load_data, make_run, prepare  # noqa: E402
from engine.train.tracker import RunTracker  # noqa: E402

#: Settings the command line may change (the data's source and path come from --data).
CHANGEABLE = ("epochs", "alpha", "batch", "momentum", "dropout", "augment", "weight_decay",
              "kernels", "kernel_size", "hidden", "biases", "seed")


#: Synthetic digits drawn in the styles of :mod:`engine.handwriting.strokes` added to the training set.
STYLED = 6_000
#: How many times each real pen digit is in the training set (augmented differently each time).
PEN_REPEAT = 3
#: Share of held-out digits the "not a digit" detector lets through.
KEEP = 0.988
#: Real pen digits (of training writers) among the detector's digits.
PEN_POSITIVES = 6_000
#: MNIST training images among the detector's digits.
MNIST_POSITIVES = 5_000
#: MNIST training images held out of training, to fit the temperature on.
HELD_OUT = 5_000


def mix_styled(ds, count: int, held_out: int, seed: int):
    """Hold out the last ``held_out`` training images and add ``count`` styled drawings.

    Returns the held-out raw images ``(held_out, 28, 28)`` and labels ``(held_out,)``.
    """
    import numpy as np
    from engine.handwriting import strokes
    n = len(ds.train_labels) - held_out
    Xh, yh = ds.train_images[n:], ds.train_labels[n:]
    rng = np.random.default_rng(seed + 1000)
    names = list(strokes.STYLES)
    chosen = [str(s) for s in rng.choice(names, count)]
    Xs = np.round(strokes.synthesise(chosen, rng) * 255).astype(np.uint8)
    ys = np.array([int(c[0]) for c in chosen], np.int64)
    ds.train_images = np.concatenate([ds.train_images[:n], Xs])
    ds.train_labels = np.concatenate([ds.train_labels[:n], ys])
    ds.description += f"; first {n:,} training images and {count:,} styled drawings (engine.handwriting.strokes)"
    return Xh, yh


def mix_pen(ds, folder, repeat: int, fraction: float = 0.2, *, vary: bool = False, seed: int = 0) -> dict:
    """Add the real pen digits of the TRAINING writers of both digit collections
    (:data:`engine.handwriting.pen.COLLECTIONS`), each ``repeat`` times, to the training set; the writers
    :func:`engine.handwriting.pen.held_out_writers` names stay out. With ``vary``, every copy after
    the first has its strokes moved (:func:`engine.handwriting.pen_vary.vary`). Returns counts by
    collection."""
    import numpy as np
    from engine.handwriting import pen
    from engine.handwriting.pen_vary import vary as varied
    rng = np.random.default_rng(seed + 4000)
    images, labels, counts = [], [], {}
    for name in pen.COLLECTIONS:
        train, test = pen.split_by_writer(pen.load_collection(folder, name), fraction)
        for r in range(repeat):
            chosen = train if r == 0 or not vary else [varied(s, rng) for s in train]
            images.append(np.round(pen.render_samples(chosen) * 255).astype(np.uint8))
            labels.append(pen.labels_of(train))
        counts[name] = (len(train), len({s.writer for s in train}), len({s.writer for s in test}))
    ds.train_images = np.concatenate([ds.train_images, *images])
    ds.train_labels = np.concatenate([ds.train_labels, *labels])
    ds.description += "; " + ", ".join(f"{n:,} real pen digits of {w} {name} writers ({h} held out)"
                                       for name, (n, w, h) in counts.items())
    if repeat > 1:
        ds.description += f", each {repeat} times" + (" (the copies with their strokes moved)" if vary else "")
    return counts


def add_detector(model, held_out01, seed: int, *, pen_folder=None, mnist01=None, keep: float = KEEP,
                 fraction: float = 0.2) -> None:
    """Fit the "not a digit" detector (:func:`engine.handwriting.nondigit.fit_detector`) into the model's record.

    Digits: half the held-out MNIST images, ``mnist01`` (training images) and, with a pen
    folder, real pen digits of the training writers; non-digits: scribbles, dots and lines
    (:func:`engine.handwriting.negatives.make_nondigits`) and, with a pen folder, the real letters that look
    like no digit (:data:`engine.handwriting.negatives.UNLIKE_DIGITS`) of the letters' TRAINING writers
    (without one, drawn capital letters). The threshold lets ``keep`` of the other half of the
    held-out MNIST images through (images no part of the model or the detector has seen).
    """
    import numpy as np
    from engine.handwriting import negatives, nondigit, pen, strokes
    rng = np.random.default_rng(seed + 2000)
    half = len(held_out01) // 2
    digits, check = [held_out01[:half]], held_out01[half:]
    if mnist01 is not None:
        digits.append(mnist01)
    if pen_folder:
        others, _ = negatives.make_nondigits(3000, rng, kinds=("scribble", "dots", "line"))
        letters = pen.load_collection(pen_folder, "letters")
        held = pen.held_out_writers((s.writer for s in letters), fraction)
        real, _ = negatives.real_letters([s for s in letters if s.writer not in held])
        others = np.concatenate([others, real])
        train = [s for name in pen.COLLECTIONS for s in pen.split_by_writer(pen.load_collection(pen_folder, name),
                                                                            fraction)[0]]
        order = rng.permutation(len(train))
        digits.append(pen.render_samples([train[i] for i in order[:PEN_POSITIVES]]))
    else:
        others, _ = negatives.make_nondigits(3000, rng)
        digits.append(strokes.synthesise([str(s) for s in rng.choice(list(strokes.STYLES), 2000)], rng))
    digits = np.concatenate(digits)
    model.record.notes["nondigit"] = nondigit.fit_detector(model, digits, others, check=check, keep=keep, seed=seed)
    print(f"not-a-digit detector fitted on {len(digits):,} digits and {len(others):,} non-digits; "
          f"threshold passes {keep:.1%} of {len(check):,} other digits", flush=True)


def refit_detector(a, settings) -> int:
    """``--refit-detector MODEL``: fit the detector again on a trained model and save it to ``--out``."""
    import numpy as np
    model = modelfile.load_model(a.refit_detector)
    ds = load_data(settings)
    n = len(ds.train_labels) - a.held_out
    rng = np.random.default_rng(settings.seed + 3000)
    mnist = ds.train_images[rng.choice(n, MNIST_POSITIVES, replace=False)] / 255.0
    add_detector(model, ds.train_images[n:] / 255.0, settings.seed, pen_folder=a.pen, mnist01=mnist,
                 keep=a.keep)
    if a.out:
        path = modelfile.save_model(model, a.out)
        print(f"saved {path} ({os.path.getsize(path) / 1024:.0f} KB)")
    return 0


def parse(argv=None) -> tuple[argparse.Namespace, RunSettings]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.environ.get("DIGITLAB_MNIST"),
                   help="MNIST: a folder of IDX files or an .npz (default: $DIGITLAB_MNIST)")
    p.add_argument("--out", default=None, help="where to save the model (.npz); default: do not save")
    p.add_argument("--eval-every", type=int, default=5, help="test every this many epochs (5)")
    p.add_argument("--styled", type=int, default=STYLED,
                   help=f"synthetic digits drawn in varied styles mixed into training ({STYLED:,})")
    p.add_argument("--pen", default=None, metavar="DIR",
                   help="a folder of pen recordings (the project's pen data): add the real digits of "
                        "its training writers (default: none)")
    p.add_argument("--pen-repeat", type=int, default=PEN_REPEAT,
                   help=f"how many times each pen digit is in the training set ({PEN_REPEAT})")
    p.add_argument("--pen-vary", action=argparse.BooleanOptionalAction, default=False,
                   help="move the strokes of each copy after the first (engine.handwriting.pen_vary; tried, not used for the shipped model: default off)")
    p.add_argument("--keep", type=float, default=KEEP,
                   help=f"share of held-out digits the not-a-digit detector lets through ({KEEP})")
    p.add_argument("--refit-detector", metavar="MODEL", default=None,
                   help="only fit the not-a-digit detector again on this trained model (save with --out)")
    p.add_argument("--held-out", type=int, default=HELD_OUT,
                   help=f"last training images kept out to fit the temperature ({HELD_OUT:,})")
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
    if a.refit_detector:
        return refit_detector(a, settings)
    t_all = time.perf_counter()
    ds = load_data(settings)
    n_mnist = len(ds.train_labels) - a.held_out
    Xh, yh = mix_styled(ds, a.styled, a.held_out, settings.seed)
    if a.pen:
        t = time.perf_counter()
        mix_pen(ds, a.pen, a.pen_repeat, vary=a.pen_vary, seed=settings.seed)
        print(f"pen digits rendered in {time.perf_counter() - t:.1f} s", flush=True)
    data = prepare(settings, ds)
    model, stepper = make_run(settings, data)
    model.name = "shipped"
    print(data.description, flush=True)
    print(settings.describe(), flush=True)
    run = RunTracker(settings, data, model, stepper, snapshots=False)
    for ev in run.events(eval_every=a.eval_every):
        if isinstance(ev, IterationEnd):
            print(f"epoch {ev.iteration:3d}  train error {ev.train_error:.5f}  loss {ev.loss:.5f}  "
                  f"{ev.seconds:6.1f} s", flush=True)
        elif isinstance(ev, Evaluated):
            print(f"          test arg-max accuracy {ev.figures.argmax_accuracy:.2f}%", flush=True)
    finished, test = run.finished, run.test
    print(f"training {finished.seconds:.1f} s ({finished.message}); test arg-max accuracy "
          f"{test.argmax_accuracy:.2f}%, test error {test.test_error:.5f}, percent correct "
          f"(article's metric) {test.percent_correct:.2f}%")
    run.recorded_model()
    model.record.notes.update({
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "made_by": "benchmarks/train_shipped.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    })
    from engine.handwriting.calibration import fit_temperature
    model.temperature = 1.0
    model.temperature = fit_temperature(model, Xh / 255.0, yh)
    model.record.notes["temperature"] = (f"{model.temperature:.3f}, fitted on the last {len(yh):,} "
                                         "MNIST training images (held out of training)")
    print(f"temperature {model.temperature:.3f} (fitted on {len(yh):,} held-out images)")
    if a.out:                  # saved now too: the trained weights survive a fault in the detector's fit
        modelfile.save_model(model, a.out)
    rng = np.random.default_rng(settings.seed + 3000)
    mnist = ds.train_images[rng.choice(n_mnist, MNIST_POSITIVES, replace=False)]     # MNIST comes first
    add_detector(model, Xh / 255.0, settings.seed, pen_folder=a.pen, mnist01=mnist / 255.0, keep=a.keep)
    if a.out:
        path = modelfile.save_model(model, a.out)
        print(f"saved {path} ({os.path.getsize(path) / 1024:.0f} KB); "
              f"{time.perf_counter() - t_all:.1f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
