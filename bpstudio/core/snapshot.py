"""What the training loop sends to views: an immutable copy of the session's state.

The worker's thread owns the live network; a :class:`Snapshot` holds read-only copies, so the
GUI thread can keep one as long as it likes while training goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpstudio.core.run import RunSpec
from bpstudio.core.session import EpochRecord, Session
from bpstudio.core.trace import Phase, Trace, frozen


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The state of a training session at one moment.

    Attributes
    ----------
    serial : int
        Increases with every snapshot of a worker.
    data_name : str
        The data set, e.g. ``"digits"``.
    sizes : tuple of int
        n_1 … n_L.
    image_shape : tuple of int or None
        (rows, cols) when the inputs are images.
    activation, cost : str
        Names of σ and the cost.
    eta : float
    mini_batch_size : int
    weights : tuple of arrays
        The current w^l (entry l − 2), read-only.
    biases : tuple of arrays
        The current b^l as (n_l,) vectors (entry l − 2), read-only.
    trace : Trace or None
        The pass under way (phase stepping) or the last mini-batch's pass, recorded, so that
        ``trace.weights`` are the weights the batch's gradients were computed at.
    epoch, batch_in_epoch, batches_per_epoch, batches_done, examples_seen : int
        Progress; ``epoch`` is the epoch under way, counted from 0.
    epochs_target : int
        How many epochs the run is set to train.
    new_costs : tuple of float
        The mini-batch costs since the previous snapshot, the first being batch number
        ``first_cost_index`` (counted from 0 over the whole run).
    first_cost_index : int
    epoch_records : tuple of EpochRecord
        Accuracy at the end of every epoch so far.
    examples_per_second : float
        Training speed over the last second or so (0 when paused).
    running : bool
    next_phase : Phase or None
        What a phase step runs next.
    in_pass : bool
        A mini-batch has been stepped into phase by phase and is not finished.
    spec : RunSpec
        The run's description (its starting values; ``epochs`` is the current target).
    note : str
        The run's free-text note.
    view : dict
        The window's settings kept with the run (selection, node quantity, …).
    points : tuple or None
        For two-input data: (train x, train labels, test x, test labels), read-only.
    region_grid : array or None
        For two-input networks: the outputs over the plane
        (:func:`bpstudio.core.regions.region_grid`), computed in the training thread.
    phase_stepping : bool
        The last command was a phase step (views then show what that phase computed).
    """

    serial: int
    data_name: str
    sizes: tuple[int, ...]
    image_shape: tuple[int, int] | None
    activation: str
    cost: str
    eta: float
    mini_batch_size: int
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    trace: Trace | None
    epoch: int
    batch_in_epoch: int
    batches_per_epoch: int
    batches_done: int
    examples_seen: int
    epochs_target: int
    new_costs: tuple[float, ...]
    first_cost_index: int
    epoch_records: tuple[EpochRecord, ...]
    examples_per_second: float
    running: bool
    next_phase: Phase | None
    in_pass: bool
    spec: RunSpec | None = None
    note: str = ""
    view: dict | None = None
    points: tuple | None = None
    region_grid: np.ndarray | None = None
    phase_stepping: bool = False

    @property
    def num_layers(self) -> int:
        return len(self.sizes)


def take_snapshot(
    session: Session,
    *,
    serial: int,
    costs_from: int,
    running: bool,
    examples_per_second: float = 0.0,
    epochs_target: int | None = None,
    phase_stepping: bool = False,
) -> Snapshot:
    """Copy what views need out of ``session`` (call it in the session's own thread)."""
    net = session.network
    first_cost, new_costs = session.history.batch_costs.since(costs_from)
    return Snapshot(
        serial=serial,
        data_name=session.data.name,
        sizes=tuple(net.sizes),
        image_shape=session.data.image_shape,
        activation=session.activation,
        cost=session.cost,
        eta=session.eta,
        mini_batch_size=session.mini_batch_size,
        weights=tuple(frozen(w) for w in net.weights),
        biases=tuple(frozen(b[:, 0]) for b in net.biases),
        trace=session.trace(),
        epoch=session.epoch,
        batch_in_epoch=session.batch_in_epoch,
        batches_per_epoch=session.batches_per_epoch,
        batches_done=session.batches_done,
        examples_seen=session.examples_seen,
        epochs_target=session.epochs_target if epochs_target is None else epochs_target,
        new_costs=new_costs,
        first_cost_index=first_cost,
        epoch_records=tuple(session.history.epochs),
        examples_per_second=examples_per_second,
        running=running,
        next_phase=session.next_phase,
        in_pass=session.in_pass,
        spec=session.spec,
        note=session.note,
        view=dict(session.view),
        points=_points(session) if session.data.input_size == 2 else None,
        region_grid=_regions(session) if session.data.input_size == 2 else None,
        phase_stepping=phase_stepping,
    )


def _regions(session) -> np.ndarray | None:
    from bpstudio.core.regions import REGION_BOUNDS, REGION_N, region_grid

    with np.errstate(over="ignore", invalid="ignore"):
        grid = region_grid(session.network, REGION_BOUNDS, REGION_N)
    grid.setflags(write=False)
    return grid


def _points(session) -> tuple:
    # The data never changes within a session: one read-only copy, shared by its snapshots.
    cached = getattr(session, "_points_copy", None)
    if cached is None:
        d = session.data
        cached = tuple(frozen(a) for a in (d.train.x, d.train.y, d.test.x, d.test.y))
        session._points_copy = cached
    return cached
