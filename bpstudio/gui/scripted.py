"""Driving the window from code: wait for the session, train, select, step phases.

Used by ``bpstudio screenshot`` and the benchmarks; tests use pytest-qt's waits instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, QTimer

from bpstudio.core.errors import BpstudioError, ConfigError
from bpstudio.gui.model import check_selection

TIMEOUT_MS = 120_000


def wait_for(signal, timeout_ms: int = TIMEOUT_MS, failure=None):
    """Run the event loop until ``signal`` fires; returns its arguments.

    Raises :class:`BpstudioError` when ``failure`` (a signal carrying a message) fires first or
    the time runs out.
    """
    loop = QEventLoop()
    got: dict = {}

    def on_signal(*args):
        got["args"] = args
        loop.quit()

    def on_failure(message):
        got["error"] = message
        loop.quit()

    signal.connect(on_signal)
    if failure is not None:
        failure.connect(on_failure)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(timeout_ms)
    try:
        loop.exec()
    finally:
        timer.stop()
        signal.disconnect(on_signal)
        if failure is not None:
            failure.disconnect(on_failure)
    if "error" in got:
        raise BpstudioError(got["error"])
    if "args" not in got:
        raise BpstudioError(f"gave up waiting after {timeout_ms / 1000:.0f} s")
    return got["args"]


def parse_selection(spec: str | None):
    """``"w:l,j,k"`` → ("w", l, j, k); ``"n:l,j"`` → ("n", l, j); None → None."""
    if not spec:
        return None
    kind, _, rest = spec.partition(":")
    try:
        numbers = tuple(int(v) for v in rest.split(","))
    except ValueError:
        numbers = ()
    if (kind, len(numbers)) not in (("w", 3), ("n", 2)):
        raise ConfigError(f"--select must look like w:3,7,12 or n:2,5, got {spec!r}")
    return (kind, *numbers)


def drive(app, window, *, batches: int = 0, select: str | None = None, phases: int = 0):
    """Wait for the window's session, train ``batches`` mini-batches, select, step phases."""
    selection = parse_selection(select)
    if window.snapshot is None:
        wait_for(window.session_loaded, failure=window.error_shown)
    if batches > 0:
        window.controller.advance(batches)
        wait_for(window.snapshot_received, failure=window.error_shown)
    for _ in range(phases):
        window.controller.step_phase()
        wait_for(window.snapshot_received, failure=window.error_shown)
    window.render_now()
    if selection is not None:
        try:
            selection = check_selection(selection, window.snapshot.sizes)
        except ValueError as exc:
            raise ConfigError(f"--select: {exc}") from None
        window.model.set_selection(selection)
    window.view.refresh_now()
    app.processEvents()
