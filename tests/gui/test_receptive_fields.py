"""ReceptiveFields: tiles coloured by the weights they show, clicks select neurons."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from bpstudio.core.data import Dataset, DataSplits, make_toy
from bpstudio.core.session import Session
from bpstudio.core.snapshot import take_snapshot
from bpstudio.gui.colors import DivergingMap
from bpstudio.gui.model import ViewModel
from bpstudio.gui.receptive_fields import ReceptiveFields, grid_layout


def image_data(side=28, classes=10, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, side * side))
    y = np.arange(n) % classes
    parts = [Dataset(f"img/{s}", x, y, classes, (side, side)) for s in ("train", "val", "test")]
    return DataSplits("img", *parts)


def snapshot(session):
    return take_snapshot(session, serial=0, costs_from=0, running=False)


@pytest.fixture
def model():
    m = ViewModel()
    s = Session(image_data(), [784, 100, 10], seed=1, evaluate=False)
    s.step_batch(record=True)
    m.set_snapshot(snapshot(s), new_session=True)
    return m


@pytest.fixture
def panel(qtbot, model):
    p = ReceptiveFields(model)
    qtbot.addWidget(p)
    p.resize(480, 400)
    p.show()
    qtbot.waitExposed(p)
    return p


def pixel_of(panel, j, p, q):
    """The colour on screen at the centre of the block of tile j showing image pixel (p, q)."""
    rect = panel.tiles.pixel_rect(j, p, q)
    image = panel.tiles.grab().toImage()
    colour = image.pixelColor(rect.center())
    return np.array([colour.red(), colour.green(), colour.blue()])


@pytest.mark.parametrize("j, p, q", [(0, 0, 0), (37, 5, 20), (99, 27, 27), (64, 14, 3)])
def test_tile_pixels_are_the_colour_of_their_weights(panel, model, j, p, q):
    w = model.snapshot.weights[0]
    expected = DivergingMap(panel.scale).rgba(w[j, p * 28 + q])[0, :3]
    assert np.array_equal(pixel_of(panel, j, p, q), expected)


def test_all_100_tiles_are_legible_at_the_default_size(panel):
    side = panel.tiles.tile_rect(0).width()
    assert side >= 28  # at least one screen pixel per weight
    assert panel.tiles.tile_rect(99).bottom() < panel.tiles.height()
    assert panel.tiles.tile_rect(99).right() < panel.tiles.width()


def test_the_scale_is_said_on_screen(panel):
    text = panel.findChild(QLabel, "receptiveFieldsScale").text()
    assert f"−{panel.scale:g}" in text and f"+{panel.scale:g}" in text and "blue" in text


def test_a_click_on_a_tile_selects_its_neuron_and_outlines_it(qtbot, panel, model):
    j = 42
    rect = panel.tiles.tile_rect(j)
    with qtbot.waitSignal(model.selection_changed):
        qtbot.mouseClick(panel.tiles, Qt.MouseButton.LeftButton, pos=rect.center())
    assert model.selection == ("n", 2, j)
    image = panel.tiles.grab().toImage()
    outline = image.pixelColor(rect.left() - 1, rect.center().y())
    assert (outline.red(), outline.green(), outline.blue()) == (20, 20, 20)
    # Only that tile: the gap beside an unselected tile stays background.
    far = panel.tiles.tile_rect(0)
    gap = image.pixelColor(far.left() + far.width() // 2, far.bottom() + 2)
    assert (gap.red(), gap.green(), gap.blue()) == (255, 255, 255)


def test_gradient_mode_shows_nabla_w(qtbot, panel, model):
    chooser = panel.findChild(QComboBox, "receptiveFieldsMode")
    chooser.setCurrentIndex(chooser.findData("nabla"))
    assert panel.mode == "nabla"
    nabla = model.snapshot.trace.nabla_w[0]
    j, p, q = 11, 13, 9
    expected = DivergingMap(panel.scale).rgba(nabla[j, p * 28 + q])[0, :3]
    assert np.array_equal(pixel_of(panel, j, p, q), expected)
    assert "∂C/∂w" in panel.findChild(QLabel, "receptiveFieldsScale").text()


def test_follows_new_snapshots(qtbot, panel, model):
    s = Session(image_data(seed=3), [784, 100, 10], seed=7, evaluate=False)
    model.set_snapshot(snapshot(s))
    w = model.snapshot.weights[0]
    expected = DivergingMap(panel.scale).rgba(w[5, 100])[0, :3]
    assert np.array_equal(pixel_of(panel, 5, 100 // 28, 100 % 28), expected)


def test_two_input_data_gets_a_message(qtbot):
    m = ViewModel()
    m.set_snapshot(snapshot(Session(make_toy("xor"), [2, 4, 2], evaluate=False)), new_session=True)
    p = ReceptiveFields(m)
    qtbot.addWidget(p)
    p.show()
    assert p.tiles.tile_at(p.tiles.rect().center()) is None


def test_grid_layout_fills_the_space():
    cols, rows, side = grid_layout(100, 480, 370)
    assert cols * rows >= 100 and side >= 33
    assert grid_layout(30, 480, 370)[2] > side


def test_change_mode_shows_what_training_changed_since_the_session_began(qtbot):
    m = ViewModel()
    s = Session(image_data(), [784, 100, 10], seed=1, evaluate=False)
    start = snapshot(s)
    m.set_snapshot(start, new_session=True)
    p = ReceptiveFields(m)
    qtbot.addWidget(p)
    p.resize(480, 400)
    p.show()
    p.set_mode("dw")
    for _ in range(3):
        s.step_batch()
    m.set_snapshot(snapshot(s))
    change = m.snapshot.weights[0] - start.weights[0]
    assert np.abs(change).max() > 0
    j, k = 20, 14 * 28 + 14
    expected = DivergingMap(p.scale).rgba(change[j, k])[0, :3]
    assert np.array_equal(pixel_of(p, j, 14, 14), expected)
    assert "Δw" in p.findChild(QLabel, "receptiveFieldsScale").text()
