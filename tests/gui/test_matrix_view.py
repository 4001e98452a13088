"""MatrixView: each w^l as a heatmap in the edges' colours; a click on a cell selects that weight.

Snapshots come from a real session on the built-in digits; expected colours from
:mod:`bpstudio.gui.colors` with the scale computed here.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from bpstudio.core.data import load_digits
from bpstudio.core.session import Session
from bpstudio.core.snapshot import take_snapshot
from bpstudio.gui.colors import DivergingMap, edge_lut, nice_ceiling, robust_scale
from bpstudio.gui.matrix_view import MatrixView
from bpstudio.gui.model import ViewModel


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture
def session(digits):
    s = Session(digits, [64, 16, 10], seed=3, evaluate=False)
    s.run(5)
    return s


@pytest.fixture
def model(session):
    m = ViewModel()
    m.set_snapshot(take_snapshot(session, serial=0, costs_from=0, running=False), new_session=True)
    return m


@pytest.fixture
def view(qtbot, model):
    v = MatrixView(model)
    qtbot.addWidget(v)
    v.resize(700, 500)
    v.show()
    qtbot.waitExposed(v)
    return v


def expected_colour(snap, l, j, k) -> np.ndarray:
    flat = np.concatenate([np.ravel(w) for w in snap.weights])
    colours = DivergingMap(nice_ceiling(robust_scale(flat)), edge_lut())
    return colours.rgba([snap.weights[l - 2][j, k]])[0, :3].astype(int)


def screen_colour(view, pos: QPoint) -> np.ndarray:
    image = view.grab().toImage()
    c = image.pixelColor(view.mouse_widget.mapTo(view, pos))
    return np.array([c.red(), c.green(), c.blue()])


def test_it_has_its_object_name_and_one_heatmap_per_matrix(view):
    assert view.objectName() == "matrixView"
    titles = [t for t, _ in view.panel_rects()]
    assert [t.split(":")[0] for t in titles] == ["w^2 (16 × 64)", "w^3 (10 × 16)"]
    assert view.image(0).width() == 64 and view.image(0).height() == 16  # columns k, rows j
    assert view.image(1).width() == 16 and view.image(1).height() == 10


@pytest.mark.parametrize(("l", "j", "k"), [(2, 0, 0), (2, 7, 40), (2, 15, 63), (3, 4, 9)])
def test_a_cell_has_the_map_colour_of_its_weight(view, model, l, j, k):
    got = screen_colour(view, view.cell_pos(l, j, k))
    assert np.abs(got - expected_colour(model.snapshot, l, j, k)).max() <= 1


def test_cells_follow_new_snapshots(view, model, session):
    before = screen_colour(view, view.cell_pos(3, 2, 5))
    session.run(40)
    model.set_snapshot(take_snapshot(session, serial=1, costs_from=0, running=False))
    QApplication.processEvents()
    after = screen_colour(view, view.cell_pos(3, 2, 5))
    assert np.abs(after - expected_colour(model.snapshot, 3, 2, 5)).max() <= 1
    assert not np.array_equal(before, after)


def test_a_click_on_a_cell_selects_that_weight_and_outlines_it(qtbot, view, model):
    for l, j, k in ((2, 9, 33), (3, 6, 11)):
        with qtbot.waitSignal(
            model.selection_changed, check_params_cb=lambda s, w=(l, j, k): s == ("w", *w)
        ):
            qtbot.mouseClick(
                view.mouse_widget, Qt.MouseButton.LeftButton, pos=view.cell_pos(l, j, k)
            )  # noqa: E501
        assert model.selection == ("w", l, j, k)
    QApplication.processEvents()
    outline = view.outlines()[0]  # drawn in ink around the selected cell
    edge = QPoint(int(outline.left()), int(outline.center().y()))
    assert screen_colour(view, edge).max() < 90


def test_a_selected_neuron_outlines_its_row_and_column(view, model):
    model.set_selection(("n", 2, 5))
    row, column = view.outlines()
    rect2, rect3 = view.panel_rects()[0][1], view.panel_rects()[1][1]
    assert row.width() >= rect2.width() - 1 and rect2.contains(row.center())
    assert column.height() >= rect3.height() - 1 and rect3.contains(column.center())
    assert view.cell_at(column.center().toPoint())[2] == 5


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_hover_text_names_the_weight(qtbot, view, model):
    pos = view.cell_pos(3, 1, 2)
    assert view.tooltip_at(pos).startswith(f"w^3_1,2 = {model.snapshot.weights[1][1, 2]:.4g}")
    QToolTip.hideText()


def test_a_wide_view_puts_the_heatmaps_side_by_side(qtbot, view, model):
    view.resize(1200, 220)
    QApplication.processEvents()
    (_, first), (_, second) = view.panel_rects()
    assert first.right() < second.left() and second.width() >= 140
    assert first.width() > second.width()  # 64 columns against 16
    l, j, k = 3, 9, 15
    got = screen_colour(view, view.cell_pos(l, j, k))
    assert np.abs(got - expected_colour(model.snapshot, l, j, k)).max() <= 1
    with qtbot.waitSignal(model.selection_changed):
        qtbot.mouseClick(view.mouse_widget, Qt.MouseButton.LeftButton, pos=view.cell_pos(2, 15, 0))
    assert model.selection == ("w", 2, 15, 0)


def test_the_wheel_zooms_into_the_columns_and_a_double_click_shows_all(qtbot, view, model):
    def wheel(pos, steps):
        for _ in range(steps):
            where = QPointF(pos)
            event = QWheelEvent(
                where, view.mouse_widget.mapToGlobal(where), QPoint(), QPoint(0, 120),
                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase, False,
            )  # fmt: skip
            QApplication.sendEvent(view.mouse_widget, event)

    before = view.cell_pos(2, 3, 40)
    wide = view.panel_rects()[0][1].width() / 64  # one column before zooming
    wheel(before, 5)
    k0, shown = view.column_window(2)
    assert shown < 64 and k0 <= 40 < k0 + shown
    assert abs(view.cell_pos(2, 3, 40).x() - before.x()) <= wide  # zoomed about the mouse
    assert "in view" in view.panel_rects()[0][0]
    got = screen_colour(view, view.cell_pos(2, 3, 40))
    assert np.abs(got - expected_colour(model.snapshot, 2, 3, 40)).max() <= 1
    with qtbot.waitSignal(model.selection_changed):
        qtbot.mouseClick(view.mouse_widget, Qt.MouseButton.LeftButton, pos=view.cell_pos(2, 3, 41))
    assert model.selection == ("w", 2, 3, 41)
    qtbot.mouseDClick(view.mouse_widget, Qt.MouseButton.LeftButton, pos=view.cell_pos(2, 3, 41))
    assert view.column_window(2) == (0.0, 64.0)


def test_a_hidden_view_catches_up_when_shown(qtbot, model, session, view):
    view.hide()
    session.run(20)
    later = take_snapshot(session, serial=1, costs_from=0, running=True)
    model.set_snapshot(later)  # hidden: nothing is recoloured now
    view.show()
    qtbot.waitExposed(view)
    pos = view.cell_pos(2, 3, 7)
    assert np.abs(screen_colour(view, pos) - expected_colour(later, 2, 3, 7)).max() <= 2
