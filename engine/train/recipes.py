"""One recipe for a training run: its settings, the presets, the data, the model and stepper.

The command line, the window's worker and the benchmarks all set a run up here:

>>> s = RunSettings.for_mode("backprop").replace(epochs=2, source="sample")   # doctest: +SKIP
>>> data = prepare(s, load_data(s))                                              # doctest: +SKIP
>>> model, stepper = make_run(s, data)                                           # doctest: +SKIP
>>> for event in run_events(s, data, model, stepper): ...                        # doctest: +SKIP
>>> model.record = make_record(s, data, figures)                                 # doctest: +SKIP

A setting has one home, :class:`RunSettings`, and one default per mode: :data:`ARTICLE`
(the article's experiment, the command line's default) and :data:`BACKPROP`. :data:`BEST`
is the recipe of the shipped model.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Callable, Iterator

import numpy as np

from ..net.model import Config, Model, Normalisation
from .backprop import LOSSES, SCHEDULES, BackpropStepper
from .record import Record, TestFigures

__all__ = ["MODES", "LOSSES", "SCHEDULES", "RunSettings", "ARTICLE", "BACKPROP", "BEST", "PRESETS",
           "PreparedData", "load_data", "prepare", "initial_model", "make_run", "run_events", "make_record"]

MODES = ("article", "backprop")
#: The most kernels a run may have (each costs about 7 µs an image in the article's update).
MAX_KERNELS = 1024
#: The most memory one batch's feature maps may take (batch x kernels x positions x 8 bytes).
MAX_BATCH_BYTES = 2 << 30
SOURCES = ("auto", "keras", "local", "sample")


def check_size(config: Config, batch: int = 1) -> None:
    """Refuse, before anything is allocated, an architecture over the limits: more than
    :data:`~engine.files.modelcheck.MAX_PARAMETERS` parameters (what a model file may hold), more
    than :data:`MAX_KERNELS` kernels, or a batch whose feature maps exceed :data:`MAX_BATCH_BYTES`.
    Raises ValueError saying which limit and by how much."""
    from ..files.modelcheck import MAX_PARAMETERS
    n = sum(math.prod(s) for s in config.shapes().values())
    if n > MAX_PARAMETERS:
        raise ValueError(f"{config.kernels} kernels of {config.kernel_size}x{config.kernel_size} and "
                         f"{config.hidden} hidden make {n:,} parameters, more than the "
                         f"{MAX_PARAMETERS:,} a model may have")
    if config.kernels > MAX_KERNELS:
        raise ValueError(f"kernels {config.kernels:,}: at most {MAX_KERNELS:,}")
    need = batch * config.kernels * config.positions * 8
    if need > MAX_BATCH_BYTES:
        raise ValueError(f"a batch of {batch:,} images with {config.kernels:,} kernels needs "
                         f"{need / 2**30:.1f} GiB of feature maps, more than the "
                         f"{MAX_BATCH_BYTES / 2**30:.0f} GiB allowed; use a smaller --batch")


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides a training run.

    Attributes
    ----------
    mode : {"article", "backprop"}
        The article's per-image update with its quirks, or true gradients on mini-batches.
    source : {"auto", "keras", "local", "sample"}
        Where the data comes from (see :func:`engine.files.data.load`); ``path`` with ``local``.
    path : str or None
    train : int or None
        Use the first ``train`` training images; None: all.
    epochs : int
        Iterations (epochs) at most.
    tol : float
        Stop when an iteration's error is at or under it; 0: never.
    alpha : float
        Learning rate (the backprop mode's peak rate).
    batch, momentum, loss, schedule, weight_decay, augment
        The backprop mode's mini-batch size, momentum, loss (``"xent"``, ``"mse"``), rate
        schedule (``"cosine"``, ``"step"``, ``"constant"``), L2 decay and augmentation.
    dropout : float
        Dropout rate on the hidden layer. The article mode has one dropout only, its own
        (half the hidden units, per image): any rate above 0 turns it on.
    kernels, kernel_size, hidden, biases
        The architecture (:class:`engine.net.model.Config`); the article mode has no biases.
    seed : int
        Seeds the initial weights and the mode's random draws.
    float64 : bool
        The backprop mode in float64 (float32 otherwise); the article mode is always float64.
    collection : str or None
        A personal collection file (:mod:`engine.handwriting.collection`) whose drawings join the
        training images; None: none.
    """

    mode: str = "article"
    source: str = "auto"
    path: str | None = None
    train: int | None = 20000
    epochs: int = 50
    tol: float = 0.1
    alpha: float = 0.01
    batch: int = 64
    momentum: float = 0.9
    loss: str = "xent"
    schedule: str = "cosine"
    weight_decay: float = 0.0
    augment: bool = False
    dropout: float = 0.0
    kernels: int = 9
    kernel_size: int = 8
    hidden: int = 100
    biases: bool = False
    seed: int = 0
    float64: bool = False
    collection: str | None = None

    def __post_init__(self):
        def check(ok, text):
            if not ok:
                raise ValueError(text)
        check(self.mode in MODES, f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        check(self.source in SOURCES, f"source must be one of {', '.join(SOURCES)}, not {self.source!r}")
        check(self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        check(self.schedule in SCHEDULES,
              f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        for name in ("epochs", "batch", "kernels", "kernel_size", "hidden"):
            v = getattr(self, name)
            check(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1,
                  f"{name} must be a whole number of at least 1, not {v!r}")
        check(self.train is None or (isinstance(self.train, (int, np.integer))
                                     and not isinstance(self.train, bool) and self.train >= 1),
              f"train must be a whole number of at least 1 (or None for all), not {self.train!r}")
        for name in ("tol", "alpha", "momentum", "weight_decay", "dropout"):
            v = getattr(self, name)
            check(isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
                  and math.isfinite(v) and v >= 0, f"{name} must be a finite number, 0 or more, not {v!r}")
        check(self.alpha > 0, f"alpha (the learning rate) must be above 0, not {self.alpha!r}")
        check(self.momentum < 1, f"momentum must lie in [0, 1), not {self.momentum!r}")
        check(self.mode == "article" or self.dropout < 1, f"dropout must lie in [0, 1), not {self.dropout!r}")
        check(isinstance(self.seed, (int, np.integer)) and not isinstance(self.seed, bool)
              and 0 <= self.seed < 2**32, f"seed must be a whole number in 0..2**32-1, not {self.seed!r}")
        check(not (self.mode == "article" and self.biases), "the article mode has no biases")
        check_size(self.config, self.batch if self.mode == "backprop" else 1)

    # -- derived ---------------------------------------------------------------------------
    @classmethod
    def for_mode(cls, mode: str) -> "RunSettings":
        """The defaults of a mode (:data:`ARTICLE` or :data:`BACKPROP`)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        return ARTICLE if mode == "article" else BACKPROP

    def replace(self, **changes) -> "RunSettings":
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    @property
    def config(self) -> Config:
        """The architecture these settings train."""
        return Config(int(self.kernels), int(self.kernel_size), int(self.hidden), bool(self.biases))

    @property
    def normalisation(self) -> str:
        """``"article"`` (divide by the variance; test set by its own) or ``"standard"``."""
        return "article" if self.mode == "article" else "standard"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64 if self.mode == "article" or self.float64 else np.float32)

    def data_key(self) -> tuple:
        """What decides the prepared arrays (equal keys: the same :class:`PreparedData`)."""
        return (self.source, self.path, self.normalisation, self.train, self.collection, self.dtype.name)

    def describe(self) -> str:
        """One line for a log or a terminal."""
        c = self.config
        head = (f"{self.mode} mode: {'all' if self.train is None else f'{self.train:,}'} training "
                f"images, {c.kernels} kernels of {c.kernel_size}x{c.kernel_size}, {c.hidden} hidden"
                f"{' with biases' if c.biases else ''}, rate {self.alpha}, at most {self.epochs} "
                f"{'iterations' if self.mode == 'article' else 'epochs'}")
        if self.tol:
            head += f", stop at error {self.tol}"
        if self.mode == "article":
            return head + f", dropout {'on' if self.dropout else 'off'}, seed {self.seed}"
        return (head + f", batch {self.batch}, momentum {self.momentum}, {self.loss} loss, "
                f"{self.schedule} schedule, dropout {self.dropout}, weight decay {self.weight_decay}, "
                f"augmentation {'on' if self.augment else 'off'}, {self.dtype.name}, seed {self.seed}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, base: "RunSettings | None" = None) -> "RunSettings":
        """Settings from a dict (unknown keys ignored, missing ones from ``base`` or the mode's
        defaults). Raises ValueError on a bad value."""
        mode = d.get("mode", (base or ARTICLE).mode)
        start = base if base is not None and base.mode == mode else cls.for_mode(mode)
        known = {f.name for f in fields(cls)}
        return replace(start, **{k: v for k, v in d.items() if k in known})


#: The article's experiment, exactly: the command line's ``reproduce`` and ``train`` default.
ARTICLE = RunSettings()
#: The backprop mode's defaults: the article's network, all the training images, 12 epochs.
BACKPROP = RunSettings(mode="backprop", train=None, epochs=12, tol=0.0, alpha=0.05)
#: The recipe of the shipped model (``benchmarks/train_shipped.py``).
BEST = BACKPROP.replace(kernels=32, kernel_size=5, hidden=384, biases=True, epochs=40, alpha=0.04,
                        augment=True, seed=1)
#: Presets by name, for menus.
PRESETS = {"The article": ARTICLE, "Backprop": BACKPROP, "Best": BEST}


# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------
@dataclass
class PreparedData:
    """Normalised arrays ready for a run.

    Attributes
    ----------
    Xtr : ndarray, (N, 28, 28)
    ytr : ndarray of int64, (N,)
    Xte : ndarray, (M, 28, 28)
        Normalised as the mode tests (the article: by the test set's own statistics).
    yte : ndarray of int64, (M,)
    norm : Normalisation
        The training set's normalisation (the one the trained model applies to drawings).
    source : str
        ``"local"``, ``"keras"`` or ``"sample"``.
    description : str
        Where the data came from and how much is used, one line.
    """

    Xtr: np.ndarray
    ytr: np.ndarray
    Xte: np.ndarray
    yte: np.ndarray
    norm: Normalisation
    source: str = ""
    description: str = ""


def load_data(settings: RunSettings, progress: Callable[[int, int], object] | None = None, *,
              should_stop: Callable[[], bool] | None = None):
    """The :class:`engine.files.data.Dataset` the settings name (may download: call off the GUI thread).

    ``progress(done, total)`` follows a download; returning False cancels it.
    ``should_stop()`` is checked between files, during a download and while decompressing;
    True raises :class:`engine.files.data.Cancelled`.
    """
    from ..files import data
    return data.load(settings.source, settings.path, progress=progress, should_stop=should_stop)


def prepare(settings: RunSettings, ds) -> PreparedData:
    """Cut and normalise a data set as the settings' mode trains and tests."""
    from ..files import data
    Xtr, ytr, Xte, yte, norm = data.prepare(ds, settings.normalisation, settings.train, settings.dtype)
    desc = f"{ds.description}; using {len(Xtr):,} training and {len(Xte):,} test images"
    if settings.collection:
        from ..handwriting.collection import load_collection
        own = load_collection(settings.collection)
        Xtr = np.concatenate([Xtr, norm.apply(own.images * 255.0, Xtr.dtype)])
        ytr = np.concatenate([ytr, own.labels])
        desc += f", {len(own):,} of them from the personal collection"
    return PreparedData(Xtr, ytr, Xte, yte, norm, ds.source, desc)


# ------------------------------------------------------------------------------------------
# Model and stepper
# ------------------------------------------------------------------------------------------
def initial_model(settings: RunSettings, norm: Normalisation | None = None,
                  rng: np.random.RandomState | None = None) -> Model:
    """The seeded initial weights of a run of ``settings`` (what a new run begins from).

    ``rng``: the article mode's stream, left past the weights' draws (its dropout masks come
    next); by default ``RandomState(seed)``.
    """
    cfg = settings.config
    if settings.mode == "article":
        rng = np.random.RandomState(int(settings.seed)) if rng is None else rng
        model = Model.article_init(cfg, rng, norm)
    else:
        model = Model.scaled_init(cfg, np.random.default_rng(int(settings.seed)), norm, settings.dtype)
    model.name = f"{settings.mode}-k{cfg.kernels}f{cfg.kernel_size}h{cfg.hidden}"
    return model


def make_run(settings: RunSettings, data: PreparedData, model: Model | None = None, *,
             chunk: int = 256):
    """The model to train and the mode's stepper over ``data``.

    Parameters
    ----------
    settings : RunSettings
    data : PreparedData
    model : Model, optional
        Weights to continue from: a copy is trained (its architecture must be the
        settings'). None: the seeded initialisation of the mode (the article's draws
        ``K``, ``W1``, ``W2`` from ``RandomState(seed)`` and then its dropout masks from
        the same stream, as the article's code does after ``np.random.seed(seed)``).
    chunk : int
        The article mode's images per compiled call (its stop and pause granularity).

    Returns
    -------
    (Model, stepper)
        The stepper trains the model's arrays in place (see :mod:`engine.train.training`).
    """
    cfg = settings.config
    rng = np.random.RandomState(int(settings.seed))
    if model is None:
        model = initial_model(settings, data.norm, rng)      # rng now past the weights
    else:
        if model.config != cfg:
            raise ValueError(f"the model to continue ({model.config.kernels} kernels of "
                             f"{model.config.kernel_size}x{model.config.kernel_size}, "
                             f"{model.config.hidden} hidden) is not the settings' architecture")
        model = model.astype(settings.dtype) if model.dtype != settings.dtype else model.copy()
        if model.norm.kind != data.norm.kind:        # another mode's input scale
            model.norm = data.norm
        if settings.mode == "article":
            Model.article_init(cfg, rng)             # the masks come after the weights' draws
    if settings.mode == "article":
        from .article import ArticleStepper
        stepper = ArticleStepper(model, data.Xtr, data.ytr, alpha=float(settings.alpha),
                                 dropout=settings.dropout > 0, rng=rng, chunk=int(chunk))
    else:
        stepper = BackpropStepper(model, data.Xtr, data.ytr, alpha=float(settings.alpha),
                                  batch=int(settings.batch), momentum=float(settings.momentum),
                                  loss=settings.loss, schedule=settings.schedule,
                                  dropout=float(settings.dropout), augment=bool(settings.augment),
                                  seed=int(settings.seed), dtype=settings.dtype,
                                  epochs_hint=int(settings.epochs),
                                  weight_decay=float(settings.weight_decay))
    return model, stepper


def run_events(settings: RunSettings, data: PreparedData, model: Model, stepper, *,
               stop=None, epochs: int | None = None, tol: float | None = None,
               start_iteration: int = 0, eval_every: int | None = None,
               report_seconds: float = 0.25, clock: Callable[[], float] = time.perf_counter,
               checkpoints=None) -> Iterator:
    """Train with :func:`engine.train.training.train` as the settings say; a generator of events.

    Parameters
    ----------
    settings, data, model, stepper
        As :func:`make_run` returned them.
    stop : threading.Event or callable, optional
        Checked between chunks/batches.
    epochs, tol : optional
        This run's iterations and tolerance when they differ from the settings' (Step: 1).
    start_iteration : int
        Number of the first iteration (continuing a run counts on).
    eval_every : int, optional
        Test every this many iterations (and after the last). None: the article mode
        only at the end (as the article does), the backprop mode every epoch.
    report_seconds : float
        At most one Progress event per this many seconds.
    clock : callable
        Time source.
    checkpoints : iterable of int, optional
        Image counts at which to yield :class:`engine.train.events.Checkpoint` (snapshots).
    """
    from .training import train
    epochs = int(settings.epochs if epochs is None else epochs)
    tol = settings.tol if tol is None else tol
    if eval_every is None:
        eval_every = epochs if settings.mode == "article" else 1
    return train(model, stepper, max_iter=epochs, tol=float(tol) if tol else None, stop=stop,
                 test=(data.Xte.astype(model.dtype, copy=False), data.yte), eval_every=eval_every,
                 pooled_tanh_at_test=settings.mode != "article", report_seconds=report_seconds,
                 start_iteration=start_iteration, clock=clock, checkpoints=checkpoints,
                 unit="iteration" if settings.mode == "article" else "epoch")


def make_record(settings: RunSettings, data: PreparedData, finished, test: TestFigures | None, *,
                iterations: int | None = None, previous: Record | None = None) -> Record:
    """The record of a finished run.

    Parameters
    ----------
    settings : RunSettings
    data : PreparedData
    finished : engine.train.events.Finished
    test : TestFigures or None
        The last test figures of the run.
    iterations : int, optional
        Iterations in all (a continued run counts its earlier ones); default: the run's.
    previous : Record, optional
        The record of the model the run continued (its iterations and time are added).
    """
    done = finished.iterations if iterations is None else iterations
    seconds = finished.seconds
    if previous is not None and previous.mode == settings.mode and iterations is None:
        done += previous.iterations
        if math.isfinite(previous.train_seconds):
            seconds += previous.train_seconds
    return Record(mode=settings.mode, settings=settings.to_dict(), iterations=int(done),
                  train_error=float(finished.train_error), reason=finished.reason,
                  train_seconds=float(seconds), images_per_second=float(finished.images_per_second),
                  train_images=int(len(data.ytr)), data_source=data.source,
                  data=data.description, test=test)
