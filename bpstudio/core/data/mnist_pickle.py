"""MNIST from the book's ``mnist.pkl.gz``: a pickle read by :mod:`safe_pickle`, then checked.

The file is untrusted: :func:`~bpstudio.core.data.safe_pickle.load_numpy_pickle` lets it build
nothing but bounded NumPy arrays, and the structure it holds is checked here before anything
else sees it. Every problem is a one-line :class:`DataError` naming the file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from bpstudio.core.data.dataset import DataSplits
from bpstudio.core.data.files import CancelCheck, check_cancel
from bpstudio.core.data.mnist import MNIST_CLASSES, MNIST_IMAGE_SHAPE, mnist_splits
from bpstudio.core.data.safe_pickle import load_numpy_pickle
from bpstudio.core.errors import DataError

_SPLIT_NAMES = ("train", "validation", "test")


def load_mnist_pickle(
    path: str | os.PathLike[str], *, cancel: CancelCheck | None = None
) -> DataSplits:
    """Load the book's ``mnist.pkl.gz`` (or the same pickle uncompressed).

    The file is a Python 2 pickle of ``(training, validation, test)``, each an ``(images,
    labels)`` pair with images float32 of shape ``(n, 784)`` in ``[0, 1]`` and labels int64 of
    shape ``(n,)``. Only the globals that NumPy arrays need may be loaded; anything else (a
    function, a class) is refused before it can run.

    Parameters
    ----------
    path : path-like
        The pickle, gzip-compressed or not (recognised by its first bytes, not its name).
    cancel : callable, optional
        Polled between chunks of about a megabyte; when it returns True the load stops.

    Returns
    -------
    DataSplits
        ``"mnist"``, with the book's three parts as they are in the file (50,000 / 10,000 /
        10,000 images for the real one), ``x`` in float64, image shape ``(28, 28)``.

    Raises
    ------
    DataError
        If the file is missing, is not a pickle, asks for a forbidden global, or does not hold
        the structure above; the message names the file and the problem.
    Cancelled
        If ``cancel`` returned True.
    """
    path = Path(path).expanduser()
    data = load_numpy_pickle(path, cancel=cancel)
    if not (isinstance(data, tuple | list) and len(data) == 3):
        raise DataError(
            f"{path}: expected a tuple (training, validation, test) as in the book's "
            f"mnist.pkl.gz, found {_describe(data)}"
        )
    checked = []
    try:
        for name, part in zip(_SPLIT_NAMES, data, strict=True):
            check_cancel(cancel, str(path))
            checked.append(_check_part(path, name, part))
        return mnist_splits(checked)
    except MemoryError:  # arrays within the limits, on a machine short of memory
        raise DataError(f"{path}: not enough memory to convert its images to float64") from None


def _check_part(path: Path, name: str, part: object) -> tuple[np.ndarray, np.ndarray]:
    """Check one ``(images, labels)`` pair of the book's pickle; return it as float64/int64."""
    if not (isinstance(part, tuple | list) and len(part) == 2):
        raise DataError(
            f"{path}: the {name} part should be (images, labels), found {_describe(part)}"
        )
    images, labels = part
    width = math.prod(MNIST_IMAGE_SHAPE)
    if not (
        isinstance(images, np.ndarray)
        and images.dtype.kind == "f"
        and images.ndim == 2
        and images.shape[1] == width
    ):
        raise DataError(
            f"{path}: {name} images should be a float array of shape (n, {width}), "
            f"found {_describe(images)}"
        )
    if not (isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.ndim == 1):
        raise DataError(
            f"{path}: {name} labels should be an integer array of shape (n,), "
            f"found {_describe(labels)}"
        )
    if len(images) != len(labels) or len(labels) == 0:
        raise DataError(
            f"{path}: the {name} part holds {len(images)} images and {len(labels)} labels; "
            "the counts must agree and not be zero"
        )
    # "not (inside)" so that NaN, which fails every comparison, is refused too.
    if not (images.min() >= 0.0 and images.max() <= 1.0):
        raise DataError(f"{path}: {name} images have values outside [0, 1]")
    if labels.min() < 0 or labels.max() >= MNIST_CLASSES:
        raise DataError(
            f"{path}: {name} labels run from {labels.min()} to {labels.max()}; "
            f"MNIST labels are 0..{MNIST_CLASSES - 1}"
        )
    return images.astype(np.float64), labels.astype(np.int64)


def _describe(value: object) -> str:
    """Say in a few words what ``value`` is, for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"
