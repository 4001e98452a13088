"""What the main window draws from a snapshot, as functions of the snapshot alone.

Kept apart from :mod:`bpstudio.gui.main_window` (which decides *when* to draw) so that each
piece can be read and tested on its own: the node values per layer, the status bar's texts, the
hover text.
"""

from __future__ import annotations

import numpy as np

from bpstudio.core.functions import get_activation
from bpstudio.gui.numbers import format_number


def node_values(snap, key: str):
    """The mean over the mini-batch of δ, a, z or σ′(z) per layer, and the layers without one."""
    trace = snap.trace
    L = snap.num_layers
    if trace is None:
        return [None] * L, set(range(1, L + 1))
    act = get_activation(trace.activation)
    values = []
    for l in range(1, L + 1):
        z = trace.z[l - 1]
        if key == "delta":
            v = trace.delta[l - 1]
        elif key == "a":
            v = trace.a[l - 1]
        elif key == "z":
            v = z
        else:
            v = None if z is None else act.prime(z)
        values.append(None if v is None else np.asarray(v).mean(axis=0))
    neutral = {l for l in range(1, L + 1) if values[l - 1] is None}
    return values, neutral


def epoch_text(epoch: int, target: int) -> str:
    """Epochs are numbered from 0, as the book prints them ("Epoch 0" is the first)."""
    if target == 0:
        return "no epochs set to train"
    last = f"epoch {target - 1}" if target > 1 else "epoch 0"
    if epoch >= target:
        return f"all {target} epochs done (0 to {target - 1})" if target > 1 else "epoch 0 done"
    return f"epoch {epoch} (from 0; the last is {last})"


def status_texts(snap, last_cost: float | None) -> dict[str, str]:
    """The status bar's labels: epoch, mini-batch (and the next phase), speed, last cost."""
    phase = f" · next: {snap.next_phase.title}" if snap.in_pass and snap.next_phase else ""
    return {
        "epochLabel": epoch_text(snap.epoch, snap.epochs_target),
        "batchLabel": f"mini-batch {snap.batch_in_epoch} / {snap.batches_per_epoch}{phase}",
        "speedLabel": f"{snap.examples_per_second:,.0f} examples/s",
        "costLabel": "cost —" if last_cost is None else f"cost {format_number(last_cost)}",
    }


def hover_text(base: str, snap, hit: tuple) -> str:
    """``base`` (the view's own text) with ∂C/∂w of an edge or the mean δ of a neuron."""
    if snap is None or snap.trace is None:
        return base
    trace, (kind, idx) = snap.trace, hit
    if kind == "weight" and trace.nabla_w[0] is not None:
        l, j, k = idx
        return f"{base}\n∂C/∂w = {format_number(trace.nabla_w[l - 2][j, k])} (this mini-batch)"
    if kind == "neuron" and idx[0] > 1 and trace.delta[idx[0] - 1] is not None:
        l, j = idx
        return f"{base}\nδ = {format_number(trace.delta[l - 1][:, j].mean())} (mean over the batch)"
    return base
