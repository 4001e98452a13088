"""PathExplorer: the paths of the selected weight, their sum against the trace, and row clicks.

Snapshots come from real sessions; the panel follows a ViewModel as the main window feeds it.
Numbers are checked against the trace's own ∂C/∂w (what the inspector shows) and against the
per-example reference of tests/core/reference.py, which shares no code with bpstudio.
"""

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QTableWidget

from bpstudio.core.data import Dataset, DataSplits
from bpstudio.core.paths import path_edges
from bpstudio.core.session import Session
from bpstudio.core.snapshot import take_snapshot
from bpstudio.gui.model import ViewModel
from bpstudio.gui.numbers import format_number
from bpstudio.gui.path_explorer import LIMIT, SUM_DIGITS, PathExplorer
from tests.core import reference as ref


def synthetic(d, classes, n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.clip(rng.random((classes, d))[y] + 0.1 * rng.standard_normal((n, d)), 0, 1)
    parts = [Dataset(f"synthetic/{s}", x, y, classes) for s in ("train", "validation", "test")]
    return DataSplits("synthetic", *parts)


def snapshot_after(sizes, batches=2, phases=0, **kw):
    session = Session(synthetic(sizes[0], sizes[-1]), sizes, seed=1, evaluate=False, **kw)
    for _ in range(batches):
        session.step_batch(record=True)
    for _ in range(phases):
        session.step_phase()
    return take_snapshot(
        session, serial=0, costs_from=0, running=False, examples_per_second=0.0, epochs_target=30
    )


@pytest.fixture
def explorer(qtbot):
    model = ViewModel()
    model.set_snapshot(snapshot_after([4, 5, 4, 3, 2]), new_session=True)
    panel = PathExplorer(model)
    qtbot.addWidget(panel)
    panel.resize(720, 560)
    panel.show()
    qtbot.waitExposed(panel)
    return panel, model


def table(panel):
    return panel.findChild(QTableWidget, "pathTable")


def click_row(qtbot, panel, row):
    t = table(panel)
    rect = t.visualRect(t.model().index(row, 0))
    qtbot.mouseClick(t.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_sum_shown_is_the_traces_gradient_for_the_selected_weight(qtbot, explorer):
    panel, model = explorer
    with qtbot.waitSignal(model.selection_changed):
        model.set_selection(("w", 2, 3, 1))
    trace = model.snapshot.trace
    want = float(trace.nabla_w[0][3, 1])  # what the inspector shows as ∂C/∂w
    check = panel.check
    assert check.count == 4 * 3 * 2 and len(panel.shown_paths) == 24
    assert abs(check.mean_sum - want) <= 1e-12 * abs(want)
    assert abs(check.mean_numeric - want) <= 1e-7 * abs(want) + 1e-9
    sums = panel.findChild(QLabel, "pathSums").text()
    assert sums.count(format_number(want, SUM_DIGITS)) >= 2  # the sum and backprop, side by side
    # Example 0's sum against the reference's backprop of that example alone.
    w = [np.array(a) for a in trace.weights]
    b = [np.reshape(v, (-1, 1)) for v in trace.biases]
    x, y = trace.x[:1].T, trace.y[:1].T
    _, ref_w = ref.backprop_one(w, b, x, y, "sigmoid", "quadratic")
    assert check.example_sum == pytest.approx(float(ref_w[0][3, 1]), rel=1e-12)


def test_rows_are_the_paths_largest_first_with_their_rates(qtbot, explorer):
    panel, model = explorer
    model.set_selection(("w", 3, 1, 2))
    t = table(panel)
    assert t.rowCount() == 4 * 3 * 2 // 4  # n_4 × n_5 = 6 paths
    assert t.item(0, 0).text().startswith("3:1 → 4:")
    products = [p.product for p in panel.check.top_example.paths]
    assert products == sorted(products, key=lambda v: -abs(v))
    last = t.columnCount() - 1
    for row, p in enumerate(panel.check.top_example.paths):
        assert t.item(row, last).text() == format_number(p.product)
        factors = [float(t.item(row, c).text().replace("−", "-")) for c in range(1, last)]
        assert math.prod(factors) == pytest.approx(p.product, rel=1e-4)  # 5 digits each
    assert [t.horizontalHeaderItem(c).text() for c in (1, 2, last - 1)] == [
        "∂a³₁/∂w³₁,₂",
        "∂a⁴/∂a³",
        "∂C/∂a⁵",
    ]


def test_clicking_a_row_emits_that_path(qtbot, explorer):
    panel, model = explorer
    model.set_selection(("w", 2, 3, 1))
    shown = panel.shown_paths
    with qtbot.waitSignal(panel.path_highlighted) as signal:
        click_row(qtbot, panel, 4)
    want = tuple((2 + q, n) for q, n in enumerate(shown[4]))
    assert table(panel).item(4, 0).text() == " → ".join(f"{q}:{n}" for q, n in want)
    assert signal.args == [want]
    assert panel.highlighted_path == want
    assert panel.highlighted_path_edges == [(2, 3, 1)] + [
        (q, i, h) for (_, h), (q, i) in zip(want[:-1], want[1:])
    ]
    # Another weight drops the highlight.
    with qtbot.waitSignal(panel.path_highlighted) as signal:
        model.set_selection(("w", 4, 0, 0))
    assert signal.args == [None]


def test_highlighted_edges_are_the_weight_then_everything_after_its_neuron(explorer):
    panel, model = explorer
    assert panel.highlighted_edges == []
    model.set_selection(("w", 3, 2, 4))
    assert panel.highlighted_edges == path_edges((4, 5, 4, 3, 2), 3, 2, 4)
    assert panel.highlighted_edges[:4] == [(3, 2, 4), (4, 0, 2), (4, 1, 2), (4, 2, 2)]
    model.set_selection(("n", 3, 2))
    assert panel.highlighted_edges == [] and panel.check is None
    assert table(panel).rowCount() == 0


def test_another_example_and_the_batch_mean(qtbot, explorer):
    panel, model = explorer
    model.set_selection(("w", 2, 0, 3))
    trace = model.snapshot.trace
    combo = panel.findChild(QComboBox, "pathExample")
    assert combo.count() == trace.batch_size + 1 and panel.example == 0
    combo.setCurrentIndex(6)
    assert panel.example == 6 and panel.check.example == 6
    w = [np.array(a) for a in trace.weights]
    b = [np.reshape(v, (-1, 1)) for v in trace.biases]
    _, ref_w = ref.backprop_one(w, b, trace.x[6:7].T, trace.y[6:7].T, "sigmoid", "quadratic")
    assert panel.check.example_sum == pytest.approx(float(ref_w[0][0, 3]), rel=1e-12)
    panel.set_example(None)
    t = table(panel)
    assert panel.example is None
    assert all(t.isColumnHidden(c) for c in range(1, t.columnCount() - 1))
    mean_products = [p.product for p in panel.check.top_mean.paths]
    assert math.fsum(mean_products) == pytest.approx(float(trace.nabla_w[0][0, 3]), rel=1e-12)


def test_beyond_a_few_hundred_paths_the_largest_hundred_and_the_rest(qtbot):
    model = ViewModel()
    model.set_snapshot(snapshot_after([784, 300, 100, 10], batches=1), new_session=True)
    panel = PathExplorer(model)
    qtbot.addWidget(panel)
    panel.resize(720, 560)
    panel.show()
    qtbot.waitExposed(panel)
    model.set_selection(("w", 2, 17, 400))
    t = table(panel)
    assert t.rowCount() == LIMIT + 1
    top = panel.check.top_example  # example x = 0 is listed first
    assert top.count == 1000 and t.item(LIMIT, 0).text() == "the other 900 paths"
    assert t.item(LIMIT, t.columnCount() - 1).text() == "sum " + format_number(top.rest_sum)
    want = float(model.snapshot.trace.nabla_w[0][17, 400])
    assert abs(panel.check.mean_sum - want) <= 1e-12 * abs(want)
    # The rest row is no single path: clicking it highlights none.
    click_row(qtbot, panel, 3)
    assert panel.highlighted_path is not None
    with qtbot.waitSignal(panel.path_highlighted) as signal:
        t.scrollToBottom()
        click_row(qtbot, panel, LIMIT)
    assert signal.args == [None]


def test_mid_pass_the_sum_is_there_before_backprop_computed_it(qtbot):
    model = ViewModel()
    model.set_snapshot(snapshot_after([4, 5, 4, 3, 2], batches=1, phases=2), new_session=True)
    panel = PathExplorer(model)
    qtbot.addWidget(panel)
    model.set_selection(("w", 2, 1, 1))
    trace = model.snapshot.trace
    assert trace.nabla_w[0] is None  # feedforward and BP1 only
    assert panel.check.mean_backprop is None
    sums = panel.findChild(QLabel, "pathSums").text()
    assert "not computed yet in this pass (next: BP2)" in sums
    assert panel.check.mean_sum == pytest.approx(panel.check.mean_numeric, rel=1e-6)


def test_a_new_snapshot_recomputes_and_keeps_the_highlighted_path(qtbot, explorer):
    panel, model = explorer
    model.set_selection(("w", 2, 3, 1))
    click_row(qtbot, panel, 2)
    kept = panel.highlighted_path
    before = panel.check.mean_sum
    model.set_snapshot(snapshot_after([4, 5, 4, 3, 2], batches=3))
    assert panel.check.mean_sum != before
    want = float(model.snapshot.trace.nabla_w[0][3, 1])
    assert abs(panel.check.mean_sum - want) <= 1e-12 * abs(want)
    assert panel.highlighted_path == kept
    row = panel.shown_paths.index(tuple(n for _, n in kept))
    assert table(panel).selectionModel().isRowSelected(row)


def test_hint_without_a_mini_batch(qtbot):
    model = ViewModel()
    session = Session(synthetic(4, 2), [4, 3, 2], seed=0, evaluate=False)
    model.set_snapshot(
        take_snapshot(
            session,
            serial=0,
            costs_from=0,
            running=False,
            examples_per_second=0.0,
            epochs_target=30,
        )
    )
    panel = PathExplorer(model)
    qtbot.addWidget(panel)
    model.set_selection(("w", 2, 0, 0))
    assert panel.check is None
    assert "No mini-batch" in panel.findChild(QLabel, "pathNote").text()


def test_a_hidden_explorer_recomputes_when_it_shows_again(qtbot, explorer):
    panel, model = explorer
    model.set_selection(("w", 3, 0, 0))
    before = panel.check
    panel.hide()
    model.set_snapshot(snapshot_after([4, 5, 4, 3, 2], batches=4))
    assert panel.check is before  # nothing computed for a panel nobody sees
    panel.show()
    qtbot.waitUntil(lambda: panel.check is not before)
    want = float(model.snapshot.trace.nabla_w[1][0, 0])
    assert abs(panel.check.mean_sum - want) <= 1e-12 * abs(want)
