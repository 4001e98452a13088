"""EquationsPanel: the highlighted phase through a whole pass, and the numbers it substitutes.

Every substituted number is checked against a computation written here from the trace's raw
arrays and the reference activations of :mod:`tests.core.reference`.
"""

import dataclasses

import numpy as np
import pytest
from PySide6.QtWidgets import QSpinBox, QTextBrowser

from bpstudio.core.session import Session
from bpstudio.gui.equations import MIN_LINES, EquationsPanel, LiveThrottle
from bpstudio.gui.model import ViewModel
from bpstudio.gui.numbers import notation, sym
from tests.core import reference as ref
from tests.core.test_session import blobs
from tests.gui.test_inspector import show, snapshot_of, synthetic


@pytest.fixture
def model():
    return ViewModel()


@pytest.fixture
def panel(qtbot, model):
    p = EquationsPanel(model)
    qtbot.addWidget(p)
    p.resize(760, 520)
    p.show()
    return p


ACTIVATION_COSTS = [("sigmoid", "quadratic"), ("sigmoid", "cross-entropy"), ("tanh", "quadratic")]


def lines(panel, row):
    """The substituted lines of one row ("BP1", ...), without the row's prefix."""
    prefix = f"{row}: "
    return [s[len(prefix) :] for s in panel.substituted_text().splitlines() if s.startswith(prefix)]


def numbers(line):
    """The numbers after each "=" of a substituted line, in order (the last is the result)."""
    parts = line.replace("−", "-").split("= ")[1:]
    out = []
    for part in parts:
        token = part.split()[0].strip("();")
        try:
            out.append(float(token))
        except ValueError:
            pass
    return out


def html(panel):
    shown = panel.findChild(QTextBrowser, "equationsText").toPlainText()
    assert shown.count("◀ this phase") == panel.source_html().count("◀ this phase")
    return panel.source_html()


def test_the_phase_that_ran_last_is_highlighted_through_a_whole_pass(panel, model):
    s = Session(blobs(), [5, 6, 4, 3], seed=0)
    show(model, snapshot_of(s), None)
    assert panel.highlighted_equation() is None  # no pass yet
    assert "◀ this phase" not in html(panel)
    seen = []
    for _ in range(6):
        s.step_phase()
        snap = snapshot_of(s)
        show(model, snap, ("n", 3, 1))
        seen.append(panel.highlighted_equation())
        assert html(panel).count("◀ this phase") == (2 if seen[-1] == "BP3+BP4" else 1)
    assert seen == ["forward", "BP1", "BP2", "BP2", "BP3+BP4", "SGD"]
    assert not snap.in_pass  # the update ended the pass; it still ran last
    show(model, dataclasses.replace(snap, running=True), None)
    assert panel.highlighted_equation() is None  # no highlight while training runs
    s.step_batch(record=True)
    show(model, snapshot_of(s), None)
    assert panel.highlighted_equation() == "SGD"


def test_the_equations_are_rich_text_without_latex(panel, model):
    s = Session(blobs(), [5, 6, 3], seed=0)
    s.step_batch(record=True)
    show(model, snapshot_of(s), ("n", 3, 1))
    text = html(panel)
    for piece in ("⊙", "∇", "σ′", "<sup>", "<sub>", "η/m", "Σ"):
        assert piece in text
    assert "\\frac" not in text and "$" not in text and "^{" not in text
    assert sym("w", 3, "7,12").text == "w³₇,₁₂"
    assert notation("{δ^$l_$j} = $(d)", l=3, j=7, d=-0.029).text == "δ³₇ = (−0.029)"


@pytest.mark.parametrize(
    "activation, cost",
    [("sigmoid", "quadratic"), ("sigmoid", "cross-entropy"), ("tanh", "quadratic")],
)
def test_bp1_substitutes_the_output_error_of_the_chosen_example(panel, model, activation, cost):
    s = Session(blobs(), [5, 6, 3], activation=activation, cost=cost, seed=0)
    s.step_phase()  # feedforward: δ^L is not known yet
    show(model, snapshot_of(s), ("n", 3, 1))
    assert lines(panel, "BP1") == [] and len(lines(panel, "forward")) == 2
    assert "not computed yet in this pass" in html(panel)
    s.step_phase()  # BP1
    snap = snapshot_of(s)
    t = snap.trace
    show(model, snap, ("n", 3, 1))
    spin = panel.findChild(QSpinBox, "equationExample")
    assert (spin.minimum(), spin.maximum(), spin.value()) == (0, t.batch_size - 1, 0)
    for x in (0, 4):
        spin.setValue(x)
        a, y, z = t.a[2][x, 1], t.y[x, 1], t.z[2][x, 1]
        f, fp = ref.ACT[activation]
        assert a == pytest.approx(f(z), rel=1e-12)
        want = ref.cost_grad_a(cost, a, y) * fp(z)  # BP1, written out independently
        got = numbers(" ".join(lines(panel, "BP1")))
        assert got[-1] == pytest.approx(want, rel=1e-4, abs=1e-9)
        assert got[-1] == pytest.approx(t.delta[2][x, 1], rel=1e-4, abs=1e-9)
    assert lines(panel, "BP3") == [] and lines(panel, "SGD") == []


def test_bp2_substitutes_the_backpropagated_sum(panel, model):
    s = Session(blobs(), [5, 6, 4, 3], activation="tanh", seed=0)
    for _ in range(3):  # feedforward, BP1, BP2 for l = 3
        s.step_phase()
    t = snapshot_of(s).trace
    show(model, snapshot_of(s), ("n", 3, 2))
    panel.findChild(QSpinBox, "equationExample").setValue(3)
    (line,) = lines(panel, "BP2")
    total = float(t.weights[2][:, 2] @ t.delta[3][3])  # Σ_k w^4_k2 δ^4_k
    sp = ref.ACT["tanh"][1](t.z[2][3, 2])
    got = numbers(line)
    assert got[-1] == pytest.approx(total * sp, rel=1e-4, abs=1e-9)
    assert line.replace("−", "-").split("= ")[-2].startswith(f"{total:.5g} ·")
    show(model, snapshot_of(s), ("n", 2, 0))  # δ^2 comes with the next phase
    assert lines(panel, "BP2") == []


def test_bp3_bp4_and_sgd_for_a_weight_and_a_neuron_after_a_whole_pass(panel, model):
    s = Session(blobs(), [5, 6, 3], seed=4, eta=2.5)
    s.step_batch(record=True)
    snap = snapshot_of(s)
    t = snap.trace
    show(model, snap, ("w", 3, 2, 4))
    panel.findChild(QSpinBox, "equationExample").setValue(1)
    per_example, mean = lines(panel, "BP4")
    assert numbers(per_example)[-1] == pytest.approx(t.a[1][1, 4] * t.delta[2][1, 2], rel=1e-4)
    assert numbers(mean)[-1] == pytest.approx(np.mean(t.a[1][:, 4] * t.delta[2][:, 2]), rel=1e-4)
    (sgd,) = lines(panel, "SGD")
    assert numbers(sgd)[-1] == pytest.approx(snap.weights[1][2, 4], rel=1e-4)
    assert "2.5 ·" in sgd
    show(model, snap, ("n", 2, 3))
    (bp3,) = lines(panel, "BP3")
    assert numbers(bp3) == pytest.approx([t.delta[1][1, 3], np.mean(t.delta[1][:, 3])], rel=1e-4)
    (sgd,) = lines(panel, "SGD")
    assert numbers(sgd)[-1] == pytest.approx(snap.biases[0][3], rel=1e-4)
    show(model, snap, ("n", 1, 2))  # an input: a^1_j = x_j only
    assert numbers(panel.substituted_text()) == pytest.approx([t.x[1, 2]], rel=1e-4)
    show(model, snap, None)
    assert panel.substituted_text() == ""
    assert "Select a neuron or a weight" in html(panel)


def test_the_panel_follows_the_model_while_training_runs_and_after_a_pause(panel, model):
    now = [0.0]
    panel.live = LiveThrottle(seconds=0.5, clock=lambda: now[0])
    s = Session(blobs(), [5, 6, 3], seed=0)
    show(model, snapshot_of(s), ("n", 3, 1))
    assert panel.substituted_text() == "" and "Step a mini-batch" in html(panel)
    s.step_batch(record=True)
    first = snapshot_of(s, running=True)
    model.set_snapshot(first)  # the first snapshot of a run: drawn at once
    (bp3,) = lines(panel, "BP3")
    assert numbers(bp3)[-1] == pytest.approx(first.trace.nabla_b[1][1], rel=1e-4)
    assert panel.highlighted_equation() is None  # no highlight while training runs
    s.step_batch(record=True)
    now[0] = 0.1
    model.set_snapshot(snapshot_of(s, running=True))  # too soon: skipped
    assert lines(panel, "BP3") == [bp3]
    s.step_batch(record=True)
    paused = snapshot_of(s)
    model.set_snapshot(paused)  # a pause is drawn at once
    (bp3,) = lines(panel, "BP3")
    assert numbers(bp3)[-1] == pytest.approx(paused.trace.nabla_b[1][1], rel=1e-4)
    assert panel.highlighted_equation() == "SGD"


def test_substituted_numbers_never_read_minus_zero(panel, model):
    s = Session(synthetic(n=20), [784, 8, 10], seed=3, evaluate=False)
    s.step_batch(record=True)
    t = snapshot_of(s).trace
    # An example whose pixel k is 0, into a neuron whose δ is negative for it: a·δ = −0.0.
    x, k = map(int, np.argwhere(t.x == 0)[0])
    j = int(np.argmax(t.delta[1][x] < 0))
    assert t.delta[1][x, j] < 0 and np.signbit(t.a[0][x, k] * t.delta[1][x, j])
    show(model, snapshot_of(s), ("w", 2, j, k))
    panel.findChild(QSpinBox, "equationExample").setValue(x)
    per_example = lines(panel, "BP4")[0]
    assert per_example.endswith("= 0 · (" + f"{t.delta[1][x, j]:.5g}".replace("-", "−") + ") = 0")
    assert "−0 " not in panel.substituted_text() + " "


def test_the_equations_keep_several_lines_in_view(panel):
    browser = panel.findChild(QTextBrowser, "equationsText")
    assert browser.minimumHeight() >= MIN_LINES * browser.fontMetrics().lineSpacing()
    assert panel.minimumSizeHint().height() >= browser.minimumHeight()
