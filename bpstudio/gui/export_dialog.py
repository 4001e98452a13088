"""File → Export: choose what to export and where, then call the exporter the window gave.

The dialog knows nothing about the window: it takes a mapping from export kinds
(:data:`EXPORT_KINDS`) to functions and calls ``f(path)``, or ``f(path, scale=s)`` for the
kinds that are pictures in pixels. Kinds missing from the mapping are not offered. Errors a
user can cause (:class:`~bpstudio.core.errors.BpstudioError`, e.g. a folder without write
permission) and ``OSError`` show their one-line message in a message box; the dialog stays
open so that another name can be tried.

Seams for tests and for the window: :meth:`ExportDialog.export` runs one export directly, and
the file dialog is the replaceable attribute :attr:`ExportDialog.ask_path`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.errors import BpstudioError

__all__ = [
    "EXPORT_KINDS",
    "KIND_BY_KEY",
    "SCALES",
    "ExportDialog",
    "ExportKind",
    "ask_save_path",
    "standard_exporters",
]


class ExportKind(NamedTuple):
    """One thing the dialog can export."""

    key: str
    label: str
    default_name: str
    name_filter: str
    scaled: bool  # a picture in pixels: the exporter takes scale=
    help: str


_PNG = "PNG image (*.png)"
_SVG = "SVG vector image (*.svg)"
EXPORT_KINDS: tuple[ExportKind, ...] = (
    ExportKind(
        "network_png",
        "Network view as PNG",
        "bpstudio-network.png",
        _PNG,
        True,
        "The network as drawn on screen, at the chosen scale (2× for slides).",
    ),
    ExportKind(
        "network_svg",
        "Network view as SVG",
        "bpstudio-network.svg",
        _SVG,
        False,
        "The network with real vector edges and nodes, sharp at any size.",
    ),
    ExportKind("cost_png", "Cost plot as PNG", "bpstudio-cost.png", _PNG, True, "The cost plot."),
    ExportKind("cost_svg", "Cost plot as SVG", "bpstudio-cost.svg", _SVG, False, "The cost plot."),
    ExportKind(
        "accuracy_png",
        "Accuracy plot as PNG",
        "bpstudio-accuracy.png",
        _PNG,
        True,
        "The accuracy plot.",
    ),
    ExportKind(
        "accuracy_svg",
        "Accuracy plot as SVG",
        "bpstudio-accuracy.svg",
        _SVG,
        False,
        "The accuracy plot.",
    ),
    ExportKind(
        "history_csv",
        "History as CSV",
        "bpstudio-history.csv",
        "CSV table (*.csv)",
        False,
        "Every mini-batch's cost with its epoch, η and m, and each epoch's accuracies, "
        "at full resolution (not the plot's thinned copy).",
    ),
    ExportKind(
        "weights_npz",
        "Weights and biases as NPZ",
        "bpstudio-weights.npz",
        "NumPy archive (*.npz)",
        False,
        "w2, w3, … and b2, b3, … in the book's shapes, with the layer sizes; "
        "np.load(path) reads it.",
    ),
)
KIND_BY_KEY = {k.key: k for k in EXPORT_KINDS}
#: The scales a picture in pixels can be exported at.
SCALES = (1, 2, 3)

#: ``ask(parent, caption, suggested_path, name_filter) -> chosen path, or "" if cancelled``.
AskPath = Callable[[QWidget, str, str, str], str]


def standard_exporters(
    *,
    network_view=None,
    cost_plot=None,
    accuracy_plot=None,
    history: Callable[[], object] | None = None,
    weights: Callable[[], object] | None = None,
) -> dict[str, Callable[..., None]]:
    """The dialog's mapping for the window's parts; a part left out is not offered.

    Parameters
    ----------
    network_view : NetworkView, optional
        Exported by :mod:`bpstudio.gui.network_export` (PNG at a scale, vector SVG).
    cost_plot, accuracy_plot : pyqtgraph.PlotWidget, optional
        Exported by :func:`bpstudio.gui.plot_export.export_plot`.
    history : callable, optional
        Returns what :func:`bpstudio.core.export.write_history_csv` takes: the
        :class:`~bpstudio.core.export.HistoryRows` taken in the training thread (or a session
        the GUI thread may read). Called at the moment of the export.
    weights : callable, optional
        Returns the current snapshot (or a network the GUI thread may read) for
        :func:`bpstudio.core.export.write_weights_npz`.
    """
    from bpstudio.core import export as core_export
    from bpstudio.gui.plot_export import export_plot

    out: dict[str, Callable[..., None]] = {}
    if network_view is not None:
        from bpstudio.gui import network_export

        out["network_png"] = lambda path, scale: network_export.export_network_png(
            network_view, path, scale
        )
        out["network_svg"] = lambda path: network_export.export_network_svg(network_view, path)
    for name, plot in (("cost", cost_plot), ("accuracy", accuracy_plot)):
        if plot is not None:
            out[f"{name}_png"] = lambda path, scale, plot=plot: export_plot(plot, path, scale=scale)
            out[f"{name}_svg"] = lambda path, plot=plot: export_plot(plot, path)
    if history is not None:
        out["history_csv"] = lambda path: core_export.write_history_csv(history(), path)
    if weights is not None:
        out["weights_npz"] = lambda path: core_export.write_weights_npz(weights(), path)
    return out


def ask_save_path(parent: QWidget, caption: str, suggested: str, name_filter: str) -> str:
    """Qt's save-file dialog (it asks before overwriting); "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
    return path


class ExportDialog(QDialog):
    """Choose what to export (the network, a plot, the history, the weights), then where.

    Parameters
    ----------
    exporters : mapping of str to callable
        Keys from :data:`EXPORT_KINDS`; each value is called ``f(path)``, or
        ``f(path, scale=s)`` for kinds with ``scaled``. Kinds without a function are not shown.
    parent : QWidget, optional
    folder : str, optional
        Where the file dialog opens first (default: the current folder).

    Signals
    -------
    exported(kind, path)
        After a successful export; the dialog then closes.
    """

    exported = Signal(str, str)

    def __init__(
        self,
        exporters: Mapping[str, Callable[..., None]],
        parent: QWidget | None = None,
        *,
        folder: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(parent)
        unknown = set(exporters) - set(KIND_BY_KEY)
        if unknown:
            raise ValueError(f"unknown export kinds: {sorted(unknown)}")
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.setMinimumWidth(380)  # room for the help text on two or three lines
        self._exporters = dict(exporters)
        self._kinds = [k for k in EXPORT_KINDS if k.key in self._exporters]
        self.folder = Path(folder) if folder is not None else Path.cwd()
        #: The file dialog; replace it to choose paths without one (tests, scripts).
        self.ask_path: AskPath = ask_save_path
        self._build()
        if self._kinds:
            self.select_kind(self._kinds[0].key)

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        box = QGroupBox("What")
        box_layout = QVBoxLayout(box)
        self._group = QButtonGroup(self)
        self._buttons: dict[str, QRadioButton] = {}
        for kind in self._kinds:
            button = QRadioButton(kind.label)
            button.setObjectName(f"exportKind_{kind.key}")
            button.setToolTip(kind.help)
            self._group.addButton(button)
            self._buttons[kind.key] = button
            box_layout.addWidget(button)
        self._group.buttonToggled.connect(self._on_kind_toggled)
        layout.addWidget(box)

        form = QFormLayout()
        self._scale = QComboBox()
        self._scale.setObjectName("exportScale")
        for s in SCALES:
            self._scale.addItem(f"{s}×", s)
        self._scale.setCurrentIndex(SCALES.index(2))
        self._scale.setToolTip("Pixels per screen pixel of the picture (2× for slides)")
        form.addRow("Scale (PNG):", self._scale)
        layout.addLayout(form)

        self._help = QLabel()
        self._help.setObjectName("exportHelp")
        self._help.setWordWrap(True)
        layout.addWidget(self._help)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self._export_button = buttons.addButton("Export…", QDialogButtonBox.ButtonRole.ActionRole)
        self._export_button.setObjectName("exportButton")
        self._export_button.setDefault(True)
        self._export_button.setEnabled(bool(self._kinds))
        self._export_button.clicked.connect(self._on_export_clicked)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # -- state ----------------------------------------------------------------------------------
    @property
    def kinds(self) -> list[str]:
        """The kinds offered, in order."""
        return [k.key for k in self._kinds]

    @property
    def kind(self) -> str | None:
        """The kind chosen now."""
        for key, button in self._buttons.items():
            if button.isChecked():
                return key
        return None

    def select_kind(self, key: str) -> None:
        """Choose ``key`` (one of :attr:`kinds`)."""
        self._buttons[key].setChecked(True)

    @property
    def scale(self) -> int:
        return int(self._scale.currentData())

    def set_scale(self, scale: int) -> None:
        self._scale.setCurrentIndex(SCALES.index(scale))

    def _on_kind_toggled(self, button, checked: bool) -> None:
        if not checked:
            return
        kind = KIND_BY_KEY[self.kind]
        self._scale.setEnabled(kind.scaled)
        self._help.setText(kind.help)

    # -- exporting ------------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        key = self.kind
        if key is None:
            return
        path = self.choose_path(key)
        if path is not None and self.export(key, path):
            self.accept()

    def choose_path(self, key: str) -> str | None:
        """Ask where to write ``key``, starting from :attr:`folder` and the kind's default name.

        A name typed without an ending gets the kind's; None when the user cancels.
        """
        kind = KIND_BY_KEY[key]
        suggested = os.fspath(self.folder / kind.default_name)
        path = self.ask_path(self, f"Export {kind.label.lower()}", suggested, kind.name_filter)
        if not path:
            return None
        if not Path(path).suffix:
            path += Path(kind.default_name).suffix
        return path

    def export(self, key: str, path: str | os.PathLike) -> bool:
        """Export ``key`` to ``path`` now; returns whether it worked.

        A :class:`~bpstudio.core.errors.BpstudioError` or ``OSError`` is shown in a message box
        (objectName ``exportError``) and False returned.
        """
        kind = KIND_BY_KEY[key]
        function = self._exporters[key]
        path = os.fspath(path)
        try:
            if kind.scaled:
                function(path, scale=self.scale)
            else:
                function(path)
        except (BpstudioError, OSError) as error:
            self._show_error(kind, error)
            return False
        self.folder = Path(path).resolve().parent
        self.exported.emit(key, path)
        return True

    def _show_error(self, kind: ExportKind, error: Exception) -> None:
        old = self.findChild(QMessageBox, "exportError")
        if old is not None:
            old.close()
            old.deleteLater()
        text = str(error) or type(error).__name__
        box = QMessageBox(QMessageBox.Icon.Warning, "Export failed", text, parent=self)
        box.setObjectName("exportError")
        box.setInformativeText(f"{kind.label} was not exported.")
        box.open()  # window-modal, without a nested event loop
