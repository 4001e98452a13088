"""The real window, driven as a user would: play, pause, reset, close, diverge."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from bpstudio.core.functions import get_activation
from bpstudio.core.network import Network
from bpstudio.gui import create_main_window
from bpstudio.gui.colors import DivergingMap, nice_ceiling

SESSION_TIMEOUT = 30_000


@pytest.fixture
def window(qtbot):
    win = create_main_window("digits", seed=0, epochs=1000)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    if win.snapshot is None:
        with qtbot.waitSignal(win.session_loaded, timeout=SESSION_TIMEOUT):
            pass
    yield win
    win.close()


def test_objects_are_named_for_tests_and_accessibility(window):
    for name in (
        "actionPlay",
        "actionPause",
        "actionReset",
        "actionStepBatch",
        "actionStepPhase",
        "actionFit",
    ):
        assert window.findChild(type(window.actions["actionPlay"]), name) is not None
    for name in (
        "networkView",
        "costPlot",
        "accuracyPlot",
        "controlsPanel",
        "hyperPanel",
        "speedSlider",
        "dataCombo",
        "sizesEdit",
        "etaSpin",
        "batchSpin",
    ):
        assert window.findChild(object, name) is not None, name
    assert window.actions["actionPlayPause"].shortcut().toString() == "Space"


def test_play_trains_live_and_node_colours_follow_delta(window, qtbot):
    with qtbot.waitSignal(window.running_changed, timeout=5000):
        window.actions["actionPlay"].trigger()

    def trained_a_while():
        s = window.snapshot
        return s is not None and s.running and s.batches_done > 50 and s.trace is not None

    qtbot.waitUntil(trained_a_while, timeout=20_000)
    window.actions["actionPause"].trigger()
    qtbot.waitUntil(lambda: not window.snapshot.running, timeout=5000)
    snap = window.snapshot
    assert window.plots.cost.batches == snap.batches_done  # every batch's cost reached the plot
    # The colour of an output node in the rendered view is the colour map of its mean δ.
    delta = snap.trace.delta[2].mean(axis=0)
    j = int(np.argmax(np.abs(delta)))
    window.view.refresh_now()
    want = window.view.value_to_color(float(delta[j]))
    # Paused, the scale is this snapshot's own: the round number above max |mean δ|.
    peak = max(np.abs(d.mean(axis=0)).max() for d in snap.trace.delta[1:])
    assert want == DivergingMap(nice_ceiling(peak)).qcolor(float(delta[j]))
    image = window.view.mouse_widget.grab().toImage()
    got = image.pixelColor(window.view.neuron_widget_pos(3, j))
    assert (
        max(
            abs(got.red() - want.red()),
            abs(got.green() - want.green()),
            abs(got.blue() - want.blue()),
        )
        <= 3
    )
    assert window.view.node_color(3, j) == want


def test_pause_stops_updates(window, qtbot):
    window.actions["actionPlay"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.batches_done > 10, timeout=20_000)
    window.actions["actionPause"].trigger()
    qtbot.waitUntil(lambda: not window.snapshot.running, timeout=5000)
    done = window.snapshot.batches_done
    # A round trip through the worker's thread: its reply comes after anything it had queued,
    # so a worker still training would show more batches here.
    with qtbot.waitSignal(window.snapshot_received, timeout=5000) as blocker:
        window.controller.pause()
    assert blocker.args[0].batches_done == done and not blocker.args[0].running
    play, pause = window.actions["actionPlay"], window.actions["actionPause"]
    assert play.isEnabled() and not pause.isEnabled()


def test_reset_restores_the_seeded_initial_weights(window, qtbot):
    expected = Network([64, 16, 10], seed=None, rng=_init_rng(0))
    first = window.snapshot
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, expected.weights))
    window.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 1, timeout=5000)
    assert not np.array_equal(window.snapshot.weights[0], expected.weights[0])
    with qtbot.waitSignal(window.session_loaded, timeout=5000):
        window.actions["actionReset"].trigger()
    assert window.snapshot.batches_done == 0
    assert all(np.array_equal(a, b) for a, b in zip(window.snapshot.weights, expected.weights))
    assert window.plots.cost.batches == 0


def _init_rng(seed):
    init, _ = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init)


def test_closing_during_training_leaves_no_thread(qtbot):
    win = create_main_window("digits", epochs=1000)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session_loaded, timeout=SESSION_TIMEOUT):
        pass
    win.actions["actionPlay"].trigger()
    qtbot.waitUntil(lambda: win.snapshot.running and win.snapshot.batches_done > 5, timeout=20_000)
    assert win.controller.thread.isRunning()
    win.close()
    assert win.controller.thread.isFinished()
    win.show()
    win.close()  # closing again is harmless (no second disconnect of the idle hook)


def test_accuracy_plot_shows_every_epoch_of_a_run(qtbot):
    # While training runs, the accuracy plot is redrawn with the cost plot a few times a
    # second; when the run ends, it must hold every epoch's record.
    win = create_main_window("digits", seed=0, epochs=3)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    with qtbot.waitSignal(win.session_loaded, timeout=SESSION_TIMEOUT):
        pass
    win.actions["actionPlay"].trigger()
    qtbot.waitUntil(
        lambda: len(win.snapshot.epoch_records) == 3 and not win.snapshot.running, timeout=60_000
    )
    records = win.snapshot.epoch_records
    assert win.plots.accuracy.epochs == records
    x, y = win.plots.accuracy.validation_curve.getData()
    assert list(x) == [r.epoch for r in records]
    assert np.allclose(y, [100 * r.validation_accuracy for r in records])
    win.close()


def test_a_diverging_eta_pauses_with_a_message(qtbot):
    win = create_main_window("digits", activation="linear", eta=1e6)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session_loaded, timeout=SESSION_TIMEOUT):
        pass
    win.actions["actionPlay"].trigger()
    qtbot.waitUntil(lambda: win.findChild(QMessageBox, "diagnosisBox") is not None, timeout=20_000)
    box = win.findChild(QMessageBox, "diagnosisBox")
    assert box.isVisible() and box.windowTitle() in ("Training diverged", "The weights blew up")
    assert "paused" in box.text() and "η" in box.text()
    # It offers what helps, not only "a smaller η": a reset that a click carries out.
    reset = box.findChild(QPushButton, "diagnosisReset")
    assert reset is not None
    qtbot.waitUntil(lambda: not win.snapshot.running, timeout=5000)
    assert all(np.isfinite(w).all() for w in win.snapshot.weights)  # the last good state
    win.controller.step_batch()
    qtbot.waitUntil(lambda: win.snapshot.batches_done >= 1, timeout=5000)
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.snapshot.batches_done == 0, timeout=5000)
    win.close()


def test_a_dead_relu_network_is_detected_and_explained(qtbot):
    win = create_main_window("digits", activation="relu", eta=1e4, epochs=1000)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.snapshot is not None, timeout=SESSION_TIMEOUT)
    win.controller.advance(1)  # one healthy-looking step is kept…
    qtbot.waitUntil(lambda: win.last_message is not None, timeout=20_000)
    for _ in range(12):  # …then every neuron dies
        win.controller.step_batch()
    qtbot.waitUntil(lambda: win.findChild(QMessageBox, "diagnosisBox") is not None, timeout=20_000)
    box = win.findChild(QMessageBox, "diagnosisBox")
    assert "dead" in box.text().lower() or "blew" in box.windowTitle().lower()
    win.close()


def test_space_toggles_play_and_pause(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.snapshot.running, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.snapshot.running, timeout=5000)


def test_hyperparameters_apply_at_the_next_batch(window, qtbot):
    window.hyper.eta.setValue(0.5)
    window.hyper.batch.setValue(4)
    window.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 1, timeout=5000)
    snap = window.snapshot
    assert snap.eta == 0.5 and snap.trace.batch_size == 4 and snap.trace.eta == 0.5


def test_changing_sizes_rebuilds_after_asking(window, qtbot):
    window.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 1, timeout=5000)
    asked = []
    window.confirm = lambda text: asked.append(text) or True
    window.hyper.sizes.setText("64 20 12 10")
    with qtbot.waitSignal(window.session_loaded, timeout=SESSION_TIMEOUT):
        window.hyper.apply.click()
    assert asked and window.snapshot.sizes == (64, 20, 12, 10)
    assert window.snapshot.batches_done == 0


def test_a_bad_data_set_is_a_message_not_a_crash(window, qtbot):
    window.hyper.data.setCurrentText("mnist:/no/such/folder")
    with qtbot.waitSignal(window.error_shown, timeout=SESSION_TIMEOUT):
        window.hyper.apply.click()
    qtbot.waitUntil(lambda: window.last_message is not None, timeout=5000)
    assert "/no/such/folder" in window.last_message
    assert window.snapshot.sizes == (64, 16, 10)  # the old session goes on


def test_node_quantity_choice(window, qtbot):
    window.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: window.snapshot.batches_done == 1, timeout=5000)
    window.controls.quantity.setCurrentIndex(1)  # a
    window.render_now()
    a = window.snapshot.trace.a[1].mean(axis=0)
    assert window.view.node_color(2, 0) == window.view.value_to_color(float(a[0]))
    window.controls.quantity.setCurrentIndex(3)  # σ'(z)
    window.render_now()
    sp = get_activation("sigmoid").prime(window.snapshot.trace.z[1]).mean(axis=0)
    assert window.view.node_color(2, 0) == window.view.value_to_color(float(sp[0]))
