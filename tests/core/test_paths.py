"""The sum over paths (bpstudio.core.paths) against backprop, the reference and finite differences.

Tolerances, in float64 (unit roundoff u ≈ 1.1e-16):

* Backprop and the path sum add the same products in different orders. The rounding error of a
  sum of n terms is at most about n·u·Σ|terms|, so agreement is measured relative to
  ``scale = max(|∂C/∂w|, Σ_paths |product|)``: without cancellation that is the plain relative
  error; where positive and negative paths cancel (a gradient near zero), Σ|product| is the size
  of the numbers that were rounded, which is the absolute floor the comparison needs. 1e-12 of it
  leaves room for the ≤ 1,000 terms summed here.
* A central difference (C(w + ε) − C(w − ε)) / 2ε cannot reach 1e-12: its truncation error is
  about ε²|C'''|/6 and its rounding error about u|C|/ε. With ε = 1e-5 both are near 1e-11 for
  these costs (|C| ≲ 5), so it is compared to 1e-7 relative with an absolute floor of 1e-9, a
  hundred times that bound, for gradients near zero.
"""

import math

import numpy as np
import pytest

from bpstudio.core import ConfigError, Network
from bpstudio.core import paths as paths_module
from bpstudio.core.functions import ACTIVATIONS, COSTS
from bpstudio.core.gradcheck import Param, backprop_gradient, numeric_derivative
from bpstudio.core.paths import (
    path_count,
    path_edges,
    path_rates,
    top_paths,
    top_paths_mean,
    weight_paths,
)
from tests.core import reference as ref
from tests.core.test_network import tame_for

SIZES = [[2, 3, 3, 2], [4, 5, 4, 3, 2], [784, 30, 10]]
EPS = 1e-5


def example_net(sizes, activation, cost, m=1, seed=0):
    """A float64 network made well defined for its σ and cost (see tame_for), and m examples."""
    rng = np.random.default_rng(seed)
    net = Network(sizes, activation, cost, seed=seed + 1)
    x = rng.random((m, sizes[0])) * (0.1 if sizes[0] > 100 else 1.0)
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    tame_for(net, activation, cost, x)
    return net, x.T, y.T  # the book's columns


def weights_to_check(sizes, rng):
    """Every weight of a small network; for a big one, 4 per layer, corners included."""
    out = []
    for l in range(2, len(sizes) + 1):
        n, k = sizes[l - 1], sizes[l - 2]
        if n * k <= 30:
            out += [(l, j, kk) for j in range(n) for kk in range(k)]
        else:
            out += [(l, 0, 0), (l, n - 1, k - 1)]
            out += [(l, int(rng.integers(n)), int(rng.integers(k))) for _ in range(2)]
    return out


def assert_same_sum(total, want, products):
    scale = max(abs(want), float(np.sum(np.abs(products))))
    assert abs(total - want) <= 1e-12 * scale, (total, want, scale)


@pytest.mark.parametrize("cost", list(COSTS))
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
def test_sum_over_paths_is_backprop_and_a_finite_difference(sizes, activation, cost):
    net, x, y = example_net(sizes, activation, cost)
    _, nabla_w = net.backprop(x, y)
    _, fast_w = backprop_gradient(net, x.T, y.T)
    b_cols = [b.copy() for b in net.biases]
    _, ref_w = ref.backprop_one(net.weights, b_cols, x, y, activation, cost)
    nonzero = 0
    for l, j, k in weights_to_check(sizes, np.random.default_rng(len(sizes))):
        found = weight_paths(net, x, y, l, j, k)
        products = np.array([p.product for p in found])
        total = math.fsum(products)
        for want in (nabla_w[l - 2][j, k], fast_w[l - 2][j, k], ref_w[l - 2][j, k]):
            assert_same_sum(total, float(want), products)
        numeric = numeric_derivative(net, x.T, y.T, Param("w", l, j, k), eps=EPS)
        assert abs(total - numeric) <= 1e-7 * abs(total) + 1e-9, (l, j, k, total, numeric)
        nonzero += abs(total) > 1e-6
    assert nonzero > 0, "every gradient vanished: the check would be empty"


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
def test_count_and_shape_of_the_paths(sizes):
    net, x, y = example_net(sizes, "sigmoid", "quadratic")
    L = len(sizes)
    for l in range(2, L + 1):
        j, k = sizes[l - 1] - 1, sizes[l - 2] // 2
        found = weight_paths(net, x, y, l, j, k)
        want = int(np.prod(sizes[l:]))  # n_(l+1) ⋯ n_L
        assert len(found) == path_count(sizes, l) == want
        assert len({p.neurons for p in found}) == want  # every path once
        for p in found:
            assert p.neurons[0] == j and len(p.neurons) == L - l + 1
            assert all(0 <= i < sizes[q - 1] for q, i in zip(range(l, L + 1), p.neurons))
    # A weight into the output layer has exactly one path, through its own neuron.
    (only,) = weight_paths(net, x, y, L, 1, 0)
    assert only.neurons == (1,)


def test_a_path_product_is_the_product_of_its_rates():
    sizes = [4, 5, 4, 3, 2]
    net, x, y = example_net(sizes, "tanh", "cross-entropy")
    rates = path_rates(net, x, y, 2, 3, 1)
    z, a = [None], [x.T]
    for w, b in zip(net.weights, net.biases):  # an independent forward pass
        z.append(a[-1] @ w.T + b.T)
        a.append(np.tanh(z[-1]))
    for p in weight_paths(net, x, y, 2, 3, 1):
        f = rates.factors(p.neurons)[0]
        neurons = p.neurons
        assert f[0] == pytest.approx((1 - a[1][0, 3] ** 2) * x[1, 0], rel=1e-14)
        for q, (h, i) in enumerate(zip(neurons[:-1], neurons[1:]), start=3):
            want = (1 - a[q - 1][0, i] ** 2) * net.weights[q - 2][i, h]
            assert f[q - 2] == pytest.approx(want, rel=1e-14)
        m, out = neurons[-1], a[-1][0, neurons[-1]]
        assert f[-1] == pytest.approx((out - y[m, 0]) / (out * (1 - out)), rel=1e-14)
        assert p.product == pytest.approx(np.prod(f), rel=1e-13, abs=1e-300)


def test_saturated_sigmoid_outputs_with_cross_entropy_stay_finite():
    # a^L rounds to exactly 1.0 with y = 1: ∂C/∂a = 0/0 is NaN, but δ^L = a − y = 0 is exact,
    # and the products use δ^L as backprop does.
    net = Network([3, 4, 2], "sigmoid", "cross-entropy", seed=0)
    net.biases[-1][:] = 40.0
    x, y = np.full((3, 1), 0.5), np.array([[1.0], [0.0]])
    rates = path_rates(net, x, y, 2, 1, 2)
    assert np.isnan(rates.cost_gradient[0, 0]) and np.isinf(rates.cost_gradient[0, 1])
    found = weight_paths(net, x, y, 2, 1, 2)
    assert all(np.isfinite(p.product) for p in found)
    products = np.array([p.product for p in found])
    assert_same_sum(math.fsum(products), float(net.backprop(x, y)[1][0][1, 2]), products)


def test_top_paths_lists_the_largest_and_sums_the_rest():
    sizes = [784, 300, 100, 10]
    net, x, y = example_net(sizes, "sigmoid", "quadratic")
    l, j, k = 2, 17, 400
    every = weight_paths(net, x, y, l, j, k)
    top = top_paths(net, x, y, l, j, k, limit=100)
    assert top.count == len(every) == 1000
    assert len(top.paths) == 100
    ranked = sorted(every, key=lambda p: -abs(p.product))
    assert [abs(p.product) for p in top.paths] == [abs(p.product) for p in ranked[:100]]
    listed = {p.neurons for p in top.paths}
    by_neurons = {p.neurons: p.product for p in every}
    assert all(by_neurons[p.neurons] == p.product for p in top.paths)
    rest = [p.product for p in every if p.neurons not in listed]
    assert top.rest_sum == pytest.approx(math.fsum(rest), rel=1e-12, abs=1e-12 * top.total)
    products = np.array(list(by_neurons.values()))
    assert_same_sum(top.total, float(net.backprop(x, y)[1][0][j, k]), products)
    # Asking for more than there are lists them all and leaves nothing over.
    whole = top_paths(net, x, y, 3, 5, 7, limit=100)
    assert (len(whole.paths), whole.rest_sum, whole.count) == (10, 0.0, 10)


@pytest.mark.parametrize("block", [paths_module.BLOCK, 7])
def test_batch_mean_of_the_path_sums_is_the_batch_gradient(monkeypatch, block):
    # block = 7 forces the mean to be gathered over many slices of examples.
    monkeypatch.setattr(paths_module, "BLOCK", block)
    sizes = [4, 5, 4, 3, 2]
    net, x, y = example_net(sizes, "sigmoid", "cross-entropy", m=9, seed=3)
    _, batch_w = backprop_gradient(net, x.T, y.T)
    for l, j, k in [(2, 4, 0), (3, 1, 2), (5, 0, 2)]:
        result = top_paths_mean(net, x, y, l, j, k, limit=5)
        per_example = [weight_paths(net, x[:, [i]], y[:, [i]], l, j, k) for i in range(9)]
        mean = np.mean([[p.product for p in ps] for ps in per_example], axis=0)
        assert result.count == len(mean) == path_count(sizes, l)
        for p in result.paths:
            index = [q.neurons for q in per_example[0]].index(p.neurons)
            assert p.product == pytest.approx(mean[index], rel=1e-13, abs=1e-300)
        assert_same_sum(result.total, float(batch_w[l - 2][j, k]), mean)
        # One path_rates over the batch ranks each example's paths as top_paths does on its own.
        rates = path_rates(net, x, y, l, j, k)
        for i in (0, 8):
            alone = top_paths(net, x[:, [i]], y[:, [i]], l, j, k, limit=5)
            mine = rates.top(5, example=i)
            assert [p.neurons for p in mine.paths] == [p.neurons for p in alone.paths]
            assert mine.total == pytest.approx(alone.total, rel=1e-14, abs=1e-300)
        sums = [math.fsum(p.product for p in ps) for ps in per_example]
        assert_same_sum(float(np.mean(sums)), float(batch_w[l - 2][j, k]), mean)


def test_path_edges_hold_every_edge_of_every_path():
    sizes = [4, 5, 4, 3, 2]
    l, j, k = 2, 3, 1
    edges = path_edges(sizes, l, j, k)
    assert edges[0] == (2, 3, 1)
    assert edges[1:6] == [(3, i, 3) for i in range(4)] + [(4, 0, 0)]
    assert len(edges) == len(set(edges)) == 1 + 4 + 3 * 4 + 2 * 3
    net, x, y = example_net(sizes, "sigmoid", "quadratic")
    used = set()
    for p in weight_paths(net, x, y, l, j, k):
        layers = range(l + 1, len(sizes) + 1)
        used |= {(q, i, h) for q, h, i in zip(layers, p.neurons[:-1], p.neurons[1:])}
    assert used | {(l, j, k)} == set(edges)
    assert path_edges(sizes, 5, 1, 2) == [(5, 1, 2)]


def test_user_errors_are_config_errors():
    net, x, y = example_net([4, 5, 3], "sigmoid", "quadratic", m=2)
    with pytest.raises(ConfigError, match="one example"):
        weight_paths(net, x, y, 2, 0, 0)
    with pytest.raises(ConfigError, match="not a weight"):
        weight_paths(net, x[:, :1], y[:, :1], 2, 5, 0)
    with pytest.raises(ConfigError, match="not a weight"):
        path_edges([4, 5, 3], 1, 0, 0)
    with pytest.raises(ConfigError, match="shape"):
        top_paths_mean(net, x[:3], y, 2, 0, 0)
    with pytest.raises(ConfigError, match="example must be from 0 to 1"):
        path_rates(net, x, y, 2, 0, 0).top(example=2)
    with pytest.raises(ConfigError, match="0 or more"):
        top_paths(net, x[:, :1], y[:, :1], 2, 0, 0, limit=-1)


def test_too_many_paths_are_refused_with_a_message(monkeypatch):
    monkeypatch.setattr(paths_module, "MAX_PATHS", 20)
    net, x, y = example_net([4, 5, 4, 3, 2], "sigmoid", "quadratic")
    with pytest.raises(ConfigError, match="24 paths"):
        top_paths(net, x, y, 2, 0, 0)
    assert top_paths(net, x, y, 3, 0, 0).count == 6


def test_a_real_mnist_digit_at_784_30_10(mnist_folder):
    from bpstudio.core.data.mnist import load_mnist_idx

    test = load_mnist_idx(mnist_folder).test
    x = test.x[:1].T  # the first test image as the book's column
    y = np.eye(10)[test.y[:1]].T
    net = Network([784, 30, 10], seed=0)  # the book's initialisation
    _, nabla_w = net.backprop(x, y)
    for l, j, k in [(2, 0, 300), (2, 29, 400), (3, 7, 12), (3, int(test.y[0]), 29)]:
        found = weight_paths(net, x, y, l, j, k)
        products = np.array([p.product for p in found])
        total = math.fsum(products)
        assert_same_sum(total, float(nabla_w[l - 2][j, k]), products)
        numeric = numeric_derivative(net, x.T, y.T, Param("w", l, j, k), eps=EPS)
        assert abs(total - numeric) <= 1e-7 * abs(total) + 1e-9


def test_check_paths_of_a_recorded_pass():
    from bpstudio.core.paths import check_paths
    from bpstudio.core.session import Session
    from tests.core.test_session import blobs

    session = Session(blobs(d=4, classes=2), [4, 5, 4, 3, 2], seed=2, evaluate=False)
    session.step_batch(record=True)
    trace = session.trace()
    check = check_paths(trace, 3, 2, 4, example=3, limit=4)
    want = float(trace.nabla_w[1][2, 4])
    assert check.count == 6 and len(check.top_mean.paths) == 4
    assert abs(check.mean_sum - want) <= 1e-12 * abs(want)
    assert abs(check.mean_numeric - want) <= 1e-7 * abs(want) + 1e-9
    w = [np.array(a) for a in trace.weights]
    b = [np.reshape(v, (-1, 1)) for v in trace.biases]
    x, y = trace.x[3:4].T, trace.y[3:4].T
    one = float(ref.backprop_one(w, b, x, y, "sigmoid", "quadratic")[1][1][2, 4])
    assert check.example_sum == pytest.approx(one, rel=1e-12)
    assert check.example_backprop == pytest.approx(one, rel=1e-12)
    assert abs(check.example_numeric - one) <= 1e-7 * abs(one) + 1e-9
