"""Activations and costs: the book's formulas, each derivative written beside its function.

Activations are ``{fn, prime}`` pairs, as in TensorFlow Playground's ``nn.ts``; costs are small
classes with ``fn(a, y)`` and ``delta(z, a, y, activation)``, as in the book's ``network2.py``.

Arrays hold one example per row: ``z`` and ``a`` of one layer have shape ``(m, n_l)`` for a
mini-batch of ``m`` examples (``(1, n_l)`` or ``(n_l,)`` for one example).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from bpstudio.core.errors import ConfigError

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """A neuron's activation function σ and its derivative σ'.

    Parameters
    ----------
    name : str
        Name shown to the user ("sigmoid", "tanh", "relu", "linear").
    fn : callable
        σ(z), elementwise.
    prime : callable
        σ'(z), elementwise.
    prime_from_output : callable
        σ'(z) computed from ``(z, a)`` where ``a = σ(z)`` is already known; the training fast path
        uses it because for σ and tanh it needs no further exponentials.
    fn_into : callable
        ``fn_into(z, out)`` writes σ(z) into ``out`` without allocating (the fast path's form).
    formula : str
        σ written out for the equations panel.
    prime_formula : str
        σ' written out for the equations panel.
    bounded : bool
        |σ(z)| ≤ 1 for every z (sigmoid, tanh), which the divergence check uses.
    """

    name: str
    fn: Callable[[Array], Array]
    prime: Callable[[Array], Array]
    prime_from_output: Callable[[Array, Array], Array]
    fn_into: Callable[[Array, Array], None]
    formula: str
    prime_formula: str
    bounded: bool = False


def _sigmoid(z: Array) -> Array:
    # SciPy's expit is 1 / (1 + e^−z) as one ufunc: no overflow warning for very negative z
    # (np.exp(-z) overflows below −709) and one call instead of four on the training hot path.
    return expit(z)


def _sigmoid_into(z: Array, out: Array) -> None:
    expit(z, out=out)


def _sigmoid_prime(z: Array) -> Array:
    s = expit(z)
    return s * (1.0 - s)


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_prime(z: Array) -> Array:
    # The derivative at exactly 0 is taken to be 0 (a subgradient).
    return (z > 0).astype(z.dtype)


def _linear_prime(z: Array) -> Array:
    return np.ones_like(z)


SIGMOID = Activation(
    "sigmoid",
    _sigmoid,
    _sigmoid_prime,
    lambda z, a: a * (1.0 - a),
    _sigmoid_into,
    "σ(z) = 1 / (1 + e^−z)",
    "σ′(z) = σ(z)(1 − σ(z))",
    bounded=True,
)
TANH = Activation(
    "tanh",
    np.tanh,
    lambda z: 1.0 - np.tanh(z) ** 2,
    lambda z, a: 1.0 - a * a,
    lambda z, out: np.tanh(z, out=out),
    "σ(z) = tanh z",
    "σ′(z) = 1 − tanh² z",
    bounded=True,
)
RELU = Activation(
    "relu",
    _relu,
    _relu_prime,
    lambda z, a: _relu_prime(z),
    lambda z, out: np.maximum(z, 0.0, out=out),
    "σ(z) = max(0, z)",
    "σ′(z) = 1 if z > 0 else 0",
)
LINEAR = Activation(
    "linear",
    lambda z: z.copy(),
    _linear_prime,
    lambda z, a: _linear_prime(z),
    lambda z, out: np.copyto(out, z),
    "σ(z) = z",
    "σ′(z) = 1",
)

ACTIVATIONS: dict[str, Activation] = {f.name: f for f in (SIGMOID, TANH, RELU, LINEAR)}


class QuadraticCost:
    """C_x = ½‖y − a^L‖², the chapter's cost (equation 26 of chapter 1)."""

    name = "quadratic"
    formula = "C = ½ ‖y − a^L‖²"
    gradient_formula = "∇ₐC = a^L − y"

    @staticmethod
    def fn(a: Array, y: Array) -> Array:
        """Cost of each example: ``(m, n_L)`` → ``(m,)``."""
        d = a - y
        d *= d
        return 0.5 * d.sum(axis=-1)

    @staticmethod
    def total(a: Array, y: Array) -> float:
        """Σ_x C_x over the rows, as one dot product (the training hot path's form)."""
        d = a - y
        return 0.5 * float(np.vdot(d, d))

    @staticmethod
    def gradient(a: Array, y: Array) -> Array:
        """∇_a C_x, elementwise: ``a − y``."""
        return a - y

    @staticmethod
    def delta(z: Array, a: Array, y: Array, activation: Activation) -> Array:
        """δ^L = ∇_a C ⊙ σ'(z^L) (BP1)."""
        return (a - y) * activation.prime_from_output(z, a)

    @staticmethod
    def delta_into(z: Array, a: Array, y: Array, activation: Activation, out: Array) -> float:
        """Write δ^L into ``out`` and return Σ_x C_x, sharing a − y between the two."""
        np.subtract(a, y, out=out)
        total = 0.5 * float(np.vdot(out, out))
        out *= activation.prime_from_output(z, a)
        return total


def _xlogy(x: Array, y: Array) -> Array:
    # x·ln(y) with the convention 0·ln(0) = 0 (the case the book handles with np.nan_to_num).
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


class CrossEntropyCost:
    """C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)] (chapter 3); needs outputs in (0, 1)."""

    name = "cross-entropy"
    formula = "C = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)]"
    gradient_formula = "∇ₐC = (a^L − y) / (a^L (1 − a^L))"

    @staticmethod
    def fn(a: Array, y: Array) -> Array:
        """Cost of each example: ``(m, n_L)`` → ``(m,)``; ``inf``/``nan`` when a leaves (0, 1)."""
        per_unit = -(_xlogy(y, a) + _xlogy(1.0 - y, 1.0 - a))
        return per_unit.sum(axis=-1)

    @staticmethod
    def total(a: Array, y: Array) -> float:
        """Σ_x C_x over the rows."""
        return float(CrossEntropyCost.fn(a, y).sum())

    @staticmethod
    def gradient(a: Array, y: Array) -> Array:
        """∇_a C_x, elementwise: ``(a − y) / (a (1 − a))``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (a - y) / (a * (1.0 - a))

    @staticmethod
    def delta(z: Array, a: Array, y: Array, activation: Activation) -> Array:
        """δ^L = ∇_a C ⊙ σ'(z^L) (BP1); for sigmoid output σ' cancels and δ^L = a − y."""
        if activation is SIGMOID:
            return a - y
        return CrossEntropyCost.gradient(a, y) * activation.prime_from_output(z, a)

    @staticmethod
    def delta_into(z: Array, a: Array, y: Array, activation: Activation, out: Array) -> float:
        """Write δ^L into ``out`` and return Σ_x C_x."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out[...] = CrossEntropyCost.delta(z, a, y, activation)
            return CrossEntropyCost.total(a, y)


COSTS: dict[str, type] = {c.name: c for c in (QuadraticCost, CrossEntropyCost)}


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name, with a message listing the valid names."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ConfigError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None


def get_cost(name: str | type):
    """Look a cost up by name, with a message listing the valid names."""
    if isinstance(name, type):
        return name
    key = {"crossentropy": "cross-entropy", "cross_entropy": "cross-entropy"}.get(name, name)
    try:
        return COSTS[key]
    except KeyError:
        raise ConfigError(f"unknown cost {name!r}; choose one of {', '.join(COSTS)}") from None
