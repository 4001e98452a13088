"""Network.SGD, the book's training loop, against the per-example reference of tests/core/reference.

The reference replays the loop as the method documents it: every epoch draws
``rng.permutation(n)`` from a generator seeded the same way, and the book's update_mini_batch
(written out example by example in the reference) runs on consecutive slices of that order.
"""

import numpy as np
import pytest

from bpstudio.core import ConfigError, Network
from tests.core import reference as ref


def book_pairs(rng, sizes, n, one_hot=True):
    """n pairs in the book's form: (x column, one-hot y column) or (x column, int label)."""
    x = rng.random((n, sizes[0]))
    labels = rng.integers(0, sizes[-1], n)
    eye = np.eye(sizes[-1])
    if one_hot:
        return [(x[i].reshape(-1, 1), eye[labels[i]].reshape(-1, 1)) for i in range(n)]
    return [(x[i].reshape(-1, 1), int(labels[i])) for i in range(n)]


def reference_sgd(weights, biases, training, epochs, m, eta, rng, activation, cost):
    for _ in range(epochs):
        order = rng.permutation(len(training))
        shuffled = [training[i] for i in order]
        for start in range(0, len(shuffled), m):
            weights, biases = ref.update_mini_batch(
                weights, biases, shuffled[start : start + m], eta, activation, cost
            )
    return weights, biases


@pytest.mark.parametrize(
    "sizes, activation, cost, m",
    [
        ([4, 5, 3], "sigmoid", "quadratic", 3),
        ([6, 4, 4, 2], "tanh", "quadratic", 4),
        ([5, 6, 3], "sigmoid", "cross-entropy", 10),
    ],
)
def test_sgd_equals_the_per_example_reference_with_the_same_shuffles(sizes, activation, cost, m):
    rng = np.random.default_rng(11)
    training = book_pairs(rng, sizes, 23)  # 23 = not a multiple of m: a short last batch
    net = Network(sizes, activation, cost, seed=4)
    w0 = [w.copy() for w in net.weights]
    b0 = [b.copy() for b in net.biases]
    copy_of_list = list(training)
    results = net.SGD(training, 3, m, 0.7, rng=np.random.default_rng(5))
    want_w, want_b = reference_sgd(
        w0, b0, training, 3, m, 0.7, np.random.default_rng(5), activation, cost
    )
    assert results == [(0, None, None), (1, None, None), (2, None, None)]
    for got, want, before in zip(net.weights + net.biases, want_w + want_b, w0 + b0):
        assert ref.rel_err(got - before, want - before) <= 1e-12
        assert ref.rel_err(got, want) <= 1e-13
    assert all(a is b for a, b in zip(training, copy_of_list))  # the caller's order is kept


def test_other_shuffles_give_other_weights():
    # The comparison above can fail: a different shuffle lands elsewhere.
    rng = np.random.default_rng(0)
    training = book_pairs(rng, [4, 5, 3], 20)
    a, b = Network([4, 5, 3], seed=1), Network([4, 5, 3], seed=1)
    a.SGD(training, 1, 4, 1.0, rng=np.random.default_rng(1))
    b.SGD(training, 1, 4, 1.0, rng=np.random.default_rng(2))
    assert ref.rel_err(a.weights[0] - b.weights[0], a.weights[0]) > 1e-6


def test_default_generator_is_seed_zero_and_repeatable():
    rng = np.random.default_rng(3)
    training = book_pairs(rng, [4, 3, 2], 12)
    a, b, c = (Network([4, 3, 2], seed=2) for _ in range(3))
    a.SGD(training, 2, 5, 0.5)
    b.SGD(training, 2, 5, 0.5, rng=np.random.default_rng(0))
    c.SGD(training, 2, 5, 0.5)
    assert np.array_equal(a.parameters, b.parameters)
    assert np.array_equal(a.parameters, c.parameters)


def test_returns_the_count_correct_per_epoch_with_test_data():
    rng = np.random.default_rng(8)
    sizes = [4, 6, 3]
    training = book_pairs(rng, sizes, 30)
    test = book_pairs(rng, sizes, 17, one_hot=False)
    net = Network(sizes, seed=6)
    replay = Network(sizes, seed=6)
    results = net.SGD(training, 3, 5, 2.0, test_data=test, rng=np.random.default_rng(9))
    assert [r[0] for r in results] == [0, 1, 2]
    assert all(r[2] == 17 for r in results)
    # Each epoch's count, recomputed independently from the reference forward pass after the
    # same epoch of the same updates.
    shuffles = np.random.default_rng(9)
    w = [x.copy() for x in replay.weights]
    b = [x.copy() for x in replay.biases]
    for epoch in range(3):
        w, b = reference_sgd(w, b, training, 1, 5, 2.0, shuffles, "sigmoid", "quadratic")
        correct = 0
        for x, label in test:
            a = x
            for wl, bl in zip(w, b):
                a = ref.ACT["sigmoid"][0](wl @ a + bl)
            correct += int(np.argmax(a) == label)
        assert results[epoch][1] == correct


def test_zero_epochs_change_nothing():
    net = Network([3, 2], seed=0)
    before = net.parameters.copy()
    assert net.SGD(book_pairs(np.random.default_rng(0), [3, 2], 4), 0, 2, 1.0) == []
    assert np.array_equal(net.parameters, before)


@pytest.mark.parametrize(
    "epochs, m, eta, message",
    [
        (-1, 2, 1.0, "epochs"),
        (1.5, 2, 1.0, "epochs"),
        (1, 0, 1.0, "mini_batch_size"),
        (1, "ten", 1.0, "mini_batch_size"),
        (1, 2, 0.0, "eta"),
        (1, 2, float("nan"), "eta"),
        (1, 2, "fast", "eta"),
    ],
)
def test_bad_arguments_raise_config_errors_naming_them(epochs, m, eta, message):
    net = Network([3, 2], seed=0)
    with pytest.raises(ConfigError, match=message):
        net.SGD(book_pairs(np.random.default_rng(0), [3, 2], 4), epochs, m, eta)


def test_no_training_data_is_refused():
    with pytest.raises(ConfigError, match="at least one training pair"):
        Network([3, 2]).SGD([], 1, 1, 1.0)
