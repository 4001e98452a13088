"""File → Open, Open Recent, Save, Save As and dropped files, for the main window.

The training worker owns the session, so reading and writing happen in its thread
(``TrainingController.open_file`` / ``save_file``); this class asks for paths, keeps the current
file name and the unsaved-changes mark in the window title, and says what went wrong in a dialog
while the window keeps its current session.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QPlainTextEdit

from bpstudio.core.session_file import SUFFIX
from bpstudio.gui import settings

FILTER = f"bpstudio sessions (*{SUFFIX});;All files (*)"


class SessionFiles(QObject):
    """The window's session file: its path, whether it has unsaved progress, and the dialogs."""

    saved = Signal(str)
    opened = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.path: str | None = None
        self.modified = False
        self._opening: str | None = None
        self._saved_mark: tuple | None = None
        w = window.controller.worker
        w.saved.connect(self._on_saved)
        w.open_failed.connect(self._on_open_failed)
        w.data_missing.connect(self._on_data_missing)

    # -- what the user asks for ---------------------------------------------------------------
    def open_dialog(self) -> None:
        if not self.window.confirm_discard("Opening a session"):
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a session", self._folder(), FILTER)
        if path:
            self.open(path, confirmed=True)

    def open(self, path: str, *, data_spec: str | None = None, confirmed: bool = False) -> None:
        """Open ``path`` in the training thread (the current session stays if that fails)."""
        if not confirmed and not self.window.confirm_discard("Opening a session"):
            return
        self._opening = os.fspath(path)
        self.window.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.window.controller.open_file(self._opening, data_spec)

    def save(self) -> None:
        if self.path is None:
            self.save_as()
        else:
            self.save_to(self.path)

    def save_as(self) -> None:
        start = self.path or os.path.join(self._folder(), f"run{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the session", start, FILTER)
        if path:
            if not path.endswith(SUFFIX):
                path += SUFFIX
            self.save_to(path)

    def save_to(self, path: str) -> None:
        self._saved_mark = self._mark()
        self.window.controller.save_file(path, self.window.note_text(), self.window.view_state())

    # -- the title and the unsaved mark ---------------------------------------------------------
    def session_loaded(self, snap) -> None:
        """A new session arrived: it is the opened file's, or a new unsaved one."""
        if self._opening is not None:
            self.path, self._opening = self._opening, None
            settings.add_recent_file(self.path)
            self.opened.emit(self.path)
            self.modified = False
            self._saved_mark = self._mark(snap)
        else:
            self.path, self.modified = None, False
            self._saved_mark = self._mark(snap)
        self.update_title()

    def progressed(self, snap) -> None:
        """A snapshot arrived: mark the session modified if it moved since the last save."""
        modified = self._mark(snap) != self._saved_mark
        if modified != self.modified:
            self.modified = modified
            self.update_title()

    def mark_modified(self) -> None:
        if not self.modified:
            self.modified = True
            self.update_title()

    def update_title(self) -> None:
        name = Path(self.path).name if self.path else "untitled"
        self.window.setWindowTitle(f"{name}[*] — bpstudio")
        self.window.setWindowModified(self.modified)

    def _mark(self, snap=None) -> tuple | None:
        snap = snap or self.window.model.snapshot
        if snap is None:
            return None
        return (
            snap.batches_done,
            snap.in_pass and snap.next_phase,
            snap.eta,
            snap.mini_batch_size,
            snap.activation,
            snap.cost,
            snap.epochs_target,
        )

    # -- from the worker --------------------------------------------------------------------------
    def _on_saved(self, path: str) -> None:
        self.path = path
        self.modified = False
        settings.add_recent_file(path)
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        self.update_title()
        self.saved.emit(path)

    def _on_open_failed(self, path: str, message: str) -> None:
        self._opening = None
        if not Path(path).is_file():
            settings.remove_recent_file(path)
        self.window.show_message("Could not open the session", message, QMessageBox.Icon.Warning)

    def _on_data_missing(self, path: str, message: str) -> None:
        """The file's data moved: ask where it is now, then open again with that spec."""
        self._opening = None
        if not self.window.confirm(
            f"{message}\n\nLocate the data (a folder of the four MNIST files)?"
        ):
            return
        spec = self.window.locate_data()
        if spec:
            self.open(path, data_spec=spec, confirmed=True)

    def _folder(self) -> str:
        recent = settings.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())


def dropped_session(event) -> str | None:
    """The one .bpsession file a drag carries, if it carries one."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
    if len(paths) == 1 and paths[0].endswith(SUFFIX):
        return paths[0]
    return None


def add_note_dock(window: QMainWindow, docks: dict) -> QPlainTextEdit:
    """A dock with the run's free-text note (a teacher's instructions), saved with the session."""
    note = QPlainTextEdit()
    note.setObjectName("noteEdit")
    note.setPlaceholderText(
        "A note kept with this run, e.g. instructions for students; saved in the session file"
    )
    dock = QDockWidget("Note", window)
    dock.setObjectName("noteDock")
    dock.setWidget(note)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.tabifyDockWidget(docks["equationsDock"], dock)
    docks["equationsDock"].raise_()
    docks["noteDock"] = dock
    return note
