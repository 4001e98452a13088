"""Training speed with the window drawing it live, against headless training in the same process.

Run from the project's root:

    python benchmarks/live.py [--data mnist:FOLDER] [--rounds R] [--seconds S] [--case NAME]
                              [--dock DOCK]

For each of three networks (issue 11, "Live training speed"): MNIST [784, 30, 10] with m = 10,
MNIST [784, 100, 10] with m = 20 and the built-in digits network [64, 16, 10] with m = 10, it
prints the ratio of live to headless training speed and the frames a second the window painted.

Headless
    A twin session (same RunSpec) trained by the session's own loop in this process's main
    thread, in slices of ``SLICE_SECONDS`` as the runner trains, with no window drawing.
Live
    The real main window, shown offscreen at 1500 x 900 with the first layout (a throw-away
    settings folder, never the user's), at "as fast as it goes": the worker thread trains and
    the runner paces frames by what they cost (``Runner.frame_interval``). Frames are counted by
    the network view's ``painted`` signal.
Live at 30 frames a second
    The same, with the runner's pacing replaced by a fixed interval of 1/30 s (the design before
    cost-paced frames). The seam is :func:`fixed_frame_interval` below: it sets
    ``frame_interval`` on the window's one ``Runner`` *instance*, from the training thread
    (``TrainingController.ask``) while training is paused, and removes it afterwards; neither
    the class nor any core code is changed.

How it measures. Every measurement resets its session (the weights start again from the seed)
and runs from there, the start of an epoch, to the first epoch boundary at least S seconds
later, so each holds whole epochs and the same share of end-of-epoch evaluation, and the
history every frame copies stays as short as a real run's; examples come from
``examples_seen`` (the session's for headless; for live, the snapshots' from the first one
after Play to the one that brings the boundary, timed as they arrive).
Measurements alternate: headless, live, headless, live at 30 f/s, headless, ... (2R + 1
headless ones for R rounds of each live kind), because this machine's speed drifts by 10-20%
within a minute; each live measurement is divided by the mean of the two headless ones either
side of it, and the figure is the median of those R ratios. BLAS is pinned to one thread for
the whole process, as a run pins it (``RunSpec.blas_threads`` = 1).

Target: live >= 90% of headless with >= 15 frames a second, at every size. The verdict takes the
typical frame rate while training runs (1 / the median interval between frames): no frames come
during the end-of-epoch evaluation, which lowers the whole-epoch average (printed beside it).
Exits 2 with a plain message when the MNIST folder is missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "data" / "mnist"
WINDOW_SIZE = (1500, 900)
TARGET_RATIO, TARGET_FPS = 0.90, 15.0
#: name -> (title, the RunSpec fields that differ from the defaults)
CASES = {
    "784-30-10": ("MNIST [784, 30, 10], m = 10", {"sizes": (784, 30, 10), "mini_batch_size": 10}),
    "784-100-10": (
        "MNIST [784, 100, 10], m = 20",
        {"sizes": (784, 100, 10), "mini_batch_size": 20},
    ),
    "digits": (
        "digits [64, 16, 10], m = 10",
        {"data": "digits", "sizes": (64, 16, 10), "mini_batch_size": 10},
    ),
}


# -- headless -------------------------------------------------------------------------------------
def _train_to_epoch_end(session, not_before: float) -> None:
    """Train until an epoch ends at or after ``perf_counter() == not_before``."""
    from bpstudio.core.runner import SLICE_SECONDS

    while True:
        epoch = session.epoch
        while session.epoch == epoch:
            session.run(1_000_000, deadline=time.perf_counter() + SLICE_SECONDS)
        if time.perf_counter() >= not_before:
            return


def headless_rate(session, seconds: float) -> float:
    """Examples per second of the session's own loop in this thread, over whole epochs."""
    session.reset()  # at the start of an epoch
    seen, t0 = session.examples_seen, time.perf_counter()
    _train_to_epoch_end(session, t0 + seconds)
    return (session.examples_seen - seen) / (time.perf_counter() - t0)


# -- live -----------------------------------------------------------------------------------------
@contextmanager
def fixed_frame_interval(window, seconds: float | None):
    """The benchmark's seam: the window's runner spaces frames ``seconds`` apart whatever they
    cost (None: leave its own pacing). Set and removed in the training thread, while paused."""
    if seconds is None:
        yield
        return
    runner = window.controller.worker.runner  # only referenced here; changed in its thread
    window.controller.ask(lambda _s: setattr(runner, "frame_interval", lambda: seconds))
    try:
        yield
    finally:
        window.controller.ask(lambda _s: runner.__dict__.pop("frame_interval", None))


def _run_loop(loop, timeout_s: float, what: str) -> None:
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setSingleShot(True)
    expired = []
    timer.timeout.connect(lambda: (expired.append(True), loop.quit()))
    timer.start(int(timeout_s * 1000))
    loop.exec()
    timer.stop()
    if expired:
        raise RuntimeError(f"gave up waiting for {what} after {timeout_s:.0f} s")


def live_rate(window, seconds: float) -> tuple[float, float, float]:
    """Examples a second and frames painted a second over whole epochs, and the frame rate
    while training runs (see :func:`_training_fps`)."""
    from PySide6.QtCore import QEventLoop

    from bpstudio.gui.scripted import wait_for

    window.controller.reset()  # at the start of an epoch
    wait_for(window.session_loaded, failure=window.error_shown)
    loop, frames, marks, arrivals = QEventLoop(), [0], [], []

    def count() -> None:
        frames[0] += 1

    def on_snapshot(snap) -> None:  # marks (arrival, examples, frames): first, then at a boundary
        if not snap.running or len(marks) == 2:  # (snapshots still come until the pause lands)
            return
        now = time.perf_counter()
        new_epoch = bool(arrivals) and snap.epoch > arrivals[-1][1]
        if not marks or (new_epoch and now - marks[0][0] >= seconds):
            marks.append((now, snap.examples_seen, frames[0], len(arrivals)))
            if len(marks) == 2:
                loop.quit()
        arrivals.append((now, snap.epoch))

    window.view.painted.connect(count)
    window.snapshot_received.connect(on_snapshot)
    window.controller.play()
    try:
        _run_loop(loop, 20 * seconds + 120, "a live measurement")
    finally:
        window.controller.pause()
        wait_for(window.running_changed)
        window.view.painted.disconnect(count)
        window.snapshot_received.disconnect(on_snapshot)
    (t0, seen0, f0, i0), (t1, seen1, f1, i1) = marks
    return (seen1 - seen0) / (t1 - t0), (f1 - f0) / (t1 - t0), _training_fps(arrivals[i0 : i1 + 1])


def _training_fps(arrivals) -> float:
    """1 / the median interval between snapshots: the frame rate while training runs, which
    the whole-epoch average lowers by the pauses of the end-of-epoch evaluations."""
    gaps = [t1 - t0 for (t0, _), (t1, _) in zip(arrivals, arrivals[1:])]
    return 1 / statistics.median(gaps) if gaps else 0.0


def open_window(spec, docks: list[str]):
    """The main window at the first layout and 1500 x 900, loaded, at full speed."""
    from bpstudio.core.runner import SPEEDS
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import wait_for

    window = MainWindow(spec)
    window.resize(*WINDOW_SIZE)
    window.show()
    wait_for(window.session_loaded, failure=window.error_shown)
    window.controls.speed.setValue(SPEEDS.index(None))  # "as fast as it goes", as a user sets it
    for name in docks:
        if name not in window.docks:
            window.discard_and_close()
            raise SystemExit(f"--dock: no dock {name!r}; the docks are {', '.join(window.docks)}")
        window.docks[name].raise_()
    return window


# -- one network ----------------------------------------------------------------------------------
def measure_case(spec, rounds: int, seconds: float, docks: list[str]) -> dict:
    """Alternating headless / live / headless / live-at-30 measurements of one network.

    Returns ``{"head": [ex/s, ...], "paced": [(ex/s, f/s, typical f/s, ratio), ...],
    "fixed": [...]}``.
    """
    from bpstudio.core.runner import FRAME_SECONDS
    from bpstudio.core.session import build_session

    window = open_window(spec, docks)
    twin = build_session(spec)
    out = {"paced": [], "fixed": [], "head": []}
    try:
        out["head"].append(headless_rate(twin, seconds))
        for r in range(rounds):
            for kind, interval in (("paced", None), ("fixed", FRAME_SECONDS)):
                with fixed_frame_interval(window, interval):
                    rate, fps, training_fps = live_rate(window, seconds)
                out["head"].append(headless_rate(twin, seconds))
                h = (out["head"][-2] + out["head"][-1]) / 2
                out[kind].append((rate, fps, training_fps, rate / h))
            print_round(r + 1, out)
    finally:
        window.discard_and_close()
    return out


ROUND_HEADER = (
    "  round  headless ex/s |  paced: ex/s  f/s (typical)  ratio |  30 f/s: ex/s  f/s  ratio"
)


def print_round(r: int, out: dict) -> None:
    (lp, fp, tp, rp), (lf, ff, _, rf) = out["paced"][-1], out["fixed"][-1]
    head = statistics.mean(out["head"][-3:])
    print(
        f"  {r:5d}  {head:13,.0f} | {lp:11,.0f} {fp:4.1f} ({tp:4.1f}) {rp:13.1%} |"
        f" {lf:12,.0f} {ff:4.1f} {rf:6.1%}",
        flush=True,
    )


def summary(title: str, out: dict) -> tuple[str, bool]:
    """One line of the final table and whether it meets the target (paced ratio and f/s)."""
    med = statistics.median
    paced, fixed = out["paced"], out["fixed"]
    ratios, fps, typical = ([v[i] for v in paced] for i in (3, 1, 2))
    fixed_ratios, fixed_fps = ([v[i] for v in fixed] for i in (3, 1))
    ok = med(ratios) >= TARGET_RATIO and med(typical) >= TARGET_FPS
    line = (
        f"{title:29s} {med(out['head']):9,.0f} | {med(ratios):6.1%} ({min(ratios):.0%}-"
        f"{max(ratios):.0%}) {med(fps):5.1f} ({med(typical):4.1f}) | {med(fixed_ratios):6.1%} "
        f"({min(fixed_ratios):.0%}-{max(fixed_ratios):.0%}) {med(fixed_fps):5.1f} | "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return line, ok


# -- the script -----------------------------------------------------------------------------------
def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=f"mnist:{DEFAULT_MNIST}", help="the MNIST data spec")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of each live kind (>= 1)")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="least length of one measurement"
    )
    parser.add_argument(
        "--case", action="append", choices=tuple(CASES), help="measure only these (repeatable)"
    )
    parser.add_argument(
        "--dock",
        action="append",
        default=[],
        help="raise this dock's tab while measuring, e.g. receptiveFieldsDock (repeatable)",
    )
    args = parser.parse_args(argv[1:])
    if args.rounds < 1 or not args.seconds > 0:
        parser.error("--rounds must be at least 1 and --seconds positive")
    return args


def mnist_missing(data: str) -> str | None:
    """A plain message if the MNIST folder ``data`` names is not there."""
    folder = Path(data.partition(":")[2] or DEFAULT_MNIST) if data.startswith("mnist") else None
    if folder is not None and not any(folder.glob("train-images*")):
        return (
            f"MNIST is not in {folder}: put the four IDX files there "
            "(bpstudio data fetch mnist) or give --data mnist:<folder>"
        )
    return None


def main(argv: list[str]) -> int:
    args = parse(argv)
    names = args.case or list(CASES)
    if any(n != "digits" for n in names) and (message := mnist_missing(args.data)):
        print(message)
        return 2
    os.environ["BPSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="bpstudio-live-")
    from threadpoolctl import threadpool_limits

    from bpstudio.core.run import RunSpec
    from bpstudio.gui.app import ensure_app

    ensure_app()
    started, lines, passed = time.perf_counter(), [], True
    print(
        f"window {WINDOW_SIZE[0]} x {WINDOW_SIZE[1]} offscreen, {args.rounds} rounds, "
        f"measurements of >= {args.seconds:g} s over whole epochs, BLAS 1 thread"
    )
    with threadpool_limits(limits=1, user_api="blas"):
        for name in names:
            title, fields = CASES[name]
            spec = RunSpec(**{"data": args.data, "epochs": 1_000_000, **fields})
            print(f"\n{title} ({spec.data})")
            print(ROUND_HEADER)
            out = measure_case(spec, args.rounds, args.seconds, args.dock)
            line, ok = summary(title, out)
            lines.append(line)
            passed &= ok
    print(
        "\nmedians over the rounds (range); ratio = live / headless ex/s; f/s = frames painted a"
        "\nsecond over whole epochs (typical: 1 / the median interval between frames, which the"
        "\nend-of-epoch evaluations do not lower); target: paced ratio >= 90% at >= 15 typical f/s"
    )
    print(
        f"{'network':29s} {'headless':>9s} | {'as fast as it goes: ratio, f/s (typical)':35s} | "
        "frames forced to 30 a second"
    )
    print("\n".join(lines))
    print(f"{'all PASS' if passed else 'not all PASS'}; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
