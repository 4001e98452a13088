"""Choosing the data: getting MNIST when it is not downloaded yet, and remembering typed specs.

:class:`MnistDialog` is what the window shows when the user asks for ``mnist`` and the four files
are not in the cache: it says where it looked, downloads them there (with progress and Cancel),
or takes a folder that already holds them (``mnist:<folder>``).

The download runs :func:`~bpstudio.core.data.download.fetch_mnist` in a plain Python thread that
never touches a widget: it puts what happens (progress, the end) into a :class:`queue.Queue` that
a timer in the GUI thread drains. Cancel sets the flag ``fetch_mnist`` polls between reads of the
connection (``should_cancel``); the thread is joined before the dialog closes, and closing while
it runs first cancels, then closes once the thread has ended, without freezing the window.

The data specs a user typed (``mnist:/data/mnist``, the path of the book's pickle) are kept in
the settings, most recent first, and :func:`fill_data_combo` lists them after the built-in names.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.data import DATASET_CHOICES, download
from bpstudio.core.data.download import fetch_mnist, mnist_cache_dir
from bpstudio.core.data.mnist import find_mnist_files, mnist_files_absent, mnist_files_present
from bpstudio.core.errors import Cancelled, DataError
from bpstudio.gui import settings

#: Settings key of the data specs the user typed, most recent first.
DATA_SPECS = "data/specs"
#: How many typed data specs are remembered.
MAX_DATA_SPECS = 10
#: How often the GUI thread looks at what the download thread reported, in milliseconds.
POLL_MS = 50


# -- remembered data specs -------------------------------------------------------------------------
def _is_builtin(spec: str) -> bool:
    return spec.lower() in DATASET_CHOICES


def remembered_data_specs() -> list[str]:
    """The data specs the user typed (built-in names excluded), most recent first, at most
    :data:`MAX_DATA_SPECS`; a bad stored value is ignored."""
    stored = settings.get_value(DATA_SPECS, [], kind=list)
    specs: list[str] = []
    for spec in stored:
        if isinstance(spec, str) and spec.strip() and not _is_builtin(spec.strip()):
            if spec.strip() not in specs:
                specs.append(spec.strip())
    return specs[:MAX_DATA_SPECS]


def remember_data_spec(spec: str) -> list[str]:
    """Put ``spec`` first among the remembered data specs and return the new list.

    Blank specs and the built-in names (``digits``, ``mnist``, ...) are not stored: the data
    list always offers those.
    """
    spec = spec.strip()
    specs = remembered_data_specs()
    if not spec or _is_builtin(spec):
        return specs
    specs = [spec, *(s for s in specs if s != spec)][:MAX_DATA_SPECS]
    settings.set_value(DATA_SPECS, specs)
    return specs


def fill_data_combo(combo: QComboBox, current: str | None = None) -> None:
    """List :data:`DATASET_CHOICES`, then the remembered specs, in ``combo``.

    The combo's text ends as ``current`` (its present text when None), which need not be in the
    list. No signal is emitted, as ``HyperparametersPanel.set_spec`` shows values silently.
    """
    text = combo.currentText() if current is None else current
    blocked = combo.blockSignals(True)
    try:
        combo.clear()
        combo.addItems(DATASET_CHOICES)
        typed = remembered_data_specs()
        if typed:
            combo.insertSeparator(combo.count())
            combo.addItems(typed)
        # An editable combo's setCurrentText only sets the text: select the matching item too.
        combo.setCurrentIndex(combo.findText(text))
        combo.setCurrentText(text)
    finally:
        combo.blockSignals(blocked)


# -- deciding when to ask --------------------------------------------------------------------------
def needs_mnist_download(spec: str) -> bool:
    """True when ``spec`` is ``mnist`` and the cache lacks one of its four files (the case in
    which ``load_dataset`` would only say how to download it)."""
    return spec.strip().lower() == "mnist" and bool(mnist_files_absent(mnist_cache_dir()))


# -- the download thread ---------------------------------------------------------------------------
class _DownloadJob:
    """``fetch_mnist(folder)`` in a Python thread; what happens goes into ``events``.

    Events are tuples: ``("progress", name, done, total)``, then exactly one of
    ``("done", folder)``, ``("cancelled", message)`` or ``("failed", message)``, always last.
    Nothing here touches Qt.
    """

    def __init__(self, folder: Path) -> None:
        self.events: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(folder,), name="mnist-download", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self, folder: Path) -> None:
        put = self.events.put
        try:
            path = fetch_mnist(
                folder,
                progress=lambda name, done, total: put(("progress", name, done, total)),
                should_cancel=self._cancel.is_set,
            )
        except Cancelled as exc:
            put(("cancelled", str(exc)))
        except DataError as exc:  # DownloadError, or the cache folder cannot be written
            put(("failed", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the user, never lost in a thread
            put(("failed", f"{type(exc).__name__}: {exc}"))
        else:
            put(("done", str(path)))


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _progress_text(name: str, done: int, total: int | None) -> str:
    names = list(download.MNIST_FILES)
    which = f" (file {names.index(name) + 1} of {len(names)})" if name in names else ""
    amount = _megabytes(done) if total is None else f"{_megabytes(done)} of {_megabytes(total)}"
    return f"Downloading {name}{which}: {amount}"


def _ask_folder(parent: QWidget) -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, "The folder of the four MNIST files")
    return folder or None


# -- the dialog ------------------------------------------------------------------------------------
class MnistDialog(QDialog):
    """Get MNIST: download it into the cache, or choose a folder that holds the four files.

    Open it with ``open()`` (window-modal, no nested event loop). On success ``result_spec`` is
    ``"mnist"`` (downloaded into :func:`mnist_cache_dir`) or ``"mnist:<folder>"``, the dialog is
    accepted and :attr:`chosen` is emitted with that spec. Errors are shown in the dialog.

    ``ask_folder(parent) -> str | None`` asks for the folder (a file dialog; tests replace it).
    """

    #: The data spec chosen: "mnist" or "mnist:<folder>".
    chosen = Signal(str)
    #: A download ended (its thread joined): "done", "cancelled" or "failed".
    download_ended = Signal(str)
    #: Download progress, in the GUI thread: file name, bytes received, bytes expected or None.
    progressed = Signal(str, int, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mnistDialog")
        self.setWindowTitle("Get MNIST")
        self.result_spec: str | None = None
        #: Where the download goes: the cache folder when the dialog was made.
        self.folder = mnist_cache_dir()
        self.ask_folder: Callable[[QWidget], str | None] = _ask_folder
        self._job: _DownloadJob | None = None
        self._close_result: int | None = None  # a close asked for while the thread runs
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_poll)
        self._build()
        self._show_idle()
        self.setMinimumWidth(560)

    # -- public ----------------------------------------------------------------------------------
    def is_downloading(self) -> bool:
        """True from Download until the download thread has ended and been joined."""
        return self._job is not None

    def start_download(self) -> None:
        """Download the missing files into the cache (what the Download button does)."""
        if self._job is not None:
            return
        self._job = _DownloadJob(self.folder)
        self.bar.setRange(0, 0)  # busy until the first byte says how much is coming
        self.status.setText("Connecting…")
        self._set_running(True)
        self.destroyed.connect(self._job.cancel)  # a dialog deleted unclosed stops its download
        self._job.start()
        self._timer.start()

    def cancel_download(self) -> None:
        """Ask the download to stop; it ends at its next read (``download_ended("cancelled")``)."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def stop(self, timeout: float | None = None) -> bool:
        """Cancel a download and wait for its thread (for a window that is closing).

        A read in progress returns within ``fetch_mnist``'s read timeout at the latest. Returns
        True when no download thread is left.
        """
        if self._job is None:
            return True
        self._job.cancel()
        if not self._job.join(timeout):
            return False
        self._on_poll()
        return self._job is None

    def choose_folder(self) -> None:
        """Ask for a folder holding the four IDX files (what "Choose folder…" does)."""
        folder = self.ask_folder(self)
        if not folder:
            return
        path = Path(folder).expanduser()
        if not mnist_files_present(path):
            self.status.setText(_folder_problem(path))
            return
        spec = f"mnist:{path}"
        remember_data_spec(spec)
        self._finish(spec)

    # -- closing waits for the thread --------------------------------------------------------------
    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        if self._job is not None:
            self._close_result = result
            self.cancel_download()
            return
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self._job is not None:
            self._close_result = QDialog.DialogCode.Rejected
            self.cancel_download()
            event.ignore()
            return
        super().closeEvent(event)

    # -- building ----------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        folder = self.folder
        absent = mnist_files_absent(folder)
        found = 4 - len(absent)
        intro = QLabel(
            f"MNIST is not downloaded yet: bpstudio looked in\n{folder}\nand found "
            f"{found} of its four files there.\n\n"
            "Download them into that folder (about 11 MB), or choose a folder that already "
            "holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
            "and t10k-labels-idx1-ubyte (plain or .gz).",
            self,
        )
        intro.setObjectName("mnistIntro")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(intro)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("mnistProgress")
        layout.addWidget(self.bar)
        self.status = QLabel(self)
        self.status.setObjectName("mnistStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        layout.addLayout(self._buttons())

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.download_button = self._button(
            row,
            "Download",
            "mnistDownloadButton",
            self.start_download,
            "Download the four MNIST files (about 11 MB) into the cache folder",
        )
        self.cancel_button = self._button(
            row,
            "Cancel",
            "mnistCancelButton",
            self.cancel_download,
            "Stop the download; the files already verified are kept",
        )
        self.folder_button = self._button(
            row,
            "Choose folder…",
            "mnistFolderButton",
            self.choose_folder,
            "Use a folder that already holds the four IDX files (as mnist:<folder>)",
        )
        self.close_button = self._button(
            row,
            "Close",
            "mnistCloseButton",
            self.reject,
            "Close without choosing (a download in progress is cancelled first)",
        )
        return row

    def _button(self, row: QHBoxLayout, text: str, name: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # -- states ------------------------------------------------------------------------------------
    def _show_idle(self) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self._set_running(False)
        self.bar.hide()

    def _set_running(self, running: bool) -> None:
        if running:
            self.bar.show()
        self.download_button.setEnabled(not running)
        self.folder_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _finish(self, spec: str) -> None:
        self.result_spec = spec
        self.accept()
        self.chosen.emit(spec)

    # -- what the thread reported ------------------------------------------------------------------
    def _on_poll(self) -> None:
        job = self._job
        if job is None:
            return
        last_progress = None
        while True:
            try:
                event = job.events.get_nowait()
            except queue.Empty:
                break
            if event[0] == "progress":
                last_progress = event[1:]
                self.progressed.emit(*event[1:])
            else:
                if last_progress is not None:
                    self._show_progress(*last_progress)
                self._on_ended(job, *event)
                return
        if last_progress is not None:
            self._show_progress(*last_progress)

    def _show_progress(self, name: str, done: int, total: int | None) -> None:
        if total is None or total <= 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        if not self.cancel_button.isEnabled() and self._job is not None:
            return  # "Cancelling…" stays until the thread has ended
        self.status.setText(_progress_text(name, done, total))

    def _on_ended(self, job: _DownloadJob, kind: str, message: str) -> None:
        job.join()  # the end was its last act: this returns at once
        self._timer.stop()
        self._job = None
        pending, self._close_result = self._close_result, None
        if kind == "done":
            self._set_running(False)
            if self.bar.maximum() == 0:  # nothing was left to download
                self.bar.setRange(0, 1)
                self.bar.setValue(1)
            self.status.setText(f"MNIST downloaded into {message}.")
        else:
            self._show_idle()
            self.status.setText(
                "Download cancelled." if kind == "cancelled" else f"Download failed: {message}"
            )
        self.download_ended.emit(kind)
        if kind == "done":
            self._finish("mnist")
        elif pending is not None:
            super().done(pending)


def _folder_problem(folder: Path) -> str:
    """Why ``folder`` cannot be used as ``mnist:<folder>``, in one message."""
    try:
        find_mnist_files(folder)
    except DataError as exc:
        return str(exc)
    return f"{folder} cannot be used"  # pragma: no cover - only if it changed in between


__all__ = [
    "DATA_SPECS",
    "MAX_DATA_SPECS",
    "MnistDialog",
    "fill_data_combo",
    "needs_mnist_download",
    "remember_data_spec",
    "remembered_data_specs",
]
