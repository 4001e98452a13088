"""Checked stand-ins for the globals a pickle of NumPy arrays names (used by ``safe_pickle``).

Even NumPy's own constructors are dangerous in a forged pickle: ``numpy.ndarray(shape, dtype,
buffer, offset, strides)`` turns 4 bytes into a 1.9 GB array of zero strides, and a state whose
shape claims 300,000 images asks for the memory before the data is looked at. So every name a
data pickle may use resolves to a stand-in that checks its arguments first:

- an item type must be one of :data:`ARRAY_DTYPES` (what MNIST uses), never an object array;
- an array's shape times its item size must equal the bytes the file holds for it;
- ``numpy.ndarray`` itself cannot be called, only passed to ``_reconstruct`` as NumPy does;
- all the arrays and byte strings built together may not exceed twice the bytes read from the
  file (one copy of each is legitimate: Python 3 protocol 2 pickles bytes as latin-1 text),
  so a file cannot take memory by reusing one block of its data for many arrays.

One :class:`StandIns` serves one load: it holds that load's count of bytes built.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np

ARRAY_DTYPES = ("f4", "f8", "u1", "i4", "i8")
"""The item types an array in a data pickle may have (as ``dtype.str`` without byte order)."""

_TYPES_IN_WORDS = "float32, float64, uint8, int32 or int64"


class Refused(Exception):
    """A stand-in refused what the pickle asked for; the message omits the file name."""


def check_dtype(dtype: object) -> np.dtype:
    """Return ``dtype`` if it is one of :data:`ARRAY_DTYPES` (either byte order), else refuse."""
    if not (
        isinstance(dtype, np.dtype)
        and dtype.fields is None
        and dtype.subdtype is None
        and dtype.str[1:] in ARRAY_DTYPES
    ):
        raise Refused(
            f"refused an array of item type {dtype}; a data pickle may hold arrays of "
            f"{_TYPES_IN_WORDS} only"
        )
    return dtype


def _check_shape(shape: object) -> tuple[int, ...]:
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise Refused(f"refused an array of shape {shape!r}; a shape is a tuple of counts")
    return shape


def _check_bytes(shape: tuple[int, ...], dtype: np.dtype, held: int) -> None:
    """Refuse an array whose shape needs other than the ``held`` bytes the file holds for it."""
    needed = math.prod(shape) * dtype.itemsize
    if needed != held:
        raise Refused(
            f"an array of shape {shape} and item type {dtype} needs {needed:,} bytes, but the "
            f"file holds {held:,} bytes for it; the file is damaged or forged"
        )


class ArrayType:
    """What the name ``numpy.ndarray`` resolves to: only ``_reconstruct`` may use it."""

    def __new__(cls, *args: object, **kwargs: object) -> ArrayType:
        raise Refused("refused to call numpy.ndarray directly; arrays are rebuilt from their data")


class CheckedArray(np.ndarray):
    """An array rebuilt by ``_reconstruct``: its state is checked before NumPy applies it."""

    stand_ins: StandIns

    def __setstate__(self, state: object) -> None:
        if not (isinstance(state, tuple) and len(state) in (4, 5)):
            raise Refused("refused an array whose pickled state is not NumPy's")
        shape, dtype, _, data = state[-4:]
        dtype = check_dtype(dtype)
        if not isinstance(data, bytes | bytearray | str):
            raise Refused("refused an array that holds Python objects instead of numbers")
        _check_bytes(_check_shape(shape), dtype, len(data))
        self.stand_ins.spend(len(data))
        super().__setstate__(state)


class StandIns:
    """The stand-ins of one load; ``delivered()`` says how many bytes the file gave so far."""

    def __init__(self, delivered: Callable[[], int]) -> None:
        self._delivered = delivered
        self._built = 0
        self._scalar = np.float64(0).__reduce__()[0]

    def spend(self, size: int) -> None:
        """Count ``size`` bytes built; refuse when the total passes twice the bytes read."""
        self._built += size
        if self._built > 2 * self._delivered():
            raise Refused(
                f"builds {self._built:,} bytes of arrays from {self._delivered():,} bytes of data "
                "(it reuses its data to take memory); the file is forged"
            )

    def reconstruct(self, subtype: object, shape: object, typecode: object) -> CheckedArray:
        """Stand-in for ``numpy.core.multiarray._reconstruct``: an empty array to be filled."""
        if subtype is not ArrayType or shape != (0,):
            raise Refused("refused an array reconstruction that is not NumPy's")
        array = np.ndarray.__new__(CheckedArray, (0,), np.int8)
        array.stand_ins = self
        return array

    def frombuffer(self, buf: object, dtype: object, shape: object, order: object) -> np.ndarray:
        """Stand-in for ``numpy.core.numeric._frombuffer`` (protocol 5): data, type, shape."""
        dtype = check_dtype(dtype)
        if not isinstance(buf, bytes | bytearray | pickle.PickleBuffer) or order not in ("C", "F"):
            raise Refused("refused an array buffer that is not NumPy's")
        with memoryview(buf) as view:
            held = view.nbytes
        _check_bytes(_check_shape(shape), dtype, held)
        self.spend(held)
        return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order)

    @staticmethod
    def dtype(name: object, align: object = False, copy: object = True) -> np.dtype:
        """Stand-in for ``numpy.dtype``: only the item types of :data:`ARRAY_DTYPES`.

        Always a copy, so that the pickle's ``__setstate__`` can never change NumPy's own.
        """
        if not (isinstance(name, str) and name in ARRAY_DTYPES):
            raise Refused(
                f"refused the item type {name!r}; a data pickle may hold arrays of "
                f"{_TYPES_IN_WORDS} only"
            )
        return np.dtype(name, bool(align), True)

    def scalar(self, dtype: object, data: object) -> object:
        """Stand-in for ``numpy.core.multiarray.scalar``: one number of an allowed type."""
        dtype = check_dtype(dtype)
        if not (isinstance(data, bytes | str) and len(data) == dtype.itemsize):
            raise Refused(f"refused a {dtype} number that is not {dtype.itemsize} bytes long")
        self.spend(len(data))
        return self._scalar(dtype, data)

    @staticmethod
    def empty_bytes(*args: object) -> bytes:
        """Stand-in for ``bytes``, which protocol 2 calls with no argument for ``b""``."""
        if args:
            raise Refused("refused to call bytes with arguments; only b'' is built that way")
        return b""

    def latin1_encode(self, text: object, encoding: str = "latin1") -> bytes:
        """Stand-in for ``_codecs.encode``, which Python 3 uses to pickle bytes (protocol 2)."""
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise Refused(f"refused to call _codecs.encode with {encoding!r}")
        self.spend(len(text))
        return text.encode("latin1")

    def globals(self) -> dict[tuple[str, str], object]:
        """Map the ``(module, name)`` pairs array pickles refer to onto these stand-ins.

        NumPy 2 moved ``numpy.core`` to ``numpy._core``; the book's file names the old module,
        so both names map onto the same stand-ins. ``bytes`` is named ``__builtin__.bytes`` by
        protocol 2 (an empty array's data) and ``builtins.bytes`` in Python 3's own names.
        """
        allowed: dict[tuple[str, str], object] = {
            ("numpy", "ndarray"): ArrayType,
            ("numpy", "dtype"): self.dtype,
            ("_codecs", "encode"): self.latin1_encode,
            ("__builtin__", "bytes"): self.empty_bytes,
            ("builtins", "bytes"): self.empty_bytes,
        }
        for package in ("numpy.core", "numpy._core"):
            allowed[(f"{package}.multiarray", "_reconstruct")] = self.reconstruct
            allowed[(f"{package}.multiarray", "scalar")] = self.scalar
            allowed[(f"{package}.numeric", "_frombuffer")] = self.frombuffer
        return allowed
