"""What the data readers give and raise: :class:`Dataset` (raw MNIST pixels and labels) and
:class:`DataError` / :class:`DownloadError` (a file or source that cannot be used, named)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .safefile import FileFault

__all__ = ["DataError", "DownloadError", "Dataset"]


class DataError(FileFault):
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
