"""The explaining views inside the real window: a drawn digit traced and trained on, points
added in the plane, all through the worker that owns the session."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QPushButton

from bpstudio.core.network import Network
from bpstudio.gui import create_main_window

TIMEOUT = 30_000


def _open(qtbot, data):
    win = create_main_window(data, epochs=1000)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.snapshot is not None, timeout=TIMEOUT)
    return win


def _network(snap) -> Network:
    net = Network(snap.sizes, snap.activation, snap.cost)
    net.weights = [np.array(w) for w in snap.weights]
    net.biases = [np.array(b).reshape(-1, 1) for b in snap.biases]
    return net


def _drag(qtbot, widget, points):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(widget, QPoint(*p))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


@pytest.fixture
def digits_window(qtbot):
    win = _open(qtbot, "digits")
    win.docks["digitCanvasDock"].raise_()
    yield win
    win.discard_and_close()


def test_a_drawn_digit_is_traced_by_backprop_and_trained_on(digits_window, qtbot):
    win = digits_window
    canvas = win.view_panels["digitCanvasDock"]
    qtbot.waitUntil(canvas.isVisible)
    _drag(qtbot, canvas.pad, [(140, 40 + 10 * i) for i in range(21)])  # a "1"
    x = canvas.input_vector
    assert x is not None and x.shape == (64,)
    canvas.set_label(1)
    before = win.snapshot
    qtbot.mouseClick(canvas.findChild(QPushButton, "digitCanvasTrace"), Qt.LeftButton)
    qtbot.waitUntil(
        lambda: win.snapshot.trace is not None and win.snapshot.trace.x.shape[0] == 1,
        timeout=TIMEOUT,
    )
    trace = win.snapshot.trace
    assert np.allclose(trace.x[0], x)
    nabla_b, nabla_w = _network(before).backprop(x.reshape(-1, 1), np.eye(10)[:, [1]])
    for got, want in zip(trace.nabla_w, nabla_w):
        assert np.allclose(got, want, rtol=1e-12, atol=1e-15)
    assert all(np.array_equal(a, b) for a, b in zip(win.snapshot.weights, before.weights))
    # "Train on it": one update w → w − η ∂C_x/∂w, and the rest of the network as it was.
    qtbot.mouseClick(canvas.findChild(QPushButton, "digitCanvasTrain"), Qt.LeftButton)
    qtbot.waitUntil(
        lambda: not np.array_equal(win.snapshot.weights[0], before.weights[0]), timeout=TIMEOUT
    )
    eta = before.eta
    assert np.allclose(win.snapshot.weights[0], before.weights[0] - eta * nabla_w[0])
    assert win.snapshot.batches_done == before.batches_done


def test_a_click_in_the_plane_adds_a_point_the_next_mini_batches_use(qtbot):
    win = _open(qtbot, "xor")
    try:
        win.docks["decisionRegionsDock"].raise_()
        regions = win.view_panels["decisionRegionsDock"]
        qtbot.waitUntil(regions.isVisible)
        count = len(win.snapshot.points[0]) + len(win.snapshot.points[2])
        where = regions.plane.data_to_pixel(0.31, 0.77).toPoint()
        qtbot.mouseClick(regions.plane, Qt.MouseButton.LeftButton, pos=where)
        qtbot.waitUntil(
            lambda: len(win.snapshot.points[0]) + len(win.snapshot.points[2]) == count + 1,
            timeout=TIMEOUT,
        )
        xy = np.vstack([win.snapshot.points[0], win.snapshot.points[2]])
        assert np.min(np.abs(xy - [0.31, 0.77]).sum(axis=1)) < 0.02
        assert win.snapshot.spec.data == "points"
        win.controller.advance(5)
        qtbot.waitUntil(lambda: win.snapshot.batches_done == 5, timeout=TIMEOUT)
        assert win.snapshot.region_grid is not None
    finally:
        win.discard_and_close()


def test_the_sum_over_paths_is_drawn_in_the_network_view(digits_window, qtbot):
    win = digits_window
    win.docks["pathExplorerDock"].raise_()
    explorer = win.view_panels["pathExplorerDock"]
    qtbot.waitUntil(explorer.isVisible)
    win.controller.step_batch()
    qtbot.waitUntil(lambda: win.snapshot.batches_done == 1, timeout=TIMEOUT)
    win.model.set_selection(("w", 2, 5, 36))
    # The weight, then every edge from neuron 5 of layer 2 forward: the 10 into the outputs.
    want = [(2, 5, 36)] + [(3, i, 5) for i in range(10)]
    qtbot.waitUntil(lambda: sorted(win.view.highlighted_edges) == sorted(want), timeout=TIMEOUT)
    assert explorer.check.top_mean.total == pytest.approx(win.snapshot.trace.nabla_w[0][5, 36])
    win.view.refresh_now()
    image = win.view.mouse_widget.grab().toImage()
    p = win.view.edge_widget_pos(3, 7, 5, 0.5)
    colour = image.pixelColor(p)
    assert colour.red() > 200 and 90 < colour.green() < 150 and colour.blue() < 60  # orange
    win.docks["plotsDock"].raise_()
    win.docks["inspectorDock"].raise_()  # the explorer hidden: no paths drawn
    qtbot.waitUntil(lambda: win.view.highlighted_edges == [], timeout=TIMEOUT)


def test_a_view_behind_another_tab_skips_frames_and_catches_up_when_raised(
    digits_window, qtbot, monkeypatch
):
    win = digits_window
    win.docks["plotsDock"].raise_()  # receptive fields behind the plots
    fields = win.view_panels["receptiveFieldsDock"]
    drawn = []
    original = fields.tiles.set_tiles
    monkeypatch.setattr(
        fields.tiles, "set_tiles", lambda *a, **k: drawn.append(1) or original(*a, **k)
    )
    for n in (3, 6):
        win.controller.advance(3)
        qtbot.waitUntil(lambda n=n: win.snapshot.batches_done == n, timeout=TIMEOUT)
    assert drawn == []  # behind a tab: no work per frame
    win.docks["receptiveFieldsDock"].raise_()
    qtbot.waitUntil(lambda: len(drawn) >= 1, timeout=TIMEOUT)  # and it shows the newest now


def test_a_live_view_repaints_itself_at_each_frame_not_the_dock_and_window_behind(
    digits_window, qtbot
):
    # Widgets that redraw at every frame paint every pixel they cover; otherwise Qt paints the
    # panel, the dock and the main window under them first, at every frame, at a cost to
    # training.
    from PySide6.QtCore import QEvent, QObject

    win = digits_window
    win.docks["receptiveFieldsDock"].raise_()
    fields = win.view_panels["receptiveFieldsDock"]
    qtbot.waitUntil(fields.tiles.isVisible)
    painted = {"tiles": 0, "behind": 0}

    class Count(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                if obj is fields.tiles:
                    painted["tiles"] += 1
                elif event.region().intersects(fields.tiles.geometry()):
                    painted["behind"] += 1  # the panel, under the tiles
            return False

    counter = Count()
    fields.tiles.installEventFilter(counter)
    fields.installEventFilter(counter)
    for n in range(1, 4):
        win.controller.step_batch()
        qtbot.waitUntil(lambda n=n: win.snapshot.batches_done == n, timeout=TIMEOUT)
        qtbot.waitUntil(lambda n=n: painted["tiles"] >= n, timeout=TIMEOUT)
    assert painted["behind"] == 0
