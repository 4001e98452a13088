"""The training session: phases equal batches bit for bit, determinism, divergence, history."""

import numpy as np
import pytest

from bpstudio.core import ConfigError, DivergenceError
from bpstudio.core.data import Dataset, DataSplits
from bpstudio.core.session import Session
from tests.core import reference as ref


def blobs(n=103, d=5, classes=3, seed=0):
    """A small separable data set; 103 examples so the last mini-batch of an epoch is short."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centres = rng.random((classes, d))
    x = np.clip(centres[y] + 0.05 * rng.standard_normal((n, d)), 0, 1)
    parts = [
        Dataset(f"blobs/{s}", x[a:b], y[a:b], classes)
        for s, a, b in (("train", 0, n), ("validation", 0, 40), ("test", 40, 80))
    ]
    return DataSplits("blobs", *parts)


def params(session):
    net = session.network
    return [w.copy() for w in net.weights] + [b.copy() for b in net.biases]


def test_every_phase_in_turn_equals_step_batch_bit_for_bit():
    data = blobs()
    a = Session(data, [5, 6, 4, 3], seed=3, eta=2.0, mini_batch_size=7)
    b = Session(data, [5, 6, 4, 3], seed=3, eta=2.0, mini_batch_size=7)
    kinds = []
    for _ in range(20):  # crosses an epoch boundary (103 / 7 → 15 batches per epoch)
        a.step_batch()
        result = None
        while result is None:
            phase, result = b.step_phase()
            kinds.append((phase.kind, phase.layer))
        assert all(np.array_equal(p, q) for p, q in zip(params(a), params(b)))
    assert a.history.batch_costs == b.history.batch_costs
    assert kinds[:6] == [
        ("feedforward", None),
        ("output_error", 4),
        ("backpropagate", 3),
        ("backpropagate", 2),
        ("gradients", None),
        ("update", None),
    ]


def test_a_batch_is_the_books_update_on_the_shuffled_examples():
    data = blobs()
    s = Session(data, [5, 4, 3], seed=1, eta=3.0, mini_batch_size=10)
    w0, b0 = [w.copy() for w in s.network.weights], [b.copy() for b in s.network.biases]
    s.step_batch(record=True)
    t = s.trace()
    batch = [
        (data.train.x[i].reshape(-1, 1), np.eye(3)[data.train.y[i]].reshape(-1, 1))
        for i in t.indices
    ]
    want_w, want_b = ref.update_mini_batch(w0, b0, batch, 3.0)
    for got, want in zip(s.network.weights + s.network.biases, want_w + want_b):
        assert ref.rel_err(got, want) <= 1e-12
    assert len(set(t.indices.tolist())) == 10
    assert np.array_equal(t.weights[0], w0[0]) and np.array_equal(
        t.weights_after[0], s.network.weights[0]
    )


def test_phases_expose_only_what_has_been_computed():
    s = Session(blobs(), [5, 6, 4, 3], seed=0)
    assert s.next_phase.kind == "feedforward"
    s.step_phase()
    t = s.trace()
    assert t.z[1] is not None and t.a[3] is not None and t.delta[3] is None
    assert t.nabla_w[0] is None and t.weights_after is None
    s.step_phase()  # BP1
    t = s.trace()
    assert t.delta[3] is not None and t.delta[2] is None
    s.step_phase()  # BP2 for l = 3
    assert s.trace().delta[2] is not None and s.trace().delta[1] is None
    s.step_phase()  # BP2 for l = 2
    s.step_phase()  # BP3, BP4
    t = s.trace()
    # BP3: ∂C/∂b^l_j is δ^l_j (averaged over the batch); BP4: a^(l−1)_k δ^l_j.
    assert np.allclose(t.nabla_b[1], t.delta[2].mean(axis=0), rtol=1e-14)
    assert np.allclose(t.nabla_w[0], t.delta[1].T @ t.a[0] / t.batch_size, rtol=1e-13)
    assert not t.x.flags.writeable and not t.delta[1].flags.writeable
    s.step_phase()  # update
    assert s.trace().weights_after is not None and not s.in_pass


def test_same_seed_same_weights_other_seed_other_weights():
    data = blobs()
    runs = []
    for seed in (5, 5, 6):
        s = Session(data, [5, 8, 3], seed=seed, mini_batch_size=4)
        for _ in range(37):
            s.step_batch()
        runs.append(params(s))
    assert all(np.array_equal(p, q) for p, q in zip(runs[0], runs[1]))
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_reset_restores_the_seeded_start():
    s = Session(blobs(), [5, 8, 3], seed=2)
    start = params(s)
    for _ in range(5):
        s.step_batch()
    s.reset()
    assert all(np.array_equal(p, q) for p, q in zip(start, params(s)))
    assert s.batches_done == 0 and s.history.batch_costs == []


def test_history_and_epochs():
    s = Session(blobs(), [5, 8, 3], seed=0, mini_batch_size=10, eta=3.0)
    results = [s.step_batch() for _ in range(11 * 3)]  # 103 examples: 11 batches per epoch
    assert [r.size for r in results[:11]] == [10] * 10 + [3]
    assert [r.epoch_record is not None for r in results].count(True) == 3
    assert [e.epoch for e in s.history.epochs] == [0, 1, 2]
    assert len(s.history.batch_costs) == 33 and s.examples_seen == 309
    assert s.history.epochs[-1].validation_accuracy > 0.9
    assert s.history.batch_costs[-1] < s.history.batch_costs[0]


def test_hyperparameters_change_between_batches():
    s = Session(blobs(), [5, 8, 3], seed=0, mini_batch_size=10)
    s.step_batch()
    s.set_hyperparameters(eta=0.5, mini_batch_size=4, activation="tanh")
    r = s.step_batch(record=True)
    t = s.trace()
    assert r.size == 4 and t.eta == 0.5 and t.activation == "tanh"
    s.set_hyperparameters(activation="sigmoid", cost="cross-entropy")
    s.step_batch(record=True)
    assert s.trace().cost == "cross-entropy" and s.trace().activation == "sigmoid"
    with pytest.raises(ConfigError):
        s.set_hyperparameters(eta=-1)
    with pytest.raises(ConfigError):
        s.set_hyperparameters(mini_batch_size=0)
    with pytest.raises(ConfigError):
        s.set_hyperparameters(activation="softplus")
    assert s.eta == 0.5  # a refused change changes nothing


def test_a_batch_under_way_keeps_its_settings():
    s = Session(blobs(), [5, 8, 3], seed=0, eta=1.0)
    s.step_phase()
    s.set_hyperparameters(eta=9.0)
    s.step_batch(record=True)  # finishes the batch that was under way
    assert s.trace().eta == 1.0
    s.step_batch(record=True)
    assert s.trace().eta == 9.0


@pytest.mark.parametrize("stepper", ["batch", "phase"])
def test_divergence_raises_and_leaves_the_network_unchanged(stepper):
    s = Session(blobs(), [5, 8, 3], activation="linear", seed=0, eta=1e6)
    before = params(s)
    with pytest.raises(DivergenceError, match="η"):
        for _ in range(50):
            before = params(s)
            if stepper == "batch":
                s.step_batch()
            else:
                s.step_phase()
    assert all(np.array_equal(p, q) for p, q in zip(before, params(s)))
    assert all(np.isfinite(p).all() for p in params(s))
    assert not s.in_pass


def test_sizes_must_fit_the_data():
    with pytest.raises(ConfigError, match="5"):
        Session(blobs(), [4, 8, 3])
    with pytest.raises(ConfigError):
        Session(blobs(), [5, 8, 3], eta=0)


def test_cross_entropy_outside_its_range_says_why():
    s = Session(blobs(), [5, 8, 3], activation="linear", cost="cross-entropy", seed=0, eta=0.1)
    with pytest.raises(DivergenceError, match=r"needs every output in \(0, 1\)"):
        for _ in range(20):
            s.step_batch()


def test_training_from_bytes_equals_training_from_floats():
    """Sessions on 8-bit images gather bytes and convert them (see Dataset.x_bytes): the result
    must be bit for bit the training on the floats themselves."""
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, (60, 16), dtype=np.uint8)
    x = raw.astype(np.float64)
    x *= 1.0 / 255.0
    y = rng.integers(0, 4, 60)

    def splits(with_bytes):
        extra = {"x_bytes": raw} if with_bytes else {}
        train = Dataset("img/train", x, y, 4, (4, 4), **extra)
        return DataSplits("img", train, train.subset(10), train.subset(10))

    runs = []
    for with_bytes in (True, False):
        s = Session(splits(with_bytes), [16, 5, 4], seed=1, mini_batch_size=7)
        assert (s._bytes is not None) == with_bytes
        for _ in range(20):
            s.step_batch()
        runs.append(params(s))
    assert all(np.array_equal(a, b) for a, b in zip(*runs))
