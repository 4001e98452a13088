"""Data sets that need no download: scikit-learn's 8×8 digits and four 2-D toy problems.

The digits are MNIST in miniature (1,797 images of 8×8 pixels): a network learns them in
seconds, which makes them the default for watching backpropagation at work. The toy sets have
two inputs, so that a network's decision regions can be drawn over the plane, as in TensorFlow
Playground.

Every set is split the same way for the same seed and differently for another seed.
"""

from __future__ import annotations

import numpy as np

from bpstudio.core.data.dataset import DataSplits, split_arrays
from bpstudio.core.errors import ConfigError, DataError

TOY_SETS: tuple[str, ...] = ("xor", "circles", "spiral", "blobs")
#: The most points a toy set may have (they are drawn as markers one by one).
MAX_TOY_POINTS = 100_000
"""Names accepted by :func:`make_toy`."""

DIGITS_VALIDATION = 300
DIGITS_TEST = 300


def load_digits(seed: int = 0) -> DataSplits:
    """Load scikit-learn's bundled 8×8 handwritten digits, shuffled and split.

    Parameters
    ----------
    seed : int, default 0
        Seed of the permutation that orders the 1,797 images before the split.

    Returns
    -------
    DataSplits
        ``"digits"``: 1,197 train / 300 validation / 300 test images, ``x`` of shape
        ``(n, 64)`` (the pixel values 0..16 divided by 16), 10 classes, image shape ``(8, 8)``.
    """
    # Imported here because importing scikit-learn takes about a second, which every other
    # data set (and the app's start-up) should not pay.
    from sklearn.datasets import load_digits as sklearn_load_digits

    images, labels = sklearn_load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(labels))
    x = np.asarray(images, dtype=np.float64)[order] / 16.0
    y = np.asarray(labels, dtype=np.int64)[order]
    sizes = (len(y) - DIGITS_VALIDATION - DIGITS_TEST, DIGITS_VALIDATION, DIGITS_TEST)
    return split_arrays("digits", x, y, num_classes=10, sizes=sizes, image_shape=(8, 8))


def make_toy(kind: str, n: int = 600, seed: int = 0, noise: float = 0.0) -> DataSplits:
    """Generate a 2-D classification problem, rescaled into the unit square and split 60/20/20.

    Parameters
    ----------
    kind : {"xor", "circles", "spiral", "blobs"}
        ``"xor"``: opposite quadrants share a class (2 classes). ``"circles"``: a disc inside a
        ring (2 classes). ``"spiral"``: three interleaved spiral arms (3 classes). ``"blobs"``:
        four Gaussian clusters (4 classes).
    n : int, default 600
        Total number of points, at least 5; the classes are equally common (to within one).
    seed : int, default 0
        Seed of the generator that draws the points and their order.
    noise : float, default 0
        Extra Gaussian noise (standard deviation, in the generator's units: the sets span about
        [-1, 1]) added to every point, to make the problem harder; 0 draws nothing more, so
        the points are exactly those of ``noise=0`` before.

    Returns
    -------
    DataSplits
        Named ``kind``, with ``x`` of shape ``(n_part, 2)`` in ``[0, 1]`` and no image shape.
        Train gets ``n - 2 * (n // 5)`` points, validation and test ``n // 5`` each.

    Raises
    ------
    DataError
        If ``kind`` is not one of :data:`TOY_SETS`.
    ConfigError
        If ``n`` is less than 5.
    """
    generators = {"xor": _xor, "circles": _circles, "spiral": _spiral, "blobs": _blobs}
    if kind not in generators:
        raise DataError(f"unknown toy data set {kind!r}; choose one of {', '.join(TOY_SETS)}")
    if n < 5:
        raise ConfigError(f"a toy data set needs at least 5 points, got n={n}")
    if n > MAX_TOY_POINTS:
        raise ConfigError(f"a toy data set has at most {MAX_TOY_POINTS:,} points, got n={n}")
    if not (np.isfinite(noise) and 0 <= noise <= 1):
        raise ConfigError(f"the noise must be a number from 0 to 1, got {noise!r}")
    num_classes = {"xor": 2, "circles": 2, "spiral": 3, "blobs": 4}[kind]
    rng = np.random.default_rng(seed)
    # A shuffled, balanced label sequence: the split below then cuts it at random places.
    y = rng.permutation(np.arange(n) % num_classes).astype(np.int64)
    points = generators[kind](rng, y)
    if noise > 0:
        points = points + rng.normal(0.0, noise, size=points.shape)
    x = _to_unit_square(points)
    sizes = (n - 2 * (n // 5), n // 5, n // 5)
    return split_arrays(kind, x, y, num_classes=num_classes, sizes=sizes)


def _to_unit_square(points: np.ndarray) -> np.ndarray:
    """Rescale each coordinate of ``points`` (shape ``(n, 2)``) linearly onto ``[0, 1]``."""
    low = points.min(axis=0)
    span = points.max(axis=0) - low
    span[span == 0] = 1.0
    return np.clip((points - low) / span, 0.0, 1.0)


def _xor(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Points in ``[-1, 1]²``, class 1 where the coordinates' signs differ."""
    # A small margin keeps points off the axes, so the two classes never touch.
    magnitude = rng.uniform(0.05, 1.0, size=(len(y), 2))
    first_sign = rng.choice((-1.0, 1.0), size=len(y))
    second_sign = np.where(y == 0, first_sign, -first_sign)
    return magnitude * np.stack((first_sign, second_sign), axis=1)


def _circles(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Class 0 in a disc of radius 0.5, class 1 in the ring between radii 0.7 and 1."""
    radius = np.where(
        y == 0, rng.uniform(0.0, 0.5, size=len(y)), rng.uniform(0.7, 1.0, size=len(y))
    )
    angle = rng.uniform(0.0, 2.0 * np.pi, size=len(y))
    return radius[:, None] * np.stack((np.cos(angle), np.sin(angle)), axis=1)


def _spiral(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Three spiral arms turning 1¼ times, one per class, with a little Gaussian noise."""
    t = rng.uniform(0.0, 1.0, size=len(y))
    radius = 0.1 + 0.9 * t
    angle = 2.5 * np.pi * t + 2.0 * np.pi * y / 3.0
    points = radius[:, None] * np.stack((np.cos(angle), np.sin(angle)), axis=1)
    return points + rng.normal(0.0, 0.03, size=points.shape)


def _blobs(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Four Gaussian clusters (standard deviation 0.2) centred on the corners of a square."""
    centres = np.array([[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]])
    return centres[y] + rng.normal(0.0, 0.2, size=(len(y), 2))
