"""The network view as a picture: PNG at a chosen scale, or SVG with real vector edges and nodes.

The view paints its edges from a raster ID image (:mod:`bpstudio.gui.edge_raster`), which an
SVG cannot hold; the SVG is built here from the layout instead, from what the view reports in
:meth:`NetworkView.drawing`: one ``<line>`` per edge the view draws (edges hidden by the edge
filter are left out), in the order the screen draws them (weakest first, a focused neuron's edges
last), with the colour the screen shows for it (the diverging colour blended onto the page by the
edge's opacity, as :func:`bpstudio.gui.colors.edge_lut` does); neurons as circles with their
fill, grid layers (an image input, large layers) as one ``<rect>`` per cell, the layer labels,
the highlight band and both colour bars.

Both writers replace the file atomically (a temporary file in the same folder, then
``os.replace``), so a failed export never leaves half a file behind, and raise
:class:`~bpstudio.core.errors.ConfigError` with a one-line message when the path cannot be
written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage

from bpstudio.core.errors import ConfigError
from bpstudio.gui.colors import BACKGROUND
from bpstudio.gui.edge_raster import line_thickness

SVG_NS = "http://www.w3.org/2000/svg"
OUTLINE = "#6e6e6e"
INK = "#282828"
FONT = "font-family:sans-serif;font-size:12px;fill:" + INK
#: Colour stops of a colour bar's gradient in the SVG.
BAR_STOPS = 17


class NetworkDrawing:
    """What :class:`~bpstudio.gui.network_view.NetworkView` has drawn, for the writers here
    (a mixin of the view, which provides the layout, colours, items and bars it reads)."""

    def drawing(self) -> dict:
        """What is drawn now, for exporters (:mod:`bpstudio.gui.network_export`).

        Returns
        -------
        dict
            ``layout`` (:class:`NetworkLayout`); ``transform`` ``(sx, sy, dx, dy)`` from data
            to :attr:`mouse_widget` pixels; ``origin`` ``(x, y)`` of that widget in this one;
            ``edge_rgb`` ``(n_edges, 3)`` ``uint8`` on-screen edge colours; ``visible``
            ``(n_edges,)`` bool (the edge filter); ``weights`` ``(n_edges,)``; ``front`` the
            edges drawn in front (a focused neuron's) or ``None``; ``selected`` edge or
            ``None``; ``node_rgb`` per layer ``(n_l, 3)`` ``uint8``; ``labels`` and ``band`` in
            data coordinates (see :class:`LayerDecorations`); ``bars``: per colour bar
            ``(title, lut, low, high, (x, y, w, h))`` in this widget's pixels.
        """
        table = self._colours.full_table()[1:]
        rgb = np.stack([(table >> s) & 255 for s in (16, 8, 0)], axis=1).astype(np.uint8)
        nodes = []
        for l, n in enumerate(self._layout.sizes, start=1):
            if l in self._grids:
                nodes.append(self._grids[l].colours()[:, :3])
            else:
                colours = [self._nodes.brush_color(l, j).getRgb()[:3] for j in range(n)]
                nodes.append(np.array(colours, dtype=np.uint8).reshape(n, 3))
        origin = self.mouse_widget.mapTo(self, QPoint(0, 0))
        bars = []
        for bar in (self._edge_bar, self._node_bar):
            g = bar.geometry()
            geometry = (g.x(), g.y(), g.width(), g.height())
            bars.append((bar.title(), bar.lut(), bar.low(), bar.scale(), geometry))
        return {
            "layout": self._layout,
            "transform": self._data_to_widget(),
            "origin": (origin.x(), origin.y()),
            "size": (self.width(), self.height()),
            "edge_rgb": rgb,
            "visible": self._colours.visible.copy(),
            "weights": self._colours.weights.copy(),
            "front": None if self._colours.focus is None else np.array(self._colours.focus),
            "selected": self._overlay.selected(),
            "node_rgb": nodes,
            "labels": self._decorations.labels(),
            "band": self._decorations.band(),
            "bars": bars,
        }

    def render_scaled(self, scale: float) -> QImage:
        """This widget rendered at ``scale`` times its pixel size, edges built at that scale."""
        size = self.size()
        image = QImage(
            round(size.width() * scale), round(size.height() * scale), QImage.Format.Format_RGB32
        )
        image.setDevicePixelRatio(scale)
        image.fill(QColor(*BACKGROUND))
        with self._raster.scaled(scale):
            self.render(image)
        image.setDevicePixelRatio(1.0)
        return image


def _hex(rgb) -> str:
    r, g, b = (int(c) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _atomic_write(path, write) -> None:
    """Call ``write(temporary_path)``, then move the result onto ``path`` in one step."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder; give a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from None
    os.close(fd)
    try:
        # mkstemp makes the file private; give it the mode a new file would have had
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_network_png(view, path, scale: float = 2.0) -> None:
    """Write the view as a PNG of ``scale`` times its pixel size (2 for slides).

    Parameters
    ----------
    view : NetworkView
    path : str or os.PathLike
        The PNG file to write (replaced atomically).
    scale : float
        Pixel size factor: at 2, the PNG has twice the view's width and height.

    Raises
    ------
    ConfigError
        If ``scale`` is not in (0, 8] or the file cannot be written.
    """
    if not 0 < scale <= 8:
        raise ConfigError(f"the export scale must be above 0 and at most 8, not {scale}")
    image = view.render_scaled(scale)

    def write(tmp: str) -> None:
        if not image.save(tmp, "PNG"):
            raise OSError(f"Qt could not write a PNG to {tmp}")

    _atomic_write(path, write)


def export_network_svg(view, path) -> None:
    """Write the view as an SVG with one vector element per drawn edge and per neuron.

    Parameters
    ----------
    view : NetworkView
    path : str or os.PathLike
        The SVG file to write (replaced atomically).

    Raises
    ------
    ConfigError
        If the file cannot be written.
    """
    text = network_svg(view.drawing())

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    _atomic_write(path, write)


def _tag(name: str, text: str | None = None, **attrs) -> str:
    """One element; attribute names use ``_`` for ``-``; values and text are escaped."""
    items = "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in attrs.items())
    return f"<{name}{items}/>" if text is None else f"<{name}{items}>{escape(text)}</{name}>"


def network_svg(d: dict) -> str:
    """The SVG document of a :meth:`NetworkView.drawing` description."""
    width, height = d["size"]
    ox, oy = d["origin"]
    sx, sy, dx, dy = d["transform"]
    d = {**d, "transform": (sx, sy, dx + ox, dy + oy)}  # data -> this drawing's pixels
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n",
        f'<svg xmlns="{SVG_NS}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">\n',
        _tag("rect", width=width, height=height, fill=_hex(BACKGROUND)),
        *_edges(d),
        *_band(d),  # above the edges, below the neurons, as on screen
        *_grids(d),
        *_circles(d),
        *_labels(d),
    ]
    for bar in d["bars"]:
        parts.extend(_colour_bar(*bar))
    parts.append("</svg>\n")
    return "".join(parts)


def _to_px(d, x, y):
    sx, sy, dx, dy = d["transform"]
    return sx * np.asarray(x) + dx, sy * np.asarray(y) + dy


def _edge_order(d) -> np.ndarray:
    """Visible edges in drawing order: per weight matrix weakest first, then the front ones."""
    lay, visible = d["layout"], d["visible"]
    front = np.zeros(lay.n_edges, bool)
    if d["front"] is not None:
        front[d["front"]] = True
    order = np.argsort(np.abs(d["weights"]), kind="stable")
    matrix = np.searchsorted(lay.offsets, order, side="right")
    order = order[np.argsort(matrix, kind="stable")]  # by matrix, weakest first within each
    back = order[visible[order] & ~front[order]]
    ahead = order[visible[order] & front[order]]
    return np.concatenate([back, ahead])


def _edges(d):
    lay = d["layout"]
    order = _edge_order(d)
    x0, y0 = _to_px(d, lay.segments[order, 0], lay.segments[order, 1])
    x1, y1 = _to_px(d, lay.segments[order, 2], lay.segments[order, 3])
    p = np.searchsorted(lay.offsets, order, side="right") - 1
    j, k = np.divmod(order - lay.offsets[p], np.asarray(lay.sizes)[p])
    widths = np.array([line_thickness(int(n)) for n in np.diff(lay.offsets)])[p]
    packed = d["edge_rgb"][order].astype(np.int64) @ np.array([65536, 256, 1])
    unique, which = np.unique(packed, return_inverse=True)
    names = [f"#{int(v):06x}" for v in unique]  # a few hundred colours for any number of edges
    colours = [names[i] for i in which.tolist()]
    yield '<g id="edges" fill="none">\n'
    for row in zip(
        np.round(x0, 2).tolist(), np.round(y0, 2).tolist(), np.round(x1, 2).tolist(),
        np.round(y1, 2).tolist(), colours, widths.tolist(), (p + 2).tolist(), j.tolist(),
        k.tolist(), strict=True,
    ):  # fmt: skip
        yield (
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}" '
            'data-w="{},{},{}"/>\n'.format(*row)
        )
    yield "</g>\n"
    if d["selected"] is not None:
        (xa, xb), (ya, yb) = _to_px(
            d, lay.segments[d["selected"], ::2], lay.segments[d["selected"], 1::2]
        )
        colour = _hex(d["edge_rgb"][d["selected"]])
        yield '<g id="selection" fill="none">'
        for stroke, width in ((INK, 6), ("#ffffff", 3.5), (colour, 2.5)):
            yield _tag(
                "line", x1=_num(xa), y1=_num(ya), x2=_num(xb), y2=_num(yb), stroke=stroke,
                stroke_width=width,
            )  # fmt: skip
        yield "</g>\n"


def _grids(d):
    lay = d["layout"]
    sx, sy, _, _ = d["transform"]
    for l, grid in enumerate(lay.grids, start=1):
        if grid is None:
            continue
        yield f'<g id="layer{l}" shape-rendering="crispEdges">'
        x, y = _to_px(d, grid.left, grid.top)
        yield _tag(
            "rect", x=_num(x), y=_num(y), width=_num(sx * grid.width),
            height=_num(sy * grid.height), fill=_hex(BACKGROUND), stroke=OUTLINE,
        )  # fmt: skip
        cw, ch = sx * grid.width / grid.cols, sy * grid.height / grid.rows
        for j, rgb in enumerate(d["node_rgb"][l - 1]):
            r, c = divmod(j, grid.cols)
            yield _tag(
                "rect", x=_num(x + c * cw), y=_num(y + r * ch), width=_num(cw), height=_num(ch),
                fill=_hex(rgb),
            )  # fmt: skip
        yield "</g>\n"


def _circles(d):
    lay = d["layout"]
    sx = d["transform"][0]
    for l, grid in enumerate(lay.grids, start=1):
        if grid is not None:
            continue
        yield f'<g id="layer{l}" stroke="{OUTLINE}">'
        cx, cy = _to_px(d, lay.centres[l - 1][:, 0], lay.centres[l - 1][:, 1])
        r = _num(abs(sx) * float(lay.radius[l - 1]))
        for j, rgb in enumerate(d["node_rgb"][l - 1]):
            yield _tag("circle", cx=_num(cx[j]), cy=_num(cy[j]), r=r, fill=_hex(rgb))
        yield "</g>\n"


def _labels(d):
    yield f'<g id="labels" style="{FONT}" text-anchor="middle">'
    for text, x, y in d["labels"]:
        px, py = _to_px(d, x, y)
        for i, line in enumerate(text.split("\n")):  # a layer's own scale on a second line
            yield _tag("text", line, x=_num(px), y=_num(py + 12 + 14 * i))
    yield "</g>\n"


def _band(d):
    if d["band"] is None:
        return
    (left, top, width, height), arrow, (r, g, b, a) = d["band"]
    sx, sy, _, _ = d["transform"]
    x, y = _to_px(d, left, top)
    yield '<g id="highlight">'
    yield _tag(
        "rect", x=_num(x), y=_num(y), width=_num(sx * width), height=_num(sy * height),
        fill=_hex((r, g, b)), fill_opacity=_num(a / 255),
    )  # fmt: skip
    if arrow:
        yield _tag(
            "text", arrow, x=_num(x + sx * width / 2), y=_num(y - 4), style=FONT,
            text_anchor="middle",
        )  # fmt: skip
    yield "</g>\n"


def _colour_bar(title, lut, low, high, geometry):
    x, y, w, h = geometry
    margin, line = 40, 14
    gid = f"gradient{int(x)}x{int(y)}"
    yield f'<g class="colour-bar" style="{FONT}" text-anchor="middle">'
    yield f'<defs><linearGradient id="{gid}" x1="0" x2="1" y1="0" y2="0">'
    for t in np.linspace(0, 1, BAR_STOPS):
        colour = lut[int(round(t * (len(lut) - 1)))]
        yield _tag("stop", offset=_num(t), stop_color=_hex(colour))
    yield "</linearGradient></defs>"
    yield _tag("text", title, x=_num(x + w / 2), y=_num(y + line - 2))
    bar_w = max(10, w - 2 * margin)
    yield _tag(
        "rect", x=_num(x + margin), y=_num(y + line + 3), width=_num(bar_w),
        height=_num(0.8 * line), fill=f"url(#{gid})", stroke=OUTLINE,
    )  # fmt: skip
    signed = low < 0
    ends = (
        (0.0, f"{low:.3g}".replace("-", "−")),
        (0.5, "0" if signed else f"{(low + high) / 2:.3g}"),
        (1.0, f"+{high:.3g}" if signed else f"{high:.3g}"),
    )
    for frac, label in ends:
        yield _tag("text", label, x=_num(x + margin + frac * bar_w), y=_num(y + 3 * line))
    yield "</g>\n"
