"""The command line: ``digitlab reproduce | train | evaluate | sweep`` (also ``python -m engine``).

With no sub-command, ``digitlab`` opens the window (see ``app.launcher``); ``python -m engine``
prints this help instead, since the engine never imports Qt.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time


from .cli_parts import CliError, ProgressBar, jsonable, nonneg_float, positive_int
from .cli_parts import seed as seed_arg
from .cli_runs import _runs_dir, cmd_runs
from .files.data import DataError
from .net.model import Config, Model
from .train.events import Evaluated, Finished, IterationEnd, Progress
from .train.recipes import ARTICLE, BACKPROP, RunSettings
from .train.record import Record

__all__ = ["main", "build_parser"]

#: The article's printed run (its seed is unknown): error of each iteration, then its test figures.
ARTICLE_ERRORS = [0.5708498546098345, 0.238968805822179, 0.18376262704300791, 0.15884420078434203,
                  0.14349670143331575, 0.13303330132005825, 0.12524633753039854, 0.1190555095240238,
                  0.11391619250773542, 0.1094220182872265, 0.10543376418131505, 0.10185387081060268,
                  0.09860016478135072]
ARTICLE_TEST_ERROR = 0.10490452221860885
ARTICLE_PERCENT_CORRECT = 92.57


def _say(args, *a, **k):
    """Print a line of human output (stdout; with --json the JSON object comes after, last)."""
    print(*a, **k, flush=True)


# -- data -----------------------------------------------------------------------------
def _load_data(args):
    from .files import data
    source = getattr(args, "source", None) or ARTICLE.source
    try:
        ds = data.load(source, getattr(args, "data", None))
    except data.DataError as e:
        raise CliError(str(e)) from None
    _say(args, ds.description)
    return ds


# -- runs ---------------------------------------------------------------------------------
def _print_events(args, gen, *, article_table: bool = False) -> None:
    """Consume training events, printing the per-iteration table."""
    bar = ProgressBar()
    for ev in gen:
        if isinstance(ev, Progress):
            bar.update(ev)
        elif isinstance(ev, IterationEnd):
            bar.clear()
            line = f"{ev.iteration:>4}  {ev.train_error:.5f}"
            if article_table:
                ref = ARTICLE_ERRORS[ev.iteration] if ev.iteration < len(ARTICLE_ERRORS) else None
                line += f"    {ref:.5f}" if ref is not None else "          -"
            elif not math.isclose(ev.loss, ev.train_error):
                line += f"   loss {ev.loss:.5f}"
            line += f"   {ev.seconds:6.2f} s  {ev.images_per_second:10,.0f} img/s"
            _say(args, line)
        elif isinstance(ev, Evaluated):
            bar.clear()
            t = ev.figures
            if not article_table:
                _say(args, f"      test error {t.test_error:.5f}, arg-max accuracy "
                           f"{t.argmax_accuracy:.2f}%, percent correct (article's metric) "
                           f"{t.percent_correct:.2f}%")
        elif isinstance(ev, Finished):
            bar.clear()


def _figures(record: Record, data_source: str, **more) -> dict:
    """The --json object: the record's figures, flat."""
    t = record.test.to_dict() if record.test is not None else {}
    out = {"mode": record.mode, "iterations": record.iterations, "train_error": record.train_error,
           "test_error": t.get("test_error"), "percent_correct": t.get("percent_correct"),
           "argmax_accuracy": t.get("argmax_accuracy"), "train_seconds": record.train_seconds,
           "images_per_second": record.images_per_second, "data_source": data_source,
           "reason": record.reason}
    out.update(more)
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


def _run(args, settings: RunSettings, *, article_table: bool = False, header: str | None = None):
    """Load, prepare, train and record one run as ``settings`` say; returns (model, data,
    finished, times): the model carries the run's record; ``times`` has ``wall_seconds``
    (from the data loaded to the run recorded), ``run_seconds`` (the training loop with its
    tests and snapshots), ``test_seconds`` and ``record_seconds``."""
    from .train.recipes import load_data, make_run, prepare
    from .train.warm import warm_up
    _check_save_path(args, settings.config)
    try:
        ds = load_data(settings)
    except DataError as e:
        raise CliError(str(e)) from None
    _say(args, ds.description)
    t0 = time.perf_counter()
    try:
        data = prepare(settings, ds)
    except DataError as e:
        raise CliError(str(e)) from None
    if settings.mode == "article" and settings.train and len(data.ytr) < settings.train:
        _say(args, f"note: only {len(data.ytr):,} training images here; the article used the first "
                   f"{settings.train:,} of MNIST, so its figures are not expected.")
    warm_up(settings)               # the compiled loops load here, not in the first batches
    model, stepper = make_run(settings, data)
    _say(args, header or settings.describe())
    _say(args, "iter  error      article" if article_table else
         "iter  error" if settings.mode == "article" else "epoch error (sq.)")
    from .train.tracker import RunTracker
    run = RunTracker(settings, data, model, stepper)
    began = time.perf_counter()
    _print_events(args, run.events(eval_every=getattr(args, "eval_every", None)),
                  article_table=article_table)
    ran = time.perf_counter()
    run.recorded_model()
    try:
        where = run.save(_runs_dir(args))
        _say(args, f"run recorded in {where}")
    except (OSError, ValueError) as e:
        _say(args, f"note: the run was not recorded: {e}")
    end = time.perf_counter()
    times = {"wall_seconds": end - t0, "run_seconds": ran - began, "test_seconds": run.test_seconds,
             "record_seconds": end - ran}
    return model, data, run.finished, times


def _save(args, model: Model) -> None:
    """Save ``model`` to ``--save``, saying so; a failure is a CliError naming the path."""
    from .files import modelfile
    try:
        modelfile.save_model(model, args.save)
    except (OSError, ValueError) as e:
        raise CliError(f"could not save the model to {args.save}: {e}") from None
    _say(args, f"saved the model to {args.save}")


def _save_and_report(args, model: Model, data, times: dict) -> None:
    if getattr(args, "save", None):
        _save(args, model)
    if args.json:
        print(json.dumps(_figures(model.record, data.source, **times)))


def cmd_reproduce(args) -> int:
    settings = settings_from_args(args)
    c = settings.config
    header = (f"the article's experiment: first {settings.train:,} training images, {c.kernels} kernels "
              f"of {c.kernel_size}x{c.kernel_size}, {c.hidden} hidden, rate {settings.alpha}, at most "
              f"{settings.epochs} iterations, stop at error {settings.tol}, no dropout, seed {settings.seed}")
    model, data, fin, times = _run(args, settings, article_table=True, header=header)
    model.name = f"article-seed{settings.seed}"
    rec, t = model.record, model.record.test
    if fin.reason == "converged":
        _say(args, f"converged at iteration: {rec.iterations - 1}   (article: converged at iteration: 12)")
        _say(args, f"average error: {rec.train_error:.5f}     (article: 0.09860)")
    else:
        _say(args, f"failed to converge in {rec.iterations} iterations ({fin.message})")
    _say(args, f"average test set error: {t.test_error:.5f}   (article: {ARTICLE_TEST_ERROR:.5f}; "
               "tested as the article did: test set normalised by its own mean and variance, "
               "no tanh on the pooled layer)")
    _say(args, f"percent correct: {t.percent_correct:.2f}   (article: {ARTICLE_PERCENT_CORRECT:.2f}; "
               "every rounded output equals the one-hot target)")
    _say(args, f"arg-max accuracy: {t.argmax_accuracy:.2f}%   (not reported by the article)")
    _say(args, f"time: {times['wall_seconds']:.1f} s in all, training {fin.seconds:.1f} s, "
               f"{fin.images_per_second:,.0f} images/s "
               f"({1e6 / max(fin.images_per_second, 1e-9):.1f} µs an image), testing "
               f"{times['test_seconds']:.2f} s")
    _save_and_report(args, model, data, times)
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
    import tempfile
    try:                                     # the very test the save will face, before training
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as e:
        raise CliError(f"--save {args.save}: cannot write in the folder {probe} "
                       f"({e.strerror or e})") from None
    if target.exists() and not os.access(target, os.W_OK) and not os.access(probe, os.W_OK):
        raise CliError(f"--save {args.save}: the file cannot be replaced")
    try:
        from .train.recipes import check_size
        check_size(cfg)
    except ValueError as e:
        raise CliError(f"--save {args.save}: {e}") from None


#: Command-line options that set a RunSettings field of the same name.
_SETTING_OPTIONS = ("train", "epochs", "tol", "alpha", "dropout", "kernels", "kernel_size", "hidden",
                    "seed", "batch", "momentum", "loss", "schedule", "weight_decay", "augment",
                    "biases")


def settings_from_args(args) -> RunSettings:
    """The run ``digitlab train`` or ``reproduce`` describes: the mode's defaults
    (:data:`engine.train.recipes.ARTICLE` or :data:`engine.train.recipes.BACKPROP`), then the options given."""
    given = {k: getattr(args, k) for k in _SETTING_OPTIONS if getattr(args, k, None) is not None}
    if getattr(args, "float64", False):
        given["float64"] = True
    try:
        base = RunSettings.for_mode(getattr(args, "mode", None) or ARTICLE.mode)
        return base.replace(source=args.source or base.source, path=args.data, **given)
    except ValueError as e:
        raise CliError(str(e)) from None


def cmd_train(args) -> int:
    settings = settings_from_args(args)
    model, data, fin, times = _run(args, settings)
    _say(args, f"{fin.message}; {fin.seconds:.1f} s training, {fin.images_per_second:,.0f} images/s; "
               f"{times['test_seconds']:.2f} s testing, {times['record_seconds']:.2f} s recording")
    _save_and_report(args, model, data, times)
    return 0


def cmd_evaluate(args) -> int:
    from .files import data, modelfile
    from .net.evaluate import evaluate
    try:
        model = modelfile.load_model(args.model)
    except modelfile.ModelFileError as e:
        raise CliError(str(e)) from None
    _say(args, f"model: {args.model or modelfile.SHIPPED_MODEL} ({model.config.kernels} kernels of "
               f"{model.config.kernel_size}x{model.config.kernel_size}, {model.config.hidden} hidden, "
               f"{model.record.mode or 'unknown'} mode)")
    ds = _load_data(args)
    t0 = time.perf_counter()
    if args.article_test:
        _, _, Xte, yte, _ = data.prepare(ds, "article", 1)
        how = "as the article did: test set normalised by its own mean and variance, no tanh on the pooled layer"
    else:
        Xte = model.norm.apply(ds.test_images, model.dtype)
        yte = ds.test_labels
        how = "with the model's own normalisation"
    t = evaluate(model, Xte, yte, pooled_tanh=not args.article_test)
    from .handwriting.calibration import ece
    calibration_error = ece(model.forward(Xte, pooled_tanh=not args.article_test, maps=False).proba, yte)
    seconds = time.perf_counter() - t0
    _say(args, f"{t.images:,} test images, {how}")
    _say(args, f"test error: {t.test_error:.5f}")
    _say(args, f"arg-max accuracy: {t.argmax_accuracy:.2f}%")
    _say(args, f"percent correct (the article's metric, all ten rounded outputs right): "
               f"{t.percent_correct:.2f}%")
    _say(args, f"expected calibration error: {calibration_error:.4f} (temperature {model.temperature:.3f})")
    _say(args, "confusion matrix (rows: true digit, columns: predicted):")
    _say(args, "      " + " ".join(f"{j:>5}" for j in range(10)))
    for i, row in enumerate(t.confusion):
        _say(args, f"  {i:>2}  " + " ".join(f"{v:>5}" for v in row))
    if args.json:
        rec = model.record
        out = _figures(rec, ds.source, eval_seconds=seconds, images=t.images,
                       model=str(args.model) if args.model else "shipped")
        out.update(t.to_dict(confusion=True))
        out.update(ece=calibration_error, temperature=float(model.temperature))
        print(json.dumps(jsonable(out)))
    return 0


def cmd_finetune(args) -> int:
    """Teach a model someone's drawings (a personal collection file) and save the result, with the
    window's check (:func:`engine.handwriting.finetune_guard.guarded_finetune`): a tuning that would
    read the drawings worse, or forget too much, is not kept, not saved, and the exit status is 1."""
    from .files import modelfile
    from .handwriting.collection import CollectionError, load_collection
    from .handwriting.finetune_guard import guarded_finetune
    try:
        model = modelfile.load_model(args.model)
        digits = load_collection(args.digits)
    except (modelfile.ModelFileError, CollectionError) as e:
        raise CliError(str(e)) from None
    if len(digits) == 0:
        raise CliError(f"{args.digits}: the collection holds no drawings")
    _check_save_path(args, model.config)
    t0 = time.perf_counter()
    g = guarded_finetune(model, digits.images, digits.labels, seed=args.seed)
    seconds = time.perf_counter() - t0
    done = "fine-tuned on" if g.folds else "checked"        # (none: nothing to learn, or too few)
    _say(args, f"{done} {len(digits)} drawings in {seconds:.1f} s, {g.reason}")
    if g.keep:
        _save(args, g.model)
    else:
        _say(args, f"the fine-tuned model was NOT kept; nothing saved to {args.save}")
    if args.json:
        print(json.dumps(jsonable({
            "drawings": g.n, "kept": g.keep, "folds": g.folds, "before": 100 * g.before / g.n,
            "held_out": 100 * g.held_out / g.n if g.folds else None,
            "forget_before": None if math.isnan(g.forget_before) else 100 * g.forget_before,
            "forget_after": None if math.isnan(g.forget_after) else 100 * g.forget_after,
            "softened": g.softened, "reason": g.reason, "seconds": seconds,
            "model": str(args.model) if args.model else "shipped",
            "saved": str(args.save) if g.keep else None})))
    return 0 if g.keep else 1


# -- parser ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="digitlab",
        description="Digitlab: a convolutional net that reads handwritten digits, from scratch in NumPy. "
                    "With no command, `digitlab` opens the window.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"digitlab {__version__}")
    p.add_argument("--debug", action="store_true",
                   help="on an unforeseen failure, show the Python traceback (anywhere on the line)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def data_opts(sp):
        sp.add_argument("--data", metavar="PATH",
                        help="MNIST as a Keras mnist.npz or a folder of the four IDX files (gzipped or not); "
                             "default: $DIGITLAB_MNIST, else Keras's download, else the bundled 5,000-digit sample")
        sp.add_argument("--source", choices=["auto", "keras", "local", "sample"],
                        help=f"where the data comes from (default {ARTICLE.source})")
        sp.add_argument("--json", action="store_true",
                        help="end the output with one JSON object on its last line")

    r = sub.add_parser("reproduce", help="run the article's experiment and compare with its figures")
    data_opts(r)
    r.add_argument("--seed", type=seed_arg, help=f"as np.random.seed(S) before the article's code (default {ARTICLE.seed})")
    r.add_argument("--save", metavar="PATH", help="save the model (.npz, or a folder for the article's CSV files)")
    r.add_argument("--runs-dir", metavar="DIR", help="record the run here (default: the user's data folder)")
    r.set_defaults(func=cmd_reproduce)

    t = sub.add_parser("train", help="train a network (the article's update or true backpropagation)")
    data_opts(t)
    t.add_argument("--mode", choices=["article", "backprop"],
                   help="article: the article's per-image update, quirks kept; backprop: true gradients, "
                        f"mini-batches, momentum (default {ARTICLE.mode})")

    def default(name, fmt="{}"):
        a, b = getattr(ARTICLE, name), getattr(BACKPROP, name)
        show = (lambda v: "all" if v is None else fmt.format(v))
        return f"default {show(a)}" if a == b else f"article default {show(a)}; backprop default {show(b)}"

    t.add_argument("--train", type=positive_int, metavar="N",
                   help=f"training images: the first N ({default('train', '{:,}')})")
    t.add_argument("--epochs", "--max-iter", dest="epochs", type=positive_int, metavar="N",
                   help=f"iterations (epochs) at most ({default('epochs')})")
    t.add_argument("--tol", type=nonneg_float,
                   help=f"stop when an iteration's error is at or under this, 0: never ({default('tol')})")
    t.add_argument("--alpha", type=nonneg_float, help=f"learning rate ({default('alpha')})")
    t.add_argument("--dropout", type=nonneg_float,
                   help="article mode: any non-zero value turns the article's 50%% dropout on; "
                        f"backprop: the dropout rate on the hidden layer, 0 to <1 ({default('dropout')})")
    t.add_argument("--kernels", type=positive_int, help=f"number of kernels ({default('kernels')})")
    t.add_argument("--kernel-size", type=positive_int, help=f"kernel side ({default('kernel_size')})")
    t.add_argument("--hidden", type=positive_int, help=f"hidden layer size ({default('hidden')})")
    t.add_argument("--seed", type=seed_arg, help=f"random seed ({default('seed')})")
    t.add_argument("--save", metavar="PATH", help="save the model (.npz, or a folder for the article's CSV files)")
    t.add_argument("--eval-every", type=positive_int, metavar="N",
                   help="evaluate on the test set every N iterations (default: backprop every epoch, "
                        "article only at the end)")
    g = t.add_argument_group("backprop mode")
    g.add_argument("--batch", type=positive_int, help=f"mini-batch size (default {BACKPROP.batch})")
    g.add_argument("--momentum", type=nonneg_float, help=f"SGD momentum (default {BACKPROP.momentum})")
    g.add_argument("--loss", choices=["xent", "mse"],
                   help=f"softmax cross-entropy or the article's squared error (default {BACKPROP.loss})")
    g.add_argument("--schedule", choices=["constant", "cosine", "step"],
                   help=f"learning-rate schedule (default {BACKPROP.schedule})")
    g.add_argument("--weight-decay", type=nonneg_float, help=f"L2 weight decay (default {BACKPROP.weight_decay})")
    g.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="augment training images (shifts, rotations, scaling, stroke width; "
                        f"default {'on' if BACKPROP.augment else 'off'})")
    g.add_argument("--biases", action=argparse.BooleanOptionalAction, default=None,
                   help=f"biases on the dense layers (default {'on' if BACKPROP.biases else 'off'})")
    g.add_argument("--float64", action="store_true", help="train in float64 (default float32)")
    t.add_argument("--runs-dir", metavar="DIR", help="record the run here (default: the user's data folder)")
    t.set_defaults(func=cmd_train)
    ru = sub.add_parser("runs", help="list the recorded runs")
    ru.add_argument("--runs-dir", metavar="DIR", help="the runs folder (default: the user's data folder)")
    ru.add_argument("--json", action="store_true", help="end the output with one JSON object on its last line")
    ru.add_argument("--delete", nargs="+", metavar="ID", help="delete these runs (finished or not)")
    ru.set_defaults(func=cmd_runs)

    e = sub.add_parser("evaluate", help="evaluate a model on the test set (default: the shipped model)")
    e.add_argument("model", nargs="?", help="a .npz model file, or a folder of the article's three CSV files")
    data_opts(e)
    e.add_argument("--article-test", action="store_true",
                   help="test as the article did: the test set normalised by its own mean and variance, "
                        "and no tanh on the pooled layer")
    e.set_defaults(func=cmd_evaluate)
    f = sub.add_parser("finetune", help="teach a model someone's handwriting from a collection of their drawings")
    f.add_argument("model", nargs="?", help="the model to start from (default: the shipped model)")
    f.add_argument("--digits", required=True, metavar="FILE",
                   help="a personal collection (.npz, as the window exports it)")
    f.add_argument("--save", required=True, metavar="OUT", help="where to save the fine-tuned model (.npz)")
    f.add_argument("--seed", type=seed_arg, default=0, help="seeds the batches and distortions (default 0)")
    f.add_argument("--json", action="store_true", help="end the output with one JSON object on its last line")
    f.set_defaults(func=cmd_finetune)
    from .sweep.command import add_sweep_parser
    add_sweep_parser(sub, data_opts, settings_from_args, article_iterations=len(ARTICLE_ERRORS),
                     article_percent_correct=ARTICLE_PERCENT_CORRECT)
    return p


def main(argv=None) -> int:
    """Run the command line; returns the exit status (``--help``, ``--version``: 0; bad options: 2)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    import signal
    import threading

    from .startup import release_interrupts
    release_interrupts()                # the start's quiet Ctrl+C (app.hold_interrupts) ends here
    seen = []                           # a Ctrl+C that a library turned into another error

    def interrupt(signum, frame):
        seen.append(signum)
        raise KeyboardInterrupt
    ours = threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if ours:
        signal.signal(signal.SIGINT, interrupt)
    try:
        return _main(argv, debug, seen)
    finally:
        if ours:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _main(argv: list, debug: bool, seen: list) -> int:
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:         # --help, --version and usage errors, already printed
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        if not getattr(args, "command", None):
            parser.print_help()
            return 0
        return args.func(args)
    except CliError as e:
        print(f"digitlab: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndigitlab: interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - pandas' parser turns Ctrl+C into a ParserError
        if seen and not debug:
            print("\ndigitlab: interrupted", file=sys.stderr)
            return 130
        return _failed(debug)


def _failed(debug: bool) -> int:
    """An exception being handled: one line (exit 1), or raised again with ``--debug``."""
    try:
        raise
    except MemoryError:
        if debug:
            raise
        print("digitlab: out of memory", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - a fault not foreseen: one line, the details with --debug
        if debug:
            raise
        print(f"digitlab: failed: {type(e).__name__}: {e} (run again with --debug for the details)",
              file=sys.stderr)
        return 1
