"""The menus, Help → Keyboard shortcuts (generated from the actions) and Help → About."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu

import bpstudio
from bpstudio.gui import help as help_dialogs
from bpstudio.gui.window_parts import (
    ACTIONS,
    DOCKS,
    add_docks,
    add_toolbar_and_menus,
    make_actions,
)

#: The objectNames and shortcuts the window had before the File and Help menus came.
EARLIER_SHORTCUTS = {
    "actionPlay": (),
    "actionPause": (),
    "actionPlayPause": ("Space",),
    "actionStepBatch": ("N", "Right"),
    "actionStepPhase": ("Shift+N",),
    "actionReset": ("Ctrl+R",),
    "actionFit": ("F",),
    "actionRebuild": ("Ctrl+B",),
    "actionWhyFast": ("Ctrl+G",),
    "actionQuit": ("Ctrl+Q",),
}


@pytest.fixture
def window(qtbot):
    """A window with bpstudio's actions, docks (plain labels for panels) and menus."""
    win = QMainWindow()
    win.setCentralWidget(QLabel("network"))
    qtbot.addWidget(win)
    win.actions_ = make_actions(win, {})
    docks = add_docks(win, {key: QLabel(key) for _name, _title, key, *_ in DOCKS})
    win.menus_ = add_toolbar_and_menus(win, win.actions_, docks)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def _entries(menu: QMenu) -> list[str]:
    names = []
    for action in menu.actions():
        if action.isSeparator():
            continue
        names.append(action.menu().objectName() if action.menu() else action.objectName())
    return names


def test_the_menus_and_their_order(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Train", "&Check", "&View", "&Help"]
    m = window.menus_
    assert _entries(m["menuFile"]) == [
        "actionOpen",
        "menuRecent",
        "actionSave",
        "actionSaveAs",
        "actionExport",
        "actionQuit",
    ]
    assert "actionQuit" not in _entries(m["menuTrain"])
    assert _entries(m["menuTrain"])[0] == "actionPlayPause"
    assert _entries(m["menuCheck"]) == ["actionWhyFast"]
    view = _entries(m["menuView"])
    assert view[0] == "actionFit" and view[-1] == "actionResetLayout"
    assert _entries(m["menuHelp"]) == ["actionShortcuts", "actionAbout"]
    assert window.findChild(QMenu, "menuRecent") is m["menuRecent"]
    assert not window.windowIcon().isNull()


def test_new_shortcuts_and_the_earlier_ones_are_kept(window):
    def keys(name):
        shortcuts = window.findChild(QAction, name).shortcuts()
        return tuple(k.toString() for k in shortcuts)

    for name, shortcuts in EARLIER_SHORTCUTS.items():
        assert keys(name) == shortcuts, name
    assert keys("actionOpen") == ("Ctrl+O",)
    assert keys("actionSave") == ("Ctrl+S",)
    assert keys("actionSaveAs") == ("Ctrl+Shift+S",)
    assert keys("actionExport") == ("Ctrl+E",)
    assert keys("actionShortcuts") == ("F1", "Ctrl+/")


def test_no_two_actions_share_a_key():
    seen = {}
    for name, _text, shortcuts, _tip in ACTIONS:
        for key in shortcuts:
            canonical = QKeySequence(key).toString()
            assert canonical not in seen, f"{key} is used by {seen.get(canonical)} and {name}"
            seen[canonical] = name


def test_every_action_has_a_name_a_text_and_a_tooltip(window):
    for name, text, shortcuts, _tip in ACTIONS:
        action = window.findChild(QAction, name)
        assert action is not None and action.text() == text
        assert action.toolTip()
        for key in shortcuts:
            assert key in action.toolTip()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen cannot raise
def test_the_shortcuts_dialog_lists_every_shortcut(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(help_dialogs.ShortcutsDialog)
    assert dialog is not None and dialog.isVisible()
    rows = dialog.rows()
    expected = [
        (
            text.removesuffix("…"),
            ", ".join(
                QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in shortcuts
            ),
        )
        for _name, text, shortcuts, _tip in ACTIONS
        if shortcuts
    ]
    assert rows == expected
    assert ("Save As", "Ctrl+Shift+S") in rows and ("Step mini-batch", "N, Right") in rows
    # Asking again shows the same dialog rather than a second one.
    window.findChild(QAction, "actionShortcuts").trigger()
    assert window.findChildren(help_dialogs.ShortcutsDialog) == [dialog]
    dialog.close()


def test_the_shortcuts_dialog_follows_the_actions(qtbot):
    """It is made from the actions it is given, so a changed shortcut cannot go stale."""
    host = QMainWindow()
    qtbot.addWidget(host)
    actions = make_actions(host, {})
    actions["actionFit"].setShortcuts([QKeySequence("Ctrl+Alt+F")])
    actions["actionPlayPause"].setShortcuts([])
    rows = dict(help_dialogs.show_shortcuts(host, actions.values()).rows())
    assert rows["Fit"] == QKeySequence("Ctrl+Alt+F").toString(
        QKeySequence.SequenceFormat.NativeText
    )
    assert "Play/Pause" not in rows


def test_about_shows_the_version_licence_and_book(window, qtbot, monkeypatch):
    monkeypatch.setattr(bpstudio, "__version__", "9.8.7")  # read when shown, not typed in
    window.findChild(QAction, "actionAbout").trigger()
    dialog = window.findChild(help_dialogs.AboutDialog)
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.text()
    assert "bpstudio 9.8.7" in text
    assert "MIT" in text
    assert "chapter 2 of Michael Nielsen" in text
    assert "Neural Networks and Deep Learning" in text
    assert f'href="{help_dialogs.BOOK_URL}"' in text
    assert dialog.text.openExternalLinks()
    dialog.close()


def test_action_labels_read_as_plain_text(qtbot):
    action = QAction("Save &As…")
    assert help_dialogs.action_label(action) == "Save As"
    assert help_dialogs.action_label(QAction("Salt && pepper")) == "Salt & pepper"
