"""How much memory a network will need, checked against a stated budget before anything is made.

``--sizes 64 100000000 10`` used to end in a MemoryError traceback, and ``[64, 2000000, 10]``
was accepted silently and then took gigabytes and minutes per epoch. A run description is
checked with :func:`check_network_memory` first: above :data:`MEMORY_BUDGET_BYTES` it is refused
with a one-line :class:`ConfigError` that says how much it would need.

The estimate counts what training allocates for the network itself, in the run's dtype:

- the weights and biases (one flat vector);
- the gradients ∂C/∂w, ∂C/∂b kept for the inspector when a mini-batch is recorded;
- the copy of the weights and biases a snapshot hands to the views;
- the mini-batch workspace (z, a, δ and the scaled δ of every layer, for ``m`` examples),
  twice over, for the usual batch size and an epoch's shorter last batch;
- evaluating a data set, which feeds it forward in chunks of ``EVAL_CHUNK`` examples: two
  chunk-sized arrays of the widest layer at once (the weighted input and the activation; as
  measured with tracemalloc) and the chunk of inputs.

The data set itself is not counted (its loader bounds it separately).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bpstudio.core.errors import ConfigError
from bpstudio.core.network import EVAL_CHUNK, check_sizes

MEMORY_BUDGET_BYTES = 2_000_000_000
"""Most bytes a network may need (:func:`estimate_network_memory`): 2 GB."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a network of layer sizes ``sizes`` needs, by purpose (see the module docstring)."""

    sizes: tuple[int, ...]
    parameters: int
    gradients: int
    snapshot: int
    batch: int
    evaluation: int

    @property
    def total(self) -> int:
        """All of the above, in bytes."""
        return self.parameters + self.gradients + self.snapshot + self.batch + self.evaluation


def estimate_network_memory(
    sizes: Sequence[int], dtype: object = "float64", mini_batch_size: int = 10
) -> MemoryEstimate:
    """Estimate the bytes that training a network of layer sizes ``sizes`` allocates.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first (the book's ``sizes``), e.g. ``[784, 30, 10]``.
    dtype : numpy dtype or its name, default "float64"
        The dtype of the run's arrays (``float64`` or ``float32``).
    mini_batch_size : int, default 10
        The book's ``m``.

    Returns
    -------
    MemoryEstimate

    Raises
    ------
    ConfigError
        If ``sizes``, ``dtype`` or ``mini_batch_size`` is not valid.
    """
    sizes = check_sizes(sizes)
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError:
        raise ConfigError(f"unknown dtype {dtype!r}; use float64 or float32") from None
    if isinstance(mini_batch_size, bool) or not isinstance(mini_batch_size, int | np.integer):
        raise ConfigError(f"the mini-batch size must be a whole number, got {mini_batch_size!r}")
    if mini_batch_size < 1:
        raise ConfigError(f"the mini-batch size must be at least 1, got {mini_batch_size}")
    m = int(mini_batch_size)
    params = sum(n * k + n for k, n in zip(sizes[:-1], sizes[1:]))
    # a with a column of ones for every layer that feeds another, a^L and y for the output,
    # and z, δ and the scaled δ for every layer after the input.
    per_example = sum(n + 1 for n in sizes[:-1]) + 2 * sizes[-1] + 3 * sum(sizes[1:])
    rows = EVAL_CHUNK
    evaluation = rows * (2 * max(sizes[1:]) + sizes[0])
    return MemoryEstimate(
        sizes=sizes,
        parameters=params * itemsize,
        gradients=params * itemsize,
        snapshot=params * itemsize,
        batch=2 * m * per_example * itemsize,
        evaluation=evaluation * itemsize,
    )


def check_network_memory(
    sizes: Sequence[int],
    dtype: object = "float64",
    mini_batch_size: int = 10,
    budget_bytes: int = MEMORY_BUDGET_BYTES,
) -> MemoryEstimate:
    """Refuse a network that needs more than ``budget_bytes``; return its estimate otherwise.

    Parameters
    ----------
    sizes, dtype, mini_batch_size
        As for :func:`estimate_network_memory`.
    budget_bytes : int, default :data:`MEMORY_BUDGET_BYTES`
        The most bytes allowed.

    Returns
    -------
    MemoryEstimate

    Raises
    ------
    ConfigError
        If the estimate's total exceeds ``budget_bytes`` ("[64, 100000000, 10] needs about
        3 TB of memory (...); bpstudio's limit is 2 GB: ..."), or if a setting is not valid.
    """
    estimate = estimate_network_memory(sizes, dtype, mini_batch_size)
    if estimate.total > budget_bytes:
        layers = "[" + ", ".join(map(str, estimate.sizes)) + "]"
        params = estimate.parameters // np.dtype(dtype).itemsize
        raise ConfigError(
            f"{layers} needs about {format_bytes(estimate.total)} of memory "
            f"({params:,} weights and biases, at m = {mini_batch_size}); bpstudio's limit is "
            f"{format_bytes(budget_bytes)}: use fewer or smaller layers"
        )
    return estimate


def format_bytes(size: int) -> str:
    """``size`` in decimal units, two or three significant digits: "7.3 MB", "2 GB", "180 GB"."""
    value, unit = float(size), "bytes"
    for next_unit in ("kB", "MB", "GB", "TB", "PB"):
        if value < 1000:
            break
        value, unit = value / 1000, next_unit
    if unit == "bytes":
        return f"{size} bytes"
    return f"{value:.2g} {unit}" if value < 10 else f"{value:.0f} {unit}"
