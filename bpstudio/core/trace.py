"""Immutable records of one backprop pass over a mini-batch, for views to hold while training runs.

Layer numbering is the book's: the input layer is l = 1, the output layer l = L. Two indexings,
both the book's own:

* neuron quantities (z, a, δ) are tuples indexed by ``l − 1``; entry 0 (the input layer) holds
  ``a^1 = x`` and ``None`` for z and δ;
* parameter quantities (weights, biases, ∂C/∂w, ∂C/∂b) are indexed by ``l − 2``, exactly like
  ``Network.weights`` and the ``(nabla_b, nabla_w)`` that the book's ``backprop`` returns.

All per-example arrays hold **one example per row**: ``z[l-1]`` has shape ``(m, n_l)``, so
``z[l-1][x, j]`` is z^l_j of example x. (The book stacks examples as columns; rows keep each
example's numbers contiguous, which is what the fast path and the views want.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Phase:
    """One step of the algorithm, in the book's order.

    Attributes
    ----------
    kind : str
        ``"feedforward"``, ``"output_error"``, ``"backpropagate"``, ``"gradients"`` or ``"update"``.
    layer : int or None
        The book's layer number the phase computes (L for BP1, l for BP2), else ``None``.
    equation : str
        ``"forward"``, ``"BP1"``, ``"BP2"``, ``"BP3+BP4"`` or ``"SGD"``.
    """

    kind: str
    layer: int | None
    equation: str

    @property
    def title(self) -> str:
        """A short human-readable name, e.g. ``"BP2: δ^2 from δ^3"``."""
        if self.kind == "feedforward":
            return "Feedforward: z^l = w^l a^(l−1) + b^l, a^l = σ(z^l)"
        if self.kind == "output_error":
            return f"BP1: output error δ^{self.layer}"
        if self.kind == "backpropagate":
            return f"BP2: δ^{self.layer} from δ^{self.layer + 1}"
        if self.kind == "gradients":
            return "BP3, BP4: ∂C/∂b and ∂C/∂w"
        return "Update: w → w − η ∂C/∂w, b → b − η ∂C/∂b"

    @property
    def direction(self) -> str | None:
        """``"forward"`` for the feedforward phase, ``"backward"`` for BP1 and BP2."""
        if self.kind == "feedforward":
            return "forward"
        if self.kind in ("output_error", "backpropagate"):
            return "backward"
        return None


@functools.lru_cache(maxsize=32)
def phases_for(num_layers: int) -> tuple[Phase, ...]:
    """The phases of one mini-batch for a network of ``num_layers`` layers (L), in order."""
    L = num_layers
    return (
        Phase("feedforward", None, "forward"),
        Phase("output_error", L, "BP1"),
        *(Phase("backpropagate", layer, "BP2") for layer in range(L - 1, 1, -1)),
        Phase("gradients", None, "BP3+BP4"),
        Phase("update", None, "SGD"),
    )


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything one pass over a mini-batch computed, up to and including ``phases_done``.

    Attributes
    ----------
    sizes : tuple of int
        Layer sizes n_1 … n_L.
    activation, cost : str
        Names of σ and of the cost.
    eta : float
        Learning rate η used (or to be used) by the update.
    phases_done : int
        How many of ``phases_for(L)`` have run; quantities of later phases are ``None``.
    indices : (m,) int array
        Positions of the batch's examples in the training set.
    x : (m, n_1) array
        The inputs a^1, one row per example.
    y : (m, n_L) array
        Desired outputs (one-hot).
    z, a, delta : tuple of (m, n_l) arrays or None
        Per layer (entry l-1); ``a[0]`` is ``x``.
    nabla_b : tuple of (n_l,) arrays or None
        Entry l − 2: ∂C/∂b^l_j for the mini-batch cost C = (1/m) Σ_x C_x, the mean of δ^l_j
        over the examples.
    nabla_w : tuple of (n_l, n_(l-1)) arrays or None
        Entry l − 2: ∂C/∂w^l_jk for the mini-batch cost, the mean over the examples of
        a^(l−1)_k δ^l_j.
    weights, biases : tuple of arrays
        w^l (entry l-2 of ``weights``, like ``Network.weights``) and b^l as (n_l,) vectors
        **before** the update; ``None`` when the update has run and the pass was not recorded.
    weights_after, biases_after : tuple of arrays or None
        The same after the update, once the update phase has run.
    costs : (m,) array or None
        C_x for each example, from the feedforward phase.
    """

    sizes: tuple[int, ...]
    activation: str
    cost: str
    eta: float
    phases_done: int
    indices: Array
    x: Array
    y: Array
    z: tuple[Array | None, ...]
    a: tuple[Array | None, ...]
    delta: tuple[Array | None, ...]
    nabla_b: tuple[Array | None, ...]
    nabla_w: tuple[Array | None, ...]
    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    weights_after: tuple[Array, ...] | None
    biases_after: tuple[Array, ...] | None
    costs: Array | None

    @property
    def num_layers(self) -> int:
        return len(self.sizes)

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[0])

    @property
    def phases(self) -> tuple[Phase, ...]:
        return phases_for(self.num_layers)

    @property
    def next_phase(self) -> Phase | None:
        """The phase that runs next, or ``None`` when the pass is complete."""
        phases = self.phases
        return phases[self.phases_done] if self.phases_done < len(phases) else None

    @property
    def last_phase(self) -> Phase | None:
        """The phase that ran last, or ``None`` before the first."""
        return self.phases[self.phases_done - 1] if self.phases_done else None

    @property
    def complete(self) -> bool:
        return self.phases_done == len(self.phases)

    @property
    def mean_cost(self) -> float | None:
        """C = (1/m) Σ_x C_x of the mini-batch, once feedforward has run."""
        return None if self.costs is None else float(self.costs.mean())


def frozen(array: Array | None) -> Array | None:
    """A read-only copy of ``array`` (``None`` passes through)."""
    if array is None:
        return None
    out = np.array(array, copy=True)
    out.setflags(write=False)
    return out
