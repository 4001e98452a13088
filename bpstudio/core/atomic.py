"""Atomic file writes: the old file stays whole until the new one is complete on disk.

Every file bpstudio writes (exports, session files) goes through :func:`atomic_open` or
:func:`atomic_write`. The new content goes to a temporary file in the target's own folder (so
that the final rename never crosses file systems); it is flushed and fsynced, then
``os.replace`` puts it over the target in one step. If anything fails on the way (the writer
raises, the disk fills up, the process is interrupted by an exception) the temporary file is
removed and the target is exactly what it was before.

Mistakes a user can cause (a folder that does not exist, no permission, a full disk, a
read-only medium) raise :class:`FileError` with a one-line message naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from bpstudio.core.errors import BpstudioError

__all__ = ["FileError", "atomic_open", "atomic_write", "atomic_write_bytes"]


class FileError(BpstudioError):
    """A file cannot be written (or read): the message names the file and the reason."""


# errno → what a person can do about it, for the one-line messages.
_REASONS = {
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the file name is too long",
}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _REASONS[errno.EDQUOT] = "the disk quota is exceeded"


def file_error(path: str | os.PathLike, error: OSError) -> FileError:
    """The one-line :class:`FileError` for an ``OSError`` met while writing ``path``."""
    reason = _REASONS.get(error.errno) or error.strerror or str(error)
    return FileError(f"cannot write {os.fspath(path)}: {reason}")


@contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only when the ``with`` block ends normally.

    A symbolic link is followed, so the file it points to is updated and the link stays.
    A new file gets the permissions a plain ``open`` would give it; a replaced file keeps
    its own.

    Raises
    ------
    FileError
        The folder is missing, not writable, the disk is full, ...; the target is unchanged.
        Exceptions raised inside the block pass through unchanged (except ``OSError``, which
        becomes a :class:`FileError`), after the temporary file has been removed.
    """
    target = Path(os.path.realpath(os.fspath(path)))
    _check_target(path, target)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise file_error(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as e:
        _remove_quietly(tmp)
        if isinstance(e, OSError):
            raise file_error(path, e) from None
        raise
    _sync_folder(target.parent)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(f)`` with a binary file whose content then replaces ``path`` atomically.

    See :func:`atomic_open` for what happens on failure.
    """
    with atomic_open(path) as f:
        write(f)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def _check_target(path, target: Path) -> None:
    # Checked first so that the common mistakes get their own message rather than the
    # temporary file's errno.
    if not target.parent.is_dir():
        raise FileError(
            f"cannot write {os.fspath(path)}: the folder {target.parent} does not exist"
        )
    if target.is_dir():
        raise FileError(f"cannot write {os.fspath(path)}: it is a folder")


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Reading the umask through os.umask() sets it for a moment, which races with other
    # threads creating files; Linux shows it in /proc instead.
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_quietly(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _sync_folder(folder: Path) -> None:
    # Make the rename itself durable (POSIX); Windows cannot open folders, and there the
    # rename is already as durable as the file system makes it.
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
