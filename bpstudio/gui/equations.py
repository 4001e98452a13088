"""The equations of backpropagation, with the selected neuron's or weight's numbers put in.

The panel shows the forward equations, BP1–BP4 and the SGD update in rich text (no LaTeX), and
highlights the equation of the phase that ran last. For a selected neuron ("n", l, j) or weight
("w", l, j, k) it substitutes the numbers of one example x of the mini-batch into every
equation whose quantities this pass has already computed, e.g. for an output neuron with the
quadratic cost ``δ³₇ = (a − y) · σ′(z) = (0.81 − 1) · 0.154 = −0.029``.

Layer numbers are the book's: l = 1 is the input layer; ``trace.weights[l - 2]`` is w^l and
``trace.z[l - 1]`` is z^l (see :mod:`bpstudio.core.trace`).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QTextBrowser, QVBoxLayout, QWidget

from bpstudio.core.functions import get_activation, get_cost
from bpstudio.core.probe import parameters_before
from bpstudio.core.trace import Trace
from bpstudio.gui.model import check_selection
from bpstudio.gui.numbers import MUTED, Rich, caret_html, notation

#: Background of the highlighted equation (a soft amber that reads on white and in print).
HIGHLIGHT = "#ffe9a8"
SUBST_COLOUR = "#1d4f91"
#: While training runs, the panels that follow the model redraw at most this often (numbers
#: that change faster cannot be read, and each redraw costs the training thread its time).
LIVE_SECONDS = 1.0
#: The equations keep at least this many lines of text in view, whatever the docks around do.
MIN_LINES = 8


# -- the general equations -----------------------------------------------------------------------
GENERAL = {
    "forward": notation("{z^l} = {w^l} {a^l−1} + {b^l},   {a^l} = σ({z^l})"),
    "BP1": notation("{δ^L} = ∇{_a}C ⊙ σ′({z^L})"),
    "BP2": notation("{δ^l} = (({w^l+1}){^T} {δ^l+1}) ⊙ σ′({z^l})"),
    "BP3": notation("∂C/∂{b^l_j} = {δ^l_j}"),
    "BP4": notation("∂C/∂{w^l_jk} = {a^l−1_k} {δ^l_j}"),
    "SGD": notation("w → w − (η/m) Σ{_x} ∂{C_x}/∂w,   b → b − (η/m) Σ{_x} ∂{C_x}/∂b"),
}
#: Where a long general equation breaks onto a second line (so that it fits a narrow dock).
BREAK_AFTER = {"SGD": ",&nbsp; "}
ROWS = ("forward", "BP1", "BP2", "BP3", "BP4", "SGD")
ROW_TAGS = {"forward": "Forward", "SGD": "SGD"}
#: Which rows each phase's equation (``Phase.equation``) covers.
PHASE_ROWS = {
    "forward": ("forward",),
    "BP1": ("BP1",),
    "BP2": ("BP2",),
    "BP3+BP4": ("BP3", "BP4"),
    "SGD": ("SGD",),
}


# -- substitutions -------------------------------------------------------------------------------
class Substituter:
    """The numbers of one example x put into the equations, for one neuron or weight.

    Every method returns a list of :class:`Rich` lines, or ``None`` when the quantities that
    equation needs are not computed yet in this pass.
    """

    def __init__(self, trace: Trace, x: int) -> None:
        self.t, self.x = trace, x
        self.act = get_activation(trace.activation)
        self.cost = get_cost(trace.cost)
        self.L = trace.num_layers
        self.weights, self.biases = parameters_before(trace)

    def neuron(self, l: int, j: int) -> dict[str, list[Rich] | None]:
        """Substitutions for neuron j of layer l."""
        if l == 1:
            return {"forward": [notation("{a^1_$j} = {x_$j} = $a", j=j, a=self.t.x[self.x, j])]}
        out = {"forward": self.forward(l, j)}
        out["BP1" if l == self.L else "BP2"] = self.error(l, j)
        out["BP3"] = self.bp3(l, j)
        out["SGD"] = self.update("b", l, j)
        return out

    def weight(self, l: int, j: int, k: int) -> dict[str, list[Rich] | None]:
        """Substitutions for w^l_jk (and the δ^l_j that BP4 needs)."""
        t, x = self.t, self.x
        out: dict[str, list[Rich] | None] = {"forward": None}
        if t.z[l - 1] is not None:
            w, a = self.weights[l - 2][j, k], t.a[l - 2][x, k]
            v = dict(l=l, j=j, k=k, p=l - 1, w=w, a=a, wa=w * a, z=t.z[l - 1][x, j])
            text = "{w^$l_$j,$k} {a^$p_$k} = $w · $(a) = $wa   (one term of {z^$l_$j} = $z)"
            out["forward"] = [notation(text, **v)]
        out["BP1" if l == self.L else "BP2"] = self.error(l, j)
        out["BP4"] = self.bp4(l, j, k)
        out["SGD"] = self.update("w", l, j, k)
        return out

    def forward(self, l: int, j: int) -> list[Rich] | None:
        t, x = self.t, self.x
        if t.z[l - 1] is None:
            return None
        v = dict(l=l, j=j, jk=f"{j}k", p=l - 1, b=self.biases[l - 2][j], z=t.z[l - 1][x, j])
        v.update(a=t.a[l - 1][x, j], wa=float(self.weights[l - 2][j] @ t.a[l - 2][x]))
        return [
            notation("{z^$l_$j} = Σ{_k} {w^$l_$jk} {a^$p_k} + {b^$l_$j} = $wa + $(b) = $z", **v),
            notation("{a^$l_$j} = σ({z^$l_$j}) = σ($z) = $a", **v),
        ]

    def error(self, l: int, j: int) -> list[Rich] | None:
        """BP1 for the output layer, BP2 for a hidden layer."""
        t, x = self.t, self.x
        if t.delta[l - 1] is None:
            return None
        z = t.z[l - 1][x, j]
        v = dict(l=l, j=j, d=t.delta[l - 1][x, j], z=z)
        v["sp"] = float(self.act.prime(np.array([z], np.float64))[0])
        if l < self.L:
            v.update(n=l + 1, s=float(self.weights[l - 1][:, j] @ t.delta[l][x]))
            text = "{δ^$l_$j} = (Σ{_k} {w^$n_k$j} {δ^$n_k}) · σ′({z^$l_$j}) = $s · $(sp) = $d"
            return [notation(text, **v)]
        a, y = t.a[-1][x, j], t.y[x, j]
        v.update(a=a, y=y, q=1 - a)
        if self.cost.name == "quadratic":
            return [notation("{δ^$l_$j} = (a − y) · σ′(z) = ($a − $y) · $(sp) = $d", **v)]
        v["g"] = float(self.cost.gradient(np.array([a], np.float64), np.array([y], np.float64))[0])
        return [
            notation("{δ^$l_$j} = ∂C/∂a · σ′(z) = (a − y)/(a(1 − a)) · σ′(z)", **v),
            notation("    = ($a − $y)/($a · $q) · $(sp) = $g · $(sp) = $d", **v),
        ]

    def bp3(self, l: int, j: int) -> list[Rich] | None:
        t = self.t
        if t.nabla_b[l - 2] is None:
            return None
        v = dict(l=l, j=j, d=t.delta[l - 1][self.x, j], g=t.nabla_b[l - 2][j])
        text = "∂{C_x}/∂{b^$l_$j} = {δ^$l_$j} = $d;   batch mean ∂C/∂{b^$l_$j} = $g"
        return [notation(text, **v)]

    def bp4(self, l: int, j: int, k: int) -> list[Rich] | None:
        t = self.t
        if t.nabla_w[l - 2] is None:
            return None
        a, d = t.a[l - 2][self.x, k], t.delta[l - 1][self.x, j]
        v = dict(l=l, j=j, k=k, p=l - 1, a=a, d=d, ad=a * d, g=t.nabla_w[l - 2][j, k])
        return [
            notation("∂{C_x}/∂{w^$l_$j,$k} = {a^$p_$k} {δ^$l_$j} = $a · $(d) = $ad", **v),
            notation("batch mean ∂C/∂{w^$l_$j,$k} = (1/m) Σ{_x} {a^$p_$k} {δ^$l_$j} = $g", **v),
        ]

    def update(self, kind: str, l: int, j: int, k: int | None = None) -> list[Rich] | None:
        t = self.t
        if t.weights_after is None:
            return None
        if kind == "w":
            name = f"{{w^{l}_{j},{k}}}"
            v = dict(p=self.weights[l - 2][j, k], g=t.nabla_w[l - 2][j, k])
            v["after"] = t.weights_after[l - 2][j, k]
        else:
            name = f"{{b^{l}_{j}}}"
            v = dict(p=self.biases[l - 2][j], g=t.nabla_b[l - 2][j], after=t.biases_after[l - 2][j])
        text = f"{name} → {name} − η ∂C/∂{name} = $p − $eta · $(g) = $after"
        return [notation(text, eta=float(t.eta), **v)]


def substitutions(trace: Trace, selection, x: int) -> dict[str, list[Rich] | None]:
    """The substituted lines per row of :data:`ROWS` for ``selection`` and example ``x``."""
    if selection is None:
        return {}
    sub = Substituter(trace, x)
    if selection[0] == "w":
        return sub.weight(*selection[1:])
    return sub.neuron(*selection[1:])


class LiveThrottle:
    """When a panel that follows the model redraws for a new snapshot.

    A paused snapshot (``running`` False) is always drawn, so that the panel is current the
    moment training stops. While training runs the panel redraws at most every ``seconds``
    (the first running snapshot after a paused one at once), so that it stays roughly current
    without costing every frame.
    """

    def __init__(self, seconds: float = LIVE_SECONDS, clock=time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._last: float | None = None  # when a running snapshot was last drawn

    def due(self, snapshot) -> bool:
        """Whether ``snapshot`` should be drawn now (and, if so, note that it is)."""
        if snapshot is None or not snapshot.running:
            self._last = None
            return True
        now = self._clock()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True


class ModelPanel(QWidget):
    """A panel that follows a :class:`bpstudio.gui.model.ViewModel`'s snapshot and selection.

    Subclasses draw ``self.model.snapshot`` and ``self.model.selection`` in :meth:`refresh`,
    which runs when the selection changes and, paced by ``self.live`` (a :class:`LiveThrottle`),
    when a snapshot arrives; a hidden panel draws when it shows again.
    """

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.live = LiveThrottle()
        self._stale = False  # a snapshot arrived while the panel was hidden
        model.snapshot_changed.connect(self._on_snapshot_changed)
        model.selection_changed.connect(self._on_selection_changed)

    @property
    def current_selection(self) -> tuple | None:
        """The model's selection: ("w", l, j, k), ("n", l, j) or ``None``."""
        return self.model.selection

    def refresh(self) -> None:
        """Show the model's snapshot and selection now."""
        self._stale = False

    def fitting_selection(self) -> tuple | None:
        """The model's selection if it names a weight or neuron of its snapshot, else None."""
        snapshot = self.model.snapshot
        try:
            return (
                None if snapshot is None else check_selection(self.model.selection, snapshot.sizes)
            )
        except ValueError:
            return None

    def _on_snapshot_changed(self, snapshot) -> None:
        if not self.isVisible():
            self._stale = True
        elif self.live.due(snapshot):
            self.refresh()

    def _on_selection_changed(self, _selection) -> None:
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self.refresh()


class EquationsPanel(ModelPanel):
    """BP1–BP4, the forward equations and SGD, with live numbers and the current phase marked.

    Follows ``model`` (a :class:`bpstudio.gui.model.ViewModel`): its snapshot and selection.
    """

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.setObjectName("equationsPanel")
        self._snapshot = None  # the snapshot on display (the model's, unless skipped)
        self._subs: dict[str, list[Rich] | None] = {}
        self._html = ""
        self._mono_family = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
        self._browser = QTextBrowser()
        self._browser.setObjectName("equationsText")
        self._browser.setOpenLinks(False)
        # Never squeezed below a few equations by a neighbouring dock.
        self._browser.setMinimumHeight(MIN_LINES * self._browser.fontMetrics().lineSpacing())
        self._example = QSpinBox()
        self._example.setObjectName("equationExample")
        self._example.setRange(0, 0)
        self._example.setToolTip("Which example x of the mini-batch to put into the equations")
        self._example_info = QLabel()
        self._example_info.setObjectName("equationExampleInfo")
        self._example.valueChanged.connect(self._on_example_changed)
        row = QHBoxLayout()
        row.addWidget(QLabel("Example x ="))
        row.addWidget(self._example)
        row.addWidget(self._example_info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self._browser, 1)
        self.refresh()

    # -- API ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the model's snapshot and selection now."""
        super().refresh()
        self._snapshot = self.model.snapshot
        trace = self._trace()
        m = trace.batch_size if trace is not None else 1
        self._example.blockSignals(True)
        self._example.setRange(0, m - 1)
        self._example.blockSignals(False)
        self._example.setEnabled(trace is not None)
        self._render()

    def highlighted_equation(self) -> str | None:
        """The equation of the phase that ran last: "forward", "BP1", "BP2", "BP3+BP4", "SGD".

        While a pass is being stepped, the phase that ran last. After a whole pass, when
        training is paused, the update ("SGD"): that is what ran last. ``None`` while training
        runs (a highlight would only flicker) and before any pass.
        """
        s = self._snapshot
        trace = self._trace()
        if trace is None or s.running or not (s.in_pass or trace.complete):
            return None
        phase = trace.last_phase
        return None if phase is None else phase.equation

    def substituted_text(self) -> str:
        """The substituted lines as plain text, one per line, each prefixed with its row."""
        lines = []
        for key in ROWS:
            for line in self._subs.get(key) or ():
                lines.append(f"{key}: {line.text}")
        return "\n".join(lines)

    def source_html(self) -> str:
        """The rich text last shown, as generated (Qt re-serialises what it displays)."""
        return self._html

    @property
    def example(self) -> int:
        return self._example.value()

    # -- rendering ------------------------------------------------------------------------------
    def _trace(self) -> Trace | None:
        return None if self._snapshot is None else self._snapshot.trace

    def _on_example_changed(self, _value: int) -> None:
        self._render()

    def _render(self) -> None:
        trace = self._trace()
        selection = self.fitting_selection()
        x = self._example.value()
        self._subs = {} if trace is None else substitutions(trace, selection, x)
        self._example_info.setText(self._example_text(trace, x))
        lit = PHASE_ROWS.get(self.highlighted_equation(), ())
        rows = "".join(self._row_html(key, key in lit) for key in ROWS)
        self._html = (
            f"<table width='100%' cellspacing='0' cellpadding='4'>{rows}</table>"
            + self._footer_html(trace, selection)
        )
        self._browser.setHtml(self._html)

    def _row_html(self, key: str, lit: bool) -> str:
        bg = f" bgcolor='{HIGHLIGHT}'" if lit else ""
        b0, b1 = ("<b>", "</b>") if lit else ("", "")
        marker = "<b>◀ this phase</b>" if lit else ""
        eq = self._general_html(key)
        out = (
            f"<tr><td{bg} width='70' style='white-space:nowrap'>{b0}{ROW_TAGS.get(key, key)}{b1}"
            f"</td><td{bg}><span style='font-size:12pt'>{b0}{eq}{b1}</span></td>"
            f"<td{bg} align='right' style='white-space:nowrap'>{marker}</td></tr>"
        )
        lines = self._subs.get(key, ())
        if key in self._subs and lines is None:
            body = f"<i style='color:{MUTED}'>not computed yet in this pass</i>"
        elif lines:
            body = "<br>".join(line.html for line in lines)
            font = f"font-family: '{self._mono_family}', monospace"
            body = f'<span style="{font}; color:{SUBST_COLOUR}">{body}</span>'
        else:
            return out
        return out + f"<tr><td{bg}></td><td{bg} colspan='2'>{body}</td></tr>"

    @staticmethod
    def _general_html(key: str) -> str:
        eq = GENERAL[key].html
        cut = BREAK_AFTER.get(key)
        return eq.replace(cut, "<br>", 1) if cut else eq

    def _example_text(self, trace: Trace | None, x: int) -> str:
        if trace is None:
            return "no mini-batch yet: step a batch or a phase"
        label = int(np.argmax(trace.y[x]))
        where = int(trace.indices[x])
        return f"of {trace.batch_size} (label {label}, training example #{where})"

    def _footer_html(self, trace: Trace | None, selection) -> str:
        parts = []
        if trace is None:
            parts.append("Step a mini-batch or a phase to see numbers.")
        else:
            act, cost = get_activation(trace.activation), get_cost(trace.cost)
            parts.append(
                f"σ = {act.name}: {caret_html(act.formula)},&nbsp; {caret_html(act.prime_formula)}"
            )
            formulas = f"{caret_html(cost.formula)},&nbsp; {caret_html(cost.gradient_formula)}"
            parts.append(f"cost: {cost.name}, {formulas}")
            nxt = trace.next_phase
            parts.append(
                f"this pass: {trace.phases_done} of {len(trace.phases)} phases done"
                + (f"; next: {caret_html(nxt.title)}" if nxt is not None else "")
            )
        if selection is None:
            parts.append("Select a neuron or a weight to put its numbers into the equations.")
        return "".join(f"<p style='color:{MUTED}'>{p}</p>" for p in parts)
