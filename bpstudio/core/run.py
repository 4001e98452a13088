"""The one description of a run: what data, what network, what hyperparameters, what seed.

:class:`RunSpec` is the single source of a run's settings. The command line's options
(:func:`bpstudio.cli`), the window's controls (:mod:`bpstudio.gui.controls`), session files
(:mod:`bpstudio.core.session_file`) and :func:`bpstudio.gui.create_main_window` are all derived
from :data:`FIELDS`; adding a hyperparameter is one entry there plus its widget.

The values a spec holds are the run's *starting* values. A session records later changes of η,
m, σ and the cost in its change log (:class:`Change`), so a run can be replayed exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, NamedTuple

from bpstudio.core.errors import ConfigError
from bpstudio.core.functions import ACTIVATIONS, COSTS

#: Seeds are any whole number in [0, 2**64): numpy's SeedSequence takes them all.
SEED_LIMIT = 2**64
#: Hyperparameters that may change while a run goes on (from the next mini-batch on).
LIVE_FIELDS = ("eta", "mini_batch_size", "activation", "cost")
DTYPES = ("float64", "float32")


class Field(NamedTuple):
    """How one setting of a run is named, typed, checked and explained."""

    name: str  # the RunSpec attribute
    flag: str  # the command-line option
    label: str  # the window's form label
    help: str
    choices: tuple[str, ...] | None = None
    live: bool = False  # may change during a run


FIELDS: tuple[Field, ...] = (
    Field(
        "data",
        "--data",
        "Data",
        "digits (built in, the default), mnist (downloaded with `bpstudio data fetch mnist`), "
        "mnist:<folder> (the four IDX files), a path to the book's mnist.pkl.gz, or a toy set: "
        "xor, circles, spiral, blobs",
    ),
    Field(
        "sizes",
        "--sizes",
        "Layer sizes",
        "neurons per layer, input first, e.g. 784 30 10 (default: a network that fits the "
        "data, [784, 30, 10] for MNIST, [64, 16, 10] for the digits)",
    ),
    Field(
        "activation",
        "--activation",
        "Activation σ",
        "σ for every layer (default sigmoid)",
        tuple(ACTIVATIONS),
        live=True,
    ),
    Field(
        "cost",
        "--cost",
        "Cost",
        "cost function (default quadratic, as in chapter 2)",
        tuple(COSTS),
        live=True,
    ),
    Field("eta", "--eta", "Learning rate η", "learning rate η (default 3.0)", live=True),
    Field(
        "mini_batch_size",
        "--batch",
        "Mini-batch size m",
        "mini-batch size m (default 10)",
        live=True,
    ),
    Field("epochs", "--epochs", "Epochs", "epochs to train (default 30)"),
    Field("seed", "--seed", "Seed", "seed of the weights and the shuffling (default 0)"),
    Field("dtype", "--dtype", "Precision", "float precision (default float64)", DTYPES),
    Field(
        "blas_threads",
        "--blas-threads",
        "BLAS threads",
        "threads for matrix products (default 1); part of the run, since the number of threads "
        "changes results in the last bits",
    ),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}


class Change(NamedTuple):
    """From mini-batch number ``batch`` on (counted from 0 over the run), ``name`` is ``value``."""

    batch: int
    name: str
    value: Any


@dataclass(frozen=True)
class RunSpec:
    """Everything that fixes a run, by name (see :data:`FIELDS`).

    ``sizes`` None means "a network that fits the data" (see :func:`default_sizes`).
    """

    data: str = "digits"
    sizes: tuple[int, ...] | None = None
    activation: str = "sigmoid"
    cost: str = "quadratic"
    eta: float = 3.0
    mini_batch_size: int = 10
    epochs: int = 30
    seed: int = 0
    dtype: str = "float64"
    blas_threads: int = 1

    def __post_init__(self) -> None:
        if self.sizes is not None and not isinstance(self.sizes, tuple):
            object.__setattr__(self, "sizes", tuple(self.sizes))

    def validate(self) -> RunSpec:
        """Check every value; returns self, or raises ConfigError saying what is wrong."""
        if not isinstance(self.data, str) or not self.data.strip():
            raise ConfigError("the data set must be named, e.g. digits or mnist")
        if self.sizes is not None:
            from bpstudio.core.network import check_sizes

            check_sizes(self.sizes)
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"unknown activation {self.activation!r}; choose {', '.join(ACTIVATIONS)}"
            )
        if self.cost not in COSTS:
            raise ConfigError(f"unknown cost {self.cost!r}; choose {', '.join(COSTS)}")
        check_eta(self.eta)
        check_whole(self.mini_batch_size, "the mini-batch size m", 1)
        check_whole(self.epochs, "the number of epochs", 0)
        check_whole(self.seed, "the seed", 0, SEED_LIMIT - 1)
        if self.dtype not in DTYPES:
            raise ConfigError(f"the precision must be float64 or float32, got {self.dtype!r}")
        check_whole(self.blas_threads, "the number of BLAS threads", 1, 256)
        return self

    def fitted_to(self, input_size: int, num_classes: int) -> RunSpec:
        """The same spec with the layer sizes' two ends set to fit a data set (hidden kept)."""
        if self.sizes is None:
            return self
        return replace(self, sizes=(input_size, *self.sizes[1:-1], num_classes))

    # -- plain values (settings, session files) -----------------------------------------------
    def to_dict(self) -> dict:
        out = asdict(self)
        out["sizes"] = None if self.sizes is None else list(self.sizes)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> RunSpec:
        """A validated spec from plain values; unknown keys are refused, missing ones default.

        Raises ConfigError for anything of the wrong type (the values may come from a file).
        """
        if not isinstance(values, dict):
            raise ConfigError("a run description must be a mapping of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown settings in the run description: {', '.join(unknown)}")
        kinds = {
            "data": str,
            "activation": str,
            "cost": str,
            "dtype": str,
            "eta": (int, float),
            "mini_batch_size": int,
            "epochs": int,
            "seed": int,
            "blas_threads": int,
        }
        for name, kind in kinds.items():
            if name in values and (
                not isinstance(values[name], kind) or isinstance(values[name], bool)
            ):
                raise ConfigError(f"the setting {name} has a value of the wrong type")
        sizes = values.get("sizes")
        if sizes is not None and (
            not isinstance(sizes, list | tuple)
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes)
        ):
            raise ConfigError("the layer sizes must be a list of whole numbers")
        spec = cls(**{**values, "sizes": None if sizes is None else tuple(sizes)})
        return spec.validate()

    def live_values(self) -> dict:
        """η, m, σ and the cost, by name."""
        return {name: getattr(self, name) for name in LIVE_FIELDS}


def check_eta(eta) -> None:
    if isinstance(eta, bool) or not (
        isinstance(eta, int | float) and math.isfinite(eta) and eta > 0
    ):
        raise ConfigError(f"the learning rate η must be a positive number, got {eta!r}")


def check_whole(value, what: str, low: int, high: int | None = None) -> None:
    """Refuse anything but a whole number in [low, high], naming ``what``."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok and isinstance(value, float) and value.is_integer():
        ok = True
    if not ok or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ConfigError(f"{what} must be a whole number {bound}, got {value!r}")


def check_live_value(name: str, value) -> Any:
    """Check one live hyperparameter; returns it in its canonical type."""
    if name == "eta":
        check_eta(value)
        return float(value)
    if name == "mini_batch_size":
        check_whole(value, "the mini-batch size m", 1)
        return int(value)
    if name == "activation":
        if value not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {value!r}; choose {', '.join(ACTIVATIONS)}")
        return value
    if name == "cost":
        if value not in COSTS:
            raise ConfigError(f"unknown cost {value!r}; choose {', '.join(COSTS)}")
        return value
    raise ConfigError(f"{name} cannot change during a run; choose one of {LIVE_FIELDS}")


def default_sizes(input_size: int, num_classes: int) -> tuple[int, ...]:
    """A sensible default network for a data set: the book's [784, 30, 10] for MNIST."""
    d, c = input_size, num_classes
    if d >= 784:
        return (d, 30, c)
    if d >= 16:
        return (d, 16, c)
    return (d, 8, 8, c)
