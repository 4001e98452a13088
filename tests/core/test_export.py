"""Exports: the history CSV equals the session's own history, the NPZ reloads to its weights."""

import csv
import os

import numpy as np
import pytest

from bpstudio.core.atomic import FileError
from bpstudio.core.data import Dataset, DataSplits
from bpstudio.core.export import (
    HISTORY_COLUMNS,
    history_rows,
    write_history_csv,
    write_weights_npz,
)
from bpstudio.core.network import Network
from bpstudio.core.session import Session


def blobs(n=103, d=5, classes=3, seed=0):
    """Three separable clusters; 103 training examples, so each epoch ends with a short batch."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.clip(rng.random((classes, d))[y] + 0.05 * rng.standard_normal((n, d)), 0, 1)
    parts = [
        Dataset(f"blobs/{s}", x[a:b], y[a:b], classes)
        for s, a, b in (("train", 0, n), ("validation", 0, 40), ("test", 40, 80))
    ]
    return DataSplits("blobs", *parts)


def train(session, batches, *, eta_at=None, m_at=None):
    """Step ``batches`` mini-batches, changing η / m before the given batch numbers.

    Returns every step's BatchResult: the session's own account of each batch's epoch, number
    within the epoch and size, independent of the export's reckoning.
    """
    results = []
    for i in range(batches):
        if eta_at and i in eta_at:
            session.set_hyperparameters(eta=eta_at[i])
        if m_at and i in m_at:
            session.set_hyperparameters(mini_batch_size=m_at[i])
        results.append(session.step_batch())
    return results


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_history_rows_follow_the_session_through_an_eta_and_m_change():
    data = blobs()  # 103 training examples: each epoch ends with a short batch
    session = Session(data, [5, 6, 3], seed=1, eta=2.0, mini_batch_size=10)
    results = train(session, 40, eta_at={17: 0.5}, m_at={25: 7})
    rows = history_rows(session)
    assert [r.cost for r in rows.batches] == session.history.batch_costs
    assert [(r.epoch, r.batch_in_epoch, r.examples) for r in rows.batches] == [
        (res.epoch, res.batch, res.size) for res in results
    ]
    assert [r.eta for r in rows.batches] == [2.0] * 17 + [0.5] * 23
    assert [r.mini_batch_size for r in rows.batches] == [10] * 25 + [7] * 15
    assert {(r.activation, r.cost_function) for r in rows.batches} == {("sigmoid", "quadratic")}
    completed = [i for i, res in enumerate(results) if res.completed_epoch]
    assert [e.batches for e in rows.epochs] == [i + 1 for i in completed]
    records = session.history.epochs
    assert len(rows.epochs) == len(records) >= 3
    for row, rec in zip(rows.epochs, records):
        assert (row.epoch, row.batches) == (rec.epoch, rec.batches)
        assert row.validation_accuracy == rec.validation_accuracy
        assert row.training_accuracy == rec.training_accuracy
        assert (row.validation_correct, row.validation_total) == (
            rec.validation_correct,
            rec.validation_total,
        )


def test_the_csv_holds_every_batch_cost_exactly_and_the_new_eta_after_a_change(tmp_path):
    session = Session(blobs(), [5, 6, 3], seed=2, eta=3.0, mini_batch_size=10)
    results = train(session, 30, eta_at={12: 0.25})
    path = tmp_path / "history.csv"
    write_history_csv(session, path)
    header, *body = read_csv(path)
    assert tuple(header) == HISTORY_COLUMNS
    col = {name: i for i, name in enumerate(header)}
    assert len(body) == 30
    assert [float(r[col["cost"]]) for r in body] == session.history.batch_costs
    assert [float(r[col["eta"]]) for r in body] == [3.0] * 12 + [0.25] * 18
    assert [int(r[col["batch"]]) for r in body] == list(range(30))
    assert [int(r[col["epoch"]]) for r in body] == [res.epoch for res in results]
    ends = [r for r in body if r[col["end_of_epoch"]] == "1"]
    assert [int(r[col["batch"]]) for r in ends] == [
        i for i, res in enumerate(results) if res.completed_epoch
    ]
    for row, rec in zip(ends, session.history.epochs, strict=True):
        assert float(row[col["validation_accuracy"]]) == rec.validation_accuracy
        assert int(row[col["validation_correct"]]) == rec.validation_correct
    others = [r for r in body if r[col["end_of_epoch"]] == "0"]
    assert {r[col["validation_accuracy"]] for r in others} == {""}


def test_an_epoch_not_evaluated_has_its_end_but_no_accuracy(tmp_path):
    session = Session(blobs(), [5, 4, 3], seed=0, mini_batch_size=50, evaluate=False)
    train(session, 6)  # 103 examples in batches of 50, 50, 3: two whole epochs
    rows = history_rows(session)
    assert [(e.epoch, e.batches, e.validation_accuracy) for e in rows.epochs] == [
        (0, 3, None),
        (1, 6, None),
    ]
    assert [r.examples for r in rows.batches] == [50, 50, 3] * 2


def test_a_change_made_between_phases_applies_from_the_next_batch():
    session = Session(blobs(), [5, 6, 3], seed=3, eta=2.0, mini_batch_size=10)
    train(session, 4)
    session.step_phase()  # batch 4 is under way with η = 2 and σ = sigmoid
    session.set_hyperparameters(eta=0.75, activation="tanh")
    train(session, 3)  # finishes batch 4, then 5 and 6 with the new values
    rows = history_rows(session).batches
    assert [(r.eta, r.activation) for r in rows] == [(2.0, "sigmoid")] * 5 + [(0.75, "tanh")] * 2
    assert [r.cost for r in rows] == session.history.batch_costs


def test_the_npz_reloads_to_the_same_weights_in_the_books_shapes(tmp_path):
    net = Network([4, 5, 3, 2], "tanh", "cross-entropy", seed=7)
    path = tmp_path / "weights.npz"
    write_weights_npz(net, path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(
            ["sizes", "w2", "w3", "w4", "b2", "b3", "b4", "activation", "cost"]
        )
        assert npz["sizes"].tolist() == [4, 5, 3, 2]
        for l in (2, 3, 4):
            w, b = npz[f"w{l}"], npz[f"b{l}"]
            assert w.shape == (net.sizes[l - 1], net.sizes[l - 2])
            assert b.shape == (net.sizes[l - 1], 1)
            assert np.array_equal(w, net.weights[l - 2])
            assert np.array_equal(b, net.biases[l - 2])
            assert w.dtype == net.weights[l - 2].dtype
        assert str(npz["activation"]) == "tanh"
        assert str(npz["cost"]) == "cross-entropy"


def test_the_npz_of_a_float32_network_after_training_keeps_its_precision(tmp_path):
    session = Session(blobs(), [5, 6, 3], seed=5, dtype=np.float32)
    session.run(12)
    path = tmp_path / "w.npz"
    write_weights_npz(session.network, path)
    with np.load(path, allow_pickle=False) as npz:
        assert npz["w2"].dtype == np.float32
        assert np.array_equal(npz["w3"], session.network.weights[1])
        assert np.array_equal(npz["b3"][:, 0], session.network.biases[1][:, 0])


def test_a_name_without_npz_is_kept_as_given(tmp_path):
    path = tmp_path / "weights.bin"
    write_weights_npz(Network([2, 2], seed=0), path)
    assert os.listdir(tmp_path) == ["weights.bin"]
    with np.load(path, allow_pickle=False) as npz:
        assert npz["w2"].shape == (2, 2)


def test_an_export_into_a_missing_folder_is_a_file_error(tmp_path):
    with pytest.raises(FileError, match="does not exist"):
        write_weights_npz(Network([2, 2], seed=0), tmp_path / "gone" / "w.npz")


def test_rows_taken_once_write_the_same_csv_as_the_session(tmp_path):
    # The window takes the rows where the session lives and writes them from the GUI thread.
    session = Session(blobs(), [5, 6, 3], seed=6)
    train(session, 23, eta_at={5: 1.5})
    rows = history_rows(session)
    write_history_csv(rows, tmp_path / "from_rows.csv")
    train(session, 3)  # training goes on after the rows were taken
    assert len(read_csv(tmp_path / "from_rows.csv")) == 1 + 23
    write_history_csv(session, tmp_path / "from_session.csv")
    assert read_csv(tmp_path / "from_session.csv")[:24] == read_csv(tmp_path / "from_rows.csv")


def test_the_npz_of_a_snapshot_equals_the_npz_of_its_network(tmp_path):
    # The GUI thread holds snapshots, not the live network: their copies export the same file.
    from bpstudio.core.snapshot import take_snapshot

    session = Session(blobs(), [5, 6, 4, 3], seed=8, activation="tanh")
    session.run(9)
    snap = take_snapshot(
        session, serial=0, costs_from=0, running=False, examples_per_second=0.0, epochs_target=3
    )
    write_weights_npz(snap, tmp_path / "snap.npz")
    write_weights_npz(session.network, tmp_path / "net.npz")
    with np.load(tmp_path / "snap.npz") as a, np.load(tmp_path / "net.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            assert a[key].shape == b[key].shape
            assert np.array_equal(a[key], b[key]), key
        assert a["b4"].shape == (3, 1)
