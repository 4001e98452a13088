"""The demon, saturation and the probed network, against independent computations."""

import numpy as np
import pytest

from bpstudio.core import ConfigError
from bpstudio.core.network import Network
from bpstudio.core.probe import (
    demon,
    mean_abs_incoming_gradient,
    network_from_trace,
    nudged_cost,
    saturation,
)
from bpstudio.core.session import Session
from tests.core import reference as ref
from tests.core.test_session import blobs

ACTIVATION_COSTS = [("sigmoid", "quadratic"), ("sigmoid", "cross-entropy"), ("tanh", "quadratic")]


def batch(network, m=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((m, network.sizes[0]))
    y = np.eye(network.sizes[-1])[rng.integers(0, network.sizes[-1], m)]
    return x, y


def recorded_trace(network, x, y, eta=1.0):
    """Every phase of one pass, recorded (the weights change; the trace keeps them before)."""
    p = network.begin_batch(x, y, eta, record=True)
    p.run_all()
    return p.trace()


def reference_deltas(network, x, y):
    """δ^l of each example from the reference's per-example backprop: (m, n_l) per l − 2."""
    w = [np.array(a) for a in network.weights]
    b = [np.array(a) for a in network.biases]
    per = [
        ref.backprop_one(w, b, xi[:, None], yi[:, None], network.activation.name, network.cost.name)
        for xi, yi in zip(x, y)
    ]
    return [np.stack([nb[i][:, 0] for nb, _ in per]) for i in range(len(w))]


def test_network_from_trace_has_the_weights_before_the_update():
    s = Session(blobs(), [5, 6, 3], activation="tanh", cost="quadratic", seed=2)
    w0 = [w.copy() for w in s.network.weights]
    s.step_batch(record=True)
    net = network_from_trace(s.trace())
    assert net.dtype == np.float64 and net.sizes == [5, 6, 3]
    assert net.activation.name == "tanh" and net.cost.name == "quadratic"
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, w0))
    assert not np.array_equal(net.weights[0], s.network.weights[0])


def test_network_from_an_unrecorded_trace_is_rebuilt_to_rounding():
    s = Session(blobs(), [5, 6, 3], seed=2, dtype=np.float32)
    w0 = [w.astype(np.float64) for w in s.network.weights]
    b0 = [b.astype(np.float64) for b in s.network.biases]
    s.step_batch(record=False)
    assert s.trace().weights is None
    net = network_from_trace(s.trace())
    assert net.dtype == np.float64
    for got, want in zip(net.weights + net.biases, w0 + b0):
        assert ref.rel_err(got, want) < 1e-5  # float32 rounding of w_after + η ∂C/∂w


@pytest.mark.parametrize(
    "activation, cost",
    [("sigmoid", "quadratic"), ("sigmoid", "cross-entropy"), ("tanh", "quadratic")],
)
@pytest.mark.parametrize("layer, j", [(2, 0), (2, 3), (3, 1), (4, 0)])
def test_the_demon_sees_delta_for_a_small_nudge(activation, cost, layer, j):
    net = Network([4, 5, 4, 3], activation, cost, seed=1)
    x, y = batch(net)
    r = demon(net, x, y, layer, j, 1e-4)
    want_delta = reference_deltas(net, x, y)[layer - 2][:, j].mean()
    assert r.delta_mean == pytest.approx(want_delta, rel=1e-10, abs=1e-15)
    assert abs(r.delta_mean) > 1e-4  # so that the comparison below measures something
    assert r.observed == pytest.approx(r.predicted, rel=1e-3)
    twice = demon(net, x, y, layer, j, 2e-4)  # first order: twice the nudge, twice the change
    assert twice.observed == pytest.approx(2 * r.observed, rel=2e-3)
    # Nudging both ways cancels the second-order term: what is left is δ Δz to O(Δz³).
    minus = demon(net, x, y, layer, j, -1e-4)
    assert (r.observed - minus.observed) / 2 == pytest.approx(r.predicted, rel=1e-6)


def test_a_large_nudge_leaves_the_linear_regime():
    net = Network([4, 5, 3], seed=1)
    x, y = batch(net)
    small = demon(net, x, y, 2, 1, 1e-4)
    large = demon(net, x, y, 2, 1, 8.0)
    assert large.predicted == pytest.approx(8.0 / 1e-4 * small.predicted, rel=1e-9)
    assert abs(large.observed - large.predicted) > 0.2 * abs(large.predicted)


def test_the_demon_does_not_change_the_network_and_checks_its_arguments():
    net = Network([4, 5, 3], seed=1)
    x, y = batch(net)
    before = net.parameters.copy()
    demon(net, x, y, 3, 0, 0.5)
    assert np.array_equal(net.parameters, before)
    assert nudged_cost(net, x, y, 2, 0, 0.0) == pytest.approx(net.total_cost(x, y), rel=1e-12)
    for layer, j in ((1, 0), (4, 0), (2, 5)):
        with pytest.raises(ConfigError):
            demon(net, x, y, layer, j, 0.1)


def crafted(activation="sigmoid"):
    """[3, 2, 2]: hidden neuron 0 has a huge bias; both hidden neurons are otherwise alike."""
    net = Network([3, 2, 2], activation, seed=0)
    net.weights[0][...] = [[0.5, -0.4, 0.3], [0.5, -0.4, 0.3]]
    net.biases[0][:, 0] = [8.0, 0.0]
    net.weights[1][...] = [[1.0, 1.0], [-1.0, -1.0]]
    net.biases[1][:, 0] = [0.1, -0.2]
    return net


def test_a_saturated_neuron_learns_slowly():
    net = crafted()
    x, y = batch(net, m=10, seed=3)
    t = recorded_trace(net, x, y)
    sat = saturation(t, "sigmoid")
    assert sat[0] is None and sat[2].shape == (2,)
    assert sat[1].tolist() == [True, False]
    grad = mean_abs_incoming_gradient(t)
    assert grad[0] is None
    assert grad[1][0] < 0.01 * grad[1][1]  # σ'(8) ≈ 3e-4 against σ'(0.2) ≈ 0.25
    want = np.abs(t.nabla_w[0]).mean(axis=1)
    assert np.allclose(grad[1], want, rtol=1e-14)


def test_saturation_per_activation():
    x, y = batch(crafted(), m=10, seed=3)
    tanh = saturation(recorded_trace(crafted("tanh"), x, y), "tanh")
    assert tanh[1].tolist() == [True, False]
    net = crafted("relu")
    net.biases[0][:, 0] = [-8.0, 0.5]  # neuron 0 is dead: z < 0 for every example in [0, 1]³
    relu = saturation(recorded_trace(net, x, y), "relu")
    assert relu[1].tolist() == [True, False]
    linear = saturation(recorded_trace(crafted("linear"), x, y), "linear")
    assert not linear[1].any() and not linear[2].any()
    # A threshold of 0 saturates nothing; one above every σ' saturates everything.
    t = recorded_trace(crafted(), x, y)
    assert not saturation(t, "sigmoid", threshold=0.0)[1].any()
    assert saturation(t, "sigmoid", threshold=1.01)[1].all()


def test_quantities_not_yet_computed_are_none():
    s = Session(blobs(), [5, 6, 4, 3], seed=0)
    s.step_phase()  # feedforward only
    t = s.trace()
    assert all(v is not None for v in saturation(t, "sigmoid")[1:])
    assert mean_abs_incoming_gradient(t) == (None, None, None, None)
