"""The Export dialog: the kind chosen and the path given reach the right exporter; an error shows
its one-line message and the dialog keeps working."""

import os

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QMessageBox, QPushButton, QRadioButton

from bpstudio.core.atomic import FileError
from bpstudio.core.errors import ConfigError
from bpstudio.gui.export_dialog import (
    EXPORT_KINDS,
    KIND_BY_KEY,
    ExportDialog,
    standard_exporters,
)


class Recorder:
    """Stands in for the window's export functions and records each call."""

    def __init__(self):
        self.calls = []
        self.error = None

    def function(self, key):
        def export(path, **kwargs):
            self.calls.append((key, path, kwargs))
            if self.error is not None:
                raise self.error

        return export


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def dialog(qtbot, recorder, tmp_path):
    exporters = {k.key: recorder.function(k.key) for k in EXPORT_KINDS}
    d = ExportDialog(exporters, folder=tmp_path)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def choose(qtbot, dialog, key):
    button = dialog.findChild(QRadioButton, f"exportKind_{key}")
    # On its label: a radio button only takes clicks on its circle and text, not its full width.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(12, button.height() // 2))
    assert dialog.kind == key


def test_history_csv_and_a_path_call_the_csv_function_with_that_path(qtbot, dialog, recorder):
    asked = []
    chosen = os.fspath(dialog.folder / "my run.csv")
    dialog.ask_path = lambda parent, caption, suggested, name_filter: (
        asked.append((suggested, name_filter)) or chosen
    )
    choose(qtbot, dialog, "history_csv")
    with qtbot.waitSignal(dialog.exported) as signal:
        click(qtbot, dialog.findChild(QPushButton, "exportButton"))
    assert recorder.calls == [("history_csv", chosen, {})]
    assert signal.args == ["history_csv", chosen]
    assert asked == [(os.fspath(dialog.folder / "bpstudio-history.csv"), "CSV table (*.csv)")]
    assert not dialog.isVisible()  # done: the dialog closes


def test_a_png_kind_gets_the_chosen_scale_and_an_svg_kind_none(qtbot, dialog, recorder, tmp_path):
    dialog.ask_path = lambda *args: os.fspath(tmp_path / "net")  # typed without an ending
    choose(qtbot, dialog, "network_png")
    scale = dialog.findChild(QComboBox, "exportScale")
    assert scale.isEnabled()
    scale.setCurrentIndex(scale.findText("3×"))
    click(qtbot, dialog.findChild(QPushButton, "exportButton"))
    assert recorder.calls == [("network_png", os.fspath(tmp_path / "net.png"), {"scale": 3})]

    recorder.calls.clear()
    choose(qtbot, dialog, "network_svg")
    assert not scale.isEnabled()
    assert dialog.export("network_svg", tmp_path / "n.svg")
    assert recorder.calls == [("network_svg", os.fspath(tmp_path / "n.svg"), {})]


def test_an_error_shows_its_one_line_message_and_the_dialog_stays(
    qtbot, dialog, recorder, tmp_path
):
    dialog.ask_path = lambda *args: "/nowhere/h.csv"
    recorder.error = FileError("cannot write /nowhere/h.csv: the folder /nowhere does not exist")
    choose(qtbot, dialog, "history_csv")
    click(qtbot, dialog.findChild(QPushButton, "exportButton"))
    box = dialog.findChild(QMessageBox, "exportError")
    assert box is not None and box.isVisible()
    assert box.text() == "cannot write /nowhere/h.csv: the folder /nowhere does not exist"
    assert "History as CSV" in box.informativeText()
    assert dialog.isVisible()
    box.close()

    # A second try with a good name works, from the same dialog.
    recorder.error = None
    good = os.fspath(tmp_path / "ok.csv")
    dialog.ask_path = lambda *args: good
    with qtbot.waitSignal(dialog.exported):
        click(qtbot, dialog.findChild(QPushButton, "exportButton"))
    assert recorder.calls[-1] == ("history_csv", good, {})


def test_a_config_error_from_the_public_seam_returns_false(qtbot, dialog, recorder, tmp_path):
    recorder.error = ConfigError("cannot export a plot as 'x.jpg': choose a name ending in .png")
    assert not dialog.export("cost_png", tmp_path / "x.jpg")
    box = dialog.findChild(QMessageBox, "exportError")
    assert box.text().startswith("cannot export a plot as 'x.jpg'")
    box.close()


def test_cancelling_the_file_dialog_exports_nothing(qtbot, dialog, recorder):
    dialog.ask_path = lambda *args: ""
    click(qtbot, dialog.findChild(QPushButton, "exportButton"))
    assert recorder.calls == []
    assert dialog.isVisible()


def test_only_the_kinds_given_are_offered(qtbot, recorder):
    d = ExportDialog({"weights_npz": recorder.function("weights_npz")})
    qtbot.addWidget(d)
    assert d.kinds == ["weights_npz"]
    assert d.kind == "weights_npz"
    assert d.findChild(QRadioButton, "exportKind_network_png") is None
    assert not d.findChild(QComboBox, "exportScale").isEnabled()
    with pytest.raises(ValueError, match="unknown export kinds"):
        ExportDialog({"movie_mp4": print})


def test_the_standard_exporters_write_each_file_through_the_dialog(qtbot, tmp_path, monkeypatch):
    import csv

    import numpy as np
    import pyqtgraph as pg

    from bpstudio.core.export import history_rows
    from bpstudio.core.session import Session
    from tests.core.test_export import blobs

    session = Session(blobs(), [5, 6, 3], seed=1)
    session.run(12)
    rows = history_rows(session)  # as the training thread would hand them over
    plots = {}
    for name in ("cost", "accuracy"):
        plots[name] = pg.PlotWidget()
        plots[name].plot([0, 1, 2], [3, 1, 2])
        qtbot.addWidget(plots[name])
        plots[name].show()
    network_export = pytest.importorskip("bpstudio.gui.network_export")
    drawn = []
    monkeypatch.setattr(
        network_export, "export_network_png", lambda view, path, scale: drawn.append(scale)
    )
    exporters = standard_exporters(
        network_view="the view",
        cost_plot=plots["cost"],
        accuracy_plot=plots["accuracy"],
        history=lambda: rows,
        weights=lambda: session.network,
    )
    d = ExportDialog(exporters, folder=tmp_path)
    qtbot.addWidget(d)
    assert d.kinds == [k.key for k in EXPORT_KINDS]
    d.set_scale(3)
    for key in ("cost_png", "accuracy_svg", "history_csv", "weights_npz", "network_png"):
        assert d.export(key, tmp_path / KIND_BY_KEY[key].default_name), key
    assert drawn == [3]
    assert sorted(os.listdir(tmp_path)) == [
        "bpstudio-accuracy.svg",
        "bpstudio-cost.png",
        "bpstudio-history.csv",
        "bpstudio-weights.npz",
    ]
    with open(tmp_path / "bpstudio-history.csv", newline="") as f:
        costs = [float(r["cost"]) for r in csv.DictReader(f)]
    assert costs == session.history.batch_costs
    with np.load(tmp_path / "bpstudio-weights.npz") as npz:
        assert np.array_equal(npz["w3"], session.network.weights[1])
