"""The chapter's closing idea: ∂C/∂w^l_jk is a sum over every path from the weight to the cost.

A path starts at the weight w^l_jk, goes into neuron j of layer l, then through one neuron of
every later layer, and ends at one output neuron m of layer L. Its *rate factor* is the product of
the rates of change along it (the last section of chapter 2):

    ∂a^l_j/∂w^l_jk · ∂a^(l+1)_(i_{l+1})/∂a^l_j · … · ∂a^L_m/∂a^(L−1)_(i_{L−1}) · ∂C/∂a^L_m

with ∂a^l_j/∂w^l_jk = σ′(z^l_j) a^(l−1)_k and ∂a^(q+1)_i/∂a^q_h = σ′(z^(q+1)_i) w^(q+1)_ih. The sum
of these products over all paths equals ∂C/∂w^l_jk; backprop (BP1, BP2, BP4) is a way of computing
that sum without listing the paths. A weight into the output layer (l = L) has one path, (j,).
There are n_(l+1) · … · n_L paths: 10 per weight of layer 2 of [784, 30, 10], 1,000 of
[784, 300, 100, 10].

Numbers. Every path's last two rates, σ′(z^L_m) and ∂C/∂a^L_m, are multiplied together as the
cost's own ``delta`` (BP1: δ^L_m = ∂C/∂a^L_m · σ′(z^L_m)), not from the two factors shown. They are
the same number; but for the cross-entropy cost with sigmoid outputs ∂C/∂a = (a − y)/(a(1 − a))
becomes ±inf or NaN once a^L rounds to 0 or 1, while δ^L = a − y stays exact. The factors
returned by :meth:`PathRates.factors` are the separate rates, ∂C/∂a^L_m from the cost's
``gradient``, for display.

Assumptions. σ acts elementwise, so a^(q+1)_i depends on a^q only through z^(q+1)_i: the paths
are exactly the chains of edges. Both costs the core offers have an elementwise ∂C/∂a^L_m (it
depends on a^L_m and y_m only); a cost that couples the outputs would still fit (its ∂C/∂a^L_m is
one number per output), but an output layer that couples them, such as softmax, would add paths
z^L_i → a^L_m between different output neurons, which this module does not list.

Layer numbers are the book's (the input layer is l = 1); see :mod:`bpstudio.core.network`.
Examples are the book's columns: ``x`` of shape (n_1, m), ``y`` of shape (n_L, m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bpstudio.core.errors import ConfigError
from bpstudio.core.gradcheck import Param, numeric_derivative
from bpstudio.core.probe import network_from_trace

Array = np.ndarray

#: The most paths one weight may have before listing them is refused: 4,194,304 products of
#: float64 are 32 MB. (Backprop exists so that nobody has to list them.)
MAX_PATHS = 1 << 22
#: Batch products are formed for this many (example, path) pairs at a time, to bound memory.
BLOCK = 1 << 20


class WeightPath(NamedTuple):
    """One path from w^l_jk to the cost: ``neurons`` j, i_(l+1), …, m of layers l … L."""

    neurons: tuple[int, ...]
    product: float


class TopPaths(NamedTuple):
    """The largest paths of a weight and what the others add up to.

    Attributes
    ----------
    paths : list of WeightPath
        At most ``limit`` paths, largest |product| first.
    rest_sum : float
        The sum of the products of every path not in ``paths`` (0.0 when all are listed).
    count : int
        How many paths the weight has.
    """

    paths: list[WeightPath]
    rest_sum: float
    count: int

    @property
    def total(self) -> float:
        """The sum over all paths: ∂C/∂w^l_jk."""
        return math.fsum(p.product for p in self.paths) + self.rest_sum


def path_count(sizes, l: int) -> int:
    """The number of paths from a weight of layer l: n_(l+1) · … · n_L (1 for l = L)."""
    return math.prod(int(n) for n in sizes[l:])


def path_edges(sizes, l: int, j: int, k: int) -> list[tuple[int, int, int]]:
    """The edges the paths of w^l_jk use, as (layer, j, k) triples of weights w^layer_jk.

    The weight itself comes first, then the edges out of neuron j of layer l (w^(l+1)_ij for every
    i), then every edge of the layers after l + 1 (every neuron of layer l + 1 is on a path).
    """
    _check_weight(sizes, l, j, k)
    edges = [(l, j, k)]
    if l < len(sizes):
        edges += [(l + 1, i, j) for i in range(sizes[l])]
    for q in range(l + 2, len(sizes) + 1):
        edges += [(q, i, h) for i in range(sizes[q - 1]) for h in range(sizes[q - 2])]
    return edges


def _check_weight(sizes, l: int, j: int, k: int) -> None:
    L = len(sizes)
    if not (2 <= l <= L and 0 <= j < sizes[l - 1] and 0 <= k < sizes[l - 2]):
        raise ConfigError(
            f"w^{l}_{j},{k} is not a weight of a {list(sizes)} network "
            f"(l from 2 to {L}, j below n_l, k below n_(l-1))"
        )


@dataclass(frozen=True, eq=False)
class PathRates:
    """Every rate of change on the paths of w^l_jk, for m examples, in float64.

    Attributes
    ----------
    sizes : tuple of int
        n_1 … n_L.
    l, j, k : int
        The weight w^l_jk.
    a_in : (m,) array
        a^(l−1)_k per example.
    first : (m,) array
        ∂a^l_j/∂w^l_jk = σ′(z^l_j) a^(l−1)_k per example.
    sigma_prime : tuple of (m, n_q) arrays
        σ′(z^q) for q = l + 1 … L.
    weights : tuple of (n_q, n_(q−1)) arrays
        w^q for q = l + 1 … L.
    cost_gradient : (m, n_L) array
        ∂C_x/∂a^L from the cost's ``gradient``.
    delta_out : (m, n_L) array
        δ^L = ∂C_x/∂a^L ⊙ σ′(z^L) from the cost's ``delta`` (BP1), which the products use.
    """

    sizes: tuple[int, ...]
    l: int
    j: int
    k: int
    a_in: Array
    first: Array
    sigma_prime: tuple[Array, ...]
    weights: tuple[Array, ...]
    cost_gradient: Array
    delta_out: Array

    @property
    def m(self) -> int:
        return int(self.first.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one example's product tensor: (n_(l+1), …, n_L); () for l = L."""
        return tuple(self.sizes[self.l :])

    @property
    def count(self) -> int:
        return path_count(self.sizes, self.l)

    def neurons(self, flat_index: int) -> tuple[int, ...]:
        """The path numbered ``flat_index`` (C order over :attr:`shape`) as neurons j, …, m."""
        rest = np.unravel_index(int(flat_index), self.shape) if self.shape else ()
        return (self.j, *(int(i) for i in rest))

    def products(self, examples=slice(None)) -> Array:
        """The products of every path for the chosen examples: shape (m', n_(l+1), …, n_L)."""
        if self.l == len(self.sizes):  # one path: a^(L−1)_k δ^L_j, with σ′(z^L_j) inside δ^L
            return self.a_in[examples] * self.delta_out[examples, self.j]
        first = self.first[examples]
        # The edge into layer l + 1 leaves neuron j; its rate is σ′(z^(l+1)_i) w^(l+1)_ij.
        # In the output layer σ′ is inside δ^L (see the module docstring).
        out = len(self.weights) == 1
        rate = self.delta_out[examples] if out else self.sigma_prime[0][examples]
        p = first[:, None] * rate * self.weights[0][:, self.j]
        for q, w in enumerate(self.weights[1:], start=1):
            last = q == len(self.weights) - 1
            edge = w.T  # edge[h, i] = w^(q')_ih joins neuron h to neuron i of the next layer
            p = p[..., :, None] * edge
            rate = self.delta_out[examples] if last else self.sigma_prime[q][examples]
            p *= rate.reshape(rate.shape[:1] + (1,) * (p.ndim - 2) + rate.shape[1:])
        return p

    def mean_products(self) -> Array:
        """Each path's product averaged over the m examples, flat in C order: shape (count,)."""
        count = self.count
        total = np.zeros(count)
        step = max(1, BLOCK // count)  # examples per slice, so a slice holds ≤ BLOCK products
        for start in range(0, self.m, step):
            total += self.products(slice(start, start + step)).reshape(-1, count).sum(axis=0)
        return total / self.m

    def top(self, limit: int = 100, example: int | None = None) -> TopPaths:
        """The ``limit`` paths with the largest |product| and the sum of the others.

        ``example`` picks one of the m examples (0 … m − 1); ``None`` ranks the paths by their
        mean product over the m examples, whose sum is ∂C/∂w^l_jk of the batch cost.
        """
        _refuse_too_many(self.sizes, self.l)
        if example is None:
            return _largest(self, self.mean_products(), limit)
        if not 0 <= int(example) < self.m:
            raise ConfigError(f"example must be from 0 to {self.m - 1}, got {example}")
        return _largest(self, self.products(slice(example, example + 1)).reshape(-1), limit)

    def factors(self, neurons) -> Array:
        """The separate rates along one path, per example: shape (m, L − l + 2).

        Column 0 is ∂a^l_j/∂w^l_jk, then ∂a^(q+1)_i/∂a^q_h for each later layer, and last
        ∂C/∂a^L_m. Their product is the path's product (see the module docstring on δ^L).
        """
        neurons = tuple(int(n) for n in neurons)
        if len(neurons) != len(self.sizes) - self.l + 1 or neurons[0] != self.j:
            raise ConfigError(
                f"a path of w^{self.l}_{self.j},{self.k} starts at neuron {self.j} "
                f"and has {len(self.sizes) - self.l + 1} neurons, got {neurons}"
            )
        cols = [self.first]
        for q, (h, i) in enumerate(zip(neurons[:-1], neurons[1:])):
            cols.append(self.sigma_prime[q][:, i] * self.weights[q][i, h])
        cols.append(self.cost_gradient[:, neurons[-1]])
        return np.stack(cols, axis=1)


def path_rates(network, x: Array, y: Array, l: int, j: int, k: int) -> PathRates:
    """The rates on the paths of w^l_jk for the examples in the columns of ``x`` and ``y``.

    Parameters
    ----------
    network : Network
        Any :class:`~bpstudio.core.network.Network` (float32 parameters are read as float64).
    x : (n_1, m) array
        Inputs, one column per example (the book's form; (n_1, 1) for one example).
    y : (n_L, m) array
        Desired outputs as columns.
    l, j, k : int
        The weight w^l_jk in the book's numbering.
    """
    sizes = tuple(network.sizes)
    _check_weight(sizes, l, j, k)
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.ndim != 2 or x.shape[0] != sizes[0] or x.shape[1] < 1:
        raise ConfigError(f"x must be columns of shape ({sizes[0]}, m), got {x.shape}")
    if y.shape != (sizes[-1], x.shape[1]):
        raise ConfigError(f"y must have shape ({sizes[-1]}, {x.shape[1]}), got {y.shape}")
    act, cost = network.activation, network.cost
    weights = [np.asarray(w, np.float64) for w in network.weights]
    biases = [np.asarray(b, np.float64).reshape(-1) for b in network.biases]
    a, zs, acts = x.T, [None], [x.T]  # rows inside: entry q − 1 belongs to layer q
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for w, b in zip(weights, biases):
            zs.append(a @ w.T + b)
            a = act.fn(zs[-1])
            acts.append(a)
        yr = y.T
        a_in = acts[l - 2][:, k]
        return PathRates(
            sizes=sizes,
            l=l,
            j=j,
            k=k,
            a_in=a_in,
            first=act.prime(zs[l - 1][:, j]) * a_in,
            sigma_prime=tuple(act.prime(zs[q - 1]) for q in range(l + 1, len(sizes) + 1)),
            weights=tuple(weights[q - 2] for q in range(l + 1, len(sizes) + 1)),
            cost_gradient=cost.gradient(acts[-1], yr),
            delta_out=cost.delta(zs[-1], acts[-1], yr, act),
        )


def _refuse_too_many(sizes, l: int) -> int:
    count = path_count(sizes, l)
    if count > MAX_PATHS:
        raise ConfigError(
            f"a weight of layer {l} of {list(sizes)} has {count:,} paths to the cost, more than "
            f"the {MAX_PATHS:,} that can be listed; choose a weight of a later layer"
        )
    return count


def weight_paths(network, x: Array, y: Array, l: int, j: int, k: int) -> list[WeightPath]:
    """Every path from w^l_jk to the cost for one example, in C order of the neurons.

    Parameters
    ----------
    network : Network
    x : (n_1, 1) array
        One input column.
    y : (n_L, 1) array
        Its desired output column.
    l, j, k : int
        The weight w^l_jk (book numbering).

    Returns
    -------
    list of WeightPath
        ``(neurons, product)`` pairs: ``neurons`` is j in layer l, then one neuron of each later
        layer, ending at m in layer L; the products sum to ∂C_x/∂w^l_jk.
    """
    if np.ndim(x) != 2 or np.shape(x)[1] != 1:
        raise ConfigError(f"weight_paths takes one example as a column (n_1, 1), got {np.shape(x)}")
    _refuse_too_many(network.sizes, l)
    rates = path_rates(network, x, y, l, j, k)
    flat = rates.products()[0].reshape(-1)
    return [WeightPath(rates.neurons(i), float(v)) for i, v in enumerate(flat)]


def _largest(rates: PathRates, flat: Array, limit: int) -> TopPaths:
    count = flat.size
    if limit < 0:
        raise ConfigError(f"the number of paths to list must be 0 or more, got {limit}")
    magnitude = np.abs(flat)
    if limit >= count:
        idx = np.arange(count)
    elif limit == 0:
        idx = np.arange(0)
    else:
        idx = np.argpartition(-magnitude, limit - 1)[:limit]
    # Largest |product| first; equal ones in path order, so the listing is reproducible.
    idx = idx[np.lexsort((idx, -magnitude[idx]))]
    rest = np.ones(count, bool)
    rest[idx] = False
    paths = [WeightPath(rates.neurons(i), float(flat[i])) for i in idx]
    return TopPaths(paths, float(np.sum(flat[rest])), count)


def top_paths(network, x: Array, y: Array, l: int, j: int, k: int, limit: int = 100) -> TopPaths:
    """The ``limit`` paths of w^l_jk with the largest |product| for one example, and the rest's sum.

    Takes the same arguments as :func:`weight_paths` (x, y one column each); only the listed
    paths become Python tuples. ``result.total`` is ∂C_x/∂w^l_jk.
    """
    if np.ndim(x) != 2 or np.shape(x)[1] != 1:
        raise ConfigError(f"top_paths takes one example as a column (n_1, 1), got {np.shape(x)}")
    _refuse_too_many(network.sizes, l)
    return path_rates(network, x, y, l, j, k).top(limit, example=0)


def top_paths_mean(
    network, x: Array, y: Array, l: int, j: int, k: int, limit: int = 100
) -> TopPaths:
    """:func:`top_paths` for a mini-batch: each path's product is its mean over the examples.

    ``x`` (n_1, m) and ``y`` (n_L, m) hold the batch as columns. The mean over the examples of
    each example's sum over paths is the sum over paths of the mean products, so
    ``result.total`` is ∂C/∂w^l_jk of the batch cost C = (1/m) Σ_x C_x.
    """
    _refuse_too_many(network.sizes, l)
    rates = path_rates(network, x, y, l, j, k)
    return rates.top(limit)


@dataclass(frozen=True, eq=False)
class PathCheck:
    """The sum over paths of one weight checked against backprop and a finite difference.

    Attributes
    ----------
    rates : PathRates
        The rates over the whole mini-batch.
    example : int
        The example (0 … m − 1) of ``top_example`` and of the ``example_*`` numbers.
    top_example, top_mean : TopPaths
        The largest paths of that example, and of the batch mean.
    example_backprop : float
        ∂C_x/∂w^l_jk of that example by the book's ``backprop``.
    example_numeric, mean_numeric : float
        Central differences of C_x and of the batch cost C = (1/m) Σ_x C_x.
    mean_backprop : float or None
        ∂C/∂w^l_jk of the batch as the trace holds it (what the update used), ``None`` before
        BP4 has run in a phase-stepped pass.
    """

    rates: PathRates
    example: int
    top_example: TopPaths
    top_mean: TopPaths
    example_backprop: float
    example_numeric: float
    mean_backprop: float | None
    mean_numeric: float

    @property
    def count(self) -> int:
        return self.rates.count

    @property
    def example_sum(self) -> float:
        return self.top_example.total

    @property
    def mean_sum(self) -> float:
        return self.top_mean.total


def check_paths(trace, l: int, j: int, k: int, example: int = 0, limit: int = 100) -> PathCheck:
    """The paths of w^l_jk for a recorded pass (a :class:`~bpstudio.core.trace.Trace`).

    Everything is computed at the weights the trace's gradients were computed at, in a float64
    network of its own (:func:`bpstudio.core.probe.network_from_trace`), for the trace's inputs
    and targets; ``limit`` paths are listed per ranking.
    """
    net = network_from_trace(trace)
    x = np.asarray(trace.x, np.float64)
    y = np.asarray(trace.y, np.float64)
    rates = path_rates(net, x.T, y.T, l, j, k)
    top_example = rates.top(limit, example=example)
    param, one = Param("w", l, j, k), slice(example, example + 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        example_backprop = float(net.backprop(x[one].T, y[one].T)[1][l - 2][j, k])
        example_numeric = numeric_derivative(net, x[one], y[one], param)
        mean_numeric = numeric_derivative(net, x, y, param)
    grad = None if trace.nabla_w is None else trace.nabla_w[l - 2]
    return PathCheck(
        rates=rates,
        example=int(example),
        top_example=top_example,
        top_mean=rates.top(limit),
        example_backprop=example_backprop,
        example_numeric=example_numeric,
        mean_backprop=None if grad is None else float(grad[j, k]),
        mean_numeric=mean_numeric,
    )
