"""The inspector: every number behind one weight or one neuron, checked where it can be.

A weight w^l_jk shows its value before the update, ∂C/∂w^l_jk as the update used it, BP4's
decomposition a^(l−1)_k δ^l_j for each example of the mini-batch with their mean, the update,
and a central finite difference of the batch cost with its relative error. A neuron shows b^l_j
and, per example, z, a, σ′(z) and δ, with ∂C/∂b^l_j (BP3), whether it is saturated, and the
chapter's demon: nudge z^l_j by Δz and compare the cost's change with δ^l_j Δz.

Layer numbers are the book's (l = 1 is the input layer); see :mod:`bpstudio.core.trace`. Every
number comes from the snapshot's recorded :class:`~bpstudio.core.trace.Trace`: the weights before
the update and the gradients the update used. Quantities a phase-stepped pass has not computed
yet are shown as such, with the phase that will compute them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.functions import get_activation
from bpstudio.core.gradcheck import EPSILON, Param, numeric_derivative, relative_error
from bpstudio.core.probe import (
    demon,
    max_prime,
    mean_abs_incoming_gradient,
    network_from_trace,
    parameters_before,
    saturation,
)
from bpstudio.core.trace import Trace
from bpstudio.gui.equations import MUTED, caret_html, fmt, sym

#: Significant digits in the per-example table (the summary above it shows 5).
TABLE_DIGITS = 4
#: Background of the mean row of the per-example table.
MEAN_ROW = "#eef2f7"


def _not_yet(trace: Trace) -> str:
    # The phase's short name ("BP1", "BP3, BP4"); the note above the table gives its full title.
    nxt = trace.next_phase
    where = f" (next: {nxt.title.split(':')[0]})" if nxt is not None else ""
    return f"<i style='color:{MUTED}'>not computed yet in this pass{where}</i>"


def _summary_html(rows: list[tuple[str, str]]) -> str:
    """A two-column table: notation on the left, a monospaced number (or a note) on the right."""
    body = "".join(
        f"<tr><td style='padding-right:12px'>{name}</td><td align='right'>{value}</td></tr>"
        for name, value in rows
    )
    return f"<table cellspacing='0' cellpadding='2'>{body}</table>"


def _mono(value) -> str:
    return f"<code>{fmt(value)}</code>"


def _shown(values: dict, key: str, later: str) -> str:
    """The value under ``key`` in monospace, or the "not computed yet" note when it is None."""
    return later if values.get(key) is None else _mono(values[key])


def _saturation_text(act, v: dict) -> str:
    if act.name == "linear":
        return "no (linear neurons never saturate)"
    if act.name == "relu":
        rule = "dead: σ′(z) = 0 for every example"
    else:
        rule = f"mean σ′ &lt; {fmt(0.1 * max_prime(act))}"
    return f"<b>yes</b> ({rule})" if v["saturated"] else f"no (that needs {rule})"


class InspectorPanel(QWidget):
    """Details of the selected weight or neuron for one :class:`Snapshot`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self._selection: tuple | None = None
        self._values: dict = {}
        self._trace: Trace | None = None
        self._mono_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._title = QLabel()
        self._title.setObjectName("inspectorTitle")
        self._summary = QLabel()
        self._summary.setObjectName("inspectorSummary")
        self._summary.setWordWrap(True)  # long notes wrap instead of widening the dock
        self._note = QLabel()
        self._note.setWordWrap(True)
        self._table = QTableWidget()
        self._table.setObjectName("inspectorTable")
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.setFont(self._mono_font)
        rows = self._table.verticalHeader()
        rows.setDefaultSectionSize(self._table.fontMetrics().height() + 6)
        self._demon_box = self._make_demon_box()
        layout = QVBoxLayout(self)
        for w in (self._title, self._note, self._summary):
            w.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(w)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._demon_box)
        layout.addStretch(0)
        self.clear()

    def _make_demon_box(self) -> QGroupBox:
        box = QGroupBox("The demon: add Δz to z in every example of the batch")
        self._demon_dz = QDoubleSpinBox()
        self._demon_dz.setObjectName("demonDz")
        self._demon_dz.setDecimals(6)
        self._demon_dz.setRange(-100.0, 100.0)
        self._demon_dz.setSingleStep(0.01)
        self._demon_dz.setValue(0.1)
        self._demon_button = QPushButton("Nudge z")
        self._demon_button.setObjectName("demonButton")
        self._demon_button.clicked.connect(self._on_demon_clicked)
        self._demon_result = QLabel()
        self._demon_result.setObjectName("demonResult")
        row = QHBoxLayout()
        row.addWidget(QLabel("Δz ="))
        row.addWidget(self._demon_dz)
        row.addWidget(self._demon_button)
        row.addStretch(1)
        inner = QVBoxLayout(box)
        inner.addLayout(row)
        inner.addWidget(self._demon_result)
        return box

    # -- API ------------------------------------------------------------------------------------
    @property
    def current_selection(self) -> tuple | None:
        """("w", l, j, k), ("n", l, j) or ``None``."""
        return self._selection

    @property
    def values(self) -> dict:
        """The numbers on display (means over the batch; per-example arrays under "per_example")."""
        return self._values

    def clear(self) -> None:
        """Show nothing selected."""
        self._selection, self._values, self._trace = None, {}, None
        self._title.setText("<b>Inspector</b>")
        self._note.setText(
            f"<span style='color:{MUTED}'>Click a weight (an edge) or a neuron in the network "
            "to see its numbers.</span>"
        )
        self._summary.setText("")
        self._set_table([], [])
        self._demon_box.hide()

    def show_weight(self, snapshot, l: int, j: int, k: int) -> None:
        """Show w^l_jk: value, ∂C/∂w by BP4 per example, the update, and a finite difference."""
        sizes = snapshot.sizes
        if not (2 <= l <= len(sizes) and 0 <= j < sizes[l - 1] and 0 <= k < sizes[l - 2]):
            w = sym("w", l, f"{j},{k}").html
            return self._show_missing(f"There is no weight {w} in a {list(sizes)} network.")
        self._begin(("w", l, j, k), snapshot)
        name = sym("w", l, f"{j},{k}").html
        self._title.setText(
            f"<b>Weight {name}</b> &nbsp;(w<sup>l</sup><sub>jk</sub> with l = {l}, j = {j}, "
            f"k = {k})<br><span style='color:{MUTED}'>joins neuron k = {k} of layer {l - 1} "
            f"to neuron j = {j} of layer {l}</span>"
        )
        trace = snapshot.trace
        if trace is None:
            self._values = {"w": float(snapshot.weights[l - 2][j, k])}
            return self._show_no_trace(f"{name} (now)", self._values["w"])
        self._values, rows = self._weight_values(trace, l, j, k)
        self._summary.setText(_summary_html(rows))
        pe = self._values["per_example"]
        a_head, d_head = sym("a", l - 1, k).text, sym("δ", l, j).text
        cols = [pe["a"], pe["delta"], pe["product"]]
        self._fill_table(trace, [a_head, d_head, f"{a_head}·{d_head}"], cols)
        self._note.setText(self._phase_note(trace))

    def show_neuron(self, snapshot, l: int, j: int) -> None:
        """Show neuron j of layer l: b, per-example z, a, σ′(z), δ, BP3, saturation, the demon."""
        sizes = snapshot.sizes
        if not (1 <= l <= len(sizes) and 0 <= j < sizes[l - 1]):
            return self._show_missing(f"There is no neuron {j} in layer {l} of {list(sizes)}.")
        self._begin(("n", l, j), snapshot)
        kind = "input" if l == 1 else "output" if l == len(sizes) else "hidden"
        self._title.setText(f"<b>Neuron j = {j} of layer l = {l}</b> ({kind})")
        trace = snapshot.trace
        if l == 1:
            return self._show_input(trace, j)
        if trace is None:
            self._values = {"b": float(snapshot.biases[l - 2][j])}
            return self._show_no_trace(f"{sym('b', l, j).html} (now)", self._values["b"])
        self._values, rows = self._neuron_values(trace, l, j)
        self._summary.setText(_summary_html(rows))
        pe = self._values["per_example"]
        if pe:
            heads = [sym(s, l, j).text for s in ("z", "a")] + ["σ′(z)", sym("δ", l, j).text]
            cols = [pe["z"], pe["a"], pe["sigma_prime"], pe["delta"]]
            if l == len(sizes):  # BP1 needs the desired output too
                heads.insert(2, sym("y", "", j).text)
                cols.insert(2, np.asarray(trace.y[:, j], np.float64))
            self._fill_table(trace, heads, cols)
        self._demon_box.show()
        self._note.setText(self._phase_note(trace))

    # -- weights --------------------------------------------------------------------------------
    def _weight_values(self, trace: Trace, l: int, j: int, k: int):
        weights, _ = parameters_before(trace)
        w = float(weights[l - 2][j, k])
        net = network_from_trace(trace)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            numeric = numeric_derivative(net, trace.x, trace.y, Param("w", l, j, k))
        a = np.asarray(trace.a[l - 2][:, k], np.float64)
        delta = trace.delta[l - 1]
        grad = trace.nabla_w[l - 2]
        v: dict = {"w": w, "numeric": numeric, "dC_dw": None, "rel_error": None}
        v.update(update=None, w_after=None, product_mean=None)
        v["per_example"] = {"a": a, "delta": None, "product": None}
        if delta is not None:
            d = np.asarray(delta[:, j], np.float64)
            v["per_example"].update(delta=d, product=a * d)
            v["product_mean"] = float(np.mean(a * d))
        if grad is not None:
            g = float(grad[j, k])
            v.update(dC_dw=g, rel_error=float(relative_error(g, numeric)), update=trace.eta * g)
            after = trace.weights_after
            v["w_after"] = float(after[l - 2][j, k]) if after is not None else w - trace.eta * g
        return v, self._weight_rows(trace, v, l, j, k)

    def _weight_rows(self, trace: Trace, v: dict, l: int, j: int, k: int):
        w = sym("w", l, f"{j},{k}").html
        later = _not_yet(trace)
        after = "after the update" if trace.weights_after is not None else "after (to come)"
        bp4 = f"{sym('a', l - 1, k).html} {sym('δ', l, j).html}"
        return [
            (f"{w} before the update", _mono(v["w"])),
            (f"∂C/∂{w} (backprop, used by the update)", _shown(v, "dC_dw", later)),
            (f"mean over the batch of {bp4} (BP4)", _shown(v, "product_mean", later)),
            (f"finite difference, ε = {EPSILON:g}", _mono(v["numeric"])),
            ("relative error", _shown(v, "rel_error", later)),
            (f"update η ∂C/∂{w}, η = {fmt(trace.eta)}", _shown(v, "update", later)),
            (f"{w} {after}", _shown(v, "w_after", later)),
        ]

    # -- neurons --------------------------------------------------------------------------------
    def _neuron_values(self, trace: Trace, l: int, j: int):
        _, biases = parameters_before(trace)
        act = get_activation(trace.activation)
        v: dict = {"b": float(biases[l - 2][j]), "per_example": {}}
        v.update(z=None, a=None, sigma_prime=None, delta=None, dC_db=None, saturated=None)
        v["mean_abs_dC_dw_in"] = None
        z = trace.z[l - 1]
        if z is not None:
            z = np.asarray(z[:, j], np.float64)
            a = np.asarray(trace.a[l - 1][:, j], np.float64)
            sp = act.prime(z)
            v["per_example"] = {"z": z, "a": a, "sigma_prime": sp, "delta": None}
            v.update(z=float(z.mean()), a=float(a.mean()), sigma_prime=float(sp.mean()))
            v["saturated"] = bool(saturation(trace, act)[l - 1][j])
        if trace.delta[l - 1] is not None:
            d = np.asarray(trace.delta[l - 1][:, j], np.float64)
            v["per_example"]["delta"] = d
            v["delta"] = float(d.mean())
        if trace.nabla_b[l - 2] is not None:
            v["dC_db"] = float(trace.nabla_b[l - 2][j])
            v["mean_abs_dC_dw_in"] = float(mean_abs_incoming_gradient(trace)[l - 1][j])
        return v, self._neuron_rows(trace, v, act, l, j)

    def _neuron_rows(self, trace: Trace, v: dict, act, l: int, j: int):
        later = _not_yet(trace)
        n = {s: sym(s, l, j).html for s in ("b", "z", "a", "δ")}
        w_in = sym("w", l, f"{j}k").html
        return [
            (f"{n['b']} before the update", _mono(v["b"])),
            (f"mean {n['z']}", _shown(v, "z", later)),
            (f"mean {n['a']} = σ({n['z']})", _shown(v, "a", later)),
            (f"mean σ′({n['z']})", _shown(v, "sigma_prime", later)),
            (f"mean {n['δ']}", _shown(v, "delta", later)),
            (f"∂C/∂{n['b']} = mean {n['δ']} (BP3)", _shown(v, "dC_db", later)),
            (f"mean over k of |∂C/∂{w_in}|", _shown(v, "mean_abs_dC_dw_in", later)),
            ("saturated", later if v["saturated"] is None else _saturation_text(act, v)),
        ]

    def _show_input(self, trace: Trace | None, j: int) -> None:
        if trace is None:
            self._values = {}
            self._summary.setText("")
            self._note.setText(f"<span style='color:{MUTED}'>No mini-batch yet.</span>")
            return
        a = np.asarray(trace.x[:, j], np.float64)
        self._values = {"a": float(a.mean()), "per_example": {"a": a}}
        name = sym("a", 1, j).html
        self._summary.setText(_summary_html([(f"mean {name} = x<sub>{j}</sub>", _mono(a.mean()))]))
        self._fill_table(trace, [sym("a", 1, j).text], [a])
        self._note.setText(f"<span style='color:{MUTED}'>An input: no z, δ or bias.</span>")

    # -- the demon ------------------------------------------------------------------------------
    def _on_demon_clicked(self) -> None:
        if self._trace is None or self._selection is None or self._selection[0] != "n":
            return
        _, l, j = self._selection
        dz = self._demon_dz.value()
        t = self._trace
        r = demon(network_from_trace(t), t.x, t.y, l, j, dz)
        self._values["demon"] = {"dz": dz, "observed": r.observed, "predicted": r.predicted}
        rows = [
            ("observed ΔC of the batch cost", _mono(r.observed)),
            (
                f"predicted mean {sym('δ', l, j).html} · Δz",
                f"<code>{fmt(r.delta_mean)} · {fmt(dz)} = {fmt(r.predicted)}</code>",
            ),
        ]
        self._demon_result.setText(
            _summary_html(rows)
            + f"<span style='color:{MUTED}'>δ = ∂C/∂z: they agree for small Δz;<br>a large Δz "
            "leaves the range where C is linear in z.</span>"
        )

    # -- helpers --------------------------------------------------------------------------------
    def _begin(self, selection: tuple, snapshot) -> None:
        self._selection, self._trace = selection, snapshot.trace
        self._values = {}
        self._demon_box.hide()
        self._demon_box.setEnabled(snapshot.trace is not None)
        self._demon_result.setText("")
        self._set_table([], [])

    def _show_missing(self, message: str) -> None:
        self.clear()
        self._note.setText(f"<span style='color:{MUTED}'>{message}</span>")

    def _show_no_trace(self, name: str, value: float) -> None:
        self._summary.setText(_summary_html([(name, _mono(value))]))
        self._note.setText(
            f"<span style='color:{MUTED}'>No mini-batch has been run yet: step a batch or a "
            "phase to see the gradient.</span>"
        )

    def _phase_note(self, trace: Trace) -> str:
        m = trace.batch_size
        if trace.complete:
            return f"<span style='color:{MUTED}'>The last mini-batch (m = {m}).</span>"
        nxt = trace.next_phase
        return (
            f"<span style='color:{MUTED}'>Pass under way (m = {m}): {trace.phases_done} of "
            f"{len(trace.phases)} phases done; next: {caret_html(nxt.title)}.</span>"
        )

    def _fill_table(self, trace: Trace, heads: list[str], columns: list) -> None:
        """One row per example (its position in the batch and its label), then the means."""
        labels = np.argmax(trace.y, axis=1)
        rows = [[str(x), str(int(labels[x]))] for x in range(trace.batch_size)]
        means = ["mean", ""]
        for col in columns:
            for x, row in enumerate(rows):
                row.append(fmt(col[x], TABLE_DIGITS) if col is not None else "—")
            means.append(fmt(float(np.mean(col)), TABLE_DIGITS) if col is not None else "—")
        self._set_table(["x", "label", *heads], rows + [means])

    def _set_table(self, heads: list[str], rows: list[list[str]]) -> None:
        t = self._table
        t.clear()
        t.setColumnCount(len(heads))
        t.setRowCount(len(rows))
        t.setHorizontalHeaderLabels(heads)
        header = t.horizontalHeader()
        fit, stretch = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch
        for c in range(len(heads)):  # the example's number and label narrow, the numbers wide
            header.setSectionResizeMode(c, fit if c < 2 else stretch)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setTextAlignment(right)
                if r == len(rows) - 1 and row[0] == "mean":
                    item.setBackground(QColor(MEAN_ROW))
                t.setItem(r, c, item)
        t.setVisible(bool(rows))
        # As tall as its rows (a long batch scrolls), so the space below goes to nothing.
        height = t.horizontalHeader().sizeHint().height() + 2 * t.frameWidth() + 2
        t.setMaximumHeight(height + len(rows) * t.verticalHeader().defaultSectionSize())
