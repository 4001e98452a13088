"""DecisionRegions: pixels coloured as the core's feedforward says, clicks in data coordinates."""

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from bpstudio.core.data import load_digits, make_toy
from bpstudio.core.data.points import Points, save_points_csv
from bpstudio.core.errors import DataError
from bpstudio.core.network import Network
from bpstudio.core.regions import REGION_N, TINT_MAX, TINT_MIN, region_colors
from bpstudio.core.session import Session
from bpstudio.core.snapshot import take_snapshot
from bpstudio.gui.colors import diverging_lut
from bpstudio.gui.decision_regions import DecisionRegions
from bpstudio.gui.model import ViewModel
from bpstudio.gui.region_plane import CLASS_COLOURS


def snapshot(data, sizes, batches=40, seed=4):
    s = Session(data, sizes, eta=3.0, seed=seed, evaluate=False)
    while s.batches_done < batches:
        s.run(batches - s.batches_done)
    return take_snapshot(s, serial=0, costs_from=0, running=False)


def core_network(snap):
    """The snapshot's network, built here with the core's own Network."""
    net = Network(snap.sizes, snap.activation, snap.cost)
    net.weights = [np.array(w) for w in snap.weights]
    net.biases = [np.array(b).reshape(-1, 1) for b in snap.biases]
    return net


@pytest.fixture
def model():
    m = ViewModel()
    m.set_snapshot(snapshot(make_toy("blobs", n=200), [2, 6, 4]), new_session=True)
    return m


@pytest.fixture
def panel(qtbot, model):
    p = DecisionRegions(model)
    qtbot.addWidget(p)
    p.resize(460, 540)
    p.show()
    qtbot.waitExposed(p)
    return p


def colour_at(panel, px, py):
    c = panel.plane.grab().toImage().pixelColor(px, py)
    return np.array([c.red(), c.green(), c.blue()])


def cell_of(panel, px, py):
    """The grid cell (row, col) whose area holds pixel (px, py)'s centre, and that centre."""
    r = panel.plane.plane_rect()
    fx, fy = (px + 0.5 - r.x()) / r.width(), (py + 0.5 - r.y()) / r.height()
    i, j = int(fy * REGION_N), int(fx * REGION_N)
    return (i, j), ((j + 0.5) / REGION_N, 1.0 - (i + 0.5) / REGION_N), (fx, 1.0 - fy)


def tint_class(rgb):
    """The class whose colour, blended onto white by the tint rule, best explains ``rgb``."""
    errors = []
    for colour in CLASS_COLOURS.astype(float):
        ts = np.linspace(TINT_MIN, TINT_MAX, 201)[:, None]
        errors.append(np.abs(255 - ts * (255 - colour) - rgb).sum(axis=1).min())
    return int(np.argmin(errors))


@pytest.mark.parametrize("fx, fy", [(0.1, 0.1), (0.5, 0.5), (0.83, 0.27), (0.3, 0.9), (0.97, 0.6)])
def test_a_region_pixel_has_the_colour_of_the_cores_class_there(panel, model, fx, fy):
    r = panel.plane.plane_rect()
    px, py = r.x() + int(fx * r.width()), r.y() + int(fy * r.height())
    shown = colour_at(panel, px, py)
    _, centre, point = cell_of(panel, px, py)
    net = core_network(model.snapshot)
    at_centre = net.feedforward(np.array(centre).reshape(2, 1))[:, 0]
    expected = region_colors(at_centre.reshape(1, 1, -1), CLASS_COLOURS)[0, 0]
    assert np.array_equal(shown, expected)
    at_point = net.feedforward(np.array(point).reshape(2, 1))[:, 0]
    assert tint_class(shown) == int(np.argmax(at_point))


def test_a_click_adds_a_point_at_the_data_coordinates_under_the_cursor(qtbot, panel):
    r = panel.plane.plane_rect()
    panel.set_chosen_class(2)
    px, py = r.x() + 123, r.y() + 57
    with qtbot.waitSignal(panel.point_added) as blocker:
        qtbot.mouseClick(panel.plane, Qt.MouseButton.LeftButton, pos=QPoint(px, py))
    x, y, label = blocker.args
    pixel = 1.0 / r.width()  # one pixel's worth of the unit square
    assert abs(x - 123 / r.width()) <= pixel and abs(y - (1 - 57 / r.height())) <= pixel
    assert label == 2


def test_points_are_drawn_filled_for_training_and_hollow_for_test(qtbot, panel):
    panel.set_points([[0.25, 0.25]], [1], [[0.75, 0.75]], [3])
    train = panel.plane.data_to_pixel(0.25, 0.25)
    test = panel.plane.data_to_pixel(0.75, 0.75)
    centre_train = colour_at(panel, int(train.x()), int(train.y()))
    assert np.abs(centre_train - CLASS_COLOURS[1]).max() <= 2
    centre_test = colour_at(panel, int(test.x()), int(test.y()))
    assert np.abs(centre_test - CLASS_COLOURS[3]).max() > 40  # the middle shows the region
    ring = colour_at(panel, int(test.x()) + 4, int(test.y()))
    assert np.abs(ring - CLASS_COLOURS[3]).max() <= 40


def test_a_right_click_removes_the_nearest_point(qtbot, panel):
    panel.set_points([[0.2, 0.2], [0.4, 0.4]], [0, 1], [[0.8, 0.3]], [2])
    where = panel.plane.data_to_pixel(0.8, 0.3)
    with qtbot.waitSignal(panel.point_removed) as blocker:
        qtbot.mouseClick(
            panel.plane, Qt.MouseButton.RightButton, pos=QPoint(int(where.x()) + 3, int(where.y()))
        )
    assert blocker.args == [2]  # training points first, then test points


def test_selecting_a_hidden_neuron_shows_its_activation(qtbot, panel, model):
    model.set_selection(("n", 2, 3))
    r = panel.plane.plane_rect()
    px, py = r.x() + int(0.7 * r.width()), r.y() + int(0.2 * r.height())
    _, centre, _ = cell_of(panel, px, py)
    net = core_network(model.snapshot)
    z = net.weights[0] @ np.array(centre) + net.biases[0][:, 0]
    a = 1.0 / (1.0 + np.exp(-z[3]))
    expected = region_colors(np.array([[[a]]]), diverging_lut(), low=0.0, high=1.0)[0, 0]
    assert np.array_equal(colour_at(panel, px, py), expected)
    model.set_selection(None)
    assert panel.shown_values.shape == (REGION_N, REGION_N, 4)


def test_a_grid_in_the_snapshot_is_used_as_it_is(qtbot, panel, model):
    grid = np.zeros((REGION_N, REGION_N, 4))
    grid[:, :, 2] = 0.9  # class 2 everywhere, quite sure
    model.set_snapshot(SimpleNamespace(**{**vars(model.snapshot), "region_grid": grid}))
    r = panel.plane.plane_rect()
    expected = region_colors(grid[:1, :1], CLASS_COLOURS)[0, 0]
    assert np.array_equal(colour_at(panel, r.x() + 5, r.bottom() - 5), expected)


def test_csv_load_and_save(qtbot, panel, tmp_path):
    good = tmp_path / "p.csv"
    save_points_csv(good, Points([[0.1, 0.2], [0.3, 0.4]], [0, 1]))
    with qtbot.waitSignal(panel.points_loaded) as blocker:
        panel.load_csv(good)
    assert np.array_equal(blocker.args[0].xy, [[0.1, 0.2], [0.3, 0.4]])
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n")
    with pytest.raises(DataError, match="header"):
        panel.load_csv(bad)
    panel.set_points([[0.1, 0.1], [0.2, 0.2]], [0, 1], [[0.9, 0.9]], [1])
    out = tmp_path / "out.csv"
    panel.save_csv(out)
    assert out.read_text().splitlines()[0] == "x,y,label"
    assert sorted(out.read_text().splitlines()[1:]) == ["0.1,0.1,0", "0.2,0.2,1", "0.9,0.9,1"]


def test_image_data_gets_a_message(qtbot):
    m = ViewModel()
    m.set_snapshot(snapshot(load_digits(), [64, 5, 10], batches=1), new_session=True)
    p = DecisionRegions(m)
    qtbot.addWidget(p)
    p.show()
    assert p.shown_values is None


def test_the_hover_text_names_the_class_and_outputs_there(panel, model):
    x, y = 0.62, 0.18
    net = core_network(model.snapshot)
    i, j = int((1 - y) * REGION_N), int(x * REGION_N)
    centre = np.array([[(j + 0.5) / REGION_N], [1 - (i + 0.5) / REGION_N]])
    out = net.feedforward(centre)[:, 0]
    text = panel.describe_point(x, y)
    assert f"class {int(np.argmax(out))}" in text
    assert ", ".join(f"{v:.2f}" for v in out) in text
    assert panel.describe_point(1.5, 0.5) is None
