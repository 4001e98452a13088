"""What a two-input network computes over the plane: its outputs on a grid, and their colours.

The grid reads as an image: ``grid[i, j]`` is the point ``(xs[j], ys[i])`` of
:func:`grid_coordinates`, row 0 at the top (``y`` largest), each point at the centre of its
cell. Evaluating it is one matrix product per layer over all ``n * n`` points, cheap enough for
the training thread to do for every frame it sends.
"""

from __future__ import annotations

import numpy as np

from bpstudio.core.errors import ConfigError
from bpstudio.core.functions import get_activation, get_cost
from bpstudio.core.network import Network

#: The plane the toy sets and hand-made points live in: ``(x_min, x_max, y_min, y_max)``.
REGION_BOUNDS = (0.0, 1.0, 0.0, 1.0)
#: Cells per side of the grid the views show.
REGION_N = 100
#: How strongly a region is tinted with its class colour: from ``TINT_MIN`` where the network
#: is unsure (its two largest outputs equal) to ``TINT_MAX`` where it is sure (they differ by 1),
#: so the regions stay lighter than the data points drawn on them.
TINT_MIN = 0.15
TINT_MAX = 0.65


def grid_coordinates(bounds=REGION_BOUNDS, n: int = REGION_N) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the grid's cells: ``xs`` left to right and ``ys`` top to bottom, each ``(n,)``."""
    x_min, x_max, y_min, y_max = (float(v) for v in bounds)
    if not (x_max > x_min and y_max > y_min) or n < 1:
        raise ConfigError(f"a grid needs x_max > x_min, y_max > y_min, n >= 1; got {bounds}, {n}")
    t = (np.arange(n) + 0.5) / n
    return x_min + t * (x_max - x_min), y_max - t * (y_max - y_min)


def network_from_parameters(sizes, activation, cost, weights, biases, reuse=None) -> Network:
    """A float64 :class:`Network` holding copies of ``weights`` and ``biases``.

    Parameters
    ----------
    sizes, activation, cost
        As :class:`~bpstudio.core.network.Network` takes them (names are fine).
    weights : sequence of arrays
        w^l at entry l − 2, shape ``(n_l, n_(l-1))``.
    biases : sequence of arrays
        b^l at entry l − 2, as ``(n_l,)`` vectors or ``(n_l, 1)`` columns.

    reuse : Network, optional
        A network this function returned before: if it has the same sizes, activation and
        cost, the parameters are copied into it (no new arrays, no random initialisation:
        for a view that follows every frame).

    Views build their own network this way from a snapshot's read-only arrays, so they never
    touch the training thread's network.
    """
    net = reuse
    same = net is not None and (list(net.sizes), net.activation.name, net.cost.name) == (
        list(sizes),
        get_activation(activation).name,
        get_cost(cost).name,
    )
    if not same:
        net = Network(sizes, activation, cost, seed=0, dtype=np.float64)
    for dst, src in zip(net.weights, weights):
        dst[...] = src
    for dst, src in zip(net.biases, biases):
        dst[...] = np.reshape(src, dst.shape)
    return net


def region_grid(network, bounds=REGION_BOUNDS, n: int = REGION_N, layer: int | None = None):
    """Evaluate ``network`` at the ``n × n`` cell centres of ``bounds``.

    Parameters
    ----------
    network : Network
        Any object with ``weights``, ``biases`` (as :class:`Network` holds them, or as vectors)
        and ``activation`` (an :class:`~bpstudio.core.functions.Activation` or its name); its
        input layer has 2 neurons.
    bounds : tuple of float
        ``(x_min, x_max, y_min, y_max)``.
    n : int
        Cells per side.
    layer : int, optional
        The book's layer number whose activations to return, 2 … L; the output layer L by
        default.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, n, n_layer)``: ``grid[i, j, m]`` is a^layer_m at ``(xs[j], ys[i])``.

    Raises
    ------
    ConfigError
        If the network does not take two inputs or ``layer`` is not one of its layers.
    """
    weights = list(network.weights)
    if weights[0].shape[1] != 2:
        raise ConfigError(f"decision regions need a network of 2 inputs, not {weights[0].shape[1]}")
    L = len(weights) + 1
    layer = L if layer is None else int(layer)
    if not 2 <= layer <= L:
        raise ConfigError(f"layer must be from 2 to {L}, got {layer}")
    act = network.activation
    act = get_activation(act) if isinstance(act, str) else act
    xs, ys = grid_coordinates(bounds, n)
    a = np.empty((n * n, 2))
    a[:, 0] = np.tile(xs, n)
    a[:, 1] = np.repeat(ys, n)
    with np.errstate(over="ignore", invalid="ignore"):
        for w, b in zip(weights[: layer - 1], network.biases):
            w = np.asarray(w, np.float64)
            z = np.matmul(a, w.T)  # written into in place: no further temporaries per layer
            z += np.ravel(b)
            act.fn_into(z, z)
            a = z
    return a.reshape(n, n, -1)


def region_colors(outputs, palette, *, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Colour each grid cell by what the network says there.

    Parameters
    ----------
    outputs : numpy.ndarray
        ``(n, n, n_L)`` as :func:`region_grid` returns.
    palette : array_like
        With two or more outputs: one colour per class, ``uint8`` ``(>= n_L, 3 or 4)``; a cell
        gets the colour of its largest output (the class the network predicts), blended onto
        white, more weakly where the two largest outputs are closer (lighter where less sure):
        tint ``TINT_MIN + (TINT_MAX - TINT_MIN) * clip(top - second, 0, 1)``.
        With one output: a diverging table ``(n_bins, 3 or 4)`` whose first row is for ``low``
        and last row for ``high`` (e.g. the edges' diverging LUT); the output picks the nearest
        row, clipped at the ends.
    low, high : float
        The output values mapped to the ends of a diverging table.

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``(n, n, 3)`` RGB.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    table = np.asarray(palette)[:, :3].astype(np.float64)
    if outputs.shape[-1] == 1:
        t = np.nan_to_num((outputs[..., 0] - low) / (high - low), nan=0.5)
        index = np.rint(np.clip(t, 0.0, 1.0) * (len(table) - 1)).astype(np.intp)
        return table[index].astype(np.uint8)
    if len(table) < outputs.shape[-1]:
        raise ConfigError(f"{outputs.shape[-1]} classes need as many colours, got {len(table)}")
    clean = np.nan_to_num(outputs, nan=-np.inf)
    top2 = np.partition(clean, -2, axis=-1)[..., -2:]
    margin = np.nan_to_num(np.clip(top2[..., 1] - top2[..., 0], 0.0, 1.0))
    tint = (TINT_MIN + (TINT_MAX - TINT_MIN) * margin)[..., None]
    colour = table[np.argmax(clean, axis=-1)]
    return np.rint(255.0 - tint * (255.0 - colour)).astype(np.uint8)
