"""Weight files: Digitlab's ``.npz`` model files and the article's three CSV files.

- ``.npz``: one file with the parameters (``K``, ``W1``, ``W2`` and, with biases,
  ``b1``, ``b2``), the configuration, the normalisation and the training record (JSON
  text), and the model's name. Loaded back exactly.
- CSV trio, as the article's code writes it (pandas ``DataFrame(a).to_csv(path,
  index=False)``: a header line ``0,1,2,...`` then one row a line): ``kernels.csv``
  ``(k, f*f)``, ``weights_01.csv`` ``(P, H)``, ``weights_12.csv`` ``(H, 10)``. The
  configuration is inferred from the shapes; the normalisation is the article's.

Every write is atomic (a temporary file in the same folder, then ``os.replace``); every
fault in a file gives a :class:`ModelFileError` naming the file and the fault.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from .model import Config, Model, Normalisation
from .record import Record, RecordError
from .resources import SHIPPED_MODEL

__all__ = ["ModelFileError", "SHIPPED_MODEL", "CSV_FILES", "ARTICLE_MEAN", "ARTICLE_VARIANCE",
           "article_normalisation", "save_model", "load_model"]


#: The article's three files, by parameter.
CSV_FILES = {"K": "kernels.csv", "W1": "weights_01.csv", "W2": "weights_12.csv"}

# The article's normalisation of its training set, (X - mean) / variance, over the first
# 20,000 images of the full MNIST training set (the Keras / IDX files; pixels 0-255).
# Computed once with:
#   x = np.frombuffer(gzip.open("train-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
#   c = x.reshape(-1, 28, 28)[:20000].astype(np.float64); c.mean(), c.var()
ARTICLE_MEAN = 33.55274553571429
ARTICLE_VARIANCE = 6221.344611913565

_FORMAT = "digitlab-model"
_FORMAT_VERSION = 1
_PARAM_KEYS = ("K", "W1", "W2", "b1", "b2")


class ModelFileError(ValueError):
    """A model file that cannot be read or written; the message names the file and the fault."""


def article_normalisation() -> Normalisation:
    """The article's normalisation for models it trained (first 20,000 MNIST images)."""
    return Normalisation(ARTICLE_MEAN, ARTICLE_VARIANCE, "article")


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------
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


def _record_json(record: dict) -> str:
    return json.dumps(record, default=_json_default)


def _temp(folder: Path, name: str) -> tuple[int, str]:
    """A temporary file beside the target, readable as a normal new file would be.

    ``mkstemp`` creates it with mode 0600; the file that replaces the target gets the
    usual ``0666 & ~umask`` instead.
    """
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, tmp


def save_model(model: Model, path) -> Path:
    """Save a model atomically.

    Parameters
    ----------
    model : Model
    path : str or Path
        Ending in ``.npz``: one Digitlab model file. Anything else: a folder (created if
        needed; the path of one of the three CSV files means its folder) that receives the
        article's ``kernels.csv`` ``(k, f*f)``, ``weights_01.csv`` ``(P, H)`` and
        ``weights_12.csv`` ``(H, 10)``, as pandas ``to_csv(index=False)`` writes them
        (float64 values, exact on reading back).

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
    if path.suffix.lower() == ".npz":
        _save_npz(model, path)
        return path
    folder = path.parent if path.name in CSV_FILES.values() else path
    if model.config.biases:
        raise ModelFileError(
            f"{folder}: the article's CSV files have no place for biases; this model has "
            f"biases, so save it as a .npz file")
    if folder.exists() and not folder.is_dir():
        raise ModelFileError(f"{folder}: exists and is not a folder (the CSV trio needs a folder, "
                             f"or give a name ending in .npz)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelFileError(f"{folder}: cannot create the folder ({e.strerror or e})") from None
    _save_csv(model, folder)
    return folder


def _save_npz(model: Model, path: Path) -> None:
    arrays = {k: np.asarray(v) for k, v in model.params.items()}
    arrays["config"] = np.array(json.dumps(model.config.to_dict()))
    arrays["norm"] = np.array(json.dumps(model.norm.to_dict()))
    arrays["record"] = np.array(_record_json(model.record.to_dict()))
    arrays["name"] = np.array(str(model.name))
    arrays["format"] = np.array(f"{_FORMAT} {_FORMAT_VERSION}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temp(path.parent, path.name)
    except OSError as e:
        raise ModelFileError(f"{path}: cannot write here ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise ModelFileError(f"{path}: writing failed ({e.strerror or e})") from None
        raise


def _save_csv(model: Model, folder: Path) -> None:
    import pandas as pd
    temps: dict[str, str] = {}
    try:
        for key, name in CSV_FILES.items():
            fd, tmp = _temp(folder, name)
            temps[name] = tmp
            with os.fdopen(fd, "w", newline="") as fh:
                pd.DataFrame(np.asarray(model.params[key], dtype=np.float64)).to_csv(fh, index=False)
        for name, tmp in temps.items():
            os.replace(tmp, folder / name)
    except OSError as e:
        raise ModelFileError(f"{folder}: writing the CSV files failed ({e.strerror or e})") from None
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)


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
        A new model. Named after the ``.npz`` file's stem or the CSV folder's name ("shipped
        model" for the shipped one). CSV
        models have float64 parameters, no biases, the article's normalisation and the
        record ``Record(mode="article", data_source="csv")``.

    Raises
    ------
    ModelFileError
        Missing file, not a model file, corrupt zip, missing arrays, bad configuration,
        wrong shapes, text where numbers belong, NaN or infinity, a file cut short, a wrong
        header; the message names the file.
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
    if not path.exists():
        raise ModelFileError(f"{path}: no such file or folder")
    if path.name in CSV_FILES.values():
        return _load_csv(path.parent)
    if path.suffix.lower() == ".npz" or _starts_with(path, b"PK"):
        return _load_npz(path)
    raise ModelFileError(f"{path}: not a model file (expected a .npz file, or a folder with "
                         f"{', '.join(CSV_FILES.values())})")


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def _text(z, key: str, path: Path) -> str:
    a = z[key]
    if a.shape != () or a.dtype.kind != "U":
        raise ModelFileError(f"{path}: '{key}' is not text")
    return str(a[()])


def _json(z, key: str, path: Path):
    try:
        return json.loads(_text(z, key, path))
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{path}: '{key}' is not valid JSON ({e})") from None


def _load_npz(path: Path) -> Model:
    if not _starts_with(path, b"PK"):
        raise ModelFileError(f"{path}: not a .npz (zip) file")
    try:
        with np.load(path, allow_pickle=False) as z:
            files = set(z.files)
            missing = [k for k in ("K", "W1", "W2", "config", "norm") if k not in files]
            if missing:
                raise ModelFileError(f"{path}: missing arrays: {', '.join(missing)}")
            params = {k: z[k] for k in _PARAM_KEYS if k in files}
            config_d = _json(z, "config", path)
            norm_d = _json(z, "norm", path)
            record = _json(z, "record", path) if "record" in files else {}
    except ModelFileError:
        raise
    except EOFError:
        raise ModelFileError(f"{path}: the file is cut short") from None
    except MemoryError:
        raise ModelFileError(f"{path}: declares arrays too large to read") from None
    except Exception as e:      # noqa: BLE001 - zipfile and numpy's header parser raise many
        # types on damaged files (BadZipFile, zlib.error, ValueError, tokenize.TokenError, ...)
        raise ModelFileError(f"{path}: corrupt or not a model file ({type(e).__name__}: {e})") from None

    if not isinstance(config_d, dict):
        raise ModelFileError(f"{path}: 'config' is not a JSON object")
    try:
        config = Config.from_dict(config_d)
    except (ValueError, TypeError, OverflowError) as e:
        raise ModelFileError(f"{path}: bad config values ({e})") from None
    norm = _norm_from(norm_d, path)
    try:
        record = Record.from_dict(record)
    except RecordError as e:
        raise ModelFileError(f"{path}: bad record ({e})") from None
    try:
        return Model(config, params, norm, record, path.stem)
    except ValueError as e:
        raise ModelFileError(f"{path}: {e}") from None


def _norm_from(d, path: Path) -> Normalisation:
    if not isinstance(d, dict):
        raise ModelFileError(f"{path}: 'norm' is not a JSON object")
    try:
        norm = Normalisation.from_dict(d)
    except (KeyError, ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: bad normalisation ({type(e).__name__}: {e})") from None
    if not (math.isfinite(norm.offset) and math.isfinite(norm.scale) and norm.scale > 0):
        raise ModelFileError(f"{path}: bad normalisation (offset {norm.offset}, scale {norm.scale})")
    if norm.kind not in ("article", "standard"):
        raise ModelFileError(f"{path}: unknown normalisation kind {norm.kind!r}")
    return norm


def _read_csv_matrix(path: Path) -> np.ndarray:
    """One of the article's CSV files as a float64 matrix ``(rows, cols)``.

    The format is exactly what pandas ``to_csv(index=False)`` writes: a header
    ``0,1,...,cols-1`` then ``rows`` lines of ``cols`` numbers.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: missing file") from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not a text file") from None
    if "\x00" in text:
        raise ModelFileError(f"{path}: not a text file (holds NUL bytes)")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if not lines:
        raise ModelFileError(f"{path}: empty file")
    ncols = lines[0].count(",") + 1
    expected = ",".join(str(i) for i in range(ncols))
    if lines[0] != expected:
        shown = lines[0] if len(lines[0]) <= 40 else lines[0][:40] + "..."
        raise ModelFileError(f"{path}: line 1 should be the header {expected if ncols <= 6 else '0,1,2,...'}"
                             f" ({ncols} columns), found {shown!r}")
    rows = lines[1:]
    if not rows:
        raise ModelFileError(f"{path}: no rows of numbers after the header")
    counts = np.char.count(np.array(rows, dtype=str), ",") + 1
    bad = np.flatnonzero(counts != ncols)
    if bad.size:
        i = int(bad[0])
        end = " (the file is cut short)" if i == len(rows) - 1 and counts[i] < ncols else ""
        raise ModelFileError(f"{path}: line {i + 2} has {counts[i]} values, the header says {ncols}{end}")
    tokens = np.array(",".join(rows).split(","), dtype=str)
    try:
        values = tokens.astype(np.float64)
    except ValueError:
        for j, tok in enumerate(tokens.tolist()):      # error path only: find the culprit
            try:
                float(tok)
            except ValueError:
                shown = tok if len(tok) <= 20 else tok[:20] + "..."
                raise ModelFileError(f"{path}: line {j // ncols + 2}, column {j % ncols + 1}: "
                                     f"{shown!r} is not a number") from None
        raise ModelFileError(f"{path}: holds text where numbers belong") from None
    if not np.all(np.isfinite(values)):
        j = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ModelFileError(f"{path}: NaN or infinity at line {j // ncols + 2}, column {j % ncols + 1}")
    return values.reshape(len(rows), ncols)


def _load_csv(folder: Path) -> Model:
    paths = {key: folder / name for key, name in CSV_FILES.items()}
    for p in paths.values():
        if not p.is_file():
            raise ModelFileError(f"{p}: missing file (a CSV model needs {', '.join(CSV_FILES.values())})")
    K = _read_csv_matrix(paths["K"])
    k, ff = K.shape
    f = math.isqrt(ff)
    if f * f != ff:
        raise ModelFileError(f"{paths['K']}: {ff} columns is not a square kernel (f*f)")
    if f > 28:
        raise ModelFileError(f"{paths['K']}: {f}x{f} kernels are larger than the 28x28 images")
    W1 = _read_csv_matrix(paths["W1"])
    P = (28 - f + 1) ** 2
    if W1.shape[0] != P:
        raise ModelFileError(f"{paths['W1']}: {W1.shape[0]} rows, expected {P} (one per position "
                             f"of a {f}x{f} kernel: (28-{f}+1)^2)")
    H = W1.shape[1]
    W2 = _read_csv_matrix(paths["W2"])
    if W2.shape != (H, 10):
        raise ModelFileError(f"{paths['W2']}: shape {W2.shape[0]} x {W2.shape[1]}, expected {H} x 10 "
                             f"({H} hidden neurons in weights_01.csv, 10 classes)")
    try:
        config = Config(kernels=k, kernel_size=f, hidden=H)
        return Model(config, {"K": K, "W1": W1, "W2": W2}, article_normalisation(),
                     Record(mode="article", data_source="csv"), folder.resolve().name or str(folder))
    except ValueError as e:
        raise ModelFileError(f"{folder}: {e}") from None
