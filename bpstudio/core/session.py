"""A training session: the book's SGD loop, advanced one mini-batch or one phase at a time.

A :class:`Session` owns a :class:`~bpstudio.core.network.Network` and a data set. Each epoch it
shuffles the training set with its own seeded generator and walks through it in mini-batches of
``mini_batch_size`` (the last one of an epoch may be smaller, as in the book). ``step_batch()``
runs one whole ``update_mini_batch``; ``step_phase()`` runs one phase of it (see
:func:`~bpstudio.core.trace.phases_for`). Both use the same code, so running every phase of a batch
gives bit for bit what ``step_batch()`` gives. Hyperparameters may change between batches; a batch
that is under way keeps the values it started with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from time import perf_counter
from typing import NamedTuple

import numpy as np

from bpstudio.core.errors import ConfigError, DivergenceError
from bpstudio.core.functions import get_activation, get_cost
from bpstudio.core.network import Network, check_sizes
from bpstudio.core.trace import Phase, Trace


@dataclass(frozen=True)
class EpochRecord:
    """Accuracy at the end of one epoch (epochs count from 0, as the book prints them)."""

    epoch: int
    batches: int
    training_accuracy: float
    validation_accuracy: float
    validation_correct: int
    validation_total: int


@dataclass
class History:
    """Cost of every mini-batch (before its update) and accuracy at the end of every epoch."""

    batch_costs: list[float] = field(default_factory=list)
    epochs: list[EpochRecord] = field(default_factory=list)


class BatchResult(NamedTuple):
    """What one completed mini-batch did."""

    epoch: int
    batch: int  # index of this batch within its epoch
    size: int
    cost: float
    epoch_record: EpochRecord | None  # set when this batch completed an (evaluated) epoch
    completed_epoch: bool = False


def default_sizes(data) -> list[int]:
    """A sensible default network for a data set: the book's [784, 30, 10] for MNIST."""
    d, c = data.input_size, data.num_classes
    if d >= 784:
        return [d, 30, c]
    if d >= 16:
        return [d, 16, c]
    return [d, 8, 8, c]


def _check_hyper(eta, mini_batch_size) -> None:
    if eta is not None and not (isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0):
        raise ConfigError(f"the learning rate η must be a positive number, got {eta!r}")
    if mini_batch_size is not None and (
        int(mini_batch_size) != mini_batch_size or mini_batch_size < 1
    ):
        raise ConfigError(
            f"the mini-batch size must be a whole number ≥ 1, got {mini_batch_size!r}"
        )


class Session:
    """Train a network on a data set one mini-batch or one phase at a time.

    Parameters
    ----------
    data : DataSplits
        Training, validation and test sets (see :mod:`bpstudio.core.data`).
    sizes : sequence of int, optional
        Layer sizes; must start with the data's input size and end with its number of classes.
        Defaults to :func:`default_sizes`.
    activation, cost : str
        See :class:`~bpstudio.core.network.Network`.
    eta : float
        Learning rate η (the book's 3.0 by default).
    mini_batch_size : int
        m, the book's 10 by default.
    seed : int
        Seeds both the initial weights and the shuffling; the same seed replays a run exactly.
    dtype : numpy dtype
        float64 (default) or float32.
    evaluate : bool
        Measure training and validation accuracy at the end of every epoch (default True).
    """

    def __init__(
        self,
        data,
        sizes=None,
        *,
        activation="sigmoid",
        cost="quadratic",
        eta=3.0,
        mini_batch_size=10,
        seed=0,
        dtype=np.float64,
        evaluate=True,
    ) -> None:
        self.data = data
        self.evaluate = bool(evaluate)
        self.sizes = list(check_sizes(default_sizes(data) if sizes is None else sizes))
        if self.sizes[0] != data.input_size or self.sizes[-1] != data.num_classes:
            raise ConfigError(
                f"for {data.name} the first layer must have {data.input_size} neurons and the "
                f"last {data.num_classes}, got {self.sizes}"
            )
        _check_hyper(eta, mini_batch_size)
        self.eta = float(eta)
        self.mini_batch_size = int(mini_batch_size)
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self._activation = get_activation(activation)
        self._cost = get_cost(cost)
        self._x = np.ascontiguousarray(data.train.x, dtype=self.dtype)
        self._y = np.ascontiguousarray(data.train.one_hot(), dtype=self.dtype)
        self._bytes = self._bytes_with_ones(getattr(data.train, "x_bytes", None))
        # 1/255 in the session's own precision: float64 gives exactly the loader's x (see
        # Dataset.x_bytes); float32 multiplies in float32, twice as fast.
        self._byte_scale = self.dtype.type(1.0 / 255.0)
        self._byte_buffers: dict[int, np.ndarray] = {}
        self.reset()

    # -- state ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Re-initialise the weights from the seed and forget all progress."""
        init_seq, shuffle_seq = np.random.SeedSequence(self.seed).spawn(2)
        self.network = Network(
            self.sizes,
            self._activation,
            self._cost,
            rng=np.random.default_rng(init_seq),
            dtype=self.dtype,
        )
        self._rng = np.random.default_rng(shuffle_seq)
        self.history = History()
        self.epoch = 0  # the epoch under way (completed epochs = epoch)
        self.batch_in_epoch = 0
        self.batches_done = 0
        self.examples_seen = 0
        self._order: np.ndarray | None = None
        self._position = 0
        self._pass = None  # a BatchPass under way (phase stepping)
        self._last_pass = None

    @staticmethod
    def _bytes_with_ones(x_bytes):
        # The training inputs as bytes with a column of 255 appended, which becomes the column
        # of ones beside a^1 in the workspace (Workspace.a_ones): the gathered rows then convert
        # as whole contiguous rows.
        if x_bytes is None:
            return None
        out = np.empty((x_bytes.shape[0], x_bytes.shape[1] + 1), np.uint8)
        out[:, :-1] = x_bytes
        out[:, -1] = 255
        return out

    @property
    def activation(self) -> str:
        return self._activation.name

    @property
    def cost(self) -> str:
        return self._cost.name

    @property
    def train_size(self) -> int:
        return len(self.data.train)

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.train_size / self.mini_batch_size)

    @property
    def in_pass(self) -> bool:
        """True while a mini-batch has been stepped into phase by phase but not finished."""
        return self._pass is not None

    @property
    def next_phase(self) -> Phase | None:
        """The phase ``step_phase()`` runs next (the feedforward of a new batch if none is open)."""
        if self._pass is None:
            from bpstudio.core.trace import phases_for

            return phases_for(self.network.num_layers)[0]
        return self._pass.phases[self._pass.done]

    def set_hyperparameters(self, *, eta=None, mini_batch_size=None, activation=None, cost=None):
        """Change η, m, σ or the cost; they apply from the next mini-batch on."""
        _check_hyper(eta, mini_batch_size)
        act = get_activation(activation) if activation is not None else None
        cst = get_cost(cost) if cost is not None else None
        if eta is not None:
            self.eta = float(eta)
        if mini_batch_size is not None:
            self.mini_batch_size = int(mini_batch_size)
        if act is not None:
            self._activation = self.network.activation = act
        if cst is not None:
            self._cost = self.network.cost = cst

    # -- stepping -------------------------------------------------------------------------------
    def step_batch(self, *, record: bool = False) -> BatchResult:
        """Run one mini-batch (or the rest of the one under way) and update the weights.

        Raises
        ------
        DivergenceError
            The step would make the cost or a weight non-finite; the network is left as it was
            and the same mini-batch comes next.
        """
        p = self._pass if self._pass is not None else self._begin(record)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                p.run_all()
            except DivergenceError:
                self._pass = None
                raise
        return self._finish(p)

    def step_phase(self) -> tuple[Phase, BatchResult | None]:
        """Run the next phase; returns it and, if it completed the batch, the batch's result."""
        if self._pass is None:
            self._pass = self._begin(record=True)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                phase = self._pass.run_next()
            except DivergenceError:
                self._pass = None
                raise
        result = self._finish(self._pass) if self._pass.complete else None
        return phase, result

    def run(self, max_batches: int, *, deadline: float | None = None) -> list[BatchResult]:
        """Run up to ``max_batches`` mini-batches, stopping early at an epoch's end or when
        ``time.perf_counter()`` passes ``deadline``; returns their results.

        The same as calling :meth:`step_batch` that many times, with less overhead per batch.
        A :class:`DivergenceError` stops the run; the batches before it stay done.
        """
        results = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(max_batches):
                p = self._pass if self._pass is not None else self._begin(False)
                try:
                    p.run_all()
                except DivergenceError:
                    self._pass = None
                    raise
                result = self._finish(p)
                results.append(result)
                if result.completed_epoch or (deadline is not None and perf_counter() > deadline):
                    break
        return results

    def trace(self) -> Trace | None:
        """The pass under way, or else the last completed one (valid until the next step)."""
        p = self._pass if self._pass is not None else self._last_pass
        return None if p is None else p.trace()

    def _begin(self, record: bool):
        if self._order is None:
            self._order = self._rng.permutation(self.train_size)
            self._position = 0
        idx = self._order[self._position : self._position + self.mini_batch_size]
        ws = self.network.workspace(len(idx))
        # mode="clip": with the default mode numpy gathers into a temporary and copies it into
        # `out`; these indices come from a permutation and are always in range.
        if self._bytes is None:
            np.take(self._x, idx, axis=0, out=ws.x, mode="clip")
        else:  # gather the bytes, then x = bytes × (1/255) exactly as the loader computed it
            a1 = ws.a_ones[0]  # [x 1]: the bytes' extra column of 255 becomes the 1
            buf = self._byte_buffers.get(len(idx))
            if buf is None:
                buf = self._byte_buffers[len(idx)] = np.empty(a1.shape, np.uint8)
            np.take(self._bytes, idx, axis=0, out=buf, mode="clip")
            np.copyto(a1, buf)  # whole contiguous rows: several times faster than into ws.x
            a1 *= self._byte_scale
        np.take(self._y, idx, axis=0, out=ws.y, mode="clip")
        p = self.network.start_pass(ws, self.eta, record=record, indices=idx, inputs_bounded=True)
        self._pass = p
        return p

    def _finish(self, p) -> BatchResult:
        self._pass = None
        self._last_pass = p
        m = p.ws.m
        cost = p.mean_cost
        self.history.batch_costs.append(cost)
        result_epoch, result_batch = self.epoch, self.batch_in_epoch
        self._position += m
        self.examples_seen += m
        self.batches_done += 1
        self.batch_in_epoch += 1
        record, completed = None, self._position >= self.train_size
        if completed:
            record = self._end_epoch()
        return BatchResult(result_epoch, result_batch, m, cost, record, completed)

    def _end_epoch(self) -> EpochRecord | None:
        record = None
        if self.evaluate:
            val = self.data.validation
            correct = self.network.count_correct(val.x, val.y)
            record = EpochRecord(
                epoch=self.epoch,
                batches=self.batches_done,
                training_accuracy=self.accuracy("train"),
                validation_accuracy=correct / max(len(val), 1),
                validation_correct=correct,
                validation_total=len(val),
            )
            self.history.epochs.append(record)
        self.epoch += 1
        self.batch_in_epoch = 0
        self._order = None
        return record

    # -- evaluation -----------------------------------------------------------------------------
    def accuracy(self, split: str = "validation") -> float:
        """Fraction right on ``"train"``, ``"validation"`` or ``"test"``."""
        ds = {"train": self.data.train, "validation": self.data.validation, "test": self.data.test}
        if split not in ds:
            raise ConfigError(f"unknown split {split!r}; choose train, validation or test")
        d = ds[split]
        return self.network.accuracy(d.x, d.y)


@dataclass(frozen=True)
class SessionSpec:
    """What the user chose, by name: the command line's options, the window's controls."""

    data: str = "digits"
    sizes: tuple[int, ...] | None = None
    activation: str = "sigmoid"
    cost: str = "quadratic"
    eta: float = 3.0
    mini_batch_size: int = 10
    epochs: int = 30
    seed: int = 0


def build_session(spec: SessionSpec, *, dtype=np.float64, evaluate: bool = True) -> Session:
    """Load the data ``spec.data`` names and create the session (MNIST takes a second or two).

    Settings are checked before any data is loaded, so a mistake is reported at once.
    """
    from bpstudio.core.data import load_dataset

    _check_hyper(spec.eta, spec.mini_batch_size)
    get_activation(spec.activation)
    get_cost(spec.cost)
    if spec.sizes is not None:
        check_sizes(spec.sizes)
    data = load_dataset(spec.data, seed=spec.seed)
    return Session(
        data,
        None if spec.sizes is None else list(spec.sizes),
        activation=spec.activation,
        cost=spec.cost,
        eta=spec.eta,
        mini_batch_size=spec.mini_batch_size,
        seed=spec.seed,
        dtype=dtype,
        evaluate=evaluate,
    )
