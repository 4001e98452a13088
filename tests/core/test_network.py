"""The matrix-based fast path against the book's per-example algorithm, and the book's API."""

import numpy as np
import pytest

from bpstudio.core import ConfigError, Network
from tests.core import reference as ref

ACTS = ["sigmoid", "tanh", "relu", "linear"]
COSTS = ["quadratic", "cross-entropy"]


def batch_data(rng, sizes, m):
    x = rng.random((m, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    return x, y


def tame_for(net, activation, cost, x):
    """Scale the parameters so every pair of σ and cost is well defined and off its kinks.

    ReLU hidden neurons get positive biases so that they are alive. Cross-entropy needs outputs
    in (0, 1): the last layer's weights are scaled so that |w^L a^(L−1)| ≤ 0.3 on this batch and
    its bias set to 0.5, so z^L lies in [0.2, 0.8] where all four σ give values in (0, 1).
    """
    if activation in ("relu", "linear"):
        net.weights = [w * 0.3 for w in net.weights]
    if activation == "relu":
        net.biases[:-1] = [np.abs(b) + 0.5 for b in net.biases[:-1]]
    if cost == "cross-entropy":
        a = x.T
        for w, b in zip(net.weights[:-1], net.biases[:-1]):
            a = net.activation.fn(w @ a + b)
        reach = float(np.max(np.abs(net.weights[-1] @ a)))
        net.weights[-1] = net.weights[-1] * (0.3 / reach)
        net.biases[-1] = np.full_like(net.biases[-1], 0.5)


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("sizes", [[4, 3, 2], [6, 5, 4, 3], [784, 30, 10]])
def test_matrix_update_equals_per_example_reference(sizes, activation, cost):
    rng = np.random.default_rng(7)
    net = Network(sizes, activation, cost, seed=3)
    x, y = batch_data(rng, sizes, 10)
    tame_for(net, activation, cost, x)
    w0 = [w.copy() for w in net.weights]
    b0 = [b.copy() for b in net.biases]
    batch = [(x[i].reshape(-1, 1), y[i].reshape(-1, 1)) for i in range(len(x))]
    expect_w, expect_b = ref.update_mini_batch(w0, b0, batch, 3.0, activation, cost)
    net.update_mini_batch(batch, 3.0)
    for got, want, before in zip(net.weights + net.biases, expect_w + expect_b, w0 + b0):
        assert not np.array_equal(got, before)  # the update did something
        assert ref.rel_err(got, want) <= 1e-12
        # The step itself, not only the weights it lands on, agrees to 1e-12 relative.
        assert ref.rel_err(got - before, want - before) <= 1e-12


def test_train_batch_returns_mean_cost_and_matches_reference():
    rng = np.random.default_rng(0)
    net = Network([5, 4, 3], seed=1)
    x, y = batch_data(rng, net.sizes, 7)
    want = ref.batch_cost(net.weights, net.biases, x, y, "sigmoid", "quadratic")
    assert net.train_batch(x, y, 0.5) == pytest.approx(want, rel=1e-12)


def test_backprop_single_example_matches_reference():
    rng = np.random.default_rng(2)
    net = Network([5, 4, 4, 3], "tanh", seed=9)
    x, y = batch_data(rng, net.sizes, 1)
    nb, nw = net.backprop(x.T, y.T)
    rb, rw = ref.backprop_one(net.weights, net.biases, x.T, y.T, "tanh", "quadratic")
    for got, want in zip(nb + nw, rb + rw):
        assert got.shape == want.shape
        assert ref.rel_err(got, want) <= 1e-12


def test_shapes_and_book_initialisation():
    net = Network([784, 30, 10], seed=5)
    assert net.num_layers == 3
    assert [w.shape for w in net.weights] == [(30, 784), (10, 30)]
    assert [b.shape for b in net.biases] == [(30, 1), (10, 1)]
    # The book's order: biases first, then weights, all standard normal from one generator.
    rng = np.random.default_rng(5)
    b1, b2 = rng.standard_normal((30, 1)), rng.standard_normal((10, 1))
    w1 = rng.standard_normal((30, 784))
    assert np.array_equal(net.biases[0], b1) and np.array_equal(net.biases[1], b2)
    assert np.array_equal(net.weights[0], w1)
    assert abs(float(net.weights[0].std()) - 1.0) < 0.02


def test_feedforward_and_evaluate_in_the_books_terms():
    net = Network([3, 4, 2], seed=0)
    x = np.array([[0.1], [0.5], [0.9]])
    a = x
    for w, b in zip(net.weights, net.biases):
        a = 1.0 / (1.0 + np.exp(-(w @ a + b)))
    assert np.allclose(net.feedforward(x), a, rtol=1e-14, atol=0)
    label = int(np.argmax(a))
    assert net.evaluate([(x, label), (x, 1 - label)]) == 1
    assert net.evaluate([(x, np.eye(2)[label].reshape(-1, 1))]) == 1


def test_assigning_new_arrays_takes_effect():
    net = Network([3, 2, 2], seed=0)
    x = np.array([[0.2, 0.4, 0.6]])
    y = np.array([[1.0, 0.0]])
    net.weights[0] = np.zeros((2, 3))
    net.biases[0] = [[0.0], [0.0]]  # a nested list is adopted too
    net.biases[1] = np.zeros((2, 1))
    w2 = net.weights[1].copy()
    want = 1.0 / (1.0 + np.exp(-(w2 @ np.full((2, 1), 0.5))))  # hidden a = σ(0) = 0.5
    assert np.allclose(net.feedforward(x.T), want, rtol=1e-14, atol=0)
    net.train_batch(x, y, 1.0)
    assert isinstance(net.biases[0], np.ndarray)
    # Both hidden activations were exactly 0.5, so by BP4 each output neuron's two incoming
    # weights moved by the same amount: the assigned zeros were really used.
    step = w2 - net.weights[1]
    assert np.all(step != 0)
    assert np.allclose(step[:, 0], step[:, 1], rtol=1e-12, atol=0)
    net.weights[0] = np.zeros((3, 3))
    with pytest.raises(ConfigError, match="shape"):
        net.train_batch(x, y, 1.0)


def test_float32_option_trains_close_to_float64():
    rng = np.random.default_rng(4)
    n64 = Network([20, 10, 5], seed=2)
    n32 = n64.as_dtype(np.float32)
    x, y = batch_data(rng, n64.sizes, 16)
    for _ in range(5):
        n64.train_batch(x, y, 1.0)
        n32.train_batch(x.astype(np.float32), y.astype(np.float32), 1.0)
    assert n32.weights[0].dtype == np.float32
    assert np.allclose(n32.weights[0], n64.weights[0], atol=1e-4)


@pytest.mark.parametrize("bad", [[5], [3, 0, 2], [3, -1], ["a", 2], [2.5, 3]])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ConfigError):
        Network(bad)


def test_unknown_activation_and_cost_are_refused():
    with pytest.raises(ConfigError, match="sigmoid"):
        Network([2, 2], activation="swish")
    with pytest.raises(ConfigError, match="quadratic"):
        Network([2, 2], cost="hinge")
