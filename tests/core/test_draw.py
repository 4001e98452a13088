"""preprocess_stroke: a drawing becomes an input made as MNIST's (or the 8×8 digits') were."""

import numpy as np
import pytest

from bpstudio.core.data import load_digits
from bpstudio.core.draw import (
    area_resample,
    centre_of_mass,
    preprocess_stroke,
    target_for,
    trace_input,
)
from bpstudio.core.errors import ConfigError
from bpstudio.core.network import Network


def bounding_box(image):
    rows, cols = np.nonzero(image > 0)
    return rows.min(), rows.max(), cols.min(), cols.max()


def seven(canvas=280):
    """A '7': a bar on top and a slanted stroke, with soft (anti-aliased) edges."""
    img = np.zeros((canvas, canvas))
    img[50:70, 60:220] = 1.0
    for r in range(70, 250):
        c = int(220 - (r - 70) * 0.5)
        img[r, c - 10 : c + 10] = 1.0
    img[49, 60:220] = 0.3  # a faint edge row counts as ink
    return img


def test_mnist_box_is_20_on_the_long_side_and_centred_by_mass():
    x = preprocess_stroke(seven(), "mnist")
    assert x.shape == (784,)
    image = x.reshape(28, 28)
    r0, r1, c0, c1 = bounding_box(image)
    assert max(r1 - r0 + 1, c1 - c0 + 1) == 20
    row, col = centre_of_mass(image)
    assert abs(row - 13.5) <= 0.5 and abs(col - 13.5) <= 0.5
    assert image.min() >= 0.0 and image.max() == pytest.approx(1.0)


def test_aspect_ratio_is_kept():
    img = np.zeros((300, 300))
    img[30:270, 120:180] = 1.0  # 240 tall, 60 wide: 20 × 5 after scaling
    image = preprocess_stroke(img).reshape(28, 28)
    r0, r1, c0, c1 = bounding_box(image)
    assert (r1 - r0 + 1, c1 - c0 + 1) == (20, 5)
    # A full rectangle of ink stays full: the interior is all ink.
    assert np.allclose(image[r0 : r1 + 1, c0 : c1 + 1], 1.0)


def test_grey_levels_are_the_covered_fraction():
    # 30 px of ink in a 40 px wide canvas column set, scaled by 20/40: half-covered pixels.
    img = np.zeros((40, 40))
    img[:, :] = 0.0
    img[0:40, 0:39] = 1.0
    img[0:40, 39] = 0.5
    small = area_resample(img, (20, 20))
    assert np.allclose(small[:, :19], 1.0)
    assert np.allclose(small[:, 19], 0.75)


def test_digits_target_fills_the_frame_on_the_0_to_16_scale():
    x = preprocess_stroke(seven(), "digits")
    assert x.shape == (64,)
    image = x.reshape(8, 8)
    r0, r1, c0, c1 = bounding_box(image)
    assert max(r1 - r0 + 1, c1 - c0 + 1) == 8
    # The loader divides counts 0..16 by 16: every value is such a count divided by 16.
    assert np.allclose(image * 16, np.rint(image * 16))
    digits = load_digits().train.x
    assert np.allclose(digits * 16, np.rint(digits * 16))  # (the same scale as the data set)


def test_an_l_shape_is_centred_by_mass_not_by_its_box():
    img = np.zeros((200, 200))
    img[20:180, 20:50] = 1.0  # the upright
    img[150:180, 20:120] = 1.0  # the foot: the mass lies low and left of the box's centre
    image = preprocess_stroke(img).reshape(28, 28)
    row, col = centre_of_mass(image)
    assert abs(row - 13.5) <= 0.5 and abs(col - 13.5) <= 0.5
    r0, r1, c0, c1 = bounding_box(image)
    assert (r0 + r1) / 2 < 13.5 and (c0 + c1) / 2 > 13.5  # so the box is off centre


def test_ink_is_never_pushed_out_of_the_field():
    img = np.zeros((200, 200))
    img[20:180, 20:40] = 1.0  # a heavy left column
    img[20:24, 20:180] = 0.05 + 1e-3  # and a long, barely visible bar
    image = preprocess_stroke(img).reshape(28, 28)
    r0, r1, c0, c1 = bounding_box(image)
    assert c1 - c0 + 1 == 20 and c0 >= 0 and c1 <= 27  # the whole box is kept


def test_no_ink_gives_zeros_and_bad_input_is_refused():
    assert not preprocess_stroke(np.zeros((50, 50))).any()
    with pytest.raises(ConfigError, match="unknown digit target"):
        preprocess_stroke(np.zeros((5, 5)), "emnist")
    with pytest.raises(ConfigError, match="2-D"):
        preprocess_stroke(np.zeros(5))


def test_target_for_image_shapes():
    assert target_for((28, 28)) == "mnist"
    assert target_for((8, 8)) == "digits"
    assert target_for(None) is None


@pytest.mark.parametrize(
    "activation, cost",
    [("sigmoid", "quadratic"), ("tanh", "quadratic"), ("sigmoid", "cross-entropy")],
)
def test_trace_input_is_the_books_backprop_of_that_input(activation, cost):
    net = Network([784, 12, 10], activation, cost, seed=4)
    before = [w.copy() for w in net.weights]
    x = preprocess_stroke(seven())
    trace = trace_input(net, x, 7, eta=3.0)
    nabla_b, nabla_w = net.backprop(x.reshape(-1, 1), np.eye(10)[7].reshape(-1, 1))
    for l in (2, 3):
        assert np.allclose(trace.nabla_w[l - 2], nabla_w[l - 2], rtol=1e-12, atol=1e-15)
        assert np.allclose(trace.nabla_b[l - 2], nabla_b[l - 2][:, 0], rtol=1e-12, atol=1e-15)
        assert np.allclose(trace.delta[l - 1][0], nabla_b[l - 2][:, 0], rtol=1e-12, atol=1e-15)
    assert np.allclose(trace.a[2][0], net.feedforward(x.reshape(-1, 1))[:, 0])
    assert trace.next_phase.kind == "update" and trace.batch_size == 1
    assert all(np.array_equal(w, b) for w, b in zip(net.weights, before))
    assert all(np.array_equal(w, b) for w, b in zip(trace.weights, before))
    with pytest.raises(ConfigError, match="label"):
        trace_input(net, x, 10)
