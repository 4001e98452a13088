"""The docks of the views that explain what the network learned, all following one ViewModel.

Each panel takes the window's :class:`~bpstudio.gui.model.ViewModel` and subscribes to it;
this module only docks them and connects what they ask of the training worker (tracing a drawn
digit, training on the user's own points). Adding a panel is one entry in :data:`VIEW_DOCKS`.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow

from bpstudio.gui.decision_regions import DecisionRegions
from bpstudio.gui.digit_canvas import DigitCanvas
from bpstudio.gui.matrix_view import MatrixView
from bpstudio.gui.model import BEHIND_TAB
from bpstudio.gui.path_explorer import PathExplorer
from bpstudio.gui.receptive_fields import ReceptiveFields

#: The smallest a view's dock may be made.
MIN_PANEL = (200, 120)
#: objectName of the dock, its title, the panel class, the dock it is tabbed with.
VIEW_DOCKS = (
    ("pathExplorerDock", "Sum over paths", PathExplorer, "inspectorDock"),
    ("receptiveFieldsDock", "Receptive fields", ReceptiveFields, "plotsDock"),
    ("decisionRegionsDock", "Decision regions", DecisionRegions, "plotsDock"),
    ("digitCanvasDock", "Draw a digit", DigitCanvas, "plotsDock"),
    ("matrixViewDock", "Weight matrices", MatrixView, "plotsDock"),
)


def _tab_shown(panel, shown: bool) -> None:
    """A dock's tab came to the front (or went behind): mark its panel, and let it draw what it
    skipped while behind (its ``showEvent`` does, as when a hidden widget is shown)."""
    panel.setProperty(BEHIND_TAB, not shown)
    if shown:
        QCoreApplication.sendEvent(panel, QShowEvent())


def add_view_docks(window: QMainWindow, model, docks: dict) -> dict:
    """Create the view panels in docks tabbed behind the main ones; returns them by dock name."""
    panels = {}
    for name, title, cls, beside in VIEW_DOCKS:
        panel = cls(model)
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        # A small minimum of its own, so that a panel's natural size never forces the window's
        # layout (docks tabbed together take the largest minimum of their panels).
        panel.setMinimumSize(*MIN_PANEL)
        dock.setWidget(panel)
        dock.visibilityChanged.connect(lambda shown, p=panel: _tab_shown(p, shown))
        window.addDockWidget(window.dockWidgetArea(docks[beside]), dock)
        window.tabifyDockWidget(docks[beside], dock)
        docks[name] = dock
        panels[name] = panel
    for beside in {b for *_, b in VIEW_DOCKS}:
        docks[beside].raise_()
    return panels


def connect_view_panels(window, panels: dict) -> None:
    """Wire what the panels ask of the worker, and the points of two-input data."""
    from bpstudio.core.data.points import Points

    controller = window.controller
    canvas = panels["digitCanvasDock"]
    canvas.trace_requested.connect(controller.trace_input)
    canvas.train_requested.connect(controller.train_input)
    regions = panels["decisionRegionsDock"]

    def current() -> Points:
        snap = window.model.snapshot
        if snap is None or snap.points is None:
            return Points.empty()
        return Points.from_parts(*snap.points)

    regions.point_added.connect(lambda x, y, c: controller.use_points(current().added(x, y, c)))
    regions.point_removed.connect(lambda i: controller.use_points(current().removed_shown(i)))
    regions.points_cleared.connect(lambda: controller.use_points(Points.empty()))
    regions.points_loaded.connect(controller.use_points)

    def on_session(snap) -> None:
        if snap.points is not None:
            regions.set_points(*snap.points)

    window.model.session_changed.connect(on_session)
    explorer = panels["pathExplorerDock"]
    dock = window.docks["pathExplorerDock"]

    def highlight(*_) -> None:
        # While the explorer shows, the view draws the selected weight's paths (or the one
        # path of the selected row) in front.
        edges = None
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            edges = explorer.highlighted_path_edges or explorer.highlighted_edges
        window.view.set_highlight_edges(edges)

    explorer.path_highlighted.connect(highlight)
    window.model.selection_changed.connect(highlight)
    dock.visibilityChanged.connect(highlight)


__all__ = ["VIEW_DOCKS", "add_view_docks", "connect_view_panels"]
