"""InspectorPanel: every number it shows against the trace and against independent sums.

Snapshots come from real sessions (``Session.step_batch(record=True)`` or ``step_phase()``);
gradients are checked against central differences computed here with the reference forward
pass of :mod:`tests.core.reference`, which shares no code with bpstudio.
"""

import numpy as np
import pytest
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QPushButton

from bpstudio.core.data import Dataset, DataSplits
from bpstudio.core.functions import get_activation
from bpstudio.core.probe import saturation
from bpstudio.core.session import Session
from bpstudio.gui.inspector import InspectorPanel
from bpstudio.gui.snapshot import take_snapshot
from tests.core import reference as ref
from tests.core.test_session import blobs


def synthetic(d=784, classes=10, n=60, seed=0):
    """A data set shaped like MNIST (d inputs in [0, 1], 10 classes) without the download."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.clip(rng.random((classes, d))[y] + 0.1 * rng.standard_normal((n, d)), 0, 1) * 0.1
    parts = [Dataset(f"synthetic/{s}", x, y, classes) for s in ("train", "validation", "test")]
    return DataSplits("synthetic", *parts)


def snapshot_of(session):
    return take_snapshot(
        session, serial=0, costs_from=0, running=False, examples_per_second=0.0, epochs_target=30
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


@pytest.fixture
def panel(qtbot):
    p = InspectorPanel()
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
    panel, mnist_sized, l, j, k
):
    snap = mnist_sized
    t = snap.trace
    panel.show_weight(snap, l, j, k)
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


def test_weight_view_shows_the_books_notation_and_a_row_per_example(panel, mnist_sized):
    panel.show_weight(mnist_sized, 3, 7, 12)
    title = panel.findChild(QLabel, "inspectorTitle").text()
    assert "w<sup>3</sup><sub>7,12</sub>" in title and "w<sup>l</sup><sub>jk</sub>" in title
    assert "$" not in title and "\\" not in title
    table = panel._table
    assert table.rowCount() == 10 + 1  # one row per example, then the mean
    assert table.item(10, 0).text() == "mean"
    labels = np.argmax(mnist_sized.trace.y, axis=1)
    assert [int(table.item(r, 1).text()) for r in range(10)] == labels.tolist()


@pytest.mark.parametrize("l, j", [(2, 5), (3, 4)])
def test_neuron_values_bp3_and_saturation(panel, mnist_sized, l, j):
    snap = mnist_sized
    t = snap.trace
    panel.show_neuron(snap, l, j)
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


def test_a_saturated_neuron_is_called_saturated(panel):
    s = Session(blobs(), [5, 3, 3], seed=0, mini_batch_size=8)
    s.network.biases[0][1, 0] = 12.0  # σ'(z) ≈ 6e-6 for every example
    s.step_batch(record=True)
    panel.show_neuron(snapshot_of(s), 2, 1)
    assert panel.values["saturated"] is True
    assert "<b>yes</b>" in panel._summary.text()
    panel.show_neuron(snapshot_of(s), 2, 0)
    assert panel.values["saturated"] is False


def test_phase_stepping_shows_only_what_is_computed(panel):
    s = Session(blobs(), [5, 6, 4, 3], seed=0)
    s.step_phase()  # feedforward
    snap = snapshot_of(s)
    panel.show_weight(snap, 3, 1, 2)
    v = panel.values
    assert v["dC_dw"] is None and v["per_example"]["delta"] is None and v["w_after"] is None
    assert np.isfinite(v["numeric"])  # the check needs only the weights and the batch
    assert "not computed yet in this pass (next: BP1)" in panel._summary.text()
    panel.show_neuron(snap, 4, 0)
    assert panel.values["delta"] is None and panel.values["z"] is not None
    s.step_phase()  # BP1: δ^4 is known, the gradients are not
    snap = snapshot_of(s)
    panel.show_neuron(snap, 4, 0)
    assert panel.values["delta"] == pytest.approx(np.mean(snap.trace.delta[3][:, 0]))
    assert panel.values["dC_db"] is None
    assert "next: BP2" in panel._summary.text()
    for _ in range(3):  # BP2 (l = 3), BP2 (l = 2), BP3 + BP4
        s.step_phase()
    snap = snapshot_of(s)
    panel.show_weight(snap, 3, 1, 2)
    assert panel.values["dC_dw"] == snap.trace.nabla_w[1][1, 2]
    assert "after (to come)" in panel._summary.text()
    assert panel.values["w_after"] == pytest.approx(
        snap.trace.weights[1][1, 2] - snap.trace.eta * snap.trace.nabla_w[1][1, 2]
    )


def test_before_any_batch_and_for_the_input_layer(panel):
    s = Session(blobs(), [5, 6, 3], seed=0)
    snap = snapshot_of(s)
    panel.show_weight(snap, 2, 1, 4)
    assert panel.values == {"w": snap.weights[0][1, 4]}
    assert "No mini-batch has been run yet" in panel._note.text()
    panel.show_neuron(snap, 2, 1)
    assert panel.values == {"b": snap.biases[0][1]}
    s.step_batch(record=True)
    snap = snapshot_of(s)
    panel.show_neuron(snap, 1, 3)
    assert panel.current_selection == ("n", 1, 3)
    assert np.array_equal(panel.values["per_example"]["a"], snap.trace.x[:, 3])
    assert panel._demon_box.isHidden()
    panel.show_weight(snap, 2, 9, 0)  # no such weight: says so, selects nothing
    assert panel.current_selection is None and "no weight" in panel._note.text()
    panel.clear()
    assert panel.current_selection is None and panel.values == {}


def test_the_demon_button_measures_the_cost_change(panel, mnist_sized):
    snap = mnist_sized
    t = snap.trace
    panel.show_neuron(snap, 2, 5)
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
    text = panel.findChild(QLabel, "demonResult").text()
    assert "observed ΔC" in text and "δ<sup>2</sup><sub>5</sub>" in text
