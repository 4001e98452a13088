"""Backprop against central finite differences (the chapter's check), for every σ × cost."""

import numpy as np
import pytest

from bpstudio.core import Cancelled, ConfigError, Network
from bpstudio.core.gradcheck import (
    Param,
    backprop_gradient,
    batch_cost,
    check_gradient,
    check_parameter,
    numeric_derivative,
)
from tests.core.test_network import ACTS, COSTS, batch_data, tame_for


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTS)
def test_backprop_agrees_with_finite_differences_everywhere(activation, cost):
    rng = np.random.default_rng(11)
    net = Network([6, 5, 4, 3], activation, cost, seed=4)
    x, y = batch_data(rng, net.sizes, 5)
    tame_for(net, activation, cost, x)
    before = [w.copy() for w in net.weights]
    result = check_gradient(net, x, y)
    assert len(result.params) == net.num_parameters == 6 * 5 + 5 * 4 + 4 * 3 + 5 + 4 + 3
    assert np.abs(result.backprop).max() > 1e-3  # a real gradient, not zeros on both sides
    assert result.max_relative_error <= 1e-6
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, before))


def test_finite_differences_catch_a_wrong_gradient():
    """The check can fail: a backprop with a wrong σ' is caught."""
    rng = np.random.default_rng(1)
    net = Network([4, 3, 2], seed=0)
    x, y = batch_data(rng, net.sizes, 3)
    good = check_gradient(net, x, y)
    from dataclasses import replace

    broken = replace(net.activation, prime_from_output=lambda z, a: a * (1.0 - a) * 1.01)
    net.activation = broken
    bad = check_gradient(net, x, y)
    assert good.max_relative_error <= 1e-6
    assert bad.max_relative_error > 1e-3


def test_single_weight_and_bias():
    rng = np.random.default_rng(3)
    net = Network([784, 30, 10], seed=2)
    x, y = batch_data(rng, net.sizes, 10)
    nabla_b, nabla_w = backprop_gradient(net, x, y)
    w = check_parameter(net, x, y, "w", 2, 7, 300)
    assert w.backprop == nabla_w[0][7, 300]
    assert w.relative_error <= 1e-6
    b = check_parameter(net, x, y, "b", 3, 4)
    assert b.backprop == nabla_b[1][4]
    assert b.relative_error <= 1e-6
    # Independent of both: the definition of the derivative, by hand, on a copy.
    c = net.copy()
    c.weights[0][7, 300] += 1e-6
    up = batch_cost(c, x, y)
    c.weights[0][7, 300] -= 2e-6
    down = batch_cost(c, x, y)
    assert (up - down) / 2e-6 == pytest.approx(w.numeric, rel=1e-4)


def test_numeric_derivative_restores_the_parameter_exactly():
    rng = np.random.default_rng(0)
    net = Network([3, 2, 2], seed=1)
    x, y = batch_data(rng, net.sizes, 2)
    original = net.weights[0].copy()
    numeric_derivative(net, x, y, Param("w", 2, 1, 2))
    assert np.array_equal(net.weights[0], original)


def test_sampled_check_and_speed_figures():
    rng = np.random.default_rng(5)
    net = Network([64, 16, 10], seed=3)
    x, y = batch_data(rng, net.sizes, 1)
    calls = []
    r = check_gradient(net, x, y, sample=300, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert len(r.params) == 300 and len(set(r.params)) == 300
    assert r.max_relative_error <= 1e-6
    assert r.total_parameters == net.num_parameters
    # The ratio is the two measured times' quotient (what the CLI and the dialog print).
    assert r.speed_ratio == pytest.approx(r.numeric_seconds_all / r.backprop_seconds)
    assert calls[-1] == (300, 300)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_cancel_stops_the_check():
    net = Network([64, 16, 10], seed=3)
    x, y = batch_data(np.random.default_rng(0), net.sizes, 1)
    with pytest.raises(Cancelled):
        check_gradient(net, x, y, should_cancel=lambda: True)


def test_bad_parameter_is_refused_clearly():
    net = Network([3, 2, 2], seed=1)
    x, y = batch_data(np.random.default_rng(0), net.sizes, 2)
    with pytest.raises(ConfigError, match="layer"):
        check_parameter(net, x, y, "w", 1, 0, 0)
    with pytest.raises(ConfigError, match="does not exist"):
        check_parameter(net, x, y, "w", 2, 5, 0)
