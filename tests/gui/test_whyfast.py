"""WhyFastDialog: the whole gradient both ways in a background thread, cancel, and closing."""

import re

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QProgressBar, QPushButton

from bpstudio.core.gradcheck import GradientCheck, Param
from bpstudio.core.network import Network
from bpstudio.core.session import Session
from bpstudio.gui.numbers import format_factor
from bpstudio.gui.whyfast import WhyFastDialog, comparison
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


def results_text(dialog):
    return dialog.findChild(QLabel, "whyFastResults").text()


def shown_rows(dialog):
    """The results table as {row name: shown value}."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", results_text(dialog))
    strip = [re.sub(r"<[^>]+>", "", c) for c in cells]
    return dict(zip(strip[::2], strip[1::2]))


def known_result(backprop_seconds, numeric_seconds_all, total=1210):
    """A finished check of a [64, 16, 10] network (1,210 parameters) with chosen times."""
    params = (Param("w", 2, 0, 0), Param("b", 3, 4))
    return GradientCheck(
        params=params,
        backprop=np.array([0.25, -0.5]),
        numeric=np.array([0.25, -0.5 + 1e-9]),
        backprop_seconds=backprop_seconds,
        numeric_seconds=numeric_seconds_all * len(params) / total,
        total_parameters=total,
        batch_size=1,
    )


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
    assert np.array_equal(net.parameters, before)
    assert dialog.worker_thread.isFinished()
    assert progress_of(dialog) == r.total_parameters
    text = results_text(dialog)
    assert f"{r.total_parameters:,}" in text and "two forward passes" in text
    # The factor shown is the one measured, and the words say how it compares.
    shown = shown_rows(dialog)
    assert shown["backprop is faster by a factor of"] == format_factor(r.speed_ratio)
    assert shown["counting forward passes predicts"] == f"{r.total_parameters:,}×"
    word = comparison(r.speed_ratio, r.total_parameters)
    assert f"The measured factor is {word}" in text
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


@pytest.mark.parametrize(
    "numeric_seconds, factor, word",
    [
        (1.256, "1,256×", "about the same"),  # issue 11 item 4: it said "smaller" here
        (2.5, "2,500×", "larger"),
        (0.3, "300×", "smaller"),
        (1.1, "1,100×", "about the same"),
    ],
)
def test_the_words_say_how_the_measured_factor_compares(make_dialog, numeric_seconds, factor, word):
    dialog, _ = make_dialog([64, 16, 10])
    r = known_result(backprop_seconds=0.001, numeric_seconds_all=numeric_seconds)
    dialog.show_result(r)
    rows = shown_rows(dialog)
    assert rows["backprop is faster by a factor of"] == factor
    assert rows["counting forward passes predicts"] == "1,210×"
    assert rows["backprop (1 forward + 1 backward pass)"] == "1 ms"
    assert rows["finite differences (2,420 forward passes)"] == (
        f"{numeric_seconds * 1e3:.3g} ms" if numeric_seconds < 1 else f"{numeric_seconds:.3g} s"
    )
    text = results_text(dialog)
    assert f"The measured factor is {word}" in text
    others = {"larger", "smaller", "about the same"} - {word}
    assert not any(f"The measured factor is {w}" in text for w in others)
    assert dialog.status_text == "Done." and dialog.finished_result is r


def test_comparison_bounds():
    assert comparison(1256, 1210) == "about the same"
    assert comparison(1332, 1210) == "larger" and comparison(1100, 1210) == "about the same"
    assert comparison(1099, 1210) == "smaller"
