"""The hover tooltip follows new numbers instead of showing stale ones (issue 11, item 3)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QToolTip

from bpstudio.gui.network_view import NetworkView

SIZES = [3, 2, 2]


@pytest.fixture
def view(qtbot):
    v = NetworkView()
    qtbot.addWidget(v)
    v.resize(700, 500)
    v.show()
    qtbot.waitExposed(v)
    v.set_architecture(SIZES)
    v.set_weights([np.full((2, 3), 0.5), np.array([[2.401, -0.3], [0.7, 0.1]])])
    qtbot.waitUntil(v.raster_is_current)
    yield v
    QToolTip.hideText()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_a_visible_weight_tooltip_shows_the_newest_weight(qtbot, view):
    qtbot.mouseMove(view.mouse_widget, view.edge_widget_pos(3, 0, 0, 0.5))
    qtbot.waitUntil(lambda: "w^3_0,0 = 2.401" in QToolTip.text())
    view.set_weights([np.full((2, 3), 0.5), np.array([[2.1048, -0.3], [0.7, 0.1]])])
    assert "w^3_0,0 = 2.105" in QToolTip.text() and "2.401" not in QToolTip.text()


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_a_visible_neuron_tooltip_shows_the_newest_value(qtbot, view):
    view.set_node_values([None, np.array([0.25, -0.5]), np.zeros(2)], "δ")
    qtbot.mouseMove(view.mouse_widget, view.neuron_widget_pos(2, 1))
    qtbot.waitUntil(lambda: "δ = -0.5" in QToolTip.text())
    view.set_node_values([None, np.array([0.25, 0.125]), np.zeros(2)], "δ")
    assert "δ = 0.125" in QToolTip.text()
