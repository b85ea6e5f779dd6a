"""What is known of a model: its test figures and how it was trained.

:class:`TestFigures` is the one shape of test results: :func:`engine.net.evaluate.evaluate`
returns it, :class:`engine.train.events.Evaluated` carries it, the command line prints it and
model files store it. :class:`Record` is a model's history (the run's settings, its
training figures, its test figures), saved in model files as JSON; files written before
this type existed load through :meth:`Record.from_dict`.

Every value read from a file is checked here: a record that loads can always be shown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["TestFigures", "Record", "RecordError"]


class RecordError(ValueError):
    """A record (or test figures) read from a file holds a value of the wrong kind."""


def _number(d: dict, key: str, *, whole: bool = False, default=None):
    """``d[key]`` as a finite float (or int), ``None``/missing as ``default``; else RecordError."""
    v = d.get(key, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise RecordError(f"'{key}' must be a number, not {v!r}")
    if whole:
        if not math.isfinite(float(v)) or float(v) != int(v):
            raise RecordError(f"'{key}' must be a whole number, not {v!r}")
        return int(v)
    v = float(v)
    if math.isnan(v):
        return default
    if not math.isfinite(v):
        raise RecordError(f"'{key}' must be finite, not {v!r}")
    return v


def _text(d: dict, key: str, default: str = "") -> str:
    v = d.get(key, default)
    if v is None:
        return default
    if not isinstance(v, str):
        raise RecordError(f"'{key}' must be text, not {v!r}")
    return v


@dataclass(frozen=True)
class TestFigures:
    """A model's figures on a test set.

    Attributes
    ----------
    test_error : float
        Mean over the images of ``sum((proba - onehot)**2)``.
    percent_correct : float
        The article's metric, in percent: every rounded output equals the one-hot target.
    argmax_accuracy : float
        In percent: the most probable class is the label.
    images : int
        Test images.
    confusion : ndarray of int, (10, 10) or None
        ``confusion[true, predicted]`` counts.
    """

    __test__ = False  # not a pytest test class

    test_error: float
    percent_correct: float
    argmax_accuracy: float
    images: int = 0
    confusion: np.ndarray | None = field(default=None, compare=False, repr=False)

    def to_dict(self, *, confusion: bool = False) -> dict:
        """Plain numbers (and the confusion matrix as nested lists when asked)."""
        d = {"test_error": float(self.test_error), "percent_correct": float(self.percent_correct),
             "argmax_accuracy": float(self.argmax_accuracy), "images": int(self.images)}
        if confusion and self.confusion is not None:
            d["confusion"] = np.asarray(self.confusion).tolist()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TestFigures | None":
        """Figures from a dict; None when it has no arg-max accuracy. Raises RecordError."""
        acc = _number(d, "argmax_accuracy")
        if acc is None:
            return None
        nan = math.nan
        pc = _number(d, "percent_correct", default=nan)
        for key, v in (("argmax_accuracy", acc), ("percent_correct", pc)):
            if not (math.isnan(v) or 0 <= v <= 100):
                raise RecordError(f"'{key}' must lie in 0..100, not {v!r}")
        err = _number(d, "test_error", default=nan)
        if err < 0:
            raise RecordError(f"'test_error' must not be negative, not {err!r}")
        images = _number(d, "images", whole=True, default=0) or _number(
            d, "test_images", whole=True, default=0)
        if images < 0:
            raise RecordError(f"'images' must not be negative, not {images!r}")
        conf = d.get("confusion")
        if conf is not None:
            if not isinstance(conf, (list, np.ndarray)) or not all(
                    isinstance(row, (list, np.ndarray)) and all(
                        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in row)
                    for row in conf):
                raise RecordError("'confusion' must be a matrix of whole-number counts")
            try:
                conf = np.asarray(conf, dtype=np.int64)
            except (TypeError, ValueError, OverflowError):
                raise RecordError("'confusion' must be a matrix of counts") from None
            if conf.shape != (10, 10):
                raise RecordError(f"'confusion' must be a 10 x 10 matrix, not shape {conf.shape}")
            if conf.min() < 0:
                raise RecordError("'confusion' holds negative counts")
        return cls(err, pc, acc, images, conf)


# Keys of files written before Record existed, and what they are now.
_LEGACY_SETTINGS = {"epochs": "epochs", "max_iter": "epochs", "seed": "seed", "alpha": "alpha",
                    "batch": "batch", "momentum": "momentum", "loss": "loss",
                    "schedule": "schedule", "dropout": "dropout", "augment": "augment",
                    "weight_decay": "weight_decay", "tol": "tol"}


@dataclass
class Record:
    """How a model was made and how it tests.

    Attributes
    ----------
    mode : str
        ``"article"``, ``"backprop"``, or ``""`` when unknown.
    settings : dict
        The run's settings (:meth:`engine.train.recipes.RunSettings.to_dict`); may be partial
        for old files.
    iterations : int
        Iterations (epochs) trained in all.
    train_error : float
        Error of the last iteration (NaN when unknown).
    reason : str
        Why training ended (``"converged"``, ``"max_iter"``, ``"stopped"``, ``"diverged"``).
    train_seconds, images_per_second : float
    train_images : int
    data_source, data : str
        Where the training data came from (``"local"``, ``"keras"``, ``"sample"``,
        ``"csv"``...) and the one-line description of it.
    test : TestFigures or None
    notes : dict
        Anything else a file recorded (kept and saved back, never interpreted).
    """

    mode: str = ""
    settings: dict = field(default_factory=dict)
    iterations: int = 0
    train_error: float = math.nan
    reason: str = ""
    train_seconds: float = math.nan
    images_per_second: float = math.nan
    train_images: int = 0
    data_source: str = ""
    data: str = ""
    test: TestFigures | None = None
    notes: dict = field(default_factory=dict)

    @property
    def argmax_accuracy(self) -> float | None:
        return None if self.test is None else self.test.argmax_accuracy

    def is_empty(self) -> bool:
        """True for a model that was never trained nor tested (a fresh initialisation)."""
        return self == Record()

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN as None); the test figures flattened in."""
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v
        d = {f.name: clean(getattr(self, f.name)) for f in fields(self)
             if f.name not in ("test", "notes")}
        d["settings"] = dict(self.settings)
        if self.test is not None:
            d.update({k: clean(v) for k, v in self.test.to_dict(confusion=True).items()})
        if self.notes:
            d["notes"] = dict(self.notes)
        return d

    @classmethod
    def from_dict(cls, d) -> "Record":
        """Read a record saved by any version of Digitlab. Raises RecordError on bad values."""
        if not isinstance(d, dict):
            raise RecordError(f"a record must be a JSON object, not {type(d).__name__}")
        settings = d.get("settings")
        if settings is None:   # written before RunSettings: settings were flat keys
            settings = {new: d[old] for old, new in _LEGACY_SETTINGS.items() if old in d}
            for key in ("train_images", "train_count"):
                if isinstance(d.get(key), int) and not isinstance(d.get(key), bool):
                    settings.setdefault("train", d[key])
            if "config" in d and isinstance(d["config"], dict):
                settings.update({k: d["config"][k] for k in ("kernels", "kernel_size", "hidden", "biases")
                                 if k in d["config"]})
            if d.get("dtype") == "float64":
                settings["float64"] = True
        if not isinstance(settings, dict):
            raise RecordError("'settings' must be a JSON object")
        for k, v in settings.items():
            if not isinstance(k, str) or not (v is None or isinstance(v, (bool, int, float, str))):
                raise RecordError(f"setting {k!r} must be a number, text, true/false or null, not {v!r}")
        mode = _text(d, "mode")
        if mode not in ("", "article", "backprop"):
            raise RecordError(f"'mode' must be 'article' or 'backprop', not {mode!r}")
        iterations = _number(d, "iterations", whole=True)
        if iterations is None:
            iterations = _number(d, "epochs", whole=True, default=0)
        train_images = _number(d, "train_images", whole=True)
        if train_images is None:
            train_images = _number(d, "train_count", whole=True, default=0)
        if iterations < 0 or train_images < 0:
            raise RecordError("'iterations' and 'train_images' must not be negative")
        known = {f.name for f in fields(cls)} | set(_LEGACY_SETTINGS) | {
            "test_error", "percent_correct", "argmax_accuracy", "images", "test_images",
            "confusion", "config", "dtype", "train_count"}
        notes = d.get("notes") if isinstance(d.get("notes"), dict) else {}
        notes = {**{k: v for k, v in d.items() if k not in known}, **notes}
        nan = math.nan
        return cls(mode=mode, settings=dict(settings), iterations=iterations,
                   train_error=_number(d, "train_error", default=nan), reason=_text(d, "reason"),
                   train_seconds=_number(d, "train_seconds", default=nan),
                   images_per_second=_number(d, "images_per_second", default=nan),
                   train_images=train_images, data_source=_text(d, "data_source"),
                   data=_text(d, "data"), test=TestFigures.from_dict(d), notes=notes)
