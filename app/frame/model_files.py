"""The window's model files: File ▸ Open, Open CSV Folder, Open Recent, Save As and Save as
CSV Folder; all or nothing (a failure names the file and keeps the model)."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject

__all__ = ["ModelFiles", "CSV_TIP"]

CSV_TIP = "Save the current model as the article's three CSV files in a folder"
"""File ▸ Save Model as CSV Folder…'s tooltip when the model fits the CSV files."""


class ModelFiles(QObject):
    """Open and save the model of ``window`` (a :class:`app.main_window.MainWindow`): its
    owner, prompts, preferences, status bar, Open Recent menu and Save as CSV Folder action
    (disabled, the reason in its tooltip, for a model the CSV files cannot hold)."""

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        window.recent_menu.aboutToShow.connect(self.fill_recent)
        window.owner.modelChanged.connect(lambda _m: self._csv_state())
        self.fill_recent()
        self._csv_state()

    def _csv_state(self) -> None:
        """Save as CSV Folder only for a model without biases (the article's CSV trio has no
        place for them); else disabled, saying why."""
        m, act = self.w.owner.model(), self.w.act_save_csv
        ok = m is None or not m.config.biases
        tip = (CSV_TIP if ok else "Not for this model: it has biases, and the article's three CSV "
               "files have no place for them (File ▸ Save Model As… keeps it whole as .npz)")
        act.setEnabled(ok)
        act.setToolTip(tip)
        act.setStatusTip(tip)

    def open_model(self, path) -> bool:
        """Open a model file (.npz) or CSV folder, asking first if the current model is unsaved.
        All or nothing: on failure the current model stays and an error names the file."""
        w = self.w
        path = str(path)
        if w.owner.is_training():
            w.prompts.error("Cannot open model", "A run is training: stop it before opening a model.")
            return False
        try:
            from engine.files import modelfile
            model = modelfile.load_model(path)
            if not w.owner.replace(model, path=path, question=f"Open {Path(path).name} anyway?"):
                return False
        except Exception as e:         # noqa: BLE001 - every failure is reported the same way
            w.prompts.error("Cannot open model", f"Could not open {path}:\n{e}")
            return False
        w.prefs.remember(path)
        w.statusBar().showMessage(f"Opened {path}", 8000)
        return True

    def save_model(self, path) -> bool:
        """Save the current model (``.npz`` file, or a folder for the article's CSV files);
        on failure show an error. Returns whether it saved."""
        w = self.w
        path = str(path)
        try:
            from engine.files import modelfile
            modelfile.save_model(w.owner.model(), path)
        except Exception as e:         # noqa: BLE001
            w.prompts.error("Cannot save model", f"Could not save the model to {path}:\n{e}")
            return False
        w.owner.mark_saved(path)
        w.prefs.remember(path)
        w.statusBar().showMessage(f"Saved {path}", 8000)
        return True

    def fill_recent(self) -> None:
        w = self.w
        w.recent_menu.clear()
        recent = w.prefs.recent_files()
        for i, p in enumerate(recent):
            a = w.recent_menu.addAction(f"&{i + 1} {p}")
            a.setToolTip(p)
            a.triggered.connect(lambda _checked=False, p=p: self.open_model(p))
        if not recent:
            w.recent_menu.addAction("(none)").setEnabled(False)
        else:
            w.recent_menu.addSeparator()
            w.recent_menu.addAction("Clear List", w.prefs.clear_recent)

    def open_dialog(self) -> bool:
        w = self.w
        path = w.prompts.open_file("Open model", w.prefs.start_dir(),
                                   "Digitlab models (*.npz);;All files (*)")
        if not path:
            return False
        w.prefs.set_start_dir(str(Path(path).parent))
        return self.open_model(path)

    def open_csv_dialog(self) -> bool:
        w = self.w
        path = w.prompts.folder("Open the article's CSV folder", w.prefs.start_dir())
        if not path:
            return False
        w.prefs.set_start_dir(path)
        return self.open_model(path)

    def save_dialog(self) -> bool:
        w = self.w
        start = str(Path(w.prefs.start_dir()) / f"{w.owner.model().name or 'model'}.npz")
        path = w.prompts.save_file("Save model as", start, "Digitlab models (*.npz)")
        if not path:
            return False
        if not path.lower().endswith(".npz"):
            path += ".npz"           # the dialog checked the name without it: ask here
            if os.path.exists(path) and not w.prompts.confirm(
                    "Replace the file?", f"{path} already exists. Replace it?"):
                return False
        w.prefs.set_start_dir(str(Path(path).parent))
        return self.save_model(path)

    def save_csv_dialog(self) -> bool:
        """Save as the article's CSV files in a folder picked or typed (a new folder is made
        only when the save succeeds); asks before replacing a trio already there."""
        from engine.files.modelfile import CSV_FILES
        w = self.w
        path = w.prompts.save_folder("Folder for the CSV files (pick one, or type a new folder's name)",
                                     w.prefs.start_dir())
        if not path:
            return False
        if path.lower().endswith(".npz"):            # (save_model would write one .npz file)
            w.prompts.error("Cannot save model", f"{path}: a .npz name is not a folder for the CSV "
                            f"files (File ▸ Save Model As… writes .npz files)")
            return False
        there = [n for n in CSV_FILES.values() if os.path.exists(os.path.join(path, n))]
        if there and not w.prompts.confirm(
                "Replace the files?", f"{path} already holds {', '.join(there)}. Replace them?"):
            return False
        w.prefs.set_start_dir(path)
        return self.save_model(path)
