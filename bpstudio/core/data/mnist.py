"""MNIST from its original IDX files or from the book's ``mnist.pkl.gz``.

Both loaders treat the file as untrusted: every problem becomes a :class:`DataError` that names
the file and what is wrong with it, nothing is allocated for data the file does not hold, and
the pickle loader refuses anything but NumPy arrays, because unpickling can run arbitrary code.

The split is the book's: the first 50,000 of the 60,000 training images train, the last 10,000
validate (the book's ``validation_data``), and the 10,000 ``t10k`` images test.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bpstudio.core.data.dataset import Dataset, DataSplits
from bpstudio.core.data.safe_pickle import load_numpy_pickle
from bpstudio.core.errors import DataError

IDX_IMAGE_MAGIC = 2051
IDX_LABEL_MAGIC = 2049
MNIST_IMAGE_SHAPE = (28, 28)
MNIST_CLASSES = 10
MAX_IDX_ITEMS = 10_000_000
"""Largest item count an IDX header may claim; larger claims are taken as damage, not data."""

IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The four files of the original MNIST distribution, each also accepted with ``.gz``."""

_CHUNK = 1 << 20
_SPLIT_NAMES = ("train", "validation", "test")


def find_mnist_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Locate the four IDX files in ``folder``, each either plain or gzip-compressed.

    Parameters
    ----------
    folder : path-like
        Folder that should hold the files named in :data:`IDX_NAMES` (or ``NAME.gz``).

    Returns
    -------
    list of pathlib.Path
        The four paths in the order of :data:`IDX_NAMES`; the plain file wins when both exist.

    Raises
    ------
    DataError
        If the folder does not exist or a file is missing; the message names the folder and the
        expected file names.
    """
    folder = Path(folder).expanduser()
    expected = ", ".join(f"{name}[.gz]" for name in IDX_NAMES)
    if not folder.is_dir():
        raise DataError(f"MNIST folder {folder} does not exist; it should hold {expected}")
    found, missing = [], []
    for name in IDX_NAMES:
        candidates = [folder / name, folder / f"{name}.gz"]
        present = [path for path in candidates if path.is_file()]
        if present:
            found.append(present[0])
        else:
            missing.append(f"{name}[.gz]")
    if missing:
        raise DataError(
            f"MNIST files missing in {folder}: {', '.join(missing)} "
            f"(the folder should hold {expected})"
        )
    return found


def mnist_files_present(folder: str | os.PathLike[str]) -> bool:
    """Return whether :func:`find_mnist_files` would find all four files in ``folder``."""
    try:
        find_mnist_files(folder)
    except DataError:
        return False
    return True


def load_mnist_idx(folder: str | os.PathLike[str]) -> DataSplits:
    """Load MNIST from the four original IDX files in ``folder``.

    Parameters
    ----------
    folder : path-like
        Folder holding the files named in :data:`IDX_NAMES`, plain or with ``.gz``.

    Returns
    -------
    DataSplits
        ``"mnist"``: for the real files 50,000 train / 10,000 validation / 10,000 test images,
        ``x`` of shape ``(n, 784)`` (the bytes times 1/255), 10 classes, image shape
        ``(28, 28)``. For a training file of another size ``N`` (small test files), the last
        ``N // 6`` training images validate, as 10,000 of 60,000 do in the book.

    Raises
    ------
    DataError
        If a file is missing, damaged, truncated or not MNIST; the message names it.
    """
    train_images, train_labels, test_images, test_labels = find_mnist_files(folder)
    x, y, raw = _read_pair(train_images, train_labels)
    test_x, test_y, test_raw = _read_pair(test_images, test_labels)
    if len(y) < 6:
        raise DataError(f"{train_images} holds {len(y)} images, too few to split (at least 6)")
    n = len(y) - len(y) // 6
    parts = [(x[:n], y[:n], raw[:n]), (x[n:], y[n:], raw[n:]), (test_x, test_y, test_raw)]
    return _mnist_splits(parts)


def _mnist_splits(parts: list[tuple]) -> DataSplits:
    """Wrap three ``(x, y[, bytes])`` parts, already checked, into MNIST's :class:`DataSplits`."""
    datasets = [
        Dataset(f"mnist/{name}", *part[:2], MNIST_CLASSES, MNIST_IMAGE_SHAPE, *part[2:])
        for name, part in zip(_SPLIT_NAMES, parts, strict=True)
    ]
    return DataSplits("mnist", *datasets)


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, ...]:
    """Read one images file and its labels file.

    Returns ``x`` (float64, the bytes × 1/255), ``y`` (int64) and the bytes themselves (n, 784).
    """
    images = _read_idx(images_path, IDX_IMAGE_MAGIC, MNIST_IMAGE_SHAPE)
    labels = _read_idx(labels_path, IDX_LABEL_MAGIC, ())
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the counts must agree"
        )
    if len(labels) == 0:
        raise DataError(f"{images_path} holds no images")
    if labels.max() >= MNIST_CLASSES:
        index = int(np.argmax(labels >= MNIST_CLASSES))
        raise DataError(
            f"{labels_path}: label {labels[index]} at index {index} is out of range "
            f"(MNIST labels are 0..{MNIST_CLASSES - 1})"
        )
    raw = images.reshape(len(images), -1)
    # bytes × (1/255), not bytes / 255: training converts gathered bytes the same way, and a
    # multiplication is several times faster than a division (they differ by one rounding at
    # most, in 24 of the 256 byte values). 255 × (1/255) is exactly 1.
    x = raw.astype(np.float64)
    x *= 1.0 / 255.0
    return x, labels.astype(np.int64), raw


@contextlib.contextmanager
def _open_idx(path: Path):
    """Open an IDX file; yield the stream and its size in bytes (``None`` for gzip)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as stream:
            yield stream, None
    else:
        with open(path, "rb") as stream:
            yield stream, os.fstat(stream.fileno()).st_size


def _read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """Read an IDX file of unsigned bytes whose items have ``item_shape``.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(count, *item_shape)``.
    """
    try:
        with _open_idx(path) as (stream, size):
            count = _read_header(stream, path, magic, item_shape)
            needed = count * math.prod(item_shape)
            header_size = 4 + 4 * (1 + len(item_shape))
            if size is not None and size - header_size != needed:
                _raise_size_mismatch(path, count, needed, size - header_size)
            payload = _read_bounded(stream, needed)
            if len(payload) < needed:
                _raise_size_mismatch(path, count, needed, len(payload))
            if stream.read(1):
                raise DataError(f"{path} has data after the {count} items its header announces")
    except (EOFError, zlib.error, OSError) as exc:
        problem = (
            "is truncated or not a valid gzip file" if path.suffix == ".gz" else "cannot be read"
        )
        raise DataError(f"{path} {problem}: {exc}") from exc
    return np.frombuffer(payload, dtype=np.uint8).reshape(count, *item_shape)


def _read_header(stream: BinaryIO, path: Path, magic: int, item_shape: tuple[int, ...]) -> int:
    """Check an IDX header against what MNIST needs; return the item count it announces."""
    kind = {IDX_IMAGE_MAGIC: "an IDX image file", IDX_LABEL_MAGIC: "an IDX label file"}
    (found,) = struct.unpack(">I", _read_exactly(stream, 4, path))
    if found != magic:
        seen = kind.get(found, "not an IDX file of bytes")
        hint = " (it looks gzip-compressed: add .gz to its name)" if found >> 16 == 0x1F8B else ""
        raise DataError(
            f"{path}: wrong magic number {found} ({seen}); expected {magic} ({kind[magic]}){hint}"
        )
    dims = 1 + len(item_shape)
    count, *shape = struct.unpack(f">{dims}I", _read_exactly(stream, 4 * dims, path))
    if count > MAX_IDX_ITEMS:
        raise DataError(
            f"{path}: header claims {count:,} items, more than the {MAX_IDX_ITEMS:,} a file may "
            "hold here; the file is damaged or not MNIST"
        )
    if tuple(shape) != item_shape:
        found_shape = "×".join(map(str, shape))
        raise DataError(
            f"{path}: images are {found_shape} pixels; MNIST images are "
            f"{item_shape[0]}×{item_shape[1]}"
        )
    return count


def _read_exactly(stream: BinaryIO, size: int, path: Path) -> bytes:
    """Read ``size`` header bytes, or raise a truncation error naming ``path``."""
    data = stream.read(size)
    if len(data) < size:
        raise DataError(f"{path} is truncated: its header is incomplete")
    return data


def _read_bounded(stream: BinaryIO, needed: int) -> bytes:
    """Read up to ``needed`` bytes in chunks, so that memory grows only with real data."""
    chunks = []
    while needed > 0:
        chunk = stream.read(min(needed, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        needed -= len(chunk)
    return b"".join(chunks)


def _raise_size_mismatch(path: Path, count: int, needed: int, available: int) -> None:
    """Raise the error for a payload whose size disagrees with the header's item count."""
    if available < needed:
        raise DataError(
            f"{path} is truncated: its header announces {count:,} items ({needed:,} bytes) "
            f"but only {available:,} bytes of data follow"
        )
    raise DataError(
        f"{path} has {available - needed:,} bytes after the {count:,} items its header announces"
    )


def load_mnist_pickle(path: str | os.PathLike[str]) -> DataSplits:
    """Load the book's ``mnist.pkl.gz`` (or the same pickle uncompressed).

    The file is a Python 2 pickle of ``(training, validation, test)``, each an ``(images,
    labels)`` pair with images float32 of shape ``(n, 784)`` in ``[0, 1]`` and labels int64 of
    shape ``(n,)``. Only the globals that NumPy arrays need may be loaded; anything else (a
    function, a class) is refused before it can run.

    Parameters
    ----------
    path : path-like
        The pickle, gzip-compressed or not (recognised by its first bytes, not its name).

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
    """
    path = Path(path).expanduser()
    data = load_numpy_pickle(path)
    if not (isinstance(data, tuple | list) and len(data) == 3):
        raise DataError(
            f"{path}: expected a tuple (training, validation, test) as in the book's "
            f"mnist.pkl.gz, found {_describe(data)}"
        )
    parts = zip(_SPLIT_NAMES, data, strict=True)
    return _mnist_splits([_check_part(path, name, part) for name, part in parts])


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
