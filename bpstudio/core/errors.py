"""Errors a user can cause, each with a message a person can act on.

The CLI prints ``str(error)`` and exits non-zero; the GUI shows it in a dialog and keeps running.
"""


class BpstudioError(Exception):
    """Base class of every error bpstudio raises on purpose."""


class ConfigError(BpstudioError, ValueError):
    """A setting is not valid (layer sizes, learning rate, activation name, ...)."""


class DataError(BpstudioError):
    """A data file or data set cannot be used; the message names the file and the problem."""


class DownloadError(DataError):
    """Downloading a data set failed (network, or a file that does not match its checksum)."""


class DivergenceError(BpstudioError, ArithmeticError):
    """A training step made the cost or a weight non-finite; the network was left unchanged."""


class Cancelled(BpstudioError):
    """A long computation was cancelled by the user."""
