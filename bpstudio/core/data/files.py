"""Opening data files the user named, safely: regular files only, and loads that can be cancelled.

A path typed by a user may name anything: a folder, a named pipe (FIFO) whose ``open`` blocks
until another program writes to it, a device that never ends, a file the user may not read.
:func:`open_regular_file` looks at what the path is *before* opening it, opens it without
blocking, and checks again what it opened, so a FIFO can never hang a load (not even one swapped
in between the two looks). Every refusal is a one-line :class:`DataError` in plain words.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from bpstudio.core.errors import Cancelled, DataError

CancelCheck = Callable[[], bool]
"""A callable a long load polls between chunks; when it returns True the load stops."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """Say in a few words what kind of file system entry ``mode`` (an ``st_mode``) describes."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def regular_file_error(path: Path, mode: int) -> DataError:
    """The error for ``path``, which exists but is not a regular file (``mode`` is its st_mode)."""
    return DataError(
        f"{path} is {file_kind(mode)}, not a regular file; give the path of a data file"
    )


def os_error(path: Path, exc: OSError, doing: str = "opened") -> DataError:
    """Turn an :class:`OSError` about ``path`` into a DataError with the right words."""
    if isinstance(exc, FileNotFoundError):
        return DataError(f"{path} does not exist")
    if isinstance(exc, PermissionError):
        return DataError(f"{path} cannot be {doing}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return DataError(f"{path} is a folder, not a regular file; give the path of a data file")
    reason = exc.strerror or type(exc).__name__
    return DataError(f"{path} cannot be {doing}: {reason}")


def check_regular_file(path: str | os.PathLike[str]) -> Path:
    """Check, without opening it, that ``path`` names an existing regular file.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    DataError
        If ``path`` does not exist, cannot be looked at, or is a folder, FIFO, device or socket.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise os_error(path, exc, "looked at") from exc
    if not stat.S_ISREG(mode):
        raise regular_file_error(path, mode)
    return path


def open_regular_file(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading in binary mode, refusing anything but a regular file.

    The file is opened with ``O_NONBLOCK`` (where the platform has it), so that a FIFO or device
    cannot block the ``open`` itself, and what was opened is checked with ``fstat`` before a
    single byte is read. For a regular file the flag changes nothing.

    Raises
    ------
    DataError
        As :func:`check_regular_file`, or if the file cannot be opened (the message says why,
        for instance "permission denied").
    """
    path = check_regular_file(path)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise os_error(path, exc) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise regular_file_error(path, mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_cancel(cancel: CancelCheck | None, what: str) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is given and returns True; ``what`` names the load."""
    if cancel is not None and cancel():
        raise Cancelled(f"loading {what} was cancelled")
