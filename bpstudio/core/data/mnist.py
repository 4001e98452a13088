"""MNIST from its original IDX files (the book's ``mnist.pkl.gz`` is read by ``mnist_pickle``).

The loader treats every file as untrusted: every problem becomes a one-line :class:`DataError`
that names the file and what is wrong with it, only regular files are opened (a FIFO would block
forever), and nothing is allocated for data the file does not hold. A header may claim at most
:data:`MAX_IDX_BYTES` of data, and a gzip stream is decompressed only as far as its header says,
so a small file that expands to gigabytes (a "gzip bomb") is refused after reading what the
header announced. A load can be cancelled between chunks.

The split is the book's: the first 50,000 of the 60,000 training images train, the last 10,000
validate (the book's ``validation_data``), and the 10,000 ``t10k`` images test.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import stat
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bpstudio.core.data.dataset import Dataset, DataSplits
from bpstudio.core.data.files import (
    CancelCheck,
    check_cancel,
    file_kind,
    open_regular_file,
    os_error,
    regular_file_error,
)
from bpstudio.core.errors import DataError

IDX_IMAGE_MAGIC = 2051
IDX_LABEL_MAGIC = 2049
MNIST_IMAGE_SHAPE = (28, 28)
MNIST_CLASSES = 10
MAX_IDX_ITEMS = 10_000_000
"""Largest item count an IDX header may claim; larger claims are taken as damage, not data."""
MAX_IDX_BYTES = 100_000_000
"""Most data bytes an IDX header may announce (MNIST's largest file holds 47,040,000)."""

IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The four files of the original MNIST distribution, each also accepted with ``.gz``."""

_CHUNK = 1 << 20
_CONVERT_ROWS = 8192
# Deflate cannot expand data by more than about 1032:1, so a gzip file of s bytes never holds
# more than this many times s bytes: a header announcing more is a truncated file.
_MAX_DEFLATE_RATIO = 1032
_SPLIT_NAMES = ("train", "validation", "test")
_EXPECTED = ", ".join(f"{name}[.gz]" for name in IDX_NAMES)


def find_mnist_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Locate the four IDX files in ``folder``, each either plain or gzip-compressed.

    Parameters
    ----------
    folder : path-like
        Folder that should hold the files named in :data:`IDX_NAMES` (or ``NAME.gz``).

    Returns
    -------
    list of pathlib.Path
        The four paths in the order of :data:`IDX_NAMES`; the plain file wins when both are
        regular files.

    Raises
    ------
    DataError
        If the folder does not exist or is not a folder, or a file is missing or is not a
        regular file; the message names the folder and the expected file names.
    """
    folder = Path(folder).expanduser()
    _check_folder(folder)
    found, missing = [], []
    for name in IDX_NAMES:
        path = _find_one(folder, name)
        if path is None:
            missing.append(f"{name}[.gz]")
        else:
            found.append(path)
    if missing:
        raise DataError(
            f"MNIST files missing in {folder}: {', '.join(missing)} "
            f"(the folder should hold {_EXPECTED})"
        )
    return found


def _check_folder(folder: Path) -> None:
    """Raise the right DataError unless ``folder`` is an existing folder."""
    try:
        mode = os.stat(folder).st_mode
    except FileNotFoundError:
        raise DataError(
            f"MNIST folder {folder} does not exist; it should hold {_EXPECTED}"
        ) from None
    except OSError as exc:
        raise os_error(folder, exc, "looked at") from exc
    if stat.S_ISDIR(mode):
        return
    hint = ""
    if folder.name.endswith((".pkl.gz", ".pkl")):
        hint = " (for the book's pickle, give its path alone, without mnist:)"
    raise DataError(
        f"{folder} is {file_kind(mode)}, not a folder; mnist:<folder> takes the folder that "
        f"holds {_EXPECTED}{hint}"
    )


def _find_one(folder: Path, name: str) -> Path | None:
    """The regular file ``name`` or ``name.gz`` in ``folder``; None if neither exists.

    Raises DataError if neither is a regular file but one exists as something else (a folder,
    a FIFO, ...): that is not "missing", and saying so would send the user looking elsewhere.
    """
    odd: list[tuple[Path, int]] = []
    for path in (folder / name, folder / f"{name}.gz"):
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise os_error(path, exc, "looked at") from exc
        if stat.S_ISREG(mode):
            return path
        odd.append((path, mode))
    if odd:
        raise regular_file_error(*odd[0])
    return None


def mnist_files_present(folder: str | os.PathLike[str]) -> bool:
    """Return whether :func:`find_mnist_files` would find all four files in ``folder``."""
    try:
        find_mnist_files(folder)
    except DataError:
        return False
    return True


def mnist_files_absent(folder: str | os.PathLike[str]) -> list[str]:
    """The names of :data:`IDX_NAMES` of which ``folder`` holds nothing, plain or ``.gz``.

    Something that is there but is not a usable file (a folder, a FIFO, a damaged file) does
    not count as absent: loading it gives the precise error, where "not downloaded" would not.
    """
    folder = Path(folder).expanduser()
    return [
        name
        for name in IDX_NAMES
        if not any(os.path.lexists(folder / f"{name}{suffix}") for suffix in ("", ".gz"))
    ]


def load_mnist_idx(
    folder: str | os.PathLike[str], *, cancel: CancelCheck | None = None
) -> DataSplits:
    """Load MNIST from the four original IDX files in ``folder``.

    Parameters
    ----------
    folder : path-like
        Folder holding the files named in :data:`IDX_NAMES`, plain or with ``.gz``.
    cancel : callable, optional
        Polled between chunks of about a megabyte; when it returns True the load stops.

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
        If a file is missing, not a regular file, unreadable, damaged, truncated, larger than
        its header says, or not MNIST; the message names it.
    Cancelled
        If ``cancel`` returned True.
    """
    train_images, train_labels, test_images, test_labels = find_mnist_files(folder)
    try:
        x, y, raw = _read_pair(train_images, train_labels, cancel)
        test_x, test_y, test_raw = _read_pair(test_images, test_labels, cancel)
    except MemoryError:  # a file within the limits, on a machine short of memory
        raise DataError(f"not enough memory to load MNIST from {Path(folder)}") from None
    if len(y) < 6:
        raise DataError(f"{train_images} holds {len(y)} images, too few to split (at least 6)")
    n = len(y) - len(y) // 6
    parts = [(x[:n], y[:n], raw[:n]), (x[n:], y[n:], raw[n:]), (test_x, test_y, test_raw)]
    return mnist_splits(parts)


def mnist_splits(parts: list[tuple]) -> DataSplits:
    """Wrap three ``(x, y[, bytes])`` parts, already checked, into MNIST's :class:`DataSplits`."""
    datasets = [
        Dataset(f"mnist/{name}", *part[:2], MNIST_CLASSES, MNIST_IMAGE_SHAPE, *part[2:])
        for name, part in zip(_SPLIT_NAMES, parts, strict=True)
    ]
    return DataSplits("mnist", *datasets)


def _read_pair(
    images_path: Path, labels_path: Path, cancel: CancelCheck | None
) -> tuple[np.ndarray, ...]:
    """Read one images file and its labels file.

    Returns ``x`` (float64, the bytes × 1/255), ``y`` (int64) and the bytes themselves (n, 784).
    """
    images = _read_idx(images_path, IDX_IMAGE_MAGIC, MNIST_IMAGE_SHAPE, cancel)
    labels = _read_idx(labels_path, IDX_LABEL_MAGIC, (), cancel)
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
    return _to_floats(raw, cancel, images_path), labels.astype(np.int64), raw


def _to_floats(raw: np.ndarray, cancel: CancelCheck | None, path: Path) -> np.ndarray:
    """The bytes × (1/255) as float64, converted in blocks of rows between cancel checks.

    bytes × (1/255), not bytes / 255: training converts gathered bytes the same way, and a
    multiplication is several times faster than a division (they differ by one rounding at
    most, in 24 of the 256 byte values). 255 × (1/255) is exactly 1.
    """
    x = np.empty(raw.shape, np.float64)
    for start in range(0, len(raw), _CONVERT_ROWS):
        check_cancel(cancel, str(path))
        block = slice(start, start + _CONVERT_ROWS)
        np.multiply(raw[block], 1.0 / 255.0, out=x[block])
    return x


@contextlib.contextmanager
def _open_idx(path: Path):
    """Open an IDX file (a regular file only); yield the stream and the file's size in bytes."""
    with open_regular_file(path) as raw:
        size = os.fstat(raw.fileno()).st_size
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield stream, size
        else:
            yield raw, size


def _read_idx(
    path: Path, magic: int, item_shape: tuple[int, ...], cancel: CancelCheck | None
) -> np.ndarray:
    """Read an IDX file of unsigned bytes whose items have ``item_shape``.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(count, *item_shape)``.
    """
    check_cancel(cancel, str(path))
    compressed = path.suffix == ".gz"
    with _open_idx(path) as (stream, size):
        try:
            count = _read_header(stream, path, magic, item_shape)
            needed = count * math.prod(item_shape)
            _check_size(path, count, needed, size, 4 + 4 * (1 + len(item_shape)), compressed)
            payload = _read_payload(stream, needed, cancel, path)
            if len(payload) < needed:
                _raise_size_mismatch(path, count, needed, len(payload))
            if stream.read(1):
                raise DataError(_overflow_message(path, count, needed, compressed))
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise DataError(f"{path} is truncated or not a valid gzip file: {exc}") from exc
        except OSError as exc:
            raise os_error(path, exc, "read") from exc
    return payload.reshape(count, *item_shape)


def _check_size(
    path: Path, count: int, needed: int, size: int, header_size: int, compressed: bool
) -> None:
    """Refuse, before reading any data, a header that announces more than the file can hold."""
    if not compressed:
        if size - header_size != needed:
            _raise_size_mismatch(path, count, needed, size - header_size)
    elif needed + header_size > _MAX_DEFLATE_RATIO * size:
        raise DataError(
            f"{path} is truncated: its header announces {count:,} items ({needed:,} bytes), "
            f"more than a gzip file of {size:,} bytes can hold"
        )


def _overflow_message(path: Path, count: int, needed: int, compressed: bool) -> str:
    """The message for data that goes on past what the header announced."""
    if compressed:
        return (
            f"{path} decompresses to more than the {count:,} items ({needed:,} bytes) its header "
            "announces; it is damaged or a decompression bomb, and was not read further"
        )
    return f"{path} has data after the {count:,} items its header announces"


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
    needed = count * math.prod(item_shape)
    if needed > MAX_IDX_BYTES:
        raise DataError(
            f"{path}: header claims {count:,} items ({needed:,} bytes), more than the "
            f"{MAX_IDX_BYTES:,} bytes bpstudio reads from one file; the file is damaged or "
            "not MNIST"
        )
    return count


def _read_exactly(stream: BinaryIO, size: int, path: Path) -> bytes:
    """Read ``size`` header bytes, or raise a truncation error naming ``path``."""
    data = stream.read(size)
    if len(data) < size:
        raise DataError(f"{path} is truncated: its header is incomplete")
    return data


def _read_payload(
    stream: BinaryIO, needed: int, cancel: CancelCheck | None, path: Path
) -> np.ndarray:
    """Read up to ``needed`` bytes in chunks into one array, checking ``cancel`` between them.

    ``needed`` was checked against what the file can hold, so the array is never larger than
    the data could be; a stream that ends early gives a shorter array.
    """
    out = np.empty(needed, np.uint8)
    done = 0
    with memoryview(out) as view:
        while done < needed:
            check_cancel(cancel, str(path))
            got = stream.readinto(view[done : done + _CHUNK])
            if not got:
                break
            done += got
    return out[:done]


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
