"""Digitlab's main window: draw a digit, see what the network reads and how it sees it.

The window builds everything it shows: the drawing, its reader (:class:`app.reading.reader.DrawingReader`),
the docks (What the net sees, Train, Why?, Teach, Timeline, Runs) and the menus; the objects of
one idea each it holds are named in the class's attributes.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QMainWindow, QMenu,
                               QMessageBox, QPushButton, QScrollArea, QSlider, QSplitter, QStyle,
                               QVBoxLayout, QWidget)

from engine.files.resources import resource
from engine.net.model import Config, Model

from .explain.link import ExplainLink
from .explain.panel import ExplainPanel
from .frame.actions import make_action
from .frame.docks import add_dock
from .frame.help import about_text
from .frame.help_menu import HelpMenu
from .frame.layout import WindowLayout
from .frame.model_files import CSV_TIP, ModelFiles
from .frame.model_menu import ModelMenu
from .frame.theme import ThemeMenu
from .frame.undo_redo import UndoRedo
from .gc_guard import freeze_startup, qt_application
from .history.error_gallery import GalleryWiring
from .history.runs_view import RunsView
from .history.timeline import TimelinePanel, TimelineWiring
from .model_owner import ModelOwner, check_model
from .preferences import BRUSH_RANGE, MAX_RECENT, Preferences
from .prompts import CANCEL, DISCARD, SAVE, Prompts
from .reading.canvas import DEFAULT_BRUSH_WIDTH, DrawingCanvas
from .reading.reader import THROTTLE_MS, DrawingReader, Reading
from .reading.views import NetView, PredictionView
from .teach.panel import TeachPanel
from .threads.jobs import close_jobs, running_threads
from .threads.warmup import WarmUp
from .train.panel import TrainingPanel

__all__ = ["MainWindow", "run", "app_icon", "THROTTLE_MS", "MAX_RECENT"]

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
    model : engine.net.model.Model, optional
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
    reader : DrawingReader
        From the canvas to one :class:`app.reading.reader.Reading` (throttle, warm-up gate,
        preprocessing, forward pass, verdict); every view listens to it.
    warmup : WarmUp
        The first reading's compile, off the GUI thread.
    training_panel, explain_panel, teach_panel, timeline_panel, runs_view
        The docks' contents; ``timeline_wiring``, ``gallery_wiring`` and ``explain_link``
        tie them to the drawing and the runs.
    window_layout : WindowLayout
        Sizes, the docks' places, View ▸ Reset Layout.
    undo_redo, model_menu, theme_menu, help_menu
        Edit ▸ Redo and the undo states; Revert to the Shipped Model and the "read by" line;
        View ▸ Theme; Help ▸ Guide and Keyboard Shortcuts.
    stop_wait_seconds : float
        How long closing waits for the training thread to stop before quitting without it.
    """

    stop_wait_seconds = 5.0

    def __init__(self, model: Model | None = None, settings: QSettings | None = None,
                 prompts: Prompts | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings("Digitlab", "Digitlab")
        self.prefs = Preferences(self.settings)
        self.prompts = prompts or Prompts(self)
        self.owner = ModelOwner(ask=self.prompts.ask_save, save=lambda: self.model_files.save_dialog(),
                                parent=self)
        self.warmup = WarmUp(explanations=False, parent=self)   # (the Why? dock reads its data when shown)
        self._net_stale = False                  # the net's views wait for the next time shown
        self.setWindowIcon(app_icon())
        self._build_drawing()
        self.reader = DrawingReader(self.canvas, self.owner, self.warmup, self, self.prefs.preprocess())
        self.reader.readingChanged.connect(self._show_reading)
        self._build_docks()
        self._make_actions()
        self._make_menus()
        self._connect()
        self.window_layout = WindowLayout(self)
        self.window_layout.restore()
        self.theme_menu.set_theme(self.prefs.theme(), remember=False)
        self._first_model(model)
        self.warmup.start(self.owner.model())    # the first reading's compile, off the event loop
        self.canvas.setFocus()

    @property
    def reading(self) -> Reading:
        """The last reading of the drawing (:attr:`reader`'s)."""
        return self.reader.last

    def classify_now(self) -> None:
        """Read the drawing now and update every view (see :meth:`DrawingReader.read_now`)."""
        self.reader.read_now()

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
        undo_btn, clear_btn = self.drawing_buttons = QPushButton("Undo"), QPushButton("Clear")
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
        minimum width must not force the window's), Why? and Teach; below the drawing,
        hidden: Timeline and Runs; the status bar's model label."""
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
        self._build_teach_dock()
        self.net_dock.raise_()
        self.timeline_panel = TimelinePanel()
        self.timeline_dock = add_dock(self, "Timeline", "timelineDock", self.timeline_panel,
                                      Qt.BottomDockWidgetArea, hidden=True)
        self.runs_view = RunsView(self, self.training_panel.runs_dir)
        self.runs_dock = add_dock(self, "Runs", "runsDock", self.runs_view, Qt.BottomDockWidgetArea,
                                  hidden=True)
        self.status_model = QLabel()
        self.statusBar().addPermanentWidget(self.status_model)

    def _build_teach_dock(self) -> None:
        """The Teach dock (tabbed with Why?) and the digit keys on the canvas ("that's wrong,
        it's a ..."). The collection's file: the setting ``collection/path``, else the user's
        data folder."""
        def drawing():
            x = self.reader.network_input()
            return x if np.any(x > 0) else None

        path = self.settings.value("collection/path") or None
        if not isinstance(path, str):       # a list or a number in a hand-edited settings file
            path = None
        panel = self.teach_panel = TeachPanel(self.owner, self.prompts, drawing, self.canvas.clear, path,
                                              strokes=self.canvas.strokes)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(panel)
        self.teach_dock = add_dock(self, "Teach", "teachDock", scroll, tab_with=self.explain_dock)
        panel.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 10000))
        panel.useInTraining.connect(self._use_in_training)
        panel.view.showDrawing.connect(self.canvas.set_strokes)
        for d in range(10):
            a = QAction(f"It's a {d}", self.canvas)
            a.setShortcut(QKeySequence(str(d)))
            a.setShortcutContext(Qt.WidgetShortcut)
            a.triggered.connect(lambda _=False, d=d: panel.correct(d))
            self.canvas.addAction(a)

    def _use_in_training(self, file: str) -> None:
        self.training_panel.form.set_value("collection", file)
        self.train_dock.show()
        self.train_dock.raise_()

    def _connect(self) -> None:
        tp = self.training_panel
        self.timeline_wiring = TimelineWiring(self.timeline_panel, tp, self.owner, self.reader, self)
        self.timeline_wiring.watch(self.timeline_dock)     # closed: the reading back to the current model
        self.gallery_wiring = GalleryWiring(self)
        self.explain_link = ExplainLink(self.explain_panel, self.explain_dock, self.reader, self.owner,
                                        self.canvas, self.prediction, self)
        tp.runRecorded.connect(lambda ev: ev.path is not None and self.runs_view.refresh())
        self.reader.readingChanged.connect(lambda r: tp.show_reading(r.proba))
        self.net_dock.visibilityChanged.connect(lambda visible: visible and self._update_net_view())
        self.preprocess_box.setChecked(self.prefs.preprocess())
        self.act_preprocess.setChecked(self.preprocess_box.isChecked())
        self.preprocess_box.toggled.connect(self.act_preprocess.setChecked)
        self.act_preprocess.toggled.connect(self.preprocess_box.setChecked)
        self.act_preprocess.toggled.connect(self.reader.set_preprocess)
        self.owner.modelChanged.connect(lambda _m: self._update_title())
        self.owner.stateChanged.connect(self._update_title)
        tp.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 10000))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.window_layout.first_show()

    # ================================================================== actions / menus
    def _make_actions(self) -> None:
        slider = self.brush_slider

        def act(*a):
            return make_action(self, *a)
        self.act_open = act("&Open Model…", lambda: self.model_files.open_dialog(), QKeySequence.Open,
                            "Open a model file (.npz)", QStyle.SP_DialogOpenButton)
        self.act_open_csv = act("Open &CSV Folder…", lambda: self.model_files.open_csv_dialog(),
                                "Ctrl+Shift+O",
                                "Open a folder holding the article's kernels.csv, weights_01.csv "
                                "and weights_12.csv")
        self.act_save = act("&Save Model As…", lambda: self.model_files.save_dialog(),
                            [QKeySequence.SaveAs, QKeySequence("Ctrl+S")],
                            "Save the current model as a .npz file", QStyle.SP_DialogSaveButton)
        self.act_save_csv = act("Save Model as CSV &Folder…", lambda: self.model_files.save_csv_dialog(), None,
                                CSV_TIP)
        self.act_quit = act("&Quit", self.close, QKeySequence.Quit, "Quit Digitlab")
        self.act_undo = act("&Undo Stroke", self.canvas.undo, QKeySequence.Undo, "Undo the last stroke")
        self.act_clear = act("&Clear Drawing", self.canvas.clear, QKeySequence(Qt.Key_Delete),
                             "Clear the drawing (also Escape on the canvas)")
        self.act_where_fails = act("&Where Does It Fail?…", lambda: self.gallery_wiring.open(),
                                   "Ctrl+Shift+F", "The test images the model misreads, by cell")
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
        self.act_reset_layout = act("Reset &Layout", lambda: self.window_layout.reset_layout(), None,
                                    "Put the docks back where they were and fit the window to the screen")
        self.act_about = act("&About Digitlab", self._about, None, "Versions and credits")
        self.act_about_qt = act("About &Qt", lambda: QMessageBox.aboutQt(self, "About Qt"))

    def _make_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.setToolTipsVisible(True)          # (why an action is unavailable)
        file_menu.addAction(self.act_open)
        file_menu.addAction(self.act_open_csv)
        self.recent_menu = QMenu("Open &Recent", file_menu)
        self.model_files = ModelFiles(self)
        self.model_menu = ModelMenu(self)          # (connects to the recent menu)
        file_menu.addAction(self.model_menu.act_revert)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        for a in (self.act_save, self.act_save_csv, None, self.act_quit):
            file_menu.addAction(a) if a is not None else file_menu.addSeparator()
        edit_menu = mb.addMenu("&Edit")
        self.undo_redo = UndoRedo(self.canvas, self.act_undo, self.act_clear, self.drawing_buttons, self)
        for a in (self.act_undo, self.undo_redo.act_redo, self.act_clear, self.act_where_fails):
            edit_menu.addAction(a)
        view_menu = mb.addMenu("&View")
        for a in (self.act_preprocess, None, self.act_thicker, self.act_thinner, self.act_default_brush, None):
            view_menu.addAction(a) if a is not None else view_menu.addSeparator()
        for dock, key in ((self.net_dock, "Ctrl+1"), (self.train_dock, "Ctrl+2"), (self.explain_dock, "Ctrl+3"),
                          (self.teach_dock, "Ctrl+4"), (self.timeline_dock, "Ctrl+Shift+T"),
                          (self.runs_dock, "Ctrl+Shift+R")):
            a = dock.toggleViewAction()
            a.setShortcut(QKeySequence(key))
            view_menu.addAction(a)
        view_menu.addSeparator()
        self.theme_menu = ThemeMenu(self, view_menu.addMenu("&Theme"))
        view_menu.addAction(self.act_reset_layout)
        help_menu = mb.addMenu("&Help")
        self.help_menu = HelpMenu(self)
        help_menu.addAction(self.help_menu.act_guide)
        help_menu.addAction(self.help_menu.act_shortcuts)
        help_menu.addSeparator()
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
                from engine.files import modelfile
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
        check_model(model)
        return model

    def _update_title(self) -> None:
        m, o = self.owner.model(), self.owner
        if m is None:
            return
        title = f"{self.model_menu.title()}[*] — Digitlab"
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
        if self.act_open.isEnabled() == o.is_training():
            for a in (self.act_open, self.act_open_csv, self.recent_menu.menuAction()):
                a.setEnabled(not o.is_training())     # a run would replace what is opened

    def open_model(self, path) -> bool:
        """Open a model file (.npz) or CSV folder (see :meth:`ModelFiles.open_model`)."""
        return self.model_files.open_model(path)

    def save_model(self, path) -> bool:
        """Save the current model (see :meth:`ModelFiles.save_model`)."""
        return self.model_files.save_model(path)

    def recent_files(self) -> list[str]:
        return self.prefs.recent_files()

    # ================================================================== the drawing's reading
    def _brush_changed(self, value: int) -> None:
        self.canvas.set_brush_width(value)
        self.brush_label.setText(f"{value:>2} px")
        self.prefs.set_brush_width(value)

    def _show_reading(self, r: Reading) -> None:
        """The prediction and the net's views show a reading (the net's, when next shown)."""
        proba = r.proba if r.proba is not None else r.forward.proba[0]     # (blank: the model's own)
        self.prediction.update_prediction(proba, r.input, r.empty, r.verdict)
        self.prediction.show_comparison(*(r.comparison or (None, None)))
        self._net_stale = True
        if self.net_view.isVisible():          # hidden (other tab, closed dock): update when shown
            self._update_net_view()

    def _update_net_view(self) -> None:
        r = self.reader.last
        if self._net_stale and r.forward is not None:
            self.net_view.update_views(r.model, r.forward, r.empty)
            self._net_stale = False

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
        if answer == SAVE and self.owner.is_unsaved() and not self.model_files.save_dialog():
            tp.quiet = False
            return False
        return True

    def closeEvent(self, event) -> None:
        if not self._may_close():
            event.ignore()
            return
        self.window_layout.save()
        close_jobs(self, self.stop_wait_seconds)      # every job of the window (app.threads.jobs)
        event.accept()


def run(argv=None, window: MainWindow | None = None) -> int:
    """Start the application with the main window; returns the exit status.

    ``window``: the window to show (scripts and tests), else a new :class:`MainWindow`.
    When the window closed while a job that cannot be interrupted still runs (a data
    load, a first compile), its thread cannot be stopped, and Qt aborts a process that
    destroys a running thread: the process then ends here, with ``os._exit``, once the
    settings are written.
    """
    from engine.startup import release_interrupts
    release_interrupts()           # the start's quiet Ctrl+C (app/__init__.py) ends with the window
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
