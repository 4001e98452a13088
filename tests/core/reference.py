"""An independent per-example reference: the book's update_mini_batch, written out afresh.

It shares nothing with bpstudio's code but the parameter layout: its own activations, its own
cost derivatives, one example at a time, column vectors, a loop over examples.
"""

import numpy as np

ACT = {
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1.0 / np.cosh(z) ** 2),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "linear": (lambda z: z + 0.0, lambda z: np.ones_like(z)),
}


def cost_value(cost, a, y):
    if cost == "quadratic":
        return 0.5 * float(np.sum((a - y) ** 2))
    return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)))


def cost_grad_a(cost, a, y):
    if cost == "quadratic":
        return a - y
    return -(y / a) + (1 - y) / (1 - a)


def backprop_one(weights, biases, x, y, activation, cost):
    """(nabla_b, nabla_w) of C_x for one example x (column), y (column)."""
    f, fp = ACT[activation]
    a, acts, zs = x, [x], []
    for w, b in zip(weights, biases):
        z = w @ a + b
        zs.append(z)
        a = f(z)
        acts.append(a)
    delta = cost_grad_a(cost, acts[-1], y) * fp(zs[-1])
    nb, nw = [None] * len(weights), [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        if i < len(weights) - 1:
            delta = (weights[i + 1].T @ delta) * fp(zs[i])
        nb[i] = delta
        nw[i] = delta @ acts[i].T
    return nb, nw


def update_mini_batch(weights, biases, batch, eta, activation="sigmoid", cost="quadratic"):
    """New (weights, biases) after w → w − (η/m) Σ_x ∂C_x/∂w over a list of (x, y) columns."""
    sum_b = [np.zeros_like(b) for b in biases]
    sum_w = [np.zeros_like(w) for w in weights]
    for x, y in batch:
        nb, nw = backprop_one(weights, biases, x, y, activation, cost)
        sum_b = [s + d for s, d in zip(sum_b, nb)]
        sum_w = [s + d for s, d in zip(sum_w, nw)]
    m = len(batch)
    return (
        [w - (eta / m) * s for w, s in zip(weights, sum_w)],
        [b - (eta / m) * s for b, s in zip(biases, sum_b)],
    )


def batch_cost(weights, biases, xs, ys, activation, cost):
    """Mean cost (1/m) Σ_x C_x over rows xs, one-hot rows ys, computed example by example."""
    f, _ = ACT[activation]
    total = 0.0
    for x, y in zip(xs, ys):
        a = x.reshape(-1, 1)
        for w, b in zip(weights, biases):
            a = f(w @ a + b)
        total += cost_value(cost, a, y.reshape(-1, 1))
    return total / len(xs)


def rel_err(a, b):
    """Normwise relative error max|a − b| / max|b| of two arrays of the same shape.

    Elementwise ratios would measure cancellation in entries that happen to be near zero, not the
    agreement of two algorithms; the max norm of the whole array is the scale that matters.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))
