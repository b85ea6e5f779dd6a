"""The settings of a run as a form, built from :class:`engine.train.recipes.RunSettings`.

One widget per field of the dataclass, chosen by the type of its default (a check box, a
spin box, a list of choices, a line for a path), grouped and labelled from
:data:`FIELDS`. The form starts at the mode's defaults and switching the mode loads the
other mode's defaults (keeping the data and the network), so what it shows is always the
engine's values until the user changes them.
"""
from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLineEdit, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from engine.train.recipes import ARTICLE, LOSSES, MODES, SCHEDULES, SOURCES, RunSettings

__all__ = ["SettingsForm", "FIELDS", "CHOICES", "GROUPS"]

CHOICES = {
    "mode": {"article": "The article's", "backprop": "Backprop"},
    "source": {"auto": "Automatic", "keras": "Keras MNIST", "sample": "Sample (5,000)",
               "local": "File or folder"},
    "loss": {"xent": "cross-entropy", "mse": "squared error"},
    "schedule": {"cosine": "cosine", "step": "step", "constant": "constant"},
}
assert set(CHOICES["mode"]) == set(MODES) and set(CHOICES["source"]) == set(SOURCES)
assert set(CHOICES["loss"]) == set(LOSSES) and set(CHOICES["schedule"]) == set(SCHEDULES)

GROUPS = ("Data", "Training", "Network")

#: name: (group, label, tooltip, range and step, backprop only)
FIELDS = {
    "source": ("Data", "Source", "Automatic: the chosen file or folder, else $DIGITLAB_MNIST, else "
               "Keras's MNIST, else the bundled sample", None, False),
    "path": ("Data", "Path", ".npz file or folder of IDX files", None, False),
    "train": ("Data", "Training images", "Training images used (the first ones); all at the "
              "lowest value", (0, 60000, 1000, 0), False),
    "mode": ("Training", "Mode", "The article's per-image update with its quirks, or true "
             "gradients on mini-batches", None, False),
    "epochs": ("Training", "Iterations", "Iterations (epochs) at most", (1, 10000, 1, 0), False),
    "tol": ("Training", "Stop at error", "Stop when an iteration's error is at or under this "
            "(0: never)", (0.0, 10.0, 0.01, 4), False),
    "alpha": ("Training", "Learning rate", "Learning rate (the backprop mode's peak rate)",
              (1e-6, 1e3, 0.001, 6), False),
    "batch": ("Training", "Batch size", "Images per update", (1, 4096, 1, 0), True),
    "momentum": ("Training", "Momentum", "Momentum of the updates", (0.0, 0.999, 0.05, 3), True),
    "loss": ("Training", "Loss", "What the gradients minimise", None, True),
    "schedule": ("Training", "Rate schedule", "How the learning rate changes over the epochs",
                 None, True),
    "weight_decay": ("Training", "Weight decay", "L2 decay of the weights",
                     (0.0, 1.0, 1e-4, 6), True),
    "augment": ("Training", "Augment", "Shift, rotate and scale the training images a little "
                "each epoch", None, True),
    "dropout": ("Training", "Dropout", "Dropout rate on the hidden layer. The article mode has one "
                "dropout, its own (half the hidden units, per image): any rate above 0 turns it on",
                (0.0, 0.9, 0.1, 2), False),
    "seed": ("Training", "Seed", "Seed of the initial weights and random draws",
             (0, 2**31 - 1, 1, 0), False),
    "float64": ("Training", "Float64", "Train in float64 (float32 otherwise; the article mode "
                "is always float64)", None, True),
    "kernels": ("Network", "Kernels", "Number of convolution kernels", (1, 64, 1, 0), False),
    "kernel_size": ("Network", "Kernel size", "Side of each square kernel", (2, 28, 1, 0), False),
    "hidden": ("Network", "Hidden size", "Neurons in the hidden layer", (1, 2000, 10, 0), False),
    "biases": ("Network", "Biases", "Biases in the dense layers (the article has none)", None, True),
    "collection": ("Data", "My collection", "A personal collection file (.npz) whose drawings join the "
                   "training images (the Teach tab's \"Use in a training run\" fills it in)", None, False),
}
assert set(FIELDS) == {f.name for f in fields(RunSettings)}, "every setting has its widget"

_KEEP_ON_MODE_CHANGE = ("source", "path", "kernels", "kernel_size", "hidden")


class SettingsForm(QWidget):
    """A form for :class:`RunSettings`.

    Parameters
    ----------
    settings : RunSettings
        What it shows first (default: the article's experiment).

    Signals
    -------
    changed()
        The user changed a value.

    Attributes
    ----------
    widgets : dict of str to QWidget
        The widget of each setting, by field name.
    file_button, folder_button, download_button : QToolButton
        Beside the path (the panel connects the download).
    """

    changed = Signal()
    chooseFile = Signal()
    chooseFolder = Signal()

    def __init__(self, settings: RunSettings = ARTICLE, parent=None):
        super().__init__(parent)
        self.widgets: dict[str, QWidget] = {}
        self._none_allowed: set[str] = set()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        forms = {}
        for group in GROUPS:
            box = QGroupBox(group)
            forms[group] = QFormLayout(box)
            forms[group].setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            forms[group].setRowWrapPolicy(QFormLayout.WrapLongRows)     # narrow: fields under labels
            lay.addWidget(box)
        for f in fields(RunSettings):
            group, label, tip, _, _ = FIELDS[f.name]
            w = self._make(f)
            w.setToolTip(tip)
            self.widgets[f.name] = w
            forms[group].addRow(label, w)
            if f.name == "path":
                forms[group].addRow("", self._path_buttons())
        lay.addStretch(1)
        self.set_settings(settings)

    # -- building -------------------------------------------------------------------------
    def _make(self, f) -> QWidget:
        default = getattr(ARTICLE, f.name)
        spec = FIELDS[f.name][3]
        if f.name in CHOICES:
            w = QComboBox()
            for key, text in CHOICES[f.name].items():
                w.addItem(text, key)
            w.currentIndexChanged.connect(lambda _i, n=f.name: self._edited(n))
        elif isinstance(default, bool):
            w = QCheckBox()
            w.toggled.connect(lambda _on, n=f.name: self._edited(n))
        elif isinstance(default, float):
            lo, hi, step, decimals = spec
            w = QDoubleSpinBox()
            w.setDecimals(decimals)
            w.setRange(lo, hi)
            w.setSingleStep(step)
            w.valueChanged.connect(lambda _v, n=f.name: self._edited(n))
        elif spec is not None:                      # whole numbers
            lo, hi, step, _ = spec
            w = QSpinBox()
            w.setRange(lo, hi)
            w.setSingleStep(step)
            w.setGroupSeparatorShown(True)
            if "None" in str(f.type):
                self._none_allowed.add(f.name)
                w.setSpecialValueText("all")
            w.valueChanged.connect(lambda _v, n=f.name: self._edited(n))
        else:                                       # text (the path)
            w = QLineEdit()
            w.setPlaceholderText(FIELDS[f.name][2])
            w.textEdited.connect(lambda _t, n=f.name: self._edited(n))
        return w

    def _path_buttons(self) -> QWidget:
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.file_button = QToolButton()
        self.folder_button = QToolButton()
        self.download_button = QToolButton()
        for b, text in ((self.file_button, "File…"), (self.folder_button, "Folder…"),
                        (self.download_button, "Download")):
            b.setText(text)         # tool buttons: as narrow as their text (the form stays narrow)
        self.file_button.setToolTip("Choose a Keras-layout .npz file")
        self.folder_button.setToolTip("Choose a folder of the four MNIST IDX files")
        self.download_button.setToolTip("Download MNIST through Keras into its cache (about 11 MB)")
        self.file_button.clicked.connect(self.chooseFile)
        self.folder_button.clicked.connect(self.chooseFolder)
        for b in (self.file_button, self.folder_button, self.download_button):
            h.addWidget(b)
        return row

    # -- values ---------------------------------------------------------------------------
    def value(self, name: str):
        """The value the widget of setting ``name`` shows, in the dataclass's type."""
        w = self.widgets[name]
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QDoubleSpinBox):
            return float(w.value())
        if isinstance(w, QSpinBox):
            v = int(w.value())
            return None if name in self._none_allowed and v == w.minimum() else v
        return w.text().strip() or None

    def set_value(self, name: str, value) -> None:
        w = self.widgets[name]
        w.blockSignals(True)
        try:
            if isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(w, QSpinBox):
                w.setValue(w.minimum() if value is None else int(value))
            else:
                w.setText("" if value is None else str(value))
        finally:
            w.blockSignals(False)

    def settings(self) -> RunSettings:
        """The settings shown. Raises ValueError (saying which) if they do not make a run."""
        d = {f.name: self.value(f.name) for f in fields(RunSettings)}
        if d["mode"] == "article":
            d["biases"] = False            # the article has none (the box is disabled)
        return RunSettings(**d)

    def set_settings(self, s: RunSettings) -> None:
        """Show ``s`` (no ``changed`` signal)."""
        for f in fields(RunSettings):
            self.set_value(f.name, getattr(s, f.name))
        self._update_enabled()

    # -- reacting -------------------------------------------------------------------------
    def _edited(self, name: str) -> None:
        if name == "mode":                  # the other mode's defaults, same data and network
            mode = self.value("mode")
            keep = {k: self.value(k) for k in _KEEP_ON_MODE_CHANGE}
            self.set_settings(RunSettings.for_mode(mode).replace(**keep))
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        backprop = self.value("mode") == "backprop"
        for name, spec in FIELDS.items():
            if spec[4]:
                self.widgets[name].setEnabled(backprop)
        epochs = self.widgets["epochs"]
        label = epochs.parentWidget().layout().labelForField(epochs) if epochs.parentWidget() else None
        if label is not None:             # one pass over the training images: an epoch in backprop
            label.setText("Epochs" if backprop else "Iterations")
        local = self.value("source") in ("local", "auto")
        for w in (self.widgets["path"], self.file_button, self.folder_button):
            w.setEnabled(local)

    def set_path(self, path: str) -> None:
        """Train on a local file or folder."""
        self.set_value("path", path)
        self.set_value("source", "local")
        self._update_enabled()
        self.changed.emit()
