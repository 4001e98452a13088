"""region_grid and region_colors against a feedforward computed point by point."""

import numpy as np
import pytest

from bpstudio.core.errors import ConfigError
from bpstudio.core.network import Network
from bpstudio.core.regions import (
    TINT_MAX,
    TINT_MIN,
    grid_coordinates,
    network_from_parameters,
    region_colors,
    region_grid,
)

PALETTE = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44]], dtype=np.uint8)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_grid_is_the_feedforward_at_each_cell_centre(activation):
    net = Network([2, 5, 4, 3], activation, seed=3)
    bounds = (-1.0, 2.0, 0.5, 1.5)
    grid = region_grid(net, bounds, n=7)
    xs, ys = grid_coordinates(bounds, 7)
    assert grid.shape == (7, 7, 3)
    for i in (0, 3, 6):
        for j in (0, 2, 6):
            column = net.feedforward(np.array([[xs[j]], [ys[i]]]))
            assert np.allclose(grid[i, j], column[:, 0], rtol=1e-12, atol=1e-15)


def test_cell_centres_and_orientation():
    xs, ys = grid_coordinates((0, 1, 0, 1), 4)
    assert np.allclose(xs, [0.125, 0.375, 0.625, 0.875])
    assert np.allclose(ys, [0.875, 0.625, 0.375, 0.125])  # row 0 is the top


def test_hidden_layer_activations():
    net = Network([2, 6, 3], "sigmoid", seed=1)
    hidden = region_grid(net, n=5, layer=2)
    xs, ys = grid_coordinates(n=5)
    w, b = net.weights[0], net.biases[0][:, 0]
    expected = 1.0 / (1.0 + np.exp(-(w @ [xs[1], ys[4]] + b)))
    assert np.allclose(hidden[4, 1], expected)
    with pytest.raises(ConfigError, match="layer must be"):
        region_grid(net, layer=4)
    with pytest.raises(ConfigError, match="2 inputs"):
        region_grid(Network([3, 2]))


def test_network_from_parameters_copies():
    net = Network([2, 3, 2], seed=5)
    biases = [b[:, 0].copy() for b in net.biases]
    copy = network_from_parameters(net.sizes, "sigmoid", "quadratic", net.weights, biases)
    x = np.array([[0.3], [0.7]])
    assert np.array_equal(copy.feedforward(x), net.feedforward(x))
    copy.weights[0][0, 0] += 1.0
    assert not np.array_equal(copy.feedforward(x), net.feedforward(x))


def test_network_from_parameters_refills_a_network_of_the_same_kind():
    a, b = Network([2, 3, 2], seed=5), Network([2, 3, 2], seed=6)
    x = np.array([[0.3], [0.7]])
    view = network_from_parameters(a.sizes, "sigmoid", "quadratic", a.weights, a.biases)
    again = network_from_parameters(b.sizes, "sigmoid", "quadratic", b.weights, b.biases, view)
    assert again is view and np.array_equal(again.feedforward(x), b.feedforward(x))
    for other in (([2, 4, 2], "sigmoid"), ([2, 3, 2], "tanh")):
        c = Network(other[0], other[1], seed=7)
        new = network_from_parameters(c.sizes, other[1], "quadratic", c.weights, c.biases, view)
        assert new is not view and np.array_equal(new.feedforward(x), c.feedforward(x))


def test_colours_are_the_winner_lighter_where_less_sure():
    outputs = np.array([[[0.9, 0.1, 0.0], [0.2, 0.45, 0.45], [0.1, 0.3, 0.8]]])
    rgb = region_colors(outputs, PALETTE)
    assert rgb.shape == (1, 3, 3) and rgb.dtype == np.uint8

    def tinted(c, margin):
        t = TINT_MIN + (TINT_MAX - TINT_MIN) * margin
        return np.rint(255 - t * (255 - PALETTE[c].astype(float)))

    assert np.array_equal(rgb[0, 0], tinted(0, 0.8))
    assert np.array_equal(rgb[0, 1], tinted(1, 0.0))  # a tie: argmax's first, faintest tint
    assert np.array_equal(rgb[0, 2], tinted(2, 0.5))
    # Less sure is lighter (closer to white).
    assert rgb[0, 1].astype(int).sum() > tinted(1, 0.5).sum()


def test_one_output_uses_a_diverging_table():
    table = np.stack([np.arange(5) * 60, np.zeros(5), 255 - np.arange(5) * 60], axis=1)
    outputs = np.array([[[0.0], [0.5], [1.0], [7.0]]])
    rgb = region_colors(outputs, table.astype(np.uint8))
    assert np.array_equal(rgb[0, :, 0], [0, 120, 240, 240])
    rgb = region_colors(outputs, table.astype(np.uint8), low=-1.0, high=1.0)
    assert np.array_equal(rgb[0, :, 0], [120, 180, 240, 240])
