"""The training worker: runs a :class:`~bpstudio.core.runner.Runner` in its own thread.

Threading contract (see shared conventions):

1. The worker's thread owns the runner and its live session; the GUI never touches them.
2. The GUI sends commands through :class:`TrainingController`, whose signals are connected to the
   worker's slots (queued). The worker trains in slices of a few milliseconds driven by a timer
   of its own thread, so a command waits at most one slice.
3. The worker sends immutable snapshots, paced by what frames cost (see
   :mod:`bpstudio.core.runner`), and reports every error as ``failed(message)`` (a diverging step
   as ``diverged``).
4. :meth:`TrainingController.shutdown` cancels a load under way, stops the timer in the worker's
   thread, quits the thread and joins it. Nothing calls ``QThread.terminate()``.
"""

from __future__ import annotations

import threading
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from bpstudio.core.errors import BpstudioError, Cancelled
from bpstudio.core.runner import SPEEDS, Runner
from bpstudio.gui.gc_guard import MainThreadCollector

__all__ = ["SPEEDS", "FrameGate", "TrainingController", "TrainingWorker"]

#: Pause after a slice while no window takes its turn, so the GUI thread can take the lock.
YIELD_SECONDS = 0.0005
#: Longest the worker waits for the GUI to draw a snapshot before it trains on. Long enough for
#: a frame that also redraws the plots (about 20 ms), so that the runner's pacing sees what the
#: whole frame cost and the rest of it does not fight training for the interpreter lock.
FRAME_WAIT_SECONDS = 0.05


class FrameGate:
    """Lets the worker wait (without the interpreter lock) until the GUI has drawn a snapshot.

    The GUI calls :meth:`drawn` after drawing; the worker calls :meth:`wait_drawn`. While no
    window draws (hidden, closing, headless use) the gate is open and nobody waits.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._drawn = -1
        self._open = True

    def set_open(self, is_open: bool) -> None:
        with self._cond:
            self._open = is_open
            self._cond.notify_all()

    @property
    def is_open(self) -> bool:
        return self._open

    def drawn(self, serial: int) -> None:
        with self._cond:
            self._drawn = max(self._drawn, serial)
            self._cond.notify_all()

    def wait_drawn(self, serial: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._open or self._drawn >= serial, timeout)


class TrainingWorker(QObject):
    """Lives in the training thread; every slot runs there."""

    snapshot_ready = Signal(object)  # Snapshot
    session_ready = Signal(object)  # the first Snapshot of a new, reset or opened session
    running_changed = Signal(bool)
    diverged = Signal(str)
    diagnosed = Signal(object)  # a Diagnosis: training went wrong, what happened, what helps
    failed = Signal(str)
    open_failed = Signal(str, str)  # path, message: the current session is kept
    data_missing = Signal(str, str)  # path, message: the file's data could not be found
    saved = Signal(str)  # path
    epochs_done = Signal()
    stopped = Signal()

    def __init__(self, frames: FrameGate, cancel: threading.Event) -> None:
        super().__init__()
        self.runner = Runner()
        self._frames = frames
        self._cancel = cancel
        self._timer: QTimer | None = None

    # -- slots: commands from the GUI ----------------------------------------------------------
    @Slot(object)
    def build(self, spec) -> None:
        """Create a new session from a RunSpec and send its first snapshot."""
        self._set_running(False)
        try:
            snap = self.runner.build(spec, cancel=self._cancel.is_set)
        except Cancelled:
            return
        except BpstudioError as exc:
            self.failed.emit(str(exc))
            return
        except Exception:  # noqa: BLE001 - report, never kill the worker
            self.failed.emit("could not create the session:\n" + traceback.format_exc(limit=3))
            return
        self.session_ready.emit(snap)

    @Slot(str, object)
    def open_file(self, path: str, data_spec) -> None:
        """Open a session file (with ``data_spec`` overriding where its data is)."""
        from bpstudio.core.session_file import DataNotFound

        self._set_running(False)
        try:
            snap = self.runner.open_file(path, data_spec=data_spec, cancel=self._cancel.is_set)
        except Cancelled:
            return
        except DataNotFound as exc:
            self.data_missing.emit(path, str(exc))
            return
        except BpstudioError as exc:
            self.open_failed.emit(path, str(exc))
            return
        except Exception:  # noqa: BLE001
            self.open_failed.emit(path, "could not open it:\n" + traceback.format_exc(limit=3))
            return
        self.session_ready.emit(snap)

    @Slot(str, str, object)
    def save_file(self, path: str, note: str, view: dict) -> None:
        """Save the live session (with the window's note and view settings) to ``path``."""
        try:
            self.runner.set_note(note)
            self.runner.set_view(view)
            self.runner.session.save(path)
        except BpstudioError as exc:
            self.failed.emit(f"could not save {path}: {exc}")
            return
        except Exception:  # noqa: BLE001
            self.failed.emit("could not save:\n" + traceback.format_exc(limit=3))
            return
        self.saved.emit(path)

    @Slot()
    def play(self) -> None:
        if self.runner.play():
            self._set_running(True)

    @Slot()
    def pause(self) -> None:
        self._set_running(False)
        self._emit_snapshot()

    @Slot()
    def step_batch(self) -> None:
        self._guarded(self.runner.step_batch)

    @Slot(int)
    def advance(self, batches: int) -> None:
        self._guarded(lambda: self.runner.advance(batches))

    @Slot()
    def step_phase(self) -> None:
        self._guarded(self.runner.step_phase)

    @Slot()
    def reset(self) -> None:
        self._set_running(False)
        if self.runner.session is not None:
            self.runner.reset()
            self.session_ready.emit(self.runner.snapshot())

    @Slot(dict)
    def set_hyperparameters(self, values: dict) -> None:
        """η, m, σ, cost (applied from the next mini-batch) and epochs."""
        if self.runner.session is None:
            return
        try:
            self.runner.set_hyperparameters(values)
        except BpstudioError as exc:
            self.failed.emit(str(exc))
        self._emit_snapshot()

    @Slot(object)
    def restore_checkpoint(self, batches_done) -> None:
        """Go back to the weights kept at a mini-batch before training went wrong."""
        self._guarded(lambda: self.runner.restore_checkpoint(batches_done))

    @Slot(object)
    def set_speed(self, batches_per_second: float | None) -> None:
        self.runner.set_speed(batches_per_second)
        if self.runner.running and self._timer is not None:
            self._timer.setInterval(self.runner.interval_ms())

    @Slot(object, int)
    def trace_input(self, x, label: int) -> None:
        """Backprop on one input of the user's, without changing the network."""
        self._set_running(False)
        try:
            snap = self.runner.trace_input(x, label)
        except BpstudioError as exc:
            self.failed.emit(str(exc))
            return
        self.snapshot_ready.emit(snap)

    @Slot(object, int)
    def train_input(self, x, label: int) -> None:
        """One update on one input of the user's (a drawn digit), then a snapshot."""
        self._guarded(lambda: self.runner.train_input(x, label))

    @Slot(object)
    def use_points(self, points) -> None:
        """Train on the user's own 2-D points (see Runner.use_points)."""
        self._set_running(False)
        try:
            snap = self.runner.use_points(points)
        except BpstudioError as exc:
            self.failed.emit(str(exc))
            return
        self.session_ready.emit(snap)

    @Slot(object, object)
    def ask(self, question, future) -> None:
        """Answer ``question(session)`` into ``future`` (see TrainingController.ask)."""
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(question(self.runner.session))
        except BaseException as exc:  # noqa: BLE001 - handed to the asking thread
            future.set_exception(exc)

    @Slot()
    def shutdown(self) -> None:
        """Stop training and quit this thread's event loop (the controller joins it)."""
        self._set_running(False)
        if self._timer is not None:
            self._timer.stop()
            self._timer.deleteLater()
            self._timer = None
        self.runner.close()
        self.stopped.emit()
        QThread.currentThread().quit()

    # -- the training loop ------------------------------------------------------------------------
    def _tick(self) -> None:
        runner = self.runner
        try:
            result = runner.tick()
        except Exception:  # noqa: BLE001 - the worker reports every error and keeps running
            self._set_running(False)
            self.failed.emit("training stopped by an error:\n" + traceback.format_exc(limit=4))
            return
        if result.snapshot is None:
            if self._frames.is_open:
                # No window takes its turn at each snapshot, so pause briefly: a thread waiting
                # for the interpreter lock can otherwise lose every race for it.
                time.sleep(YIELD_SECONDS)
            return
        if result.finished or result.diverged:
            self._set_running(False)
        t0 = time.perf_counter()
        self.snapshot_ready.emit(result.snapshot)
        if result.diagnosis is not None:
            self._set_running(False)
            self.diagnosed.emit(result.diagnosis)
        elif result.diverged:
            self.diverged.emit(result.diverged)
        elif result.finished:
            self.epochs_done.emit()
        elif runner.running and not self._frames.is_open:
            # Let the GUI thread draw this snapshot before training on: both threads are mostly
            # Python and take turns with the interpreter lock anyway. What the wait costs is
            # what the frame cost training; the runner paces frames by it.
            self._frames.wait_drawn(result.snapshot.serial, FRAME_WAIT_SECONDS)
            runner.report_frame_cost(time.perf_counter() - t0)

    def _guarded(self, action) -> None:
        from bpstudio.core.errors import DivergenceError

        if self.runner.session is None:
            return
        self._set_running(False)
        try:
            action()
        except DivergenceError as exc:
            self._emit_snapshot()
            d = self.runner.diagnose(diverged=True)
            if d is not None:
                self.diagnosed.emit(d)
            else:
                self.diverged.emit(str(exc))
            return
        except Exception:  # noqa: BLE001
            self.failed.emit("the step failed:\n" + traceback.format_exc(limit=4))
            return
        snap = self.runner.snapshot()
        self.snapshot_ready.emit(snap)
        d = self.runner.diagnose(snap)
        if d is not None:
            self.diagnosed.emit(d)

    def _set_running(self, running: bool) -> None:
        if not running:
            self.runner.pause()
        if self._timer is None:
            self._timer = QTimer(self)
            self._timer.timeout.connect(self._tick)
        was = self._timer.isActive()
        if running and not was:
            self._timer.start(self.runner.interval_ms())
        elif not running and was:
            self._timer.stop()
        if running != was:
            self.running_changed.emit(running)

    def _emit_snapshot(self) -> int:
        if self.runner.session is None:
            return -1
        snap = self.runner.snapshot()
        self.snapshot_ready.emit(snap)
        return snap.serial


class TrainingController(QObject):
    """The GUI thread's handle on the worker: sends commands, owns and joins the thread."""

    # Commands, connected to the worker's slots across threads (queued).
    _build = Signal(object)
    _open = Signal(str, object)
    _save = Signal(str, str, object)
    _play = Signal()
    _pause = Signal()
    _step_batch = Signal()
    _step_phase = Signal()
    _advance = Signal(int)
    _reset = Signal()
    _set_hyper = Signal(dict)
    _set_speed = Signal(object)
    _trace_input = Signal(object, int)
    _ask = Signal(object, object)
    _use_points = Signal(object)
    _train_input = Signal(object, int)
    _restore = Signal(object)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        MainThreadCollector.install()  # garbage is collected in the GUI thread, not here
        self.frames = FrameGate()
        self._cancel = threading.Event()
        self.thread = QThread()
        self.thread.setObjectName("trainingThread")
        self.worker = TrainingWorker(self.frames, self._cancel)
        self.worker.moveToThread(self.thread)
        w = self.worker
        for signal, slot in (
            (self._build, w.build),
            (self._open, w.open_file),
            (self._save, w.save_file),
            (self._play, w.play),
            (self._pause, w.pause),
            (self._step_batch, w.step_batch),
            (self._step_phase, w.step_phase),
            (self._advance, w.advance),
            (self._reset, w.reset),
            (self._set_hyper, w.set_hyperparameters),
            (self._set_speed, w.set_speed),
            (self._trace_input, w.trace_input),
            (self._ask, w.ask),
            (self._use_points, w.use_points),
            (self._train_input, w.train_input),
            (self._restore, w.restore_checkpoint),
            (self._shutdown, w.shutdown),
        ):
            signal.connect(slot)
        # Queued into this (the GUI) thread: long garbage collections would stall training.
        w.running_changed.connect(self._hold_collector)
        self.thread.start()

    @Slot(bool)
    def _hold_collector(self, running: bool) -> None:
        collector = MainThreadCollector.install()
        if collector is not None:
            collector.hold(self, running and self.thread.isRunning())

    def build(self, spec) -> None:
        self._build.emit(spec)

    def open_file(self, path: str, data_spec: str | None = None) -> None:
        self._open.emit(str(path), data_spec)

    def save_file(self, path: str, note: str = "", view: dict | None = None) -> None:
        self._save.emit(str(path), note, dict(view or {}))

    def play(self) -> None:
        self._play.emit()

    def pause(self) -> None:
        self._pause.emit()

    def step_batch(self) -> None:
        self._step_batch.emit()

    def step_phase(self) -> None:
        self._step_phase.emit()

    def advance(self, batches: int) -> None:
        self._advance.emit(batches)

    def reset(self) -> None:
        self._reset.emit()

    def set_hyperparameters(self, **values) -> None:
        self._set_hyper.emit(values)

    def set_speed(self, batches_per_second: float | None) -> None:
        self._set_speed.emit(batches_per_second)

    def trace_input(self, x, label: int) -> None:
        self._trace_input.emit(x, int(label))

    def use_points(self, points) -> None:
        self._use_points.emit(points)

    def train_input(self, x, label: int) -> None:
        self._train_input.emit(x, int(label))

    def restore_checkpoint(self, batches_done: int | None = None) -> None:
        self._restore.emit(batches_done)

    def ask(self, question, timeout: float = 30.0):
        """Run ``question(session)`` in the training thread and wait for its answer.

        For short reads and writes of the live session that must not race training (exporting
        the history, say); the worker answers between two slices of training. Exceptions
        raised by ``question`` are raised here.
        """
        future: Future = Future()
        self._ask.emit(question, future)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise BpstudioError("the training thread did not answer in time") from None

    def shutdown(self) -> bool:
        """Cancel any load, stop the worker and join its thread (never terminates it)."""
        if not self.thread.isRunning():
            return True
        self._cancel.set()  # a load under way stops at its next chunk
        self._hold_collector(False)
        self.frames.set_open(True)
        self._shutdown.emit()
        return self.thread.wait()
