"""Two-dimensional points a person makes by hand: a :class:`Points` set, its CSV file, its splits.

The plane of the decision-region view is the unit square, where the built-in toy sets live too
(see :mod:`bpstudio.core.data.builtin`), so every point has ``0 <= x, y <= 1``. Each point is
either a training point or a test point: every fifth point added (the 5th, 10th, ...) is held
out for testing, about the toy sets' 20 %, and adding a point never changes another point's role.

A CSV file holds one point per line under the header ``x,y,label``. Its order is the set's order,
so saving and loading again gives back the same points in the same roles.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bpstudio.core.atomic import atomic_write_bytes
from bpstudio.core.data.dataset import Dataset, DataSplits
from bpstudio.core.errors import DataError

#: Classes a hand-made set may use (labels 0 … MAX_CLASSES − 1).
MAX_CLASSES = 10
#: Every ``TEST_EVERY``-th point (counting from 1) is a test point.
TEST_EVERY = 5
CSV_HEADER = ("x", "y", "label")


def held_out(n: int) -> np.ndarray:
    """Which of ``n`` points, in the order they were added, are test points (bool ``(n,)``)."""
    return np.arange(n) % TEST_EVERY == TEST_EVERY - 1


@dataclass(frozen=True, eq=False)
class Points:
    """Hand-made 2-D points with class labels; every change returns a new set.

    Parameters
    ----------
    xy : numpy.ndarray
        Shape ``(n, 2)``, each coordinate in ``[0, 1]``.
    labels : numpy.ndarray
        Shape ``(n,)``, integers in ``[0, MAX_CLASSES)``.

    Raises
    ------
    DataError
        If a point lies outside the unit square or a label is out of range.
    """

    xy: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        xy = np.array(self.xy, dtype=np.float64).reshape(-1, 2)
        labels = np.array(self.labels).reshape(-1)
        if labels.size and labels.dtype.kind not in "iu":
            raise DataError(f"point labels must be whole numbers, got {labels.dtype}")
        labels = labels.astype(np.int64)
        if len(labels) != len(xy):
            raise DataError(f"{len(xy)} points but {len(labels)} labels")
        if xy.size and not (xy.min() >= 0.0 and xy.max() <= 1.0):
            raise DataError("points must lie in the unit square: 0 <= x, y <= 1")
        if labels.size and not (labels.min() >= 0 and labels.max() < MAX_CLASSES):
            raise DataError(f"point labels must lie in 0 … {MAX_CLASSES - 1}")
        xy.setflags(write=False)
        labels.setflags(write=False)
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "labels", labels)

    @classmethod
    def empty(cls) -> Points:
        return cls(np.zeros((0, 2)), np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def is_test(self) -> np.ndarray:
        """Bool ``(n,)``: which points are held out for testing (see :func:`held_out`)."""
        return held_out(len(self))

    @property
    def num_classes(self) -> int:
        """Classes the network needs: one more than the largest label, and at least 2."""
        return max(2, int(self.labels.max()) + 1) if len(self) else 2

    def added(self, x: float, y: float, label: int) -> Points:
        """This set with the point ``(x, y)`` of class ``label`` appended."""
        return Points(np.vstack((self.xy, [[x, y]])), np.append(self.labels, int(label)))

    def removed(self, index: int) -> Points:
        """This set without point ``index`` (in the set's own order)."""
        if not 0 <= index < len(self):
            raise IndexError(f"there is no point {index} among {len(self)}")
        keep = np.arange(len(self)) != index
        return Points(self.xy[keep], self.labels[keep])

    @classmethod
    def from_parts(cls, train_xy, train_labels, test_xy, test_labels) -> Points:
        """The set whose :func:`points_to_splits` gives these training and test points.

        Test points go to the set's test positions (every fifth) in order, training points to
        the others; when one kind runs out the rest of the other follows (they then take the
        roles of their new positions). This undoes :func:`points_to_splits` exactly, and turns
        a built-in toy set's points into a set one can add to.
        """
        train_xy, test_xy = np.reshape(train_xy, (-1, 2)), np.reshape(test_xy, (-1, 2))
        n_train, n = len(train_xy), len(train_xy) + len(test_xy)
        slots = held_out(n)
        # Where both kinds remain, the roles decide; then the remaining kind fills the rest.
        test_at = np.flatnonzero(slots)[: len(test_xy)]
        extra = len(test_xy) - len(test_at)
        is_test = np.zeros(n, dtype=bool)
        is_test[test_at] = True
        if extra:
            is_test[np.flatnonzero(~is_test)[n_train:]] = True
        xy, labels = np.empty((n, 2)), np.empty(n, dtype=np.int64)
        xy[~is_test], labels[~is_test] = train_xy, np.ravel(train_labels)
        xy[is_test], labels[is_test] = test_xy, np.ravel(test_labels)
        return cls(xy, labels)

    def removed_shown(self, index: int) -> Points:
        """This set without the ``index``-th point of :meth:`shown_order` (training first)."""
        order = self.shown_order()
        if not 0 <= index < len(order):
            raise IndexError(f"there is no point {index} among {len(self)}")
        return self.removed(int(order[index]))

    def shown_order(self) -> np.ndarray:
        """Indices of the points as :func:`points_to_splits` orders them: training, then test.

        ``shown_order()[i]`` is the set's index of the ``i``-th point of the concatenation
        ``train + test``, which is how the decision-region view numbers the points it shows.
        """
        roles = self.is_test
        return np.concatenate((np.flatnonzero(~roles), np.flatnonzero(roles)))


def points_to_splits(points: Points, *, name: str = "points", num_classes: int | None = None):
    """Turn hand-made points into the three data parts a session trains on.

    Parameters
    ----------
    points : Points
        At least one point must be a training point (the first point always is).
    name : str
        Name of the data set.
    num_classes : int, optional
        Size of the output layer; ``points.num_classes`` by default.

    Returns
    -------
    DataSplits
        ``train`` holds the training points in their order, ``test`` the test points. With a
        few dozen hand-made points there are none to spare for a third part, so ``validation``
        holds the test points too.

    Raises
    ------
    DataError
        If there are no points, or a label does not fit ``num_classes``.
    """
    if len(points) == 0:
        raise DataError("there are no points: click in the plane to add some, or load a CSV file")
    k = points.num_classes if num_classes is None else int(num_classes)
    if k < points.num_classes:
        raise DataError(f"the points use {points.num_classes} classes, more than {k}")
    roles = points.is_test

    def part(which: str, mask: np.ndarray) -> Dataset:
        return Dataset(f"{name}/{which}", points.xy[mask], points.labels[mask], k)

    return DataSplits(name, part("train", ~roles), part("validation", roles), part("test", roles))


def save_points_csv(path, points: Points) -> None:
    """Write ``points`` to ``path`` as CSV under the header ``x,y,label``, atomically.

    Coordinates are written with 17 significant digits, so loading gives the same floats.

    Raises
    ------
    bpstudio.core.atomic.FileError
        If the file cannot be written (the message names it and says why); an existing file
        is then left as it was.
    """
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for (x, y), label in zip(points.xy, points.labels, strict=True):
        writer.writerow((repr(float(x)), repr(float(y)), int(label)))
    atomic_write_bytes(path, text.getvalue().encode("utf-8"))


def load_points_csv(path) -> Points:
    """Read points saved by :func:`save_points_csv` (or any CSV with the header ``x,y,label``).

    Raises
    ------
    DataError
        With the file, the line and what is wrong: missing file, wrong header, a line without
        three fields, a number that is not one, a point outside the unit square, a label that is
        not a whole number in ``0 … MAX_CLASSES − 1``.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path} is not a CSV text file ({error})") from None
    rows = [(i, row) for i, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if not rows or tuple(c.strip().lower() for c in rows[0][1]) != CSV_HEADER:
        raise DataError(f"{path}: the first line must be the header x,y,label")
    xy, labels = [], []
    for number, row in rows[1:]:
        x, y, label = _parse_row(path, number, row)
        xy.append((x, y))
        labels.append(label)
    return Points(np.array(xy, dtype=np.float64).reshape(-1, 2), np.array(labels, dtype=np.int64))


def _parse_row(path: Path, number: int, row: list[str]) -> tuple[float, float, int]:
    where = f"{path} line {number}"
    if len(row) != 3:
        raise DataError(f"{where}: expected 3 fields x,y,label, found {len(row)}")
    values = []
    for name, text in zip(CSV_HEADER, row, strict=True):
        try:
            values.append(float(text))
        except ValueError:
            raise DataError(f"{where}: {name} = {text.strip()!r} is not a number") from None
    x, y, label = values
    for name, v in (("x", x), ("y", y)):
        if not (0.0 <= v <= 1.0):
            raise DataError(f"{where}: {name} = {v:g} is outside [0, 1], the plane's unit square")
    if not (math.isfinite(label) and label == int(label) and 0 <= label < MAX_CLASSES):
        raise DataError(
            f"{where}: label must be a whole number from 0 to {MAX_CLASSES - 1}, "
            f"got {row[2].strip()}"
        )
    return x, y, int(label)
