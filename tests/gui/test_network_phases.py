"""Phase stepping in the network view: each phase bands the layers it computed (issue 11, item 8).

Phases come from the core (:func:`bpstudio.core.trace.phases_for`); the band's place is checked
against the neurons' positions, its colour on screen below the neurons (where no edge runs).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from bpstudio.core.trace import phases_for
from bpstudio.gui.colors import DivergingMap, edge_lut, nice_ceiling, robust_scale
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


def banded_layers(view) -> set[int]:
    """The layers all of whose neurons lie inside the band."""
    (x, y, w, h), _ = view.highlight()
    inside = set()
    for l, n in enumerate(SIZES, start=1):
        points = [view.neuron_widget_pos(l, j) for j in range(n)]
        if all(x <= p.x() <= x + w and y <= p.y() <= y + h for p in points):
            inside.add(l)
    return inside


def band_pixel(view, l: int):
    """The colour on screen in the band's lower margin, under layer ``l`` (no edges there)."""
    QApplication.processEvents()
    (x, y, w, h), _ = view.highlight()
    pos = QPoint(view.neuron_widget_pos(l, 0).x() + 10, y + h - 3)
    c = view.grab().toImage().pixelColor(view.mouse_widget.mapTo(view, pos))
    return np.array([c.red(), c.green(), c.blue()])


def test_every_phase_bands_the_layers_it_computes(view):
    L = len(SIZES)
    expected = {
        "feedforward": ({1, 2, 3}, "forward"),
        "output_error": ({3}, "BP1"),
        "backpropagate": ({2}, "BP2"),
        "gradients": ({1, 2, 3}, "BP3, BP4"),
        "update": ({1, 2, 3}, "update"),
    }
    kinds = []
    for phase in phases_for(L):
        view.set_phase(phase)
        layers, word = expected[phase.kind]
        assert banded_layers(view) == layers, phase.kind
        assert word in view.highlight()[1]
        kinds.append(phase.kind)
    assert kinds == ["feedforward", "output_error", "backpropagate", "gradients", "update"]
    view.set_phase(None)
    assert view.highlight() is None


def test_bands_are_visible_and_tell_the_phases_apart(view):
    phases = {p.kind: p for p in phases_for(len(SIZES))}
    view.set_phase(phases["feedforward"])
    amber = band_pixel(view, 2)
    view.set_phase(phases["gradients"])
    green = band_pixel(view, 2)
    view.set_phase(phases["update"])
    violet = band_pixel(view, 2)
    assert amber[0] > amber[2] + 15  # warm
    assert green[1] > green[0] + 10 and green[1] > green[2] + 10
    assert violet[2] > violet[1] + 10
    view.set_phase(None)
    QApplication.processEvents()
    assert view.highlight() is None


def input_rect_pixels(view) -> np.ndarray:
    """RGB of every pixel inside the input image, inset by two pixels."""
    a, b = view.neuron_widget_pos(1, 0), view.neuron_widget_pos(1, 63)
    image = view.grab().toImage()
    origin = view.mouse_widget.mapTo(view, QPoint(0, 0))
    out = []
    for y in range(a.y() - 8, b.y() + 8):
        for x in range(a.x() - 8, b.x() + 8):
            c = image.pixelColor(origin.x() + x, origin.y() + y)
            out.append((c.red(), c.green(), c.blue()))
    return np.array(out)


def test_the_input_says_when_it_will_appear_until_an_example_is_given(view):
    QApplication.processEvents()
    dark = (input_rect_pixels(view).max(axis=1) < 100).sum()
    assert dark > 20  # the placeholder text
    view.set_input_image(np.zeros(64))  # an example (all paper white), before any trace
    QApplication.processEvents()
    assert (input_rect_pixels(view) == 255).all()
    view.set_input_image(None)
    QApplication.processEvents()
    assert (input_rect_pixels(view).max(axis=1) < 100).sum() == dark


def test_edges_can_show_the_gradients_bp4_computed(view, qtbot):
    rng = np.random.default_rng(5)
    nabla = [rng.normal(0, 0.01, (b, a)) for a, b in zip(SIZES, SIZES[1:], strict=False)]
    view.set_weights(nabla, quantity="∂C/∂w")
    qtbot.waitUntil(view.raster_is_current)
    d = view.drawing()
    assert d["bars"][0][0].startswith("∂C/∂w (edge colour")
    flat = np.concatenate([g.ravel() for g in nabla])
    colours = DivergingMap(nice_ceiling(robust_scale(flat)), edge_lut())
    e = d["layout"].edge_id(3, 2, 5)
    assert d["edge_rgb"][e].tolist() == colours.rgba([nabla[1][2, 5]])[0, :3].tolist()
    assert view.default_tooltip(("weight", (3, 2, 5))).startswith(
        f"∂C/∂w^3_2,5 = {nabla[1][2, 5]:.4g}"
    )
    view.set_weights([np.ones((16, 64)), np.ones((10, 16))])
    assert view.drawing()["bars"][0][0].startswith("w (edge colour")
