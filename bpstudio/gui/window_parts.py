"""The main window's furniture: actions with their shortcuts, docks, toolbar, menus, status bar.

Kept apart from :mod:`bpstudio.gui.main_window`, which is about behaviour (snapshots in, user
intent out). Every action and dock gets an ``objectName`` so that tests and accessibility tools
can find it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStyle, QWidget

#: (objectName, text, shortcuts, tooltip) of every window action, in menu order.
ACTIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("actionPlay", "Play", (), "Train continuously"),
    ("actionPause", "Pause", (), "Pause training"),
    ("actionPlayPause", "Play/Pause", ("Space",), "Toggle play and pause"),
    (
        "actionStepBatch",
        "Step mini-batch",
        ("N", "Right"),
        "Run exactly one mini-batch (update_mini_batch)",
    ),
    (
        "actionStepPhase",
        "Step phase",
        ("Shift+N",),
        "Run the next phase of backprop: feedforward, BP1, BP2 …, BP3/BP4, update",
    ),
    ("actionReset", "Reset", ("Ctrl+R",), "Re-initialise from the seed"),
    ("actionFit", "Fit", ("F",), "Fit the network in view"),
    ("actionRebuild", "Rebuild network", ("Ctrl+B",), ""),
    (
        "actionWhyFast",
        "Why backprop is fast…",
        ("Ctrl+G",),
        "Compute the whole gradient by backprop and by finite differences, and time both",
    ),
    ("actionQuit", "Quit", ("Ctrl+Q",), "Quit bpstudio"),
)
ICONS = {
    "actionPlay": QStyle.StandardPixmap.SP_MediaPlay,
    "actionPause": QStyle.StandardPixmap.SP_MediaPause,
    "actionStepBatch": QStyle.StandardPixmap.SP_MediaSkipForward,
    "actionStepPhase": QStyle.StandardPixmap.SP_MediaSeekForward,
    "actionReset": QStyle.StandardPixmap.SP_BrowserReload,
}
TOOLBAR = (
    "actionPlay",
    "actionPause",
    "actionStepBatch",
    "actionStepPhase",
    "actionReset",
    "actionFit",
    "actionWhyFast",
)
TRAIN_MENU = (
    "actionPlayPause",
    "actionStepBatch",
    "actionStepPhase",
    "actionReset",
    "actionRebuild",
    "actionQuit",
)
STATUS_LABELS = ("epochLabel", "batchLabel", "speedLabel", "costLabel")


def make_actions(window: QMainWindow, slots: Mapping[str, Callable]) -> dict[str, QAction]:
    """Create the :data:`ACTIONS` on ``window``, connecting those named in ``slots``."""
    actions = {}
    for name, text, shortcuts, tip in ACTIONS:
        action = QAction(text, window)
        action.setObjectName(name)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        tip = tip or text
        action.setToolTip(f"{tip} ({', '.join(shortcuts)})" if shortcuts else tip)
        if name in slots:
            action.triggered.connect(slots[name])
        if name in ICONS:
            action.setIcon(window.style().standardIcon(ICONS[name]))
        window.addAction(action)  # shortcuts work even while no menu or toolbar shows it
        actions[name] = action
    actions["actionPause"].setEnabled(False)
    return actions


def add_docks(window: QMainWindow, panels: Mapping[str, QWidget]) -> dict[str, QDockWidget]:
    """Dock the panels (``controls``, ``hyper``, ``inspector``, ``equations``, ``plots``)."""
    left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    docks = {}
    for name, title, panel, area in (
        ("controlsDock", "Training", "controls", left),
        ("hyperDock", "Network and hyperparameters", "hyper", left),
        ("inspectorDock", "Inspector (click a weight or a neuron)", "inspector", right),
        ("equationsDock", "The four equations", "equations", right),
        ("plotsDock", "Cost and accuracy", "plots", bottom),
    ):
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        dock.setWidget(panels[panel])
        window.addDockWidget(area, dock)
        docks[name] = dock
    window.resizeDocks([docks["plotsDock"]], [230], Qt.Orientation.Vertical)
    window.resizeDocks(
        [docks["controlsDock"], docks["inspectorDock"]], [270, 480], Qt.Orientation.Horizontal
    )
    return docks


def add_toolbar_and_menus(
    window: QMainWindow, actions: Mapping[str, QAction], docks: Mapping[str, QDockWidget]
) -> None:
    """The training toolbar and the Train, Check and View menus (View shows or hides docks)."""
    toolbar = window.addToolBar("Training")
    toolbar.setObjectName("trainingToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for name in TOOLBAR:
        toolbar.addAction(actions[name])
    menus = window.menuBar()
    train = menus.addMenu("&Train")
    for name in TRAIN_MENU:
        train.addAction(actions[name])
    menus.addMenu("&Check").addAction(actions["actionWhyFast"])
    view = menus.addMenu("&View")
    view.addAction(actions["actionFit"])
    for dock in docks.values():
        view.addAction(dock.toggleViewAction())


def add_status_labels(window: QMainWindow) -> dict[str, QLabel]:
    """Permanent status-bar labels for the epoch, mini-batch, speed and cost."""
    labels = {}
    for name in STATUS_LABELS:
        label = QLabel(window)
        label.setObjectName(name)
        label.setMinimumWidth(120)
        window.statusBar().addPermanentWidget(label)
        labels[name] = label
    return labels
