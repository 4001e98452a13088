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
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import NamedTuple

import numpy as np

from bpstudio.core.cost_log import CostLog
from bpstudio.core.errors import ConfigError, DivergenceError
from bpstudio.core.functions import get_activation, get_cost
from bpstudio.core.network import Network, check_sizes
from bpstudio.core.run import Change, RunSpec, check_live_value
from bpstudio.core.run import default_sizes as _default_sizes
from bpstudio.core.trace import Phase, Trace, phases_for


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
    """Cost of every mini-batch (before its update) and accuracy at the end of every epoch.

    ``epoch_ends[e]`` is the number of mini-batches done when epoch ``e`` ended, recorded
    whether or not accuracy is evaluated.
    """

    batch_costs: CostLog = field(default_factory=CostLog)
    epochs: list[EpochRecord] = field(default_factory=list)
    epoch_ends: list[int] = field(default_factory=list)


class OwnExample(NamedTuple):
    """One SGD step on a single example of the user's, made before mini-batch ``batch``."""

    batch: int
    x: np.ndarray  # (n_1,) float64
    label: int
    eta: float
    activation: str
    cost: str


def apply_own_example(network: Network, example: OwnExample) -> float:
    """Make the step ``example`` records on ``network`` (with its own η, σ and cost)."""
    keep = network.activation, network.cost
    network.activation, network.cost = get_activation(example.activation), get_cost(example.cost)
    try:
        x = example.x.astype(network.dtype).reshape(1, -1)
        y = np.zeros((1, network.sizes[-1]), network.dtype)
        y[0, example.label] = 1
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return network.train_batch(x, y, example.eta)
    finally:
        network.activation, network.cost = keep


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
    return list(_default_sizes(data.input_size, data.num_classes))


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
    epochs : int
        How many epochs the run is set to train (its stop point; stepping may go beyond).
    data_spec : str, optional
        How the data was named (``"mnist:/data/mnist"``), kept in :attr:`spec`; defaults to
        the data set's name.

    Attributes
    ----------
    spec : RunSpec
        The run's starting values (what :meth:`reset` returns to, with the current η, m, σ, cost).
    changes : list of Change
        Every change of η, m, σ or the cost since the start, by the mini-batch it applies from.
    note : str
        Free text kept with the run (a teacher's instructions).
    view : dict
        Plain values the window keeps with the run (the selection, what nodes show, …).
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
        epochs=30,
        data_spec: str | None = None,
    ) -> None:
        self.data = data
        self.evaluate = bool(evaluate)
        self.sizes = list(check_sizes(default_sizes(data) if sizes is None else sizes))
        if self.sizes[0] != data.input_size or self.sizes[-1] != data.num_classes:
            raise ConfigError(
                f"for {data.name} the first layer must have {data.input_size} neurons and the "
                f"last {data.num_classes}, got {self.sizes}"
            )
        self.dtype = np.dtype(dtype)
        self.spec = RunSpec(
            data=data_spec or data.name,
            sizes=tuple(self.sizes),
            activation=str(getattr(activation, "name", activation)),
            cost=str(getattr(cost, "name", cost)),
            eta=eta,
            mini_batch_size=mini_batch_size,
            epochs=epochs,
            seed=seed,
            dtype=self.dtype.name,
        ).validate()
        self.eta = float(eta)
        self.mini_batch_size = int(mini_batch_size)
        self.seed = int(seed)
        self._activation = get_activation(activation)
        self._cost = get_cost(cost)
        self.note = ""
        self.view: dict = {}
        self._x = np.ascontiguousarray(data.train.x, dtype=self.dtype)
        self._y = np.ascontiguousarray(data.train.one_hot(), dtype=self.dtype)
        self._bytes = self._bytes_with_ones(getattr(data.train, "x_bytes", None))
        # 1/255 in the session's own precision: float64 gives exactly the loader's x (see
        # Dataset.x_bytes); float32 multiplies in float32, twice as fast.
        self._byte_scale = self.dtype.type(1.0 / 255.0)
        self._byte_buffers: dict[int, np.ndarray] = {}
        self.reset()

    @classmethod
    def from_spec(cls, spec: RunSpec, data, *, evaluate: bool = True) -> Session:
        """A session for ``spec`` on ``data`` (already loaded, e.g. by :func:`build_session`)."""
        return cls(
            data,
            None if spec.sizes is None else list(spec.sizes),
            activation=spec.activation,
            cost=spec.cost,
            eta=spec.eta,
            mini_batch_size=spec.mini_batch_size,
            seed=spec.seed,
            dtype=spec.dtype,
            evaluate=evaluate,
            epochs=spec.epochs,
            data_spec=spec.data,
        )._with_blas(spec.blas_threads)

    def _with_blas(self, threads: int) -> Session:
        self.spec = replace(self.spec, blas_threads=int(threads))
        return self

    # -- files ----------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write this session to a ``.bpsession`` file (see :mod:`bpstudio.core.session_file`)."""
        from bpstudio.core.session_file import save_session

        save_session(self, path)

    @classmethod
    def load(cls, path, *, data=None, data_spec: str | None = None, cancel=None) -> Session:
        """Open a ``.bpsession`` file; it goes on exactly where it was saved.

        ``data_spec`` names where to find the data instead of the file's own spec (the MNIST
        folder moved); ``data`` gives it already loaded. Raises
        :class:`~bpstudio.core.session_file.SessionFileError` for a bad file.
        """
        from bpstudio.core.session_file import load_session

        return load_session(path, data=data, data_spec=data_spec, cancel=cancel)

    # -- state ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Re-initialise the weights from the seed and forget all progress.

        The current η, m, σ and cost stay and become the run's starting values.
        """
        self.spec = replace(
            self.spec,
            eta=self.eta,
            mini_batch_size=self.mini_batch_size,
            activation=self._activation.name,
            cost=self._cost.name,
        )
        self.changes: list[Change] = []
        self.own_examples: list[OwnExample] = []
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
            return phases_for(self.network.num_layers)[0]
        return self._pass.phases[self._pass.done]

    @property
    def epochs_target(self) -> int:
        """How many epochs the run is set to train."""
        return self.spec.epochs

    def set_epochs(self, epochs: int) -> None:
        """Set the run's stop point (whole epochs, 0 or more)."""
        self.spec = replace(self.spec, epochs=int(epochs)).validate()

    def live_values(self) -> dict:
        """The current η, m, σ and cost, by name."""
        return {
            "eta": self.eta,
            "mini_batch_size": self.mini_batch_size,
            "activation": self._activation.name,
            "cost": self._cost.name,
        }

    def set_hyperparameters(self, *, eta=None, mini_batch_size=None, activation=None, cost=None):
        """Change η, m, σ or the cost; they apply from the next mini-batch on.

        Each change that alters a value is written to :attr:`changes`, with the number of the
        first mini-batch it applies to (a batch under way keeps the values it started with).
        """
        asked = {"eta": eta, "mini_batch_size": mini_batch_size}
        asked.update(activation=activation, cost=cost)
        new = {k: check_live_value(k, v) for k, v in asked.items() if v is not None}
        current = self.live_values()
        first = self.batches_done + (1 if self._pass is not None else 0)
        for name, value in new.items():
            if value != current[name]:
                self.changes.append(Change(first, name, value))
        self._apply_live(new)

    def train_on(self, x, label: int) -> float:
        """One SGD step on a single example of the user's (a drawn digit); returns its cost.

        It is kept in :attr:`own_examples` with the values it used, so a replay of the run
        makes the same step at the same place. Not allowed while a mini-batch is half done.
        """
        if self._pass is not None:
            raise ConfigError("finish the mini-batch under way first (Step mini-batch)")
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        label = int(label)
        if x.size != self.sizes[0] or not 0 <= label < self.sizes[-1]:
            raise ConfigError(
                f"an example for this network has {self.sizes[0]} inputs and a label from 0 to "
                f"{self.sizes[-1] - 1}"
            )
        example = OwnExample(self.batches_done, x, label, self.eta, self.activation, self.cost)
        cost = apply_own_example(self.network, example)
        self.own_examples.append(example)
        return cost

    def _apply_live(self, values: dict) -> None:
        if "eta" in values:
            self.eta = float(values["eta"])
        if "mini_batch_size" in values:
            self.mini_batch_size = int(values["mini_batch_size"])
        if "activation" in values:
            self._activation = self.network.activation = get_activation(values["activation"])
        if "cost" in values:
            self._cost = self.network.cost = get_cost(values["cost"])

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
            self.history.epoch_ends.append(self.batches_done)
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


def build_session(
    spec: RunSpec, *, evaluate: bool = True, cancel=None, fit_sizes: bool = False
) -> Session:
    """Load the data ``spec.data`` names and create the session (MNIST takes a second or two).

    Settings are checked before any data is loaded, so a mistake is reported at once.
    ``cancel`` (a callable returning True to stop) is passed to the data loader. With
    ``fit_sizes`` (the window, where choosing a data set should just work), layer sizes whose
    ends do not fit the data are fitted to it, keeping the hidden layers; otherwise such sizes
    are an error.
    """
    spec.validate()
    check_memory(spec)
    from bpstudio.core.data import load_dataset

    data = load_dataset(spec.data, seed=spec.seed, cancel=cancel)
    if fit_sizes:
        spec = spec.fitted_to(data.input_size, data.num_classes)
        check_memory(spec)
    return Session.from_spec(spec, data, evaluate=evaluate)


def check_memory(spec: RunSpec) -> None:
    """Refuse a network that would not fit in bpstudio's memory budget (if sizes are given)."""
    from bpstudio.core.budget import check_network_memory

    if spec.sizes is not None:
        check_network_memory(spec.sizes, spec.dtype, spec.mini_batch_size)
