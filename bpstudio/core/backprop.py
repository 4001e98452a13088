"""Matrix-based backprop over a whole mini-batch, run phase by phase.

One :class:`BatchPass` is one call of the book's ``update_mini_batch``, split into the phases of
:func:`bpstudio.core.trace.phases_for`: feedforward, BP1, BP2 for l = L−1 … 2, BP3 + BP4, update.
``Network.train_batch`` runs every phase at once and the session's phase stepping runs them one at a
time; both go through the same methods below, so they agree bit for bit.

Every product is a matrix product over the batch (examples are rows), written into buffers that
are allocated once per batch size: allocating the (n_l, n_(l−1))-sized gradients anew each step
makes glibc hand them back to the OS and page-fault them in again, which costs more than the maths.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import get_blas_funcs

from bpstudio.core.errors import DivergenceError
from bpstudio.core.trace import Trace, frozen, phases_for

Array = np.ndarray


class Workspace:
    """Buffers for one batch size ``m``: entry ``l − 1`` belongs to the book's layer l.

    Every layer that feeds another keeps its activations with an extra column of ones
    (``a_ones[l − 1]``, shape (m, n_l + 1)), and each layer's parameters are stored as one
    matrix [w^l | b^l] (see :func:`parameter_views`). Then one product gives z^l including the
    bias, and one product gives both BP4's Σ_x a^(l−1)_k δ^l_j and BP3's Σ_x δ^l_j.
    """

    def __init__(self, sizes: tuple[int, ...], m: int, dtype: np.dtype) -> None:
        self.m = m
        self.a_ones = [np.ones((m, n + 1), dtype) for n in sizes[:-1]]
        self.a: list[Array] = [a1[:, :-1] for a1 in self.a_ones] + [np.empty((m, sizes[-1]), dtype)]
        self.x = self.a[0]
        self.y = np.empty((m, sizes[-1]), dtype)
        self.z: list[Array | None] = [None] + [np.empty((m, n), dtype) for n in sizes[1:]]
        self.delta: list[Array | None] = [None] + [np.empty((m, n), dtype) for n in sizes[1:]]
        # δ^l scaled by η/m, stored column-major so that BLAS's gemm can add the step
        # −(η/m) [a^(l−1) 1]^T δ^l straight into the parameters: one pass over them, no
        # weight-sized step array to write and read back (see _update).
        self.scaled_delta = [None] + [np.empty((m, n), dtype, order="F") for n in sizes[1:]]
        self.gemm = get_blas_funcs("gemm", dtype=dtype)


def parameter_count(sizes) -> int:
    """Number of weights and biases of a network with layer sizes ``sizes``."""
    return sum(n * k + n for k, n in zip(sizes[:-1], sizes[1:]))


def layer_views(flat: Array, sizes) -> list[Array]:
    """Views of one flat vector as the matrices [w^l | b^l], shape (n_l, n_(l−1) + 1), l = 2 … L."""
    out, start = [], 0
    for k, n in zip(sizes[:-1], sizes[1:]):
        out.append(flat[start : start + n * (k + 1)].reshape(n, k + 1))
        start += n * (k + 1)
    return out


def parameter_views(flat: Array, sizes) -> tuple[list[Array], list[Array], list[Array]]:
    """The weights w^l (n_l, n_(l−1)) and biases b^l (n_l, 1) as views of one flat vector.

    Returns ``(weights, biases, layers)`` where ``layers[i]`` is [w | b] of layer i + 2.
    """
    layers = layer_views(flat, sizes)
    return [p[:, :-1] for p in layers], [p[:, -1:] for p in layers], layers


class BatchPass:
    """One mini-batch's trip through the algorithm, advanced one phase at a time.

    Parameters
    ----------
    network : Network
        The network to train; its weights change only in the update phase.
    workspace : Workspace
        Buffers for the batch size m, with the inputs already in ``workspace.x`` (m, n_1), one
        example per row, and the one-hot desired outputs in ``workspace.y`` (m, n_L).
    eta : float
        Learning rate η of the update.
    record : bool
        Keep a copy of the weights before the update so :meth:`trace` can show both.
    indices : (m,) int array, optional
        Where the examples come from in the training set, for views.
    inputs_bounded : bool
        The inputs are known to lie in [0, 1] (a :class:`Dataset`'s are), which spares the
        divergence check a pass over them.
    """

    def __init__(
        self, network, workspace, eta, *, record=False, indices=None, inputs_bounded=False
    ) -> None:
        self.network = network
        self.inputs_bounded = inputs_bounded  # every input known to lie in [0, 1]
        self.ws = workspace
        self.eta = float(eta)
        self.indices = indices
        self.phases = phases_for(network.num_layers)
        self.done = 0
        self.cost_sum: float | None = None  # Σ_x C_x, set with BP1 (the output error)
        self.activation = network.activation
        self.cost = network.cost
        self._before = None
        if record:
            self._before = (
                frozen_all(network.weights),
                frozen_all(b[:, 0] for b in network.biases),
            )

    @property
    def complete(self) -> bool:
        return self.done == len(self.phases)

    @property
    def mean_cost(self) -> float:
        """C = (1/m) Σ_x C_x of the batch, once the output error (BP1) has been computed."""
        return self.cost_sum / self.ws.m

    def run_next(self):
        """Run the next phase and return it."""
        phase = self.phases[self.done]
        if phase.kind == "feedforward":
            self._feedforward()
        elif phase.kind == "output_error":
            self._output_error()
        elif phase.kind == "backpropagate":
            self._backpropagate(phase.layer)
        elif phase.kind == "gradients":
            self._gradients()
        else:
            self._update()
        self.done += 1
        return phase

    def run_all(self) -> None:
        """Run every remaining phase (the fast path calls them directly, in the same order)."""
        if self.done:
            while self.done < len(self.phases):
                self.run_next()
            return
        self._feedforward()
        self._output_error()
        for layer in range(self.network.num_layers - 1, 1, -1):
            self._backpropagate(layer)
        self._gradients()
        self._update()
        self.done = len(self.phases)

    # -- the phases ---------------------------------------------------------------------------
    def _feedforward(self) -> None:
        ws, act = self.ws, self.activation
        for i, wb in enumerate(self.network.layers, start=1):
            z = ws.z[i]
            # z^l = w^l a^(l−1) + b^l for every example (a row each): [a^(l−1) 1] [w^l | b^l]^T
            np.matmul(ws.a_ones[i - 1], wb.T, out=z)
            act.fn_into(z, ws.a[i])  # a^l = σ(z^l)

    def _output_error(self) -> None:
        ws = self.ws
        # BP1: δ^L = ∇_a C ⊙ σ'(z^L). The batch's cost Σ_x C_x comes from the same a^L − y;
        # views show C per example from the trace, computed from a^L once the forward pass ran.
        self.cost_sum = self.cost.delta_into(
            ws.z[-1], ws.a[-1], ws.y, self.activation, ws.delta[-1]
        )

    def _backpropagate(self, layer: int) -> None:
        ws, i = self.ws, layer - 1
        # BP2: δ^l = ((w^(l+1))^T δ^(l+1)) ⊙ σ'(z^l); with rows as examples, δ^(l+1) w^(l+1).
        np.matmul(ws.delta[i + 1], self.network.weights[i], out=ws.delta[i])
        ws.delta[i] *= self.activation.prime_from_output(ws.z[i], ws.a[i])

    def _gradients(self) -> None:
        ws = self.ws
        scale = self.eta / ws.m
        for i in range(1, len(ws.a)):
            # BP3 and BP4 need only δ^l and a^(l−1): ∂C/∂b^l_j = mean δ^l_j and ∂C/∂w^l_jk =
            # mean a^(l−1)_k δ^l_j. The update multiplies them out inside its product; here δ
            # is scaled by η/m for it, and the trace forms the gradients when a view asks.
            np.multiply(ws.delta[i], scale, out=ws.scaled_delta[i])

    def _update(self) -> None:
        ws = self.ws
        if not self._steps_are_finite():
            raise DivergenceError(self._divergence_message())
        gemm = ws.gemm
        for sd, a1, wb in zip(ws.scaled_delta[1:], ws.a_ones, self.network.layers):
            # [w | b] → [w | b] − (η/m) Σ_x δ^T [a 1], as (η/m)·BP4 and BP3 summed over the batch:
            # gemm computes C = α A B + β C in place on the transposed (column-major) views.
            gemm(-1.0, a1.T, sd, 1.0, wb.T, overwrite_c=1)

    def _steps_are_finite(self) -> bool:
        # Every step is (η/m) Σ_x δ_xj a_xk, so by Cauchy–Schwarz |step| ≤ √(Σδ² · Σa²).
        # When that bound is below 1e150 no step, and no new parameter, can overflow; NaN fails
        # the comparison too. For activations bounded by 1 (and inputs in [0, 1]) Σa² ≤ m(n+1)
        # needs no pass over a. All is checked before any parameter changes.
        ws, act = self.ws, self.activation
        if not math.isfinite(self.cost_sum):
            return False
        for i in range(1, len(ws.a)):
            sdt = ws.scaled_delta[i].T
            a1 = ws.a_ones[i - 1]
            bounded = self.inputs_bounded if i == 1 else act.bounded
            sum_a2 = a1.size if bounded else float(np.vdot(a1, a1))
            if not float(np.vdot(sdt, sdt)) * sum_a2 < 1e300:
                return False
        return True

    def _divergence_message(self) -> str:
        out = self.ws.a[-1]
        if self.cost.name == "cross-entropy" and not ((out > 0) & (out < 1)).all():
            return (
                f"the cross-entropy cost needs every output in (0, 1), but {self.activation.name} "
                f"output neurons gave values from {out.min():.3g} to {out.max():.3g}. Use sigmoid "
                "neurons or the quadratic cost. The network was left as it was before this "
                "mini-batch."
            )
        return (
            f"training diverged: with η = {self.eta:g} the cost or the weights became infinite "
            "or NaN. The network was left as it was before this mini-batch; try a smaller "
            "learning rate."
        )

    # -- what views see -------------------------------------------------------------------------
    def trace(self) -> Trace:
        """An immutable copy of everything computed so far."""
        # A diverging batch may hold infinities: copying them out must not warn.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._trace()

    def _trace(self) -> Trace:
        ws, net, done, kinds = self.ws, self.network, self.done, [p.kind for p in self.phases]
        ran = set(kinds[: self.done])
        L = net.num_layers
        delta_done = {L} if "output_error" in ran else set()
        delta_done |= {p.layer for p in self.phases[:done] if p.kind == "backpropagate"}
        fed = "feedforward" in ran
        grads = "gradients" in ran
        if self._before is not None:
            weights, biases = self._before
        elif "update" not in ran:
            weights, biases = frozen_all(net.weights), frozen_all(b[:, 0] for b in net.biases)
        else:
            weights = biases = None
        updated = "update" in ran
        nabla = self.mean_gradients() if grads else ((None,) * (L - 1),) * 2
        return Trace(
            sizes=tuple(net.sizes),
            activation=self.activation.name,
            cost=self.cost.name,
            eta=self.eta,
            phases_done=done,
            indices=frozen(np.arange(ws.m) if self.indices is None else self.indices),
            x=frozen(ws.x),
            y=frozen(ws.y),
            z=tuple(frozen(z) if fed else None for z in ws.z),
            a=tuple(frozen(a) if (fed or i == 0) else None for i, a in enumerate(ws.a)),
            delta=tuple(frozen(d) if i + 1 in delta_done else None for i, d in enumerate(ws.delta)),
            nabla_b=nabla[0],
            nabla_w=nabla[1],
            weights=weights,
            biases=biases,
            weights_after=frozen_all(net.weights) if updated else None,
            biases_after=frozen_all(b[:, 0] for b in net.biases) if updated else None,
            costs=frozen(self.cost.fn(ws.a[-1], ws.y)) if fed else None,
        )

    def mean_gradients(self) -> tuple[tuple[Array, ...], tuple[Array, ...]]:
        """(∂C/∂b, ∂C/∂w) of the batch cost C = (1/m) Σ_x C_x, once BP1 and BP2 have run.

        Read-only arrays shaped like the biases (as (n_l,) vectors) and the weights.
        """
        # (1/m) Σ_x δ^l_j and (1/m) Σ_x a^(l−1)_k δ^l_j. The update used the same sums scaled
        # by η/m inside one product (see _gradients); computing them here, unscaled, keeps the
        # gradient exact instead of dividing the step by η.
        ws, nabla_b, nabla_w = self.ws, [], []
        for i in range(1, len(ws.a)):
            d = ws.delta[i]
            nabla_b.append(frozen(d.sum(axis=0) / ws.m))
            nabla_w.append(frozen((d.T @ ws.a[i - 1]) / ws.m))
        return tuple(nabla_b), tuple(nabla_w)


def frozen_all(arrays) -> tuple[Array, ...]:
    """Read-only copies of several arrays."""
    return tuple(frozen(a) for a in arrays)
