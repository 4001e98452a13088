"""Training speed with the window drawing it live, against headless training in the same process.

Run from the project's root:  python benchmarks/live.py [--data SPEC] [--seconds S]

Headless: a twin session's own loop in this process's main thread, BLAS as the app has it. Live:
the main window (offscreen, 1600 x 1000) playing at full speed while it draws every snapshot
(about 30 frames a second while training runs; none come during the end-of-epoch evaluation).
The two alternate for several rounds of S seconds, because this machine's speed drifts by 10-15%
over a minute; each round gives a ratio and the median ratio is the figure. The target is
live ≥ 90% of headless.
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


def headless_rate(session, seconds: float) -> float:
    """Examples per second of the session's own loop in this thread (slices of 20 ms)."""
    seen, t0 = session.examples_seen, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        session.run(1_000_000, deadline=time.perf_counter() + 0.02)
    return (session.examples_seen - seen) / (time.perf_counter() - t0)


def live_rate(window, seconds: float) -> tuple[float, float]:
    """Examples and painted frames per second while the window trains for ``seconds``."""
    from bpstudio.gui.scripted import wait_for

    frames = []

    def count() -> None:  # frames that reached the screen
        frames.append(1)

    window.view.painted.connect(count)
    window.controller.play()
    wait_for(window.running_changed)
    spin(0.5)  # the first frames settle (and, at this size, the edge raster is built)
    start_seen, start_frames = window.snapshot.examples_seen, len(frames)
    t0 = time.perf_counter()
    spin(seconds)
    elapsed = time.perf_counter() - t0
    seen, drawn = window.snapshot.examples_seen - start_seen, len(frames) - start_frames
    window.controller.pause()
    wait_for(window.running_changed)
    window.view.painted.disconnect(count)
    return seen / elapsed, drawn / elapsed


def spin(seconds: float) -> None:
    """Run the GUI's event loop for ``seconds``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def main(argv: list[str]) -> int:
    from bpstudio.core.session import SessionSpec, build_session
    from bpstudio.gui.app import ensure_app
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import wait_for

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="default: mnist:<shared folder> [784,30,10]")
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv[1:])
    data = args.data or f"mnist:{DEFAULT_MNIST}"
    spec = SessionSpec(data=data, epochs=10_000)

    ensure_app()
    window = MainWindow(spec)
    window.resize(1600, 1000)
    window.show()
    wait_for(window.session_loaded, failure=window.error_shown)
    session = build_session(spec)  # the headless twin, trained in this (the GUI's) thread
    session.run(200)
    print(f"data {data}, default network, m = 10, η = 3.0; window 1600 x 1000 (offscreen)")
    print("round   headless ex/s   live ex/s   frames/s   live / headless")
    heads, lives, ratios = [], [], []
    for r in range(args.rounds):
        h = headless_rate(session, args.seconds)
        lv, fps = live_rate(window, args.seconds)
        heads.append(h)
        lives.append(lv)
        ratios.append(lv / h)
        print(f"{r + 1:5d}   {h:13,.0f}   {lv:9,.0f}   {fps:8.1f}   {lv / h:14.1%}")
    window.close()
    ratio = statistics.median(ratios)
    head, live = statistics.median(heads), statistics.median(lives)
    print(f"medians: headless {head:,.0f} ex/s, live {live:,.0f} ex/s")
    verdict = "PASS" if ratio >= 0.9 else "FAIL"
    print(f"live / headless = {ratio:.1%} (median of the rounds; target ≥ 90%: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
