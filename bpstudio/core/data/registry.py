"""One place that turns what the user typed (``--data mnist``, a combo box choice) into data."""

from __future__ import annotations

from pathlib import Path

from bpstudio.core.data.builtin import TOY_SETS, load_digits, make_toy
from bpstudio.core.data.dataset import DataSplits
from bpstudio.core.data.download import mnist_cache_dir
from bpstudio.core.data.files import CancelCheck, check_cancel
from bpstudio.core.data.mnist import load_mnist_idx, mnist_files_absent
from bpstudio.core.data.mnist_pickle import load_mnist_pickle
from bpstudio.core.errors import DataError

DATASET_CHOICES: tuple[str, ...] = ("digits", "mnist", *TOY_SETS)
"""The named data sets, in the order the GUI offers them."""

_ACCEPTED = (
    f"one of {', '.join(DATASET_CHOICES)}; a toy set with options, e.g. spiral:n=1000,noise=0.1; "
    "mnist:<folder> for a folder holding the four MNIST IDX files; or the path of the book's "
    "mnist.pkl.gz"
)


def load_dataset(spec: str, seed: int = 0, *, cancel: CancelCheck | None = None) -> DataSplits:
    """Load the data set that ``spec`` names.

    Parameters
    ----------
    spec : str
        ``"digits"``, ``"xor"``, ``"circles"``, ``"spiral"`` or ``"blobs"`` (built in; a toy
        set takes its size and extra noise as ``"spiral:n=1000,noise=0.1"``);
        ``"mnist"`` (the files :func:`fetch_mnist` downloads into :func:`mnist_cache_dir`);
        ``"mnist:<folder>"`` (the four IDX files in that folder, plain or ``.gz``); or a path
        ending in ``.pkl.gz`` or ``.pkl`` (the book's pickle).
    seed : int, default 0
        Seed for the digits' split and the toy sets' points. MNIST's split is fixed (the
        book's), so the seed does not change it.
    cancel : callable, optional
        Polled before the load and, for MNIST, between chunks of about a megabyte of reading,
        decompressing and converting; when it returns True the load stops. A thread that loads
        data passes a flag here instead of ever being terminated.

    Returns
    -------
    DataSplits

    Raises
    ------
    DataError
        If ``spec`` is none of the above (the message lists what is accepted), if MNIST has not
        been downloaded (the message says how to get it), or if a file is missing or bad
        (including a folder, FIFO or device where a file should be: refused before opening).
    Cancelled
        If ``cancel`` returned True.
    """
    check_cancel(cancel, spec)
    name = spec.strip()
    if name.lower() == "digits":
        return load_digits(seed)
    if name.lower() in TOY_SETS:
        return make_toy(name.lower(), seed=seed)
    if name.partition(":")[0].lower() in TOY_SETS:
        kind, _, options = name.partition(":")
        return make_toy(kind.lower(), seed=seed, **toy_options(options))
    if name.lower() == "mnist":
        return _load_cached_mnist(cancel)
    if name.lower().startswith("mnist:"):
        folder = name[len("mnist:") :].strip()
        if not folder:
            raise DataError("mnist: needs a folder after the colon, as in mnist:~/data/mnist")
        return load_mnist_idx(Path(folder).expanduser(), cancel=cancel)
    if name.lower().endswith((".pkl.gz", ".pkl")):
        return load_mnist_pickle(Path(name).expanduser(), cancel=cancel)
    raise DataError(f"unknown data set {spec!r}; use {_ACCEPTED}")


def toy_options(text: str) -> dict:
    """``"n=1000,noise=0.1"`` (the part after ``spiral:``) as keyword arguments of make_toy."""
    out: dict = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        try:
            if key == "n":
                out["n"] = int(value)
            elif key == "noise":
                out["noise"] = float(value)
            else:
                raise KeyError(key)
        except (KeyError, ValueError):
            raise DataError(
                f"a toy set takes n=<points> and noise=<0 to 1>, as in spiral:n=1000,noise=0.1; "
                f"got {item!r}"
            ) from None
    return out


def _load_cached_mnist(cancel: CancelCheck | None) -> DataSplits:
    """Load MNIST from the download cache, or explain how to put it there."""
    folder = mnist_cache_dir()
    if mnist_files_absent(folder):
        raise DataError(
            f"MNIST is not downloaded yet (looked in {folder}); run `bpstudio data fetch mnist` "
            "to download it (about 11 MB), or use mnist:<folder> for a folder that already "
            "holds the four files"
        )
    return load_mnist_idx(folder, cancel=cancel)
