"""What a model file says, checked: configuration, normalisation, record, values in range.

Shared by the ``.npz`` reader and the CSV trio's ``digitlab.json`` (:mod:`engine.files.modelfile`).
Every value a file gives is bounded so that the model it makes reads any image to ten finite
probabilities: the normalisation's scale and offset, the temperature and the parameters'
magnitudes have limits (:func:`check_loaded`).
"""
from __future__ import annotations

import json
import math

import numpy as np

from ..net.model import Config, Model, Normalisation
from ..train.record import Record, RecordError
from .safefile import FileFault

__all__ = ["ModelFileError", "MAX_PARAMETERS", "MAX_WEIGHT", "SCALE_RANGE", "MAX_OFFSET",
           "TEMPERATURE_RANGE", "config_from", "norm_from", "record_from", "parse_json",
           "check_temperature", "check_loaded"]

#: The most parameters a model file may hold (a file declaring more is refused unread).
MAX_PARAMETERS = 50_000_000
#: The largest magnitude of a parameter in a model file.
MAX_WEIGHT = 1e6
#: The normalisation's scale (pixels 0-255 are divided by it) and offset bounds.
SCALE_RANGE = (1e-6, 1e12)
MAX_OFFSET = 1e6
#: The temperature's bounds (calibration fits one in [0.05, 20]).
TEMPERATURE_RANGE = (0.01, 100.0)
_IMAGE_SIZE, _CLASSES = 28, 10


class ModelFileError(FileFault):
    """A model file that cannot be read or written; the message names the file and the fault."""


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def config_from(d, where) -> Config:
    """A :class:`Config` from a file's JSON, strictly: whole numbers, a real bool, 28x28 images,
    10 classes, at most :data:`MAX_PARAMETERS` parameters. ``where`` names the file."""
    if not isinstance(d, dict):
        raise ModelFileError(f"{where}: 'config' is not a JSON object")
    for key in ("kernels", "kernel_size", "hidden"):
        if key not in d:
            raise ModelFileError(f"{where}: bad config: no '{key}'")
        if not _whole(d[key]) or d[key] < 1:
            raise ModelFileError(f"{where}: bad config: '{key}' must be a whole number of at least 1, "
                                 f"not {d[key]!r}")
    biases = d.get("biases", False)
    if not isinstance(biases, bool):
        raise ModelFileError(f"{where}: bad config: 'biases' must be true or false, not {biases!r}")
    for key, only in (("image_size", _IMAGE_SIZE), ("classes", _CLASSES)):
        v = d.get(key, only)
        if not _whole(v) or v != only:
            raise ModelFileError(f"{where}: bad config: '{key}' is {v!r}; Digitlab reads 28x28 images "
                                 f"of 10 digits only ({key} {only})")
    if d["kernel_size"] > _IMAGE_SIZE:
        raise ModelFileError(f"{where}: bad config: kernel_size {d['kernel_size']} is larger than the "
                             f"28x28 images")
    config = Config(d["kernels"], d["kernel_size"], d["hidden"], biases)
    n = sum(math.prod(s) for s in config.shapes().values())
    if n > MAX_PARAMETERS:
        raise ModelFileError(f"{where}: bad config: {n:,} parameters, more than the "
                             f"{MAX_PARAMETERS:,} a model file may hold")
    return config


def norm_from(d, where) -> Normalisation:
    """A :class:`Normalisation` from a file's JSON: finite numbers, a positive scale, a known kind."""
    if not isinstance(d, dict):
        raise ModelFileError(f"{where}: 'norm' is not a JSON object")
    for key in ("offset", "scale"):
        v = d.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ModelFileError(f"{where}: bad normalisation: '{key}' must be a finite number, not {v!r}")
    lo, hi = SCALE_RANGE
    if not lo <= d["scale"] <= hi:
        raise ModelFileError(f"{where}: bad normalisation: scale {d['scale']!r} must lie in "
                             f"{lo:g}..{hi:g}")
    if abs(d["offset"]) > MAX_OFFSET:
        raise ModelFileError(f"{where}: bad normalisation: offset {d['offset']!r} must lie in "
                             f"-{MAX_OFFSET:g}..{MAX_OFFSET:g}")
    kind = d.get("kind", "standard")
    if kind not in ("article", "standard"):
        raise ModelFileError(f"{where}: unknown normalisation kind {kind!r}")
    return Normalisation(float(d["offset"]), float(d["scale"]), kind)


def record_from(d, where) -> Record:
    """A :class:`Record` from a file's JSON (any version's); a bad field names the file."""
    try:
        return Record.from_dict(d)
    except RecordError as e:
        raise ModelFileError(f"{where}: bad record: {e}") from None


def parse_json(text: str, where, what: str):
    """JSON text of a file's ``what`` member; malformed text names the file."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{where}: '{what}' is not valid JSON ({e})") from None




def check_temperature(t, where) -> float:
    """The temperature a file gives, as a float within :data:`TEMPERATURE_RANGE`."""
    lo, hi = TEMPERATURE_RANGE
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(t)) or not lo <= float(t) <= hi:
        raise ModelFileError(f"{where}: 'temperature' must be a number in {lo:g}..{hi:g}, not {t!r}")
    return float(t)


def check_loaded(model: Model, where) -> Model:
    """Refuse a model with a parameter beyond :data:`MAX_WEIGHT` in magnitude.

    With the other bounds (normalised pixels at most ``(255 + MAX_OFFSET) / SCALE_RANGE[0]``,
    about 1e12; at most 784 terms a sum; a temperature of at least 0.01) no value of the
    forward pass exceeds about 1e30, well inside float32 (3.4e38): every image reads to ten
    finite probabilities (the fuzz test checks it). No forward pass here: loading a model
    compiles nothing (the window loads on its event loop)."""
    for key, a in model.params.items():
        top = float(np.max(np.abs(a))) if a.size else 0.0
        if top > MAX_WEIGHT:
            raise ModelFileError(f"{where}: '{key}' holds {top:.3g}, beyond the {MAX_WEIGHT:g} a "
                                 f"parameter may reach")
    return model
