"""File → Export for the main window: which parts can be exported, and how each is reached.

The network view and the plots are the GUI's own; the history (at full resolution) and the
weights belong to the live session, so they are written in the training thread, between two
slices of training (:meth:`~bpstudio.gui.worker.TrainingController.ask`), and written here.
"""

from __future__ import annotations

from pathlib import Path

from bpstudio.core import export as core_export
from bpstudio.gui import settings
from bpstudio.gui.export_dialog import ExportDialog, standard_exporters


def window_exporters(window) -> dict:
    """The export dialog's mapping for ``window``."""
    ask = window.controller.ask
    out = standard_exporters(
        network_view=window.view,
        cost_plot=window.plots.cost,
        accuracy_plot=window.plots.accuracy,
    )
    # The rows are taken in the training thread; the file is written here, off its time.
    out["history_csv"] = lambda path: core_export.write_history_csv(
        ask(core_export.history_rows), path
    )
    out["weights_npz"] = lambda path: core_export.write_weights_npz(
        ask(lambda s: s.network.copy()), path
    )
    return out


def open_export_dialog(window) -> ExportDialog:
    """Show the Export dialog (non-modal), opening in the folder of the last file used."""
    recent = settings.recent_files()
    folder = Path(recent[0]).parent if recent else Path.home()
    dialog = ExportDialog(window_exporters(window), window, folder=folder)
    dialog.exported.connect(
        lambda kind, path: window.statusBar().showMessage(f"Exported {path}", 5000)
    )
    dialog.open()
    window.export_dialog = dialog
    return dialog
