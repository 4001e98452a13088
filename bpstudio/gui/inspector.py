"""The inspector: every number behind one weight or one neuron, checked where it can be.

A weight w^l_jk shows its value before the update, ∂C/∂w^l_jk as the update used it, BP4's
decomposition a^(l−1)_k δ^l_j for each example of the mini-batch with their mean, the update,
and a central finite difference of the batch cost with its relative error. A neuron shows b^l_j
and, per example, z, a, σ′(z) and δ, with ∂C/∂b^l_j (BP3), whether it is saturated, and the
chapter's demon: nudge z^l_j by Δz and compare the cost's change with δ^l_j Δz.

The panel follows a :class:`bpstudio.gui.model.ViewModel`: it shows the model's selection in
the model's snapshot and redraws when either changes (while training runs at most every
:data:`~bpstudio.gui.equations.LIVE_SECONDS`, a paused snapshot at once); it keeps no copy of
either. Layer numbers are the book's (l = 1 is the input layer); see :mod:`bpstudio.core.trace`.
Every number comes from the snapshot's :class:`~bpstudio.core.trace.Trace`: the weights before
the update and the gradients the update used. A quantity that a phase-stepped pass has not
computed yet says so, with the phase that computes it; BP4's products a·δ come with ∂C/∂w, in
the BP3, BP4 phase.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
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
from bpstudio.gui.equations import LIVE_SECONDS, ModelPanel
from bpstudio.gui.numbers import (
    caret_html,
    format_number,
    mono,
    muted,
    not_yet_html,
    phase_computing,
    summary_html,
    sym,
)

#: Significant digits in the per-example table (the summary above it shows 5).
TABLE_DIGITS = 4
#: Background of the mean row of the per-example table.
MEAN_ROW = "#eef2f7"
#: The per-example table shows at least this many rows (fewer only when it has fewer) …
MIN_TABLE_ROWS = 6
#: … and scrolls beyond this many.
MAX_TABLE_ROWS = 12


def _shown(values: dict, key: str, later: str) -> str:
    """The value under ``key`` in monospace, or the "not computed yet" note when it is None."""
    return later if values.get(key) is None else mono(values[key])


def _saturation_text(act, v: dict) -> str:
    if act.name == "linear":
        return "no (linear neurons never saturate)"
    if act.name == "relu":
        rule = "dead: σ′(z) = 0 for every example"
    else:
        rule = f"mean σ′ &lt; {format_number(0.1 * max_prime(act))}"
    return f"<b>yes</b> ({rule})" if v["saturated"] else f"no (that needs {rule})"


class InspectorPanel(ModelPanel):
    """Details of the model's selected weight or neuron in the model's snapshot.

    Parameters
    ----------
    model : bpstudio.gui.model.ViewModel
        What to show: ``model.snapshot`` and ``model.selection``.
    parent : QWidget, optional
    """

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.setObjectName("inspector")
        self._values: dict = {}
        self._trace: Trace | None = None  # the trace on display (the demon probes it)
        self._table_rows: list | None = None
        self._demon_wanted = False
        self._title = self._label("inspectorTitle")
        self._note = self._label("inspectorNote")
        self._summary = self._label("inspectorSummary")
        self._table = self._make_table()
        self._demon_box = self._make_demon_box()
        content = QWidget()
        content.setObjectName("inspectorContent")
        layout = QVBoxLayout(content)
        for w in (self._title, self._note, self._summary):
            layout.addWidget(w)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._demon_box)
        layout.addStretch(0)
        # Everything scrolls as one page: a long text never makes the panel demand more height
        # than its dock has, so the docks around it keep theirs.
        self._scroll = QScrollArea()
        self._scroll.setObjectName("inspectorScroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._scroll)
        self.refresh()

    def _label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)  # long notes wrap instead of widening the dock
        return label

    def _make_table(self) -> QTableWidget:
        table = QTableWidget()
        table.setObjectName("inspectorTable")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return table

    def _make_demon_box(self) -> QGroupBox:
        box = QGroupBox("The demon: add Δz to z in every example of the batch")
        box.setObjectName("demonBox")
        self._demon_dz = QDoubleSpinBox()
        self._demon_dz.setObjectName("demonDz")
        self._demon_dz.setDecimals(6)
        self._demon_dz.setRange(-100.0, 100.0)
        self._demon_dz.setSingleStep(0.01)
        self._demon_dz.setValue(0.1)
        self._demon_dz.setToolTip("The change Δz added to z of this neuron in every example")
        self._demon_button = QPushButton("Nudge z")
        self._demon_button.setObjectName("demonButton")
        self._demon_button.setToolTip("Compare the cost's change with δ · Δz")
        self._demon_button.clicked.connect(self._on_demon_clicked)
        self._demon_result = self._label("demonResult")
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
    def values(self) -> dict:
        """The numbers on display (means over the batch; per-example arrays under "per_example")."""
        return self._values

    def refresh(self) -> None:
        """Show the model's selection in the model's snapshot now."""
        super().refresh()
        snap, sel = self.model.snapshot, self.fitting_selection()
        self._values, self._trace = {}, None if snap is None else snap.trace
        self._table_rows, self._demon_wanted = None, False  # set by what is shown below
        self._demon_box.setEnabled(self._trace is not None)
        self._demon_result.setText("")
        self._summary.setText("")
        if snap is None or sel is None:
            self._title.setText("<b>Inspector</b>")
            self._note.setText(muted("Click a weight (an edge) or a neuron in the network."))
        elif sel[0] == "w":
            self._show_weight(snap, *sel[1:])
        else:
            self._show_neuron(snap, *sel[1:])
        # Shown or hidden once, at the end: each flip re-lays the page out (slow while training).
        if self._table_rows is None:
            self._set_table([], [])
        self._demon_box.setVisible(self._demon_wanted)
        if snap is None or not snap.running:  # while training runs, the texts keep their lines
            self._relayout()

    # -- weights --------------------------------------------------------------------------------
    def _show_weight(self, snapshot, l: int, j: int, k: int) -> None:
        name = sym("w", l, f"{j},{k}").html
        self._title.setText(
            f"<b>Weight {name}</b> &nbsp;(w<sup>l</sup><sub>jk</sub> with l = {l}, j = {j}, "
            f"k = {k})<br>"
            + muted(f"joins neuron k = {k} of layer {l - 1} to neuron j = {j} of layer {l}")
        )
        trace = snapshot.trace
        if trace is None:
            self._values = {"w": float(snapshot.weights[l - 2][j, k])}
            return self._show_no_trace(snapshot, f"{name} (now)", self._values["w"])
        self._values = self._weight_values(trace, l, j, k)
        self._summary.setText(summary_html(self._weight_rows(trace, self._values, l, j, k)))
        pe = self._values["per_example"]
        a_head, d_head = sym("a", l - 1, k).text, sym("δ", l, j).text
        cols = [pe["a"], pe["delta"], pe["product"]]
        self._fill_table(trace, [a_head, d_head, f"{a_head}·{d_head}"], cols)
        self._note.setText(self._phase_note(snapshot))

    def _weight_values(self, trace: Trace, l: int, j: int, k: int) -> dict:
        weights, _ = parameters_before(trace)
        net = network_from_trace(trace)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            numeric = numeric_derivative(net, trace.x, trace.y, Param("w", l, j, k))
        v: dict = {"w": float(weights[l - 2][j, k]), "numeric": numeric, "dC_dw": None}
        v.update(rel_error=None, update=None, w_after=None, product_mean=None)
        a = np.asarray(trace.a[l - 2][:, k], np.float64)
        v["per_example"] = {"a": a, "delta": None, "product": None}
        if trace.delta[l - 1] is not None:
            v["per_example"]["delta"] = np.asarray(trace.delta[l - 1][:, j], np.float64)
        if trace.nabla_w[l - 2] is not None:  # BP4 has run: its products, their mean, ∂C/∂w
            product = a * v["per_example"]["delta"]
            v["per_example"]["product"] = product
            g = float(trace.nabla_w[l - 2][j, k])
            v.update(product_mean=float(np.mean(product)), dC_dw=g, update=trace.eta * g)
            v["rel_error"] = float(relative_error(g, numeric))
            after = trace.weights_after
            v["w_after"] = v["w"] - trace.eta * g if after is None else float(after[l - 2][j, k])
        return v

    def _weight_rows(self, trace: Trace, v: dict, l: int, j: int, k: int):
        w = sym("w", l, f"{j},{k}").html
        later = not_yet_html(trace, phase_computing(trace, "gradients"))
        after = "after the update" if trace.weights_after is not None else "after (to come)"
        bp4 = f"{sym('a', l - 1, k).html} {sym('δ', l, j).html}"
        return [
            (f"{w} before the update", mono(v["w"])),
            (f"∂C/∂{w} (backprop, used by the update)", _shown(v, "dC_dw", later)),
            (f"mean over the batch of {bp4} (BP4)", _shown(v, "product_mean", later)),
            (f"finite difference, ε = {EPSILON:g}", mono(v["numeric"])),
            ("relative error", _shown(v, "rel_error", later)),
            (f"update η ∂C/∂{w}, η = {format_number(trace.eta)}", _shown(v, "update", later)),
            (f"{w} {after}", _shown(v, "w_after", later)),
        ]

    # -- neurons --------------------------------------------------------------------------------
    def _show_neuron(self, snapshot, l: int, j: int) -> None:
        sizes = snapshot.sizes
        kind = "input" if l == 1 else "output" if l == len(sizes) else "hidden"
        self._title.setText(f"<b>Neuron j = {j} of layer l = {l}</b> ({kind})")
        trace = snapshot.trace
        if l == 1:
            return self._show_input(snapshot, j)
        if trace is None:
            self._values = {"b": float(snapshot.biases[l - 2][j])}
            return self._show_no_trace(snapshot, f"{sym('b', l, j).html} (now)", self._values["b"])
        self._values = self._neuron_values(trace, l, j)
        act = get_activation(trace.activation)
        self._summary.setText(summary_html(self._neuron_rows(trace, self._values, act, l, j)))
        pe = self._values["per_example"]
        if pe:
            heads = [sym(s, l, j).text for s in ("z", "a")] + ["σ′(z)", sym("δ", l, j).text]
            cols = [pe["z"], pe["a"], pe["sigma_prime"], pe["delta"]]
            if l == len(sizes):  # BP1 needs the desired output too
                heads.insert(2, sym("y", "", j).text)
                cols.insert(2, np.asarray(trace.y[:, j], np.float64))
            self._fill_table(trace, heads, cols)
        self._demon_wanted = True
        self._note.setText(self._phase_note(snapshot))

    def _neuron_values(self, trace: Trace, l: int, j: int) -> dict:
        _, biases = parameters_before(trace)
        act = get_activation(trace.activation)
        v: dict = {"b": float(biases[l - 2][j]), "per_example": {}}
        v.update(z=None, a=None, sigma_prime=None, delta=None, dC_db=None, saturated=None)
        v["mean_abs_dC_dw_in"] = None
        if trace.z[l - 1] is not None:
            z = np.asarray(trace.z[l - 1][:, j], np.float64)
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
        return v

    def _neuron_rows(self, trace: Trace, v: dict, act, l: int, j: int):
        fed = not_yet_html(trace, phase_computing(trace, "feedforward"))
        error = not_yet_html(trace, phase_computing(trace, "delta", l))
        grads = not_yet_html(trace, phase_computing(trace, "gradients"))
        n = {s: sym(s, l, j).html for s in ("b", "z", "a", "δ")}
        w_in = sym("w", l, f"{j}k").html
        return [
            (f"{n['b']} before the update", mono(v["b"])),
            (f"mean {n['z']}", _shown(v, "z", fed)),
            (f"mean {n['a']} = σ({n['z']})", _shown(v, "a", fed)),
            (f"mean σ′({n['z']})", _shown(v, "sigma_prime", fed)),
            (f"mean {n['δ']}", _shown(v, "delta", error)),
            (f"∂C/∂{n['b']} = mean {n['δ']} (BP3)", _shown(v, "dC_db", grads)),
            (f"mean over k of |∂C/∂{w_in}|", _shown(v, "mean_abs_dC_dw_in", grads)),
            ("saturated", fed if v["saturated"] is None else _saturation_text(act, v)),
        ]

    def _show_input(self, snapshot, j: int) -> None:
        trace = snapshot.trace
        if trace is None:
            return self._show_no_trace(snapshot, None, None)
        a = np.asarray(trace.x[:, j], np.float64)
        self._values = {"a": float(a.mean()), "per_example": {"a": a}}
        name = sym("a", 1, j).html
        self._summary.setText(summary_html([(f"mean {name} = x<sub>{j}</sub>", mono(a.mean()))]))
        self._fill_table(trace, [sym("a", 1, j).text], [a])
        self._note.setText(muted("An input: no z, δ or bias. ") + self._phase_note(snapshot))

    # -- the demon ------------------------------------------------------------------------------
    def _on_demon_clicked(self) -> None:
        sel = self.model.selection
        if self._trace is None or sel is None or sel[0] != "n":
            return
        _, l, j = sel
        dz = self._demon_dz.value()
        t = self._trace
        r = demon(network_from_trace(t), t.x, t.y, l, j, dz)
        self._values["demon"] = {"dz": dz, "observed": r.observed, "predicted": r.predicted}
        f = format_number
        rows = [
            ("observed ΔC of the batch cost", mono(r.observed)),
            (
                f"predicted mean {sym('δ', l, j).html} · Δz",
                f"<code>{f(r.delta_mean)} · {f(dz)} = {f(r.predicted)}</code>",
            ),
        ]
        self._demon_result.setText(
            summary_html(rows)
            + muted("δ = ∂C/∂z: they agree for small Δz; a large Δz leaves the range where C is ")
            + muted("linear in z.")
        )
        self._relayout()
        self._scroll.ensureWidgetVisible(self._demon_result)

    # -- helpers --------------------------------------------------------------------------------
    def _relayout(self) -> None:
        # Lay the page out for its new texts now: a scroll area resizes its page when the
        # area itself changes size, not when a word-wrapped label on the page grows or shrinks.
        for widget in (self._demon_box, self._scroll.widget()):  # inner layout first
            widget.layout().activate()
        QCoreApplication.sendEvent(self._scroll, QEvent(QEvent.Type.LayoutRequest))

    def _show_no_trace(self, snapshot, name: str | None, value: float | None) -> None:
        if name is not None:
            self._summary.setText(summary_html([(name, mono(value))]))
        done = getattr(snapshot, "batches_done", 0)
        if done:  # a snapshot without a pass's numbers, though batches have run
            text = f"{done:,} mini-batches have run, but this snapshot holds none of their numbers"
        else:
            text = "No mini-batch has been run yet"
        self._note.setText(muted(f"{text}: step a batch or a phase to see the gradient."))

    def _phase_note(self, snapshot) -> str:
        trace = snapshot.trace
        m = trace.batch_size
        if snapshot.running:
            done = getattr(snapshot, "batches_done", 0)
            return muted(
                f"Training runs: mini-batch {done:,} (m = {m}), redrawn every "
                f"{LIVE_SECONDS:g} s. Pause to study one batch and use the demon."
            )
        if trace.complete:
            return muted(f"The last mini-batch (m = {m}).")
        nxt = trace.next_phase
        return muted(
            f"Pass under way (m = {m}): {trace.phases_done} of {len(trace.phases)} phases done; "
            f"next: {caret_html(nxt.title)}."
        )

    def _fill_table(self, trace: Trace, heads: list[str], columns: list) -> None:
        """One row per example (its position in the batch and its label), then the means."""
        labels = np.argmax(trace.y, axis=1)
        rows = [[str(x), str(int(labels[x]))] for x in range(trace.batch_size)]
        means = ["mean", ""]
        for col in columns:
            for x, row in enumerate(rows):
                row.append(format_number(col[x], TABLE_DIGITS) if col is not None else "—")
            mean = format_number(float(np.mean(col)), TABLE_DIGITS) if col is not None else "—"
            means.append(mean)
        self._table_rows = rows + [means]
        self._set_table(["x", "label", *heads], self._table_rows)

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
        if t.isHidden() == bool(rows):
            t.setVisible(bool(rows))
        # At least MIN_TABLE_ROWS rows in view, at most MAX_TABLE_ROWS (a longer batch scrolls).
        frame = header.sizeHint().height() + 2 * t.frameWidth() + 2
        row_height = t.verticalHeader().defaultSectionSize()
        t.setMinimumHeight(frame + min(len(rows), MIN_TABLE_ROWS) * row_height)
        t.setMaximumHeight(frame + min(len(rows), MAX_TABLE_ROWS) * row_height)
