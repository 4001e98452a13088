"""Training speed with the window drawing it live, against headless training in the same process.

Run from the project's root:  python benchmarks/live.py [--data SPEC] [--epochs E] [--rounds R]

Headless: a twin session's own loop in this process's main thread, BLAS as the app has it. Live:
the main window (offscreen, 1500 x 900 as the app opens) playing at full speed while it draws
every snapshot (about 30 frames a second while training runs; none during the end-of-epoch
evaluation).
Each measurement runs from one epoch boundary to another (E epochs), so that each holds the same
share of end-of-epoch evaluation; the two alternate for R rounds, because this machine's speed
drifts by 10-15% over a minute. Each round gives a ratio and the median ratio is the figure. The
target is live ≥ 90% of headless.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def headless_rate(session, epochs: int) -> float:
    """Examples per second of the session's own loop in this thread, over whole epochs.

    Measured from one epoch boundary to another, so that every measurement holds the same share
    of end-of-epoch evaluation (about a fifth of the time at this size).
    """

    def run_to(epoch: int) -> None:
        while session.epoch < epoch:
            session.run(1_000_000, deadline=time.perf_counter() + 0.02)

    run_to(session.epoch + 1)
    seen, t0 = session.examples_seen, time.perf_counter()
    run_to(session.epoch + epochs)
    return (session.examples_seen - seen) / (time.perf_counter() - t0)


def live_rate(window, epochs: int) -> tuple[float, float]:
    """Examples and painted frames per second while the window trains, over whole epochs."""
    from PySide6.QtCore import QEventLoop

    frames, marks = [], []
    loop = QEventLoop()

    def count() -> None:  # frames that reached the screen
        frames.append(1)

    def on_snapshot(snap) -> None:  # (arrival time, examples seen, frames) at epoch boundaries
        if not marks or snap.epoch > marks[-1][0]:
            marks.append((snap.epoch, time.perf_counter(), snap.examples_seen, len(frames)))
            if len(marks) == epochs + 2:
                loop.quit()

    window.view.painted.connect(count)
    window.snapshot_received.connect(on_snapshot)
    window.controller.play()
    loop.exec()
    window.controller.pause()
    wait_for_pause(window)
    window.view.painted.disconnect(count)
    window.snapshot_received.disconnect(on_snapshot)
    (_, t0, seen0, frames0), (_, t1, seen1, frames1) = marks[1], marks[-1]
    return (seen1 - seen0) / (t1 - t0), (frames1 - frames0) / (t1 - t0)


def wait_for_pause(window) -> None:
    from bpstudio.gui.scripted import wait_for

    if window.snapshot is not None and window.snapshot.running:
        wait_for(window.running_changed)


def main(argv: list[str]) -> int:
    from bpstudio.core.run import RunSpec
    from bpstudio.core.session import build_session
    from bpstudio.gui.app import ensure_app
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import wait_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="default: mnist:<shared folder> [784,30,10]")
    parser.add_argument("--epochs", type=int, default=4, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--size", default="1500x900", help="window size (the app opens at 1500x900)"
    )
    args = parser.parse_args(argv[1:])
    data = args.data or f"mnist:{DEFAULT_MNIST}"
    spec = RunSpec(data=data, epochs=10_000)

    ensure_app()
    window = MainWindow(spec)
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    wait_for(window.session_loaded, failure=window.error_shown)
    session = build_session(spec)  # the headless twin, trained in this (the GUI's) thread
    session.run(200)
    print(f"data {data}, default network, m = 10, η = 3.0; window {width} x {height} (offscreen)")
    print("round   headless ex/s   live ex/s   frames/s   live / headless")
    heads, lives, ratios = [], [], []
    for r in range(args.rounds):
        h = headless_rate(session, args.epochs)
        lv, fps = live_rate(window, args.epochs)
        heads.append(h)
        lives.append(lv)
        ratios.append(lv / h)
        print(f"{r + 1:5d}   {h:13,.0f}   {lv:9,.0f}   {fps:8.1f}   {lv / h:14.1%}")
    window.close()
    ratio = statistics.median(ratios)
    head, live = statistics.median(heads), statistics.median(lives)
    print(f"medians: headless {head:,.0f} ex/s, live {live:,.0f} ex/s")
    verdict = "PASS" if ratio >= 0.9 else "FAIL"
    print(
        f"live / headless = {ratio:.1%} (median of the rounds, which ranged "
        f"{min(ratios):.0%}-{max(ratios):.0%}; target ≥ 90%: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
