"""DigitCanvas: a mouse-drawn stroke becomes an MNIST-made input, classified by the snapshot."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from bpstudio.core.data import Dataset, DataSplits, make_toy
from bpstudio.core.draw import preprocess_stroke
from bpstudio.core.network import Network
from bpstudio.core.session import Session
from bpstudio.core.snapshot import take_snapshot
from bpstudio.gui.digit_canvas import DigitCanvas
from bpstudio.gui.model import ViewModel

#: A '4'-like stroke: down, right, then a long vertical.
STROKE = [(80, 40), (75, 80), (70, 120), (70, 150), (110, 150), (160, 150), (200, 150)]
UPRIGHT = [(170, 60), (170, 120), (168, 190), (166, 250)]


def image_data(side, n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, side * side))
    y = np.arange(n) % 10
    parts = [Dataset(f"img/{s}", x, y, 10, (side, side)) for s in ("train", "val", "test")]
    return DataSplits("img", *parts)


def model_for(data, sizes):
    m = ViewModel()
    s = Session(data, sizes, seed=2, evaluate=False)
    s.run(3)
    m.set_snapshot(take_snapshot(s, serial=0, costs_from=0, running=False), new_session=True)
    return m


@pytest.fixture
def model():
    return model_for(image_data(28), [784, 30, 10])


@pytest.fixture
def canvas(qtbot, model):
    c = DigitCanvas(model)
    qtbot.addWidget(c)
    c.show()
    qtbot.waitExposed(c)
    return c


def drag(qtbot, widget, points):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(widget, QPoint(*p))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def draw_four(qtbot, canvas):
    drag(qtbot, canvas.pad, STROKE)
    drag(qtbot, canvas.pad, UPRIGHT)


def snapshot_network(snap):
    """A core Network holding the snapshot's weights, built here independently of the panel."""
    net = Network(snap.sizes, snap.activation, snap.cost)
    net.weights = [np.array(w) for w in snap.weights]
    net.biases = [np.array(b).reshape(-1, 1) for b in snap.biases]
    return net


def test_a_drawn_stroke_is_centred_by_mass_with_a_20_pixel_box(qtbot, canvas):
    assert canvas.input_vector is None
    draw_four(qtbot, canvas)
    image = canvas.input_vector.reshape(28, 28)
    rows, cols = np.nonzero(image > 0)
    assert max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == 20
    mass = image.sum()
    r, c = np.indices(image.shape)
    assert abs((r * image).sum() / mass - 13.5) <= 0.5
    assert abs((c * image).sum() / mass - 13.5) <= 0.5
    # It is the core's preprocessing of what the pad holds.
    assert np.array_equal(canvas.input_vector, preprocess_stroke(canvas.pad.ink()))


def test_the_bars_show_the_cores_feedforward(qtbot, canvas, model):
    draw_four(qtbot, canvas)
    x = canvas.input_vector
    expected = snapshot_network(model.snapshot).feedforward(x[:, None])[:, 0]
    assert np.allclose(canvas.outputs, expected, rtol=1e-12, atol=1e-15)
    assert canvas.prediction == int(np.argmax(expected))
    plot_height = canvas.bars.height() - 24
    for i in range(10):
        assert abs(canvas.bars.bar_rect(i).height() - expected[i] * plot_height) <= 1.0


def test_the_outputs_follow_new_snapshots(qtbot, canvas, model):
    draw_four(qtbot, canvas)
    before = canvas.outputs
    s = Session(image_data(28, seed=5), [784, 30, 10], seed=9, evaluate=False)
    snap = take_snapshot(s, serial=1, costs_from=0, running=False)
    model.set_snapshot(snap)
    expected = snapshot_network(snap).feedforward(canvas.input_vector[:, None])[:, 0]
    assert np.allclose(canvas.outputs, expected) and not np.allclose(before, expected)


def test_frames_cost_nothing_while_nothing_is_drawn_and_reuse_one_network(
    qtbot, canvas, model, monkeypatch
):
    # While training runs a snapshot comes at every frame: with an empty pad there is nothing
    # to classify, and with a drawing the view refills its own network, never building anew.
    import bpstudio.gui.digit_canvas as module

    built = []
    original = module.network_from_parameters

    def counting(*args, **kwargs):
        net = original(*args, **kwargs)
        built.append(net)
        return net

    monkeypatch.setattr(module, "network_from_parameters", counting)
    s = Session(image_data(28, seed=5), [784, 30, 10], seed=9, evaluate=False)
    for serial in range(1, 4):
        s.step_batch()
        model.set_snapshot(take_snapshot(s, serial=serial, costs_from=0, running=True))
    assert built == [] and canvas.outputs is None
    draw_four(qtbot, canvas)
    for serial in range(4, 7):
        s.step_batch()
        snap = take_snapshot(s, serial=serial, costs_from=0, running=True)
        model.set_snapshot(snap)
        expected = snapshot_network(snap).feedforward(canvas.input_vector[:, None])[:, 0]
        assert np.allclose(canvas.outputs, expected)  # this frame's weights
    assert len({id(net) for net in built}) == 1


def test_trace_and_train_buttons_emit_the_input_and_label(qtbot, canvas):
    draw_four(qtbot, canvas)
    canvas.set_label(4)
    for name, signal in (
        ("digitCanvasTrace", canvas.trace_requested),
        ("digitCanvasTrain", canvas.train_requested),
    ):
        button = canvas.findChild(QPushButton, name)
        with qtbot.waitSignal(signal) as blocker:
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        x, label = blocker.args
        assert label == 4 and np.array_equal(x, canvas.input_vector)


def test_clear_empties_everything(qtbot, canvas):
    draw_four(qtbot, canvas)
    qtbot.mouseClick(canvas.findChild(QPushButton, "digitCanvasClear"), Qt.MouseButton.LeftButton)
    assert canvas.input_vector is None and canvas.outputs is None
    assert not canvas.pad.ink().any()
    assert not canvas.findChild(QPushButton, "digitCanvasTrace").isEnabled()


def test_digits_input_on_the_0_to_16_scale(qtbot):
    c = DigitCanvas(model_for(image_data(8), [64, 12, 10]))
    qtbot.addWidget(c)
    c.show()
    draw_four(qtbot, c)
    x = c.input_vector
    assert x.shape == (64,) and np.allclose(x * 16, np.rint(x * 16))
    image = x.reshape(8, 8)
    rows, cols = np.nonzero(image > 0)
    assert max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == 8


def test_two_input_data_disables_the_pad(qtbot):
    c = DigitCanvas(model_for(make_toy("xor"), [2, 3, 2]))
    qtbot.addWidget(c)
    c.show()
    assert not c.pad.isEnabled()
    assert c.input_vector is None
