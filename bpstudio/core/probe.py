"""Experiments on a recorded pass: the chapter's demon, saturated neurons, and a network to probe.

Layer numbers are the book's (the input layer is l = 1); per-layer results are tuples indexed by
``l − 1`` with ``None`` for the input layer, like the neuron quantities of a
:class:`~bpstudio.core.trace.Trace`.

* :func:`network_from_trace` rebuilds, in float64, the network a trace's gradients were computed
  at, so that finite differences and the demon probe exactly that point.
* :func:`demon` is the chapter's demon: it adds Δz to the weighted input z^l_j of one neuron and
  watches the cost change by about δ^l_j Δz, which is what makes δ^l_j = ∂C/∂z^l_j "the error".
* :func:`saturation` and :func:`mean_abs_incoming_gradient` show the chapter's remark that a
  neuron whose σ'(z) is small learns slowly: BP4's ∂C/∂w^l_jk = a^(l−1)_k δ^l_j carries the factor
  σ'(z^l_j) through δ^l_j.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpstudio.core.errors import ConfigError
from bpstudio.core.functions import Activation, get_activation
from bpstudio.core.network import Network
from bpstudio.core.trace import Trace

Array = np.ndarray

#: The largest value of σ' for the bounded activations (sigmoid at z = 0, tanh at z = 0).
MAX_PRIME = {"sigmoid": 0.25, "tanh": 1.0}


@dataclass(frozen=True)
class DemonResult:
    """What the demon saw.

    Attributes
    ----------
    observed : float
        ΔC = C(z^l_j + Δz) − C of the batch cost C = (1/m) Σ_x C_x.
    predicted : float
        (1/m) Σ_x δ^l_j Δz, the first-order change that δ = ∂C_x/∂z predicts.
    delta_mean : float
        (1/m) Σ_x δ^l_j, by backprop at the same weights.
    """

    observed: float
    predicted: float
    delta_mean: float


def network_from_trace(trace: Trace) -> Network:
    """The float64 network whose gradients ``trace`` holds: its weights before the update.

    A pass that was not recorded (``Session.step_batch(record=False)``) keeps no copy of the
    weights before the update once the update has run; they are then rebuilt as
    ``w_after + η ∂C/∂w``, which equals the weights before the update up to rounding
    (about 1e-16 relative), far below anything a finite difference can see.

    Parameters
    ----------
    trace : Trace
        A pass over a mini-batch, complete or under way.

    Returns
    -------
    Network
        A new float64 network with the trace's sizes, activation and cost.
    """
    weights, biases = parameters_before(trace)
    net = Network(trace.sizes, trace.activation, trace.cost, seed=0, dtype=np.float64)
    for dst, src in zip(net.weights, weights):
        dst[...] = src
    for dst, src in zip(net.biases, biases):
        dst[:, 0] = np.reshape(src, -1)
    return net


def parameters_before(trace: Trace) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
    """The weights w^l (entry l − 2) and biases b^l as (n_l,) vectors before the trace's update.

    Taken from the trace when it recorded them, else rebuilt as ``w_after + η ∂C/∂w`` (see
    :func:`network_from_trace`).
    """
    if trace.weights is not None:
        return tuple(trace.weights), tuple(trace.biases)
    eta = trace.eta
    weights = tuple(w + eta * g for w, g in zip(trace.weights_after, trace.nabla_w))
    biases = tuple(b + eta * g for b, g in zip(trace.biases_after, trace.nabla_b))
    return weights, biases


def _check_neuron(network: Network, layer: int, j: int) -> None:
    L = network.num_layers
    if not 2 <= layer <= L:
        raise ConfigError(f"the demon works on layers 2 to {L} (layer 1 has no z), got {layer}")
    if not 0 <= j < network.sizes[layer - 1]:
        raise ConfigError(f"layer {layer} has {network.sizes[layer - 1]} neurons, got j = {j}")


def nudged_cost(network: Network, x: Array, y: Array, layer: int, j: int, dz: float) -> float:
    """The batch cost C = (1/m) Σ_x C_x with z^layer_j raised by ``dz`` for every example.

    An independent forward pass (not the training fast path): z^l = a^(l−1) (w^l)^T + b^l row
    by row, then a^l = σ(z^l), with the demon's Δz added before σ in layer ``layer``.
    """
    _check_neuron(network, layer, j)
    a = np.asarray(x, np.float64)
    act = network.activation
    for l, (w, b) in enumerate(zip(network.weights, network.biases), start=2):
        z = a @ w.T + b.T
        if l == layer:
            z[:, j] += dz
        a = act.fn(z)
    return float(np.mean(network.cost.fn(a, np.asarray(y, np.float64))))


def batch_deltas(network: Network, x: Array, y: Array) -> tuple[Array | None, ...]:
    """δ^l for every example of the batch by backprop (BP1, BP2), entry l − 1, shape (m, n_l).

    Runs the training code's phases up to, not including, the update: the parameters stay as
    they are, in the network's own dtype.
    """
    p = network.begin_batch(np.asarray(x, network.dtype), np.asarray(y, network.dtype), 1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while p.phases[p.done].kind != "gradients":
            p.run_next()
    return p.trace().delta


def demon(network: Network, x: Array, y: Array, layer: int, j: int, dz: float) -> DemonResult:
    """The chapter's demon: change z^l_j by Δz in every example and watch the cost.

    Parameters
    ----------
    network : Network
        Probed in float64; never changed.
    x : (m, n_1) array
        The mini-batch's inputs, one example per row.
    y : (m, n_L) array
        One-hot desired outputs.
    layer : int
        The book's l, 2 … L.
    j : int
        The neuron of layer l.
    dz : float
        Δz added to z^l_j before σ.

    Returns
    -------
    DemonResult
        Observed ΔC against the prediction (1/m) Σ_x δ^l_j Δz.
    """
    net = network.as_dtype(np.float64)
    _check_neuron(net, layer, j)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        base = nudged_cost(net, x, y, layer, j, 0.0)
        nudged = nudged_cost(net, x, y, layer, j, dz)
        delta_mean = float(np.mean(batch_deltas(net, x, y)[layer - 1][:, j]))
    return DemonResult(nudged - base, delta_mean * dz, delta_mean)


def max_prime(activation: Activation) -> float:
    """The largest value σ' takes (sigmoid 0.25, tanh 1, else found on a grid of z)."""
    if activation.name in MAX_PRIME:
        return MAX_PRIME[activation.name]
    return float(np.max(activation.prime(np.linspace(-10.0, 10.0, 2001))))


def saturation(trace: Trace, activation, threshold: float = 0.1) -> tuple[Array | None, ...]:
    """Which neurons are saturated over the trace's mini-batch.

    A sigmoid or tanh neuron is saturated when σ'(z^l_j), averaged over the batch, is below
    ``threshold`` × the largest σ' of the activation (0.25 for sigmoid, 1 for tanh): its δ^l_j,
    and so every ∂C/∂w^l_jk and ∂C/∂b^l_j, carries that small factor. A ReLU neuron is
    saturated when it is dead: σ'(z) = 0 for every example. Linear neurons never saturate.

    Parameters
    ----------
    trace : Trace
        A pass whose feedforward has run (``None`` entries otherwise).
    activation : Activation or str
        σ of the network.
    threshold : float
        Fraction of the largest σ' below which a neuron counts as saturated.

    Returns
    -------
    tuple of (n_l,) bool arrays or None
        Entry l − 1; ``None`` for the input layer and for layers whose z is not computed yet.
    """
    act = get_activation(activation)
    out: list[Array | None] = [None]
    for z in trace.z[1:]:
        if z is None:
            out.append(None)
        elif act.name == "linear":
            out.append(np.zeros(z.shape[1], bool))
        elif act.name == "relu":
            out.append(np.all(act.prime(z) == 0, axis=0))
        else:
            mean_prime = np.mean(act.prime(np.asarray(z, np.float64)), axis=0)
            out.append(mean_prime < threshold * max_prime(act))
    return tuple(out)


def mean_abs_incoming_gradient(trace: Trace) -> tuple[Array | None, ...]:
    """(1/n_(l−1)) Σ_k |∂C/∂w^l_jk| for each neuron j: how fast its incoming weights learn.

    Returns
    -------
    tuple of (n_l,) arrays or None
        Entry l − 1; ``None`` for the input layer and before BP3 + BP4 have run.
    """
    return (None,) + tuple(None if g is None else np.abs(g).mean(axis=1) for g in trace.nabla_w)
