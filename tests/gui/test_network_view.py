"""NetworkView: picking, colours on screen, decorations, and the pure helpers behind them.

Expected colours come from :mod:`bpstudio.gui.colors` (the maps), never from the view's own
tables. Mouse positions are in ``view.mouse_widget`` pixels, the widget that receives events.

Picking among 23,820 edges: at a pixel the view returns the edge *drawn on top* there (the one
the user sees). Edges are drawn weakest first, so the strongest edges of each weight matrix are
on top along their whole length; the click tests use those, plus output-layer edges found by
looking along the edge for a pixel where it is on top (``edge_at`` says so, and the test checks
independently that the pixel lies on the edge's segment). At 1000 x 700 every output-layer edge
has such a pixel, but only about one input->hidden edge in ten does: the rest are covered by
stronger ones and are picked by zooming in, or by selecting a neuron (its edges come in front).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from bpstudio.gui.colors import (
    DivergingMap,
    diverging_lut,
    edge_lut,
    grey_rgb,
    nice_ceiling,
)
from bpstudio.gui.edge_raster import Span, rasterise_spans
from bpstudio.gui.network_layout import make_layout, segment_distance
from bpstudio.gui.network_view import HOLD_FRAMES, PICK_TOLERANCE_PX, NetworkView

MNIST = ([784, 30, 10], (28, 28))


def random_weights(sizes, rng):
    return [rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(sizes, sizes[1:], strict=False)]


@pytest.fixture
def make_view(qtbot):
    """Return ``make(sizes, image_shape, weights=None, seed=0) -> (view, weights)``."""

    def make(sizes, image_shape=None, weights=None, seed=0):
        view = NetworkView()
        qtbot.addWidget(view)
        view.resize(1000, 700)
        view.show()
        qtbot.waitExposed(view)
        view.set_architecture(sizes, image_shape)
        if weights is None:
            weights = random_weights(sizes, np.random.default_rng(seed))
        view.set_weights(weights)
        qtbot.waitUntil(view.raster_is_current)
        return view, weights

    return make


def grab(view):
    """The view as painted now, as a QImage."""
    return view.grab().toImage()


def pixel(view, image, pos: QPoint) -> QColor:
    """Colour of ``image`` (a grab of ``view``) at a ``mouse_widget`` position."""
    return image.pixelColor(view.mouse_widget.mapTo(view, pos))


def rgb(color: QColor) -> np.ndarray:
    return np.array([color.red(), color.green(), color.blue()])


def settle(qtbot, view):
    """Let queued paints and a pending ID-image rebuild happen."""
    qtbot.waitUntil(view.raster_is_current)
    QApplication.processEvents()


def distance_to_edge(view, pos, l, j, k):
    """Pixels from the centre of pixel ``pos`` to the edge's segment (independent of the view)."""
    a, b = view.edge_widget_pos(l, j, k, 0.0), view.edge_widget_pos(l, j, k, 1.0)
    seg = np.array([[a.x() + 0.5, a.y() + 0.5, b.x() + 0.5, b.y() + 0.5]])
    return float(segment_distance(pos.x() + 0.5, pos.y() + 0.5, seg)[0])


def point_on_top(view, l, j, k):
    """A pixel along edge ``w^l_jk`` where it is the edge drawn on top, or ``None``."""
    return view.edge_visible_pos(l, j, k)


def strongest(weights, l, count):
    w = np.abs(weights[l - 2])
    flat = np.argsort(w, axis=None)[::-1][:count]
    return [(l, *map(int, np.unravel_index(f, w.shape))) for f in flat]


# -- picking ------------------------------------------------------------------------------------
def test_click_selects_the_edge_under_the_mouse(make_view, qtbot):
    view, weights = make_view(*MNIST)
    rng = np.random.default_rng(1)
    chosen = strongest(weights, 2, 3) + strongest(weights, 3, 3)
    chosen += [(3, int(rng.integers(10)), int(rng.integers(30))) for _ in range(4)]
    clicked = 0
    for l, j, k in chosen:
        pos = point_on_top(view, l, j, k)
        if pos is None:
            assert (l, j, k) not in strongest(weights, l, 3), "a strongest edge must be on top"
            continue
        assert distance_to_edge(view, pos, l, j, k) <= PICK_TOLERANCE_PX + 1.5
        with qtbot.waitSignal(view.weight_selected, check_params_cb=lambda *a, e=(l, j, k): a == e):
            qtbot.mouseClick(view.mouse_widget, Qt.MouseButton.LeftButton, pos=pos)
        view.clear_selection()
        clicked += 1
    assert clicked >= 7


def test_edge_at_falls_back_to_the_nearest_edge_within_tolerance(make_view):
    view, _ = make_view([3, 2, 2])
    pos = view.edge_widget_pos(3, 1, 0, 0.25)  # (3, 0, 1) crosses it at t = 0.5
    for dy in (-3, 3):  # off the drawn line but within the pick tolerance
        assert view.edge_at(QPoint(pos.x(), pos.y() + dy)) == (3, 1, 0)
    assert view.edge_at(QPoint(pos.x(), pos.y() + 40)) != (3, 1, 0)


def test_scene_positions_pick_like_widget_positions(make_view):
    view, _ = make_view([3, 2, 2])
    pos = view.edge_widget_pos(2, 0, 2, 0.5)
    scene = view._graphics.mapToScene(pos)
    assert isinstance(scene, QPointF)
    assert view.edge_at(scene) == view.edge_at(pos) == (2, 0, 2)


def test_click_selects_neurons_and_input_cells(make_view, qtbot):
    view, _ = make_view(*MNIST)
    for l, j in ((2, 0), (2, 17), (3, 9), (1, 0), (1, 14 * 28 + 13), (1, 783)):
        pos = view.neuron_widget_pos(l, j)
        assert view.neuron_at(pos) == (l, j)
        with qtbot.waitSignal(view.neuron_selected, check_params_cb=lambda *a, n=(l, j): a == n):
            qtbot.mouseClick(view.mouse_widget, Qt.MouseButton.LeftButton, pos=pos)


def test_click_on_empty_space_clears_the_selection(make_view, qtbot):
    view, _ = make_view(*MNIST)
    view.select_neuron(2, 3)
    with qtbot.waitSignal(view.selection_cleared):
        qtbot.mouseClick(view.mouse_widget, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_hover_emits_and_shows_a_tooltip(make_view, qtbot):
    view, weights = make_view([3, 2, 2])
    view.set_tooltip_provider(lambda hit: f"{hit[0]} {hit[1]}")
    with qtbot.waitSignal(view.neuron_hovered, check_params_cb=lambda *a: a == (2, 1)):
        qtbot.mouseMove(view.mouse_widget, view.neuron_widget_pos(2, 1))
    qtbot.waitUntil(lambda: QToolTip.text() == "neuron (2, 1)")
    view.set_tooltip_provider(None)
    with qtbot.waitSignal(view.edge_hovered, check_params_cb=lambda *a: a == (3, 0, 1)):
        qtbot.mouseMove(view.mouse_widget, view.edge_widget_pos(3, 0, 1, 0.5))
    qtbot.waitUntil(lambda: f"{weights[1][0, 1]:.4g}" in QToolTip.text())
    QToolTip.hideText()


# -- colours on screen ----------------------------------------------------------------------
def test_node_colours_on_screen_follow_the_node_map(make_view, qtbot):
    view, _ = make_view(*MNIST)
    hidden = np.full(30, 0.01)
    hidden[3], hidden[7] = 0.8, -0.8
    output = np.linspace(-0.2, 0.2, 10)
    view.set_node_values([None, hidden, output], label="δ (mean over mini-batch)")
    settle(qtbot, view)
    expected = DivergingMap(0.8)  # scale = max |value| (a round number here), computed here
    image = grab(view)
    for j, v in ((3, 0.8), (7, -0.8), (0, 0.01)):
        want = rgb(expected.qcolor(v))
        assert np.array_equal(rgb(view.value_to_color(v)), want)
        assert np.array_equal(rgb(view.node_color(2, j)), want)
        assert np.abs(rgb(pixel(view, image, view.neuron_widget_pos(2, j))) - want).max() <= 2
    red, blue = rgb(view.node_color(2, 3)), rgb(view.node_color(2, 7))
    assert red[0] > red[2] + 80 and blue[2] > blue[0] + 80


def test_node_scale_is_the_round_number_above_the_largest_value(make_view, qtbot):
    view, _ = make_view(*MNIST)
    hidden = np.zeros(30)
    hidden[5] = -0.7  # the bar reads ±0.8, and -0.7 is drawn 7/8 of the way to its end
    view.set_node_values([None, hidden, np.zeros(10)])
    settle(qtbot, view)
    want = rgb(DivergingMap(0.8).qcolor(-0.7))
    assert not np.array_equal(want, rgb(DivergingMap(0.7).qcolor(-0.7)))
    assert np.array_equal(rgb(view.node_color(2, 5)), want)
    assert np.abs(rgb(pixel(view, grab(view), view.neuron_widget_pos(2, 5))) - want).max() <= 2


def test_a_held_node_scale_keeps_the_peak_of_the_last_frames(make_view):
    view, _ = make_view(*MNIST)

    def frame(peak, hold=True):
        hidden = np.zeros(30)
        hidden[0] = peak
        view.set_node_values([None, hidden, np.zeros(10)], hold=hold)
        return view.value_to_color(1.0)  # the colour at +1 shows the scale

    assert frame(4.0) == DivergingMap(4.0).qcolor(1.0)
    for _ in range(HOLD_FRAMES - 1):  # smaller peaks: the big one is still in the window
        assert frame(0.5) == DivergingMap(4.0).qcolor(1.0)
    assert frame(0.5) == DivergingMap(0.5).qcolor(1.0)  # it has left the window
    assert frame(8.0) == DivergingMap(8.0).qcolor(1.0)  # a larger peak counts at once
    assert frame(0.3, hold=False) == DivergingMap(0.3).qcolor(1.0)  # not held: this call's own


def test_neutral_layers_and_input_image(make_view, qtbot):
    view, _ = make_view(*MNIST)
    view.set_node_values([None, np.ones(30), np.ones(10)], neutral_layers={3})
    pixels = np.zeros(784)
    pixels[14 * 28 + 10] = 1.0
    view.set_input_image(pixels)
    settle(qtbot, view)
    image = grab(view)
    assert rgb(view.node_color(3, 0)).tolist() == [200, 200, 200]
    ink, paper = view.neuron_widget_pos(1, 14 * 28 + 10), view.neuron_widget_pos(1, 0)
    assert rgb(pixel(view, image, ink)).tolist() == [int(grey_rgb(1.0))] * 3
    assert rgb(pixel(view, image, paper)).tolist() == [255, 255, 255]


def test_isolated_edge_pixels_have_the_edge_colour(make_view, qtbot):
    weights = [
        np.array([[0.9, -0.5, 0.1], [-0.9, 0.3, 0.6]]),
        np.array([[0.7, -0.2], [-0.05, 1.2]]),
    ]
    view, _ = make_view([3, 2, 2], weights=weights)
    settle(qtbot, view)
    image = grab(view)
    flat = np.concatenate([w.ravel() for w in weights])
    scale = nice_ceiling(np.percentile(np.abs(flat), 99))  # independent of the view's code
    lut = edge_lut()
    checked = 0
    for l, w in ((2, weights[0]), (3, weights[1])):
        for (j, k), value in np.ndenumerate(w):
            pos = isolated_point(view, weights, l, j, k)
            if pos is None:
                continue
            want = lut[DivergingMap(scale).index([value])[0], :3]
            assert np.abs(rgb(pixel(view, image, pos)) - want).max() <= 2, (l, j, k)
            checked += 1
    assert checked >= 6


def isolated_point(view, weights, l, j, k):
    """A pixel on edge (l, j, k) more than 8 px from every other edge and node."""
    others = [
        (ll, jj, kk)
        for ll, w in ((2, weights[0]), (3, weights[1]))
        for (jj, kk), _ in np.ndenumerate(w)
        if (ll, jj, kk) != (l, j, k)
    ]
    for t in np.linspace(0.3, 0.7, 9):
        pos = view.edge_widget_pos(l, j, k, float(t))
        if all(distance_to_edge(view, pos, *o) > 8 for o in others):
            return pos
    return None


def test_weights_are_copied(make_view, qtbot):
    view, weights = make_view([3, 2, 2])
    before = grab(view)
    weights[0][:] = 0.0
    view.update()
    settle(qtbot, view)
    assert grab(view) == before


# -- decorations and view actions -------------------------------------------------------------
def changed_pixels(a, b) -> int:
    x = np.frombuffer(a.constBits(), np.uint8).reshape(a.height(), -1)
    y = np.frombuffer(b.constBits(), np.uint8).reshape(b.height(), -1)
    return int(np.count_nonzero((x != y).any(axis=1)))


def test_edge_filter_hides_weak_edges(make_view, qtbot):
    view, weights = make_view(*MNIST)
    before = grab(view)
    weakest = np.unravel_index(np.argmin(np.abs(weights[1])), weights[1].shape)
    view.set_edge_filter(0.05)
    settle(qtbot, view)
    after = grab(view)
    assert changed_pixels(before, after) > 0
    assert white_share(after) > white_share(before) + 0.02
    pos = view.edge_widget_pos(3, int(weakest[0]), int(weakest[1]), 0.5)
    assert view.edge_at(pos) != (3, int(weakest[0]), int(weakest[1]))
    view.set_edge_filter(None)
    with pytest.raises(ValueError):
        view.set_edge_filter(1.5)


def white_share(image) -> float:
    px = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
    return float(np.mean((px[..., :3] >= 250).all(axis=-1)))


def ink(image) -> float:
    """Mean darkness (255 - channel) over the picture: fading edges lowers it."""
    px = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
    return float(np.mean(255 - px[..., :3].astype(float)))


def test_select_neuron_fades_other_edges_and_clear_restores(make_view, qtbot):
    view, _ = make_view(*MNIST)
    before = grab(view)
    with qtbot.waitSignal(view.neuron_selected, check_params_cb=lambda *a: a == (2, 5)):
        view.select_neuron(2, 5)
    settle(qtbot, view)
    faded = grab(view)
    assert ink(faded) < 0.5 * ink(before)
    with qtbot.waitSignal(view.selection_cleared):
        view.clear_selection()
    settle(qtbot, view)
    assert grab(view) == before


def test_select_weight_draws_it_on_top(make_view, qtbot):
    view, _ = make_view(*MNIST)
    before = grab(view)
    with qtbot.waitSignal(view.weight_selected, check_params_cb=lambda *a: a == (3, 2, 11)):
        view.select_weight(3, 2, 11)
    settle(qtbot, view)
    assert view.edge_at(view.edge_widget_pos(3, 2, 11, 0.5)) == (3, 2, 11)
    assert changed_pixels(before, grab(view)) > 20


def test_highlight_layer_band_and_arrow(make_view, qtbot):
    view, _ = make_view(*MNIST)
    before = grab(view)
    view.set_highlight_layer(2, "backward")
    settle(qtbot, view)
    assert changed_pixels(before, grab(view)) > 100
    view.set_highlight_layer(None)
    settle(qtbot, view)
    assert grab(view) == before
    with pytest.raises(ValueError):
        view.set_highlight_layer(2, "sideways")


def test_saturation_marks_ring_neurons(make_view, qtbot):
    view, _ = make_view(*MNIST)
    before = grab(view)
    marks = [None, np.arange(30) % 4 == 0, np.zeros(10, bool)]
    view.set_saturation_marks(marks)
    settle(qtbot, view)
    assert changed_pixels(before, grab(view)) > 10
    view.set_saturation_marks(None)
    settle(qtbot, view)
    assert grab(view) == before


def test_zoom_then_fit_restores_the_picture(make_view, qtbot):
    view, _ = make_view(*MNIST)
    before = grab(view)
    centre = QPointF(view.mouse_widget.rect().center())
    wheel = QWheelEvent(
        centre,
        view.mouse_widget.mapToGlobal(centre),
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.mouse_widget, wheel)
    assert not view.raster_is_current()  # rebuilt after a quiet moment; until then...
    stale = grab(view)  # ...the old ID image is drawn scaled
    settle(qtbot, view)
    zoomed = grab(view)
    assert changed_pixels(before, stale) > 100
    assert changed_pixels(stale, zoomed) > 0  # the rebuilt image is crisp, not scaled
    assert changed_pixels(before, zoomed) > 100
    pos = view.neuron_widget_pos(2, 10)  # picking still works after the zoom
    assert view.neuron_at(pos) == (2, 10)
    view.fit()
    settle(qtbot, view)
    assert grab(view) == before


def test_non_image_input_is_grey_circles(make_view, qtbot):
    view, _ = make_view([4, 3, 2])
    view.set_input_image(np.array([0.0, 0.25, 0.5, 1.0]))
    settle(qtbot, view)
    image = grab(view)
    for k, p in enumerate((0.0, 0.25, 0.5, 1.0)):
        grey = int(grey_rgb(p))
        assert rgb(view.node_color(1, k)).tolist() == [grey] * 3
        assert np.abs(rgb(pixel(view, image, view.neuron_widget_pos(1, k))) - grey).max() <= 2


def test_bad_inputs_raise(make_view):
    view, _ = make_view([3, 2, 2])
    with pytest.raises(ValueError):
        view.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError):
        view.set_weights([np.zeros((3, 2)), np.zeros((2, 2))])
    with pytest.raises(ValueError):
        view.set_node_values([None, np.zeros(3), np.zeros(2)])
    with pytest.raises(IndexError):
        view.select_weight(3, 2, 0)
    with pytest.raises(ValueError):
        view.set_architecture([784, 30, 10], (28, 27))


# -- pure helpers -------------------------------------------------------------------------------
def test_diverging_map_is_symmetric_with_a_zero_bin():
    m = DivergingMap(2.0)
    lut = diverging_lut()
    assert m.index([0.0])[0] == len(lut) // 2
    assert m.index([-2.0, 2.0, -100.0, 100.0]).tolist() == [0, len(lut) - 1, 0, len(lut) - 1]
    assert (m.rgba([2.0])[0, :3] == lut[-1, :3]).all()
    assert rgb(m.qcolor(-2.0)).tolist() == lut[0, :3].tolist()
    edge = edge_lut()
    assert (edge[len(edge) // 2, :3] >= 245).all()  # zero weight: almost background
    assert (edge[-1, :3] == lut[-1, :3]).all()  # strongest: full colour


def test_segment_distance_matches_a_brute_force_sampling():
    rng = np.random.default_rng(3)
    seg = rng.uniform(-10, 10, (50, 4))
    p = rng.uniform(-10, 10, 2)
    t = np.linspace(0, 1, 20001)[:, None]
    pts_x = seg[:, 0] + t * (seg[:, 2] - seg[:, 0])
    pts_y = seg[:, 1] + t * (seg[:, 3] - seg[:, 1])
    brute = np.hypot(pts_x - p[0], pts_y - p[1]).min(axis=0)
    assert np.allclose(segment_distance(p[0], p[1], seg), brute, atol=2e-3)


def test_layout_numbering_round_trips():
    lay = make_layout([6, 4, 3], (2, 3))
    assert lay.n_edges == 6 * 4 + 4 * 3
    for e in range(lay.n_edges):
        assert lay.edge_id(*lay.edge_ljk(e)) == e
    assert lay.edge_id(3, 2, 1) == 24 + 2 * 4 + 1
    edges = {lay.edge_ljk(int(e)) for e in lay.edges_of_neuron(2, 1)}
    assert edges == {(2, 1, k) for k in range(6)} | {(3, j, 1) for j in range(3)}
    cell = lay.centres[0][4]  # row 1, column 1
    assert cell[0] > lay.centres[0][3][0] and cell[1] > lay.centres[0][1][1]


def test_rasteriser_draws_lines_and_later_edges_win():
    flat = Span(
        0.0, 10.0, np.zeros(2), np.array([2.5, 6.0]), np.array([0.0, -0.35]), np.array([1, 2])
    )
    ids = rasterise_spans([flat], 10, 8)
    assert (ids[2, :9] == 1).all()  # y = 2.5: row 2 in every column
    rows_of_2 = [int(np.flatnonzero(ids[:, c] == 2)[0]) for c in range(10)]
    assert rows_of_2 == [int(6 - 0.35 * (c + 0.5)) for c in range(10)]  # sampled at centres
    assert ids[2, 9] == 2  # where both pass, the later edge is on top
    steep = Span(0.0, 4.0, np.zeros(1), np.zeros(1), np.array([3.0]), np.array([7]))
    rows = np.flatnonzero((rasterise_spans([steep], 4, 12) == 7).any(axis=1))
    assert rows.tolist() == list(range(12))  # steep lines stay connected (several rows per column)


@pytest.mark.parametrize("width", [420, 1000])
def test_the_end_labels_fit_in_a_narrow_view(make_view, qtbot, width):
    view, _ = make_view([64, 16, 10], (8, 8))
    view.resize(width, 500)
    view.fit()
    settle(qtbot, view)
    d = view.drawing()
    sx, _, dx, _ = d["transform"]
    fm = view.fontMetrics()
    for text, x, _ in (d["labels"][0], d["labels"][-1]):
        half = fm.horizontalAdvance(text) / 2
        assert sx * x + dx - half >= 0 and sx * x + dx + half <= view.mouse_widget.width()
