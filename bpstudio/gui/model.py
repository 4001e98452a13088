"""The one GUI model every panel follows: the newest snapshot, the selection, what nodes show.

Panels never keep their own copy of these (as napari's Qt views subscribe to their layers'
events): they take a :class:`ViewModel` in their constructor, connect to its signals, and read
its properties when they draw. The main window only feeds it: snapshots from the training
worker, selections from whichever panel the user clicked.

Selections use the book's layer numbers (the input layer is l = 1):

* ``None`` — nothing selected;
* ``("w", l, j, k)`` — the weight w^l_jk, joining neuron k of layer l − 1 to neuron j of layer l;
* ``("n", l, j)`` — neuron j of layer l.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

#: What the nodes can show, by key: δ (the default), a, z, σ′(z).
NODE_QUANTITY_KEYS = ("delta", "a", "z", "sigma_prime")


#: The property a dock sets on its panel while its tab is behind another (see on_screen).
BEHIND_TAB = "behindTab"


def on_screen(widget) -> bool:
    """True if ``widget`` can be seen: shown, and not in a dock tabbed behind another.

    A dock tabbed behind another stays "visible" to Qt, so the view docks mark their panel
    with the :data:`BEHIND_TAB` property while its tab is not the current one. Panels skip
    their per-frame work while this is False and catch up in ``showEvent`` (the view docks
    send one when the tab comes to the front).
    """
    return widget.isVisible() and not widget.property(BEHIND_TAB)


class DrawsWhenSeen:
    """For panels (put it before ``QWidget`` in the bases): per-frame drawing that waits while
    the panel cannot be seen (:func:`on_screen`) and happens when it is shown again.

    A panel's snapshot handler starts with ``if not self.seen_or_later(handler): return``.
    """

    _skipped = None

    def seen_or_later(self, draw) -> bool:
        """True if the panel is on screen (draw now); else remember ``draw`` for its show."""
        if on_screen(self):
            self._skipped = None
            return True
        self._skipped = draw
        return False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        draw, self._skipped = self._skipped, None
        if draw is not None:
            draw()


def paints_every_pixel(widget) -> None:
    """Tell Qt that ``widget`` paints every pixel it covers, for widgets that redraw at every
    frame while training runs: a frame then repaints the widget alone, not also the panel, the
    dock and the main window behind it (which Qt otherwise paints first, in case it shows
    through)."""
    widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)


def check_selection(selection, sizes) -> tuple | None:
    """``selection`` as a tuple of ints if it names a weight or neuron of a ``sizes`` network.

    Raises
    ------
    ValueError
        With a message a person can act on, if it does not.
    """
    if selection is None:
        return None
    kind, *idx = selection
    idx = [int(v) for v in idx]
    L = len(sizes)
    if kind == "w" and len(idx) == 3:
        l, j, k = idx
        if 2 <= l <= L and 0 <= j < sizes[l - 1] and 0 <= k < sizes[l - 2]:
            return ("w", l, j, k)
        raise ValueError(
            f"w^{l}_{j},{k} is not a weight of a {list(sizes)} network "
            f"(l from 2 to {L}, j below n_l, k below n_(l-1))"
        )
    if kind == "n" and len(idx) == 2:
        l, j = idx
        if 1 <= l <= L and 0 <= j < sizes[l - 1]:
            return ("n", l, j)
        raise ValueError(
            f"neuron {j} of layer {l} is not in a {list(sizes)} network "
            f"(l from 1 to {L}, j below n_l)"
        )
    raise ValueError(f"a selection is ('w', l, j, k) or ('n', l, j), got {selection!r}")


class ViewModel(QObject):
    """The current snapshot, the selection and the node quantity, with change signals.

    Signals
    -------
    snapshot_changed(Snapshot)
        A new snapshot arrived (at most the view's frame rate while training runs).
    session_changed(Snapshot)
        The first snapshot of a new, reset or opened session (architecture may differ).
    selection_changed(object)
        The selection (see the module docstring) changed.
    node_quantity_changed(str)
        What node colours show changed (one of :data:`NODE_QUANTITY_KEYS`).
    """

    snapshot_changed = Signal(object)
    session_changed = Signal(object)
    selection_changed = Signal(object)
    node_quantity_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._snapshot = None
        self._selection: tuple | None = None
        self._node_quantity = "delta"

    @property
    def snapshot(self):
        """The newest snapshot, or None before the first session has loaded."""
        return self._snapshot

    @property
    def selection(self) -> tuple | None:
        return self._selection

    @property
    def node_quantity(self) -> str:
        return self._node_quantity

    def set_snapshot(self, snapshot, *, new_session: bool = False) -> None:
        """Take a new snapshot; ``new_session`` also drops a selection that no longer fits."""
        self._snapshot = snapshot
        if new_session:
            if self._selection is not None:
                try:
                    check_selection(self._selection, snapshot.sizes)
                except ValueError:
                    self._selection = None
                    self.selection_changed.emit(None)
            self.session_changed.emit(snapshot)
        self.snapshot_changed.emit(snapshot)

    def set_selection(self, selection) -> None:
        """Select a weight, a neuron or nothing; silently ignores what the network lacks."""
        if self._snapshot is not None:
            try:
                selection = check_selection(selection, self._snapshot.sizes)
            except ValueError:
                return
        elif selection is not None:
            selection = tuple(selection)
        if selection == self._selection:
            return
        self._selection = selection
        self.selection_changed.emit(selection)

    def set_node_quantity(self, key: str) -> None:
        if key not in NODE_QUANTITY_KEYS:
            raise ValueError(f"nodes show one of {', '.join(NODE_QUANTITY_KEYS)}, not {key!r}")
        if key != self._node_quantity:
            self._node_quantity = key
            self.node_quantity_changed.emit(key)
