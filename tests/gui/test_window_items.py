"""The window as a new or hostile user meets it: focus, speed, tooltips, seeds, epochs, closing,
loads that take long, and session files that pass between the command line and the app."""

import threading
import weakref

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit

from bpstudio.cli import main
from bpstudio.core.errors import Cancelled
from bpstudio.core.runner import SPEEDS
from bpstudio.core.session import Session
from bpstudio.gui import create_main_window
from bpstudio.gui.window_render import epoch_text

TIMEOUT = 30_000


def _window(qtbot, **settings):
    win = create_main_window(settings.pop("data", "digits"), **settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    if win.snapshot is None:
        with qtbot.waitSignal(win.session_loaded, timeout=TIMEOUT):
            pass
    return win


@pytest.fixture
def window(qtbot):
    win = _window(qtbot, epochs=1000)
    yield win
    win.discard_and_close()


def test_a_new_window_starts_at_a_speed_a_person_can_follow(window):
    assert SPEEDS[window.controls.speed.value()] is not None
    assert SPEEDS[window.controls.speed.value()] <= 30


def test_every_form_field_explains_itself(window):
    for widget in window.hyper.fields.values():
        assert len(widget.toolTip()) > 10, widget.objectName()


def test_keys_go_to_a_field_while_it_is_edited_and_back_to_the_window_after(window, qtbot):
    sizes = window.hyper.sizes
    qtbot.mouseClick(sizes, Qt.MouseButton.LeftButton)
    sizes.setFocus()
    qtbot.waitUntil(sizes.hasFocus)
    sizes.clear()
    qtbot.keyClicks(sizes, "64 20 10")
    assert sizes.text() == "64 20 10"  # the space is a space while editing
    qtbot.keyClick(sizes, Qt.Key.Key_Escape)
    assert not sizes.hasFocus()
    before = window.snapshot.batches_done
    qtbot.keyClick(window, Qt.Key.Key_N)  # now N steps a mini-batch
    qtbot.waitUntil(lambda: window.snapshot.batches_done == before + 1, timeout=TIMEOUT)
    assert sizes.text() == "64 20 10"
    sizes.setFocus()
    qtbot.waitUntil(sizes.hasFocus)
    qtbot.mouseClick(window.view.mouse_widget, Qt.MouseButton.LeftButton)  # a click on the view
    assert not isinstance(QApplication.focusWidget(), QLineEdit)


def test_any_seed_the_command_line_takes_works_in_the_window(window, qtbot):
    window.hyper.seed.setText(str(2**40 + 1))
    window.actions["actionRebuild"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.spec.seed == 2**40 + 1, timeout=TIMEOUT)
    window.last_message = None
    window.hyper.seed.setText("-1")
    window.actions["actionRebuild"].trigger()
    assert "seed" in window.last_message
    assert window.snapshot.spec.seed == 2**40 + 1  # the session stays


def test_epochs_are_numbered_from_zero_everywhere():
    assert epoch_text(0, 30) == "epoch 0 (from 0; the last is epoch 29)"
    assert epoch_text(30, 30) == "all 30 epochs done (0 to 29)"
    assert epoch_text(1, 1) == "epoch 0 done"


def test_closing_with_unsaved_progress_asks_and_no_keeps_the_window(window, qtbot):
    window.controller.advance(3)
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 3, timeout=TIMEOUT)
    asked = []
    window.confirm = lambda text: asked.append(text) or False
    window.close()
    assert asked and "not saved" in asked[0] and window.isVisible()
    assert window.controller.thread.isRunning()


def test_closing_during_a_long_load_cancels_it(qtbot, monkeypatch):
    started = threading.Event()

    def slow_load(spec, seed=0, *, cancel=None):
        started.set()
        while not cancel():
            threading.Event().wait(0.01)
        raise Cancelled("cancelled")

    monkeypatch.setattr("bpstudio.core.data.load_dataset", slow_load)
    win = create_main_window("digits")
    qtbot.addWidget(win)
    win.show()
    assert started.wait(10)
    win.close()
    assert win.controller.thread.isFinished()


def test_a_closed_window_is_freed_at_once(qtbot):
    ref = _closed_window(qtbot)
    qtbot.waitUntil(lambda: ref() is None, timeout=5000)  # no gc.collect() of the test's own


def _closed_window(qtbot):
    win = create_main_window("digits")
    win.show()
    qtbot.waitUntil(lambda: win.snapshot is not None, timeout=TIMEOUT)
    ref = weakref.ref(win)
    win.discard_and_close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # as the event loop does
    return ref


def test_a_file_saved_by_the_command_line_opens_in_the_app_and_back(window, qtbot, tmp_path):
    cli_file, app_file = tmp_path / "cli.bpsession", tmp_path / "app.bpsession"
    assert main(["train", "--batches", "45", "--save", str(cli_file), "--progress", "never"]) == 0
    window.files.open(str(cli_file))
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 45, timeout=TIMEOUT)
    window.controller.advance(5)
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 50, timeout=TIMEOUT)
    with qtbot.waitSignal(window.files.saved, timeout=TIMEOUT):
        window.files.save_to(str(app_file))
    assert main(["session", "verify", str(app_file)]) == 0
    assert main(["train", "--resume", str(app_file), "--batches", "60", "--progress", "never"]) == 0
    assert Session.load(app_file).batches_done == 60


def test_bpstudio_file_opens_the_app_on_it(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(
        "bpstudio.gui.app.run_app",
        lambda spec, open_file=None, last_run=False: seen.update(file=open_file) or 0,
    )
    path = str(tmp_path / "x.bpsession")
    assert main([path]) == 0 and seen["file"] == path


def test_choosing_mnist_offline_offers_the_download_and_a_folder(
    window, qtbot, monkeypatch, tmp_path
):
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    window.hyper.data.setCurrentText("mnist")
    window.actions["actionRebuild"].trigger()
    dialog = window.findChild(QDialog, "mnistDialog")
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible())
    assert window.snapshot.spec.data == "digits"  # nothing was rebuilt yet
    dialog.reject()


def test_phase_steps_band_what_they_computed_and_a_mini_batch_step_does_not(window, qtbot):
    kinds = []
    for _ in range(4):  # feedforward, BP1, BP2 (layer 2), BP3/BP4
        window.actions["actionStepPhase"].trigger()
        n = len(kinds) + 1
        qtbot.waitUntil(
            lambda n=n: window.snapshot.in_pass and window.snapshot.trace.phases_done == n,
            timeout=TIMEOUT,
        )
        window.render_now()
        band = window.view.highlight()
        assert band is not None
        kinds.append(window.snapshot.trace.last_phase.kind)
    assert kinds == ["feedforward", "output_error", "backpropagate", "gradients"]
    window.actions["actionStepPhase"].trigger()  # the update ends the batch: still banded
    qtbot.waitUntil(lambda: not window.snapshot.in_pass, timeout=TIMEOUT)
    window.render_now()
    assert window.view.highlight() is not None
    window.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 2, timeout=TIMEOUT)
    window.render_now()
    assert window.view.highlight() is None


def test_choosing_another_data_set_fits_the_layer_ends_and_a_failure_keeps_the_form(window, qtbot):
    window.controller.advance(5)
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 5, timeout=TIMEOUT)
    window.hyper.sizes.setText("64 24 10")
    window.hyper.data.setCurrentText("spiral")
    window.actions["actionRebuild"].trigger()  # "discard training?" is answered yes
    qtbot.waitUntil(lambda: window.snapshot.spec.data == "spiral", timeout=TIMEOUT)
    assert window.snapshot.sizes == (2, 24, 3)  # the hidden layer kept, the ends fitted
    assert window.hyper.sizes.text() == "2 24 3"
    window.last_message = None
    window.hyper.data.setCurrentText("no-such-data")
    window.actions["actionRebuild"].trigger()
    qtbot.waitUntil(lambda: window.last_message is not None, timeout=TIMEOUT)
    assert "unknown data set" in window.last_message
    assert window.hyper.data.currentText() == "spiral"  # the form shows the session it has
    assert window.snapshot.spec.data == "spiral"


def test_the_run_description_round_trips_through_the_form_and_is_remembered(window, qtbot):
    from bpstudio.core.run import RunSpec
    from bpstudio.gui import settings
    from bpstudio.gui.app import remembered_run
    from tests.core.test_run import SPECS

    spec = SPECS[1]  # every field away from its default
    window.hyper.set_spec(spec)
    assert window.hyper.spec() == spec
    settings.save_last_run(spec.to_dict())
    assert remembered_run(RunSpec()) == spec
    settings.save_last_run({"data": "digits", "eta": "fast"})  # damaged: start as new
    assert remembered_run(RunSpec()) == RunSpec()


def test_bpstudio_without_options_starts_from_the_last_run(monkeypatch):
    seen = []
    monkeypatch.setattr(
        "bpstudio.gui.app.run_app",
        lambda spec, open_file=None, last_run=False: seen.append((spec.data, last_run)) or 0,
    )
    assert main([]) == 0 and main(["--data", "xor"]) == 0
    assert seen == [("digits", True), ("xor", False)]


class _LayoutRequests:
    """Counts the layout requests a widget receives."""

    def __init__(self, widget):
        from PySide6.QtCore import QObject

        class Filter(QObject):
            def eventFilter(inner, obj, event):  # noqa: N802, N805 (Qt's name)
                if event.type() == QEvent.Type.LayoutRequest:
                    self.count += 1
                return False

        self.count = 0
        self._filter = Filter()
        widget.installEventFilter(self._filter)


def test_status_numbers_changing_while_training_do_not_lay_the_window_out_again(window, qtbot):
    # A label sized by its text asks the main window (docks and all) to lay out and repaint
    # most of itself at every change, four times a second while training runs.
    label = window.status["speedLabel"]
    label.show_text("123,456 examples/s")
    QApplication.sendPostedEvents()  # the widening's own layout requests, delivered now
    QApplication.processEvents()
    width = label.width()
    requests = _LayoutRequests(window)
    for text in ("99,999 examples/s", "1 examples/s", "111,111 examples/s", "0 examples/s"):
        label.show_text(text)  # no wider than what it showed: its size stays
        QApplication.processEvents()
        assert label.text() == text and label.width() == width
    assert requests.count == 0
    label.show_text("123,456,789,012 examples/s")  # longer: it widens, once
    assert label.width() > width
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    label.show_text("1 examples/s", may_narrow=True)  # paused: it fits its text again
    assert label.width() < width
