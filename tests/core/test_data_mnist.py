"""Tests of the MNIST loaders: the original IDX files and the book's mnist.pkl.gz.

Valid and broken files are built here, byte by byte, in ``tmp_path``; the real MNIST files are
used where ``<repo>/../shared/data/mnist`` exists (tests marked ``mnist``, skipped elsewhere).
"""

from __future__ import annotations

import gzip
import pickle
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from bpstudio.core.data import Dataset, DataSplits, load_dataset, load_mnist_idx, load_mnist_pickle
from bpstudio.core.errors import Cancelled, DataError

REPO = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


# --- helpers that write IDX files and pickles ------------------------------------------------


def idx_images(pixels: np.ndarray, magic: int = 2051) -> bytes:
    """IDX bytes for ``pixels`` of shape (n, rows, cols), uint8."""
    n, rows, cols = pixels.shape
    return struct.pack(">IIII", magic, n, rows, cols) + pixels.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, magic: int = 2049) -> bytes:
    """IDX bytes for ``labels`` of shape (n,), uint8."""
    return struct.pack(">II", magic, len(labels)) + np.asarray(labels, np.uint8).tobytes()


def synthetic_mnist(n_train: int = 12, n_test: int = 4, seed: int = 0) -> dict[str, tuple]:
    """Pixels and labels of a tiny MNIST: {file name: (array, idx bytes)}."""
    rng = np.random.default_rng(seed)
    train_x = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    test_x = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    train_y = rng.integers(0, 10, size=n_train, dtype=np.uint8)
    test_y = rng.integers(0, 10, size=n_test, dtype=np.uint8)
    return {
        TRAIN_IMAGES: (train_x, idx_images(train_x)),
        TRAIN_LABELS: (train_y, idx_labels(train_y)),
        TEST_IMAGES: (test_x, idx_images(test_x)),
        TEST_LABELS: (test_y, idx_labels(test_y)),
    }


def write_mnist(folder: Path, files: dict[str, tuple], gz: bool = False, **replace: bytes) -> Path:
    """Write ``files`` (as from :func:`synthetic_mnist`) into ``folder``; ``replace`` by name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, data) in files.items():
        data = replace.get(name.replace("-", "_"), data)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def _op_global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _op_int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _op_str(data: bytes) -> bytes:
    return b"U" + bytes([len(data)]) + data


def py2_array_pickle(array: np.ndarray) -> bytes:
    """Pickle opcodes rebuilding ``array`` exactly as Python 2's NumPy wrote them in the book's
    mnist.pkl.gz: ``numpy.core.multiarray._reconstruct`` and the data as a byte *string*."""
    kind = array.dtype.str
    shape = b"(" + b"".join(_op_int(d) for d in array.shape) + b"t"
    dtype = (
        _op_global("numpy", "dtype")
        + _op_str(kind[1:].encode())
        + _op_int(0)
        + _op_int(1)
        + b"\x87R("
        + _op_int(3)
        + _op_str(kind[:1].encode())
        + b"NNN"
        + _op_int(-1)
        + _op_int(-1)
        + _op_int(0)
        + b"tb"
    )
    data = array.tobytes()
    return (
        _op_global("numpy.core.multiarray", "_reconstruct")
        + _op_global("numpy", "ndarray")
        + _op_int(0)
        + b"\x85"
        + _op_str(b"b")
        + b"\x87R"
        + b"("
        + _op_int(1)
        + shape
        + dtype
        + b"\x89"
        + b"T"
        + struct.pack("<I", len(data))
        + data
        + b"tb"
    )


def py2_mnist_pickle(parts) -> bytes:
    """A protocol-2 pickle of ((x, y), (x, y), (x, y)) in the book's Python 2 format."""
    body = b"".join(py2_array_pickle(x) + py2_array_pickle(y) + b"\x86" for x, y in parts)
    return b"\x80\x02" + body + b"\x87."


def book_parts(seed: int = 0, sizes=(10, 3, 4)):
    """Three (images float32 (n, 784) in [0, 1], labels int64 (n,)) pairs, like the book's."""
    rng = np.random.default_rng(seed)
    return tuple(
        (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64))
        for n in sizes
    )


# --- MNIST IDX: valid files -----------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_synthetic_idx_loads_exactly(tmp_path, gz):
    files = synthetic_mnist(n_train=12, n_test=4)
    splits = load_mnist_idx(write_mnist(tmp_path, files, gz=gz))
    train_x, train_y = files[TRAIN_IMAGES][0], files[TRAIN_LABELS][0]
    # 12 training images: the last 12 // 6 = 2 validate, as 10,000 of 60,000 do in the book.
    assert [len(p) for p in (splits.train, splits.validation, splits.test)] == [10, 2, 4]
    # x is the bytes × (1/255): the bytes / 255 to within one rounding.
    np.testing.assert_allclose(
        splits.train.x, train_x[:10].reshape(10, 784) / 255.0, rtol=2.3e-16, atol=0
    )
    np.testing.assert_array_equal(splits.validation.y, train_y[10:])
    np.testing.assert_allclose(
        splits.test.x, files[TEST_IMAGES][0].reshape(4, 784) / 255.0, rtol=2.3e-16, atol=0
    )
    np.testing.assert_array_equal(splits.test.y, files[TEST_LABELS][0])
    assert splits.train.x.dtype == np.float64 and splits.train.y.dtype == np.int64
    assert splits.image_shape == (28, 28) and splits.name == "mnist"
    assert splits.train.name == "mnist/train"


def test_idx_files_may_mix_plain_and_gzip(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files)
    (tmp_path / TRAIN_IMAGES).unlink()
    (tmp_path / f"{TRAIN_IMAGES}.gz").write_bytes(gzip.compress(files[TRAIN_IMAGES][1]))
    assert len(load_mnist_idx(tmp_path).train) == 10


# --- MNIST IDX: broken files ----------------------------------------------------------------


def assert_data_error(folder: Path, *fragments: str) -> DataError:
    """Loading ``folder`` raises DataError whose message holds every fragment."""
    with pytest.raises(DataError) as info:
        load_mnist_idx(folder)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return info.value


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_wrong_magic_number_names_file_and_numbers(tmp_path, gz):
    files = synthetic_mnist()
    swapped = idx_images(files[TRAIN_IMAGES][0], magic=2049)
    write_mnist(tmp_path, files, gz=gz, train_images_idx3_ubyte=swapped)
    suffix = ".gz" if gz else ""
    assert_data_error(
        tmp_path, f"{TRAIN_IMAGES}{suffix}", "wrong magic number 2049", "expected 2051"
    )


def test_wrong_magic_in_labels_file(tmp_path):
    files = synthetic_mnist()
    bad = struct.pack(">II", 2051, 4) + bytes(4)
    write_mnist(tmp_path, files, t10k_labels_idx1_ubyte=bad)
    assert_data_error(tmp_path, TEST_LABELS, "wrong magic number 2051", "expected 2049")


def test_gzip_data_without_gz_suffix_gets_a_hint(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files, train_labels_idx1_ubyte=gzip.compress(files[TRAIN_LABELS][1]))
    assert_data_error(tmp_path, TRAIN_LABELS, "magic", "add .gz")


def test_counts_that_disagree(tmp_path):
    files = synthetic_mnist(n_train=12)
    labels = idx_labels(files[TRAIN_LABELS][0][:11])
    write_mnist(tmp_path, files, train_labels_idx1_ubyte=labels)
    assert_data_error(tmp_path, TRAIN_IMAGES, TRAIN_LABELS, "12 images", "11 labels")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_truncated_payload(tmp_path, gz):
    files = synthetic_mnist()
    short = files[TEST_IMAGES][1][:-100]
    write_mnist(tmp_path, files, gz=gz, t10k_images_idx3_ubyte=short)
    assert_data_error(tmp_path, TEST_IMAGES, "truncated")


def test_truncated_header(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files, train_labels_idx1_ubyte=struct.pack(">I", 2049) + b"\x00")
    assert_data_error(tmp_path, TRAIN_LABELS, "truncated", "header")


def test_extra_bytes_after_the_data(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files, t10k_labels_idx1_ubyte=files[TEST_LABELS][1] + b"\x01\x02")
    assert_data_error(tmp_path, TEST_LABELS, "2 bytes after")


def test_truncated_gzip_stream(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files, gz=True)
    path = tmp_path / f"{TRAIN_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:-30])  # cuts the compressed data and the trailer
    assert_data_error(tmp_path, f"{TRAIN_IMAGES}.gz", "gzip")


def test_gzip_trailer_is_checked(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files, gz=True)
    path = tmp_path / f"{TRAIN_LABELS}.gz"
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    path.write_bytes(bytes(data))
    assert_data_error(tmp_path, f"{TRAIN_LABELS}.gz", "gzip", "CRC")


def test_gz_file_that_is_not_gzip(tmp_path):
    files = synthetic_mnist()
    write_mnist(tmp_path, files, gz=True)
    (tmp_path / f"{TEST_LABELS}.gz").write_bytes(files[TEST_LABELS][1])
    assert_data_error(tmp_path, f"{TEST_LABELS}.gz", "not a valid gzip file")


def test_labels_out_of_range(tmp_path):
    files = synthetic_mnist()
    labels = files[TRAIN_LABELS][0].copy()
    labels[3] = 12
    write_mnist(tmp_path, files, train_labels_idx1_ubyte=idx_labels(labels))
    assert_data_error(tmp_path, TRAIN_LABELS, "label 12 at index 3", "0..9")


def test_images_that_are_not_28_by_28(tmp_path):
    files = synthetic_mnist()
    pixels = np.zeros((4, 32, 32), dtype=np.uint8)
    write_mnist(tmp_path, files, t10k_images_idx3_ubyte=idx_images(pixels))
    assert_data_error(tmp_path, TEST_IMAGES, "32×32", "28×28")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("claimed", [4_000_000_000, 9_000_000])
def test_header_claiming_huge_counts_allocates_nothing(tmp_path, gz, claimed):
    files = synthetic_mnist()
    # A header that claims 9 million images (7 GB) or 4 billion, followed by one image.
    huge = struct.pack(">IIII", 2051, claimed, 28, 28) + bytes(784)
    write_mnist(tmp_path, files, gz=gz, train_images_idx3_ubyte=huge)
    tracemalloc.start()
    try:
        error = assert_data_error(tmp_path, TRAIN_IMAGES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "truncated" in str(error) or "claims" in str(error)
    assert peak < 5_000_000


def test_missing_file_names_folder_and_expected_files(tmp_path):
    write_mnist(tmp_path, synthetic_mnist())
    (tmp_path / TEST_LABELS).unlink()
    error = assert_data_error(tmp_path, str(tmp_path), f"{TEST_LABELS}[.gz]", TRAIN_IMAGES)
    assert "missing" in str(error)


def test_missing_folder(tmp_path):
    assert_data_error(tmp_path / "nowhere", str(tmp_path / "nowhere"), "does not exist")


def test_empty_training_file(tmp_path):
    files = synthetic_mnist()
    empty_x, empty_y = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    write_mnist(
        tmp_path,
        files,
        train_images_idx3_ubyte=idx_images(empty_x),
        train_labels_idx1_ubyte=idx_labels(empty_y),
    )
    assert_data_error(tmp_path, TRAIN_IMAGES, "no images")


# --- the book's pickle ----------------------------------------------------------------------


def write_pickle(path: Path, payload: bytes, gz: bool = True) -> Path:
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def test_book_format_pickle_loads(tmp_path):
    parts = book_parts()
    path = write_pickle(tmp_path / "mnist.pkl.gz", py2_mnist_pickle(parts))
    splits = load_mnist_pickle(path)
    assert [len(p) for p in (splits.train, splits.validation, splits.test)] == [10, 3, 4]
    for part, (x, y) in zip((splits.train, splits.validation, splits.test), parts, strict=True):
        np.testing.assert_array_equal(part.x, x.astype(np.float64))
        np.testing.assert_array_equal(part.y, y)
        assert part.x.dtype == np.float64 and not part.x.flags.writeable
    assert splits.image_shape == (28, 28) and splits.num_classes == 10


@pytest.mark.parametrize("protocol", [2, 5])
@pytest.mark.parametrize("gz", [False, True], ids=["pkl", "pkl.gz"])
def test_pickles_written_by_python_3_load(tmp_path, protocol, gz):
    parts = book_parts(sizes=(6, 2, 2))
    path = write_pickle(tmp_path / "m.pkl", pickle.dumps(parts, protocol=protocol), gz=gz)
    splits = load_mnist_pickle(path)
    np.testing.assert_array_equal(splits.test.y, parts[2][1])


def test_forbidden_global_is_never_called(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    path = write_pickle(tmp_path / "evil.pkl.gz", pickle.dumps((Exploit(), 1, 2), protocol=2))
    with pytest.raises(
        DataError, match=r"refused to load the global (__builtin__|builtins)\.exec"
    ) as info:
        load_mnist_pickle(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_codecs_encode_only_with_latin1(tmp_path):
    payload = b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R."
    path = write_pickle(tmp_path / "codec.pkl", payload, gz=False)
    with pytest.raises(DataError, match="'zlib'"):
        load_mnist_pickle(path)


def _broken_parts():
    good = book_parts(sizes=(4, 2, 2))
    (x, y), validation, test = good
    return {
        "not a tuple": [x, y],
        "two parts": (good[0], good[1]),
        "part not a pair": ((x, y, y), validation, test),
        "images 783 wide": ((x[:, :783], y), validation, test),
        "integer images": (((x * 255).astype(np.uint8), y), validation, test),
        "float labels": ((x, y.astype(np.float64)), validation, test),
        "labels 2-D": ((x, y[:, None]), validation, test),
        "counts differ": ((x, y[:3]), validation, test),
        "no images": ((x[:0], y[:0]), validation, test),
        "images above 1": ((x + 1, y), validation, test),
        "label 10": ((x, np.full(4, 10)), validation, test),
        "images not arrays": ((x.tolist(), y), validation, test),
    }


@pytest.mark.parametrize("case", list(_broken_parts()))
def test_pickle_of_the_wrong_structure(tmp_path, case):
    payload = pickle.dumps(_broken_parts()[case], protocol=2)
    path = write_pickle(tmp_path / "bad.pkl.gz", payload)
    with pytest.raises(DataError) as info:
        load_mnist_pickle(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"this is a text file, not a pickle\n", bytes(range(256)) * 4, gzip.compress(b"hello")],
    ids=["text", "binary", "gzipped text"],
)
def test_file_that_is_not_a_pickle(tmp_path, content):
    path = write_pickle(tmp_path / "junk.pkl", content, gz=False)
    with pytest.raises(DataError, match="not a valid data pickle") as info:
        load_mnist_pickle(path)
    assert str(path) in str(info.value)


def test_truncated_pickle(tmp_path):
    payload = py2_mnist_pickle(book_parts())
    path = write_pickle(tmp_path / "short.pkl.gz", payload[: len(payload) // 2])
    with pytest.raises(DataError, match="not a valid data pickle"):
        load_mnist_pickle(path)


def test_missing_pickle(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist_pickle(tmp_path / "mnist.pkl.gz")


# --- load_dataset with MNIST files ----------------------------------------------------------


def test_load_dataset_mnist_folder_and_pickle(tmp_path):
    folder = write_mnist(tmp_path / "idx", synthetic_mnist(), gz=True)
    assert len(load_dataset(f"mnist:{folder}").test) == 4
    path = write_pickle(tmp_path / "book.pkl.gz", py2_mnist_pickle(book_parts()))
    assert len(load_dataset(str(path)).validation) == 3
    with pytest.raises(DataError, match="needs a folder"):
        load_dataset("mnist:")


def test_load_dataset_mnist_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(tmp_path))
    write_mnist(tmp_path / "mnist", synthetic_mnist(), gz=True)
    assert load_dataset("mnist").describe().startswith("mnist: 10 train / 2 validation / 4 test")


# --- the real MNIST files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_mnist() -> DataSplits:
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the real MNIST files are not in {SHARED_MNIST}")
    return load_mnist_idx(SHARED_MNIST)


@pytest.mark.mnist
def test_real_mnist_matches_the_book(real_mnist):
    assert [len(p) for p in (real_mnist.train, real_mnist.validation, real_mnist.test)] == [
        50000,
        10000,
        10000,
    ]
    assert real_mnist.describe() == (
        "mnist: 50000 train / 10000 validation / 10000 test, 28×28 images, 10 classes"
    )
    # The first labels of the book's training_data, validation_data and test_data.
    assert list(real_mnist.train.y[:3]) == [5, 0, 4]
    assert list(real_mnist.validation.y[:3]) == [3, 8, 6]
    assert list(real_mnist.test.y[:3]) == [7, 2, 1]


@pytest.mark.mnist
def test_real_mnist_arrays(real_mnist):
    for part in (real_mnist.train, real_mnist.validation, real_mnist.test):
        assert part.x.dtype == np.float64 and part.x.shape[1] == 784
        assert part.x.min() == 0.0 and part.x.max() == 1.0
        assert not part.x.flags.writeable and part.x.flags.c_contiguous
    assert set(np.unique(real_mnist.train.y)) == set(range(10))


@pytest.mark.mnist
def test_real_mnist_keeps_its_bytes_and_they_give_the_same_floats(real_mnist):
    for part in (real_mnist.train, real_mnist.validation, real_mnist.test):
        assert part.x_bytes.dtype == np.uint8 and part.x_bytes.shape == part.x.shape
        # The training loop multiplies gathered bytes by 1/255: it must reproduce x exactly,
        # and x must be the bytes / 255 to within one rounding.
        rows = part.x_bytes[::997]
        again = rows.astype(np.float64)
        again *= 1.0 / 255.0
        assert np.array_equal(again, part.x[::997])
        assert np.allclose(part.x[::997], rows / 255.0, rtol=2.3e-16, atol=0)
    assert real_mnist.train.subset(5).x_bytes.shape == (5, 784)


def test_x_bytes_must_match_x():
    x = np.zeros((2, 4))
    with pytest.raises(ValueError, match="x_bytes"):
        Dataset("d", x, np.zeros(2, np.int64), 2, None, np.zeros((2, 3), np.uint8))


# --- cancelling a load ----------------------------------------------------------------------


class CancelAfter:
    """A cancel check that says "stop" from its call number ``after + 1`` on (never if None)."""

    def __init__(self, after: int | None = None) -> None:
        self.after, self.calls = after, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.after is not None and self.calls > self.after


def assert_cancels_at_every_check(load) -> int:
    """``load(cancel)`` stops at whichever check first says so; return how many checks it made."""
    never = CancelAfter()
    load(never)
    for after in sorted({0, 1, never.calls // 2, never.calls - 1}):
        cancel = CancelAfter(after)
        with pytest.raises(Cancelled):
            load(cancel)
        assert cancel.calls == after + 1  # it stopped at the first check that said so
    return never.calls


def test_idx_load_can_be_cancelled_between_chunks(tmp_path):
    # 2,000 training images are 1.5 MiB of pixels: two chunks of reading and decompressing.
    folder = write_mnist(tmp_path, synthetic_mnist(n_train=2000), gz=True)
    checks = assert_cancels_at_every_check(lambda cancel: load_mnist_idx(folder, cancel=cancel))
    assert checks >= 6  # per file, per chunk of the big one, per block of converted rows


def test_pickle_load_can_be_cancelled_between_chunks(tmp_path):
    # 700 float32 images are 2.1 MiB: the array's bytes arrive in three chunks.
    path = write_pickle(tmp_path / "m.pkl.gz", py2_mnist_pickle(book_parts(sizes=(700, 3, 3))))
    checks = assert_cancels_at_every_check(lambda cancel: load_mnist_pickle(path, cancel=cancel))
    assert checks >= 3


def test_load_dataset_passes_cancel_on(tmp_path):
    folder = write_mnist(tmp_path, synthetic_mnist(), gz=True)
    cancel = CancelAfter(after=2)
    with pytest.raises(Cancelled) as info:
        load_dataset(f"mnist:{folder}", cancel=cancel)
    assert not isinstance(info.value, DataError) and "cancelled" in str(info.value)
    assert cancel.calls == 3
    with pytest.raises(Cancelled):
        load_dataset("xor", cancel=lambda: True)
    assert len(load_dataset("xor", cancel=lambda: False).train) > 0


def test_running_out_of_memory_is_one_line(tmp_path, monkeypatch):
    """Files within the limits on a machine short of memory: a DataError, not a traceback."""
    from bpstudio.core.data import mnist, mnist_pickle

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 376. MiB for an array")  # as _ArrayMemoryError

    folder = write_mnist(tmp_path / "idx", synthetic_mnist())
    path = write_pickle(tmp_path / "m.pkl.gz", py2_mnist_pickle(book_parts()))
    monkeypatch.setattr(mnist, "_to_floats", no_memory)
    monkeypatch.setattr(mnist_pickle, "_check_part", no_memory)
    with pytest.raises(DataError, match="not enough memory to load MNIST from"):
        load_mnist_idx(folder)
    with pytest.raises(DataError, match="not enough memory to convert"):
        load_mnist_pickle(path)
