"""The training worker: owns the live session in its own thread and sends snapshots.

Threading contract (see shared conventions):

1. The worker's thread owns the :class:`~bpstudio.core.session.Session`; the GUI never touches it.
2. The GUI sends commands through :class:`TrainingController`, whose signals are connected to the
   worker's slots with queued connections. The worker trains in time slices of a few
   milliseconds driven by a timer of its own thread, so a command waits at most one slice.
3. The worker sends immutable :class:`~bpstudio.gui.snapshot.Snapshot` copies, at most about 30
   a second, and reports every error as ``failed(message)`` (a diverging step as ``diverged``).
4. :meth:`TrainingController.shutdown` stops the timer in the worker's thread, quits the thread
   and joins it.
"""

from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from bpstudio.core.errors import BpstudioError, DivergenceError
from bpstudio.core.session import Session, SessionSpec, build_session
from bpstudio.gui.gc_guard import MainThreadCollector
from bpstudio.gui.snapshot import Snapshot, take_snapshot

#: Snapshot interval: the GUI draws at most this often.
SNAPSHOT_SECONDS = 1 / 30
#: Longest a training slice holds the worker's thread before it looks at its commands again.
SLICE_SECONDS = 0.02
#: Pause after a slice, so the GUI thread can take the interpreter lock (see _tick).
YIELD_SECONDS = 0.0005
#: Longest the worker waits for the GUI to draw a snapshot before it trains on.
FRAME_WAIT_SECONDS = 0.015
#: Speeds the speed control offers, in mini-batches per second; None is "as fast as it goes".
SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 30, 100, 300, 1000, None)


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
    session_ready = Signal(object)  # the new session's first Snapshot, after (re)building
    running_changed = Signal(bool)
    diverged = Signal(str)
    failed = Signal(str)
    epochs_done = Signal()
    stopped = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self._spec = SessionSpec()
        self._timer: QTimer | None = None
        self._running = False
        self._speed: float | None = None
        self._serial = 0
        self._costs_sent = 0
        self._last_snapshot = 0.0
        self._rate_mark = (0.0, 0)  # (time, examples_seen) for examples per second
        self._rate = 0.0
        self.frames = FrameGate()

    # -- slots: commands from the GUI ----------------------------------------------------------
    @Slot(object)
    def build(self, spec: SessionSpec) -> None:
        """Create a new session from ``spec`` (data, sizes, …) and send its first snapshot."""
        self._set_running(False)
        try:
            session = build_session(spec)
        except BpstudioError as exc:
            self.failed.emit(str(exc))
            return
        except Exception:  # noqa: BLE001 - report, never kill the worker
            self.failed.emit("could not create the session:\n" + traceback.format_exc(limit=3))
            return
        self.session, self._spec = session, spec
        self._costs_sent = 0
        self.session_ready.emit(self._snapshot())

    @Slot()
    def play(self) -> None:
        if self.session is not None and not self._epochs_reached():
            self._set_running(True)

    @Slot()
    def pause(self) -> None:
        self._set_running(False)
        self._emit_snapshot()

    @Slot()
    def step_batch(self) -> None:
        """Pause, then run exactly one mini-batch (or finish the one under way)."""
        self._set_running(False)
        self._guarded(lambda s: s.step_batch(record=True))

    @Slot(int)
    def advance(self, batches: int) -> None:
        """Pause, then run ``batches`` mini-batches at full speed and send one snapshot."""
        self._set_running(False)

        def run(session: Session) -> None:
            target = session.batches_done + batches
            while session.batches_done < target - 1:
                session.run(target - 1 - session.batches_done)
            if session.batches_done < target:
                session.step_batch(record=True)  # the last one recorded, for the views

        self._guarded(run)

    @Slot()
    def step_phase(self) -> None:
        """Pause, then run the next phase of backprop."""
        self._set_running(False)
        self._guarded(lambda s: s.step_phase())

    @Slot()
    def reset(self) -> None:
        """Pause and re-initialise the weights from the seed; history starts again."""
        self._set_running(False)
        if self.session is not None:
            self.session.reset()
            self._costs_sent = 0
            self.session_ready.emit(self._snapshot())

    @Slot(dict)
    def set_hyperparameters(self, values: dict) -> None:
        """η, mini-batch size, activation, cost (applied from the next mini-batch) and epochs."""
        values = dict(values)
        epochs = values.pop("epochs", None)
        if epochs is not None:
            self._spec = SessionSpec(**{**self._spec.__dict__, "epochs": int(epochs)})
        if self.session is None:
            return
        try:
            self.session.set_hyperparameters(**values)
        except BpstudioError as exc:
            self.failed.emit(str(exc))
            return
        self._spec = SessionSpec(**{**self._spec.__dict__, **_spec_names(values)})
        self._emit_snapshot()

    @Slot(object)
    def set_speed(self, batches_per_second: float | None) -> None:
        self._speed = batches_per_second
        if self._running:
            self._timer.setInterval(self._interval_ms())

    @Slot()
    def shutdown(self) -> None:
        """Stop training and quit this thread's event loop (the controller joins it)."""
        self._running = False
        if self._timer is not None:
            self._timer.stop()
            self._timer.deleteLater()
            self._timer = None
        self.stopped.emit()
        QThread.currentThread().quit()

    # -- the training loop ------------------------------------------------------------------------
    def _tick(self) -> None:
        session = self.session
        if session is None or not self._running:
            return
        now = time.perf_counter()
        try:
            if self._speed is None:
                # As fast as it goes: batches until the slice or the snapshot interval is up;
                # the batch that precedes a snapshot is recorded so views can inspect it.
                due = self._last_snapshot + SNAPSHOT_SECONDS
                session.run(1_000_000, deadline=min(now + SLICE_SECONDS, due))
                if time.perf_counter() >= due and not self._epoch_boundary_just_passed():
                    session.step_batch(record=True)
            else:
                session.step_batch(record=True)
        except DivergenceError as exc:
            self._set_running(False)
            self._emit_snapshot()
            self.diverged.emit(str(exc))
            return
        except Exception:  # noqa: BLE001 - the worker reports every error and keeps running
            self._set_running(False)
            self.failed.emit("training stopped by an error:\n" + traceback.format_exc(limit=4))
            return
        if self._epochs_reached():
            self._set_running(False)
            self._emit_snapshot()
            self.epochs_done.emit()
        elif time.perf_counter() - self._last_snapshot >= SNAPSHOT_SECONDS or self._speed:
            serial = self._emit_snapshot()
            # Let the GUI thread draw this snapshot before training on. Both threads are mostly
            # Python, so they cannot draw and train at once anyway; taking turns saves fighting
            # over the interpreter lock on every numpy call, which cost both sides far more.
            self.frames.wait_drawn(serial, FRAME_WAIT_SECONDS)
            return
        if self.frames.is_open:
            # No window takes its turn at each snapshot (see above), so pause briefly: a thread
            # waiting for the interpreter lock can otherwise lose every race for it, since
            # training releases and retakes it many times a millisecond (every BLAS call).
            time.sleep(YIELD_SECONDS)

    def _epoch_boundary_just_passed(self) -> bool:
        return self.session.batch_in_epoch == 0 and self.session.batches_done > 0

    def _epochs_reached(self) -> bool:
        s = self.session
        return s is not None and s.epoch >= self._spec.epochs and not s.in_pass

    def _guarded(self, action) -> None:
        if self.session is None:
            return
        try:
            action(self.session)
        except DivergenceError as exc:
            self._emit_snapshot()
            self.diverged.emit(str(exc))
            return
        except Exception:  # noqa: BLE001
            self.failed.emit("the step failed:\n" + traceback.format_exc(limit=4))
            return
        self._emit_snapshot()

    def _set_running(self, running: bool) -> None:
        if running == self._running:
            return
        self._running = running
        if self._timer is None:
            self._timer = QTimer(self)
            self._timer.timeout.connect(self._tick)
        if running:
            self._rate_mark = (time.perf_counter(), self.session.examples_seen)
            self._timer.start(self._interval_ms())
        else:
            self._timer.stop()
            self._rate = 0.0
        self.running_changed.emit(running)

    def _interval_ms(self) -> int:
        return 0 if self._speed is None else max(1, round(1000 / self._speed))

    def _snapshot(self) -> Snapshot:
        s = self.session
        now = time.perf_counter()
        t0, seen0 = self._rate_mark
        if self._running and now - t0 >= 0.5:
            self._rate = (s.examples_seen - seen0) / (now - t0)
            self._rate_mark = (now, s.examples_seen)
        snap = take_snapshot(
            s,
            serial=self._serial,
            costs_from=self._costs_sent,
            running=self._running,
            examples_per_second=self._rate if self._running else 0.0,
            epochs_target=self._spec.epochs,
        )
        self._serial += 1
        self._costs_sent = len(s.history.batch_costs)
        self._last_snapshot = now
        return snap

    def _emit_snapshot(self) -> int:
        if self.session is None:
            return -1
        snap = self._snapshot()
        self.snapshot_ready.emit(snap)
        return snap.serial


def _spec_names(values: dict) -> dict:
    keep = ("eta", "mini_batch_size", "activation", "cost")
    return {k: v for k, v in values.items() if k in keep and v is not None}


class TrainingController(QObject):
    """The GUI thread's handle on the worker: sends commands, owns and joins the thread."""

    # Commands, connected to the worker's slots across threads (queued).
    _build = Signal(object)
    _play = Signal()
    _pause = Signal()
    _step_batch = Signal()
    _step_phase = Signal()
    _advance = Signal(int)
    _reset = Signal()
    _set_hyper = Signal(dict)
    _set_speed = Signal(object)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        MainThreadCollector.install()  # garbage is collected in the GUI thread, not here
        self.thread = QThread()
        self.thread.setObjectName("trainingThread")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self.thread)
        w = self.worker
        for signal, slot in (
            (self._build, w.build),
            (self._play, w.play),
            (self._pause, w.pause),
            (self._step_batch, w.step_batch),
            (self._step_phase, w.step_phase),
            (self._advance, w.advance),
            (self._reset, w.reset),
            (self._set_hyper, w.set_hyperparameters),
            (self._set_speed, w.set_speed),
            (self._shutdown, w.shutdown),
        ):
            signal.connect(slot)
        self.thread.start()

    def build(self, spec: SessionSpec) -> None:
        self._build.emit(spec)

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

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop the worker and join its thread; True when the thread has finished."""
        if not self.thread.isRunning():
            return True
        self._shutdown.emit()
        finished = self.thread.wait(timeout_ms)
        if not finished:  # a slice or an MNIST load outlived the wait: do not leave it running
            self.thread.terminate()
            finished = self.thread.wait(timeout_ms)
        return finished
