"""Unpickling that loads NumPy arrays and refuses everything else.

A pickle is a small program: loading one can call any function it names, so a data file found
on the web could run code. :func:`load_numpy_pickle` resolves only the few globals that NumPy
arrays, dtypes and scalars are rebuilt from, and raises :class:`DataError` for any other name
before it can be called. It also caps how much data a file may unpack to.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bpstudio.core.errors import DataError

MAX_PICKLE_BYTES = 1 << 30
"""Most bytes a pickle may unpack to (the book's ``mnist.pkl.gz`` unpacks to about 220 MB)."""

_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


def load_numpy_pickle(path: str | os.PathLike[str]) -> object:
    """Unpickle ``path``, which may hold only (nested tuples and lists of) NumPy arrays.

    Python 2 pickles, such as the book's ``mnist.pkl.gz``, are read with ``encoding="latin1"``,
    which turns their byte strings back into the arrays' bytes.

    Parameters
    ----------
    path : path-like
        The pickle, gzip-compressed or not (recognised by its first two bytes, not its name).

    Returns
    -------
    object
        What the pickle holds.

    Raises
    ------
    DataError
        If the file is missing or unreadable, is not a pickle, is damaged, names a global other
        than NumPy's array-building ones, or unpacks to more than :data:`MAX_PICKLE_BYTES`.
    """
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            opener = (
                gzip.GzipFile(fileobj=raw, mode="rb") if compressed else contextlib.nullcontext(raw)
            )
            with opener as stream:
                return _NumpyOnlyUnpickler(_BoundedReader(stream, path), path).load()
    except DataError:
        raise
    except FileNotFoundError as exc:
        raise DataError(f"{path} does not exist") from exc
    # Unpickling damaged or foreign data can fail in many ways (UnpicklingError, EOFError,
    # ValueError, TypeError, MemoryError, zlib and gzip errors ...): to the user they all mean
    # the same, so all become the same DataError, which keeps the original as its cause.
    except Exception as exc:
        raise DataError(f"{path} is not a valid data pickle ({type(exc).__name__}: {exc})") from exc


class _BoundedReader:
    """File-like view of ``stream`` that delivers at most :data:`MAX_PICKLE_BYTES` bytes.

    It guards against a small gzip file that expands to gigabytes, and reads in chunks so that
    memory grows only with the data actually there, whatever length a pickle opcode claims.
    """

    def __init__(self, stream: BinaryIO, path: Path) -> None:
        self._stream = stream
        self._path = path
        self._left = MAX_PICKLE_BYTES

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise DataError(
                f"{self._path} unpacks to more than {MAX_PICKLE_BYTES:,} bytes; "
                "it is not a data pickle bpstudio can use"
            )
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self._left:
            size = self._left + 1
        chunks = []
        while size > 0:
            chunk = self._stream.read(min(size, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return self._count(b"".join(chunks))

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self._stream.readline(self._left + 1))


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals NumPy arrays need; any other raises DataError."""

    def __init__(self, file: _BoundedReader, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path
        self._allowed = _numpy_globals(self._latin1_encode)

    def find_class(self, module: str, name: str) -> object:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise DataError(
                f"{self._path}: refused to load the global {module}.{name}; a data pickle may "
                "only hold NumPy arrays (this file could run code when loaded: do not trust it)"
            ) from None

    def _latin1_encode(self, text: object, encoding: str = "latin1") -> bytes:
        """Stand-in for ``_codecs.encode``, which Python 3 uses to pickle bytes (protocol 2)."""
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise DataError(f"{self._path}: refused to call _codecs.encode with {encoding!r}")
        return text.encode("latin1")


def _numpy_globals(encode: Callable[..., bytes]) -> dict[tuple[str, str], object]:
    """Map the ``(module, name)`` pairs that array pickles refer to onto the real objects.

    NumPy 2 moved ``numpy.core`` to ``numpy._core``; the book's file names the old module, and
    importing that now warns, so both names map straight onto the objects, which are found
    through NumPy's own ``__reduce__`` methods rather than by importing private modules.
    """
    reconstruct = np.empty(0).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.empty(1).__reduce_ex__(5)[0]
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): encode,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = frombuffer
    return allowed
