"""Training health: checkpoints from before the weights blew up, and diagnoses of real runs.

Each run is a real :class:`Session` driven into the state the issue describes (ReLU at η = 1e4
kills every neuron; a huge η blows the weights up; linear neurons diverge); what the diagnosis
claims is checked against an independent forward pass or the trace's own gradients.
"""

import re

import numpy as np
import pytest
from scipy.special import expit

from bpstudio.core import DivergenceError, Network
from bpstudio.core.data import load_digits, make_toy
from bpstudio.core.health import (
    PROBE_EXAMPLES,
    STUCK_BATCHES,
    WEIGHT_LIMIT,
    Checkpoints,
    check_session,
    diagnose,
    max_abs,
)
from bpstudio.core.session import Session


@pytest.fixture(scope="module")
def digits():
    return load_digits(0)


def watched(session, checkpoints, batches):
    """Step like the runner: one recorded batch, then check_session; the diagnoses seen."""
    seen = []
    for _ in range(batches):
        session.step_batch(record=True)
        seen.append(check_session(session, checkpoints))
    return seen


def fresh(digits, **settings):
    session = Session(digits, [64, 30, 10], evaluate=False, **settings)
    checkpoints = Checkpoints()
    checkpoints.offer(0, session.network.parameters)
    return session, checkpoints


def z_of(network, x):
    """z per layer for rows x, written out independently of the module under test."""
    a, zs = x, []
    for w, b in zip(network.weights, network.biases):
        zs.append(a @ w.T + b[:, 0])
        a = np.maximum(zs[-1], 0) if network.activation.name == "relu" else expit(zs[-1])
    return zs


def short_numbers(message):
    """Every number in a message is short (no 135-character costs)."""
    return all(len(n) <= 8 for n in re.findall(r"[0-9][0-9.e+-]*", message))


# -- checkpoints ---------------------------------------------------------------------------------
def test_checkpoints_keep_a_spaced_ring_of_independent_copies():
    ck = Checkpoints(every=10, keep=3)
    p = np.arange(6, dtype=np.float64)
    kept = [n for n in range(0, 100) if ck.offer(n, p + n)]
    assert kept == list(range(0, 100, 10))
    assert [c.batches_done for c in ck.entries] == [70, 80, 90]
    assert ck.nbytes == 3 * p.nbytes  # never more than keep states
    n, saved = ck.last_healthy()
    p += 1000  # changing the live vector later does not touch the copy
    assert n == 90 and np.array_equal(saved, np.arange(6) + 90)
    assert not saved.flags.writeable


def test_unhealthy_states_are_never_kept():
    ck = Checkpoints(every=1)
    assert ck.offer(0, np.full(4, 2.0))
    assert not ck.offer(1, np.array([1.0, np.nan, 0, 0]))
    assert not ck.offer(2, np.array([1.0, -np.inf, 0, 0]))
    assert not ck.offer(3, np.array([1.0, -2 * WEIGHT_LIMIT, 0, 0]))
    assert not ck.offer(4, np.full(4, 2.0), healthy=False)
    # Orders of magnitude above the first state kept (2.0) is not healthy either.
    assert ck.healthy_limit() == pytest.approx(2000.0)
    assert not ck.offer(5, np.full(4, 3000.0))
    assert [c.batches_done for c in ck.entries] == [0]


def test_an_older_batch_number_drops_the_states_after_it_and_restore_picks_one():
    ck = Checkpoints(every=5, keep=4)
    for n in (0, 5, 10, 15):
        ck.offer(n, np.full(3, float(n + 1)))
    assert not ck.offer(3, np.full(3, 30.0))  # after a reset: 5, 10 and 15 are gone
    assert [c.batches_done for c in ck.entries] == [0]
    assert ck.offer(5, np.full(3, 50.0)) and ck.offer(10, np.full(3, 60.0))
    net = Network([2, 1])  # three parameters
    assert ck.restore_into(net, 5) == 5 and np.array_equal(net.parameters, np.full(3, 50.0))
    assert ck.restore_into(net) == 10 and np.array_equal(net.parameters, np.full(3, 60.0))
    with pytest.raises(KeyError):
        ck.restore_into(net, 15)
    ck.clear()
    assert ck.last_healthy() is None and ck.reference_scale is None


def test_max_abs_sees_nan_and_inf_anywhere():
    assert max_abs(np.array([1.0, -7.0, 3.0])) == 7.0
    assert max_abs(np.array([np.nan, 1.0])) == np.inf
    assert max_abs(np.array([1.0, np.nan])) == np.inf


# -- the runs ----------------------------------------------------------------------------
def test_relu_at_eta_1e4_kills_every_output_neuron_and_says_so(digits):
    session, ck = fresh(digits, activation="relu", eta=1e4)
    seen = watched(session, ck, 10)
    # The first step already blows the weights up; from then on the output layer is dead.
    assert seen[0].kind == "exploding"
    found = seen[-1]
    assert found.kind == "dead" and found.layer == 3
    # Independently: every output neuron has z ≤ 0 for every training example, and the cost
    # has been the same 0.5 (= ½‖y‖², every output 0) for the last batches.
    assert (z_of(session.network, digits.train.x)[-1] <= 0).all()
    assert session.history.batch_costs[-5:] == [0.5] * 5
    assert "dead ReLU" in found.message and "δ³ = 0" in found.message
    assert "η = 1e4" in found.message and short_numbers(found.message)
    assert found.max_weight > 1e10 and found.remedies == ("reset", "smaller_eta")
    assert found.suggested_eta < 1e4
    # The only state kept is the start: what Reset gives, with finite outputs.
    n, saved = ck.last_healthy()
    assert n == 0 and max_abs(saved) < 10
    ck.restore_into(session.network)
    start = Session(digits, [64, 30, 10], activation="relu", eta=1e4, evaluate=False)
    assert np.array_equal(session.network.parameters, start.network.parameters)


def test_a_dead_hidden_layer_stops_every_weight_before_it(digits):
    session = Session(digits, [64, 30, 10], activation="relu", eta=0.01, evaluate=False)
    session.network.biases[0][...] = -1000.0  # every z² < 0 whatever the input
    session.step_batch(record=True)
    trace = session.trace()
    found = diagnose(session.network, trace, session.history.batch_costs.array())
    assert found.kind == "dead" and found.layer == 2
    assert "δ² = 0" in found.message and "w³" in found.message
    # What the message claims, from the trace's own gradients: w², b² and w³ get nothing,
    # while b³ (the output biases) still learns.
    assert not trace.nabla_w[0].any() and not trace.nabla_b[0].any()
    assert not trace.nabla_w[1].any() and trace.nabla_b[1].any()


def test_sigmoid_at_a_huge_eta_blows_up_and_the_last_healthy_state_is_from_before(digits):
    session, ck = fresh(digits, eta=3.0)
    ck.every = 100
    assert watched(session, ck, 300) == [None] * 300  # a healthy run raises nothing
    accuracy_before = session.accuracy()
    session.set_hyperparameters(eta=1e6)
    found = watched(session, ck, 1)[0]
    assert found.kind == "exploding" and found.max_weight > 1e4
    assert found.checkpoint == 300 and found.remedies[0] == "restore_checkpoint"
    assert "mini-batch 300" in found.message and short_numbers(found.message)
    n, saved = ck.last_healthy()
    assert n == 300 < session.batches_done and max_abs(saved) < 10
    assert not ck.offer(400, session.network.parameters)  # the blown-up state is never kept
    ck.restore_into(session.network, found.checkpoint)
    out = session.network.output(digits.validation.x)
    assert np.isfinite(out).all() and session.accuracy() == accuracy_before


def test_saturated_sigmoid_neurons_are_diagnosed_as_dead(digits):
    session, ck = fresh(digits, eta=1e3)  # weights ≈ 118: below the limit, yet saturated
    found = [d for d in watched(session, ck, 5) if d is not None][0]
    assert found.kind == "dead" and found.layer == 3 and "saturated" in found.message
    z = z_of(session.network, digits.train.x[:PROBE_EXAMPLES])[-1]
    assert (expit(z) * (1 - expit(z)) <= 1e-12).all()


def test_divergence_offers_a_state_from_before_the_weights_blew_up(digits):
    # Linear neurons at η = 0.1: the weights grow ~1000× a step until a step is refused.
    session = Session(digits, [64, 30, 10], activation="linear", eta=0.1, evaluate=False)
    ck = Checkpoints(every=1)
    ck.offer(0, session.network.parameters)
    with pytest.raises(DivergenceError):  # nobody watched: train until the step is refused
        for _ in range(50):
            session.step_batch(record=True)
            ck.offer(session.batches_done, session.network.parameters)
    found = check_session(session, ck, diverged=True)
    assert found.kind == "diverged" and found.max_weight > 1e100
    assert "cannot recover" in found.message and short_numbers(found.message)
    assert found.remedies == ("restore_checkpoint", "reset", "smaller_eta")
    n, saved = ck.last_healthy()
    assert 0 < n < session.batches_done and found.checkpoint == n
    assert max_abs(saved) < WEIGHT_LIMIT
    ck.restore_into(session.network)
    assert np.isfinite(session.network.output(digits.train.x)).all()


def test_a_refused_first_step_needs_only_a_smaller_eta(digits):
    session, ck = fresh(digits, eta=1e200)
    with pytest.raises(DivergenceError):
        session.step_batch(record=True)
    found = check_session(session, ck, diverged=True)
    assert found.kind == "diverged" and found.remedies == ("smaller_eta", "reset")
    assert found.suggested_eta == 3.0 and "still healthy" in found.message


def test_cross_entropy_with_relu_outputs_asks_for_another_activation(digits):
    session, ck = fresh(digits, activation="relu", cost="cross-entropy", eta=0.01)
    with pytest.raises(DivergenceError):
        session.step_batch(record=True)
    found = check_session(session, ck, diverged=True)
    assert found.kind == "diverged" and found.remedies[0] == "change_activation"


def test_a_small_relu_net_whose_batch_misses_every_neuron_is_not_called_dead():
    # [2, 10, 2] ReLU on circles: the output layer is silent for some whole mini-batches of 10,
    # yet other inputs still reach it and it goes on learning.
    session = Session(make_toy("circles"), [2, 10, 2], activation="relu", eta=1e-3)
    ck = Checkpoints()
    silent = []
    for _ in range(72):
        session.step_batch(record=True)
        z = session.trace().z[-1]
        silent.append(bool((z <= 0).all()))
        assert check_session(session, ck) is None
    assert any(silent)  # the trace alone would have called it dead


def test_a_cost_stuck_exactly_is_dead_without_a_trace():
    net = Network([2, 3, 2])
    stuck = np.full(STUCK_BATCHES, 0.5)
    found = diagnose(net, None, stuck, eta=0.2)
    assert found.kind == "dead" and "exactly 0.5" in found.message
    assert diagnose(net, None, stuck[1:]) is None
    assert diagnose(net, None, np.r_[stuck[1:], 0.4999]) is None
    nan = diagnose(net, None, [0.3, float("nan")])
    assert nan.kind == "diverged"


@pytest.mark.parametrize("cost, dead", [("quadratic", True), ("cross-entropy", False)])
def test_saturated_sigmoid_outputs_stop_learning_only_with_the_quadratic_cost(digits, cost, dead):
    session = Session(digits, [64, 30, 10], cost=cost, eta=0.1, evaluate=False)
    session.network.biases[-1][...] = -100.0  # every output a ≈ e^−100, σ′(z) ≈ 4e-44
    session.step_batch(record=True)
    trace = session.trace()
    found = check_session(session, Checkpoints())
    # The trace's own gradient says whether the output biases still learn (chapter 3: with the
    # cross-entropy cost δ^L = a − y, and σ′ cancels).
    learns = np.abs(trace.nabla_b[-1]).max() > 1e-3
    assert learns is not dead
    assert (found is not None and found.kind == "dead" and found.layer == 3) is dead


def test_saturated_outputs_that_give_the_right_answers_are_not_dead():
    net = Network([2, 2], seed=0)
    net.weights[0][...] = [[0.0, 0.0], [0.0, 0.0]]
    net.biases[0][...] = [[100.0], [-100.0]]  # a = (1, 0) exactly the target
    z = [None, np.tile([100.0, -100.0], (4, 1))]
    assert diagnose(net, z, [0.0] * 10) is None
    assert diagnose(net, z, [0.3] * 10).kind == "dead"


def test_the_runner_can_check_with_the_trace_of_its_own_snapshot(digits):
    from bpstudio.core.runner import Runner

    runner = Runner()
    runner.adopt(Session(digits, [64, 30, 10], activation="relu", eta=1e4, evaluate=False))
    ck = Checkpoints()
    ck.offer(0, runner.session.network.parameters)
    runner.advance(10)  # the last of them recorded, as a frame shows it
    snap = runner.snapshot()
    found = check_session(runner.session, ck, trace=snap.trace)
    assert found.kind == "dead" and found.layer == 3
    assert found == check_session(runner.session, ck)  # the same as with a fresh trace
    runner.close()


def test_at_full_speed_a_dead_network_is_still_caught_and_training_paused(digits):
    # At "as fast as it goes" the health check runs a few times a second, not at every frame.
    from bpstudio.core.runner import Runner

    runner = Runner()
    runner.adopt(Session(digits, [64, 30, 10], activation="relu", eta=1e4, evaluate=False))
    runner.set_speed(None)
    runner.play()
    found = None
    for _ in range(100_000):  # a bound, not a timing: the check comes within a second or so
        result = runner.tick()
        if result.diagnosis is not None:
            found = result.diagnosis
            break
    assert found is not None and found.kind == "dead"
    assert not runner.running and not result.snapshot.running
    runner.close()
