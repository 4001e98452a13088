"""Tests of bpstudio.core.data: the Dataset and DataSplits types, the built-in data sets (digits
and the toy sets), and load_dataset's dispatch. The MNIST loaders are tested in
test_data_mnist.py, the download in test_download.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bpstudio.core.data import (
    DATASET_CHOICES,
    TOY_SETS,
    Dataset,
    DataSplits,
    load_dataset,
    load_digits,
    make_toy,
)
from bpstudio.core.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[2]


# --- Dataset and DataSplits -----------------------------------------------------------------


def small_dataset(name="toy/train", n=5) -> Dataset:
    x = np.linspace(0.0, 1.0, 2 * n).reshape(n, 2)
    return Dataset(name, x, np.arange(n) % 3, 3)


def test_dataset_arrays_are_frozen_float64_and_int64():
    data = Dataset("d", np.zeros((4, 6), dtype=np.float32), np.array([0, 1, 2, 1]), 3, (2, 3))
    assert data.x.dtype == np.float64 and data.x.flags.c_contiguous
    assert data.y.dtype == np.int64
    assert not data.x.flags.writeable and not data.y.flags.writeable
    assert len(data) == 4 and data.input_size == 6 and data.image_shape == (2, 3)
    with pytest.raises(ValueError):
        data.x[0, 0] = 1.0
    assert "n=4" in repr(data)


def test_one_hot_is_a_new_writable_matrix():
    data = small_dataset()
    one_hot = data.one_hot()
    assert one_hot.shape == (5, 3) and one_hot.dtype == np.float64
    np.testing.assert_array_equal(one_hot.argmax(axis=1), data.y)
    np.testing.assert_array_equal(one_hot.sum(axis=1), np.ones(5))
    one_hot[:] = 0.0
    assert data.one_hot().sum() == 5


def test_subset_takes_the_first_examples_without_copying():
    data = small_dataset(n=5)
    part = data.subset(2)
    assert len(part) == 2 and part.name == "toy/train[:2]"
    np.testing.assert_array_equal(part.x, data.x[:2])
    assert np.shares_memory(part.x, data.x) and not part.x.flags.writeable
    assert len(data.subset(100)) == 5
    with pytest.raises(ValueError):
        data.subset(0)


@pytest.mark.parametrize(
    ("x", "y", "num_classes", "image_shape"),
    [
        (np.full((2, 2), 1.5), [0, 1], 2, None),  # x outside [0, 1]
        (np.array([[0.5, np.nan], [0, 0]]), [0, 1], 2, None),  # NaN
        (np.zeros(4), [0, 1, 0, 1], 2, None),  # x not 2-D
        (np.zeros((2, 2)), [0, 1, 1], 2, None),  # y of the wrong length
        (np.zeros((2, 2)), [0.0, 1.0], 2, None),  # float labels
        (np.zeros((2, 2)), [0, 2], 2, None),  # label out of range
        (np.zeros((2, 4)), [0, 1], 2, (3, 3)),  # image shape does not match d
    ],
)
def test_dataset_rejects_broken_arrays(x, y, num_classes, image_shape):
    with pytest.raises(ValueError):
        Dataset("bad", np.asarray(x), np.asarray(y), num_classes, image_shape)


def test_splits_describe_and_properties():
    x = np.zeros((6, 784))
    y = np.arange(6) % 10
    part = Dataset("mnist/train", x, y, 10, (28, 28))
    splits = DataSplits("mnist", part, part.subset(2), part.subset(3))
    assert splits.describe() == ("mnist: 6 train / 2 validation / 3 test, 28×28 images, 10 classes")
    assert (splits.input_size, splits.num_classes, splits.image_shape) == (784, 10, (28, 28))
    toy = make_toy("xor")
    assert toy.describe() == "xor: 360 train / 120 validation / 120 test, 2 inputs, 2 classes"


def test_splits_reject_parts_that_disagree():
    a = small_dataset()
    b = Dataset("other", np.zeros((2, 3)), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="does not match"):
        DataSplits("toy", a, b, a)


# --- digits and toy sets --------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits() -> DataSplits:
    return load_digits(seed=0)


def test_digits_sizes_and_values(digits):
    assert digits.name == "digits"
    assert (len(digits.train), len(digits.validation), len(digits.test)) == (1197, 300, 300)
    assert digits.image_shape == (8, 8) and digits.input_size == 64 and digits.num_classes == 10
    for part in (digits.train, digits.validation, digits.test):
        assert part.x.min() >= 0.0 and part.x.max() <= 1.0 and part.x.dtype == np.float64
    assert digits.train.x.max() == 1.0  # 16 / 16: the scale is the documented one
    assert set(np.unique(digits.train.y)) == set(range(10))


def test_digits_split_depends_on_the_seed_only(digits):
    again = load_digits(seed=0)
    other = load_digits(seed=1)
    np.testing.assert_array_equal(again.train.x, digits.train.x)
    np.testing.assert_array_equal(again.test.y, digits.test.y)
    assert not np.array_equal(other.train.x, digits.train.x)


@pytest.mark.parametrize(
    ("kind", "classes"), [("xor", 2), ("circles", 2), ("spiral", 3), ("blobs", 4)]
)
def test_toy_sets(kind, classes):
    splits = make_toy(kind, n=600, seed=3)
    assert splits.name == kind and splits.num_classes == classes and splits.image_shape is None
    assert [len(p) for p in (splits.train, splits.validation, splits.test)] == [360, 120, 120]
    all_x = np.concatenate([p.x for p in (splits.train, splits.validation, splits.test)])
    all_y = np.concatenate([p.y for p in (splits.train, splits.validation, splits.test)])
    assert all_x.shape == (600, 2)
    assert all_x.min() == 0.0 and all_x.max() == 1.0
    np.testing.assert_array_equal(np.bincount(all_y), np.full(classes, 600 // classes))
    assert set(np.unique(splits.train.y)) == set(range(classes))
    again, other = make_toy(kind, n=600, seed=3), make_toy(kind, n=600, seed=4)
    np.testing.assert_array_equal(again.train.x, splits.train.x)
    np.testing.assert_array_equal(again.train.y, splits.train.y)
    assert not np.array_equal(other.train.x, splits.train.x)


def test_toy_set_split_sizes_for_odd_n():
    splits = make_toy("blobs", n=11)
    assert [len(p) for p in (splits.train, splits.validation, splits.test)] == [7, 2, 2]


def test_unknown_toy_set_lists_the_valid_ones():
    with pytest.raises(DataError, match="xor, circles, spiral, blobs"):
        make_toy("moons")
    with pytest.raises(ConfigError):
        make_toy("xor", n=4)


# --- load_dataset ---------------------------------------------------------------------------


def test_dataset_choices():
    assert DATASET_CHOICES == ("digits", "mnist", "xor", "circles", "spiral", "blobs")
    assert set(TOY_SETS) < set(DATASET_CHOICES)


def test_load_dataset_builtins(digits):
    assert load_dataset("digits").describe() == digits.describe()
    spiral = load_dataset(" Spiral ", seed=5)
    np.testing.assert_array_equal(spiral.train.x, make_toy("spiral", seed=5).train.x)


def test_load_dataset_mnist_from_an_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(tmp_path))
    with pytest.raises(DataError, match="bpstudio data fetch mnist") as info:
        load_dataset("mnist")
    assert "mnist:<folder>" in str(info.value)


def test_load_dataset_unknown_spec_lists_what_is_accepted():
    with pytest.raises(DataError) as info:
        load_dataset("cifar10")
    message = str(info.value)
    for accepted in (*DATASET_CHOICES, "mnist:<folder>", "mnist.pkl.gz"):
        assert accepted in message


def test_importing_the_data_package_stays_light():
    code = (
        "import sys, bpstudio.core.data;"
        "heavy = [m for m in ('sklearn', 'PySide6', 'pyqtgraph') if m in sys.modules];"
        "sys.exit(str(heavy) if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
