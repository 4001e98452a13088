"""What one frame of the decision-region view costs at 100 x 100 (issue 10, "Benchmarks").

Run from the project's root:  python benchmarks/regions.py [--frames N] [--batches B]

A [2, 16, 16, 3] network trains on the spiral toy set (``build_session``, BLAS pinned to one
thread as a run pins it). Between frames it trains B mini-batches (not timed), so that every
frame shows a network that has changed. Each frame times, in this order:

(a) grid evaluation
    ``region_grid(session.network, REGION_BOUNDS, REGION_N)``: the network's outputs at the
    100 x 100 cell centres, as the training thread computes them for every snapshot it sends.
(b) paint of a precomputed grid
    ``model.set_snapshot(snap)`` and ``widget.repaint()`` for a snapshot from ``take_snapshot``
    (whose grid is made before the clock starts): the colours, the gather onto the screen's
    pixels and the paint of :class:`~bpstudio.gui.decision_regions.DecisionRegions`, shown
    offscreen at its default size with the data's points on it.
(c) both
    The grid evaluated, put into that snapshot, and painted as in (b): a whole frame.
(d) a hidden neuron selected
    As (b) with neuron 0 of layer 2 selected: the panel evaluates that layer over the plane
    itself, in the GUI thread, before painting.

It prints the median and the 90th percentile in ms per frame. Target: a frame (c) <= 8 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402 (the platform is chosen before Qt can load)

TARGET_MS = 8.0
SIZES = (2, 16, 16, 3)
WARM_UP = 10


def time_frame(session, model, widget, serial: int) -> dict[str, float]:
    """One frame's costs in seconds: (a) grid, (b) paint, (c) both, (d) neuron selected."""
    from bpstudio.core.regions import REGION_BOUNDS, REGION_N, region_grid
    from bpstudio.core.snapshot import take_snapshot

    clock = time.perf_counter
    t0 = clock()
    region_grid(session.network, REGION_BOUNDS, REGION_N)
    grid_s = clock() - t0
    snap = take_snapshot(session, serial=serial, costs_from=0, running=True)
    t0 = clock()
    model.set_snapshot(snap)
    widget.repaint()
    paint_s = clock() - t0
    t0 = clock()
    grid = region_grid(session.network, REGION_BOUNDS, REGION_N)
    grid.setflags(write=False)
    model.set_snapshot(replace(snap, region_grid=grid))
    widget.repaint()
    both_s = clock() - t0
    model.set_selection(("n", 2, 0))
    t0 = clock()
    model.set_snapshot(snap)
    widget.repaint()
    neuron_s = clock() - t0
    model.set_selection(None)
    return {"grid": grid_s, "paint": paint_s, "both": both_s, "neuron": neuron_s}


def measure(frames: int, batches: int) -> dict[str, np.ndarray]:
    """ms per frame of each part over ``frames`` frames (after a few not counted)."""
    from bpstudio.core.run import RunSpec
    from bpstudio.core.session import build_session
    from bpstudio.core.snapshot import take_snapshot
    from bpstudio.gui.app import ensure_app
    from bpstudio.gui.decision_regions import DecisionRegions
    from bpstudio.gui.model import ViewModel

    app = ensure_app()
    session = build_session(RunSpec(data="spiral", sizes=SIZES, epochs=1_000_000))
    model = ViewModel()
    widget = DecisionRegions(model)
    first = take_snapshot(session, serial=0, costs_from=0, running=False)
    model.set_snapshot(first, new_session=True)
    widget.set_points(*first.points)
    widget.show()
    app.processEvents()  # laid out and painted once before the clock starts
    times: dict[str, list[float]] = {"grid": [], "paint": [], "both": [], "neuron": []}
    try:
        for i in range(WARM_UP + frames):
            session.run(batches)
            costs = time_frame(session, model, widget, serial=i + 1)
            app.processEvents()
            if i >= WARM_UP:
                for key, seconds in costs.items():
                    times[key].append(1000 * seconds)
        size = widget.size()
        plane = widget.plane.plane_rect()
    finally:
        widget.close()
        widget.deleteLater()
        app.processEvents()
    print(
        f"spiral {list(SIZES)}, grid 100 x 100, panel {size.width()} x {size.height()} "
        f"(plane {plane.width()} x {plane.height()} px), {frames} frames, {batches} mini-batches "
        "between frames, BLAS 1 thread"
    )
    return {key: np.asarray(v) for key, v in times.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames timed (default 300)")
    parser.add_argument("--batches", type=int, default=5, help="mini-batches between frames")
    args = parser.parse_args(argv[1:])
    if args.frames < 1 or args.batches < 1:
        parser.error("--frames and --batches must be at least 1")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        times = measure(args.frames, args.batches)
    labels = {
        "grid": "(a) grid evaluation",
        "paint": "(b) paint, grid precomputed",
        "both": "(c) both: a whole frame",
        "neuron": "(d) paint, hidden neuron selected",
    }
    print(f"{'ms per frame':34s} {'median':>7s} {'p90':>7s}")
    for key, label in labels.items():
        t = times[key]
        print(f"{label:34s} {np.median(t):7.2f} {np.percentile(t, 90):7.2f}")
    both = times["both"]
    verdict = "PASS" if np.median(both) <= TARGET_MS else "FAIL"
    print(f"target: a whole frame (c) <= {TARGET_MS:g} ms (median): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
