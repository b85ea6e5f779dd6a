"""NumPy arrays as QImages: the one conversion every view uses."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

__all__ = ["gray_qimage", "rgba_qimage"]


def gray_qimage(image01: np.ndarray) -> QImage:
    """A copy of ``image01`` ``(h, w)`` in [0, 1] (values outside are clipped) as a
    grayscale QImage."""
    a = np.ascontiguousarray(np.clip(np.asarray(image01) * 255.0 + 0.5, 0, 255).astype(np.uint8))
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()


def rgba_qimage(rgba: np.ndarray) -> QImage:
    """A copy of an RGBA array ``(h, w, 4)`` uint8 (straight alpha) as a QImage, ready for
    ``QPainter.drawImage`` (e.g. scaled to the canvas's target rectangle)."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()
