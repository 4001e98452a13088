"""Unpickling that loads bounded NumPy arrays of numbers and refuses everything else.

A pickle is a small program: loading one can call any function it names, so a data file found
on the web could run code, and even NumPy's own array constructors, called with a shape the
file made up, could allocate gigabytes from a few bytes. :func:`load_numpy_pickle` therefore
resolves only the few globals that arrays of numbers are rebuilt from, and each of them is a
checked stand-in: a dtype must be one MNIST uses (float32, float64, uint8, int32, int64), and an
array's shape times its item size must equal the bytes the file actually holds for it (see
``array_standins``). Any other name is refused before it can be called. The whole file may
unpack to at most :data:`MAX_PICKLE_BYTES`, no read may ask for more than the file can hold,
and a load can be cancelled between chunks.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bpstudio.core.data.array_standins import CheckedArray, Refused, StandIns
from bpstudio.core.data.files import CancelCheck, check_cancel, open_regular_file, os_error
from bpstudio.core.errors import BpstudioError, DataError

MAX_PICKLE_BYTES = 512 << 20
"""Most bytes a pickle may unpack to (the book's ``mnist.pkl.gz`` unpacks to about 220 MB)."""

_CHUNK = 1 << 20
# Deflate expands data by at most about 1032:1: what a gzip file of s bytes can hold.
_MAX_DEFLATE_RATIO = 1032
_GZIP_MAGIC = b"\x1f\x8b"


def load_numpy_pickle(path: str | os.PathLike[str], *, cancel: CancelCheck | None = None) -> object:
    """Unpickle ``path``, which may hold only (nested tuples and lists of) NumPy arrays.

    Python 2 pickles, such as the book's ``mnist.pkl.gz``, are read with ``encoding="latin1"``,
    which turns their byte strings back into the arrays' bytes.

    Parameters
    ----------
    path : path-like
        The pickle, gzip-compressed or not (recognised by its first two bytes, not its name).
    cancel : callable, optional
        Polled between chunks of about a megabyte; when it returns True the load stops.

    Returns
    -------
    object
        What the pickle holds; its arrays are plain :class:`numpy.ndarray`.

    Raises
    ------
    DataError
        If the file is missing, not a regular file, unreadable, is not a pickle, is damaged,
        names a global other than NumPy's array-building ones, describes an array with another
        item type or more bytes than it holds, or unpacks to more than :data:`MAX_PICKLE_BYTES`.
    Cancelled
        If ``cancel`` returned True.
    """
    path = Path(path)
    try:
        with open_regular_file(path) as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            capacity = os.fstat(raw.fileno()).st_size * (_MAX_DEFLATE_RATIO if compressed else 1)
            opener = (
                gzip.GzipFile(fileobj=raw, mode="rb") if compressed else contextlib.nullcontext(raw)
            )
            with opener as stream:
                reader = _BoundedReader(stream, path, capacity, cancel)
                return _plain(_NumpyOnlyUnpickler(reader, path).load())
    except BpstudioError:
        raise
    except Refused as exc:
        raise DataError(f"{path}: {exc}") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path} is not a valid data pickle ({_one_line(exc)})") from exc
    except MemoryError as exc:
        raise DataError(f"{path}: not enough memory to unpack it") from exc
    except OSError as exc:
        raise os_error(path, exc, "read") from exc
    # Unpickling damaged or foreign data can fail in many ways (UnpicklingError, ValueError,
    # TypeError ...): to the user they all mean the same, so all become the same DataError,
    # which keeps the original as its cause.
    except Exception as exc:
        raise DataError(f"{path} is not a valid data pickle ({_one_line(exc)})") from exc


def _one_line(exc: BaseException) -> str:
    """``Type: message`` of ``exc`` on one line, for an error message."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _plain(value: object) -> object:
    """``value`` with every checked array turned into a plain ndarray (a view, no copy)."""
    if isinstance(value, CheckedArray):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class _BoundedReader:
    """File-like view of ``stream`` that delivers what the file can hold, and no more.

    That is at most :data:`MAX_PICKLE_BYTES`, and at most what ``capacity`` says the file can
    hold (its size, or deflate's largest expansion of it), less what was read already. A read
    longer than that is refused before anything is allocated for it; a long read is gathered
    in chunks into one buffer, between which ``cancel`` is polled; a short read is an error.
    """

    def __init__(
        self, stream: BinaryIO, path: Path, capacity: int, cancel: CancelCheck | None
    ) -> None:
        self._stream = stream
        self._path = path
        self._cancel = cancel
        self._left = MAX_PICKLE_BYTES
        self._capacity = capacity

    def delivered(self) -> int:
        """Bytes read so far."""
        return MAX_PICKLE_BYTES - self._left

    def _refuse(self, size: int) -> DataError:
        if size > self._capacity:
            return DataError(
                f"{self._path} is damaged or forged: it announces {size:,} bytes of data, more "
                "than the file can hold"
            )
        return DataError(
            f"{self._path} unpacks to more than {MAX_PICKLE_BYTES:,} bytes; "
            "it is not a data pickle bpstudio can use"
        )

    def _count(self, size: int) -> None:
        if size > min(self._left, self._capacity):
            raise self._refuse(size)
        self._left -= size
        self._capacity -= size

    def read(self, size: int | None = -1) -> bytes | bytearray:
        if size is None or size < 0:
            size = min(self._left, self._capacity) + 1  # as much as is allowed, and one more
            data = self._stream.read(size)
            self._count(len(data))
            return data
        self._count(size)
        if size <= _CHUNK:
            data = self._stream.read(size)
        else:  # one buffer, filled in chunks (bytes would need a second copy of it)
            data = bytearray(size)
            done = 0
            with memoryview(data) as view:
                while done < size:
                    check_cancel(self._cancel, str(self._path))
                    got = self._stream.readinto(view[done : done + _CHUNK])
                    if not got:
                        break
                    done += got
            del data[done:]
        if len(data) < size:
            raise EOFError("the file ends in the middle of the pickle")
        return data

    def readline(self, size: int | None = -1) -> bytes:
        check_cancel(self._cancel, str(self._path))
        line = self._stream.readline(min(self._left, self._capacity) + 1)
        self._count(len(line))
        return line


class _NumpyOnlyUnpickler(pickle._Unpickler):
    """Unpickler that resolves only checked stand-ins for NumPy's array-building globals.

    It is the pure-Python unpickler, with two opcodes replaced, because the C one allocates the
    length a bytes opcode claims before it reads a byte (a 40-byte file could ask for 8 GiB):
    here every length goes through :class:`_BoundedReader`, which refuses it first. A data
    pickle has a few hundred opcodes, so the pure-Python loop costs nothing noticeable.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: _BoundedReader, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path
        self._allowed = StandIns(file.delivered).globals()

    def find_class(self, module: str, name: str) -> object:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise DataError(
                f"{self._path}: refused to load the global {module}.{name}; a data pickle may "
                "only hold NumPy arrays (this file could run code when loaded: do not trust it)"
            ) from None

    def _load_build(self) -> None:
        """BUILD, only for arrays and dtypes: never set attributes of anything else."""
        target = self.stack[-2] if len(self.stack) >= 2 else None
        if not isinstance(target, CheckedArray | np.dtype):
            raise Refused(f"refused to set the state of {type(target).__name__!r}")
        pickle._Unpickler.load_build(self)

    def _load_bytearray8(self) -> None:
        """BYTEARRAY8 without allocating the claimed length before reading the data."""
        (size,) = struct.unpack("<Q", self.read(8))
        self.append(bytearray(self.read(size)))

    dispatch[pickle.BUILD[0]] = _load_build
    dispatch[pickle.BYTEARRAY8[0]] = _load_bytearray8
