"""A large view of one kernel above its feature map, with colour bars and values on hover."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .colormaps import signed_cmap, symmetric_levels
from .mosaic import colourise, image_box, rgba_lut

__all__ = ["DetailView"]


class DetailView(QWidget):
    """The selected kernel ``(f, f)`` above its feature map ``(r, r)``, each on
    a diverging scale centred at zero with its colour bar; hovering reads the value under
    the pointer in :attr:`readout`.

    Attributes
    ----------
    kernel, fmap : ndarray or None
        What is shown (None: nothing selected).
    readout : QLabel
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kernel = self.fmap = None
        self.index = -1
        self._cmap = signed_cmap()
        self._lut = rgba_lut(self._cmap)
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setMinimumSize(150, 90)
        self.kernel_vb, self.kernel_item = image_box(self.widget.ci)
        self.kernel_bar = pg.ColorBarItem(values=(-1, 1), colorMap=self._cmap, interactive=False, width=10)
        self.widget.ci.addItem(self.kernel_bar)
        self.widget.ci.nextRow()                  # the map under the kernel (the group is tall)
        self.widget.ci.layout.setVerticalSpacing(18)     # (the bars' end labels would overlap)
        self.map_vb, self.map_item = image_box(self.widget.ci)
        self.map_bar = pg.ColorBarItem(values=(-1, 1), colorMap=self._cmap, interactive=False, width=10)
        self.widget.ci.addItem(self.map_bar)
        self.readout = QLabel("Click a kernel to see it here, large")
        self.readout.setWordWrap(True)
        self.readout.setAlignment(Qt.AlignCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.widget, 1)
        lay.addWidget(self.readout)
        self.widget.scene().sigMouseMoved.connect(self._hover)
        self.clear()

    def clear(self) -> None:
        """Nothing selected."""
        self.kernel = self.fmap = None
        self.index = -1
        for item in (self.kernel_item, self.map_item):
            item.setImage(np.zeros((1, 1, 4), np.uint8), autoLevels=False)
        self.readout.setText("Click a kernel (or its feature map) to see it here, large")

    def show_kernel(self, index: int, kernel: np.ndarray, fmap: np.ndarray | None) -> None:
        """Show kernel ``index`` (0-based): weights ``(f, f)`` and feature map ``(r, r)`` or None."""
        self.index = int(index)
        self.kernel = np.asarray(kernel, dtype=np.float32)
        lo, hi = symmetric_levels(self.kernel)
        self.kernel_item.setImage(colourise(self.kernel, lo, hi, self._lut), autoLevels=False)
        self._fit(self.kernel_vb, self.kernel.shape)
        self.kernel_bar.setLevels((lo, hi))
        self.fmap = None if fmap is None else np.asarray(fmap, dtype=np.float32)
        if self.fmap is None:
            self.map_item.setImage(np.zeros((1, 1, 4), np.uint8), autoLevels=False)
        else:
            lo, hi = symmetric_levels(self.fmap)
            self.map_item.setImage(colourise(self.fmap, lo, hi, self._lut), autoLevels=False)
            self._fit(self.map_vb, self.fmap.shape)
            self.map_bar.setLevels((lo, hi))
        self.readout.setText(f"Kernel {self.index + 1}: weights (top), feature map (bottom). "
                             "Hover to read a value.")

    @staticmethod
    def _fit(vb, shape) -> None:
        vb.setRange(QRectF(0, 0, shape[1], shape[0]), padding=0)

    def value_at(self, which: str, row: int, col: int) -> float | None:
        """The value shown at ``(row, col)`` of ``which`` ("kernel" or "map"), or None."""
        a = self.kernel if which == "kernel" else self.fmap
        if a is None or not (0 <= row < a.shape[0] and 0 <= col < a.shape[1]):
            return None
        return float(a[row, col])

    def describe_at(self, scene_pos) -> str | None:
        """The text the readout shows for the pointer at ``scene_pos``, or None off the images."""
        for which, vb in (("kernel", self.kernel_vb), ("map", self.map_vb)):
            if vb.sceneBoundingRect().contains(scene_pos):
                p = vb.mapSceneToView(scene_pos)
                row, col = int(np.floor(p.y())), int(np.floor(p.x()))
                v = self.value_at(which, row, col)
                if v is not None:
                    name = "weight" if which == "kernel" else "response"
                    return f"Kernel {self.index + 1}, {name} at row {row}, column {col}: {v:+.4f}"
        return None

    def _hover(self, scene_pos) -> None:
        text = self.describe_at(scene_pos)
        if text is not None:
            self.readout.setText(text)
