"""Mouse interaction of the network view: click to select, hover to focus, tooltips, picking.

:class:`NetworkPicking` holds the view's picking and position methods (``neuron_at``,
``edge_at``, ``neuron_widget_pos``, ...): a mixin of :class:`~bpstudio.gui.network_view.
NetworkView`, which provides the graphics, layout, raster and colours they read.

Hover picking is throttled: mouse moves only store the position, and a single-shot timer picks
at most every ``HOVER_INTERVAL_MS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from bpstudio.gui.network_layout import pick_edge, pick_neuron

HOVER_INTERVAL_MS = 30
#: Pick radius around edges and small nodes, in screen pixels.
PICK_TOLERANCE_PX = 4.0


class NetworkMouse(QObject):
    """Turns scene clicks and moves into the view's selection, focus and hover signals.

    Parameters
    ----------
    view : NetworkView
        Provides ``neuron_at``, ``edge_at``, ``select_*``, ``clear_selection``,
        ``set_focus_neuron`` and the ``*_hovered`` signals.
    graphics : pyqtgraph.GraphicsView
        Its scene sends ``sigMouseClicked`` and ``sigMouseMoved``; its viewport receives the
        mouse events (tooltips are shown over it; leaving it ends a hover).
    """

    def __init__(self, view, graphics) -> None:
        super().__init__(view)
        self._view, self._graphics = view, graphics
        self._widget: QWidget = graphics.viewport()
        scene = graphics.scene()
        self.tooltip_provider: Callable[[tuple], str] | None = None
        self._hover_pos = QPointF()
        self._hovered: tuple | None = None
        self._where = QPoint()  # global position of the tooltip shown last
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(HOVER_INTERVAL_MS)
        self._timer.timeout.connect(self._on_hover_timer)
        scene.sigMouseClicked.connect(self._on_clicked)
        scene.sigMouseMoved.connect(self._on_moved)
        self._widget.installEventFilter(self)

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view, pos = self._view, event.scenePos()
        if (hit := view.neuron_at(pos)) is not None:  # nodes take precedence over edges
            view.select_neuron(*hit)
        elif (edge := view.edge_at(pos)) is not None:
            view.select_weight(*edge)
        else:
            view.clear_selection()

    def _on_moved(self, scene_pos: QPointF) -> None:
        self._hover_pos = QPointF(scene_pos)
        if not self._timer.isActive():
            self._timer.start()

    def _on_hover_timer(self) -> None:
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:
            return  # panning: no picking while the ID image is out of date
        view, pos = self._view, self._hover_pos
        neuron = view.neuron_at(pos)
        view.set_focus_neuron(*(neuron or (None, None)))
        hit = ("neuron", neuron) if neuron else None
        if hit is None and (edge := view.edge_at(pos)) is not None:
            hit = ("weight", edge)
        if hit is not None and hit != self._hovered:
            (view.neuron_hovered if hit[0] == "neuron" else view.edge_hovered).emit(*hit[1])
        self._hovered = hit
        if hit is None or self.tooltip_provider is None:
            QToolTip.hideText()
            return
        self._where = self._widget.mapToGlobal(self._graphics.mapFromScene(pos))
        QToolTip.showText(self._where, self.tooltip_provider(hit), self._widget)

    def refresh_tooltip(self) -> None:
        """New numbers arrived: rewrite a visible hover tooltip so it never shows stale ones."""
        if self._hovered is None or self.tooltip_provider is None or not QToolTip.isVisible():
            return
        text = self.tooltip_provider(self._hovered)
        if text != QToolTip.text():
            QToolTip.showText(self._where, text, self._widget)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        # getattr: Qt may still deliver events while the Python side is being torn down.
        if watched is getattr(self, "_widget", None) and event.type() == QEvent.Type.Leave:
            self._timer.stop()
            self._hovered = None
            self._view.set_focus_neuron(None)
        return super().eventFilter(watched, event)


class NetworkPicking:
    """Picking and positions of :class:`~bpstudio.gui.network_view.NetworkView` (a mixin).

    Positions are in :attr:`NetworkView.mouse_widget` pixels; ``QPointF`` arguments are scene
    coordinates.
    """

    def _pixel(self, pos: QPoint | QPointF) -> tuple[int, int]:
        """Mouse-widget pixel of a ``QPoint`` (widget) or ``QPointF`` (scene) position."""
        if isinstance(pos, QPointF):
            p = self._graphics.viewportTransform().map(pos)
            return math.floor(p.x() + 1e-6), math.floor(p.y() + 1e-6)
        return pos.x(), pos.y()

    def _data_to_widget(self):
        """``(sx, sy, dx, dy)``: widget ``x = sx * x_data + dx`` (no rotation, as in a ViewBox)."""
        self._box.updateMatrix()  # pyqtgraph defers it to the next paint after a range change
        t = self._raster.sceneTransform() * self._graphics.viewportTransform()
        return t.m11(), t.m22(), t.dx(), t.dy()

    def neuron_at(self, pos: QPoint | QPointF) -> tuple[int, int] | None:
        """Return ``(l, j)`` of the node (or input cell) under ``pos``, or ``None``.

        ``QPoint`` is in :attr:`mouse_widget` pixels, ``QPointF`` in scene coordinates.
        """
        ix, iy = self._pixel(pos)
        transform = self._data_to_widget()
        return pick_neuron(self._layout, transform, ix + 0.5, iy + 0.5, PICK_TOLERANCE_PX)

    def edge_at(self, scene_or_view_pos: QPoint | QPointF) -> tuple[int, int, int] | None:
        """Return ``(l, j, k)`` of the edge under a position, or ``None``.

        ``QPoint`` is in :attr:`mouse_widget` pixels, ``QPointF`` in scene coordinates. The edges
        drawn in front (selected, focused) are tried first, then the edge that owns the pixel in
        the ID image, then the nearest visible edge within ``PICK_TOLERANCE_PX``.
        """
        ix, iy = self._pixel(scene_or_view_pos)
        dpr = self.mouse_widget.devicePixelRatioF()
        dev_x, dev_y = math.floor(ix * dpr), math.floor(iy * dpr)
        on_top = self._raster.edge_at_pixel(dev_x, dev_y)
        near = self._raster.edges_near_pixel(dev_x, dev_y, math.ceil(PICK_TOLERANCE_PX * dpr) + 1)
        selected = self._overlay.selected()
        focus = self._colours.focus
        front = ([] if selected is None else [[selected]]) + ([] if focus is None else [focus])
        e = pick_edge(
            self._layout,
            self._data_to_widget(),
            ix + 0.5,
            iy + 0.5,
            PICK_TOLERANCE_PX,
            self._colours.visible,
            front,
            on_top,
            near,
        )
        return None if e is None else self._layout.edge_ljk(e)

    def edge_widget_pos(self, l: int, j: int, k: int, t: float = 0.5) -> QPoint:
        """:attr:`mouse_widget` pixel at fraction ``t`` from neuron ``k`` (l - 1) to ``j`` (l)."""
        x, y = self._layout.edge_point(self._layout.edge_id(l, j, k), t)
        return self._widget_point(x, y)

    def edge_visible_pos(self, l: int, j: int, k: int) -> QPoint | None:
        """A point of edge ``w^l_jk`` where it is the edge drawn on top (so a click there picks
        it), searching from t = 0.3 to 0.9 along it; ``None`` when other edges cover it all."""
        for t in np.linspace(0.3, 0.9, 121):
            pos = self.edge_widget_pos(l, j, k, float(t))
            if self.neuron_at(pos) is None and self.edge_at(pos) == (l, j, k):
                return pos
        return None

    def neuron_widget_pos(self, l: int, j: int) -> QPoint:
        """:attr:`mouse_widget` pixel at the centre of neuron ``j`` of layer ``l``."""
        x, y = self._layout.centres[l - 1][j]
        return self._widget_point(float(x), float(y))

    def _widget_point(self, x: float, y: float) -> QPoint:
        sx, sy, dx, dy = self._data_to_widget()
        return QPoint(math.floor(sx * x + dx), math.floor(sy * y + dy))
