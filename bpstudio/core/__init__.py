"""bpstudio's engine: pure NumPy, never imports Qt."""

from bpstudio.core.errors import (
    BpstudioError,
    Cancelled,
    ConfigError,
    DataError,
    DivergenceError,
    DownloadError,
)
from bpstudio.core.functions import ACTIVATIONS, COSTS, get_activation, get_cost
from bpstudio.core.network import Network
from bpstudio.core.trace import Phase, Trace, phases_for

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "BpstudioError",
    "Cancelled",
    "ConfigError",
    "DataError",
    "DivergenceError",
    "DownloadError",
    "Network",
    "Phase",
    "Trace",
    "get_activation",
    "get_cost",
    "phases_for",
]
