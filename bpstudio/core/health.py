"""Is training still healthy? Checkpoints of the weights, and a diagnosis a learner can act on.

When η is far too large two things happen that lowering η afterwards cannot undo:

* the weights **blow up**. Healthy runs keep max |w| near the standard normal start: MNIST at
  [784, 30, 10] with the book's η = 3.0 reaches 10.3 after 30 epochs (5.5 after 10 at η = 0.5;
  4.9 at [784, 100, 10]); the digits at [64, 30, 10] stay at 4.4–6.5 over 30 epochs (sigmoid,
  η = 0.5 … 10), the toy sets below 8.1, tanh, ReLU and linear networks at their start. Runs
  with a far too large η pass 1e4 within one or two mini-batches (digits, sigmoid at η = 1e6:
  1.2e5 after one; ReLU at η = 1e4: 8.9e5; linear at η = 0.1: 9.4e4 after two, 1e145 after
  five). So a state is *healthy* while every parameter is finite with |w| below
  :data:`WEIGHT_LIMIT` = 1e4, a thousand times any healthy run and far below the 1e150 at which
  :class:`~bpstudio.core.errors.DivergenceError` refuses a step;
* the network **dies**: a ReLU layer (σ′(z) = 0 for z ≤ 0) whose every neuron has z ≤ 0 for
  every input passes no error back (BP2 gives δ = 0) and the cost stays exactly where it is;
  ReLU at η = 1e4 kills the output layer within two mini-batches (MNIST) or three (digits).

:class:`Checkpoints` keeps the last few healthy states to go back to; :func:`diagnose` (and
:func:`check_session`, which also offers the state to the checkpoints) says what happened in the
chapter's terms and which remedies help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bpstudio.core.functions import get_activation

#: A state is healthy while every weight and bias has |w| below this (see the module's notes).
WEIGHT_LIMIT = 1e4
#: ... and below this many times the max |w| of the first state kept (orders of magnitude).
GROWTH_LIMIT = 1e3
#: A layer whose σ′(z) stays at or below this for every neuron and example passes no gradient.
SIGMA_PRIME_FLOOR = 1e-12
#: A cost that is exactly the same for this many mini-batches in a row is stuck.
STUCK_BATCHES = 50
#: A cost below this means the network has learned its examples (saturation is then fine).
LEARNED_COST = 1e-3
#: How many training examples confirm a dead layer (check_session).
PROBE_EXAMPLES = 500
#: The η to suggest at most: the book's 3.0 for sigmoid; for the others the best tried on the
#: digits at [64, 30, 10] over 30 epochs (ReLU with the quadratic cost learns little at any
#: η there, but at 1e-4 it stays alive).
SENSIBLE_ETA = {"sigmoid": 3.0, "tanh": 0.3, "relu": 1e-4, "linear": 3e-3}

#: How the messages describe a healthy run's weights (see the module's notes).
HEALTHY_RUN = "a healthy run keeps max |w| between about 4 and 10"

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def max_abs(parameters: np.ndarray) -> float:
    """max |p| over a parameter vector; ``inf`` if any entry is inf or NaN (two passes, no copy)."""
    if parameters.size == 0:
        return 0.0
    hi, lo = float(np.max(parameters)), float(np.min(parameters))
    if not (np.isfinite(hi) and np.isfinite(lo)):
        return float("inf")
    return max(hi, -lo)


class Checkpoint(NamedTuple):
    """One kept state: mini-batches done when taken, its max |w|, a read-only parameter copy."""

    batches_done: int
    max_abs: float
    parameters: np.ndarray  # like Network.parameters: flat, layer by layer [w^l | b^l]


class Checkpoints:
    """A small ring of healthy parameter vectors, at most one every ``every`` mini-batches.

    At most ``keep`` states (the oldest goes first): ``keep × parameter count × itemsize``
    bytes, 2.5 MB at [784, 100, 10] in float64, 72 KB on the digits. An offer that is not due
    costs one comparison; a kept one (two passes to check it, one copy: 0.12–0.15 ms for 80k
    doubles) comes at most once per 256 batches, 80–110 ms of training at [784, 100, 10] with
    m = 20, so under 0.2 % of the time. A state is kept only if the caller calls it healthy,
    every parameter is finite and max |w| is below :meth:`healthy_limit`. Offer the new
    session's state (mini-batch 0) and the state after every shown mini-batch; :meth:`clear`
    when the session is replaced or reset.
    """

    def __init__(self, every: int = 256, keep: int = 4, limit: float = WEIGHT_LIMIT) -> None:
        if int(every) < 1 or int(keep) < 1 or not limit > 0:
            raise ValueError("every and keep must be at least 1 and limit positive")
        self.every, self.keep, self.limit = int(every), int(keep), float(limit)
        self._ring: list[Checkpoint] = []
        self.reference_scale: float | None = None  # max |w| of the first state kept

    def clear(self) -> None:
        """Forget every kept state (a new or reset session)."""
        self._ring.clear()
        self.reference_scale = None

    @property
    def entries(self) -> tuple[Checkpoint, ...]:
        """The kept states, oldest first."""
        return tuple(self._ring)

    @property
    def nbytes(self) -> int:
        return sum(c.parameters.nbytes for c in self._ring)

    def healthy_limit(self) -> float:
        """``limit``, or :data:`GROWTH_LIMIT` × the first kept state's max |w| if smaller."""
        if self.reference_scale is None:
            return self.limit
        return min(self.limit, GROWTH_LIMIT * max(self.reference_scale, 1e-3))

    def offer(self, batches_done: int, parameters: np.ndarray, healthy: bool = True) -> bool:
        """Keep a copy of ``parameters`` if one is due and the state is healthy; True if kept.

        ``healthy`` is the caller's verdict (``diagnose(...) is None``). States newer than
        ``batches_done`` (from before a reset) are dropped first.
        """
        n, ring = int(batches_done), self._ring
        while ring and ring[-1].batches_done > n:
            ring.pop()
        if not healthy or (ring and n - ring[-1].batches_done < self.every):
            return False
        scale = max_abs(parameters)
        if not scale < self.healthy_limit():
            return False
        if len(ring) >= self.keep:
            ring.pop(0)  # its array is not reused: whoever holds it keeps a valid copy
        copy = parameters.copy()
        copy.setflags(write=False)
        ring.append(Checkpoint(n, scale, copy))
        self.reference_scale = scale if self.reference_scale is None else self.reference_scale
        return True

    def last_healthy(self) -> tuple[int, np.ndarray] | None:
        """``(batches_done, parameters)`` of the newest kept state, or None."""
        return (self._ring[-1].batches_done, self._ring[-1].parameters) if self._ring else None

    def restore_into(self, network, batches_done: int | None = None) -> int:
        """Copy a kept state (the newest, or the one of ``batches_done``) into ``network``.

        Only the weights and biases go back, in place; the session's counters and cost history
        go on from where they are. Returns the state's mini-batch; KeyError if none is kept.
        """
        chosen = [c for c in self._ring if batches_done in (None, c.batches_done)]
        if not chosen:
            raise KeyError(f"no kept state at mini-batch {batches_done}")
        network.parameters[...] = chosen[-1].parameters
        return chosen[-1].batches_done


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong with training, and what helps.

    Attributes
    ----------
    kind : str
        ``"diverged"`` (a step was refused, or a cost or weight is not finite), ``"dead"`` (no
        gradient reaches the weights: dead ReLUs, saturated neurons, a cost stuck exactly) or
        ``"exploding"`` (max |w| past the healthy limit).
    message : str
        One paragraph: what happened, in the book's terms, and what to do.
    remedies : tuple of str
        Actions that help, best first: ``"restore_checkpoint"`` (go back to the kept state of
        mini-batch :attr:`checkpoint`), ``"reset"``, ``"smaller_eta"`` (to
        :attr:`suggested_eta`), ``"change_activation"``. ``"smaller_eta"`` first means it
        helps on its own; later, it goes with the one chosen before it.
    layer : int or None
        The book's number of the dead or saturated layer.
    max_weight : float
        max |w| over all weights and biases now.
    checkpoint : int or None
        Mini-batches done at the state ``"restore_checkpoint"`` goes back to (never 0: that
        state is what Reset gives).
    suggested_eta : float or None
        The smaller η the message suggests.
    """

    kind: str
    message: str
    remedies: tuple[str, ...]
    layer: int | None = None
    max_weight: float = 0.0
    checkpoint: int | None = None
    suggested_eta: float | None = None


class _Findings(NamedTuple):
    network: object
    eta: float | None
    scale: float  # max |w| now
    limit: float  # the healthy limit
    flat: tuple[int | None, int | None]  # (dead layer, saturated layer), see _flat_layers
    examples: str  # the examples that showed it
    costs: tuple[float | None, float | None, float | None]  # stuck, non-finite, last cost
    checkpoint: tuple[int, float] | None  # (batches done, max |w|) of the newest kept state


def diagnose(
    network,
    trace=None,
    costs=(),
    *,
    eta: float | None = None,
    checkpoints: Checkpoints | None = None,
    diverged: bool = False,
    inputs: np.ndarray | None = None,
) -> Diagnosis | None:
    """Say what is wrong with training, or None when nothing is.

    ``network`` is the live network. ``trace`` is the last mini-batch's
    :class:`~bpstudio.core.trace.Trace`, or its z per layer (entry l − 1, each (m, n_l), entry 0
    unused): the first look for dead layers. ``costs`` are every mini-batch's cost so far
    (``session.history.batch_costs.recent(256)``); ``eta`` the current η (else the trace's).
    ``checkpoints`` gives the state a remedy goes back to and the scale that "growing by orders
    of magnitude" is measured against. ``diverged`` says the last step raised
    :class:`~bpstudio.core.errors.DivergenceError`. ``inputs`` (n, n_1) confirm a dead layer
    with the current weights (a mini-batch may miss the few inputs that still reach a neuron);
    they are used when the trace shows one, or when there is no trace.
    """
    z = getattr(trace, "z", trace)
    eta = getattr(trace, "eta", None) if eta is None else eta
    kept = checkpoints.entries[-1:] if checkpoints is not None else ()
    with np.errstate(all="ignore"):
        flat, seen = _flat_layers(network, z), _examples(z, "of this mini-batch")
        if inputs is not None and len(inputs) and (z is None or flat != (None, None)):
            flat = _flat_layers(network, _forward_z(network, inputs))
            seen = _examples([None, inputs], "of the training set tried")
        limit = WEIGHT_LIMIT if checkpoints is None else checkpoints.healthy_limit()
        found = _Findings(
            network, eta, max_abs(network.parameters), limit, flat, seen, _cost_signs(costs),
            (kept[0].batches_done, kept[0].max_abs) if kept else None,
        )  # fmt: skip
    return _choose(found, diverged)


def check_session(session, checkpoints: Checkpoints, *, diverged: bool = False, trace=None):
    """Diagnose a :class:`~bpstudio.core.session.Session`, then offer its state to ``checkpoints``.

    The runner's one call after each shown mini-batch and (``diverged=True``) after a
    :class:`~bpstudio.core.errors.DivergenceError`. Pass the snapshot's ``trace`` if there is
    one: ``session.trace()`` costs 0.34 ms at [784, 100, 10], the check itself 0.1 ms. A dead
    layer seen in the last mini-batch is confirmed on the first :data:`PROBE_EXAMPLES`
    training examples (5 ms there, only then). Returns the :class:`Diagnosis` or None.
    """
    found = diagnose(
        session.network, session.trace() if trace is None else trace,
        session.history.batch_costs.recent(256), eta=session.eta, checkpoints=checkpoints,
        diverged=diverged, inputs=session.data.train.x[:PROBE_EXAMPLES],
    )  # fmt: skip
    checkpoints.offer(session.batches_done, session.network.parameters, healthy=found is None)
    return found


# -- measuring -----------------------------------------------------------------------------------
def _flat_layers(network, z) -> tuple[int | None, int | None]:
    """(first layer whose σ′(z) is exactly 0 everywhere, first whose σ′ ≤ the floor everywhere)."""
    act = get_activation(network.activation)
    # σ′ exactly 0 on an interval (ReLU's z < 0), not merely tiny in floating point.
    flat_region = bool(np.any(act.prime(np.array([-1.0, -0.5, 0.5, 1.0])) == 0.0))
    # With the cross-entropy cost σ′ of sigmoid outputs cancels out of BP1 (δ^L = a^L − y).
    cancels = act.name == "sigmoid" and network.cost.name == "cross-entropy"
    dead = stalled = None
    for layer, zl in enumerate(z or (), start=1):
        if layer == 1 or zl is None or zl.size == 0:
            continue
        peak = float(np.max(np.abs(act.prime(zl))))
        if dead is None and peak == 0.0 and flat_region:
            dead = layer
        if stalled is None and peak <= SIGMA_PRIME_FLOOR and not (cancels and layer == len(z)):
            stalled = layer
    return dead, stalled


def _forward_z(network, x: np.ndarray) -> list:
    """z per layer (entry l − 1) for rows of inputs ``x``, with the current weights."""
    a, out = np.asarray(x, network.dtype), [None]
    act = get_activation(network.activation)
    for w, b in zip(network.weights, network.biases):
        out.append(a @ w.T + b.T)
        a = act.fn(out[-1])
    return out


def _examples(z, where: str) -> str:
    n = next((len(zl) for zl in (z or ())[1:] if zl is not None), 0)
    return f"each of the {n} examples {where}" if n != 1 else f"the one example {where}"


def _cost_signs(costs) -> tuple[float | None, float | None, float | None]:
    """(the cost if exactly the same for the last STUCK_BATCHES, the last if not finite, last)."""
    source = costs.array() if hasattr(costs, "array") else costs
    recent = np.asarray(source[-STUCK_BATCHES:] if len(source) else [], np.float64)
    last = float(recent[-1]) if recent.size else None
    if last is None or not np.isfinite(last):
        return None, last, last
    full = recent.size == STUCK_BATCHES and last != 0.0
    return (last if full and bool(np.all(recent == last)) else None), None, last


# -- choosing and saying -------------------------------------------------------------------------
def _choose(f: _Findings, diverged: bool) -> Diagnosis | None:
    if diverged or f.costs[1] is not None or not np.isfinite(f.scale):
        return _diverged(f)
    if f.flat[0] is not None:
        return _dead(f, f.flat[0])
    if not f.scale < f.limit:
        return _exploding(f)
    # Saturated neurons that give the right answers (cost ≈ 0) have nothing left to learn.
    saturated = f.flat[1] is not None and (f.costs[2] is None or f.costs[2] > LEARNED_COST)
    if saturated or f.costs[0] is not None:
        return _dead(f, f.flat[1] if saturated else None)
    return None


def _num(x: float, digits: int = 2) -> str:
    """A short number for a sentence: 4.4, 0.001, 1.2e5, 9e16."""
    mantissa, _, exponent = f"{x:.{digits}g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _sup(layer: int) -> str:
    return str(layer).translate(_SUPERSCRIPT)


def _suggested_eta(f: _Findings) -> float:
    act = get_activation(f.network.activation)
    sensible = SENSIBLE_ETA.get(act.name, 0.1)
    if act.name == "sigmoid" and f.network.cost.name == "cross-entropy":
        sensible = 0.5  # the book's chapter 3 value
    return sensible if f.eta is None else min(f.eta / 10, sensible)


def _eta_words(f: _Findings) -> str:
    return "η" if f.eta is None else f"η = {_num(f.eta, 3)}"


def _diagnosis(f: _Findings, kind: str, text: str, layer=None, *, eta_alone=False) -> Diagnosis:
    eta, checkpoint = _num(_suggested_eta(f), 3), None
    if eta_alone:
        text += f" Lower η, e.g. to {eta}, and go on, or reset."
        remedies = ("smaller_eta", "reset")
    elif f.checkpoint is not None and f.checkpoint[0] > 0:
        checkpoint, scale = f.checkpoint
        text += (
            f" Reset, or go back to mini-batch {checkpoint} (the last healthy state kept, "
            f"max |w| ≈ {_num(scale)}), and use a smaller η, e.g. {eta}."
        )
        remedies = ("restore_checkpoint", "reset", "smaller_eta")
    else:
        text += f" Reset and use a smaller η, e.g. {eta}."
        remedies = ("reset", "smaller_eta")
    return Diagnosis(kind, text, remedies, layer, f.scale, checkpoint, _suggested_eta(f))


def _diverged(f: _Findings) -> Diagnosis:
    act = get_activation(f.network.activation)
    if f.network.cost.name == "cross-entropy" and act.name != "sigmoid" and f.scale < f.limit:
        text = (
            f"The cross-entropy cost needs every output a^L in (0, 1), which {act.name} neurons "
            "do not keep to, so the cost became infinite or NaN and the step was not taken. "
            "Use sigmoid neurons or the quadratic cost."
        )
        return Diagnosis("diverged", text, ("change_activation", "reset"), None, f.scale)
    if f.costs[1] is not None:
        what = f"the cost of the last mini-batch is {f.costs[1]}"
    else:
        what = (
            f"with {_eta_words(f)} the next step would have made the cost or the weights "
            "infinite or NaN, so it was not taken"
        )
    if f.scale < f.limit:
        text = (
            f"Training diverged: {what}. The network is as it was before that mini-batch "
            f"(max |w| ≈ {_num(f.scale)}, still healthy)."
        )
        return _diagnosis(f, "diverged", text, eta_alone=True)
    size = f"≈ {_num(f.scale)}" if np.isfinite(f.scale) else "not finite"
    text = (
        f"Training diverged: {what}. The steps before it had already blown the weights up "
        f"(max |w| {size}; {HEALTHY_RUN}), so a smaller η from here "
        "cannot recover: every z is huge, and so is every error δ."
    )
    return _diagnosis(f, "diverged", text)


def _dead(f: _Findings, layer: int | None) -> Diagnosis:
    stuck = None if f.costs[0] is None else _num(f.costs[0], 6)
    if layer is None:
        text = (
            f"The cost has been exactly {stuck} for the last {STUCK_BATCHES} mini-batches, "
            "whatever their examples: no gradient reaches the weights (∂C/∂w = 0), so "
            "training has stopped."
        )
    else:
        text = _dead_layer_words(f, layer)
        text += f" The cost has stayed at exactly {stuck}." if stuck is not None else ""
    if not f.scale < f.limit:
        text += (
            f" The weights had grown to max |w| ≈ {_num(f.scale)} ({HEALTHY_RUN}): "
            f"{_eta_words(f)} is far too large."
        )
    text += " A smaller η cannot bring these neurons back, since their gradient is 0."
    return _diagnosis(f, "dead", text, layer)


def _dead_layer_words(f: _Findings, layer: int) -> str:
    L, dead = f.network.num_layers, layer == f.flat[0]
    if dead:
        state = f"has z ≤ 0 for {f.examples}, so σ′(z) = 0"
    else:
        floor = _num(SIGMA_PRIME_FLOOR)
        state = f"is saturated: |z| is so large for {f.examples} that σ′(z) ≤ {floor}"
    if layer == L:
        effect = f"BP1 makes δ{_sup(L)} = 0: no weight or bias can learn any more"
    else:
        layers = "layer 2" if layer == 2 else f"layers 2 … {layer}"
        before = "" if layer == 2 else ", and so every δ before it"
        effect = (
            f"BP2 makes δ{_sup(layer)} = 0{before}: by BP3 and BP4 no weight or bias of "
            f"{layers} can learn"
        )
        if dead:
            effect += f", nor w{_sup(layer + 1)}, since a{_sup(layer)} = 0"
    where = "the output layer" if layer == L else f"layer {layer}"
    return f"Every neuron of {where} {state}, and {effect}{' (dead ReLU)' if dead else ''}."


def _exploding(f: _Findings) -> Diagnosis:
    text = (
        f"The weights have blown up: max |w| ≈ {_num(f.scale)}, where {HEALTHY_RUN}. With "
        f"{_eta_words(f)} the steps w → w − η ∂C/∂w are far too large."
    )
    if f.flat[1] is not None:
        text += (
            f" Every neuron of layer {f.flat[1]} is now saturated (σ′(z) ≈ 0), so "
            "learning has stopped."
        )
    text += " A smaller η from here cannot shrink weights this large."
    return _diagnosis(f, "exploding", text, f.flat[1])
