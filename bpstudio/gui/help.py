"""Help → About bpstudio and Help → Keyboard shortcuts.

The shortcuts dialog is generated from the window's actions, so it lists what the keys really
do and cannot go stale when an action or a shortcut changes.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable

import numpy as np
import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import bpstudio

BOOK_URL = "http://neuralnetworksanddeeplearning.com/chap2.html"
BOOK_TITLE = "Neural Networks and Deep Learning"
LICENCE = "MIT"


def action_label(action: QAction) -> str:
    """An action's text as a person reads it: no mnemonic ampersands, no trailing ellipsis."""
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.removesuffix("…").removesuffix("...").strip()


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(what the action does, its shortcuts) for every action that has a shortcut, in the
    order given; several shortcuts are joined with ", " in the platform's own spelling."""
    rows = []
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        keys = [k for k in keys if k]
        if keys:
            rows.append((action_label(action), ", ".join(keys)))
    return rows


class ShortcutsDialog(QDialog):
    """A table of every action with a shortcut: Action | Keys."""

    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts — bpstudio")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for row, (label, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(label))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        rows_view = self.table.verticalHeader()
        rows_view.setDefaultSectionSize(self.fontMetrics().height() + 8)
        whole = header.sizeHint().height() + rows_view.length() + 2 * self.table.frameWidth()
        self.table.setMinimumHeight(min(whole, 640))  # all rows at once, no scrolling
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())

    def rows(self) -> list[tuple[str, str]]:
        """What the table shows, row by row."""
        t = self.table
        return [(t.item(r, 0).text(), t.item(r, 1).text()) for r in range(t.rowCount())]


def about_html() -> str:
    """The About text: version, what bpstudio is for, the book, the licence, the toolkit."""
    return (
        f"<h2>bpstudio {bpstudio.__version__}</h2>"
        "<p>See, step through and check the backpropagation algorithm.</p>"
        "<p>Written to accompany chapter 2 of Michael Nielsen's "
        f"<i>{BOOK_TITLE}</i>: "
        f'<a href="{BOOK_URL}">How the backpropagation algorithm works</a>.</p>'
        f"<p>Licence: {LICENCE}.</p>"
        f"<p><small>Python {platform.python_version()} · NumPy {np.__version__} · "
        f"PySide6 {PySide6.__version__} · Qt {qVersion()}</small></p>"
    )


class AboutDialog(QDialog):
    """Help → About bpstudio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        from bpstudio.gui.window_parts import app_icon

        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About bpstudio")
        picture = QLabel(self)
        picture.setObjectName("aboutIcon")
        picture.setPixmap(app_icon().pixmap(64, 64))
        picture.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(about_html(), self)
        self.text.setObjectName("aboutText")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(picture)
        row.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)


def show_about(parent: QWidget | None = None) -> AboutDialog:
    """Open the About dialog (window-modal, without blocking) and return it."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def show_shortcuts(parent: QWidget | None, actions: Iterable[QAction]) -> ShortcutsDialog:
    """Show the keyboard-shortcuts dialog for ``actions`` and return it. It is not modal, so
    it can stay open beside the window while the keys are tried; asking again raises the one
    already open."""
    if parent is not None:
        for dialog in parent.findChildren(ShortcutsDialog):
            if dialog.isVisible():
                dialog.raise_()
                dialog.activateWindow()
                return dialog
    dialog = ShortcutsDialog(actions, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
