"""Hand-made points: roles, splits, and CSV files that round-trip and fail clearly."""

import numpy as np
import pytest

from bpstudio.core.atomic import FileError
from bpstudio.core.data.points import (
    Points,
    held_out,
    load_points_csv,
    points_to_splits,
    save_points_csv,
)
from bpstudio.core.errors import DataError


def some_points(n=12):
    rng = np.random.default_rng(0)
    return Points(rng.random((n, 2)), np.arange(n) % 3)


def test_every_fifth_point_is_a_test_point_and_adding_keeps_roles():
    p = some_points(9)
    assert np.flatnonzero(p.is_test).tolist() == [4]
    q = p.added(0.5, 0.5, 1)
    assert np.flatnonzero(q.is_test).tolist() == [4, 9]
    assert held_out(3).tolist() == [False, False, False]


def test_splits_hold_the_points_in_order():
    p = some_points(12)
    splits = points_to_splits(p, name="mine")
    roles = p.is_test
    assert np.array_equal(splits.train.x, p.xy[~roles])
    assert np.array_equal(splits.train.y, p.labels[~roles])
    assert np.array_equal(splits.test.x, p.xy[roles])
    assert np.array_equal(splits.validation.x, p.xy[roles])
    assert splits.num_classes == 3 and splits.input_size == 2 and splits.image_shape is None
    shown = np.concatenate((splits.train.x, splits.test.x))
    assert np.array_equal(shown, p.xy[p.shown_order()])
    assert points_to_splits(p, num_classes=5).num_classes == 5


def test_remove_and_bad_points():
    p = some_points(4)
    q = p.removed(1)
    assert len(q) == 3 and np.array_equal(q.xy, p.xy[[0, 2, 3]])
    with pytest.raises(IndexError):
        p.removed(4)
    with pytest.raises(DataError, match="unit square"):
        p.added(1.2, 0.5, 0)
    with pytest.raises(DataError, match="0 … 9"):
        p.added(0.2, 0.5, 10)
    with pytest.raises(DataError, match="no points"):
        points_to_splits(Points.empty())
    with pytest.raises(DataError, match="more than 2"):
        points_to_splits(p, num_classes=2)


def test_csv_round_trip(tmp_path):
    p = some_points(7)
    path = tmp_path / "points.csv"
    save_points_csv(path, p)
    assert path.read_text().splitlines()[0] == "x,y,label"
    q = load_points_csv(path)
    assert np.array_equal(q.xy, p.xy) and np.array_equal(q.labels, p.labels)
    save_points_csv(path, Points.empty())
    assert len(load_points_csv(path)) == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,c\n0.1,0.2,0\n", "header x,y,label"),
        ("", "header x,y,label"),
        ("x,y,label\n0.1,0.2\n", "line 2: expected 3 fields"),
        ("x,y,label\n0.1,0.2,1\n0.1,zero,1\n", "line 3: y = 'zero' is not a number"),
        ("x,y,label\n1.5,0.2,1\n", "line 2: x = 1.5 is outside"),
        ("x,y,label\n0.5,nan,1\n", "y = nan is outside"),
        ("x,y,label\n0.5,0.5,1.5\n", "label must be a whole number"),
        ("x,y,label\n0.5,0.5,12\n", "label must be a whole number"),
    ],
)
def test_bad_csv_gives_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        load_points_csv(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load_points_csv(tmp_path / "nope.csv")
    with pytest.raises(FileError, match="cannot write"):
        save_points_csv(tmp_path / "no" / "dir.csv", some_points(2))


@pytest.mark.parametrize("n", [1, 4, 5, 9, 13, 27])
def test_from_parts_undoes_points_to_splits(n):
    p = some_points(n)
    s = points_to_splits(p)
    q = Points.from_parts(s.train.x, s.train.y, s.test.x, s.test.y)
    assert np.array_equal(q.xy, p.xy) and np.array_equal(q.labels, p.labels)


def test_from_parts_keeps_every_point_of_a_toy_set():
    from bpstudio.core.data import make_toy

    toy = make_toy("spiral", n=100)
    q = Points.from_parts(toy.train.x, toy.train.y, toy.test.x, toy.test.y)
    both = np.concatenate((toy.train.x, toy.test.x))
    assert len(q) == len(both)
    assert sorted(map(tuple, q.xy)) == sorted(map(tuple, both))


def test_removed_shown_counts_training_points_first():
    p = some_points(10)  # test points are 4 and 9
    order = p.shown_order()
    assert order.tolist() == [0, 1, 2, 3, 5, 6, 7, 8, 4, 9]
    q = p.removed_shown(8)  # the first test point, the set's point 4
    assert np.array_equal(q.xy, p.xy[[0, 1, 2, 3, 5, 6, 7, 8, 9]])
