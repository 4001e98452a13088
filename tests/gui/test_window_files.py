"""The window's session files and exports, driven through its actions and dialogs."""

import csv
import zipfile

import numpy as np
import pytest

from bpstudio.core.data import load_dataset
from bpstudio.core.run import RunSpec
from bpstudio.core.session import Session
from bpstudio.gui import create_main_window
from bpstudio.gui.window_exports import open_export_dialog

TIMEOUT = 30_000


@pytest.fixture
def window(qtbot):
    win = create_main_window("digits", seed=1, epochs=1000)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    if win.snapshot is None:
        with qtbot.waitSignal(win.session_loaded, timeout=TIMEOUT):
            pass
    yield win
    win.files.modified = False  # nothing to ask about when the test closes it
    win.close()


def _advance(window, qtbot, n):
    target = window.snapshot.batches_done + n
    window.controller.advance(n)
    qtbot.waitUntil(lambda: window.snapshot.batches_done == target, timeout=TIMEOUT)


def test_save_marks_title_then_open_restores_position_note_and_selection(window, qtbot, tmp_path):
    _advance(window, qtbot, 25)
    assert window.isWindowModified()
    window.model.set_selection(("w", 3, 4, 7))
    window.note.setPlainText("Watch δ³ before stepping BP2.")
    path = str(tmp_path / "lesson.bpsession")
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT):
        window.files.save_to(path)
    assert not window.isWindowModified() and window.windowTitle().startswith("lesson.bpsession")
    saved = Session.load(path)
    assert saved.batches_done == 25 and saved.note == "Watch δ³ before stepping BP2."
    _advance(window, qtbot, 5)
    window.model.set_selection(None)
    window.note.setPlainText("")
    window.confirm = lambda text: True
    with qtbot.waitSignal(window.session_loaded, timeout=TIMEOUT):
        window.files.open(path)
    assert window.snapshot.batches_done == 25
    assert window.note_text() == "Watch δ³ before stepping BP2."
    assert window.model.selection == ("w", 3, 4, 7)
    assert np.array_equal(window.snapshot.weights[0], saved.network.weights[0])


def test_a_bad_file_shows_a_message_and_the_session_stays(window, qtbot, tmp_path):
    _advance(window, qtbot, 10)
    bad = tmp_path / "bad.bpsession"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("manifest.json", "{not json")
    window.confirm = lambda text: True
    window.files.open(str(bad))
    qtbot.waitUntil(lambda: window.last_message is not None, timeout=TIMEOUT)
    assert "not valid JSON" in window.last_message and "\n" not in window.last_message
    window.controller.step_batch()
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 11, timeout=TIMEOUT)


def test_export_history_csv_and_weights_from_the_dialog(window, qtbot, tmp_path):
    _advance(window, qtbot, 130)  # more than one epoch of the digits
    dialog = open_export_dialog(window)
    csv_path, npz_path = tmp_path / "h.csv", tmp_path / "w.npz"
    assert dialog.export("history_csv", csv_path)
    assert dialog.export("weights_npz", npz_path)
    session_costs = window.controller.ask(lambda s: s.history.batch_costs.array().copy())
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["cost"]) for r in rows] == session_costs.tolist()
    with np.load(npz_path, allow_pickle=False) as z:
        assert np.array_equal(z["w2"], window.snapshot.weights[0])
    dialog.close()


@pytest.mark.mnist
def test_a_session_whose_data_moved_asks_where_it_is(qtbot, tmp_path, mnist_folder, monkeypatch):
    moved = tmp_path / "mnist"
    moved.mkdir()
    for f in mnist_folder.glob("*-ubyte.gz"):
        (moved / f.name).symlink_to(f)
    session = Session.from_spec(
        RunSpec(data=f"mnist:{moved}", sizes=(784, 20, 10)), load_dataset(f"mnist:{moved}")
    )
    session.run(30)
    path = tmp_path / "moved.bpsession"
    session.save(path)
    for f in moved.iterdir():
        f.unlink()
    moved.rmdir()
    win = create_main_window("digits")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.snapshot is not None, timeout=TIMEOUT)
    asked = []
    win.confirm = lambda text: asked.append(text) or True
    monkeypatch.setattr(win, "locate_data", lambda: f"mnist:{mnist_folder}")
    win.files.open(str(path))
    qtbot.waitUntil(lambda: win.snapshot.batches_done == 30, timeout=TIMEOUT)
    assert any("cannot be loaded" in t for t in asked)
    assert np.array_equal(win.snapshot.weights[0], session.network.weights[0])
    win.discard_and_close()
