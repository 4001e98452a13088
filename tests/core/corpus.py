"""A corpus of bad data inputs, generated into a folder on demand (no binary file is committed).

Each :class:`BadInput` writes its files under a given folder and returns the data spec that
``load_dataset`` is given (a path, or ``mnist:<folder>``), with the words the one-line
:class:`~bpstudio.core.errors.DataError` must hold and the misleading words it must not. The
cases cover issue 11's items 16 (FIFOs, folders and devices where a file should be), 17 (gzip
bombs, forged array shapes in pickles) and 22 (the right words for each problem).

Everything is cheap to make: a gzip bomb is one small gzip member of the IDX header followed by
copies of one member that holds a mebibyte of zeros (a gzip file may be several members, read as
one stream), so 64 MiB of zeros cost 64 KiB of file and no 64 MiB buffer is ever built.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
MIB = 1 << 20


# --- valid material to break ----------------------------------------------------------------


def idx_images(count: int, seed: int = 0, magic: int = 2051) -> bytes:
    """IDX bytes of ``count`` random 28×28 images."""
    pixels = np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)
    return struct.pack(">IIII", magic, count, 28, 28) + pixels.tobytes()


def idx_labels(count: int, seed: int = 0, magic: int = 2049) -> bytes:
    """IDX bytes of ``count`` random labels 0..9."""
    labels = np.random.default_rng(seed).integers(0, 10, count, dtype=np.uint8)
    return struct.pack(">II", magic, count) + labels.tobytes()


def write_idx_folder(folder: Path, gz: bool = True, **replace: bytes | None) -> Path:
    """Write a small valid MNIST folder (12 train, 4 test), with files replaced by keyword.

    A keyword is a file name with ``-`` as ``_`` (``train_images_idx3_ubyte=...``); a value of
    ``None`` writes nothing under that name (the caller puts something else there).
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        TRAIN_IMAGES: idx_images(12),
        TRAIN_LABELS: idx_labels(12),
        TEST_IMAGES: idx_images(4, seed=1),
        TEST_LABELS: idx_labels(4, seed=1),
    }
    for name, data in files.items():
        key = name.replace("-", "_")
        if key in replace:
            data = replace[key]
            if data is None:
                continue
        path = folder / (f"{name}.gz" if gz else name)
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return folder


def book_parts(sizes=(6, 2, 2)) -> list[list[np.ndarray]]:
    """Three [images float32 (n, 784), labels int64 (n,)] pairs, like the book's pickle."""
    rng = np.random.default_rng(0)
    return [
        [rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)]
        for n in sizes
    ]


def write_pickle(path: Path, obj: object, gz: bool = True, protocol: int = 2) -> str:
    data = pickle.dumps(obj, protocol=protocol)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return str(path)


class Forged:
    """An object that pickles as whatever ``__reduce__`` tuple it is given (a forged file)."""

    def __init__(self, *reduce: object) -> None:
        self._reduce = reduce

    def __reduce__(self) -> tuple:
        return self._reduce


def zeros_gzip(mebibytes: int) -> bytes:
    """Gzip members that decompress to ``mebibytes`` MiB of zeros, built from one member."""
    return gzip.compress(bytes(MIB), mtime=0) * mebibytes


# --- the cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadInput:
    """One bad input: ``make(folder)`` writes it and returns the spec to load."""

    name: str
    make: Callable[[Path], str]
    words: tuple[str, ...]
    absent: tuple[str, ...] = ()
    fifo: bool = False  # the spec names (or its folder holds) a FIFO: guard against a hang
    posix: bool = False  # needs os.mkfifo or /dev/zero


def _fifo_pickle(folder: Path) -> str:
    os.mkfifo(folder / "mnist.pkl.gz")
    return str(folder / "mnist.pkl.gz")


def _fifo_in_folder(folder: Path) -> str:
    write_idx_folder(folder, train_labels_idx1_ubyte=None)
    os.mkfifo(folder / f"{TRAIN_LABELS}.gz")
    return f"mnist:{folder}"


def _folder_in_place_of_file(folder: Path) -> str:
    write_idx_folder(folder, gz=False, t10k_images_idx3_ubyte=None)
    (folder / TEST_IMAGES).mkdir()
    return f"mnist:{folder}"


def _folder_as_pickle(folder: Path) -> str:
    (folder / "mnist.pkl.gz").mkdir()
    return str(folder / "mnist.pkl.gz")


def _device_in_place_of_file(folder: Path) -> str:
    write_idx_folder(folder, gz=False, train_images_idx3_ubyte=None)
    (folder / TRAIN_IMAGES).symlink_to("/dev/zero")
    return f"mnist:{folder}"


def _device_as_pickle(folder: Path) -> str:
    (folder / "book.pkl").symlink_to("/dev/zero")
    return str(folder / "book.pkl")


def _file_after_mnist_colon(folder: Path) -> str:
    (folder / TRAIN_IMAGES).write_bytes(idx_images(3))
    return f"mnist:{folder / TRAIN_IMAGES}"


def _pickle_after_mnist_colon(folder: Path) -> str:
    path = write_pickle(folder / "mnist.pkl.gz", book_parts())
    return f"mnist:{path}"


def _bomb_huge_header(folder: Path) -> str:
    # The bomb: a header under the item limit (9 million images, 7 GB) over a stream
    # that really expands (here to 64 MiB, enough to show whether it is decompressed).
    header = struct.pack(">IIII", 2051, 9_000_000, 28, 28)
    bomb = gzip.compress(header, mtime=0) + zeros_gzip(64)
    write_idx_folder(folder, train_images_idx3_ubyte=None)
    (folder / f"{TRAIN_IMAGES}.gz").write_bytes(bomb)
    return f"mnist:{folder}"


def _bomb_modest_header(folder: Path) -> str:
    # The header announces 12 images (9,408 bytes); the stream goes on for 64 MiB.
    bomb = gzip.compress(idx_images(12), mtime=0) + zeros_gzip(64)
    write_idx_folder(folder, train_images_idx3_ubyte=None)
    (folder / f"{TRAIN_IMAGES}.gz").write_bytes(bomb)
    return f"mnist:{folder}"


def _truncated_idx(folder: Path) -> str:
    write_idx_folder(folder, gz=False, t10k_images_idx3_ubyte=idx_images(4, seed=1)[:-1000])
    return f"mnist:{folder}"


def _truncated_gzip(folder: Path) -> str:
    write_idx_folder(folder)
    path = folder / f"{TRAIN_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:-40])
    return f"mnist:{folder}"


def _wrong_magic(folder: Path) -> str:
    write_idx_folder(folder, train_labels_idx1_ubyte=idx_labels(12, magic=0x12345678))
    return f"mnist:{folder}"


def _reconstruct_global() -> object:
    return np.empty(0).__reduce__()[0]  # numpy's _reconstruct, named as NumPy pickles it


def _huge_shape_pickle(folder: Path) -> str:
    # An array whose pickled state claims 300,000 images (940 MB) over 6,272 bytes of data.
    state = (1, (300_000, 784), np.dtype(np.float32), False, bytes(6272))
    forged = Forged(_reconstruct_global(), (np.ndarray, (0,), b"b"), state)
    parts = book_parts()
    parts[0][0] = forged
    return write_pickle(folder / "mnist.pkl.gz", parts)


def _strided_pickle(folder: Path) -> str:
    # numpy.ndarray called directly: 30,000 images as zero strides over 4 bytes of data (the
    # issue's 6.5 KB file that became 300,000 images; fewer here, in case the guard is gone).
    forged = Forged(np.ndarray, ((30_000, 784), np.dtype(np.float32), bytes(4), 0, (0, 0)))
    parts = book_parts()
    parts[0] = [forged, np.zeros(30_000, np.int64)]
    return write_pickle(folder / "mnist.pkl.gz", parts)


def _reused_data_pickle(folder: Path) -> str:
    # 64 arrays built from one memoized 1 MiB string: NumPy copies a text state into bytes
    # for each array, so 1 MiB of data would take 64 MiB.
    text = "\x00" * MIB
    state = (1, (MIB // 4,), np.dtype(np.float32), False, text)
    parts = book_parts()
    rebuild = (_reconstruct_global(), (np.ndarray, (0,), b"b"), state)
    parts[0][0] = [Forged(*rebuild) for _ in range(64)]
    return write_pickle(folder / "mnist.pkl.gz", parts)


def _object_array_pickle(folder: Path) -> str:
    parts = book_parts()
    parts[1][1] = np.array([1, 2], dtype=object)
    return write_pickle(folder / "mnist.pkl.gz", parts)


def _empty_array_pickle(folder: Path) -> str:
    parts = book_parts()
    parts[1] = [np.zeros((0, 784), np.float32), np.zeros(0, np.int64)]
    return write_pickle(folder / "mnist.pkl.gz", parts)


def _forbidden_global_pickle(folder: Path) -> str:
    marker = folder / "pwned"
    parts = book_parts()
    parts[2][0] = Forged(os.system, (f"touch {marker}",))
    return write_pickle(folder / "mnist.pkl.gz", parts)


def _pickle_bomb(folder: Path) -> str:
    # A pickle whose first opcode announces 8 GiB of bytes, over 64 MiB of zeros.
    opcodes = b"\x80\x04\x8e" + struct.pack("<Q", 8 << 30)
    path = folder / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(opcodes, mtime=0) + zeros_gzip(64))
    return str(path)


def _pickle_over_the_limit(folder: Path) -> str:
    # 1 GiB of bytes announced, over 1.1 GiB of zeros: the file could hold it, the limit refuses.
    opcodes = b"\x80\x04\x8e" + struct.pack("<Q", 1 << 30)
    path = folder / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(opcodes, mtime=0) + zeros_gzip(1100))
    return str(path)


CASES: tuple[BadInput, ...] = (
    BadInput(
        "fifo as the pickle",
        _fifo_pickle,
        ("named pipe (FIFO)", "not a regular file"),
        ("valid",),
        fifo=True,
        posix=True,
    ),
    BadInput(
        "fifo in the IDX folder",
        _fifo_in_folder,
        (f"{TRAIN_LABELS}.gz", "named pipe"),
        ("missing",),
        fifo=True,
        posix=True,
    ),
    BadInput(
        "folder in place of an IDX file",
        _folder_in_place_of_file,
        (TEST_IMAGES, "is a folder, not a regular file"),
        ("missing",),
    ),
    BadInput("folder as the pickle", _folder_as_pickle, ("is a folder",), ("does not exist",)),
    BadInput(
        "device in place of an IDX file",
        _device_in_place_of_file,
        (TRAIN_IMAGES, "character device"),
        ("missing",),
        posix=True,
    ),
    BadInput(
        "device as the pickle",
        _device_as_pickle,
        ("character device",),
        ("valid",),
        posix=True,
    ),
    BadInput(
        "mnist:<file>",
        _file_after_mnist_colon,
        ("is a regular file, not a folder", "mnist:<folder>"),
        ("does not exist",),
    ),
    BadInput("mnist:<pickle>", _pickle_after_mnist_colon, ("without mnist:",), ("does not exist",)),
    BadInput(
        "gzip bomb, huge header",
        _bomb_huge_header,
        (f"{TRAIN_IMAGES}.gz", "9,000,000 items", "100,000,000 bytes"),
    ),
    BadInput(
        "gzip bomb, modest header",
        _bomb_modest_header,
        (f"{TRAIN_IMAGES}.gz", "decompresses to more than the 12 items"),
    ),
    BadInput("truncated IDX", _truncated_idx, (TEST_IMAGES, "truncated")),
    BadInput("truncated gzip stream", _truncated_gzip, (f"{TRAIN_IMAGES}.gz", "gzip")),
    BadInput("wrong magic", _wrong_magic, (TRAIN_LABELS, "wrong magic number 305419896")),
    BadInput(
        "pickle with a huge claimed shape",
        _huge_shape_pickle,
        ("(300000, 784)", "940,800,000 bytes", "holds 6,272 bytes"),
    ),
    BadInput("pickle calling numpy.ndarray", _strided_pickle, ("numpy.ndarray directly",)),
    BadInput("pickle reusing its data", _reused_data_pickle, ("reuses its data",)),
    BadInput("pickle of an object array", _object_array_pickle, ("item type",)),
    BadInput(
        "empty pickled array",
        _empty_array_pickle,
        ("validation part holds 0 images",),
        ("could run code", "refused"),
    ),
    BadInput(
        "pickle with a forbidden global",
        _forbidden_global_pickle,
        ("refused to load the global", "system", "could run code"),
    ),
    BadInput(
        "pickle bomb",
        _pickle_bomb,
        ("announces 8,589,934,592 bytes", "more than the file can hold"),
    ),
    BadInput(
        "pickle over the size limit", _pickle_over_the_limit, ("unpacks to more than 536,870,912",)
    ),
)
"""Every bad input, in the order of issue 11's items 16, 17 and 22."""
