"""How fast could live training be with other designs? Evidence for issue 3's open decision.

Run from the project's root:  python benchmarks/live_options.py [--rounds R] [--seconds S]

``benchmarks/live.py`` measures the app as it is: a worker thread trains while the GUI thread
draws about 30 frames a second, and both need Python's interpreter lock. This script measures two
designs the app does not use, in two variants each, against headless training in the same
process, alternating for R rounds (this machine's speed drifts by 10-15% over a minute) and
printing the median ratio.

``thread-minimal``
    The app's threading design with the least GUI work imaginable: the worker thread trains
    MNIST [784, 30, 10]; 30 times a second the GUI thread pauses it (the app's frame gate), fills
    a 600 x 350 colour image from an ID image with one NumPy gather, hands it to a
    ``QGraphicsPixmapItem`` and recolours 40 ``QGraphicsEllipseItem`` nodes, then lets it go on.
    Qt paints these C++ items without the interpreter lock, while training runs. The app's own
    frame does all of this and more (snapshot, colour scales, pyqtgraph's Python paint path,
    plots), so under a training thread it can hardly get a better ratio than this.
``thread-minimal-ungated``
    The same without the gate: both threads fight over the lock.
``process``
    Training in a child process, which sends the app's own ``Snapshot`` objects through a pipe
    (pickled, about 1 MB each with the recorded pass) about 30 times a second; the real main
    window draws every one of them. Headless is the child's own loop, in the child.
``process-lean``
    The same, but the child sends only what a live frame shows (the weights, each layer's mean
    δ and the current input, about 0.2 MB) and the window's network view draws them.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MNIST_FOLDER = ROOT.parent / "shared" / "data" / "mnist"
MNIST = f"mnist:{MNIST_FOLDER}"
FRAME_SECONDS = 1 / 30


def headless_rate(session, seconds: float) -> float:
    """Examples per second of the session's own loop in the calling thread."""
    start, seen = time.perf_counter(), session.examples_seen
    while time.perf_counter() - start < seconds:
        session.run(1_000_000, deadline=time.perf_counter() + 0.02)
    return (session.examples_seen - seen) / (time.perf_counter() - start)


# -- thread-minimal ------------------------------------------------------------------------------
class MinimalScene:
    """A 600 x 350 edge image and 40 nodes as C++ items: a frame with (almost) no Python paint."""

    def __init__(self, rng) -> None:
        import numpy as np
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QBrush, QColor, QImage, QPen
        from PySide6.QtWidgets import (
            QGraphicsEllipseItem,
            QGraphicsPixmapItem,
            QGraphicsScene,
            QGraphicsView,
        )

        width, height, n_edges = 600, 350, 23_820
        self.ids = rng.integers(0, n_edges + 1, size=(height, width)).astype(np.intp)
        self.table = rng.integers(0, 2**24, size=n_edges + 1).astype(np.uint32) | 0xFF000000
        self.buffer = np.empty((height, width), np.uint32)
        self.image = QImage(self.buffer, width, height, 4 * width, QImage.Format.Format_RGB32)
        self.scene = QGraphicsScene()
        self.view = QGraphicsView(self.scene)
        self.view.resize(900, 600)
        self.pixmap = QGraphicsPixmapItem()
        self.scene.addItem(self.pixmap)
        self.brushes = [QBrush(QColor(b, 128, 255 - b)) for b in range(256)]
        self.nodes = []
        for j in range(40):
            x, y = 620 + 80 * (j // 30), 10 + 11 * (j % 30)
            node = QGraphicsEllipseItem(QRectF(x, y, 9, 9))
            node.setPen(QPen(QColor(110, 110, 110)))
            self.scene.addItem(node)
            self.nodes.append(node)
        self.rng = rng

    def frame(self) -> None:
        import numpy as np
        from PySide6.QtGui import QPixmap

        np.take(self.table, self.ids, out=self.buffer)
        self.pixmap.setPixmap(QPixmap.fromImage(self.image))
        for node, b in zip(self.nodes, self.rng.integers(0, 256, 40).tolist(), strict=True):
            node.setBrush(self.brushes[b])


def thread_minimal(rounds: int, seconds: float, gated: bool) -> list[float]:
    """Ratios live / headless of the minimal-GUI thread design (see the module docstring)."""
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from bpstudio.core.run import RunSpec
    from bpstudio.core.session import build_session

    app = QApplication.instance() or QApplication([])
    session = build_session(RunSpec(data=MNIST))
    session.run(100)
    scene = MinimalScene(np.random.default_rng(0))
    scene.view.show()
    want, paused, resume = threading.Event(), threading.Event(), threading.Event()
    stop = threading.Event()

    def train() -> None:
        while not stop.is_set():
            if want.is_set():  # the gate: wait while the GUI thread prepares a frame
                paused.set()
                resume.wait(0.05)
                resume.clear()
            session.run(1_000_000, deadline=time.perf_counter() + 0.002)

    def tick() -> None:
        if gated:
            want.set()
            paused.wait(0.05)
            paused.clear()
        scene.frame()
        if gated:
            want.clear()
            resume.set()

    timer = QTimer()
    timer.timeout.connect(tick)
    ratios = []
    for _ in range(rounds):
        head = headless_rate(session, seconds)
        stop.clear()
        worker = threading.Thread(target=train)
        seen, start = session.examples_seen, time.perf_counter()
        worker.start()
        timer.start(round(1000 * FRAME_SECONDS))
        loop = QEventLoop()
        QTimer.singleShot(round(1000 * seconds), loop.quit)
        loop.exec()
        timer.stop()
        stop.set()
        worker.join()
        live = (session.examples_seen - seen) / (time.perf_counter() - start)
        ratios.append(live / head)
    scene.view.close()
    app.processEvents()
    return ratios


# -- process -------------------------------------------------------------------------------------
def _lean_frame(session) -> tuple:
    """What a live frame shows: weights, each layer's mean δ (None for the input), the input."""
    trace = session.trace()
    means = [None] + [d.mean(axis=0) for d in trace.delta[1:]]
    return tuple(w.copy() for w in session.network.weights), means, trace.x[0].copy()


def _child(conn, rounds: int, seconds: float, lean: bool) -> None:
    """Train in this child process; send snapshots to the parent ~30 times a second."""
    from bpstudio.core.run import RunSpec
    from bpstudio.core.session import build_session
    from bpstudio.core.snapshot import take_snapshot

    session = build_session(RunSpec(data=MNIST))
    session.run(100)
    conn.send("ready")
    serial, costs_sent, results = 0, 0, []
    for _ in range(rounds):
        head = headless_rate(session, seconds)
        start, seen = time.perf_counter(), session.examples_seen
        last = start
        while time.perf_counter() - start < seconds:
            due = last + FRAME_SECONDS
            session.run(1_000_000, deadline=due)
            if time.perf_counter() >= due:
                session.step_batch(record=True)
                if lean:
                    conn.send(_lean_frame(session))
                else:
                    snap = take_snapshot(
                        session,
                        serial=serial,
                        costs_from=costs_sent,
                        running=True,
                        examples_per_second=0.0,
                        epochs_target=10_000,
                    )
                    serial, costs_sent = serial + 1, len(session.history.batch_costs)
                    conn.send(snap)
                last = time.perf_counter()
        live = (session.examples_seen - seen) / (time.perf_counter() - start)
        results.append(live / head)
    conn.send(("done", results))


def process(rounds: int, seconds: float, lean: bool) -> tuple[list[float], float]:
    """Ratios of the child-process design, and the frames per second the window painted."""
    from PySide6.QtCore import QEventLoop, QSocketNotifier

    from bpstudio.core.run import RunSpec
    from bpstudio.gui.app import ensure_app
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import wait_for

    ensure_app()
    window = MainWindow(RunSpec(data=MNIST))
    window.resize(1500, 900)
    window.show()
    wait_for(window.session_loaded, failure=window.error_shown)
    window._frames_gated = True  # draw every snapshot at once, as while the worker trains
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=_child, args=(theirs, rounds, seconds, lean))
    child.start()
    if ours.recv() != "ready":
        raise RuntimeError("the training process did not start")
    loop, result, painted = QEventLoop(), {}, []
    window.view.painted.connect(lambda: painted.append(time.perf_counter()))

    def receive() -> None:
        while ours.poll():
            message = ours.recv()
            if isinstance(message, tuple) and message[0] == "done":
                result["ratios"] = message[1]
                loop.quit()
                return
            if lean:
                weights, means, pixels = message
                window.view.set_weights(weights)
                window.view.set_node_values(means, hold=True)
                window.view.set_input_image(pixels)
            else:
                window._on_snapshot(message)

    notifier = QSocketNotifier(ours.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(receive)
    start = time.perf_counter()
    loop.exec()
    elapsed = time.perf_counter() - start
    child.join()
    window.close()
    # Half of the time was the child's headless rounds, when nothing was sent or painted.
    return result["ratios"], len(painted) / (elapsed / 2)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=2.0, help="per headless or live run")
    args = parser.parse_args(argv[1:])
    if not MNIST_FOLDER.is_dir():
        print(f"live_options.py needs the MNIST IDX files in {MNIST_FOLDER}", file=sys.stderr)
        return 2
    print(f"MNIST [784, 30, 10], m = 10; {args.rounds} rounds of {args.seconds:g} s each way")

    def report(name: str, ratios: list[float], extra: str = "") -> None:
        print(
            f"{name:24s} live / headless: median {statistics.median(ratios):6.1%}"
            f"  (rounds {min(ratios):.0%}-{max(ratios):.0%}){extra}"
        )

    report("thread-minimal", thread_minimal(args.rounds, args.seconds, gated=True))
    report("thread-minimal-ungated", thread_minimal(args.rounds, args.seconds, gated=False))
    for name, lean in (("process", False), ("process-lean", True)):
        ratios, fps = process(args.rounds, args.seconds, lean)
        report(name, ratios, f"; window painted {fps:.0f} frames/s while live")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
