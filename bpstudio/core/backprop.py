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

from bpstudio.core.errors import DivergenceError
from bpstudio.core.trace import Trace, frozen, phases_for

Array = np.ndarray


class Workspace:
    """Buffers for one batch size ``m``: entry ``l − 1`` belongs to the book's layer l."""

    def __init__(self, sizes: tuple[int, ...], m: int, dtype: np.dtype) -> None:
        self.m = m
        self.x = np.empty((m, sizes[0]), dtype)
        self.y = np.empty((m, sizes[-1]), dtype)
        self.z: list[Array | None] = [None] + [np.empty((m, n), dtype) for n in sizes[1:]]
        self.a: list[Array] = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]
        self.delta: list[Array | None] = [None] + [np.empty((m, n), dtype) for n in sizes[1:]]
        # δ^l scaled by η/m, so that one product gives the step (η/m) Σ_x ∂C_x/∂w directly and
        # no weight-sized array needs a second pass to be scaled.
        self.scaled_delta = [None] + [np.empty((m, n), dtype) for n in sizes[1:]]
        self.step_w = [np.empty((n, k), dtype) for k, n in zip(sizes[:-1], sizes[1:])]
        self.step_b = [np.empty(n, dtype) for n in sizes[1:]]


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
    """

    def __init__(self, network, workspace, eta, *, record=False, indices=None) -> None:
        self.network = network
        self.ws = workspace
        self.eta = float(eta)
        self.indices = indices
        self.phases = phases_for(network.num_layers)
        self.done = 0
        self.costs: Array | None = None
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
        """Run every remaining phase."""
        while self.done < len(self.phases):
            self.run_next()

    # -- the phases ---------------------------------------------------------------------------
    def _feedforward(self) -> None:
        ws, act, net = self.ws, self.activation, self.network
        for i, (w, b) in enumerate(zip(net.weights, net.biases), start=1):
            z = ws.z[i]
            np.matmul(ws.a[i - 1], w.T, out=z)  # z^l = w^l a^(l−1) + b^l, a row per example
            z += b.T
            ws.a[i][...] = act.fn(z)  # a^l = σ(z^l)
        self.costs = self.cost.fn(ws.a[-1], ws.y)

    def _output_error(self) -> None:
        ws = self.ws
        # BP1: δ^L = ∇_a C ⊙ σ'(z^L)
        ws.delta[-1][...] = self.cost.delta(ws.z[-1], ws.a[-1], ws.y, self.activation)

    def _backpropagate(self, layer: int) -> None:
        ws, i = self.ws, layer - 1
        # BP2: δ^l = ((w^(l+1))^T δ^(l+1)) ⊙ σ'(z^l); with rows as examples, δ^(l+1) w^(l+1).
        np.matmul(ws.delta[i + 1], self.network.weights[i], out=ws.delta[i])
        ws.delta[i] *= self.activation.prime_from_output(ws.z[i], ws.a[i])

    def _gradients(self) -> None:
        ws = self.ws
        scale = self.eta / ws.m
        for i in range(1, len(ws.a)):
            sd = ws.scaled_delta[i]
            np.multiply(ws.delta[i], scale, out=sd)
            # BP4: ∂C_x/∂w^l_jk = a^(l−1)_k δ^l_j; one product sums it over the batch (times η/m).
            np.matmul(sd.T, ws.a[i - 1], out=ws.step_w[i - 1])
            # BP3: ∂C_x/∂b^l_j = δ^l_j.
            np.sum(sd, axis=0, out=ws.step_b[i - 1])

    def _update(self) -> None:
        ws, net = self.ws, self.network
        finite = math.isfinite(float(self.costs.sum()))
        for tw, tb in zip(ws.step_w, ws.step_b):
            # A sum of squares is finite only if every step is below ~1e154 in size, so the new
            # weights stay finite; checked for every layer before any weight changes.
            flat = tw.reshape(-1)
            finite = finite and math.isfinite(np.dot(flat, flat)) and math.isfinite(np.dot(tb, tb))
        if not finite:
            raise DivergenceError(self._divergence_message())
        for w, b, tw, tb in zip(net.weights, net.biases, ws.step_w, ws.step_b):
            w -= tw  # w → w − (η/m) Σ_x ∂C_x/∂w
            b[:, 0] -= tb

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
            nabla_b=self._mean_gradients("b") if grads else (None,) * (L - 1),
            nabla_w=self._mean_gradients("w") if grads else (None,) * (L - 1),
            weights=weights,
            biases=biases,
            weights_after=frozen_all(net.weights) if updated else None,
            biases_after=frozen_all(b[:, 0] for b in net.biases) if updated else None,
            costs=frozen(self.costs),
        )

    def _mean_gradients(self, which: str) -> tuple[Array, ...]:
        # ∂C/∂w = (1/m) Σ_x a^(l−1)_k δ^l_j for the trace. The update used the same sum scaled by
        # η/m inside one product (see _gradients); recomputing it here, unscaled, keeps the
        # gradient exact instead of dividing the step by η.
        ws, out = self.ws, []
        for i in range(1, len(ws.a)):
            d = ws.delta[i]
            g = d.T @ ws.a[i - 1] if which == "w" else d.sum(axis=0)
            out.append(frozen(g / ws.m))
        return tuple(out)


def frozen_all(arrays) -> tuple[Array, ...]:
    """Read-only copies of several arrays."""
    return tuple(frozen(a) for a in arrays)
