"""Data sets for bpstudio: the types, the loaders, and the MNIST download.

Every loader returns a :class:`DataSplits` of three :class:`Dataset` parts (train, validation,
test), each holding inputs ``x`` of shape ``(n, d)`` in ``[0, 1]`` and integer labels ``y``.
:func:`load_dataset` picks the loader from what the user typed.
"""

from bpstudio.core.data.builtin import TOY_SETS, load_digits, make_toy
from bpstudio.core.data.dataset import Dataset, DataSplits
from bpstudio.core.data.download import (
    MNIST_FILES,
    MNIST_MIRRORS,
    cache_dir,
    fetch_mnist,
    mnist_cache_dir,
)
from bpstudio.core.data.mnist import load_mnist_idx
from bpstudio.core.data.mnist_pickle import load_mnist_pickle
from bpstudio.core.data.registry import DATASET_CHOICES, load_dataset

__all__ = [
    "DATASET_CHOICES",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "TOY_SETS",
    "DataSplits",
    "Dataset",
    "cache_dir",
    "fetch_mnist",
    "load_dataset",
    "load_digits",
    "load_mnist_idx",
    "load_mnist_pickle",
    "make_toy",
    "mnist_cache_dir",
]
