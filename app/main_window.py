"""Digitlab's main window: draw a digit, see what the network reads and how it sees it."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QDockWidget, QFileDialog, QHBoxLayout,
                               QLabel, QMainWindow, QMessageBox, QPushButton, QScrollArea, QSlider, QSplitter,
                               QStyle, QVBoxLayout, QWidget)

from engine.model import Config, Model
from engine.preprocess import to_mnist
from engine.resources import resource

from .canvas import DEFAULT_BRUSH_WIDTH, DrawingCanvas
from .training_panel import TrainingPanel
from .views import NetView, PredictionView

__all__ = ["MainWindow", "run", "app_icon", "THROTTLE_MS", "MAX_RECENT"]

THROTTLE_MS = 30
"""At most one classification per this many milliseconds while drawing."""
MAX_RECENT = 8
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
    """

    def __init__(self, model: Model | None = None, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings("Digitlab", "Digitlab")
        self._model: Model | None = None
        self._model_path: str | None = None
        self._unsaved = False
        self._live: Model | None = None          # snapshot from a running training, if any
        self.last_input: np.ndarray = np.zeros((28, 28), np.float32)
        self.last_proba: np.ndarray | None = None
        self.last_forward = None
        self.setWindowIcon(app_icon())

        # -- central: canvas and its controls | prediction -------------------------
        self.canvas = DrawingCanvas()
        self.canvas.set_brush_width(float(self.settings.value("brushWidth", DEFAULT_BRUSH_WIDTH)))
        self.prediction = PredictionView()
        self.preprocess_box = QCheckBox("Preprocess like MNIST")
        self.preprocess_box.setToolTip("Crop to the ink, scale it to a 20-pixel box and centre its centre "
                                       "of mass, as MNIST's digits were made.\nOff: the whole canvas is "
                                       "only shrunk to 28x28.")
        self.brush_slider = QSlider(Qt.Horizontal)
        self.brush_slider.setRange(4, 60)
        self.brush_slider.setMinimumWidth(90)
        self.brush_slider.setValue(int(round(self.canvas.brush_width())))
        self.brush_slider.setToolTip("Brush width in canvas pixels (the canvas is 280 pixels wide)")
        self.brush_label = QLabel()
        undo_btn = QPushButton("Undo")
        clear_btn = QPushButton("Clear")
        undo_btn.setToolTip("Undo the last stroke (Ctrl+Z)")
        clear_btn.setToolTip("Clear the drawing (Delete or Escape)")
        undo_btn.clicked.connect(self.canvas.undo)
        clear_btn.clicked.connect(self.canvas.clear)
        self.brush_slider.valueChanged.connect(self._brush_changed)
        self._brush_changed(self.brush_slider.value())

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Brush"))
        controls.addWidget(self.brush_slider, 1)
        controls.addWidget(self.brush_label)
        controls.addWidget(undo_btn)
        controls.addWidget(clear_btn)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 6, 6)
        lv.addWidget(self.canvas, 1)
        lv.addLayout(controls)
        lv.addWidget(self.preprocess_box)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.prediction)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)

        # -- docks: what the net sees, training ------------------------------------
        self.net_view = NetView()
        self.net_dock = QDockWidget("What the net sees", self)
        self.net_dock.setObjectName("netDock")
        self.net_dock.setWidget(self.net_view)
        self.addDockWidget(Qt.RightDockWidgetArea, self.net_dock)
        self.training_panel = TrainingPanel()
        self.train_dock = QDockWidget("Train", self)
        self.train_dock.setObjectName("trainDock")
        # in a scroll area: the panel's own minimum width must not force the window's
        self.train_scroll = QScrollArea()
        self.train_scroll.setWidgetResizable(True)
        self.train_scroll.setFrameShape(QScrollArea.NoFrame)
        self.train_scroll.setWidget(self.training_panel)
        self.train_dock.setWidget(self.train_scroll)
        self.addDockWidget(Qt.RightDockWidgetArea, self.train_dock)
        self.tabifyDockWidget(self.net_dock, self.train_dock)
        self.net_dock.raise_()

        # -- throttled classification ----------------------------------------------
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self.classify_now)
        self.canvas.imageChanged.connect(self._schedule)
        self.canvas.strokeFinished.connect(self._stroke_finished)
        self._net_pending = None
        self.net_dock.visibilityChanged.connect(lambda visible: visible and self._update_net_view())

        self._make_actions()
        self._make_menus()
        self.preprocess_box.setChecked(self.settings.value("preprocess", True, type=bool))
        self.act_preprocess.setChecked(self.preprocess_box.isChecked())
        self.preprocess_box.toggled.connect(self.act_preprocess.setChecked)
        self.act_preprocess.toggled.connect(self.preprocess_box.setChecked)
        self.act_preprocess.toggled.connect(lambda _on: self.classify_now())

        tp = self.training_panel
        tp.liveModel.connect(self._live_model)
        tp.modelTrained.connect(self._model_trained)
        tp.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 10000))
        if hasattr(tp, "trainingStopped"):
            tp.trainingStopped.connect(self._training_stopped)

        self.status_model = QLabel()
        self.statusBar().addPermanentWidget(self.status_model)
        self._default_size()
        geom = self.settings.value("geometry")
        if isinstance(geom, QByteArray) and not geom.isEmpty():
            self.restoreGeometry(geom)
        state = self.settings.value("windowState")
        self._restored = False
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._restored = self.restoreState(state)

        # -- the starting model --------------------------------------------------------
        if model is not None:
            self._set_model(model, None, unsaved=False)
            self.statusBar().showMessage("Draw a digit on the canvas", 8000)
        else:
            self._load_initial_model()
        self.canvas.setFocus()

    def _default_size(self) -> None:
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        w, h = 1440, 880
        if screen is not None and screen.width() > 0:
            w, h = min(w, int(screen.width() * 0.95)), min(h, int(screen.height() * 0.92))
        self.resize(w, h)
        self._first_show = True

    def _default_layout(self) -> None:
        """Share the width between the drawing (canvas, prediction) and the docks."""
        w = self.width()
        dock = int(min(max(w - 620, 0.45 * w), 0.62 * w))
        self.resizeDocks([self.net_dock], [dock], Qt.Horizontal)
        self.splitter.setSizes([int((w - dock) * 0.62), int((w - dock) * 0.38)])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._first_show:
            self._first_show = False
            if not self._restored:
                self._default_layout()

    # ================================================================== actions / menus
    def _make_actions(self) -> None:
        st = self.style()

        def act(text, slot, shortcut=None, tip=None, icon=None):
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
            if tip:
                a.setStatusTip(tip)
                a.setToolTip(tip)
            if icon is not None:
                a.setIcon(st.standardIcon(icon))
            a.triggered.connect(slot)
            return a

        self.act_open = act("&Open Model…", self._open_dialog, QKeySequence.Open,
                            "Open a model file (.npz)", QStyle.SP_DialogOpenButton)
        self.act_open_csv = act("Open &CSV Folder…", self._open_csv_dialog, "Ctrl+Shift+O",
                                "Open a folder holding the article's kernels.csv, weights_01.csv "
                                "and weights_12.csv")
        self.act_save = act("&Save Model As…", self._save_dialog, [QKeySequence.SaveAs, QKeySequence("Ctrl+S")],
                            "Save the current model as a .npz file", QStyle.SP_DialogSaveButton)
        self.act_save_csv = act("Save Model as CSV &Folder…", self._save_csv_dialog, None,
                                "Save the current model as the article's three CSV files in a folder")
        self.act_quit = act("&Quit", self.close, QKeySequence.Quit, "Quit Digitlab")
        self.act_undo = act("&Undo Stroke", self.canvas.undo, QKeySequence.Undo, "Undo the last stroke")
        self.act_clear = act("&Clear Drawing", self.canvas.clear, QKeySequence(Qt.Key_Delete),
                             "Clear the drawing (also Escape on the canvas)")
        self.act_thicker = act("&Thicker Brush", lambda: self.brush_slider.setValue(self.brush_slider.value() + 2),
                               "Ctrl+]", "Make the brush wider")
        self.act_thinner = act("T&hinner Brush", lambda: self.brush_slider.setValue(self.brush_slider.value() - 2),
                               "Ctrl+[", "Make the brush narrower")
        self.act_default_brush = act("&Default Brush", lambda: self.brush_slider.setValue(int(DEFAULT_BRUSH_WIDTH)),
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
        file_menu.addAction(self.act_open)
        file_menu.addAction(self.act_open_csv)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_csv)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        edit_menu = mb.addMenu("&Edit")
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_clear)

        view_menu = mb.addMenu("&View")
        view_menu.addAction(self.act_preprocess)
        view_menu.addSeparator()
        view_menu.addAction(self.act_thicker)
        view_menu.addAction(self.act_thinner)
        view_menu.addAction(self.act_default_brush)
        view_menu.addSeparator()
        a = self.net_dock.toggleViewAction()
        a.setShortcut(QKeySequence("Ctrl+1"))
        view_menu.addAction(a)
        a = self.train_dock.toggleViewAction()
        a.setShortcut(QKeySequence("Ctrl+2"))
        view_menu.addAction(a)

        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.act_about)
        help_menu.addAction(self.act_about_qt)

    # ================================================================== models
    def current_model(self) -> Model:
        """The model used for drawing (not a live training snapshot)."""
        return self._model

    def view_model(self) -> Model:
        """The model the views show: a live training snapshot while training, else the current one."""
        return self._live if self._live is not None else self._model

    def model_path(self) -> str | None:
        """The file the current model came from or was saved to (None if unsaved or shipped)."""
        return self._model_path

    def is_model_unsaved(self) -> bool:
        return self._unsaved

    def _load_initial_model(self) -> None:
        last = self.settings.value("lastModel", "", type=str)
        if last and os.path.exists(last):
            try:
                from engine import modelfile
                self._set_model(modelfile.load_model(last), last, unsaved=False)
                self.statusBar().showMessage(f"Opened {last}", 8000)
                return
            except Exception as e:     # noqa: BLE001 - fall back to the shipped model
                self.statusBar().showMessage(f"Could not reopen {last}: {e}", 15000)
        try:
            import engine
            model = engine.load_model()
        except Exception as e:         # noqa: BLE001 - any failure: an untrained model, said so
            self._set_model(_untrained(), None, unsaved=False)
            self.statusBar().showMessage(
                "No shipped model: using an UNTRAINED network — open a model (Ctrl+O) or train one", 0)
            self.statusBar().setToolTip(f"The shipped model could not be loaded: {e}")
            return
        self._set_model(model, None, unsaved=False)
        self.statusBar().showMessage("Shipped model loaded: draw a digit on the canvas", 8000)

    def _set_model(self, model: Model, path: str | None, unsaved: bool) -> None:
        self._model = model
        self._model_path = path
        self._unsaved = unsaved
        self._live = None
        self._update_title()
        self.training_panel.set_model(model)
        self.classify_now()

    def _update_title(self) -> None:
        m = self._model
        self.setWindowTitle(f"{m.title}[*] — Digitlab")
        self.setWindowModified(self._unsaved)
        self._update_status_model()

    def _update_status_model(self) -> None:
        """The permanent status-bar text: the architecture of the model the drawing is read by."""
        c = self.view_model().config
        text = f"{c.kernels} kernels {c.kernel_size}x{c.kernel_size}, hidden {c.hidden}"
        if self._live is not None:
            text = "in training: " + text
        elif self._unsaved:
            text += " · unsaved"
        if text != self.status_model.text():
            self.status_model.setText(text)

    def open_model(self, path) -> bool:
        """Open a model file (.npz) or CSV folder; on failure show an error and keep the
        current model. Returns whether it opened."""
        path = str(path)
        try:
            from engine import modelfile
            model = modelfile.load_model(path)
        except Exception as e:         # noqa: BLE001 - every failure is reported the same way
            self._show_error("Cannot open model", f"Could not open {path}:\n{e}")
            return False
        self._set_model(model, path, unsaved=False)
        self._remember(path)
        self.statusBar().showMessage(f"Opened {path}", 8000)
        return True

    def save_model(self, path) -> bool:
        """Save the current model (``.npz`` file, or a folder for the article's CSV files);
        on failure show an error. Returns whether it saved."""
        path = str(path)
        try:
            from engine import modelfile
            modelfile.save_model(self._model, path)
        except Exception as e:         # noqa: BLE001
            self._show_error("Cannot save model", f"Could not save the model to {path}:\n{e}")
            return False
        self._model_path = path
        self._unsaved = False
        self.training_panel.mark_saved()
        self._update_title()
        self._remember(path)
        self.statusBar().showMessage(f"Saved {path}", 8000)
        return True

    def _remember(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recentModels", recent[:MAX_RECENT])
        self.settings.setValue("lastModel", path)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recentModels", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or [])]

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for i, p in enumerate(recent):
            a = self.recent_menu.addAction(f"&{i + 1} {p}")
            a.setToolTip(p)
            a.triggered.connect(lambda _checked=False, p=p: self.open_model(p))
        if not recent:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", lambda: self.settings.setValue("recentModels", []))

    def _start_dir(self) -> str:
        return self.settings.value("lastDir", str(Path.home()), type=str)

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._start_dir(),
                                              "Digitlab models (*.npz);;All files (*)")
        if path:
            self.settings.setValue("lastDir", str(Path(path).parent))
            self.open_model(path)

    def _open_csv_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open the article's CSV folder", self._start_dir())
        if path:
            self.settings.setValue("lastDir", path)
            self.open_model(path)

    def _save_dialog(self) -> bool:
        start = str(Path(self._start_dir()) / f"{self._model.name or 'model'}.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Save model as", start, "Digitlab models (*.npz)")
        if not path:
            return False
        if not path.lower().endswith(".npz"):
            path += ".npz"
        self.settings.setValue("lastDir", str(Path(path).parent))
        return self.save_model(path)

    def _save_csv_dialog(self) -> bool:
        path = QFileDialog.getExistingDirectory(self, "Save the model's CSV files in folder", self._start_dir())
        if not path:
            return False
        self.settings.setValue("lastDir", path)
        return self.save_model(path)

    # ================================================================== dialogs (patchable)
    def _show_error(self, title: str, text: str) -> None:
        """Tell the user something failed (a modal message box; tests replace this)."""
        QMessageBox.critical(self, title, text)

    def _ask_save_changes(self) -> str:
        """Ask whether to save the unsaved trained model: "save", "discard" or "cancel"."""
        box = QMessageBox(QMessageBox.Warning, "Unsaved model",
                          "The trained model has not been saved.", parent=self)
        box.setInformativeText("Save it before quitting?")
        box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def _about(self) -> None:
        QMessageBox.about(self, "About Digitlab", about_text())

    # ================================================================== classification
    def _brush_changed(self, value: int) -> None:
        self.canvas.set_brush_width(value)
        self.brush_label.setText(f"{value:>2} px")
        self.settings.setValue("brushWidth", value)

    @Slot()
    def _schedule(self) -> None:
        # Coalesce: at most one classification per THROTTLE_MS while drawing; the first
        # change starts the timer, later ones wait for it.
        if not self._timer.isActive():
            self._timer.start()

    def _stroke_finished(self) -> None:
        self._timer.stop()
        self.classify_now()

    def network_input(self) -> np.ndarray:
        """The 28x28 image the network receives for the current drawing, float32 in [0, 1]."""
        return to_mnist(self.canvas.image(), preprocess=self.act_preprocess.isChecked())

    @Slot()
    def classify_now(self) -> None:
        """Classify the drawing now and update every view (prediction, maps)."""
        self._timer.stop()
        model = self.view_model()
        if model is None:
            return
        x = self.network_input()
        empty = not np.any(x > 0)
        fwd = model.see(x)
        self.last_input = x
        self.last_forward = fwd
        self.last_proba = None if empty else fwd.proba[0]
        self.prediction.update_prediction(fwd.proba[0], x, empty)
        self._net_pending = (model, fwd)
        if self.net_view.isVisible():          # hidden (other tab, closed dock): update when shown
            self._update_net_view()
        self.training_panel.set_probe(None if empty else x)

    def _update_net_view(self) -> None:
        if self._net_pending is not None:
            self.net_view.update_views(*self._net_pending)
            self._net_pending = None

    # ================================================================== training
    def _live_model(self, model) -> None:
        self._live = model
        self._update_status_model()
        self.classify_now()

    def _model_trained(self, model) -> None:
        self._set_model(model, None, unsaved=True)
        self.statusBar().showMessage("Training finished: the trained model is now used for drawing "
                                     "(not saved yet — File ▸ Save Model As…)", 15000)

    def _training_stopped(self) -> None:
        if self._live is not None:
            self._live = None
            self._update_status_model()
            self.classify_now()

    # ================================================================== closing
    def closeEvent(self, event) -> None:
        tp = self.training_panel
        was_training = tp.is_training()
        tp.shutdown()                      # always: ends the worker thread (cheap when idle)
        if was_training:
            QApplication.processEvents()   # let a final modelTrained arrive
        if tp.has_unsaved_model() or self._unsaved:
            answer = self._ask_save_changes()
            if answer == "cancel" or (answer == "save" and not self._save_dialog()):
                event.ignore()
                return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.setValue("preprocess", self.act_preprocess.isChecked())
        self.settings.sync()
        event.accept()


def about_text() -> str:
    """The About box's text: what Digitlab is and the versions it runs with."""
    import PySide6
    from PySide6.QtCore import qVersion
    import engine
    return (
        "<h3>Digitlab</h3>"
        "<p>Draw a digit and watch a small convolutional network — written from scratch in "
        "NumPy after an article — read it, and see what each of its kernels sees.</p>"
        "<table>"
        f"<tr><td>Digitlab</td><td>{engine.__version__}</td></tr>"
        f"<tr><td>Python</td><td>{platform.python_version()}</td></tr>"
        f"<tr><td>Qt</td><td>{qVersion()}</td></tr>"
        f"<tr><td>PySide6</td><td>{PySide6.__version__}</td></tr>"
        f"<tr><td>pyqtgraph</td><td>{pg.__version__}</td></tr>"
        f"<tr><td>NumPy</td><td>{np.__version__}</td></tr>"
        "</table>")


def run(argv=None) -> int:
    """Start the application with the main window; returns the exit status."""
    argv = list(sys.argv if argv is None else argv) or ["digitlab"]
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Digitlab")
    app.setOrganizationName("Digitlab")
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.show()
    return app.exec()
