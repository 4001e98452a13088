"""Issue 4 in the real window: click a weight or a neuron, step phases, read the equations."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QPushButton,
    QTableWidget,
    QTextBrowser,
)

from bpstudio.core.data import load_digits
from bpstudio.core.gradcheck import batch_cost
from bpstudio.core.network import Network
from bpstudio.core.session import Session
from bpstudio.gui import create_main_window
from bpstudio.gui.colors import NEUTRAL_GREY
from bpstudio.gui.equations import MIN_LINES
from bpstudio.gui.numbers import format_number
from tests.core import reference as ref
from tests.gui.test_network_view import point_on_top, strongest

TIMEOUT = 30_000


def open_window(qtbot, data, sizes=None):
    win = create_main_window(data, sizes, epochs=1000)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.session_loaded, timeout=TIMEOUT):
        pass
    return win


def step_batch(qtbot, win):
    done = win.snapshot.batches_done
    win.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: win.snapshot.batches_done == done + 1, timeout=TIMEOUT)
    qtbot.waitUntil(win.view.raster_is_current, timeout=TIMEOUT)


def before_network(trace) -> Network:
    """The network as it was when the batch's gradients were computed."""
    net = Network(trace.sizes, trace.activation, trace.cost)
    for i, (w, b) in enumerate(zip(trace.weights, trace.biases)):
        net.weights[i] = np.array(w)
        net.biases[i] = np.array(b).reshape(-1, 1)
    return net


def reference_gradient(trace, l, j, k):
    """∂C/∂w^l_jk of the batch by the book's per-example algorithm, independently of bpstudio."""
    ws = [np.array(w) for w in trace.weights]
    bs = [np.array(b).reshape(-1, 1) for b in trace.biases]
    grads = [
        ref.backprop_one(ws, bs, x.reshape(-1, 1), y.reshape(-1, 1), trace.activation, trace.cost)[
            1
        ][l - 2][j, k]
        for x, y in zip(trace.x, trace.y)
    ]
    return float(np.mean(grads))


@pytest.mark.mnist
def test_click_a_weight_and_a_neuron_at_784_30_10(qtbot, mnist_folder):
    win = open_window(qtbot, f"mnist:{mnist_folder}", [784, 30, 10])
    step_batch(qtbot, win)
    trace = win.snapshot.trace
    assert trace.sizes == (784, 30, 10) and trace.weights is not None
    # One edge into the output layer and the strongest visible edge out of the image.
    picks = []
    for layer in (3, 2):
        for l, j, k in strongest(win.snapshot.weights, layer, 200):
            pos = point_on_top(win.view, l, j, k)
            if pos is not None:
                picks.append(((l, j, k), pos))
                break
    assert [p[0][0] for p in picks] == [3, 2]
    for (l, j, k), pos in picks:
        qtbot.mouseClick(win.view.mouse_widget, Qt.MouseButton.LeftButton, pos=pos)
        want_sel = ("w", l, j, k)
        qtbot.waitUntil(lambda s=want_sel: win.inspector.current_selection == s, timeout=5000)
        v = win.inspector.values
        assert v["dC_dw"] == trace.nabla_w[l - 2][j, k]  # the value the update used
        want = reference_gradient(trace, l, j, k)
        assert v["dC_dw"] == pytest.approx(want, rel=1e-9, abs=1e-15)
        # A finite difference of our own, on the weights before the update.
        net = before_network(trace)
        eps = 1e-4
        net.weights[l - 2][j, k] += eps
        up = batch_cost(net, trace.x, trace.y)
        net.weights[l - 2][j, k] -= 2 * eps
        down = batch_cost(net, trace.x, trace.y)
        numeric = (up - down) / (2 * eps)
        assert v["numeric"] == pytest.approx(numeric, rel=1e-6, abs=1e-12)
        assert abs(v["numeric"] - want) <= 1e-6 * max(abs(want), 1e-5)
        assert v["w"] == trace.weights[l - 2][j, k]
        assert v["w_after"] == win.snapshot.weights[l - 2][j, k]
    # A neuron: its δ (mean over the batch) and ∂C/∂b = δ (BP3).
    j = 7
    qtbot.mouseClick(
        win.view.mouse_widget, Qt.MouseButton.LeftButton, pos=win.view.neuron_widget_pos(2, j)
    )
    qtbot.waitUntil(lambda: win.inspector.current_selection == ("n", 2, j), timeout=5000)
    v = win.inspector.values
    assert v["delta"] == pytest.approx(trace.delta[1][:, j].mean(), rel=1e-12)
    assert v["dC_db"] == pytest.approx(trace.nabla_b[0][j], rel=1e-12)
    assert v["z"] == pytest.approx(trace.z[1][:, j].mean(), rel=1e-12)
    win.close()


def test_phase_by_phase_equals_a_batch_step_and_names_each_equation(qtbot):
    win = open_window(qtbot, "digits")
    expected = ["forward", "BP1", "BP2", "BP3+BP4", "SGD"]
    seen, neutral_output = [], []
    for _ in expected:
        serial = win.snapshot.serial
        win.actions["actionStepPhase"].trigger()
        qtbot.waitUntil(lambda s=serial: win.snapshot.serial > s, timeout=TIMEOUT)
        seen.append(win.equations.highlighted_equation())
        neutral_output.append(_is_neutral(win.view.node_color(3, 0)))
    assert seen == expected
    # δ of the output layer is not computed by the feedforward phase: drawn neutral, then not.
    assert neutral_output[:2] == [True, False]
    assert win.snapshot.batches_done == 1 and not win.snapshot.in_pass
    # The same seed and one update_mini_batch in the core, independently of the window.
    session = Session(load_digits(0), [64, 16, 10], seed=0)
    session.step_batch()
    for got, want in zip(win.snapshot.weights, session.network.weights):
        assert np.array_equal(got, want)
    win.close()


def _is_neutral(color) -> bool:
    return (color.red(), color.green(), color.blue()) == NEUTRAL_GREY


def test_phase_step_highlights_the_layer_being_computed(qtbot):
    win = open_window(qtbot, "digits", [64, 12, 11, 10])
    layers = []
    for _ in range(4):  # feedforward, BP1 (l = 4), BP2 for l = 3, BP2 for l = 2
        serial = win.snapshot.serial
        win.actions["actionStepPhase"].trigger()
        qtbot.waitUntil(lambda s=serial: win.snapshot.serial > s, timeout=TIMEOUT)
        phase = win.snapshot.trace.last_phase
        layers.append((phase.kind, phase.layer, phase.direction))
    assert layers == [
        ("feedforward", None, "forward"),
        ("output_error", 4, "backward"),
        ("backpropagate", 3, "backward"),
        ("backpropagate", 2, "backward"),
    ]
    assert "next: BP3, BP4" in win.status["batchLabel"].text()
    # A batch step in the middle of a pass finishes that batch, bit for bit.
    win.actions["actionStepBatch"].trigger()
    qtbot.waitUntil(lambda: win.snapshot.batches_done == 1, timeout=TIMEOUT)
    session = Session(load_digits(0), [64, 12, 11, 10], seed=0)
    session.step_batch()
    assert all(np.array_equal(a, b) for a, b in zip(win.snapshot.weights, session.network.weights))
    win.close()


def test_a_step_while_running_pauses_first(qtbot):
    win = open_window(qtbot, "digits")
    win.actions["actionPlay"].trigger()
    qtbot.waitUntil(lambda: win.snapshot.running and win.snapshot.batches_done > 5, timeout=TIMEOUT)
    win.actions["actionStepPhase"].trigger()
    qtbot.waitUntil(lambda: win.snapshot.in_pass and not win.snapshot.running, timeout=TIMEOUT)
    assert win.snapshot.trace.last_phase.kind == "feedforward"
    win.close()


def test_saturation_overlay_marks_what_the_core_calls_saturated(qtbot, monkeypatch):
    from bpstudio.core.probe import saturation

    win = open_window(qtbot, "digits")
    step_batch(qtbot, win)
    marks = []
    monkeypatch.setattr(win.view, "set_saturation_marks", marks.append)
    win.controls.saturation.setChecked(True)
    want = saturation(win.snapshot.trace, "sigmoid")
    assert marks and marks[-1] is not None
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(marks[-1], want))
    assert any(m is not None and m.any() for m in want)  # a fresh sigmoid net has some
    win.controls.saturation.setChecked(False)
    assert marks[-1] is None
    win.close()


def test_hover_text_shows_w_and_dc_dw(qtbot):
    win = open_window(qtbot, "digits")
    step_batch(qtbot, win)
    trace = win.snapshot.trace
    text = win.hover_text(("weight", (3, 2, 5)))
    assert f"∂C/∂w = {format_number(trace.nabla_w[1][2, 5])}" in text
    assert "w^3_2,5" in text
    text = win.hover_text(("neuron", (2, 4)))
    assert f"δ = {format_number(trace.delta[1][:, 4].mean())}" in text
    win.close()


def open_default_window(qtbot):
    """The app's window at its default size (``bpstudio`` opens it at 1500 x 900)."""
    win = create_main_window("digits", epochs=1000)
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.session_loaded, timeout=TIMEOUT):
        pass
    return win


def click_neuron(qtbot, win, l, j):
    pos = win.view.neuron_widget_pos(l, j)
    qtbot.mouseClick(win.view.mouse_widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: win.inspector.current_selection == ("n", l, j), timeout=5000)


def inspector_note(win):
    return win.inspector.findChild(QLabel, "inspectorNote").text()


def test_a_selection_made_before_play_follows_training(qtbot):
    """Issue 11 item 2: selected before Play, the inspector still said "No mini-batch has been
    run yet" after 66 batches."""
    win = open_default_window(qtbot)
    click_neuron(qtbot, win, 3, 4)
    assert "No mini-batch has been run yet" in inspector_note(win)
    win.actions["actionPlay"].trigger()
    qtbot.waitUntil(
        lambda: win.snapshot.running and win.snapshot.batches_done >= 20, timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: "Training runs" in inspector_note(win), timeout=TIMEOUT)
    assert "No mini-batch" not in inspector_note(win)
    assert win.inspector.values["dC_db"] is not None
    win.actions["actionPause"].trigger()
    qtbot.waitUntil(lambda: not win.snapshot.running, timeout=TIMEOUT)
    trace = win.snapshot.trace
    qtbot.waitUntil(lambda: win.inspector.values.get("dC_db") == trace.nabla_b[1][4], timeout=5000)
    assert "The last mini-batch" in inspector_note(win)
    win.close()


def test_the_demon_result_leaves_the_docks_as_they_are(qtbot):
    """Issue 11 item 13: the demon's result squeezed the equations to one line."""
    win = open_default_window(qtbot)
    step_batch(qtbot, win)
    docks = [win.findChild(QDockWidget, n) for n in ("inspectorDock", "equationsDock")]
    before = [d.height() for d in docks]
    click_neuron(qtbot, win, 2, 5)  # the neuron's numbers, its table and the demon …
    qtbot.mouseClick(win.inspector.findChild(QPushButton, "demonButton"), Qt.MouseButton.LeftButton)
    result = win.inspector.findChild(QLabel, "demonResult")
    qtbot.waitUntil(lambda: "observed ΔC" in result.text(), timeout=5000)
    QApplication.sendPostedEvents()  # the layouts' requests, which resized the docks before
    QApplication.processEvents()
    assert [d.height() for d in docks] == before  # … take no height from the equations
    browser = win.equations.findChild(QTextBrowser, "equationsText")
    assert browser.height() >= MIN_LINES * browser.fontMetrics().lineSpacing()
    table = win.inspector.findChild(QTableWidget, "inspectorTable")
    assert table.height() >= 6 * table.rowHeight(0) + table.horizontalHeader().height()
    win.close()
