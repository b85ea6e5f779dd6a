"""The command line: ``digitlab reproduce | train | evaluate`` (also ``python -m engine``).

With no sub-command, ``digitlab`` opens the window (see ``app.launcher``); ``python -m engine``
prints this help instead, since the engine never imports Qt.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from .events import Evaluated, Finished, IterationEnd, Progress
from .model import Config, Model

__all__ = ["main", "build_parser"]

#: The article's printed run (its seed is unknown): error of each iteration, then its test figures.
ARTICLE_ERRORS = [0.5708498546098345, 0.238968805822179, 0.18376262704300791, 0.15884420078434203,
                  0.14349670143331575, 0.13303330132005825, 0.12524633753039854, 0.1190555095240238,
                  0.11391619250773542, 0.1094220182872265, 0.10543376418131505, 0.10185387081060268,
                  0.09860016478135072]
ARTICLE_TEST_ERROR = 0.10490452221860885
ARTICLE_PERCENT_CORRECT = 92.57
ARTICLE = dict(train=20000, kernels=9, kernel_size=8, hidden=100, alpha=0.01, max_iter=50, tol=0.1)


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


# -- output helpers -------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar on a terminal (stderr); silent when stderr is not a terminal."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.shown = False

    def update(self, ev: Progress) -> None:
        if not self.enabled:
            return
        frac = ev.done / max(ev.total, 1)
        fill = int(round(frac * self.width))
        left = (ev.total - ev.done) / ev.images_per_second if ev.images_per_second > 0 else math.nan
        self.stream.write(f"\r  iteration {ev.iteration:>3} [{'#' * fill}{'.' * (self.width - fill)}] "
                          f"{ev.done:>6}/{ev.total} error {ev.running_error:.5f} "
                          f"{ev.images_per_second:,.0f} img/s, {left:4.0f} s left ")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
            self.shown = False


def _say(args, *a, **k):
    """Print a line of human output (stdout; with --json the JSON object comes after, last)."""
    print(*a, **k, flush=True)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# -- data -----------------------------------------------------------------------------
def _load_data(args):
    from . import data
    source = getattr(args, "source", "auto") or "auto"
    try:
        ds = data.load(source, getattr(args, "data", None))
    except data.DataError as e:
        raise CliError(str(e)) from None
    _say(args, ds.description)
    return ds


# -- runs ---------------------------------------------------------------------------------
def _run_events(args, gen, *, article_table: bool = False) -> dict:
    """Consume training events, printing the per-iteration table; returns the figures."""
    bar = ProgressBar()
    out = {"iterations": 0, "train_error": math.nan, "test_error": math.nan,
           "percent_correct": math.nan, "argmax_accuracy": math.nan, "history": []}
    for ev in gen:
        if isinstance(ev, Progress):
            bar.update(ev)
        elif isinstance(ev, IterationEnd):
            bar.clear()
            line = f"{ev.iteration:>4}  {ev.train_error:.5f}"
            if article_table:
                ref = ARTICLE_ERRORS[ev.iteration] if ev.iteration < len(ARTICLE_ERRORS) else None
                line += f"    {ref:.5f}" if ref is not None else "          -"
            else:
                if not math.isclose(ev.loss, ev.train_error):
                    line += f"   loss {ev.loss:.5f}"
            line += f"   {ev.seconds:6.2f} s  {ev.images_per_second:10,.0f} img/s"
            _say(args, line)
            out["history"].append({"iteration": ev.iteration, "train_error": ev.train_error,
                                   "loss": ev.loss, "seconds": ev.seconds})
        elif isinstance(ev, Evaluated):
            bar.clear()
            out.update(test_error=ev.test_error, percent_correct=ev.percent_correct,
                       argmax_accuracy=ev.argmax_accuracy, confusion=ev.confusion)
            if not article_table:
                _say(args, f"      test error {ev.test_error:.5f}, arg-max accuracy "
                           f"{ev.argmax_accuracy:.2f}%, percent correct (article's metric) "
                           f"{ev.percent_correct:.2f}%")
        elif isinstance(ev, Finished):
            bar.clear()
            out.update(reason=ev.reason, iterations=ev.iterations, train_error=ev.train_error,
                       train_seconds=ev.seconds, images=ev.images,
                       images_per_second=ev.images_per_second, message=ev.message)
    return out


def _finish(args, model: Model, ds, figures: dict, extra: dict) -> None:
    record = {k: figures.get(k) for k in ("iterations", "train_error", "test_error",
                                           "percent_correct", "argmax_accuracy", "train_seconds",
                                           "images_per_second", "reason")}
    record.update(extra)
    record["data_source"] = ds.source
    record["data"] = ds.description
    model.record.update(_jsonable(record))
    if getattr(args, "save", None):
        from . import io
        try:
            io.save_model(model, args.save)
        except (OSError, ValueError) as e:
            raise CliError(f"could not save the model to {args.save}: {e}") from None
        _say(args, f"saved the model to {args.save}")
    if args.json:
        out = {k: figures.get(k) for k in ("mode", "iterations", "train_error", "test_error",
                                            "percent_correct", "argmax_accuracy", "train_seconds",
                                            "images_per_second")}
        out.update(mode=extra.get("mode"), data_source=ds.source, reason=figures.get("reason"),
                   wall_seconds=figures.get("wall_seconds"))
        print(json.dumps(_jsonable(out)))


def cmd_reproduce(args) -> int:
    from . import data
    from .article import train_article
    ds = _load_data(args)
    t0 = time.perf_counter()
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "article", ARTICLE["train"])
    if Xtr.shape[0] < ARTICLE["train"]:
        _say(args, f"note: only {Xtr.shape[0]:,} training images here; the article used the first "
                   f"{ARTICLE['train']:,} of MNIST, so its figures are not expected.")
    cfg = Config(ARTICLE["kernels"], ARTICLE["kernel_size"], ARTICLE["hidden"])
    _check_save_path(args, cfg)
    rng = np.random.RandomState(args.seed)
    model = Model.article_init(cfg, rng, norm)
    model.name = f"article-seed{args.seed}"
    _say(args, f"the article's experiment: first {Xtr.shape[0]:,} training images, 9 kernels of 8x8, "
               f"100 hidden, rate 0.01, at most 50 iterations, stop at error 0.1, no dropout, seed {args.seed}")
    _say(args, "iter  error      article")
    gen = train_article(model, Xtr, ytr, alpha=ARTICLE["alpha"], dropout=False, rng=rng,
                        max_iter=ARTICLE["max_iter"], tol=ARTICLE["tol"], test=(Xte, yte),
                        eval_every=ARTICLE["max_iter"])
    fig = _run_events(args, gen, article_table=True)
    fig["wall_seconds"] = time.perf_counter() - t0
    if fig.get("reason") == "converged":
        _say(args, f"converged at iteration: {fig['iterations'] - 1}   "
                   f"(article: converged at iteration: 12)")
        _say(args, f"average error: {fig['train_error']:.5f}     (article: 0.09860)")
    else:
        _say(args, f"failed to converge in {fig['iterations']} iterations ({fig.get('message', '')})")
    _say(args, f"average test set error: {fig['test_error']:.5f}   (article: {ARTICLE_TEST_ERROR:.5f}; "
               "tested as the article did: test set normalised by its own mean and variance, "
               "no tanh on the pooled layer)")
    _say(args, f"percent correct: {fig['percent_correct']:.2f}   (article: {ARTICLE_PERCENT_CORRECT:.2f}; "
               "every rounded output equals the one-hot target)")
    _say(args, f"arg-max accuracy: {fig['argmax_accuracy']:.2f}%   (not reported by the article)")
    _say(args, f"time: {fig['wall_seconds']:.1f} s in all, training {fig['train_seconds']:.1f} s, "
               f"{fig['images_per_second']:,.0f} images/s "
               f"({1e6 / max(fig['images_per_second'], 1e-9):.1f} µs an image)")
    _finish(args, model, ds, fig, {"mode": "article", "seed": args.seed, "alpha": ARTICLE["alpha"],
                                   "dropout": False, "train_images": int(Xtr.shape[0]),
                                   "test_normalisation": "own", "pooled_tanh_at_test": False})
    return 0


def _check_save_path(args, cfg: Config) -> None:
    """Refuse a --save that cannot hold the model before training, not after."""
    if not getattr(args, "save", None):
        return
    from pathlib import Path
    target = Path(args.save)
    if target.suffix.lower() != ".npz" and cfg.biases:
        raise CliError(f"--save {args.save}: the article's CSV files have no place for biases; "
                       "give a .npz file name")
    folder = target.parent if target.suffix.lower() == ".npz" else target
    probe = folder if folder.exists() else folder.parent
    if not probe.exists() or not probe.is_dir():
        raise CliError(f"--save {args.save}: the folder {probe} does not exist")


def cmd_train(args) -> int:
    from . import data
    ds = _load_data(args)
    t0 = time.perf_counter()
    if args.mode == "article":
        return _train_article(args, ds, data, t0)
    return _train_backprop(args, ds, data, t0)


def _cfg(args, default_k, default_f, default_h, biases=False) -> Config:
    try:
        return Config(args.kernels if args.kernels is not None else default_k,
                      args.kernel_size if args.kernel_size is not None else default_f,
                      args.hidden if args.hidden is not None else default_h, biases)
    except ValueError as e:
        raise CliError(str(e)) from None


def _train_article(args, ds, data, t0) -> int:
    from .article import train_article
    n = args.train if args.train is not None else ARTICLE["train"]
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "article", n)
    cfg = _cfg(args, ARTICLE["kernels"], ARTICLE["kernel_size"], ARTICLE["hidden"])
    _check_save_path(args, cfg)
    seed = 0 if args.seed is None else args.seed
    rng = np.random.RandomState(seed)
    model = Model.article_init(cfg, rng, norm)
    model.name = f"article-k{cfg.kernels}f{cfg.kernel_size}h{cfg.hidden}"
    alpha = ARTICLE["alpha"] if args.alpha is None else args.alpha
    max_iter = ARTICLE["max_iter"] if args.epochs is None else args.epochs
    tol = ARTICLE["tol"] if args.tol is None else args.tol
    dropout = bool(args.dropout)
    _say(args, f"article mode: {Xtr.shape[0]:,} training images, {cfg.kernels} kernels of "
               f"{cfg.kernel_size}x{cfg.kernel_size}, {cfg.hidden} hidden, rate {alpha}, at most "
               f"{max_iter} iterations, tol {tol}, dropout {'on' if dropout else 'off'}, seed {seed}")
    _say(args, "iter  error")
    gen = train_article(model, Xtr, ytr, alpha=alpha, dropout=dropout, rng=rng, max_iter=max_iter,
                        tol=tol, test=(Xte, yte), eval_every=args.eval_every or max_iter)
    fig = _run_events(args, gen)
    fig["wall_seconds"] = time.perf_counter() - t0
    _say(args, f"{fig.get('message', '')}; {fig['train_seconds']:.1f} s training, "
               f"{fig['images_per_second']:,.0f} images/s")
    _finish(args, model, ds, fig, {"mode": "article", "seed": seed, "alpha": alpha,
                                   "dropout": dropout, "train_images": int(Xtr.shape[0]),
                                   "tol": tol, "max_iter": max_iter})
    return 0


def _train_backprop(args, ds, data, t0) -> int:
    from . import backprop
    d = dict(backprop.DEFAULTS)
    cfg = _cfg(args, d.get("kernels", 9), d.get("kernel_size", 8), d.get("hidden", 100),
               args.biases if args.biases is not None else d.get("biases", False))
    _check_save_path(args, cfg)
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, "standard", args.train)
    seed = 0 if args.seed is None else args.seed
    dtype = np.float64 if args.float64 else np.float32
    model = Model.scaled_init(cfg, np.random.default_rng(seed), norm, dtype)
    model.name = f"backprop-k{cfg.kernels}f{cfg.kernel_size}h{cfg.hidden}"
    max_iter = d.get("epochs", 10) if args.epochs is None else args.epochs
    kw = {}
    for name in ("alpha", "batch", "momentum", "loss", "schedule", "augment", "weight_decay"):
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
        elif name in d:
            kw[name] = d[name]
    kw["dropout"] = args.dropout if args.dropout is not None else d.get("dropout", 0.0)
    tol = args.tol  # None: run every epoch
    _say(args, f"backprop mode: {Xtr.shape[0]:,} training images, {cfg.kernels} kernels of "
               f"{cfg.kernel_size}x{cfg.kernel_size}, {cfg.hidden} hidden{' with biases' if cfg.biases else ''}, "
               f"{max_iter} epochs, " + ", ".join(f"{k} {v}" for k, v in kw.items()) +
               f", {np.dtype(dtype).name}, seed {seed}")
    _say(args, "epoch error (sq.)")
    try:
        stepper = backprop.BackpropStepper(model, Xtr, ytr, seed=seed, dtype=dtype,
                                           epochs_hint=max_iter, **kw)
    except (TypeError, ValueError) as e:
        raise CliError(str(e)) from None
    from .training import train
    gen = train(model, stepper, max_iter=max_iter, tol=tol, test=(Xte.astype(dtype), yte),
                eval_every=args.eval_every or 1)
    fig = _run_events(args, gen)
    fig["wall_seconds"] = time.perf_counter() - t0
    _say(args, f"{fig.get('message', '')}; {fig['train_seconds']:.1f} s training, "
               f"{fig['images_per_second']:,.0f} images/s")
    _finish(args, model, ds, fig, {"mode": "backprop", "seed": seed, "max_iter": max_iter,
                                   "train_images": int(Xtr.shape[0]), "dtype": np.dtype(dtype).name,
                                   **kw})
    return 0


def cmd_evaluate(args) -> int:
    from . import data, io
    from .evaluate import evaluate
    try:
        model = io.load_model(args.model)
    except io.ModelFileError as e:
        raise CliError(str(e)) from None
    _say(args, f"model: {args.model or io.SHIPPED_MODEL} ({model.config.kernels} kernels of "
               f"{model.config.kernel_size}x{model.config.kernel_size}, {model.config.hidden} hidden, "
               f"{model.record.get('mode', 'unknown')} mode)")
    ds = _load_data(args)
    t0 = time.perf_counter()
    if args.article_test:
        _, _, Xte, yte, _ = data.prepare(ds, "article", 1)
        how = "as the article did: test set normalised by its own mean and variance, no tanh on the pooled layer"
    else:
        Xte = model.norm.apply(ds.test_images, model.dtype)
        yte = ds.test_labels
        how = "with the model's own normalisation"
    r = evaluate(model, Xte, yte, pooled_tanh=not args.article_test)
    seconds = time.perf_counter() - t0
    _say(args, f"{r['images']:,} test images, {how}")
    _say(args, f"test error: {r['test_error']:.5f}")
    _say(args, f"arg-max accuracy: {r['argmax_accuracy']:.2f}%")
    _say(args, f"percent correct (the article's metric, all ten rounded outputs right): "
               f"{r['percent_correct']:.2f}%")
    _say(args, "confusion matrix (rows: true digit, columns: predicted):")
    _say(args, "      " + " ".join(f"{j:>5}" for j in range(10)))
    for i, row in enumerate(r["confusion"]):
        _say(args, f"  {i:>2}  " + " ".join(f"{v:>5}" for v in row))
    if args.json:
        rec = model.record
        print(json.dumps(_jsonable({
            "mode": rec.get("mode"), "iterations": rec.get("iterations"),
            "train_error": rec.get("train_error"), "test_error": r["test_error"],
            "percent_correct": r["percent_correct"], "argmax_accuracy": r["argmax_accuracy"],
            "train_seconds": rec.get("train_seconds"), "images_per_second": rec.get("images_per_second"),
            "data_source": ds.source, "eval_seconds": seconds, "images": r["images"],
            "confusion": r["confusion"]})))
    return 0


# -- parser ---------------------------------------------------------------------------
def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return v


def _nonneg_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"{text} must be a finite number, 0 or more")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="digitlab",
        description="Digitlab: a convolutional net that reads handwritten digits, from scratch in NumPy. "
                    "With no command, `digitlab` opens the window.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"digitlab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def data_opts(sp):
        sp.add_argument("--data", metavar="PATH",
                        help="MNIST as a Keras mnist.npz or a folder of the four IDX files (gzipped or not); "
                             "default: $DIGITLAB_MNIST, else Keras's download, else the bundled 5,000-digit sample")
        sp.add_argument("--source", choices=["auto", "keras", "local", "sample"], default="auto",
                        help="where the data comes from (default auto)")
        sp.add_argument("--json", action="store_true",
                        help="end the output with one JSON object on its last line")

    r = sub.add_parser("reproduce", help="run the article's experiment and compare with its figures")
    data_opts(r)
    r.add_argument("--seed", type=int, default=0, help="as np.random.seed(S) before the article's code (default 0)")
    r.add_argument("--save", metavar="PATH", help="save the model (.npz, or a folder for the article's CSV files)")
    r.set_defaults(func=cmd_reproduce)

    t = sub.add_parser("train", help="train a network (the article's update or true backpropagation)")
    data_opts(t)
    t.add_argument("--mode", choices=["article", "backprop"], default="article",
                   help="article: the article's per-image update, quirks kept; backprop: true gradients, "
                        "mini-batches, momentum (default article)")
    t.add_argument("--train", type=_positive_int, metavar="N",
                   help="training images: the first N (article default 20,000; backprop default all)")
    t.add_argument("--epochs", "--max-iter", dest="epochs", type=_positive_int, metavar="N",
                   help="iterations (epochs) at most (article default 50)")
    t.add_argument("--tol", type=_nonneg_float,
                   help="stop when an iteration's error is at or under this (article default 0.1; backprop: off)")
    t.add_argument("--alpha", type=_nonneg_float, help="learning rate (article default 0.01)")
    t.add_argument("--dropout", type=_nonneg_float,
                   help="article mode: any non-zero value turns the article's 50%% dropout on; "
                        "backprop: the dropout rate on the hidden layer (0 to <1)")
    t.add_argument("--kernels", type=_positive_int, help="number of kernels (default 9)")
    t.add_argument("--kernel-size", type=_positive_int, help="kernel side (default 8)")
    t.add_argument("--hidden", type=_positive_int, help="hidden layer size (default 100)")
    t.add_argument("--seed", type=int, help="random seed (default 0)")
    t.add_argument("--save", metavar="PATH", help="save the model (.npz, or a folder for the article's CSV files)")
    t.add_argument("--eval-every", type=_positive_int, metavar="N",
                   help="evaluate on the test set every N iterations (default: backprop every epoch, "
                        "article only at the end)")
    g = t.add_argument_group("backprop mode")
    g.add_argument("--batch", type=_positive_int, help="mini-batch size")
    g.add_argument("--momentum", type=_nonneg_float, help="SGD momentum")
    g.add_argument("--loss", choices=["xent", "mse"], help="softmax cross-entropy or the article's squared error")
    g.add_argument("--schedule", choices=["constant", "cosine", "step"], help="learning-rate schedule")
    g.add_argument("--weight-decay", type=_nonneg_float, help="L2 weight decay")
    g.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="augment training images (shifts, rotations, scaling, stroke width)")
    g.add_argument("--biases", action=argparse.BooleanOptionalAction, default=None,
                   help="biases on the dense layers")
    g.add_argument("--float64", action="store_true", help="train in float64 (default float32)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate a model on the test set (default: the shipped model)")
    e.add_argument("model", nargs="?", help="a .npz model file, or a folder of the article's three CSV files")
    data_opts(e)
    e.add_argument("--article-test", action="store_true",
                   help="test as the article did: the test set normalised by its own mean and variance, "
                        "and no tanh on the pooled layer")
    e.set_defaults(func=cmd_evaluate)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except CliError as e:
        print(f"digitlab: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndigitlab: interrupted", file=sys.stderr)
        return 130
