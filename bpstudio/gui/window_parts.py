"""The main window's furniture: actions with their shortcuts and icons, docks, toolbar, menus,
status bar, and the default layout that View → Reset layout restores.

Kept apart from :mod:`bpstudio.gui.main_window`, which is about behaviour (snapshots in, user
intent out). Every action and dock gets an ``objectName`` so that tests and accessibility tools
can find it.

Icons are SVG files in the project's top-level ``resources/icons`` folder, shipped in the wheel as
the package ``bpstudio.resources`` (see ``pyproject.toml``); :func:`resource_path` finds them in
an installed copy and in a source checkout alike. ``QIcon`` draws SVG through Qt's ``qsvgicon``
engine plugin, which PySide6-Essentials ships (with ``QtSvg``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QStyle,
    QToolBar,
    QWidget,
)

import bpstudio
from bpstudio.gui import settings

#: (objectName, text, shortcuts, tooltip) of every window action.
ACTIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("actionOpen", "Open…", ("Ctrl+O",), "Open a saved session (.bpsession)"),
    ("actionSave", "Save", ("Ctrl+S",), "Save the session"),
    ("actionSaveAs", "Save As…", ("Ctrl+Shift+S",), "Save the session under a new name"),
    (
        "actionExport",
        "Export…",
        ("Ctrl+E",),
        "Export the network or the plots as a picture, the history as CSV, the weights as NPZ",
    ),
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
    ("actionResetLayout", "Reset layout", (), "Put the panels back where they start"),
    ("actionShortcuts", "Keyboard shortcuts", ("F1", "Ctrl+/"), "List every keyboard shortcut"),
    ("actionAbout", "About bpstudio", (), "Version, licence and the book bpstudio accompanies"),
    ("actionQuit", "Quit", ("Ctrl+Q",), "Quit bpstudio"),
)
#: Action → icon file in ``resources/icons`` (without ``.svg``).
ICONS = {
    "actionPlay": "play",
    "actionPause": "pause",
    "actionStepBatch": "step",
    "actionStepPhase": "phase",
    "actionReset": "reset",
    "actionFit": "fit",
    "actionOpen": "open",
    "actionSave": "save",
    "actionSaveAs": "save",
    "actionExport": "export",
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
#: Menu title and objectName → its entries in order (``"menuRecent"``: the Open Recent submenu).
MENUS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "&File",
        "menuFile",
        ("actionOpen", "menuRecent", "actionSave", "actionSaveAs", "actionExport", "actionQuit"),
    ),
    (
        "&Train",
        "menuTrain",
        ("actionPlayPause", "actionStepBatch", "actionStepPhase", "actionReset", "actionRebuild"),
    ),
    ("&Check", "menuCheck", ("actionWhyFast",)),
    ("&View", "menuView", ("actionFit",)),  # then one entry per dock, then Reset layout
    ("&Help", "menuHelp", ("actionShortcuts", "actionAbout")),
)
#: The docks: objectName, title, panel key, area, minimum size of the content (width, height),
#: and how the panel scrolls inside its dock rather than forcing the window to its full size:
#: "vertical" (the dock is as wide as the panel needs), "both", or None (the panel shrinks).
DOCKS = (
    ("controlsDock", "Training", "controls", "left", (240, 140), "vertical"),
    ("hyperDock", "Network and hyperparameters", "hyper", "left", (240, 140), "vertical"),
    (
        "inspectorDock",
        "Inspector (click a weight or a neuron)",
        "inspector",
        "right",
        (280, 110),
        "both",
    ),
    ("equationsDock", "The four equations", "equations", "right", (280, 130), "both"),
    ("plotsDock", "Cost and accuracy", "plots", "bottom", (320, 150), None),
)
AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}
#: The window cannot be made smaller than this; at this size no dock overlaps another.
MIN_WINDOW = (1000, 660)
#: Dock properties: the dock another starts tabbed behind (see :func:`reset_layout`) …
TABBED_BESIDE = "tabbedBeside"
DEFAULT_AREA = "defaultDockArea"  # … and the area it starts in, if it is not tabbed
STATUS_LABELS = ("epochLabel", "batchLabel", "speedLabel", "costLabel")
#: The application icon: a simplified drawing below 32 px, the full one from 32 px up.
APP_ICON_SIZES = {"bpstudio-small": (16, 24), "bpstudio": (32, 48, 64, 128, 256)}


# -- resources -------------------------------------------------------------------------------------
def resource_path(name: str) -> Path:
    """The file ``name`` (e.g. ``"icons/play.svg"``) of bpstudio's resources.

    An installed bpstudio has them in the package folder ``bpstudio/resources``; a source
    checkout in the top-level ``resources/`` folder beside the package.
    """
    package = Path(bpstudio.__file__).resolve().parent
    for folder in (package / "resources", package.parent / "resources"):
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"bpstudio's resource {name!r} is missing (reinstall bpstudio)")


def icon(name: str) -> QIcon:
    """The action icon ``name`` (``"play"``, ``"save"``, …) from ``resources/icons``."""
    return QIcon(os.fspath(resource_path(f"icons/{name}.svg")))


def app_icon() -> QIcon:
    """bpstudio's application icon (window title bar and taskbar), sharp at 16 to 256 px."""
    result = QIcon()
    for name, sizes in APP_ICON_SIZES.items():
        drawing = icon(name)
        for size in sizes:
            result.addPixmap(drawing.pixmap(QSize(size, size)))
    return result


# -- actions and menus -----------------------------------------------------------------------------
def make_actions(window: QMainWindow, slots: Mapping[str, Callable]) -> dict[str, QAction]:
    """Create the :data:`ACTIONS` on ``window``, connecting those named in ``slots``.

    Help → About and Help → Keyboard shortcuts work without a slot (they open the dialogs of
    :mod:`bpstudio.gui.help`); Reset layout is connected by :func:`add_toolbar_and_menus`
    unless ``slots`` names it.
    """
    from bpstudio.gui import help as help_dialogs

    actions = {}
    for name, text, shortcuts, tip in ACTIONS:
        action = QAction(text, window)
        action.setObjectName(name)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        tip = tip or text
        action.setToolTip(f"{tip} ({', '.join(shortcuts)})" if shortcuts else tip)
        action.setProperty("hasSlot", name in slots)
        if name in slots:
            action.triggered.connect(slots[name])
        if name in ICONS:
            action.setIcon(icon(ICONS[name]))
        window.addAction(action)  # shortcuts work even while no menu or toolbar shows it
        actions[name] = action
    actions["actionPause"].setEnabled(False)
    actions["actionQuit"].setMenuRole(QAction.MenuRole.QuitRole)
    actions["actionAbout"].setMenuRole(QAction.MenuRole.AboutRole)
    defaults = {
        "actionAbout": lambda: help_dialogs.show_about(window),
        "actionShortcuts": lambda: help_dialogs.show_shortcuts(window, actions.values()),
    }
    for name, slot in defaults.items():
        if name not in slots:
            actions[name].triggered.connect(slot)
    return actions


def add_toolbar_and_menus(
    window: QMainWindow,
    actions: Mapping[str, QAction],
    docks: Mapping[str, QDockWidget],
    open_recent: Callable[[str], object] | None = None,
) -> dict[str, QMenu]:
    """The training toolbar and the File, Train, Check, View and Help menus.

    View shows or hides each dock and ends with Reset layout. File → Open Recent (objectName
    ``menuRecent``) is filled from the settings each time it opens; choosing an entry calls
    ``open_recent(path)`` (without it the entries are listed but disabled). Also sets the window
    icon. Returns the menus by objectName.
    """
    window.setWindowIcon(app_icon())
    toolbar = window.addToolBar("Training")
    toolbar.setObjectName("trainingToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for name in TOOLBAR:
        toolbar.addAction(actions[name])
    menus = {}
    for title, object_name, entries in MENUS:
        menu = window.menuBar().addMenu(title)
        menu.setObjectName(object_name)
        menus[object_name] = menu
        for entry in entries:
            if entry == "menuRecent":
                menus[entry] = _add_recent_menu(menu, open_recent)
            else:
                menu.addAction(actions[entry])
            if entry in ("actionSaveAs", "actionExport"):
                menu.addSeparator()
    view = menus["menuView"]
    for dock in docks.values():
        view.addAction(dock.toggleViewAction())
    view.addSeparator()
    view.addAction(actions["actionResetLayout"])
    _remember_extra_docks(window, docks)
    if not actions["actionResetLayout"].property("hasSlot"):
        actions["actionResetLayout"].triggered.connect(lambda: reset_layout(window, docks))
    return menus


def _add_recent_menu(file_menu: QMenu, open_recent: Callable[[str], object] | None) -> QMenu:
    menu = file_menu.addMenu("Open &Recent")
    menu.setObjectName("menuRecent")
    menu.aboutToShow.connect(lambda: fill_recent_menu(menu, settings.recent_files(), open_recent))
    fill_recent_menu(menu, settings.recent_files(), open_recent)
    return menu


def fill_recent_menu(
    menu: QMenu, paths: Iterable[str], open_callable: Callable[[str], object] | None
) -> list[QAction]:
    """Replace ``menu``'s entries by one per path (most recent first) and a final Clear.

    Choosing an entry calls ``open_callable(path)``; Clear forgets the recent files (in
    :mod:`bpstudio.gui.settings`) and empties the menu. Returns the file entries.
    """
    menu.clear()
    entries = []
    for number, path in enumerate(paths, start=1):
        name = Path(path).name.replace("&", "&&")
        action = menu.addAction(f"&{number % 10}  {name}")
        action.setObjectName(f"recentFile{number}")
        action.setData(path)
        action.setToolTip(path)
        action.setStatusTip(path)
        action.setEnabled(open_callable is not None)
        if open_callable is not None:
            action.triggered.connect(lambda _=False, p=path: open_callable(p))
        entries.append(action)
    if not entries:
        menu.addAction("No recent files").setEnabled(False)
    menu.addSeparator()
    clear = menu.addAction("Clear")
    clear.setObjectName("actionClearRecent")
    clear.setEnabled(bool(entries))
    clear.triggered.connect(lambda: _clear_recent(menu, open_callable))
    return entries


def _clear_recent(menu: QMenu, open_callable: Callable[[str], object] | None) -> None:
    settings.clear_recent_files()
    # Refilled once Clear's own signal is done: clearing the menu deletes that very action.
    QTimer.singleShot(0, menu, lambda: fill_recent_menu(menu, [], open_callable))


# -- docks and layout ------------------------------------------------------------------------------
def add_docks(window: QMainWindow, panels: Mapping[str, QWidget]) -> dict[str, QDockWidget]:
    """Dock the panels (``controls``, ``hyper``, ``inspector``, ``equations``, ``plots``) in
    their default places, and give the window its minimum size (:data:`MIN_WINDOW`)."""
    docks = {}
    for name, title, key, _area, (width, height), scroll in DOCKS:
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        content = panels[key]
        if scroll is not None:
            content = _scrolled(content, f"{key}Scroll", scroll)
        content.setMinimumSize(max(width, content.minimumWidth()), height)
        dock.setWidget(content)
        docks[name] = dock
    window.setMinimumSize(*MIN_WINDOW)
    _place_docks(window, docks)
    return docks


def _scrolled(panel: QWidget, object_name: str, scroll: str) -> QScrollArea:
    area = QScrollArea()
    area.setObjectName(object_name)
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    if scroll == "vertical":  # never a horizontal scroll bar: as wide as the panel needs
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = area.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        area.setMinimumWidth(panel.minimumSizeHint().width() + bar)
    return area


def _place_docks(window: QMainWindow, docks: Mapping[str, QDockWidget]) -> None:
    for name, _title, _key, area, _minimum, _scroll in DOCKS:
        window.addDockWidget(AREAS[area], docks[name])
        docks[name].show()
    _size_docks(window, docks)


def _size_docks(window: QMainWindow, docks: Mapping[str, QDockWidget]) -> None:
    window.layout().activate()  # resizeDocks needs the docks in place (a shown window's are not)
    window.resizeDocks([docks["plotsDock"]], [230], Qt.Orientation.Vertical)
    window.resizeDocks(
        [docks["controlsDock"], docks["inspectorDock"]], [270, 480], Qt.Orientation.Horizontal
    )
    for pair in (("controlsDock", "hyperDock"), ("inspectorDock", "equationsDock")):
        column = [docks[name] for name in pair]  # split as the panels ask, however they were
        window.resizeDocks(column, [d.sizeHint().height() for d in column], Qt.Orientation.Vertical)


def _remember_extra_docks(window: QMainWindow, docks: Mapping[str, QDockWidget]) -> None:
    """Note where docks added outside :data:`DOCKS` start (behind which dock, or in which
    area), so that Reset layout can put them back."""
    named = [name for name, *_ in DOCKS if name in docks]
    for name, dock in docks.items():
        if name in named or dock.property(TABBED_BESIDE):
            continue
        beside = [n for n in named if dock in window.tabifiedDockWidgets(docks[n])]
        if beside:
            dock.setProperty(TABBED_BESIDE, beside[0])
        else:
            dock.setProperty(DEFAULT_AREA, window.dockWidgetArea(dock).value)


def _place_extra_dock(window: QMainWindow, docks: Mapping[str, QDockWidget], dock) -> None:
    beside = docks.get(dock.property(TABBED_BESIDE) or "")
    if beside is None:
        area = dock.property(DEFAULT_AREA)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        window.addDockWidget(right if area is None else Qt.DockWidgetArea(area), dock)
    else:
        window.addDockWidget(window.dockWidgetArea(beside), dock)
        window.tabifyDockWidget(beside, dock)
    dock.show()
    if beside is not None:
        beside.raise_()  # the first tab stays in front


def reset_layout(window: QMainWindow, docks: Mapping[str, QDockWidget]) -> None:
    """View → Reset layout: every dock docked, shown and sized as :func:`add_docks` left it,
    and the training toolbar back at the top. Docks added to ``docks`` outside :data:`DOCKS`
    go back where they were when :func:`add_toolbar_and_menus` was called (e.g. a tab behind
    another dock)."""
    for dock in docks.values():
        window.removeDockWidget(dock)
        dock.setFloating(False)
    toolbar = window.findChild(QToolBar, "trainingToolbar")
    if toolbar is not None:
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        toolbar.show()
    _place_docks(window, docks)
    named = {name for name, *_ in DOCKS}
    for name, dock in docks.items():
        if name not in named:
            _place_extra_dock(window, docks, dock)
    _size_docks(window, docks)  # again, now that tab bars of the extra docks take their room


class StatusLabel(QLabel):
    """A status-bar label of fixed size that widens for a longer text and narrows only when
    told (while training is paused).

    A label whose size follows its text asks the window to lay itself out again at every
    change; the main window's layout, docks and all, then repaints most of the window, four
    times a second while training runs. A fixed size stops that, and the numbers stop
    jittering left and right.
    """

    MIN_WIDTH = 120

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFixedSize(self.MIN_WIDTH, self.sizeHint().height())

    def show_text(self, text: str, *, may_narrow: bool = False) -> None:
        if text == self.text():
            return
        self.setText(text)
        margins = self.contentsMargins()
        need = self.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right() + 8
        need = max(need, self.MIN_WIDTH)
        if need > self.width() or (may_narrow and need < self.width()):
            self.setFixedWidth(need)


def add_status_labels(window: QMainWindow) -> dict[str, StatusLabel]:
    """Permanent status-bar labels for the epoch, mini-batch, speed and cost."""
    labels = {}
    for name in STATUS_LABELS:
        label = StatusLabel(window)
        label.setObjectName(name)
        window.statusBar().addPermanentWidget(label)
        labels[name] = label
    return labels
