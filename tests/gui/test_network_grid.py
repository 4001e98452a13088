"""Large layers are drawn as grids of cells, so every neuron's colour can be read (issue 10).

At [784, 300, 100, 10] a column of 300 circles would be a third of a pixel apart; the view draws
such a layer as a grid of square cells, row-major, and zooming in turns the cells into circles.
Expected colours come from :class:`bpstudio.gui.colors.DivergingMap`, not from the view.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from bpstudio.gui.colors import BACKGROUND, DivergingMap
from bpstudio.gui.network_layout import MAX_CIRCLES, make_layout, pick_edge
from bpstudio.gui.network_view import NetworkView

DEEP = [784, 300, 100, 10]


def shown_view(qtbot, sizes):
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_architecture(sizes, (28, 28))
    rng = np.random.default_rng(1)
    view.set_weights([rng.normal(0, 0.05, (b, a)) for a, b in zip(sizes, sizes[1:], strict=False)])
    qtbot.waitUntil(view.raster_is_current)
    return view


def alternating(n, peak=0.5):
    """Neighbours of opposite sign and varying size: j and j + 1 always differ."""
    return peak * np.where(np.arange(n) % 2 == 0, 1.0, -1.0) * np.linspace(0.2, 1.0, n)


def colour_at(view, image, pos: QPoint) -> np.ndarray:
    c = image.pixelColor(view.mouse_widget.mapTo(view, pos))
    return np.array([c.red(), c.green(), c.blue()])


def want(value: float, scale: float) -> np.ndarray:
    c = DivergingMap(scale).qcolor(value)
    return np.array([c.red(), c.green(), c.blue()])


@pytest.mark.parametrize("sizes", [DEEP, [784, 1000, 10]])
def test_every_neuron_of_a_large_layer_has_its_own_readable_colour(qtbot, sizes):
    view = shown_view(qtbot, sizes)
    values = [None] + [alternating(n) for n in sizes[1:]]
    view.set_node_values(values)
    QApplication.processEvents()
    image = view.grab().toImage()
    scale = 0.5  # the largest |δ| is 0.5, already a round number
    for l in range(2, len(sizes)):
        for j in range(sizes[l - 1]):
            pos = view.neuron_widget_pos(l, j)
            expected = want(values[l - 1][j], scale)
            # the centre and the pixels around it: a cell is at least 3 x 3 pixels
            for dx, dy in ((0, 0), (-1, -1), (1, 1), (-1, 1), (1, -1)):
                got = colour_at(view, image, pos + QPoint(dx, dy))
                assert np.abs(got - expected).max() <= 2, (l, j, dx, dy)
    for j in (0, 1, 150, 298):  # the check: neighbours with different δ differ on screen
        a = colour_at(view, image, view.neuron_widget_pos(2, j))
        b = colour_at(view, image, view.neuron_widget_pos(2, j + 1))
        assert np.abs(a - b).max() > 20


def test_a_click_on_a_cell_selects_that_neuron(qtbot):
    view = shown_view(qtbot, DEEP)
    for l, j in ((2, 0), (2, 137), (2, 299), (3, 41)):
        with qtbot.waitSignal(view.neuron_selected, check_params_cb=lambda *a, n=(l, j): a == n):
            qtbot.mouseClick(
                view.mouse_widget, Qt.MouseButton.LeftButton, pos=view.neuron_widget_pos(l, j)
            )


def test_layers_up_to_the_limit_are_circles_and_larger_ones_grids():
    lay = make_layout([784, MAX_CIRCLES, MAX_CIRCLES + 1, 300, 1000, 10], (28, 28))
    assert [g is not None for g in lay.grids] == [True, False, True, True, True, False]
    for l in (3, 4, 5):
        g = lay.grids[l - 1]
        assert g.rows * g.cols >= lay.sizes[l - 1] > (g.rows - 1) * g.cols
        assert np.isclose(g.width / g.cols, g.height / g.rows)  # square cells
        assert g.width / g.cols >= 2.0
        j = lay.sizes[l - 1] - 1
        assert g.cell_at(*lay.centres[l - 1][j]) == j  # row-major, centres inside their cells
    for p in range(len(lay.sizes) - 1):  # edges run from border to border, left to right
        left, right = lay.span_x[p]
        assert left < right
        src, dst = lay.grids[p], lay.grids[p + 1]
        if src is not None:
            assert np.isclose(left, src.left + src.width)
        if dst is not None:
            assert np.isclose(right, dst.left)


def wheel_at(view, pos: QPoint, steps: int) -> None:
    where = QPointF(pos)
    for _ in range(steps):
        event = QWheelEvent(
            where,
            view.mouse_widget.mapToGlobal(where),
            QPoint(),
            QPoint(0, 240),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view.mouse_widget, event)


def test_zooming_in_reveals_circles(qtbot):
    view = shown_view(qtbot, DEEP)
    values = [None] + [alternating(n) for n in DEEP[1:]]
    view.set_node_values(values)
    j = 126  # row 21, column 0
    wheel_at(view, view.neuron_widget_pos(2, j), 6)
    qtbot.waitUntil(view.raster_is_current)
    QApplication.processEvents()
    image = view.grab().toImage()
    centre = view.neuron_widget_pos(2, j)
    corner = view.neuron_widget_pos(2, j) + (view.neuron_widget_pos(2, j + 7) - centre) / 2
    width = view.neuron_widget_pos(2, j + 1).x() - centre.x()
    assert width >= 14  # zoomed in far enough for circles
    assert np.abs(colour_at(view, image, centre) - want(values[1][j], 0.5)).max() <= 2
    # between four circles: the page, not a cell colour
    assert colour_at(view, image, corner).tolist() == list(BACKGROUND)


def test_edge_picking_near_a_point_looks_only_at_the_edges_drawn_there(qtbot):
    view = shown_view(qtbot, [784, 1000, 10])
    lay, weights = view.drawing()["layout"], view.drawing()["weights"]
    w3 = np.abs(weights[lay.offsets[1] :])
    for e in np.argsort(w3)[-2:]:  # the strongest output edges: on top along their length
        l, j, k = lay.edge_ljk(int(e) + int(lay.offsets[1]))
        pos = view.edge_visible_pos(l, j, k)
        assert pos is not None and view.edge_at(pos) == (l, j, k)
    lay = make_layout([3, 2, 2])
    transform = (10.0, 10.0, 0.0, 0.0)
    x, y = lay.edge_point(lay.edge_id(3, 1, 0), 0.25)
    visible = np.ones(lay.n_edges, bool)
    assert pick_edge(lay, transform, 10 * x, 10 * y, 4.0, visible) == lay.edge_id(3, 1, 0)
    others = np.array([lay.edge_id(2, 0, 0)])  # far away: nothing within the tolerance
    assert pick_edge(lay, transform, 10 * x, 10 * y, 4.0, visible, candidates=others) is None


def test_per_layer_scales_make_small_hidden_deltas_readable(qtbot):
    # as in a trained [784, 300, 100, 10]: hidden δ are ~100x smaller than the output's
    view = shown_view(qtbot, DEEP)
    small = alternating(300, peak=3e-4)
    values = [None, small, alternating(100, peak=2e-3), alternating(10, peak=0.02)]
    view.set_node_values(values, "δ")
    QApplication.processEvents()
    image = view.grab().toImage()
    one = [colour_at(view, image, view.neuron_widget_pos(2, j)) for j in (10, 11)]
    assert np.abs(one[0] - one[1]).max() <= 6  # on one scale: both the zero colour, or nearly
    view.set_node_values(values, "δ", per_layer=True)
    QApplication.processEvents()
    image = view.grab().toImage()
    for j in (10, 11, 150):
        expected = want(small[j], 3e-4)  # the layer's own round scale
        assert np.abs(colour_at(view, image, view.neuron_widget_pos(2, j)) - expected).max() <= 2
        assert view.value_to_color(small[j], 2) == DivergingMap(3e-4).qcolor(small[j])
    a, b = (colour_at(view, image, view.neuron_widget_pos(2, j)) for j in (10, 11))
    assert np.abs(a - b).max() > 30
    labels = [text for text, _, _ in view.drawing()["labels"]]
    assert labels[1] == "l = 2 (300)\n±0.0003" and labels[3] == "l = 4 (output, 10)\n±0.02"
    assert labels[0] == "l = 1 (input, 784)"  # nothing shown there, no scale
    view.set_node_values(values, "δ")  # back to one scale: one line each
    assert view.drawing()["labels"][1][0] == "l = 2 (300)"
