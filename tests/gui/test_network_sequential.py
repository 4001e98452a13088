"""One-signed node quantities get a sequential map and colour bar 0 … max (issue 11, item 6).

σ′(z) is never negative, nor is a = σ(z) for the sigmoid; drawing them on a ±scale diverging
map wastes half the colours and suggests negative values. Expected colours come from
:mod:`bpstudio.gui.colors`.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from bpstudio.core.functions import get_activation
from bpstudio.gui.colors import (
    SEQUENTIAL_STOPS,
    DivergingMap,
    SequentialMap,
    nice_ceiling,
    sequential_lut,
)
from bpstudio.gui.network_view import NetworkView

SIZES = [64, 16, 10]


@pytest.fixture
def view(qtbot):
    v = NetworkView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    v.set_architecture(SIZES, (8, 8))
    rng = np.random.default_rng(0)
    v.set_weights([rng.normal(0, 0.3, (b, a)) for a, b in zip(SIZES, SIZES[1:], strict=False)])
    qtbot.waitUntil(v.raster_is_current)
    return v


def sigma_prime_values(seed=1):
    rng = np.random.default_rng(seed)
    prime = get_activation("sigmoid").prime
    return [None] + [prime(rng.normal(0, 2, n)) for n in SIZES[1:]]


def test_sequential_map_runs_from_zero_to_the_scale():
    m = SequentialMap(0.25)
    lut = sequential_lut()
    assert m.index([0.0, 0.25, 1.0, -0.1, np.nan]).tolist() == [0, 254, 254, 0, 0]
    assert m.index([0.125])[0] == 127
    assert lut[0, :3].tolist() == [0x44, 0x01, 0x54] and lut[-1, :3].tolist() == [0xFD, 0xE7, 0x25]
    assert len(SEQUENTIAL_STOPS) == 9
    assert m.low == 0.0 and not m.signed and DivergingMap(1.0).low == -1.0


def test_sigma_prime_nodes_use_the_sequential_map_on_screen(view):
    values = sigma_prime_values()
    view.set_node_values(values, "σ′(z)", signed=False)
    QApplication.processEvents()
    peak = max(float(v.max()) for v in values[1:])
    scale = nice_ceiling(peak)
    assert scale <= 0.25  # σ′ of the sigmoid is at most 1/4: the bar reads 0 … 0.25 or less
    expected = SequentialMap(scale)
    image = view.grab().toImage()
    for l, j in ((2, 0), (2, 7), (3, 3)):
        want = expected.qcolor(values[l - 1][j])
        got = image.pixelColor(view.mouse_widget.mapTo(view, view.neuron_widget_pos(l, j)))
        assert max(abs(got.red() - want.red()), abs(got.green() - want.green())) <= 2
        assert view.node_color(l, j) == want
        assert view.value_to_color(values[l - 1][j]) == want


def bar_middle(view, image):
    title, lut, low, high, (x, y, w, h) = view.drawing()["bars"][1]
    line = view.fontMetrics().height()
    c = image.pixelColor(QPoint(x + w // 2, y + line + 3 + int(0.4 * line)))
    return (title, low, high), np.array([c.red(), c.green(), c.blue()])


def test_the_colour_bar_reads_zero_to_max_and_goes_back_for_signed_values(view):
    view.set_node_values(sigma_prime_values(), "σ′(z)", signed=False)
    QApplication.processEvents()
    (title, low, high), middle = bar_middle(view, view.grab().toImage())
    assert (title, low) == ("σ′(z)", 0.0) and high <= 0.25
    assert np.abs(middle - sequential_lut()[127, :3]).max() <= 12  # viridis teal, not white
    view.set_node_values([None, np.linspace(-1, 1, 16), np.zeros(10)], "δ")
    QApplication.processEvents()
    (_, low, high), middle = bar_middle(view, view.grab().toImage())
    assert (low, high) == (-1.0, 1.0)
    assert middle.min() >= 235  # the diverging map's zero is near white


def test_auto_sign_picks_the_map_from_the_values(view):
    view.set_node_values([None, np.linspace(0, 0.5, 16), np.zeros(10)], signed=None)
    assert view.value_to_color(0.25) == SequentialMap(0.5).qcolor(0.25)
    view.set_node_values([None, np.linspace(-0.5, 0.5, 16), np.zeros(10)], signed=None)
    assert view.value_to_color(0.25) == DivergingMap(0.5).qcolor(0.25)
