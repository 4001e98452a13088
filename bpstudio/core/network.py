"""The network of the book's ``network.py``, with its names, and a matrix-based fast path.

Layer numbers are the book's: the input layer is l = 1 and the output layer is l = L =
``num_layers``. The one mapping to Python indices, used everywhere in bpstudio:

* ``weights[l - 2]`` is w^l, shape ``(n_l, n_(l−1))``; ``w[j, k]`` joins neuron k of layer l − 1
  to neuron j of layer l;
* ``biases[l - 2]`` is b^l, a column of shape ``(n_l, 1)``;
* per-neuron quantities of a whole network (z, a, δ) are indexed by ``l - 1``.

``feedforward``, ``backprop``, ``update_mini_batch`` and ``evaluate`` take the book's column
vectors, so the chapter's code can be replayed against this class. ``train_batch`` is the fast
path: one forward and one backward sweep of matrix products over a whole mini-batch given as
rows (see :mod:`bpstudio.core.backprop`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import is_

import numpy as np

from bpstudio.core.backprop import BatchPass, Workspace, parameter_count, parameter_views
from bpstudio.core.errors import ConfigError
from bpstudio.core.functions import Activation, get_activation, get_cost

Array = np.ndarray

# Evaluating a whole data set runs in chunks of this many examples so that the temporaries stay
# small (50,000 × 30 doubles at once would be 12 MB per layer).
EVAL_CHUNK = 2000


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Validate layer sizes: at least two layers, each a positive integer."""
    try:
        out = tuple(int(n) for n in sizes)
    except (TypeError, ValueError):
        raise ConfigError(f"layer sizes must be whole numbers, got {sizes!r}") from None
    if len(out) < 2:
        raise ConfigError("a network needs at least two layers (input and output)")
    if any(n < 1 for n in out) or any(float(n) != float(s) for n, s in zip(out, sizes)):
        raise ConfigError(f"every layer needs a whole, positive number of neurons, got {sizes!r}")
    return out


class Network:
    """A feedforward network of fully connected layers, trained by backprop and SGD.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.
    activation : str or Activation
        σ for every layer: ``"sigmoid"`` (default), ``"tanh"``, ``"relu"`` or ``"linear"``.
    cost : str or cost class
        ``"quadratic"`` (default) or ``"cross-entropy"``.
    seed : int, optional
        Seed of the generator that draws the initial weights; ignored if ``rng`` is given.
    rng : numpy.random.Generator, optional
        Generator for the initial weights and biases (standard normal, as the book).
    dtype : numpy dtype
        ``float64`` (default, the book's numbers) or ``float32`` (faster).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Activation = "sigmoid",
        cost="quadratic",
        *,
        seed: int | None = 0,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ) -> None:
        self.sizes = list(check_sizes(sizes))
        self.num_layers = len(self.sizes)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, got {self.dtype}")
        self.activation = get_activation(activation)
        self.cost = get_cost(cost)
        rng = np.random.default_rng(seed) if rng is None else rng
        # The book's order: all biases, then all weights, each standard normal.
        biases = [rng.standard_normal((n, 1)) for n in self.sizes[1:]]
        weights = [rng.standard_normal((n, k)) for k, n in zip(self.sizes[:-1], self.sizes[1:])]
        self._store(weights, biases)

    def _store(self, weights: Sequence[Array], biases: Sequence[Array]) -> None:
        # All parameters live in one flat vector (``parameters``), layer by layer as matrices
        # [w^l | b^l] (``layers``); ``weights[i]`` and ``biases[i]`` are views of it. The update
        # is then a single subtraction, and a layer's forward step a single product.
        self.parameters = np.empty(parameter_count(self.sizes), self.dtype)
        self.weights, self.biases, self.layers = parameter_views(self.parameters, self.sizes)
        for dst, src in zip(self.weights + self.biases, list(weights) + list(biases)):
            dst[...] = src
        self._workspaces: dict[int, Workspace] = {}
        self._views = (self.weights, self.biases, list(self.weights), list(self.biases))

    # -- the book's interface (column vectors) -----------------------------------------------
    def feedforward(self, a: Array) -> Array:
        """Output a^L for an input column ``a`` of shape ``(n_1, 1)`` (or ``(n_1, m)``)."""
        for b, w in zip(self.biases, self.weights):
            a = self.activation.fn(w @ a + b)
        return a

    def backprop(self, x: Array, y: Array) -> tuple[list[Array], list[Array]]:
        """The gradient of C_x for one example, by the book's four equations.

        Parameters
        ----------
        x : (n_1, 1) array
            Input column.
        y : (n_L, 1) array
            Desired output column.

        Returns
        -------
        nabla_b, nabla_w : lists of arrays
            Shaped like ``biases`` and ``weights``.
        """
        act = self.activation
        activations, zs = [np.asarray(x, self.dtype)], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ activations[-1] + b)
            activations.append(act.fn(zs[-1]))
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        delta = self.cost.delta(zs[-1], activations[-1], np.asarray(y, self.dtype), act)  # BP1
        nabla_b[-1] = delta  # BP3
        nabla_w[-1] = delta @ activations[-2].T  # BP4
        for i in range(2, self.num_layers):  # layers L−1 … 2, counted from the end as the book
            delta = (self.weights[-i + 1].T @ delta) * act.prime(zs[-i])  # BP2
            nabla_b[-i] = delta
            nabla_w[-i] = delta @ activations[-i - 1].T
        return nabla_b, nabla_w

    def update_mini_batch(self, mini_batch: Sequence[tuple[Array, Array]], eta: float) -> float:
        """Apply w → w − (η/m) Σ_x ∂C_x/∂w to a list of ``(x, y)`` column pairs (fast path).

        Returns the mini-batch's mean cost before the update.
        """
        if len(mini_batch) == 0:
            raise ConfigError("a mini-batch needs at least one example")
        x = np.hstack([np.asarray(p[0]).reshape(-1, 1) for p in mini_batch]).T
        y = np.hstack([np.asarray(p[1]).reshape(-1, 1) for p in mini_batch]).T
        return self.train_batch(x, y, eta)

    def SGD(  # noqa: N802 — the book's name
        self,
        training_data: Iterable[tuple[Array, Array]],
        epochs: int,
        mini_batch_size: int,
        eta: float,
        test_data: Iterable[tuple[Array, object]] | None = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> list[tuple[int, int | None, int | None]]:
        """The book's stochastic gradient descent, returning what the book printed.

        Each epoch draws ``rng.permutation(n)`` over the n training pairs and applies
        :meth:`update_mini_batch` to consecutive slices of ``mini_batch_size`` pairs in that order
        (the last one may be shorter), as the book's ``random.shuffle`` then slicing. The
        caller's list is not reordered.

        Parameters
        ----------
        training_data : iterable of (x, y)
            The book's pairs: x an (n_1, 1) input column, y the (n_L, 1) one-hot column.
        epochs, mini_batch_size : int
            How many passes over the data, and m.
        eta : float
            The learning rate η.
        test_data : iterable of (x, y), optional
            Pairs with y an int label (or one-hot), evaluated after every epoch.
        rng : numpy.random.Generator, optional
            The shuffling generator; ``np.random.default_rng(0)`` when not given.

        Returns
        -------
        list of (epoch, correct, total)
            One tuple per epoch, ``epoch`` counted from 0 as the book's "Epoch 0"; ``correct``
            is how many of the ``total`` test pairs the network classifies right after that
            epoch, and both are ``None`` without ``test_data``.
        """
        train = list(training_data)
        test = None if test_data is None else list(test_data)
        epochs, m = self._check_sgd_arguments(train, epochs, mini_batch_size, eta)
        rng = np.random.default_rng(0) if rng is None else rng
        # One example per row, C-contiguous: gathering rows of the transposed stack (Fortran
        # order) made np.take copy the whole set for every mini-batch (minutes an MNIST epoch).
        x = np.ascontiguousarray(np.hstack([np.asarray(p[0]).reshape(-1, 1) for p in train]).T)
        y = np.ascontiguousarray(np.hstack([np.asarray(p[1]).reshape(-1, 1) for p in train]).T)
        if y.shape[1] != self.sizes[-1]:
            raise ConfigError(f"training outputs must be one-hot columns of {self.sizes[-1]}")
        results: list[tuple[int, int | None, int | None]] = []
        for epoch in range(epochs):
            order = rng.permutation(len(train))
            for start in range(0, len(train), m):
                p = self.begin_batch(x, y, eta, indices=order[start : start + m])
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    p.run_all()
            if test is None:
                results.append((epoch, None, None))
            else:
                results.append((epoch, self.evaluate(test), len(test)))
        return results

    @staticmethod
    def _check_sgd_arguments(train, epochs, mini_batch_size, eta) -> tuple[int, int]:
        """(epochs, m) as ints, or a ConfigError naming the argument that is wrong."""
        if not train:
            raise ConfigError("SGD needs at least one training pair (x, y)")
        whole = []
        for name, value, least in (("epochs", epochs, 0), ("mini_batch_size", mini_batch_size, 1)):
            try:
                ok = not isinstance(value, bool) and float(value).is_integer() and value >= least
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigError(f"{name} must be a whole number ≥ {least}, got {value!r}")
            whole.append(int(value))
        try:
            ok = bool(np.isfinite(eta) and eta > 0)
        except TypeError:
            ok = False
        if not ok:
            raise ConfigError(f"eta must be a positive, finite number, got {eta!r}")
        return whole[0], whole[1]

    def evaluate(self, test_data: Iterable[tuple[Array, object]]) -> int:
        """How many ``(x, y)`` pairs the network classifies right (y an int label or one-hot)."""
        correct = 0
        for x, y in test_data:
            label = int(np.argmax(y)) if np.size(y) > 1 else int(np.asarray(y).reshape(()))
            correct += int(np.argmax(self.feedforward(np.asarray(x).reshape(-1, 1))) == label)
        return correct

    # -- the fast path (one example per row) --------------------------------------------------
    def begin_batch(self, x: Array, y: Array, eta: float, *, record=False, indices=None):
        """Start a :class:`BatchPass` over rows ``x`` (m, n_1) with one-hot rows ``y`` (m, n_L).

        With ``indices``, ``x`` and ``y`` are a whole data set and the batch is those rows,
        gathered straight into the pass's buffers.
        """
        n = int(x.shape[0]) if indices is None else len(indices)
        if x.ndim != 2 or x.shape[1] != self.sizes[0] or n == 0:
            raise ConfigError(
                f"inputs must have shape (m, {self.sizes[0]}) with m ≥ 1, got {x.shape}"
            )
        if y.shape != (x.shape[0], self.sizes[-1]):
            raise ConfigError(
                f"targets must have shape ({x.shape[0]}, {self.sizes[-1]}), got {y.shape}"
            )
        return self.start_batch(x, y, eta, record=record, indices=indices)

    def start_batch(self, x, y, eta, *, record=False, indices=None):
        """:meth:`begin_batch` without its shape checks, for callers that checked once."""
        if indices is None:
            ws = self.workspace(x.shape[0])
            np.copyto(ws.x, x)
            np.copyto(ws.y, y)
        else:
            ws = self.workspace(len(indices))
            np.take(x, indices, axis=0, out=ws.x)
            np.take(y, indices, axis=0, out=ws.y)
        return self.start_pass(ws, eta, record=record, indices=indices)

    def start_pass(
        self, ws: Workspace, eta: float, *, record=False, indices=None, inputs_bounded=False
    ) -> BatchPass:
        """Start a pass over the batch already in ``ws.x`` and ``ws.y``."""
        self._adopt_assigned_arrays()
        return BatchPass(
            self, ws, eta, record=record, indices=indices, inputs_bounded=inputs_bounded
        )

    def workspace(self, m: int) -> Workspace:
        """The buffers for batches of ``m`` examples (made on first use, then reused)."""
        ws = self._workspaces.get(m)
        if ws is None:
            if len(self._workspaces) >= 2:  # the usual batch size and the epoch's remainder
                self._workspaces.clear()
            ws = self._workspaces[m] = Workspace(tuple(self.sizes), m, self.dtype)
        return ws

    def train_batch(self, x: Array, y: Array, eta: float) -> float:
        """One SGD step on a mini-batch of rows; returns its mean cost before the update.

        Raises
        ------
        DivergenceError
            If the cost or the new weights would be non-finite; nothing is changed then.
        """
        p = self.begin_batch(x, y, eta)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            p.run_all()
        return p.mean_cost

    def _adopt_assigned_arrays(self) -> None:
        # ``net.weights[i] = new_array`` (or a whole new list) must take effect: copy whatever was
        # assigned into the flat parameter vector and put the views back. Identity checks keep
        # this off the hot path when nothing was assigned.
        wl, bl, wv, bv = self._views
        w, b = self.weights, self.biases
        if w is wl and b is bl and all(map(is_, w, wv)) and all(map(is_, b, bv)):
            return
        shapes = self._weight_shapes() + [(n, 1) for n in self.sizes[1:]]
        new = list(w) + list(b)
        if len(new) != len(shapes):
            raise ConfigError(f"a {self.sizes} network has {len(shapes)} parameter arrays")
        for i, (p, shape) in enumerate(zip(new, shapes)):
            p = np.asarray(p, dtype=self.dtype)
            if p.shape != shape:
                n = len(self.weights)
                kind, l = ("weights", i + 2) if i < n else ("biases", i - n + 2)
                raise ConfigError(f"{kind} of layer {l} must have shape {shape}, got {p.shape}")
            new[i] = p
        n = len(shapes) // 2
        self._store(new[:n], new[n:])

    def _weight_shapes(self) -> list[tuple[int, int]]:
        return [(n, k) for k, n in zip(self.sizes[:-1], self.sizes[1:])]

    # -- whole data sets ------------------------------------------------------------------------
    def output(self, x: Array) -> Array:
        """a^L for rows of inputs ``x`` (n, n_1) → (n, n_L), computed in chunks."""
        x = np.asarray(x)
        out = np.empty((x.shape[0], self.sizes[-1]), self.dtype)
        for start in range(0, x.shape[0], EVAL_CHUNK):
            a = np.asarray(x[start : start + EVAL_CHUNK], self.dtype)
            for b, w in zip(self.biases, self.weights):
                a = self.activation.fn(a @ w.T + b.T)
            out[start : start + EVAL_CHUNK] = a
        return out

    def count_correct(self, x: Array, labels: Array) -> int:
        """How many rows of ``x`` have their largest output at their label."""
        if len(labels) == 0:
            return 0
        with np.errstate(over="ignore", invalid="ignore"):
            return int(np.sum(np.argmax(self.output(x), axis=1) == labels))

    def accuracy(self, x: Array, labels: Array) -> float:
        """Fraction of rows of ``x`` whose largest output is the label."""
        return self.count_correct(x, labels) / len(labels) if len(labels) else float("nan")

    def total_cost(self, x: Array, y: Array) -> float:
        """Mean cost (1/n) Σ_x C_x over rows ``x`` with one-hot rows ``y``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return float(np.mean(self.cost.fn(self.output(x), y)))

    # -- state ----------------------------------------------------------------------------------
    def copy(self) -> Network:
        """An independent copy with the same parameters, activation, cost and dtype."""
        return self.as_dtype(self.dtype)

    def as_dtype(self, dtype) -> Network:
        """A copy whose parameters are converted to ``dtype``."""
        self._adopt_assigned_arrays()
        new = Network.__new__(Network)
        new.sizes = list(self.sizes)
        new.num_layers = self.num_layers
        new.dtype = np.dtype(dtype)
        new.activation = self.activation
        new.cost = self.cost
        new._store(self.weights, self.biases)
        return new

    @property
    def num_parameters(self) -> int:
        return int(self.parameters.size)

    def __repr__(self) -> str:
        return (
            f"Network({self.sizes}, activation={self.activation.name!r}, "
            f"cost={self.cost.name!r}, dtype={self.dtype.name})"
        )
