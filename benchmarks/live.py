"""Training speed with the window drawing it live, against headless training in the same process.

Run from the project's root:  python benchmarks/live.py [--data SPEC] [--seconds S]

Headless: the session's own loop in this process for S seconds, BLAS as the app has it. Live: the
main window (offscreen) playing at full speed for S seconds while it draws every snapshot (about
30 frames a second). Prints examples per second for both, the frames drawn per second and the
ratio; the target is live ≥ 90% of headless.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def headless(spec, seconds: float) -> float:
    from bpstudio.core.session import build_session

    session = build_session(spec)
    session.run(200)
    # The same loop as the worker's (slices of 20 ms), with the same BLAS settings as the app.
    t0 = time.perf_counter()
    seen = session.examples_seen
    while time.perf_counter() - t0 < seconds:
        session.run(1_000_000, deadline=time.perf_counter() + 0.02)
    return (session.examples_seen - seen) / (time.perf_counter() - t0)


def live(spec, seconds: float) -> tuple[float, float]:
    from PySide6.QtCore import QEventLoop, QTimer

    from bpstudio.gui.app import ensure_app
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import wait_for

    ensure_app()
    window = MainWindow(spec)
    window.resize(1600, 1000)
    window.show()
    wait_for(window.session_loaded, failure=window.error_shown)
    window.controller.play()
    wait_for(window.running_changed)
    frames = []
    window.view.painted.connect(lambda: frames.append(1))  # frames that reached the screen
    # Let the first frames (and the edge raster at this size) settle, then measure.
    loop = QEventLoop()
    QTimer.singleShot(1000, loop.quit)
    loop.exec()
    start_seen, start_frames = window.snapshot.examples_seen, len(frames)
    t0 = time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    elapsed = time.perf_counter() - t0
    seen = window.snapshot.examples_seen - start_seen
    fps = (len(frames) - start_frames) / elapsed
    window.close()
    return seen / elapsed, fps


def main(argv: list[str]) -> int:
    from bpstudio.core.session import SessionSpec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="default: mnist:<shared folder> [784,30,10]")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval (seconds)")
    args = parser.parse_args(argv[1:])
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    data = args.data or f"mnist:{DEFAULT_MNIST}"
    spec = SessionSpec(data=data, epochs=10_000)
    headless_rate = headless(spec, args.seconds)
    live_rate, fps = live(spec, args.seconds)
    print(f"data {data}, default network, m = 10, η = 3.0")
    print(f"headless: {headless_rate:10,.0f} examples/s")
    print(f"live:     {live_rate:10,.0f} examples/s while drawing {fps:.1f} frames/s")
    ratio = live_rate / headless_rate
    print(f"live / headless = {ratio:.1%}  (target ≥ 90%: {'PASS' if ratio >= 0.9 else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
