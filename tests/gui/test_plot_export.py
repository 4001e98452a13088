"""Plot export: the PNG has the size asked for and the curve where it is drawn; the SVG holds the
curve as a vector path through its data points."""

import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from bpstudio.core.errors import ConfigError
from bpstudio.gui.plot_export import export_plot

SVG = "{http://www.w3.org/2000/svg}"
X = np.arange(10.0)
Y = X**2


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget(background="w")
    widget.plot(X, Y, pen=pg.mkPen("#ff0000", width=1))
    widget.setXRange(2, 5, padding=0)  # the curve runs past the view on both sides
    widget.setYRange(0, 30, padding=0)
    widget.resize(400, 300)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def item_size(widget):
    rect = widget.getPlotItem().sceneBoundingRect()
    return round(rect.width()), round(rect.height())


def pixel_of(widget, x, y, scale):
    """Where data point (x, y) lands in an image of the plot item at ``scale``."""
    item = widget.getPlotItem()
    p = item.vb.mapViewToScene(QPointF(x, y)) - item.sceneBoundingRect().topLeft()
    return int(p.x() * scale), int(p.y() * scale)


def reddish_near(image, x, y, radius=2):
    for i in range(x - radius, x + radius + 1):
        for j in range(y - radius, y + radius + 1):
            c = QColor(image.pixel(i, j))
            if c.red() > 150 and c.green() < 120 and c.blue() < 120:
                return True
    return False


def test_png_at_twice_the_scale_has_twice_the_pixels_and_the_curve_in_place(plot, tmp_path):
    path = tmp_path / "cost.png"
    export_plot(plot, path, scale=2)
    image = QImage(os.fspath(path))
    width, height = item_size(plot)
    assert (image.width(), image.height()) == (2 * width, 2 * height)
    on_curve = pixel_of(plot, 4.0, 16.0, 2)
    off_curve = pixel_of(plot, 2.5, 25.0, 2)  # upper left of the view: far from y = x²
    assert reddish_near(image, *on_curve)
    assert not reddish_near(image, *off_curve, radius=6)


def test_png_of_an_exact_size_is_that_size(plot, tmp_path):
    path = tmp_path / "odd.png"
    export_plot(plot, path, size=(333, 211))  # another aspect ratio: no side rounded off
    image = QImage(os.fspath(path))
    assert (image.width(), image.height()) == (333, 211)


def test_svg_is_xml_with_the_curve_as_a_path_through_its_points(plot, tmp_path):
    path = tmp_path / "cost.svg"
    export_plot(plot, path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    width, height = item_size(plot)
    assert [float(v) for v in root.get("viewBox").split()] == pytest.approx(
        [0, 0, width, height], abs=1
    )
    red = [g for g in root.iter(f"{SVG}g") if g.get("stroke") == "#ff0000"]
    paths = [p for g in red for p in g.iter(f"{SVG}path")]
    assert len(paths) == 1
    points = [
        tuple(map(float, xy))
        for xy in re.findall(r"(-?[\d.e+-]+),(-?[\d.e+-]+)", paths[0].get("d"))
    ]
    assert points == list(zip(X, Y))
    # The curve runs past the view, so it must be clipped to it, as on screen.
    clipped = [g for g in root.iter(f"{SVG}g") if g.get("clip-path") and red[0] in list(g)]
    assert clipped


def test_svg_of_a_plot_with_symbols_exports(qtbot, tmp_path):
    # pyqtgraph 0.14.0's own SVGExporter fails on closed paths (symbols, the view's outline).
    widget = pg.PlotWidget()
    widget.plot([0, 1, 2], [0.5, 0.7, 0.9], pen="g", symbol="o", symbolBrush="g")
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    path = tmp_path / "accuracy.svg"
    export_plot(widget, path)
    root = ET.parse(path).getroot()
    closed = [p for p in root.iter(f"{SVG}path") if p.get("d", "").rstrip().endswith("Z")]
    assert len(closed) >= 3  # at least the three circles


@pytest.mark.parametrize("name", ["plot.jpg", "plot", "plot.svg.txt"])
def test_another_ending_is_a_config_error_and_writes_nothing(plot, tmp_path, name):
    with pytest.raises(ConfigError, match=r"ending in \.png or \.svg"):
        export_plot(plot, tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_a_bad_scale_is_a_config_error(plot, tmp_path):
    with pytest.raises(ConfigError, match="scale"):
        export_plot(plot, tmp_path / "x.png", scale=0)
