"""WhyFastDialog: the whole gradient both ways in a background thread, cancel, and closing."""

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QProgressBar, QPushButton

from bpstudio.core.network import Network
from bpstudio.core.session import Session
from bpstudio.gui.whyfast import WhyFastDialog
from tests.core.test_session import blobs
from tests.gui.test_inspector import snapshot_of


def batch(sizes, m=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((m, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    return x, y


@pytest.fixture
def make_dialog(qtbot):
    def make(sizes, m=10):
        net = Network(sizes, seed=0)
        x, y = batch(sizes, m)
        dialog = WhyFastDialog(net, x, y)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog, net

    return make


def progress_of(dialog):
    return dialog.findChild(QProgressBar, "whyFastProgress").value()


def test_the_whole_gradient_both_ways_on_the_first_example(qtbot, make_dialog):
    dialog, net = make_dialog([64, 16, 10])
    before = net.parameters.copy()
    with qtbot.waitSignal(dialog.result_ready, timeout=60_000) as blocker:
        dialog.findChild(QPushButton, "whyFastRun").click()
    r = dialog.finished_result
    assert blocker.args == [r]
    assert r.total_parameters == len(r.params) == 64 * 16 + 16 + 16 * 10 + 10
    assert r.batch_size == 1
    assert r.max_relative_error <= 1e-6
    assert r.speed_ratio > 1
    assert np.array_equal(net.parameters, before)
    assert dialog.worker_thread.isFinished()
    assert progress_of(dialog) == r.total_parameters
    text = dialog.findChild(QLabel, "whyFastResults").text()
    assert f"{r.total_parameters:,}" in text and "two forward passes" in text
    assert dialog.status_text == "Done."


def test_the_whole_mini_batch_on_request(qtbot, make_dialog):
    dialog, _ = make_dialog([5, 4, 3], m=7)
    dialog.findChild(QCheckBox, "whyFastWholeBatch").setChecked(True)
    with qtbot.waitSignal(dialog.result_ready, timeout=60_000):
        dialog.run()
    assert dialog.finished_result.batch_size == 7
    assert dialog.finished_result.max_relative_error <= 1e-6
    with qtbot.waitSignal(dialog.result_ready, timeout=60_000):  # it can run again
        dialog.run()


def test_from_a_snapshot_uses_the_current_weights_and_the_traced_batch(qtbot):
    s = Session(blobs(), [5, 6, 3], seed=0)
    s.step_batch(record=True)
    dialog = WhyFastDialog.from_snapshot(snapshot_of(s))
    qtbot.addWidget(dialog)
    assert np.array_equal(dialog._network.parameters, s.network.parameters)
    assert np.array_equal(dialog._x, s.trace().x)
    with qtbot.waitSignal(dialog.result_ready, timeout=60_000):
        dialog.run()


def test_cancel_stops_the_run_and_its_thread(qtbot, make_dialog):
    dialog, _ = make_dialog([784, 30, 10])
    dialog.run()
    qtbot.waitUntil(lambda: progress_of(dialog) > 0, timeout=60_000)
    with qtbot.waitSignal(dialog.cancelled, timeout=60_000):
        dialog.findChild(QPushButton, "whyFastCancel").click()
    assert dialog.status_text == "Cancelled"
    assert dialog.worker_thread.isFinished()
    assert dialog.finished_result is None
    assert dialog.findChild(QPushButton, "whyFastRun").isEnabled()


@pytest.mark.parametrize("how", ["close", "reject"])
def test_closing_mid_run_joins_the_thread(qtbot, make_dialog, how):
    dialog, _ = make_dialog([784, 30, 10])
    dialog.run()
    qtbot.waitUntil(lambda: progress_of(dialog) > 0, timeout=60_000)
    thread = dialog.worker_thread
    assert thread.isRunning()
    getattr(dialog, how)()
    assert thread.isFinished()  # joined before close() / reject() returned
    assert not dialog.running
    with qtbot.waitSignal(dialog.cancelled, timeout=60_000):
        pass  # the worker's queued report arrives after the join, and does no harm
    assert dialog.status_text == "Cancelled"
