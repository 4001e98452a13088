"""The path explorer: ∂C/∂w^l_jk as the sum over every path from the weight to the cost.

For the selected weight it lists the paths (largest |product| first) with each rate of change
along them and their product, and below it checks that the products add up to backprop's
∂C/∂w^l_jk and to a finite difference, for one example of the mini-batch and for the batch mean.
Up to :data:`SHOW_ALL` paths are all listed; beyond, the largest :data:`LIMIT` and one row for
the sum of the others. See :mod:`bpstudio.core.paths` for the mathematics.

Every number comes from the snapshot's :class:`~bpstudio.core.trace.Trace`: its inputs and
targets, and the weights its gradients were computed at, rebuilt as the GUI's own float64
network (:func:`bpstudio.core.probe.network_from_trace`); the worker's network is never touched.
Layer numbers are the book's (l = 1 is the input layer).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.errors import ConfigError
from bpstudio.core.gradcheck import EPSILON
from bpstudio.core.paths import PathCheck, TopPaths, check_paths, path_count, path_edges
from bpstudio.gui.model import on_screen
from bpstudio.gui.numbers import format_number, sym

#: Weights with at most this many paths have every path listed.
SHOW_ALL = 300
#: Beyond SHOW_ALL, the largest this many paths are listed and the rest summed in one row.
LIMIT = 100
#: While training runs, the explorer recomputes at most this often (seconds), and at most
#: once per LIVE_SHARE times what its last recomputation took, so that it never takes more than
#: 1 / LIVE_SHARE of the time (about 0.1 s at [784, 300, 100, 10]: every 2 s there).
LIVE_SECONDS = 0.5
LIVE_SHARE = 20
MUTED = "#777777"
REST_ROW = "#eef2f7"
#: The example chooser's data for "the mini-batch mean".
MEAN = -1


def _path_text(l: int, neurons) -> str:
    return " → ".join(f"{l + q}:{n}" for q, n in enumerate(neurons))


class PathExplorer(QWidget):
    """The paths of the selected weight, their rates and products, and their sum checked.

    Follows ``model`` (a :class:`bpstudio.gui.model.ViewModel`): its snapshot and selection.

    Signals
    -------
    path_highlighted(object)
        The user selected a row: the path's neurons as ``((l, j), (l + 1, i), …, (L, m))``
        pairs of (layer, neuron), or ``None`` when no single path is selected (the row of the
        other paths, another weight, nothing).
    """

    path_highlighted = Signal(object)

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pathExplorer")
        self._model = model
        self._trace = None
        self._weight: tuple[int, int, int] | None = None
        self._check: PathCheck | None = None
        self._shown: list = []  # the rows' paths (neurons tuples; None for the rest row)
        self._highlight: tuple | None = None
        self._stale = False
        self._last_live: float | None = None
        self._cost = 0.0  # seconds the last recomputation took
        self._build()
        model.snapshot_changed.connect(self._on_snapshot_changed)
        model.selection_changed.connect(self._on_selection_changed)
        self.refresh()

    def _build(self) -> None:
        self._title = QLabel()
        self._title.setObjectName("pathExplorerTitle")
        self._title.setWordWrap(True)
        self._example = QComboBox()
        self._example.setObjectName("pathExample")
        self._example.setToolTip("List the paths of one example x of the mini-batch, or their mean")
        self._example.currentIndexChanged.connect(self._on_example_changed)
        self._note = QLabel()
        self._note.setObjectName("pathNote")
        self._note.setWordWrap(True)
        self._table = QTableWidget()
        self._table.setObjectName("pathTable")
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.verticalHeader().setVisible(False)
        self._table.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._table.verticalHeader().setDefaultSectionSize(self._table.fontMetrics().height() + 6)
        self._table.itemSelectionChanged.connect(self._on_row_selected)
        self._sums = QLabel()
        self._sums.setObjectName("pathSums")
        self._sums.setWordWrap(True)
        for label in (self._title, self._note, self._sums):
            label.setTextFormat(Qt.TextFormat.RichText)
        row = QHBoxLayout()
        row.addWidget(QLabel("Paths of"))
        row.addWidget(self._example)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._title)
        layout.addLayout(row)
        layout.addWidget(self._note)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._sums)

    # -- API ------------------------------------------------------------------------------------
    @property
    def check(self) -> PathCheck | None:
        """The numbers on display, as :class:`~bpstudio.core.paths.PathCheck`; ``None`` without."""
        return self._check

    @property
    def example(self) -> int | None:
        """The example whose paths are listed (0 … m − 1), or ``None`` for the batch mean."""
        data = self._example.currentData()
        return None if data is None or data == MEAN else int(data)

    @property
    def shown_paths(self) -> list:
        """The listed rows' paths as neuron tuples, top to bottom; ``None`` for the rest row."""
        return list(self._shown)

    @property
    def highlighted_path(self) -> tuple | None:
        """The path last sent by :attr:`path_highlighted` (``None`` if none)."""
        return self._highlight

    @property
    def highlighted_edges(self) -> list[tuple[int, int, int]]:
        """The edges of the selected weight's paths as (l, j, k) of w^l_jk; [] without one.

        The weight itself first, then every edge from neuron j of layer l forward to the
        outputs (see :func:`bpstudio.core.paths.path_edges`).
        """
        sel, snap = self._model.selection, self._model.snapshot
        if snap is None or sel is None or sel[0] != "w":
            return []
        return path_edges(snap.sizes, *sel[1:])

    @property
    def highlighted_path_edges(self) -> list[tuple[int, int, int]]:
        """The edges of the highlighted path alone: w^l_jk, then w^(l+1)_ij, …; [] if none."""
        if self._highlight is None or self._weight is None:
            return []
        l, j, k = self._weight
        pairs = self._highlight
        return [(l, j, k)] + [(q, i, h) for (_, h), (q, i) in zip(pairs[:-1], pairs[1:])]

    def set_example(self, example: int | None) -> None:
        """List the paths of example ``example`` of the batch, or of the mean (``None``)."""
        index = self._example.findData(MEAN if example is None else int(example))
        if index >= 0:
            self._example.setCurrentIndex(index)

    def refresh(self) -> None:
        """Recompute from the model's snapshot and selection now."""
        start = time.monotonic()
        self._update()
        self._cost = time.monotonic() - start

    def _update(self) -> None:
        self._stale = False
        snap, sel = self._model.snapshot, self._model.selection
        trace = None if snap is None else snap.trace
        self._trace = trace
        weight = tuple(sel[1:]) if sel is not None and sel[0] == "w" else None
        if weight != self._weight:
            self._set_highlight(None)
        self._weight = weight
        self._fill_examples(trace)
        self._check = None
        if weight is None or trace is None:
            return self._show_hint(trace, sel)
        try:
            count = path_count(trace.sizes, weight[0])
            limit = count if count <= SHOW_ALL else LIMIT
            self._check = check_paths(trace, *weight, example=self.example or 0, limit=limit)
        except ConfigError as error:  # too many paths to list
            return self._show_hint(trace, sel, str(error))
        self._render()

    # -- following the model --------------------------------------------------------------------
    def _on_snapshot_changed(self, snapshot) -> None:
        trace = None if snapshot is None else snapshot.trace
        if trace is self._trace:
            return
        if not on_screen(self):
            self._stale = True  # recomputed when the panel shows again
            return
        if snapshot.running:
            now = time.monotonic()
            wait = max(LIVE_SECONDS, LIVE_SHARE * self._cost)
            if self._last_live is not None and now - self._last_live < wait:
                return
            self._last_live = now
        else:
            self._last_live = None
        self.refresh()

    def _on_selection_changed(self, _selection) -> None:
        self.refresh()

    def _on_example_changed(self, _index: int) -> None:
        if self._weight is not None and self._trace is not None:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _on_row_selected(self) -> None:
        rows = {index.row() for index in self._table.selectedIndexes()}
        neurons = self._shown[rows.pop()] if len(rows) == 1 else None
        l = self._weight[0] if self._weight is not None else 0
        pairs = None if neurons is None else tuple((l + q, n) for q, n in enumerate(neurons))
        self._set_highlight(pairs)

    def _set_highlight(self, pairs) -> None:
        if pairs != self._highlight:
            self._highlight = pairs
            self.path_highlighted.emit(pairs)

    # -- rendering ------------------------------------------------------------------------------
    def _fill_examples(self, trace) -> None:
        m = 0 if trace is None else trace.batch_size
        wanted = list(range(m)) + ([MEAN] if m else [])
        have = [self._example.itemData(i) for i in range(self._example.count())]
        if have == wanted:
            return
        current = self._example.currentData()
        self._example.blockSignals(True)
        self._example.clear()
        for x in range(m):
            where = f" (#{int(trace.indices[x])} of the training set)" if trace is not None else ""
            self._example.addItem(f"example x = {x}{where}", x)
        if m:
            self._example.addItem(f"the mini-batch mean (m = {m})", MEAN)
        index = self._example.findData(current)
        self._example.setCurrentIndex(index if index >= 0 else 0)
        self._example.blockSignals(False)
        self._example.setEnabled(m > 0)

    def _show_hint(self, trace, sel, problem: str | None = None) -> None:
        self._title.setText("<b>Paths to the cost</b>")
        if problem is not None:
            text = problem
        elif trace is None:
            text = "No mini-batch has been run yet: its paths need a forward pass."
        else:
            text = (
                "Select a weight (an edge of the network) to see ∂C/∂w as the sum, over every "
                "path from the weight to the cost, of the rates of change along the path."
            )
        self._note.setText(f"<span style='color:{MUTED}'>{text}</span>")
        self._sums.setText("")
        self._fill_table([], [], None)

    def _render(self) -> None:
        l, j, k = self._weight
        r, sizes, example = self._check, self._trace.sizes, self.example
        top: TopPaths = r.top_mean if example is None else r.top_example
        w = sym("w", l, f"{j},{k}")
        later = range(l + 1, len(sizes) + 1)
        product = " × ".join(f"n<sub>{q}</sub>" for q in later)
        numbers = " × ".join(str(sizes[q - 1]) for q in later)
        if len(later) > 1:
            how = f" = {product} = {numbers}"
        elif later:
            how = f" = {product}"
        else:
            how = " (the weight feeds an output neuron)"
        self._title.setText(f"<b>Paths from {w.html} to the cost</b>: {r.count:,}{how}")
        notes = []
        if len(top.paths) < top.count:
            notes.append(
                f"The {len(top.paths)} paths with the largest |product| of {top.count:,}, then "
                f"one row for the other {top.count - len(top.paths):,}."
            )
        if example is None:
            notes.append(
                "Each product is the mean over the mini-batch of that path's product; the rates "
                "along a path differ from example to example, so they are listed per example."
            )
        self._note.setText(f"<span style='color:{MUTED}'>{' '.join(notes)}</span>")
        self._fill_table(self._headers(l, j, k, len(sizes)), self._rows(top, example), top)
        for col in range(1, self._table.columnCount() - 1):
            self._table.setColumnHidden(col, example is None)
        self._sums.setText(self._sums_html(r))

    @staticmethod
    def _headers(l: int, j: int, k: int, L: int) -> list[str]:
        heads = ["path (layer:neuron)", f"∂{sym('a', l, j).text}/∂{sym('w', l, f'{j},{k}').text}"]
        heads += [f"∂{sym('a', q).text}/∂{sym('a', q - 1).text}" for q in range(l + 1, L + 1)]
        return heads + [f"∂C/∂{sym('a', L).text}", "product"]

    def _rows(self, top: TopPaths, example: int | None) -> list[list[str]]:
        rates, l = self._check.rates, self._weight[0]
        rows = []
        for p in top.paths:
            if example is None:
                factors = [""] * (len(p.neurons) + 1)
            else:
                factors = [format_number(f) for f in rates.factors(p.neurons)[example]]
            rows.append([_path_text(l, p.neurons), *factors, format_number(p.product)])
        return rows

    def _fill_table(self, headers: list[str], rows: list[list[str]], top: TopPaths | None) -> None:
        table = self._table
        table.blockSignals(True)
        table.clearContents()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        rest = top is not None and len(top.paths) < top.count
        table.setRowCount(len(rows) + rest)
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(r, c, item)
        self._shown = [p.neurons for p in top.paths] if top is not None else []
        if rest:
            self._add_rest_row(len(rows), top)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        keep = self._highlight_row()
        if keep is not None:
            table.selectRow(keep)
        table.blockSignals(False)
        if keep is None:
            self._set_highlight(None)

    def _add_rest_row(self, row: int, top: TopPaths) -> None:
        n = top.count - len(top.paths)
        cells = {
            0: f"the other {n:,} paths",
            self._table.columnCount() - 1: "sum " + format_number(top.rest_sum),
        }
        font = QFont(self._table.font())
        font.setItalic(True)
        for c in range(self._table.columnCount()):
            item = QTableWidgetItem(cells.get(c, ""))
            item.setBackground(QColor(REST_ROW))
            item.setFont(font)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._table.setItem(row, c, item)
        self._shown.append(None)

    def _highlight_row(self) -> int | None:
        """The row of the highlighted path if it is still listed."""
        if self._highlight is None:
            return None
        neurons = tuple(n for _, n in self._highlight)
        return self._shown.index(neurons) if neurons in self._shown else None

    def _sums_html(self, r: PathCheck) -> str:
        if r.mean_backprop is None:
            nxt = self._trace.next_phase
            when = f" (next: {nxt.title.split(':')[0]})" if nxt is not None else ""
            bp_mean = f"<i style='color:{MUTED}'>not computed yet in this pass{when}</i>"
        else:
            bp_mean = _mono(r.mean_backprop)
        head = "".join(
            f"<th align='right' style='padding-left:14px'>{h}</th>"
            for h in ("Σ over paths", "backprop ∂C/∂w", "finite diff.")
        )
        rows = [
            (
                f"x = {r.example} (C<sub>x</sub>)",
                r.example_sum,
                _mono(r.example_backprop),
                r.example_numeric,
            ),
            ("batch mean (C)", r.mean_sum, bp_mean, r.mean_numeric),
        ]
        body = "".join(
            f"<tr><td style='white-space:nowrap'>{name}</td>"
            + "".join(_cell(v) for v in (_mono(s), bp, _mono(fd)))
            + "</tr>"
            for name, s, bp, fd in rows
        )
        note = (
            f"The finite difference (C(w + ε) − C(w − ε)) / 2ε, ε = {EPSILON:g}, agrees to "
            "about 1e−9: it cannot resolve smaller gradients."
        )
        if self._trace.x.dtype == np.float32:
            note += " Training runs in float32, so its ∂C/∂w agrees to about 1e−6 only."
        note = f"<p style='color:{MUTED}'>{note}</p>"
        table = f"<table cellspacing='0' cellpadding='2'><tr><th></th>{head}</tr>{body}</table>"
        return table + note


#: Significant digits of the sums below the table: enough to see that they agree.
SUM_DIGITS = 10


def _cell(html: str) -> str:
    return f"<td align='right' style='padding-left:14px'>{html}</td>"


def _mono(value) -> str:
    return f"<code>{format_number(value, SUM_DIGITS)}</code>"
