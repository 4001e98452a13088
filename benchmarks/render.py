"""How long does one frame of the network view take? Run: ``python3 benchmarks/render.py``.

``python3 benchmarks/render.py 784,300,100,10`` times only the cases whose sizes are given.

For each architecture the view (1280 x 800) is warmed up, then for ``FRAMES`` frames it gets new
weights, new node values and a new input image and is painted. Two ways of forcing the paint are
timed: ``repaint`` (process the queued scene update, then ``QWidget.repaint()``, which paints
synchronously) and ``grab`` (``QWidget.grab()``, which renders into a fresh pixmap and so adds a
copy). Random data are generated before timing so that only the view's work is measured. The
one-off ID-image build (after a zoom, pan or resize) is reported separately.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bpstudio.gui.network_view import NetworkView  # noqa: E402

CASES = (
    ([64, 16, 10], (8, 8)),
    ([784, 30, 10], (28, 28)),
    ([784, 100, 10], (28, 28)),
    ([784, 300, 100, 10], (28, 28)),
    ([784, 1000, 10], (28, 28)),
)
FRAMES = 50
WARMUP = 5
POOL = 6  # distinct random frames, cycled
TARGET_MS = 8.0


def make_frames(sizes, rng):
    """Pre-generate ``POOL`` frames of (weights, node values, input pixels)."""
    frames = []
    for _ in range(POOL):
        weights = [rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(sizes, sizes[1:])]
        values = [None] + [rng.normal(0, 0.05, n) for n in sizes[1:]]
        frames.append((weights, values, rng.random(sizes[0])))
    return frames


def show(view, frame):
    """Hand one frame to the view (what the main window does per snapshot)."""
    weights, values, pixels = frame
    view.set_weights(weights)
    view.set_node_values(values, "δ (mean over mini-batch)")
    view.set_input_image(pixels)


def time_frames(app, view, frames, paint):
    """Milliseconds per frame for ``FRAMES`` frames painted by ``paint(app, view)``."""
    for i in range(WARMUP):
        show(view, frames[i % POOL])
        paint(app, view)
    out = []
    for i in range(FRAMES):
        start = time.perf_counter()
        show(view, frames[i % POOL])
        paint(app, view)
        out.append(1000 * (time.perf_counter() - start))
    return np.array(out)


def time_focus_changes(app, view, n_hidden):
    """Milliseconds per hover-focus change (edges of a new hidden neuron stamped in front)."""
    out = []
    for i in range(FRAMES):
        start = time.perf_counter()
        view.set_focus_neuron(2, i % n_hidden)
        paint_repaint(app, view)
        out.append(1000 * (time.perf_counter() - start))
    return np.array(out)


def paint_repaint(app, view):
    """Let the scene post its update, then paint synchronously."""
    app.processEvents()
    view.repaint()


def paint_grab(app, view):
    """Render the whole widget into a new pixmap."""
    view.grab()


def report(name, ms) -> bool:
    """Print median and 90th percentile; return whether the median meets the target."""
    med, p90 = np.median(ms), np.percentile(ms, 90)
    print(f"  {name:30s} median {med:6.2f} ms   p90 {p90:6.2f} ms")
    return med <= TARGET_MS


def run_case(app, sizes, image_shape, rng):
    """Benchmark one architecture and print its lines."""
    view = NetworkView()
    view.resize(1280, 800)
    view.show()
    app.processEvents()
    view.set_architecture(sizes, image_shape)
    frames = make_frames(sizes, rng)
    show(view, frames[0])
    app.processEvents()
    view.refresh_now()
    builds = []
    for _ in range(3):  # a rebuild is what a zoom or resize costs
        view.fit()
        view.refresh_now()
        builds.append(1000 * view.build_seconds())
    n_edges = sum(a * b for a, b in zip(sizes, sizes[1:]))
    print(f"\n{sizes} image {image_shape}: {n_edges:,} edges")
    print(f"  ID-image build (one-off per view change): {np.median(builds):7.1f} ms")
    verdicts = []
    for name, paint in (("update+paint (repaint)", paint_repaint), ("grab", paint_grab)):
        verdicts.append(report(name, time_frames(app, view, frames, paint)))
    view.select_neuron(2, 0)  # its edges drawn in front (antialiased), the rest faded
    report("  with a focused neuron", time_frames(app, view, frames, paint_repaint))
    view.clear_selection()
    report("  hover moving to a new neuron", time_focus_changes(app, view, sizes[1]))
    view.set_focus_neuron(None)
    view.set_edge_filter(0.05)
    report("  with the 5% edge filter", time_frames(app, view, frames, paint_repaint))
    view.close()
    view.deleteLater()
    app.processEvents()
    return verdicts[0]


def main() -> int:
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(20240601)
    print(f"Network view frame time, {FRAMES} frames per case, window 1280 x 800")
    wanted = {tuple(int(n) for n in arg.split(",")) for arg in sys.argv[1:]}
    cases = [(s, shape) for s, shape in CASES if not wanted or tuple(s) in wanted]
    ok = [run_case(app, sizes, shape, rng) for sizes, shape in cases]
    verdict = "PASS" if all(ok) else "FAIL"
    print(f"\ntarget <= {TARGET_MS:g} ms per frame (median, update+paint): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
