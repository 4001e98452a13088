"""Export a pyqtgraph plot (the cost or the accuracy plot) as PNG or SVG.

PNG goes through pyqtgraph's :class:`~pyqtgraph.exporters.ImageExporter`, with both sides of
the image set explicitly: the exporter derives the height from the width with ``int()``,
which can lose a pixel.

SVG does not use pyqtgraph's ``SVGExporter``: in pyqtgraph 0.14.0 it re-parses the SVG Qt
writes and fails on the ``Z`` (close path) that Qt 6 now writes for the view box's outline
("not enough values to unpack", pyqtgraph issue #3495, fixed upstream after 0.14.0). Its reason
to exist was that Qt's SVG generator could not clip; Qt 6 clips in SVG 1.1 mode, so the plot
is painted straight into a :class:`~PySide6.QtSvg.QSvgGenerator` with pyqtgraph's export mode
on (curves and symbols then paint as vector paths, not cached pixmaps).

Both are written atomically (:mod:`bpstudio.core.atomic`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import Exporter, ImageExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from bpstudio.core.atomic import FileError, atomic_write_bytes
from bpstudio.core.errors import ConfigError

__all__ = ["PLOT_FORMATS", "export_plot", "plot_png", "plot_svg"]

#: File name endings :func:`export_plot` understands.
PLOT_FORMATS = (".png", ".svg")

# CSS pixels: 96 per inch, so that the SVG's width in millimetres is its width in pixels.
_SVG_DPI = 96


def export_plot(plot, path: str | os.PathLike, *, scale: float = 1.0, size=None) -> None:
    """Write ``plot`` to ``path`` as PNG or SVG, chosen by the file name's ending.

    Parameters
    ----------
    plot : pyqtgraph.PlotWidget or QGraphicsItem
        A plot widget (its whole plot, axes and legend included) or an item in a shown scene.
    path : str or path-like
        Ends in ``.png`` or ``.svg`` (any case).
    scale : float
        PNG only: the image is ``scale`` times the plot's size on screen (2 for slides).
    size : (int, int), optional
        PNG only: the image's exact width and height in pixels, instead of ``scale``.

    Raises
    ------
    ConfigError
        The file name ends in something else, or the size is not positive.
    FileError
        The file cannot be written; an existing file is left as it was.
    """
    ending = Path(path).suffix.lower()
    if ending not in PLOT_FORMATS:
        raise ConfigError(
            f"cannot export a plot as {os.fspath(path)!r}: choose a name ending in .png or .svg"
        )
    item = _plot_item(plot)
    data = plot_png(item, scale=scale, size=size) if ending == ".png" else plot_svg(item)
    atomic_write_bytes(path, data)


def plot_png(plot, *, scale: float = 1.0, size=None) -> bytes:
    """The plot as PNG bytes (see :func:`export_plot` for ``scale`` and ``size``)."""
    item = _plot_item(plot)
    exporter = ImageExporter(item)
    width, height = _png_size(exporter.getTargetRect(), scale, size)
    params = exporter.parameters()
    # Each side is set with its partner's update blocked, so neither is rounded from the other.
    params.param("width").setValue(width, blockSignal=exporter.widthChanged)
    params.param("height").setValue(height, blockSignal=exporter.heightChanged)
    image = exporter.export(toBytes=True)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise FileError(f"could not encode a {width}×{height} PNG image")
    buffer.close()
    return bytes(data.data())


def plot_svg(plot) -> bytes:
    """The plot as SVG 1.1 bytes: vector curves, symbols, axes and text, clipped to the view."""
    return _SvgExporter(_plot_item(plot)).svg()


def _plot_item(plot) -> QGraphicsItem:
    if isinstance(plot, pg.PlotWidget):
        return plot.getPlotItem()
    if isinstance(plot, QGraphicsItem):
        if plot.scene() is None or not plot.scene().views():
            raise ValueError("the plot item must be in a scene that a view shows")
        return plot
    raise TypeError(f"expected a pyqtgraph PlotWidget or graphics item, got {type(plot).__name__}")


def _png_size(target: QRectF, scale: float, size) -> tuple[int, int]:
    if size is not None:
        width, height = (int(n) for n in size)
    else:
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ConfigError(f"the image scale must be a positive number, got {scale!r}")
        width, height = round(target.width() * scale), round(target.height() * scale)
    if width < 1 or height < 1:
        raise ConfigError(f"an image needs at least one pixel each way, got {width}×{height}")
    return width, height


class _SvgExporter(Exporter):
    """Paints an item's part of its scene into Qt's SVG 1.1 generator (see the module's text).

    Built on pyqtgraph's :class:`Exporter` for its source rectangle and its export mode; not
    registered, so it does not appear in pyqtgraph's own export menu.
    """

    def svg(self) -> bytes:
        source = self.getSourceRect()
        target = self.getTargetRect()
        width, height = target.width(), target.height()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
        generator.setOutputDevice(buffer)
        generator.setResolution(_SVG_DPI)
        generator.setSize(QSize(math.ceil(width), math.ceil(height)))
        generator.setViewBox(QRectF(0, 0, width, height))
        generator.setTitle("bpstudio plot")
        background = self._background()
        painter = QPainter(generator)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self.setExportMode(
                True,
                {
                    "antialias": True,
                    "background": background,
                    "painter": painter,
                    "resolutionScale": 1.0,
                },
            )
            if background.alpha() > 0:
                painter.fillRect(QRectF(0, 0, width, height), background)
            self.getScene().render(painter, QRectF(0, 0, width, height), source)
        finally:
            self.setExportMode(False)
            painter.end()
        buffer.close()
        return bytes(data.data())

    def _background(self) -> QColor:
        # The view's background brush is not part of the scene, so scene.render() skips it.
        brush = self.getScene().views()[0].backgroundBrush()
        color = QColor(brush.color())
        if brush.style() == Qt.BrushStyle.NoBrush:
            color.setAlpha(0)
        return color
