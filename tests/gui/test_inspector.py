"""InspectorPanel: every number it shows against the trace and against independent sums.

Snapshots come from real sessions (``Session.step_batch(record=True)`` or ``step_phase()``) and
reach the panel through a :class:`ViewModel`, as in the window; gradients are checked against
central differences computed here with the reference forward pass of :mod:`tests.core.reference`,
which shares no code with bpstudio.
"""

import dataclasses
import html
import re

import numpy as np
import pytest
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
)

from bpstudio.core.data import Dataset, DataSplits
from bpstudio.core.functions import get_activation
from bpstudio.core.probe import saturation
from bpstudio.core.session import Session
from bpstudio.core.snapshot import take_snapshot
from bpstudio.gui.equations import LiveThrottle
from bpstudio.gui.inspector import InspectorPanel
from bpstudio.gui.model import ViewModel
from tests.core import reference as ref
from tests.core.test_session import blobs


def synthetic(d=784, classes=10, n=60, seed=0):
    """A data set shaped like MNIST (d inputs in [0, 1], 10 classes) without the download."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.clip(rng.random((classes, d))[y] + 0.1 * rng.standard_normal((n, d)), 0, 1) * 0.1
    parts = [Dataset(f"synthetic/{s}", x, y, classes) for s in ("train", "validation", "test")]
    return DataSplits("synthetic", *parts)


def snapshot_of(session, running=False):
    return take_snapshot(
        session,
        serial=session.batches_done,
        costs_from=0,
        running=running,
        examples_per_second=0.0,
        epochs_target=30,
    )


def reference_cost(trace, weights, biases):
    """C = (1/m) Σ_x C_x by the reference's own forward pass, example by example."""
    b = [np.reshape(v, (-1, 1)) for v in biases]
    return ref.batch_cost(list(weights), b, trace.x, trace.y, trace.activation, trace.cost)


def central_difference(trace, kind, l, j, k=None, eps=1e-5):
    """∂C/∂w^l_jk (or ∂C/∂b^l_j) at the trace's weights before the update, independently."""
    out = []
    for sign in (1, -1):
        w = [np.array(a, np.float64) for a in trace.weights]
        b = [np.array(a, np.float64) for a in trace.biases]
        if kind == "w":
            w[l - 2][j, k] += sign * eps
        else:
            b[l - 2][j] += sign * eps
        out.append(reference_cost(trace, w, b))
    return (out[0] - out[1]) / (2 * eps)


def run_to(session, batches):
    """Unrecorded mini-batches until ``batches`` are done (``Session.run`` stops at epoch ends)."""
    while session.batches_done < batches:
        session.run(batches - session.batches_done)


def show(model, snapshot, selection):
    """What the window does: the newest snapshot into the model, a click's selection."""
    new = model.snapshot is None or model.snapshot.sizes != snapshot.sizes
    model.set_snapshot(snapshot, new_session=new)
    model.set_selection(selection)


def text(panel, name):
    return panel.findChild(QLabel, name).text()


def plain(rich_text):
    """Rich text as plain text, with w<sup>3</sup><sub>1,2</sub> written w^3_1,2."""
    t = re.sub(r"<sup>(.*?)</sup>", r"^\1", rich_text)
    t = re.sub(r"<sub>(.*?)</sub>", r"_\1", t)
    return html.unescape(re.sub(r"<[^>]+>", "", t)).replace("\xa0", " ")


def summary(panel):
    """The summary as {row name: shown value}, both as plain text."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", text(panel, "inspectorSummary"))
    return {plain(a): plain(b) for a, b in zip(cells[::2], cells[1::2])}


def table(panel):
    """The per-example table as a list of rows of cell texts, with its header."""
    t = panel.findChild(QTableWidget, "inspectorTable")
    heads = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    rows = [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]
    return heads, rows


@pytest.fixture
def model():
    return ViewModel()


@pytest.fixture
def panel(qtbot, model):
    p = InspectorPanel(model)
    qtbot.addWidget(p)
    p.resize(520, 640)
    p.show()
    return p


@pytest.fixture(scope="module")
def mnist_sized():
    """[784, 30, 10] after two recorded mini-batches of m = 10."""
    s = Session(synthetic(), [784, 30, 10], seed=1, evaluate=False)
    s.step_batch(record=True)
    s.step_batch(record=True)
    return snapshot_of(s)


@pytest.mark.parametrize("l, j, k", [(2, 3, 100), (2, 29, 400), (3, 7, 12), (3, 0, 29)])
def test_weight_gradient_is_the_mean_of_bp4_products_and_a_finite_difference(
    panel, model, mnist_sized, l, j, k
):
    snap = mnist_sized
    t = snap.trace
    show(model, snap, ("w", l, j, k))
    v = panel.values
    assert panel.current_selection == ("w", l, j, k)
    assert v["w"] == t.weights[l - 2][j, k]
    assert v["dC_dw"] == t.nabla_w[l - 2][j, k]
    pe = v["per_example"]
    assert np.array_equal(pe["a"], t.a[l - 2][:, k])
    assert np.array_equal(pe["delta"], t.delta[l - 1][:, j])
    assert np.allclose(pe["product"], t.a[l - 2][:, k] * t.delta[l - 1][:, j], rtol=1e-15)
    assert np.mean(pe["product"]) == pytest.approx(v["dC_dw"], rel=1e-12, abs=1e-18)
    fd = central_difference(t, "w", l, j, k)
    assert abs(fd - v["dC_dw"]) <= 1e-7 * max(abs(fd), 1e-4)
    assert abs(v["numeric"] - fd) <= 1e-7 * max(abs(fd), 1e-4)
    assert v["rel_error"] < 1e-6
    assert v["update"] == pytest.approx(t.eta * v["dC_dw"], rel=1e-15)
    assert v["w_after"] == snap.weights[l - 2][j, k]
    assert v["w_after"] == pytest.approx(v["w"] - v["update"], rel=1e-12, abs=1e-15)
    # What is on screen is those numbers, at 5 significant digits.
    rows = summary(panel)
    shown = float(rows[f"∂C/∂w^{l}_{j},{k} (backprop, used by the update)"].replace("−", "-"))
    assert shown == pytest.approx(v["dC_dw"], rel=1e-4)


def test_weight_view_shows_the_books_notation_and_a_row_per_example(panel, model, mnist_sized):
    show(model, mnist_sized, ("w", 3, 7, 12))
    title = text(panel, "inspectorTitle")
    assert "w<sup>3</sup><sub>7,12</sub>" in title and "w<sup>l</sup><sub>jk</sub>" in title
    assert "$" not in title and "\\" not in title
    heads, rows = table(panel)
    assert heads == ["x", "label", "a²₁₂", "δ³₇", "a²₁₂·δ³₇"]
    assert len(rows) == 10 + 1  # one row per example, then the mean
    assert rows[10][0] == "mean"
    labels = np.argmax(mnist_sized.trace.y, axis=1)
    assert [int(r[1]) for r in rows[:10]] == labels.tolist()


def test_no_negative_zero_and_no_endless_numbers(panel, model, mnist_sized):
    t = mnist_sized.trace
    # An input pixel that is 0 in some examples, into a neuron whose δ is negative there: the
    # products a·δ are −0.0 in float arithmetic, and must read "0".
    k = int(np.argmax((t.x == 0).sum(axis=0)))
    zeros = t.x[:, k] == 0
    j = int(np.argmax((t.delta[1][zeros] < 0).sum(axis=0)))
    assert np.any(np.signbit(t.x[:, k] * t.delta[1][:, j]) & zeros)
    show(model, mnist_sized, ("w", 2, j, k))
    _, rows = table(panel)
    cells = [c for r in rows for c in r]
    assert "−0" not in cells and "-0" not in cells
    assert [r[4] for r, z in zip(rows, zeros) if z] == ["0"] * int(zeros.sum())
    # A weight that blew up is written compactly.
    s = Session(blobs(), [5, 6, 3], seed=0)
    s.network.weights[0][1, 4] = -1.234567e105
    show(model, snapshot_of(s), ("w", 2, 1, 4))
    assert summary(panel)["w^2_1,4 (now)"] == "−1.2e+105"


@pytest.mark.parametrize("l, j", [(2, 5), (3, 4)])
def test_neuron_values_bp3_and_saturation(panel, model, mnist_sized, l, j):
    snap = mnist_sized
    t = snap.trace
    show(model, snap, ("n", l, j))
    v = panel.values
    assert panel.current_selection == ("n", l, j)
    act = get_activation(t.activation)
    assert v["b"] == t.biases[l - 2][j]
    pe = v["per_example"]
    assert np.array_equal(pe["z"], t.z[l - 1][:, j]) and np.array_equal(pe["a"], t.a[l - 1][:, j])
    assert np.allclose(pe["sigma_prime"], ref.ACT["sigmoid"][1](t.z[l - 1][:, j]), rtol=1e-12)
    assert v["dC_db"] == t.nabla_b[l - 2][j]
    assert v["dC_db"] == pytest.approx(np.mean(t.delta[l - 1][:, j]), rel=1e-12, abs=1e-18)
    assert v["delta"] == pytest.approx(v["dC_db"], rel=1e-12, abs=1e-18)
    fd = central_difference(t, "b", l, j)
    assert abs(fd - v["dC_db"]) <= 1e-7 * max(abs(fd), 1e-4)
    assert v["saturated"] == bool(saturation(t, act)[l - 1][j])
    assert v["z"] == pytest.approx(np.mean(t.z[l - 1][:, j]))


def test_a_saturated_neuron_is_called_saturated(panel, model):
    s = Session(blobs(), [5, 3, 3], seed=0, mini_batch_size=8)
    s.network.biases[0][1, 0] = 12.0  # σ'(z) ≈ 6e-6 for every example
    s.step_batch(record=True)
    show(model, snapshot_of(s), ("n", 2, 1))
    assert panel.values["saturated"] is True
    assert summary(panel)["saturated"].startswith("yes")
    model.set_selection(("n", 2, 0))
    assert panel.values["saturated"] is False


def test_phase_stepping_shows_only_what_is_computed(panel, model):
    s = Session(blobs(), [5, 6, 4, 3], seed=0)
    s.step_phase()  # feedforward
    show(model, snapshot_of(s), ("w", 3, 1, 2))
    v = panel.values
    assert v["dC_dw"] is None and v["per_example"]["delta"] is None and v["w_after"] is None
    assert np.isfinite(v["numeric"])  # the check needs only the weights and the batch
    rows = summary(panel)
    assert rows["∂C/∂w^3_1,2 (backprop, used by the update)"] == "not computed yet (BP3, BP4)"
    model.set_selection(("n", 4, 0))
    assert panel.values["delta"] is None and panel.values["z"] is not None
    assert summary(panel)["mean δ^4_0"] == "not computed yet (BP1, next)"
    s.step_phase()  # BP1: δ^4 is known, the gradients are not
    model.set_snapshot(snapshot_of(s))
    assert panel.values["delta"] == pytest.approx(np.mean(model.snapshot.trace.delta[3][:, 0]))
    assert panel.values["dC_db"] is None
    assert summary(panel)["∂C/∂b^4_0 = mean δ^4_0 (BP3)"] == "not computed yet (BP3, BP4)"
    assert "next: BP2: δ^3 from δ^4" in plain(text(panel, "inspectorNote"))


def test_bp4_products_come_with_dc_dw_not_before(panel, model):
    """Issue 11 item 2: mid-pass, ∂C/∂w said "not computed yet" while its BP4 row had a value."""
    s = Session(blobs(), [5, 6, 4, 3], seed=0)
    for _ in range(3):  # feedforward, BP1, BP2 for l = 3: δ^3 is known
        s.step_phase()
    show(model, snapshot_of(s), ("w", 3, 1, 2))
    v = panel.values
    assert v["per_example"]["delta"] is not None  # δ³₁ is known and shown …
    assert v["product_mean"] is None and v["per_example"]["product"] is None  # … BP4 is not
    rows = summary(panel)
    gradient = rows["∂C/∂w^3_1,2 (backprop, used by the update)"]
    bp4 = rows["mean over the batch of a^2_2 δ^3_1 (BP4)"]
    assert gradient == bp4 == "not computed yet (BP3, BP4)"
    heads, cells = table(panel)
    assert [r[heads.index("a²₂·δ³₁")] for r in cells] == ["—"] * len(cells)
    assert all(r[heads.index("δ³₁")] != "—" for r in cells)
    for _ in range(2):  # BP2 for l = 2, then BP3 + BP4
        s.step_phase()
    model.set_snapshot(snapshot_of(s))
    t = model.snapshot.trace
    v = panel.values
    assert v["dC_dw"] == t.nabla_w[1][1, 2]
    assert v["product_mean"] == pytest.approx(v["dC_dw"], rel=1e-12)
    rows = summary(panel)
    gradient = rows["∂C/∂w^3_1,2 (backprop, used by the update)"]
    assert gradient == rows["mean over the batch of a^2_2 δ^3_1 (BP4)"] != ""
    assert float(gradient.replace("−", "-")) == pytest.approx(v["dC_dw"], rel=1e-4)
    assert "w^3_1,2 after (to come)" in rows
    assert v["w_after"] == pytest.approx(t.weights[1][1, 2] - t.eta * t.nabla_w[1][1, 2])


def test_before_any_batch_and_for_the_input_layer(panel, model):
    s = Session(blobs(), [5, 6, 3], seed=0)
    snap = snapshot_of(s)
    show(model, snap, ("w", 2, 1, 4))
    assert panel.values == {"w": snap.weights[0][1, 4]}
    assert "No mini-batch has been run yet" in text(panel, "inspectorNote")
    model.set_selection(("n", 2, 1))
    assert panel.values == {"b": snap.biases[0][1]}
    s.step_batch(record=True)
    snap = snapshot_of(s)
    show(model, snap, ("n", 1, 3))
    assert panel.current_selection == ("n", 1, 3)
    assert np.array_equal(panel.values["per_example"]["a"], snap.trace.x[:, 3])
    assert panel.findChild(QGroupBox, "demonBox").isHidden()
    model.set_selection(None)
    assert panel.current_selection is None and panel.values == {}
    assert "Click a weight" in text(panel, "inspectorNote")


def test_a_snapshot_without_a_trace_after_batches_does_not_say_none_ran(panel, model):
    s = Session(blobs(), [5, 6, 3], seed=0)
    run_to(s, 66)
    show(model, dataclasses.replace(snapshot_of(s), trace=None), ("w", 2, 1, 4))
    note = text(panel, "inspectorNote")
    assert "No mini-batch has been run yet" not in note and "66 mini-batches have run" in note


def test_while_training_runs_the_panel_follows_the_newest_snapshots(panel, model):
    """Issue 11 item 2: selected before Play, it still said "No mini-batch has been run yet"
    after 66 batches, because nothing redrew it while training ran."""
    now = [0.0]
    panel.live = LiveThrottle(seconds=0.5, clock=lambda: now[0])
    s = Session(synthetic(), [784, 100, 10], seed=0, evaluate=False)
    show(model, snapshot_of(s), ("w", 3, 4, 17))
    assert "No mini-batch has been run yet" in text(panel, "inspectorNote")
    run_to(s, 65)
    s.step_batch(record=True)
    first = snapshot_of(s, running=True)
    model.set_snapshot(first)  # the first snapshot of a run is drawn at once
    note = text(panel, "inspectorNote")
    assert "No mini-batch" not in note and "Training runs: mini-batch 66" in note
    assert panel.values["dC_dw"] == first.trace.nabla_w[1][4, 17]
    s.step_batch(record=True)
    now[0] = 0.2  # within the throttle's interval: not redrawn
    model.set_snapshot(snapshot_of(s, running=True))
    assert panel.values["dC_dw"] == first.trace.nabla_w[1][4, 17]
    s.step_batch(record=True)
    now[0] = 0.6
    third = snapshot_of(s, running=True)
    model.set_snapshot(third)
    assert panel.values["dC_dw"] == third.trace.nabla_w[1][4, 17]
    s.step_batch(record=True)
    now[0] = 0.7  # a pause: always drawn at once
    paused = snapshot_of(s)
    model.set_snapshot(paused)
    assert panel.values["dC_dw"] == paused.trace.nabla_w[1][4, 17]
    assert "The last mini-batch (m = 10)" in text(panel, "inspectorNote")


def test_a_hidden_panel_catches_up_when_shown(panel, model):
    s = Session(blobs(), [5, 6, 3], seed=0)
    show(model, snapshot_of(s), ("n", 2, 1))
    panel.hide()
    s.step_batch(record=True)
    model.set_snapshot(snapshot_of(s))
    panel.show()
    assert panel.values["dC_db"] == model.snapshot.trace.nabla_b[0][1]


def test_the_demon_button_measures_the_cost_change(panel, model, mnist_sized):
    snap = mnist_sized
    t = snap.trace
    show(model, snap, ("n", 2, 5))
    spin = panel.findChild(QDoubleSpinBox, "demonDz")
    assert spin.value() == pytest.approx(0.1)
    spin.setValue(0.001)
    panel.findChild(QPushButton, "demonButton").click()
    d = panel.values["demon"]
    # Independently: raise z^2_5 of every example by Δz in a forward pass written here.
    f = ref.ACT["sigmoid"][0]
    costs = []
    for dz in (0.0, 0.001):
        z2 = t.x @ t.weights[0].T + t.biases[0]
        z2[:, 5] += dz
        a3 = f(f(z2) @ t.weights[1].T + t.biases[1])
        costs.append(np.mean(0.5 * np.sum((a3 - t.y) ** 2, axis=1)))
    assert d["observed"] == pytest.approx(costs[1] - costs[0], rel=1e-8)
    assert d["predicted"] == pytest.approx(np.mean(t.delta[1][:, 5]) * 0.001, rel=1e-9)
    assert d["observed"] == pytest.approx(d["predicted"], rel=2e-2)
    result = text(panel, "demonResult")
    assert "observed ΔC" in result and "δ<sup>2</sup><sub>5</sub>" in result


#: The inspector dock's panel in a 1500 x 900 window (measured once with create_main_window).
DOCK_SIZE = (480, 180)


def rows_in_view(panel):
    """How many rows of the per-example table lie wholly inside the inspector's viewport."""
    t = panel.findChild(QTableWidget, "inspectorTable")
    viewport = panel.findChild(QScrollArea, "inspectorScroll").viewport()
    inside = 0
    for r in range(t.rowCount()):
        rect = t.visualItemRect(t.item(r, 0))
        top = t.viewport().mapTo(viewport, rect.topLeft())
        bottom = t.viewport().mapTo(viewport, rect.bottomLeft())
        inside += viewport.rect().contains(top) and viewport.rect().contains(bottom)
    return inside


def page_height(panel):
    return panel.findChild(QScrollArea, "inspectorScroll").widget().height()


def test_at_the_default_dock_size_the_table_keeps_six_rows(qtbot, model):
    """Issue 11 item 13: at the default size the table showed two rows."""
    panel = InspectorPanel(model)
    qtbot.addWidget(panel)
    panel.resize(*DOCK_SIZE)
    panel.show()
    s = Session(blobs(), [5, 6, 3], seed=0)  # m = 10: 10 rows and the mean
    s.step_batch(record=True)
    show(model, snapshot_of(s), ("n", 3, 1))
    table = panel.findChild(QTableWidget, "inspectorTable")
    assert table.height() >= 6 * table.rowHeight(0) + table.horizontalHeader().height()
    panel.findChild(QScrollArea, "inspectorScroll").ensureWidgetVisible(table)
    assert rows_in_view(panel) >= 6
    assert panel.minimumSizeHint().height() <= DOCK_SIZE[1]  # it fits its dock


def test_a_long_demon_result_neither_grows_the_panel_nor_stays(qtbot, model):
    """Issue 11 item 13: the demon's result squeezed the equations; panels did not shrink back."""
    panel = InspectorPanel(model)
    qtbot.addWidget(panel)
    panel.resize(*DOCK_SIZE)
    panel.show()
    s = Session(blobs(), [5, 6, 3], seed=0)
    s.step_batch(record=True)
    show(model, snapshot_of(s), ("n", 2, 4))
    short, demand = page_height(panel), panel.minimumSizeHint().height()
    result = panel.findChild(QLabel, "demonResult")
    panel.findChild(QPushButton, "demonButton").click()
    assert result.text() and page_height(panel) > short  # the page grew, and scrolls …
    assert panel.minimumSizeHint().height() == demand  # … but the panel asks for no more
    viewport = panel.findChild(QScrollArea, "inspectorScroll").viewport()
    corner = result.mapTo(viewport, result.rect().bottomLeft())
    assert viewport.rect().contains(corner)  # the result was scrolled into view
    model.set_selection(("w", 2, 4, 0))  # no demon for a weight: a shorter page
    assert result.text() == "" and page_height(panel) < short
    model.set_selection(("n", 2, 4))
    assert page_height(panel) == short  # back to the size it had
