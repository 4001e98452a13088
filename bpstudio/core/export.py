"""Export a run's numbers: its history as CSV, its weights and biases as ``.npz``.

Both are taken from the session itself at full resolution (every mini-batch's cost, not the
plot's thinned copy) and written atomically (:mod:`bpstudio.core.atomic`): a failed export
leaves an existing file as it was.
"""

from __future__ import annotations

import csv
import io
import os
from typing import NamedTuple

import numpy as np

from bpstudio.core.atomic import atomic_open, atomic_write

__all__ = [
    "BatchRow",
    "EpochRow",
    "HISTORY_COLUMNS",
    "HistoryRows",
    "history_rows",
    "weight_arrays",
    "write_history_csv",
    "write_weights_npz",
]


class BatchRow(NamedTuple):
    """One mini-batch of a run (batch and epoch numbers count from 0, as the book's)."""

    batch: int  # over the whole run
    epoch: int
    batch_in_epoch: int
    examples: int  # in this mini-batch: m, or fewer for the last one of an epoch
    cost: float  # the mean cost C of the mini-batch, before its update
    eta: float  # η the batch was trained with
    mini_batch_size: int  # m the batch was drawn with
    activation: str
    cost_function: str


class EpochRow(NamedTuple):
    """The end of one epoch; the accuracies are None when the epoch was not evaluated."""

    epoch: int
    batches: int  # mini-batches done at its end, counted over the run
    training_accuracy: float | None
    validation_accuracy: float | None
    validation_correct: int | None
    validation_total: int | None


class BucketRow(NamedTuple):
    """Mini-batches past the run's exact limit, kept as exact statistics of their costs."""

    first_batch: int
    batches: int
    mean: float
    low: float
    high: float


class HistoryRows(NamedTuple):
    """A run's history as rows: a plain copy that may be written from any thread."""

    batches: list[BatchRow]
    epochs: list[EpochRow]
    buckets: tuple[BucketRow, ...] = ()  # past the exact limit (see bpstudio.core.cost_log)


#: The CSV's columns, in order (see :func:`write_history_csv`).
HISTORY_COLUMNS: tuple[str, ...] = (
    *BatchRow._fields,
    "end_of_epoch",
    "training_accuracy",
    "validation_accuracy",
    "validation_correct",
    "validation_total",
    "batches_in_row",
    "cost_min",
    "cost_max",
)


def history_rows(session) -> HistoryRows:
    """Every mini-batch and every completed epoch of ``session``'s run so far.

    η, m, σ and the cost of each batch are the run's starting values (``session.spec``)
    followed through its change log (``session.changes``); the epoch a batch belongs to comes
    from ``session.history.epoch_ends``. A mini-batch under way (phase stepping) is not
    included: it has no cost yet.

    Reads only ``spec``, ``changes``, ``history`` (``batch_costs``, ``epoch_ends``, ``epochs``)
    and ``len(data.train)``. The rows are a copy: taken where the session lives (the training
    thread, between mini-batches), they can be written anywhere with :func:`write_history_csv`.
    """
    history = session.history
    ends = [int(e) for e in history.epoch_ends]
    batches = _batch_rows(session, ends)
    records = {r.epoch: r for r in history.epochs}
    epochs = []
    for epoch, end in enumerate(ends):
        r = records.get(epoch)
        epochs.append(
            EpochRow(
                epoch,
                end,
                None if r is None else float(r.training_accuracy),
                None if r is None else float(r.validation_accuracy),
                None if r is None else int(r.validation_correct),
                None if r is None else int(r.validation_total),
            )
        )
    return HistoryRows(batches, epochs, _bucket_rows(history.batch_costs))


def _bucket_rows(costs) -> tuple[BucketRow, ...]:
    beyond = getattr(costs, "beyond", None)
    if beyond is None:
        return ()
    low, high = beyond.envelope()
    first = costs.limit + np.arange(len(beyond)) * beyond.width
    return tuple(
        BucketRow(int(f), int(c), float(m), float(lo), float(hi))
        for f, c, m, lo, hi in zip(first, beyond.count[: len(beyond)], beyond.mean, low, high)
    )


def _batch_rows(session, ends: list[int]) -> list[BatchRow]:
    spec = session.spec
    values = {
        "eta": spec.eta,
        "mini_batch_size": spec.mini_batch_size,
        "activation": spec.activation,
        "cost": spec.cost,
    }
    # sorted() is stable: of two changes at the same batch the later one in the log wins.
    changes = sorted(session.changes, key=lambda c: c.batch)
    train_size = len(session.data.train)
    costs = session.history.batch_costs
    # The session keeps its costs in one float64 array; tolist() is the fast way to floats.
    costs = costs.array().tolist() if hasattr(costs, "array") else [float(c) for c in costs]
    n = len(costs)
    # Between two cuts (a change takes effect, an epoch begins) every batch has the same values.
    cuts = sorted({0, n, *(c.batch for c in changes if c.batch < n), *(e for e in ends if e < n)})
    rows: list[BatchRow] = []
    epoch = start = position = next_change = 0
    for a, b in zip(cuts, cuts[1:]):
        while next_change < len(changes) and changes[next_change].batch <= a:
            values[changes[next_change].name] = changes[next_change].value
            next_change += 1
        while epoch < len(ends) and a >= ends[epoch]:
            start, position, epoch = ends[epoch], 0, epoch + 1
        eta, m = float(values["eta"]), int(values["mini_batch_size"])
        activation, cost_function = str(values["activation"]), str(values["cost"])
        for i in range(a, b):
            # The session takes the next m examples of the epoch's order, fewer at its end.
            examples = max(min(m, train_size - position), 0)
            position += examples
            rows.append(
                BatchRow(i, epoch, i - start, examples, costs[i], eta, m, activation, cost_function)
            )
    return rows


_NO_ACCURACY = (None, None, None, None)


def write_history_csv(session, path: str | os.PathLike) -> None:
    """Write the run's history as one CSV table, one row per mini-batch.

    ``session`` is a :class:`~bpstudio.core.session.Session` or the :class:`HistoryRows`
    :func:`history_rows` made of one.

    Columns (:data:`HISTORY_COLUMNS`), with a header row:

    ``batch``, ``epoch``, ``batch_in_epoch``
        The mini-batch's number over the run, its epoch and its number within the epoch, all
        counted from 0 as the book counts epochs.
    ``examples``
        Examples in the mini-batch (m, or fewer for the last batch of an epoch).
    ``cost``
        The mini-batch's mean cost C before its update, written so that it reads back as
        exactly the same float.
    ``eta``, ``mini_batch_size``, ``activation``, ``cost_function``
        The hyperparameters that mini-batch was trained with (they may change during a run).
    ``end_of_epoch``
        1 on the batch that completed an epoch, else 0.
    ``training_accuracy``, ``validation_accuracy``, ``validation_correct``, ``validation_total``
        The accuracies measured at the end of that epoch, on the ``end_of_epoch`` rows only;
        empty elsewhere (and where an epoch was not evaluated).

    ``batches_in_row``, ``cost_min``, ``cost_max``
        1 (and empty) on a mini-batch's own row. Past the run's exact limit (2**24 mini-batches,
        see :mod:`bpstudio.core.cost_log`) the costs are kept as statistics of buckets of
        mini-batches: each such row starts at ``batch``, holds ``batches_in_row`` of them, and
        gives their mean ``cost``, smallest and largest; epochs that ended there get a row of
        their own (``batches_in_row`` 0) with their accuracies.

    In pandas, ``df = pd.read_csv(path)`` gives every batch; ``df[df.end_of_epoch == 1]``
    gives one row per epoch.

    Raises
    ------
    FileError
        The file cannot be written; an existing file is left as it was.
    """
    rows = session if isinstance(session, HistoryRows) else history_rows(session)
    ends = {e.batches - 1: e for e in rows.epochs}
    with atomic_open(path) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS)
        # end[2:]: an EpochRow's accuracies, in HISTORY_COLUMNS' order.
        writer.writerows(
            (*row, 0, *_NO_ACCURACY, 1, "", "")
            if (end := ends.get(row.batch)) is None
            else (*row, 1, *end[2:], 1, "", "")
            for row in rows.batches
        )
        _write_beyond(writer, rows, ends)
        text.flush()
        text.detach()  # hand the binary file back to atomic_open, which syncs and renames it


def _write_beyond(writer, rows: HistoryRows, ends: dict) -> None:
    """Past the exact limit: one row per bucket of mini-batches (its mean cost, smallest and
    largest, how many it holds), and one per epoch that ended there (its accuracies)."""
    blank = ("",) * 3  # batch_in_epoch, examples and the hyperparameters are per batch
    for b in rows.buckets:
        writer.writerow(
            (
                b.first_batch,
                "",
                "",
                "",
                b.mean,
                *("",) * 4,
                0,
                *_NO_ACCURACY,
                b.batches,
                b.low,
                b.high,
            )
        )
    exact_end = rows.batches[-1].batch if rows.batches else -1
    for batch, e in sorted(ends.items()):
        if batch > exact_end:
            writer.writerow((batch, e.epoch, *blank, "", *("",) * 3, 1, *e[2:], 0, "", ""))


def weight_arrays(network) -> dict[str, np.ndarray]:
    """The arrays :func:`write_weights_npz` stores, by name (see there).

    ``network`` is a :class:`~bpstudio.core.network.Network` or anything with ``sizes``,
    ``weights`` and ``biases`` in the same order (a snapshot, whose biases are vectors).
    """
    sizes = [int(n) for n in network.sizes]
    arrays: dict[str, np.ndarray] = {"sizes": np.array(sizes, dtype=np.int64)}
    for l, (w, b) in enumerate(zip(network.weights, network.biases), start=2):
        n_l, n_prev = sizes[l - 1], sizes[l - 2]
        arrays[f"w{l}"] = np.ascontiguousarray(w).reshape(n_l, n_prev)
        arrays[f"b{l}"] = np.ascontiguousarray(b).reshape(n_l, 1)
    for key in ("activation", "cost"):
        value = getattr(network, key, None)
        if value is not None:
            arrays[key] = np.array(str(getattr(value, "name", value)))
    return arrays


def write_weights_npz(network, path: str | os.PathLike) -> None:
    """Write the weights and biases as a NumPy ``.npz`` archive, in the book's shapes.

    The archive holds ``w2, w3, …, wL`` (w^l of shape ``(n_l, n_(l−1))``; ``w[j, k]`` joins
    neuron k of layer l − 1 to neuron j of layer l), ``b2, …, bL`` (b^l, columns of shape
    ``(n_l, 1)``), ``sizes`` (int64, n_1 … n_L), and ``activation`` and ``cost`` (the names, as
    0-d string arrays) where the network has them. Layer numbers are the book's: the input
    layer is 1. Nothing is pickled: ``np.load(path, allow_pickle=False)`` reads it, e.g.
    ``np.load(path)["w2"]``.

    Raises
    ------
    FileError
        The file cannot be written; an existing file is left as it was.
    """
    arrays = weight_arrays(network)
    atomic_write(path, lambda f: np.savez(f, **arrays))
