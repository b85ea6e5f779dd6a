"""Digitlab's main window: draw a digit, see what the network reads and how it sees it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QMainWindow,
                               QMessageBox, QPushButton, QScrollArea, QSlider, QSplitter, QStyle,
                               QVBoxLayout, QWidget)

from engine.model import Config, Model
from engine.nondigit import is_digit
from engine.preprocess import to_mnist
from engine.resources import resource

from .canvas import DEFAULT_BRUSH_WIDTH, DrawingCanvas
from .gc_guard import freeze_startup, qt_application
from .docks import add_dock
from .model_owner import ModelOwner
from .preferences import BRUSH_RANGE, MAX_RECENT, Preferences
from .prompts import CANCEL, DISCARD, SAVE, Prompts
from .explain_panel import ExplainPanel
from .help import about_text
from .history import attach_history
from .teach import install_teach
from .training_panel import TrainingPanel
from .views import NetView, PredictionView
from .warmup import WarmUp
from .window_extras import WindowExtras
from .worker import running_threads

__all__ = ["MainWindow", "run", "app_icon", "THROTTLE_MS", "MAX_RECENT"]

THROTTLE_MS = 30
"""At most one classification per this many milliseconds while drawing."""
CSV_TIP = "Save the current model as the article's three CSV files in a folder"
WARMING_UP = "Getting ready to read… draw now: the reading follows"
"""The canvas's foot line until the first reading (the warm-up's compile runs meanwhile)."""
ICON_PATH = resource("digitlab.svg")

pg.setConfigOptions(antialias=True)


def app_icon() -> QIcon:
    """The application icon (resources/digitlab.svg), or an empty icon if it is missing."""
    return QIcon(str(ICON_PATH)) if ICON_PATH.exists() else QIcon()


def _untrained() -> Model:
    return Model.article_init(Config(), np.random.RandomState(0))


class MainWindow(QMainWindow):
    """The main window.

    Parameters
    ----------
    model : engine.model.Model, optional
        The model to start with; by default the last model opened (remembered in the
        settings), else the shipped model, else an untrained one (said in the status bar).
    settings : QSettings, optional
        Where geometry, recent files and options are kept; by default
        ``QSettings("Digitlab", "Digitlab")``.
    prompts : Prompts, optional
        Questions, file choosers and messages (tests give a scripted stand-in).

    Attributes
    ----------
    owner : ModelOwner
        The model that reads the drawing, its path and whether it is saved.
    stop_wait_seconds : float
        How long closing waits for the training thread to stop before quitting without it.

    Signals
    -------
    inputRead(object)
        After each reading: the network's input for the drawing, ``(28, 28)`` float32 in
        [0, 1] (what :meth:`network_input` returned for it).
    """

    inputRead = Signal(object)
    stop_wait_seconds = 5.0

    def __init__(self, model: Model | None = None, settings: QSettings | None = None,
                 prompts: Prompts | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings("Digitlab", "Digitlab")
        self.prefs = Preferences(self.settings)
        self.prompts = prompts or Prompts(self)
        self.owner = ModelOwner(ask=self.prompts.ask_save, save=self._save_dialog, parent=self)
        self.last_input: np.ndarray = np.zeros((28, 28), np.float32)
        self.last_proba: np.ndarray | None = None
        self.last_forward = None
        self._net_pending = None
        self._explained_model = None
        self._explained_drawing = None     # (input, canvas image, preprocess) last sent to the Why? dock
        self.exact_input: np.ndarray | None = None   # a test image put on the canvas, read as it is
        self.warmup = WarmUp(explanations=False)   # (the Why? dock reads its data when first shown)
        self.setWindowIcon(app_icon())
        self._build_drawing()
        self._build_docks()
        self._make_actions()
        self._make_menus()
        self._connect()
        attach_history(self)              # Timeline, Runs, the errors' gallery
        self._restore_layout()
        self.extras = WindowExtras(self)         # revert, layout, theme, help, undo/redo states
        self._first_model(model)
        self.warmup.start(self.owner.model())    # the first reading's compile, off the event loop
        self.canvas.set_notice(WARMING_UP)       # (until the first reading)
        self.canvas.setFocus()

    # ================================================================== construction
    def _build_drawing(self) -> None:
        """The central area: the canvas and its controls | the prediction."""
        self.canvas = DrawingCanvas()
        self.canvas.set_brush_width(self.prefs.brush_width(DEFAULT_BRUSH_WIDTH))
        self.prediction = PredictionView()
        self.preprocess_box = QCheckBox("Preprocess like MNIST")
        self.preprocess_box.setToolTip("Crop to the ink, scale it to a 20-pixel box and centre its centre "
                                       "of mass, as MNIST's digits were made.\nOff: the whole canvas is "
                                       "only shrunk to 28x28.")
        self.brush_slider = QSlider(Qt.Horizontal)
        self.brush_slider.setRange(*BRUSH_RANGE)
        self.brush_slider.setMinimumWidth(60)
        self.brush_slider.setValue(int(round(self.canvas.brush_width())))
        self.brush_slider.setToolTip("Brush width in canvas pixels (the canvas is 280 pixels wide)")
        self.brush_label = QLabel()
        undo_btn, clear_btn = QPushButton("Undo"), QPushButton("Clear")
        undo_btn.setToolTip("Undo the last stroke (Ctrl+Z)")
        clear_btn.setToolTip("Clear the drawing (Delete or Escape)")
        undo_btn.clicked.connect(self.canvas.undo)
        clear_btn.clicked.connect(self.canvas.clear)
        self.brush_slider.valueChanged.connect(self._brush_changed)
        self._brush_changed(self.brush_slider.value())
        controls, buttons = QHBoxLayout(), QHBoxLayout()     # (two rows: the column stays narrow)
        for row, w, stretch in ((controls, QLabel("Brush"), 0), (controls, self.brush_slider, 1),
                                (controls, self.brush_label, 0), (buttons, undo_btn, 1), (buttons, clear_btn, 1)):
            row.addWidget(w, stretch)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 6, 6)
        lv.addWidget(self.canvas, 1)
        lv.addLayout(controls)
        lv.addLayout(buttons)
        lv.addWidget(self.preprocess_box)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.prediction)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)

    def _build_docks(self) -> None:
        """The docks on the right, tabbed: What the net sees, Train (in a scroll area: its
        minimum width must not force the window's), Why? and Teach; the status bar's model label."""
        self.net_view = NetView()
        self.net_dock = add_dock(self, "What the net sees", "netDock", self.net_view)
        self.training_panel = TrainingPanel(self.owner, self.prompts)
        self.train_scroll = QScrollArea()
        self.train_scroll.setWidgetResizable(True)
        self.train_scroll.setFrameShape(QScrollArea.NoFrame)
        self.train_scroll.setWidget(self.training_panel)
        self.train_dock = add_dock(self, "Train", "trainDock", self.train_scroll, tab_with=self.net_dock)
        self.explain_panel = ExplainPanel()
        self.explain_dock = add_dock(self, "Why?", "explainDock", self.explain_panel, tab_with=self.train_dock)
        self.teach_panel, self.teach_dock = install_teach(self)
        self.net_dock.raise_()
        self.status_model = QLabel()
        self.statusBar().addPermanentWidget(self.status_model)

    def _connect(self) -> None:
        self._timer = QTimer(self)            # throttled classification while drawing
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(lambda: self.extras.read_when_ready())
        self.canvas.imageChanged.connect(self._schedule)
        self.canvas.imageChanged.connect(lambda: setattr(self, "exact_input", None))   # drawn on
        self.canvas.strokeFinished.connect(self._stroke_finished)
        self.net_dock.visibilityChanged.connect(lambda visible: visible and self._update_net_view())
        self.explain_dock.visibilityChanged.connect(self._explain_visible)
        self.explain_panel.overlayChanged.connect(self._show_overlay)
        self.explain_panel.attributionChanged.connect(
            lambda m: self.prediction.set_attribution(m if self.explain_dock.isVisible() else None))
        self.preprocess_box.setChecked(self.prefs.preprocess())
        self.act_preprocess.setChecked(self.preprocess_box.isChecked())
        self.preprocess_box.toggled.connect(self.act_preprocess.setChecked)
        self.act_preprocess.toggled.connect(self.preprocess_box.setChecked)
        self.act_preprocess.toggled.connect(lambda _on: self.classify_now())
        self.owner.modelChanged.connect(self._model_changed)
        self.owner.stateChanged.connect(self._update_title)
        self.training_panel.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 10000))

    def _restore_layout(self) -> None:
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        w, h = 1440, 880
        if screen is not None and screen.width() > 0:
            w, h = min(w, int(screen.width() * 0.95)), min(h, int(screen.height() * 0.92))
        self.resize(w, h)
        self._first_show = True
        geom, state = self.prefs.geometry(), self.prefs.window_state()
        if screen is not None and geom is not None and self.prefs.screen() != (screen.width(), screen.height()):
            geom = state = None     # saved on another screen (size or scale): fitted to this one afresh
        if geom is not None:
            self.restoreGeometry(geom)
            if screen is not None and not screen.contains(self.frameGeometry().adjusted(4, 4, -4, -4)):
                geom = state = None                      # does not fit this screen: fitted afresh
        self._geometry_restored = geom is not None
        self._restored = state is not None and self.restoreState(state)

    def _default_layout(self) -> None:
        """Share the width between the drawing (canvas, prediction) and the docks."""
        w = self.width()
        dock = int(min(max(w - 620, 0.45 * w), 0.62 * w))
        dock = self.extras.dock_width(dock)     # at least what the Train tab needs, if it can
        self.resizeDocks([self.net_dock], [dock], Qt.Horizontal)
        self.splitter.setSizes([int((w - dock) * 0.62), int((w - dock) * 0.38)])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._first_show:
            self._first_show = False
            if not self._restored:
                self._default_layout()
            else:          # (the docks' layout is restored, the drawing's split is not saved)
                QTimer.singleShot(0, lambda: self.splitter.setSizes(
                    [int(self.splitter.width() * 0.62), int(self.splitter.width() * 0.38)]))

    # ================================================================== actions / menus
    def _act(self, text, slot, shortcut=None, tip=None, icon=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        a.triggered.connect(lambda _checked=False: slot())
        return a

    def _make_actions(self) -> None:
        act, slider = self._act, self.brush_slider
        self.act_open = act("&Open Model…", self._open_dialog, QKeySequence.Open,
                            "Open a model file (.npz)", QStyle.SP_DialogOpenButton)
        self.act_open_csv = act("Open &CSV Folder…", self._open_csv_dialog, "Ctrl+Shift+O",
                                "Open a folder holding the article's kernels.csv, weights_01.csv "
                                "and weights_12.csv")
        self.act_save = act("&Save Model As…", self._save_dialog, [QKeySequence.SaveAs, QKeySequence("Ctrl+S")],
                            "Save the current model as a .npz file", QStyle.SP_DialogSaveButton)
        self.act_save_csv = act("Save Model as CSV &Folder…", self._save_csv_dialog, None, CSV_TIP)
        self.act_quit = act("&Quit", self.close, QKeySequence.Quit, "Quit Digitlab")
        self.act_undo = act("&Undo Stroke", self.canvas.undo, QKeySequence.Undo, "Undo the last stroke")
        self.act_clear = act("&Clear Drawing", self.canvas.clear, QKeySequence(Qt.Key_Delete),
                             "Clear the drawing (also Escape on the canvas)")
        self.act_thicker = act("&Thicker Brush", lambda: slider.setValue(slider.value() + 2),
                               "Ctrl+]", "Make the brush wider")
        self.act_thinner = act("T&hinner Brush", lambda: slider.setValue(slider.value() - 2),
                               "Ctrl+[", "Make the brush narrower")
        self.act_default_brush = act("&Default Brush", lambda: slider.setValue(int(DEFAULT_BRUSH_WIDTH)),
                                     "Ctrl+0", "Back to the brush width that matches MNIST's strokes")
        self.act_preprocess = QAction("&Preprocess Like MNIST", self)
        self.act_preprocess.setCheckable(True)
        self.act_preprocess.setShortcut(QKeySequence("Ctrl+P"))
        self.act_preprocess.setStatusTip("Crop, scale to 20 pixels and centre the drawing as MNIST's digits were")
        self.act_about = act("&About Digitlab", self._about, None, "Versions and credits")
        self.act_about_qt = act("About &Qt", lambda: QMessageBox.aboutQt(self, "About Qt"))

    def _make_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.setToolTipsVisible(True)          # (why an action is unavailable)
        file_menu.addAction(self.act_open)
        file_menu.addAction(self.act_open_csv)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file_menu.addSeparator()
        for a in (self.act_save, self.act_save_csv, None, self.act_quit):
            file_menu.addAction(a) if a is not None else file_menu.addSeparator()
        edit_menu = mb.addMenu("&Edit")
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_clear)
        view_menu = mb.addMenu("&View")
        for a in (self.act_preprocess, None, self.act_thicker, self.act_thinner, self.act_default_brush, None):
            view_menu.addAction(a) if a is not None else view_menu.addSeparator()
        for dock, key in ((self.net_dock, "Ctrl+1"), (self.train_dock, "Ctrl+2"), (self.explain_dock, "Ctrl+3")):
            a = dock.toggleViewAction()
            a.setShortcut(QKeySequence(key))
            view_menu.addAction(a)
        self.teach_dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+4"))
        view_menu.addAction(self.teach_dock.toggleViewAction())
        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.act_about)
        help_menu.addAction(self.act_about_qt)

    def _about(self) -> None:
        QMessageBox.about(self, "About Digitlab", about_text())

    # ================================================================== the model
    def current_model(self) -> Model:
        """The model used for drawing (not a live training snapshot)."""
        return self.owner.model()

    def view_model(self) -> Model:
        """The model that reads the drawing: a live snapshot while training, else the current one."""
        return self.owner.view_model()

    def model_path(self) -> str | None:
        return self.owner.path()

    def is_model_unsaved(self) -> bool:
        return self.owner.is_unsaved()

    def _first_model(self, model: Model | None) -> None:
        if model is not None:
            self.owner.set_model(model)
            self.statusBar().showMessage("Draw a digit on the canvas", 8000)
            return
        last = self.prefs.last_model()
        if last:
            try:
                from engine import modelfile
                self.owner.set_model(self._checked(modelfile.load_model(last)), path=last)
                self.statusBar().showMessage(f"Opened {last}", 8000)
                return
            except Exception as e:     # noqa: BLE001 - fall back to the shipped model
                self.statusBar().showMessage(f"Could not reopen {last}: {e}", 15000)
        try:
            import engine
            self.owner.set_model(self._checked(engine.load_model()), shipped=True)
        except Exception as e:         # noqa: BLE001 - any failure: an untrained model, said so
            self.owner.set_model(_untrained())
            self.statusBar().showMessage(
                "No shipped model: using an UNTRAINED network — open a model (Ctrl+O) or train one", 0)
            self.statusBar().setToolTip(f"The shipped model could not be loaded: {e}")
            return
        self.statusBar().showMessage("Shipped model loaded: draw a digit on the canvas", 8000)

    @staticmethod
    def _checked(model: Model) -> Model:
        from .model_owner import check_model
        check_model(model)
        return model

    def _update_title(self) -> None:
        m, o = self.owner.model(), self.owner
        if m is None:
            return
        name = Path(o.path()).name if o.path() and not o.is_shipped() else (m.name or "unnamed model")
        parts = name.split(" + ")                   # ("+ my handwriting" once, however often tuned)
        name = " + ".join(p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1])
        acc = m.record.argmax_accuracy
        title = f"{name}{f' ({acc:.2f}% test accuracy)' if acc is not None else ''}[*] — Digitlab"
        if title != self.windowTitle():            # (snapshots arrive a few times a second)
            self.setWindowTitle(title)
        self.setWindowModified(o.is_unsaved())
        c = o.view_model().config
        text = f"{c.kernels} kernels {c.kernel_size}x{c.kernel_size}, hidden {c.hidden}"
        if o.is_training():
            text = "in training: " + text
        elif o.is_unsaved():
            text += " · unsaved"
        if text != self.status_model.text():
            self.status_model.setText(text)
        csv_ok = not m.config.biases                # the article's CSV trio has no place for biases
        if self.act_save_csv.isEnabled() != csv_ok:
            tip = (CSV_TIP if csv_ok else "Not for this model: it has biases, and the article's three "
                   "CSV files have no place for them (File ▸ Save Model As… keeps it whole as .npz)")
            self.act_save_csv.setEnabled(csv_ok)
            self.act_save_csv.setToolTip(tip)
            self.act_save_csv.setStatusTip(tip)
        if self.act_open.isEnabled() == o.is_training():
            for a in (self.act_open, self.act_open_csv, self.recent_menu.menuAction()):
                a.setEnabled(not o.is_training())     # a run would replace what is opened

    def _model_changed(self, _model) -> None:
        self._update_title()
        self.extras.read_when_ready()

    def open_model(self, path) -> bool:
        """Open a model file (.npz) or CSV folder, asking first if the current model is unsaved.
        All or nothing: on failure the current model stays and an error names the file."""
        path = str(path)
        if self.owner.is_training():
            self.prompts.error("Cannot open model", "A run is training: stop it before opening a model.")
            return False
        try:
            from engine import modelfile
            model = modelfile.load_model(path)
            if not self.owner.replace(model, path=path, question=f"Open {Path(path).name} anyway?"):
                return False
        except Exception as e:         # noqa: BLE001 - every failure is reported the same way
            self.prompts.error("Cannot open model", f"Could not open {path}:\n{e}")
            return False
        self.prefs.remember(path)
        self.statusBar().showMessage(f"Opened {path}", 8000)
        return True

    def save_model(self, path) -> bool:
        """Save the current model (``.npz`` file, or a folder for the article's CSV files);
        on failure show an error. Returns whether it saved."""
        path = str(path)
        try:
            from engine import modelfile
            modelfile.save_model(self.owner.model(), path)
        except Exception as e:         # noqa: BLE001
            self.prompts.error("Cannot save model", f"Could not save the model to {path}:\n{e}")
            return False
        self.owner.mark_saved(path)
        self.prefs.remember(path)
        self.statusBar().showMessage(f"Saved {path}", 8000)
        return True

    def recent_files(self) -> list[str]:
        return self.prefs.recent_files()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for i, p in enumerate(recent):
            a = self.recent_menu.addAction(f"&{i + 1} {p}")
            a.setToolTip(p)
            a.triggered.connect(lambda _checked=False, p=p: self.open_model(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", self.prefs.clear_recent)

    def _open_dialog(self) -> bool:
        path = self.prompts.open_file("Open model", self.prefs.start_dir(),
                                      "Digitlab models (*.npz);;All files (*)")
        if not path:
            return False
        self.prefs.set_start_dir(str(Path(path).parent))
        return self.open_model(path)

    def _open_csv_dialog(self) -> bool:
        path = self.prompts.folder("Open the article's CSV folder", self.prefs.start_dir())
        if not path:
            return False
        self.prefs.set_start_dir(path)
        return self.open_model(path)

    def _save_dialog(self) -> bool:
        start = str(Path(self.prefs.start_dir()) / f"{self.owner.model().name or 'model'}.npz")
        path = self.prompts.save_file("Save model as", start, "Digitlab models (*.npz)")
        if not path:
            return False
        if not path.lower().endswith(".npz"):
            path += ".npz"           # the dialog checked the name without it: ask here
            if os.path.exists(path) and not self.prompts.confirm(
                    "Replace the file?", f"{path} already exists. Replace it?"):
                return False
        self.prefs.set_start_dir(str(Path(path).parent))
        return self.save_model(path)

    def _save_csv_dialog(self) -> bool:
        from engine.modelfile import CSV_FILES
        path = self.prompts.folder("Save the model's CSV files in folder (a new one: Create New Folder)",
                                   self.prefs.start_dir())
        if not path:
            return False
        there = [n for n in CSV_FILES.values() if os.path.exists(os.path.join(path, n))]
        if there and not self.prompts.confirm(
                "Replace the files?", f"{path} already holds {', '.join(there)}. Replace them?"):
            return False
        self.prefs.set_start_dir(path)
        return self.save_model(path)

    # ================================================================== classification
    def _brush_changed(self, value: int) -> None:
        self.canvas.set_brush_width(value)
        self.brush_label.setText(f"{value:>2} px")
        self.prefs.set_brush_width(value)

    @Slot()
    def _schedule(self) -> None:
        # at most one classification per THROTTLE_MS while drawing: the first change
        # starts the timer, later ones wait for it
        if not self._timer.isActive():
            self._timer.start()

    def _stroke_finished(self) -> None:
        self._timer.stop()
        self.extras.read_when_ready()

    def network_input(self) -> np.ndarray:
        """The 28x28 image the network receives for the current drawing, float32 in [0, 1]
        (a test image put on the canvas from the errors' gallery: that image as it is)."""
        if self.exact_input is not None:
            return self.exact_input
        return to_mnist(self.canvas.image(), preprocess=self.act_preprocess.isChecked())

    @Slot()
    def classify_now(self) -> None:
        """Classify the drawing once with the model that reads it and update every view.

        While a run trains this model is a snapshot copy: the arrays being trained are
        never read here."""
        self._timer.stop()
        model = self.owner.view_model()
        if model is None:
            return
        self.warmup.wait()
        self.canvas.set_notice(None)
        x = self.network_input()
        empty = not np.any(x > 0)
        fwd = model.see(x)
        self.last_input = x
        self.last_forward = fwd
        self.last_proba = None if empty else fwd.proba[0]
        digit = empty or self.exact_input is not None or bool(is_digit(model, x[None], fwd)[0])
        self.prediction.update_prediction(fwd.proba[0], x, empty, digit)
        self._net_pending = (model, fwd, empty)
        self.extras.reading_changed(x, None if empty else fwd.proba[0])
        self.inputRead.emit(x)
        if self.net_view.isVisible():          # hidden (other tab, closed dock): update when shown
            self._update_net_view()
        self.training_panel.show_reading(self.last_proba)
        if self.extras.explain_shown():        # explanations only while their dock shows
            self._explain(force=False)

    # ================================================================== explanations
    def _explain(self, force: bool = True) -> None:
        """Send the current model (not a live training snapshot) and the drawing to the
        explanations panel, which computes off the GUI thread. ``force`` False: only if
        the model or the drawing changed since last sent (a training snapshot or a step
        of the timeline reads the drawing again, but explains nothing new)."""
        model = self.owner.model()
        img, pre = self.canvas.image(), self.act_preprocess.isChecked()
        sent = self._explained_drawing
        if (not force and model is self._explained_model and sent is not None and sent[2] == pre
                and np.array_equal(sent[0], self.last_input) and np.array_equal(sent[1], img)):
            return
        if model is not None and model is not self._explained_model:
            self._explained_model = model
            self.explain_panel.set_model(model)
        self._explained_drawing = (self.last_input, img, pre)
        self.explain_panel.set_drawing(self.last_input, img, pre)

    def _explain_visible(self, visible: bool) -> None:
        if visible:       # (checked once the docks are laid out: a tab behind another is not shown)
            QTimer.singleShot(0, lambda: self.extras.explain_shown() and self._explain())
        else:
            self.canvas.set_overlay(None)
            self.prediction.set_attribution(None)

    def _show_overlay(self, rgba) -> None:
        self.canvas.set_overlay(rgba if self.explain_dock.isVisible() else None)

    def _update_net_view(self) -> None:
        if self._net_pending is not None:
            self.net_view.update_views(*self._net_pending)
            self._net_pending = None

    # ================================================================== closing
    def _may_close(self) -> bool:
        """Ask first (save, discard, cancel); only then stop a run, waiting a bounded time."""
        tp, answer = self.training_panel, DISCARD
        if tp.is_training():
            answer = self.prompts.ask_save("A run is training.", "Stop it and save the model "
                                           "trained so far before quitting?")
        elif self.owner.is_unsaved():
            answer = self.prompts.ask_save(f"The trained model ({self.owner.model().name}) has "
                                           "not been saved.", "Save it before quitting?")
        if answer == CANCEL:
            return False
        if tp.is_busy():
            tp.quiet = True
            tp.stop()                          # says "stopping…" in the panel
            self.statusBar().showMessage("stopping training…")
            self.statusBar().repaint()         # seen during the wait below
            tp.progress_bar.repaint()
            if not tp.shutdown(self.stop_wait_seconds):
                self.prompts.note("Quitting", f"Training did not stop within {self.stop_wait_seconds:g} s "
                                  "(it is loading data or compiling); Digitlab quits without waiting for it.")
                return True
        if answer == SAVE and self.owner.is_unsaved() and not self._save_dialog():
            tp.quiet = False
            return False
        return True

    def closeEvent(self, event) -> None:
        if not self._may_close():
            event.ignore()
            return
        avail = self.screen().availableGeometry() if self.screen() is not None else None
        self.prefs.save_window(self.saveGeometry(), self.saveState(), self.act_preprocess.isChecked(),
                               None if avail is None else (avail.width(), avail.height()))
        self.explain_panel.shutdown()
        self.gallery_wiring.shutdown()
        self.runs_view.shutdown()
        self.teach_panel.shutdown(self.stop_wait_seconds)
        if not self.training_panel.is_busy():  # (busy: it could not stop, said in _may_close)
            self.training_panel.shutdown(self.stop_wait_seconds)     # the idle thread quits
        event.accept()


def run(argv=None, window: MainWindow | None = None) -> int:
    """Start the application with the main window; returns the exit status.

    ``window``: the window to show (scripts and tests), else a new :class:`MainWindow`.
    When the window closed while a job that cannot be interrupted still runs (a data
    load, a first compile), its thread cannot be stopped, and Qt aborts a process that
    destroys a running thread: the process then ends here, with ``os._exit``, once the
    settings are written.
    """
    argv = list(sys.argv if argv is None else argv) or ["digitlab"]
    app = qt_application(argv)     # cyclic garbage is collected on this thread only
    app.setApplicationName("Digitlab")
    app.setOrganizationName("Digitlab")
    app.setWindowIcon(app_icon())
    if window is None:
        window = MainWindow()
    window.show()                  # at once: the canvas takes strokes, the reading follows the warm-up
    QTimer.singleShot(0, freeze_startup)   # after the first paint: later collections skip what lives
                                           # as long as the window
    status = app.exec()
    if running_threads():
        window.settings.sync()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
