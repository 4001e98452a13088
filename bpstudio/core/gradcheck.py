"""Finite differences against backprop: the chapter's check and its "why backprop is fast".

Central differences (the chapter's equation 46, made symmetric):

    ∂C/∂p ≈ (C(p + ε) − C(p − ε)) / 2ε

for the mini-batch cost C = (1/m) Σ_x C_x, always in float64. Each parameter costs two forward
passes over the batch, so the whole gradient costs 2 × (number of parameters) forward passes,
where backprop needs one forward and one backward pass: the timings below measure exactly that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bpstudio.core.errors import Cancelled, ConfigError
from bpstudio.core.network import Network

Array = np.ndarray

#: The default step ε. In float64 it balances truncation (about ε² · C''') against rounding (about
#: 1e-16 · C / ε); 1e-4 keeps both near 1e-11 to 1e-9 for the networks bpstudio shows.
EPSILON = 1e-4
#: Relative errors are measured against max(|backprop|, |numeric|, FLOOR). Rounding limits central
#: differences in float64 to about 1e-16 · C / ε ≈ 1e-11 absolute, so for a gradient of 1e-8 (a
#: saturated neuron's weights) the ratio would measure only that noise. Below FLOOR the error is
#: therefore absolute, scaled by FLOOR; above it, it is the plain relative error.
FLOOR = 1e-5


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` "w" (w^l_jk) or "b" (b^l_j), in the book's layer numbering."""

    kind: str
    layer: int
    j: int
    k: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "w":
            return f"w^{self.layer}_{self.j},{self.k}"
        return f"b^{self.layer}_{self.j}"


def relative_error(a, b, floor: float = FLOOR):
    """|a − b| / max(|a|, |b|, floor), elementwise."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


def batch_cost(network: Network, x: Array, y: Array) -> float:
    """C = (1/m) Σ_x C_x over rows ``x`` with one-hot rows ``y``: one forward pass."""
    a = x
    act = network.activation
    for w, b in zip(network.weights, network.biases):
        a = act.fn(a @ w.T + b.T)
    return float(np.mean(network.cost.fn(a, y)))


def backprop_gradient(network: Network, x: Array, y: Array) -> tuple[list[Array], list[Array]]:
    """(∂C/∂b, ∂C/∂w) of the mini-batch cost by backprop, without changing the network.

    Returns lists shaped like ``network.biases`` (as (n_l,) vectors) and ``network.weights``.
    """
    p = network.begin_batch(x, y, 1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while p.phases[p.done].kind != "gradients":  # feedforward, BP1, BP2 for every layer
            p.run_next()
        nabla_b, nabla_w = p.mean_gradients()  # BP3, BP4
    return list(nabla_b), list(nabla_w)


def _array_of(network: Network, param: Param) -> tuple[Array, tuple[int, ...]]:
    L = network.num_layers
    if not 2 <= param.layer <= L:
        raise ConfigError(f"layer must be between 2 and {L}, got {param.layer}")
    i = param.layer - 2
    n, k_max = network.weights[i].shape
    if not 0 <= param.j < n or (param.kind == "w" and not 0 <= (param.k or 0) < k_max):
        raise ConfigError(f"{param.label} does not exist in a {network.sizes} network")
    if param.kind == "w":
        return network.weights[i], (param.j, param.k)
    return network.biases[i], (param.j, 0)


def numeric_derivative(network: Network, x: Array, y: Array, param: Param, eps=EPSILON) -> float:
    """Central difference of the batch cost in one parameter (the network is restored exactly)."""
    arr, idx = _array_of(network, param)
    original = arr[idx]
    try:
        arr[idx] = original + eps
        plus = batch_cost(network, x, y)
        arr[idx] = original - eps
        minus = batch_cost(network, x, y)
    finally:
        arr[idx] = original
    return (plus - minus) / (2.0 * eps)


@dataclass(frozen=True)
class ParameterCheck:
    """Backprop against finite differences for one parameter."""

    param: Param
    backprop: float
    numeric: float

    @property
    def relative_error(self) -> float:
        return float(relative_error(self.backprop, self.numeric))


def check_parameter(network, x, y, kind, layer, j, k=None, eps=EPSILON) -> ParameterCheck:
    """Compare ∂C/∂w^l_jk (or ∂C/∂b^l_j) by backprop and by central differences, in float64."""
    net = network.as_dtype(np.float64)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    param = Param(kind, layer, j, k)
    _array_of(net, param)
    nabla_b, nabla_w = backprop_gradient(net, x, y)
    i = layer - 2
    exact = nabla_w[i][j, k] if kind == "w" else nabla_b[i][j]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        numeric = numeric_derivative(net, x, y, param, eps)
    return ParameterCheck(param, float(exact), float(numeric))


@dataclass(frozen=True)
class GradientCheck:
    """The whole gradient (or a sample of it) both ways, with timings.

    Attributes
    ----------
    params : tuple of Param
        The parameters checked.
    backprop, numeric : (n,) arrays
        ∂C/∂p by backprop and by central differences.
    backprop_seconds : float
        One forward and one backward pass over the batch (the best of several runs).
    numeric_seconds : float
        All the finite differences that were computed.
    total_parameters : int
        How many parameters the network has.
    """

    params: tuple[Param, ...]
    backprop: Array
    numeric: Array
    backprop_seconds: float
    numeric_seconds: float
    total_parameters: int
    batch_size: int

    @property
    def relative_errors(self) -> Array:
        return relative_error(self.backprop, self.numeric)

    @property
    def max_relative_error(self) -> float:
        return float(self.relative_errors.max()) if len(self.params) else 0.0

    @property
    def worst(self) -> Param | None:
        return self.params[int(np.argmax(self.relative_errors))] if len(self.params) else None

    @property
    def numeric_seconds_all(self) -> float:
        """Finite differences over every parameter (extrapolated when a sample was checked)."""
        return self.numeric_seconds * self.total_parameters / max(len(self.params), 1)

    @property
    def speed_ratio(self) -> float:
        """How many times faster backprop gets the whole gradient than finite differences."""
        return self.numeric_seconds_all / self.backprop_seconds


def all_params(network: Network) -> list[Param]:
    """Every parameter: all weights then all biases, layer by layer."""
    out = []
    for i, w in enumerate(network.weights):
        n, k = w.shape
        out += [Param("w", i + 2, j, kk) for j in range(n) for kk in range(k)]
    for i, b in enumerate(network.biases):
        out += [Param("b", i + 2, j) for j in range(b.shape[0])]
    return out


def time_backprop(network: Network, x: Array, y: Array, repeats: int = 5) -> float:
    """Best time of one forward + backward pass over the batch, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        backprop_gradient(network, x, y)
        best = min(best, time.perf_counter() - t0)
    return best


def check_gradient(
    network: Network,
    x: Array,
    y: Array,
    *,
    sample: int | None = None,
    seed: int = 0,
    eps: float = EPSILON,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> GradientCheck:
    """Compute the gradient by backprop and by central differences and compare them.

    Parameters
    ----------
    network : Network
        Checked on a float64 copy; never changed.
    x, y : arrays
        The mini-batch: rows of inputs (m, n_1) and one-hot rows (m, n_L).
    sample : int, optional
        Check only this many parameters, drawn without replacement with ``seed``.
    progress : callable, optional
        ``progress(done, total)``, called every few hundred parameters.
    should_cancel : callable, optional
        Returning True stops the check with :class:`~bpstudio.core.errors.Cancelled`.
    """
    net = network.as_dtype(np.float64)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    params = all_params(net)
    if sample is not None and sample < len(params):
        pick = np.random.default_rng(seed).choice(len(params), size=sample, replace=False)
        params = [params[i] for i in np.sort(pick)]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        bp_seconds = time_backprop(net, x, y)
        nabla_b, nabla_w = backprop_gradient(net, x, y)
        exact = np.array(
            [
                nabla_w[p.layer - 2][p.j, p.k] if p.kind == "w" else nabla_b[p.layer - 2][p.j]
                for p in params
            ]
        )
        numeric = np.empty(len(params))
        t0 = time.perf_counter()
        for n, p in enumerate(params):
            if n % 256 == 0:
                if should_cancel is not None and should_cancel():
                    raise Cancelled("gradient check cancelled")
                if progress is not None:
                    progress(n, len(params))
            numeric[n] = numeric_derivative(net, x, y, p, eps)
        fd_seconds = time.perf_counter() - t0
    if progress is not None:
        progress(len(params), len(params))
    return GradientCheck(
        tuple(params), exact, numeric, bp_seconds, fd_seconds, net.num_parameters, len(x)
    )
