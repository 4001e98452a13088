"""The two data types every loader returns: a :class:`Dataset` and its three :class:`DataSplits`.

A data set holds one example per row, as the rest of the core expects: ``x`` has shape
``(n, d)`` where ``d`` is the size of the input layer (the book's ``sizes[0]``), and ``y`` holds
the ``n`` class labels as integers. The book stores a training label as a one-hot column vector
and a test label as an integer; bpstudio keeps one format, the integer, and builds the one-hot
matrix on demand with :meth:`Dataset.one_hot`.

Both types are frozen and their arrays are read-only, so a snapshot handed to another thread can
never change under it. They compare by identity (``eq=False``): comparing arrays of tens of
millions of numbers by value is never what ``==`` should do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _frozen(array: np.ndarray) -> np.ndarray:
    """Return ``array`` marked read-only (in place, without copying)."""
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """``n`` labelled examples: the inputs ``x`` and their classes ``y``.

    Parameters
    ----------
    name : str
        Shown to the user, e.g. ``"mnist/train"``.
    x : numpy.ndarray
        Inputs, shape ``(n, d)``, one example per row, values in ``[0, 1]``. Converted to
        C-contiguous float64 (without a copy when it already is) and made read-only in place.
    y : numpy.ndarray
        Labels, shape ``(n,)``, integers in ``[0, num_classes)``. Converted to int64 and made
        read-only in place.
    num_classes : int
        Number of classes, the size of the output layer.
    image_shape : tuple of int, optional
        ``(rows, cols)`` when each row of ``x`` is an image (``rows * cols == d``), ``None`` for
        inputs that are not images (the 2-D toy sets).
    x_bytes : numpy.ndarray, optional
        When ``x`` was made from 8-bit pixels as ``x = x_bytes × (1/255)`` (MNIST), those bytes,
        uint8 of shape ``(n, d)``. Training gathers each mini-batch from them, an eighth of the
        memory traffic of float64, and multiplies by 1/255 again, which gives the very same floats.

    Raises
    ------
    ValueError
        If the arrays break the rules above. Loaders check files before building a data set, so
        this signals a bug in the caller, not a bad file.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    image_shape: tuple[int, int] | None = None
    x_bytes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if np.asarray(self.y).dtype.kind not in "iu":
            raise ValueError(
                f"{self.name}: labels must be integers, got {np.asarray(self.y).dtype}"
            )
        x = np.ascontiguousarray(self.x, dtype=np.float64)
        y = np.ascontiguousarray(self.y, dtype=np.int64)
        if x.ndim != 2:
            raise ValueError(f"{self.name}: x must have shape (n, d), got {x.shape}")
        if y.shape != (x.shape[0],):
            raise ValueError(f"{self.name}: y must have shape ({x.shape[0]},), got {y.shape}")
        if self.num_classes < 1:
            raise ValueError(f"{self.name}: num_classes must be positive, got {self.num_classes}")
        # Written as "not (inside)" so that NaN, which fails every comparison, is refused too.
        if x.size and not (x.min() >= 0.0 and x.max() <= 1.0):
            raise ValueError(f"{self.name}: x must lie in [0, 1]")
        if y.size and not (y.min() >= 0 and y.max() < self.num_classes):
            raise ValueError(f"{self.name}: labels must lie in [0, {self.num_classes})")
        if self.image_shape is not None:
            rows, cols = self.image_shape
            if rows * cols != x.shape[1]:
                raise ValueError(
                    f"{self.name}: image_shape {self.image_shape} does not match d={x.shape[1]}"
                )
            object.__setattr__(self, "image_shape", (int(rows), int(cols)))
        if self.x_bytes is not None:
            raw = np.ascontiguousarray(self.x_bytes)
            if raw.dtype != np.uint8 or raw.shape != x.shape:
                raise ValueError(f"{self.name}: x_bytes must be uint8 of shape {x.shape}")
            object.__setattr__(self, "x_bytes", _frozen(raw))
        object.__setattr__(self, "x", _frozen(x))
        object.__setattr__(self, "y", _frozen(y))
        object.__setattr__(self, "num_classes", int(self.num_classes))

    def __len__(self) -> int:
        """Number of examples ``n``."""
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n={len(self)}, input_size={self.input_size}, "
            f"num_classes={self.num_classes}, image_shape={self.image_shape})"
        )

    @property
    def input_size(self) -> int:
        """Size ``d`` of one input, the number of neurons in the input layer."""
        return int(self.x.shape[1])

    def one_hot(self) -> np.ndarray:
        """Return the labels as one-hot rows, the book's ``vectorized_result`` for all examples.

        Returns
        -------
        numpy.ndarray
            New float64 array of shape ``(n, num_classes)`` with ``1.0`` at ``[i, y[i]]`` and
            ``0.0`` elsewhere; it is writable and shares nothing with the data set.
        """
        result = np.zeros((len(self), self.num_classes), dtype=np.float64)
        result[np.arange(len(self)), self.y] = 1.0
        return result

    def subset(self, n: int) -> Dataset:
        """Return the first ``n`` examples (all of them when ``n >= len(self)``).

        The arrays are read-only views of this data set's arrays: no copy is made.

        Parameters
        ----------
        n : int
            Number of examples to keep, at least 1.

        Returns
        -------
        Dataset
            Named ``"<name>[:n]"``, with the same classes and image shape.
        """
        if n < 1:
            raise ValueError(f"subset needs at least one example, got n={n}")
        n = min(int(n), len(self))
        return Dataset(
            name=f"{self.name}[:{n}]",
            x=self.x[:n],
            y=self.y[:n],
            num_classes=self.num_classes,
            image_shape=self.image_shape,
            x_bytes=None if self.x_bytes is None else self.x_bytes[:n],
        )


@dataclass(frozen=True, eq=False)
class DataSplits:
    """A data set's three parts, as in the book: train on one, tune on one, report on one.

    Parameters
    ----------
    name : str
        The data set's name as the user chose it (``"digits"``, ``"mnist"``, ``"xor"``, ...).
    train, validation, test : Dataset
        The three parts; they must agree on input size, number of classes and image shape.

    Raises
    ------
    ValueError
        If the three parts disagree.
    """

    name: str
    train: Dataset
    validation: Dataset
    test: Dataset

    def __post_init__(self) -> None:
        for part in (self.validation, self.test):
            same = (part.input_size, part.num_classes, part.image_shape) == (
                self.train.input_size,
                self.train.num_classes,
                self.train.image_shape,
            )
            if not same:
                raise ValueError(
                    f"{self.name}: {part.name} does not match {self.train.name} in input size, "
                    "number of classes or image shape"
                )

    @property
    def input_size(self) -> int:
        """Size ``d`` of one input (the book's ``sizes[0]``)."""
        return self.train.input_size

    @property
    def num_classes(self) -> int:
        """Number of classes (the size of the output layer)."""
        return self.train.num_classes

    @property
    def image_shape(self) -> tuple[int, int] | None:
        """``(rows, cols)`` of one image, or ``None`` when the inputs are not images."""
        return self.train.image_shape

    def describe(self) -> str:
        """Return a one-line summary for the user.

        Returns
        -------
        str
            E.g. ``"mnist: 50000 train / 10000 validation / 10000 test, 28×28 images,
            10 classes"``.
        """
        if self.image_shape is None:
            inputs = f"{self.input_size} inputs"
        else:
            inputs = f"{self.image_shape[0]}×{self.image_shape[1]} images"
        return (
            f"{self.name}: {len(self.train)} train / {len(self.validation)} validation / "
            f"{len(self.test)} test, {inputs}, {self.num_classes} classes"
        )


def split_arrays(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_classes: int,
    sizes: tuple[int, int, int],
    image_shape: tuple[int, int] | None = None,
) -> DataSplits:
    """Cut ``x`` and ``y`` into consecutive train, validation and test parts.

    Parameters
    ----------
    name : str
        Name of the whole data set; the parts are named ``"<name>/train"`` and so on.
    x : numpy.ndarray
        Inputs, shape ``(n, d)``, already in the order wanted.
    y : numpy.ndarray
        Labels, shape ``(n,)``.
    num_classes : int
        Number of classes.
    sizes : tuple of int
        ``(n_train, n_validation, n_test)``, summing to ``n``.
    image_shape : tuple of int, optional
        ``(rows, cols)`` of one image, or ``None``.

    Returns
    -------
    DataSplits
        Whose arrays are views of ``x`` and ``y`` when those are already float64 and int64.
    """
    if sum(sizes) != len(y):
        raise ValueError(f"{name}: split sizes {sizes} do not add up to {len(y)} examples")
    bounds = np.cumsum((0, *sizes))
    parts = [
        Dataset(f"{name}/{part}", x[lo:hi], y[lo:hi], num_classes, image_shape)
        for part, lo, hi in zip(
            ("train", "validation", "test"), bounds[:-1], bounds[1:], strict=True
        )
    ]
    return DataSplits(name, *parts)
