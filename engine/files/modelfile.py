"""Weight files: Digitlab's ``.npz`` model files and the article's three CSV files.

- ``.npz``: the parameters (``K``, ``W1``, ``W2`` and, with biases, ``b1``, ``b2``), the
  configuration, the normalisation and the training record (JSON text), the model's
  name. Loaded back exactly; every array's header is checked before its data is read.
- CSV trio, as the article's code writes it (see :mod:`engine.files.csvmatrix`): ``kernels.csv``,
  ``weights_01.csv``, ``weights_12.csv``, plus Digitlab's ``digitlab.json`` beside them
  (configuration, normalisation, dtype, record and each file's SHA-256), which the
  article's code never reads. With it a CSV round trip predicts exactly as the ``.npz``
  does, and a set left half-replaced by an interrupted save reads as the old set or the
  new one. A trio without it is the article's: configuration from the shapes, the
  article's normalisation.

Every write is atomic and durable; everything read is validated; every fault gives a
:class:`ModelFileError` naming the file and the fault.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from ..net.model import Config, Model, Normalisation, kernel_side
from .modelcheck import (MAX_PARAMETERS, ModelFileError, check_loaded, check_temperature, config_from,
                         norm_from, parse_json, record_from, _CLASSES, _IMAGE_SIZE)
from . import csvmatrix
from ..train.record import Record
from .resources import SHIPPED_MODEL
from .safefile import (NpzReader, atomic_write, check_regular, fsync_dir, read_bytes,
                       sniff, temp_beside, clean_leftovers)

__all__ = ["ModelFileError", "SHIPPED_MODEL", "CSV_FILES", "MANIFEST", "ARTICLE_MEAN",
           "ARTICLE_VARIANCE", "MAX_PARAMETERS", "MAX_CSV_BYTES", "article_normalisation", "save_model",
           "load_model"]


#: The article's three files, by parameter.
CSV_FILES = {"K": "kernels.csv", "W1": "weights_01.csv", "W2": "weights_12.csv"}
#: Digitlab's description of a CSV trio, in the same folder.
MANIFEST = "digitlab.json"

# The article's normalisation of its training set, (X - mean) / variance, over the first
# 20,000 images of the full MNIST training set (the Keras / IDX files; pixels 0-255).
# Computed once with:
#   x = np.frombuffer(gzip.open("train-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
#   c = x.reshape(-1, 28, 28)[:20000].astype(np.float64); c.mean(), c.var()
ARTICLE_MEAN = 33.55274553571429
ARTICLE_VARIANCE = 6221.344611913565

_MAX_NPZ_BYTES = 8 * MAX_PARAMETERS + (64 << 20)
#: The largest CSV file read or written (pandas writes about 24 bytes a value).
MAX_CSV_BYTES = 256 << 20
_MAX_TEXT_CHARS = 4_000_000          # the JSON members: configuration, normalisation, record
_FORMAT = "digitlab-model"
_FORMAT_VERSION = 1
_PARAM_KEYS = ("K", "W1", "W2", "b1", "b2")


def article_normalisation() -> Normalisation:
    """The article's normalisation for models it trained (first 20,000 MNIST images)."""
    return Normalisation(ARTICLE_MEAN, ARTICLE_VARIANCE, "article")


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (set, frozenset)):
        return sorted(o, key=str)
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    return str(o)


def dump_json(obj) -> str:
    """JSON text of what a model file stores (numpy values as plain numbers)."""
    return json.dumps(obj, default=_json_default)


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------
def save_model(model: Model, path) -> Path:
    """Save a model atomically and durably.

    Parameters
    ----------
    model : Model
    path : str or Path
        Ending in ``.npz``: one Digitlab model file. Anything else: a folder (created if
        needed; the path of one of the three CSV files means its folder) that receives the
        article's ``kernels.csv`` ``(k, f*f)``, ``weights_01.csv`` ``(P, H)`` and
        ``weights_12.csv`` ``(H, 10)``, as pandas ``to_csv(index=False)`` writes them
        (float64 values, exact on reading back), and ``digitlab.json``.

    Returns
    -------
    Path
        The file or folder written.

    Raises
    ------
    ModelFileError
        The CSV trio cannot hold biases; the folder cannot be created; a write failed.
    """
    model.check()
    path = Path(path).expanduser()
    config_from({k: v.item() if isinstance(v, np.generic) else v            # what could not be
                 for k, v in model.config.to_dict().items()}, path)        # loaded back is not saved
    check_temperature(model.temperature, path)
    norm_from(model.norm.to_dict(), path)
    check_loaded(model, path)
    if path.suffix.lower() == ".npz":
        _save_npz(model, path)
        return path
    folder = path.parent if path.name in (*CSV_FILES.values(), MANIFEST) else path
    _save_csv(model, folder)
    return folder


def _save_npz(model: Model, path: Path) -> None:
    arrays = {k: np.asarray(v) for k, v in model.params.items()}
    arrays["config"] = np.array(json.dumps(model.config.to_dict()))
    arrays["norm"] = np.array(json.dumps(model.norm.to_dict()))
    arrays["record"] = np.array(dump_json(model.record.to_dict()))
    arrays["name"] = np.array(str(model.name))
    if model.temperature != 1:
        arrays["temperature"] = np.array(float(model.temperature))
    arrays["format"] = np.array(f"{_FORMAT} {_FORMAT_VERSION}")
    new = _new_folders(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, ModelFileError) as fh:
            np.savez(fh, **arrays)
    except BaseException as e:
        _remove_empty(new)
        if isinstance(e, OSError):
            raise ModelFileError(f"{path}: cannot write here ({e.strerror or e})") from None
        raise


def _new_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first (the
    folders a save would create)."""
    new, p = [], folder.absolute()
    while not p.exists() and p != p.parent:
        new.append(p)
        p = p.parent
    return new


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) that a failed save created: a failure leaves no
    new folder behind. Only empty folders go; the first one left ends it."""
    for p in folders:
        try:
            p.rmdir()
        except OSError:
            return


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------
def load_model(path=None) -> Model:
    """Load a model.

    Parameters
    ----------
    path : str or Path, optional
        A ``.npz`` model file; a folder holding ``kernels.csv``, ``weights_01.csv`` and
        ``weights_12.csv``; or the path of one of those three. None: the shipped model
        (``resources/model.npz``).

    Returns
    -------
    Model
        A new model, named after the ``.npz`` file's stem or the CSV folder's name
        ("shipped model" for the shipped one). A CSV trio with Digitlab's
        ``digitlab.json`` has the configuration, normalisation, dtype and record saved
        with it; one without it (the article's own) has float64 parameters, no biases, the
        article's normalisation and ``Record(mode="article", data_source="csv")``.

    Raises
    ------
    ModelFileError
        Missing file, not a regular file, not a model file, corrupt zip, missing arrays,
        bad configuration (28x28 images and 10 classes only), wrong shapes or dtypes
        (refused from the array's header, before its data is read), text where numbers
        belong, NaN or infinity, a file cut short, a CSV set that does not match its
        ``digitlab.json``; the message names the file.
    """
    if path is None:
        if not SHIPPED_MODEL.is_file():
            raise ModelFileError(f"{SHIPPED_MODEL}: the shipped model is missing (no model has "
                                 f"been trained and saved there yet)")
        model = _load_npz(SHIPPED_MODEL)
        model.name = "shipped model"
        return model
    path = Path(path).expanduser()
    if path.is_dir():
        return _load_csv(path)
    if not os.path.lexists(path):
        raise ModelFileError(f"{path}: no such file or folder")
    if path.name in (*CSV_FILES.values(), MANIFEST):
        return _load_csv(path.parent)
    check_regular(path, ModelFileError)
    if path.suffix.lower() != ".npz" and sniff(path) != "zip":
        raise ModelFileError(f"{path}: not a model file (expected a .npz file, or a folder with "
                             f"{', '.join(CSV_FILES.values())})")
    return _load_npz(path)


def _text_check(shape: tuple, dtype: np.dtype) -> str | None:
    return None if shape == () and dtype.kind == "U" else "is not text"


def _param_check(expected: tuple):
    def check(shape: tuple, dtype: np.dtype) -> str | None:
        if shape != expected:
            return f"has shape {shape}, expected {expected}"
        if dtype not in (np.float32, np.float64):
            return f"holds {dtype}, expected floating-point numbers (float32 or float64)"
        return None
    return check


def _load_npz(path: Path) -> Model:
    with NpzReader(path, ModelFileError, limit=_MAX_NPZ_BYTES) as z:
        files = set(z.files)
        missing = [k for k in ("K", "W1", "W2", "config", "norm") if k not in files]
        if missing:
            raise ModelFileError(f"{path}: missing arrays: {', '.join(missing)}")

        def text(key: str) -> str:
            return str(z.array(key, _text_check, max_bytes=4 * _MAX_TEXT_CHARS)[()])

        if "format" in files:
            fmt = text("format").split()
            if len(fmt) != 2 or fmt[0] != _FORMAT or not fmt[1].isdigit():
                raise ModelFileError(f"{path}: not a Digitlab model file (format {' '.join(fmt)!r})")
            if int(fmt[1]) > _FORMAT_VERSION:
                raise ModelFileError(f"{path}: written by a newer Digitlab (format {fmt[1]}; this "
                                     f"version reads format {_FORMAT_VERSION})")
        config = config_from(parse_json(text("config"), path, "config"), path)
        norm = norm_from(parse_json(text("norm"), path, "norm"), path)
        record = record_from(parse_json(text("record"), path, "record") if "record" in files else {},
                             path)
        shapes = config.shapes()
        extra = [k for k in _PARAM_KEYS if k in files and k not in shapes]
        if extra:
            raise ModelFileError(f"{path}: unexpected arrays {', '.join(extra)} (the config says "
                                 f"biases: {str(config.biases).lower()})")
        missing = [k for k in shapes if k not in files]
        if missing:
            raise ModelFileError(f"{path}: missing arrays: {', '.join(missing)}")
        params = {k: z.array(k, _param_check(s), max_bytes=8 * math.prod(s)) for k, s in shapes.items()}
        temperature = check_temperature(float(z.array("temperature", _param_check(()), max_bytes=8)),
                                        path) if "temperature" in files else 1.0
    try:
        return check_loaded(Model(config, params, norm, record, path.stem, temperature), path)
    except ValueError as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{path}: {e}") from None


# ---------------------------------------------------------------------------------------
# The CSV trio and its manifest
# ---------------------------------------------------------------------------------------
def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _save_csv(model: Model, folder: Path) -> None:
    """Write the trio so that a reader sees the old set or the new one, never a mix.

    The three files are written to temporary ("staged") files beside their targets and
    flushed to disk; then ``digitlab.json``, naming each file's SHA-256 and staged name,
    replaces the old one atomically: the commit. Only then is each staged file renamed
    into place. A reader that finds a file not matching the manifest takes its staged
    file; before the commit the old manifest still matches the old files.
    """
    if model.config.biases:
        raise ModelFileError(
            f"{folder}: the article's CSV files have no place for biases; this model has "
            f"biases, so save it as a .npz file")
    if folder.exists() and not folder.is_dir():
        raise ModelFileError(f"{folder}: exists and is not a folder (the CSV trio needs a folder, "
                             f"or give a name ending in .npz)")
    new = _new_folders(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _remove_empty(new)
        raise ModelFileError(f"{folder}: cannot create the folder ({e.strerror or e})") from None
    try:
        previous = _read_manifest(folder)
    except ModelFileError:
        previous = None
    staged: dict[str, str] = {}
    try:
        blobs = {name: csvmatrix.to_text(model.params[key]).encode() for key, name in CSV_FILES.items()}
        for name, blob in blobs.items():
            if len(blob) > MAX_CSV_BYTES:
                raise ModelFileError(f"{folder / name}: {len(blob):,} bytes, more than the "
                                     f"{MAX_CSV_BYTES:,} a CSV file may have; save it as a .npz file")
            needed = {e.get("staged") for e in previous["files"].values()} if previous else set()
            fd, staged[name] = temp_beside(folder / name, keep=needed)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
        fsync_dir(folder)
        manifest = {
            "format": f"{_FORMAT} {_FORMAT_VERSION}",
            "about": "Digitlab's description of the article's three CSV files beside it",
            "config": model.config.to_dict(), "norm": model.norm.to_dict(),
            "dtype": np.dtype(model.dtype).name, "record": model.record.to_dict(),
            "temperature": float(model.temperature),
            "files": {name: {"sha256": _sha256(blob), "staged": os.path.basename(staged[name])}
                      for name, blob in blobs.items()}}
        with atomic_write(folder / MANIFEST, ModelFileError) as fh:
            fh.write(dump_json(manifest).encode())
    except BaseException as e:
        for tmp in staged.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
        _remove_empty(new)                   # a folder made for this save: gone again
        if isinstance(e, OSError):
            raise ModelFileError(f"{folder}: writing the CSV files failed ({e.strerror or e})") from None
        raise
    for name, tmp in staged.items():         # committed: put each file in place
        try:
            os.replace(tmp, folder / name)
        except OSError as e:
            raise ModelFileError(f"{folder / name}: could not be put in place ({e.strerror or e}); the "
                                 f"new set is complete in {MANIFEST} and its staged files, and loads "
                                 f"as saved") from None
    fsync_dir(folder)
    if previous is not None:                 # staged files a crashed save left behind
        for entry in previous["files"].values():
            old = folder / entry["staged"]
            if old.name not in (os.path.basename(t) for t in staged.values()) and old.exists():
                old.unlink(missing_ok=True)
    for name in (*CSV_FILES.values(), MANIFEST):   # and those of saves interrupted before a commit
        clean_leftovers(folder / name)


def _staged_name(entry, name: str, where) -> str:
    staged = entry.get("staged", "")
    if not isinstance(staged, str) or os.path.basename(staged) != staged \
            or not staged.startswith(f".{name}."):
        raise ModelFileError(f"{where}: bad staged file name for {name}: {staged!r}")
    return staged


def _read_manifest(folder: Path) -> dict | None:
    """The validated ``digitlab.json`` of a trio (None when there is none)."""
    where = folder / MANIFEST
    if not os.path.lexists(where):
        return None
    d = parse_json(read_bytes(where, 4 * _MAX_TEXT_CHARS, ModelFileError).decode("utf-8", "replace"),
                   where, MANIFEST)
    if not isinstance(d, dict):
        raise ModelFileError(f"{where}: not a JSON object")
    fmt = str(d.get("format", "")).split()
    if len(fmt) != 2 or fmt[0] != _FORMAT or not fmt[1].isdigit() or int(fmt[1]) > _FORMAT_VERSION:
        raise ModelFileError(f"{where}: format {d.get('format')!r} is not one this Digitlab reads "
                             f"({_FORMAT} {_FORMAT_VERSION})")
    config = config_from(d.get("config"), where)
    if config.biases:
        raise ModelFileError(f"{where}: says the model has biases, which the CSV files cannot hold")
    if d.get("dtype") not in ("float32", "float64"):
        raise ModelFileError(f"{where}: 'dtype' must be float32 or float64, not {d.get('dtype')!r}")
    files = d.get("files")
    if not isinstance(files, dict) or set(files) != set(CSV_FILES.values()):
        raise ModelFileError(f"{where}: 'files' must list {', '.join(CSV_FILES.values())}")
    for name, entry in files.items():
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ModelFileError(f"{where}: no valid SHA-256 for {name}")
        _staged_name(entry, name, where)
    temperature = check_temperature(d.get("temperature", 1.0), where)
    return {"config": config, "norm": norm_from(d.get("norm"), where), "dtype": d["dtype"],
            "temperature": float(temperature),
            "record": record_from(d.get("record", {}), where), "files": files}


def _read_verified(folder: Path, name: str, entry: dict) -> bytes:
    """A file of the trio whose SHA-256 is the manifest's: in place, or its staged copy."""
    path = folder / name
    raw = read_bytes(path, MAX_CSV_BYTES, ModelFileError) if os.path.lexists(path) else None
    if raw is not None and _sha256(raw) == entry["sha256"]:
        return raw
    staged = folder / _staged_name(entry, name, folder / MANIFEST)
    if os.path.lexists(staged):
        copy = read_bytes(staged, MAX_CSV_BYTES, ModelFileError)
        if _sha256(copy) == entry["sha256"]:
            return copy
    if raw is None:
        raise ModelFileError(f"{path}: missing file ({MANIFEST} lists it)")
    raise ModelFileError(
        f"{path}: does not match {MANIFEST}: a save into this folder was interrupted, or the file "
        f"was changed since Digitlab saved it. Save the model again, or remove {MANIFEST} to read "
        f"the three files as the article's")


def _load_csv(folder: Path) -> Model:
    manifest = _read_manifest(folder)
    paths = {key: folder / name for key, name in CSV_FILES.items()}
    mats = {}
    for key, path in paths.items():
        if manifest is not None:
            raw = _read_verified(folder, path.name, manifest["files"][path.name])
        elif not os.path.lexists(path):
            raise ModelFileError(f"{path}: missing file (a CSV model needs {', '.join(CSV_FILES.values())})")
        else:
            raw = read_bytes(path, MAX_CSV_BYTES, ModelFileError)
        mats[key] = csvmatrix.parse(raw, path, ModelFileError)
    if manifest is not None:
        config = manifest["config"]
        for key, shape in config.shapes().items():
            if mats[key].shape != shape:
                raise ModelFileError(f"{paths[key]}: shape {mats[key].shape}, {MANIFEST} says {shape}")
        params = {k: v.astype(manifest["dtype"]) for k, v in mats.items()}
        norm, record, temperature = manifest["norm"], manifest["record"], manifest["temperature"]
    else:
        config = _infer_config(mats, paths)
        params, norm, record = mats, article_normalisation(), Record(mode="article", data_source="csv")
        temperature = 1.0
    try:
        return check_loaded(Model(config, params, norm, record, folder.resolve().name or str(folder),
                                  temperature), folder)
    except ValueError as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{folder}: {e}") from None


def _infer_config(mats: dict, paths: dict) -> Config:
    """The article's trio: the configuration from the three shapes (28x28 images, 10 classes)."""
    k, ff = mats["K"].shape
    try:
        f = kernel_side(ff)
    except ValueError:
        raise ModelFileError(f"{paths['K']}: {ff} columns is not a square kernel (f*f)") from None
    if f > _IMAGE_SIZE:
        raise ModelFileError(f"{paths['K']}: {f}x{f} kernels are larger than the 28x28 images")
    P = (_IMAGE_SIZE - f + 1) ** 2
    if mats["W1"].shape[0] != P:
        raise ModelFileError(f"{paths['W1']}: {mats['W1'].shape[0]} rows, expected {P} (one per position "
                             f"of a {f}x{f} kernel: (28-{f}+1)^2)")
    H = mats["W1"].shape[1]
    if mats["W2"].shape != (H, _CLASSES):
        raise ModelFileError(f"{paths['W2']}: shape {mats['W2'].shape[0]} x {mats['W2'].shape[1]}, "
                             f"expected {H} x 10 ({H} hidden neurons in weights_01.csv, 10 classes)")
    return Config(kernels=k, kernel_size=f, hidden=H)
