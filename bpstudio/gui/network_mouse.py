"""Mouse interaction of the network view: click to select, hover to focus, tooltips.

Hover picking is throttled: mouse moves only store the position, and a single-shot timer picks
at most every ``HOVER_INTERVAL_MS``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

HOVER_INTERVAL_MS = 30


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
