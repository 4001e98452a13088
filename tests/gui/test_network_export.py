"""Exporting the network view: SVG with one vector element per drawn edge, PNG at a scale.

Expected colours are computed here from :mod:`bpstudio.gui.colors` (the scale is the round
number above the 99th percentile of |w|, as the edge colour bar says), not read from the view.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage

from bpstudio.core.errors import ConfigError
from bpstudio.gui.colors import DivergingMap, edge_lut, nice_ceiling, robust_scale
from bpstudio.gui.network_export import export_network_png, export_network_svg
from bpstudio.gui.network_view import NetworkView

SVG = "{http://www.w3.org/2000/svg}"
DIGITS = [64, 16, 10]


@pytest.fixture
def view(qtbot):
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def setup(view, qtbot, sizes, image_shape, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.4, (b, a)) for a, b in zip(sizes, sizes[1:], strict=False)]
    view.set_architecture(sizes, image_shape)
    view.set_weights(weights)
    view.set_node_values([None] + [rng.normal(0, 0.1, n) for n in sizes[1:]])
    view.set_input_image(rng.random(sizes[0]))
    qtbot.waitUntil(view.raster_is_current)
    return weights


def edge_lines(path):
    root = ET.parse(path).getroot()
    group = root.find(f".//{SVG}g[@id='edges']")
    return root, group.findall(f"{SVG}line")


def hex_of(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb[:3]))


def test_svg_has_one_line_per_edge_in_the_on_screen_colour(view, qtbot, tmp_path):
    weights = setup(view, qtbot, DIGITS, (8, 8))
    path = tmp_path / "net.svg"
    export_network_svg(view, path)
    _, lines = edge_lines(path)
    assert len(lines) == 64 * 16 + 16 * 10
    flat = np.concatenate([w.ravel() for w in weights])
    colours = DivergingMap(nice_ceiling(robust_scale(flat)), edge_lut())
    seen = set()
    for line in lines:
        l, j, k = (int(v) for v in line.get("data-w").split(","))
        seen.add((l, j, k))
        assert line.get("stroke") == hex_of(colours.rgba([weights[l - 2][j, k]])[0])
    assert len(seen) == len(lines)  # each edge once
    # drawn weakest first within each weight matrix, as on screen
    order = [tuple(int(v) for v in line.get("data-w").split(",")) for line in lines]
    assert [l for l, _, _ in order] == [2] * (64 * 16) + [3] * (16 * 10)
    mags = [abs(weights[0][j, k]) for _, j, k in order[: 64 * 16]]
    assert mags == sorted(mags)


def test_svg_keeps_only_the_edges_the_filter_shows(view, qtbot, tmp_path):
    weights = setup(view, qtbot, DIGITS, (8, 8))
    view.set_edge_filter(0.05)
    export_network_svg(view, tmp_path / "strong.svg")
    _, lines = edge_lines(tmp_path / "strong.svg")
    flat = np.abs(np.concatenate([w.ravel() for w in weights]))
    want = int(round(0.05 * flat.size))
    assert len(lines) == want
    threshold = np.sort(flat)[-want]
    for line in lines:
        l, j, k = (int(v) for v in line.get("data-w").split(","))
        assert abs(weights[l - 2][j, k]) >= threshold


def test_svg_nodes_cells_labels_and_bars(view, qtbot, tmp_path):
    setup(view, qtbot, [784, 100, 10], (28, 28))
    view.set_node_values([None, np.linspace(-1, 1, 100), np.zeros(10)], label="δ <mean> & more")
    view.select_neuron(3, 4)
    export_network_svg(view, tmp_path / "big.svg")
    root, lines = edge_lines(tmp_path / "big.svg")
    assert len(lines) == 784 * 100 + 100 * 10
    focused = {(3, 4, k) for k in range(100)}
    tail = {tuple(int(v) for v in x.get("data-w").split(",")) for x in lines[-100:]}
    assert tail == focused  # a focused neuron's edges come last, in front
    cells = root.findall(f".//{SVG}g[@id='layer2']/{SVG}rect")[1:]  # after the grid's frame
    assert len(cells) == 100
    for j in (0, 50, 99):
        assert cells[j].get("fill") == hex_of(view.node_color(2, j).getRgb())
    pixels = root.findall(f".//{SVG}g[@id='layer1']/{SVG}rect")[1:]
    assert len(pixels) == 784
    circles = root.findall(f".//{SVG}g[@id='layer3']/{SVG}circle")
    assert [c.get("fill") for c in circles] == [
        hex_of(view.node_color(3, j).getRgb()) for j in range(10)
    ]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "l = 2 (100)" in texts and "δ <mean> & more" in texts  # escaped, read back whole


def test_png_at_two_times_has_twice_the_pixels(view, qtbot, tmp_path):
    setup(view, qtbot, DIGITS, (8, 8))
    export_network_png(view, tmp_path / "net.png", scale=2.0)
    image = QImage(str(tmp_path / "net.png"))
    assert (image.width(), image.height()) == (2 * view.width(), 2 * view.height())
    for j in (0, 9):  # the neurons are where they are on screen, twice as far from the corner
        pos = view.mouse_widget.mapTo(view, view.neuron_widget_pos(3, j))
        got = image.pixelColor(2 * pos.x() + 1, 2 * pos.y() + 1)
        want = view.node_color(3, j)
        assert max(abs(got.red() - want.red()), abs(got.blue() - want.blue())) <= 3
    assert view.raster_is_current()  # the screen's edge image is back


def test_unwritable_paths_raise_a_config_error(view, qtbot, tmp_path):
    setup(view, qtbot, DIGITS, (8, 8))
    missing = tmp_path / "no" / "such" / "folder" / "net.svg"
    for export in (export_network_svg, export_network_png):
        with pytest.raises(ConfigError) as err:
            export(view, missing.with_suffix(".svg" if export is export_network_svg else ".png"))
        assert "\n" not in str(err.value) and "cannot write" in str(err.value)
    with pytest.raises(ConfigError, match="folder"):
        export_network_svg(view, tmp_path)
    old = tmp_path / "keep.svg"
    old.write_text("old")
    with pytest.raises(ConfigError):
        export_network_png(view, old, scale=0)
    assert old.read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
