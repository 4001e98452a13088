"""The training loop's commands and snapshots, free of Qt.

A :class:`Runner` owns one live :class:`~bpstudio.core.session.Session` and answers the
commands a user gives (play, pause, step a mini-batch or a phase, reset, set hyperparameters or
the epoch target, set the speed). :meth:`Runner.tick` does one slice of training and says what
to show. The Qt worker (:mod:`bpstudio.gui.worker`) only calls these methods in its own thread
and turns the results into signals; the CLI and the benchmarks can drive a runner directly.

Frames are paced by what they cost: at "as fast as it goes" a snapshot is due every
:data:`FRAME_SECONDS`, or less often if frames would otherwise take more than
:data:`DRAW_SHARE` of training's time (down to :data:`MIN_FPS` frames a second); at a chosen
speed every mini-batch is shown. What a frame costs is everything training does or waits for
because of it: the recorded batch it shows, its snapshot, the health check, and the wait while
the window draws it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from bpstudio.core.errors import ConfigError, DivergenceError
from bpstudio.core.health import Checkpoints, Diagnosis, check_session
from bpstudio.core.session import Session, build_session
from bpstudio.core.snapshot import Snapshot, take_snapshot

#: Frame interval at full speed when frames are cheap (30 a second).
FRAME_SECONDS = 1 / 30
#: Frames at full speed never come less often than this many a second.
MIN_FPS = 15
#: The share of training's time frames aim to take at full speed. The design allows a tenth;
#: aiming lower leaves room for what frames cost that cannot be timed (the window's other work
#: taking the interpreter lock while training runs, the machine's own drift).
DRAW_SHARE = 0.07
#: Longest a slice of training runs before commands are looked at again.
SLICE_SECONDS = 0.02
#: At full speed the health check (dead network, runaway weights) runs at most this often, not
#: at every frame; at chosen speeds it checks every mini-batch shown.
CHECK_SECONDS = 0.25
#: Speeds the speed control offers, in mini-batches per second; None is "as fast as it goes".
SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 30, 100, 300, 1000, None)
#: The speed a new window starts at: slow enough to follow (the user can raise it).
DEFAULT_SPEED: float | None = 30


class TickResult(NamedTuple):
    """What one slice of training asks the views to do."""

    snapshot: Snapshot | None = None  # a frame to draw
    finished: bool = False  # the epoch target was reached (training paused)
    diverged: str | None = None  # a step diverged (training paused; message)
    diagnosis: Diagnosis | None = None  # training went wrong (paused): what happened, what helps


class BlasPin:
    """Holds the BLAS thread limit of the current run (threadpoolctl, process-wide)."""

    def __init__(self) -> None:
        self._controller = None
        self._limit = None
        self.threads: int | None = None

    def set(self, threads: int) -> None:
        if threads == self.threads:
            return
        from threadpoolctl import ThreadpoolController

        if self._controller is None:
            self._controller = ThreadpoolController()
        self.release()
        self._limit = self._controller.limit(limits=int(threads), user_api="blas")
        self.threads = int(threads)

    def release(self) -> None:
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None
        self.threads = None


class Runner:
    """The live session and the commands that drive it (call every method from one thread)."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.running = False
        self.speed: float | None = DEFAULT_SPEED
        self.blas = BlasPin()
        self.checkpoints = Checkpoints()
        self._reported: str | None = None  # the kind of trouble last reported
        self.phase_stepping = False  # the last command was a phase step
        self._serial = 0
        self._costs_sent = 0
        self._last_snapshot = 0.0
        self._frame_cost = 0.0  # seconds of training time a frame costs (smoothed)
        self._frame_work = 0.0  # training's own work for the last frame (record, snapshot, check)
        self._checked_at = 0.0  # when the last frame at full speed was checked
        self._rate_mark = (0.0, 0)
        self._rate = 0.0

    # -- sessions ---------------------------------------------------------------------------------
    def build(self, spec, *, cancel=None, fit_sizes: bool = True) -> Snapshot:
        """Create a new session from a :class:`~bpstudio.core.run.RunSpec`; its first snapshot.

        The layer sizes' ends are fitted to the data unless ``fit_sizes`` is False.
        """
        self.running = False
        return self.adopt(build_session(spec, cancel=cancel, fit_sizes=fit_sizes))

    def adopt(self, session: Session) -> Snapshot:
        """Take ``session`` (built or opened elsewhere) as the live one; its first snapshot."""
        self.running = False
        self.session = session
        self.blas.set(session.spec.blas_threads)
        self._costs_sent = 0
        self._fresh_checkpoints()
        return self.snapshot()

    def _fresh_checkpoints(self) -> None:
        s = self.session
        self.checkpoints.clear()
        self.checkpoints.offer(s.batches_done, s.network.parameters)
        self._reported = None

    def open_file(self, path, *, data_spec: str | None = None, cancel=None) -> Snapshot:
        """Open a session file as the live session; its first snapshot.

        The data already loaded is reused when the file names the same data (its checksum is
        still compared), so opening a run of the same MNIST does not read the files again.
        """
        from bpstudio.core.session_file import read_manifest

        manifest = read_manifest(path)
        wanted = (data_spec or manifest["data"].get("spec"), manifest["spec"].get("seed"))
        data = None
        current = self.session
        if current is not None and (current.spec.data, current.spec.seed) == wanted:
            data = current.data  # the seed matters too: it splits the digits, makes toy sets
        session = Session.load(path, data=data, data_spec=data_spec, cancel=cancel)
        return self.adopt(session)

    def close(self) -> None:
        self.running = False
        self.blas.release()

    # -- commands ---------------------------------------------------------------------------------
    def play(self) -> bool:
        """Start training; False if there is no session or the epoch target is reached."""
        if self.session is None or self.epochs_reached():
            return False
        self.running = True
        self._rate_mark = (time.perf_counter(), self.session.examples_seen)
        return True

    def pause(self) -> None:
        self.running = False
        self._rate = 0.0
        self.phase_stepping = False  # until the next phase step: views show phases only then

    def step_batch(self) -> None:
        """Pause, then run exactly one mini-batch (or finish the one under way)."""
        self.pause()
        self._require().step_batch(record=True)

    def step_phase(self) -> None:
        """Pause, then run the next phase of backprop."""
        self.pause()
        self._require().step_phase()
        self.phase_stepping = True

    def advance(self, batches: int) -> None:
        """Pause, then run ``batches`` mini-batches at full speed (the last one recorded)."""
        self.pause()
        s = self._require()
        target = s.batches_done + int(batches)
        while s.batches_done < target - 1:
            s.run(target - 1 - s.batches_done)
        if s.batches_done < target:
            s.step_batch(record=True)

    def reset(self) -> None:
        """Pause and re-initialise the weights from the seed; history starts again."""
        self.pause()
        self._require().reset()
        self._costs_sent = 0
        self._fresh_checkpoints()

    def set_hyperparameters(self, values: dict) -> None:
        """η, m, σ, cost (from the next mini-batch on) and ``epochs`` (the stop point)."""
        s = self._require()
        values = dict(values)
        epochs = values.pop("epochs", None)
        if epochs is not None:
            s.set_epochs(epochs)
        if values:
            s.set_hyperparameters(**values)

    def restore_checkpoint(self, batches_done: int | None = None) -> int:
        """Pause and put back the weights and biases kept at mini-batch ``batches_done`` (the
        newest healthy ones by default); returns that mini-batch. Counters and history go on."""
        self.pause()
        s = self._require()
        if s.in_pass:
            s._pass = None  # the half-done batch was computed on the weights being replaced
        batch = self.checkpoints.restore_into(s.network, batches_done)
        self._reported = None
        return batch

    def diagnose(self, snapshot: Snapshot | None = None, *, diverged: bool = False):
        """What went wrong, if anything new did (each kind is reported once until it clears)."""
        s = self._require()
        trace = snapshot.trace if snapshot is not None else None
        d = check_session(s, self.checkpoints, diverged=diverged, trace=trace)
        if d is None:
            self._reported = None
            return None
        if d.kind == self._reported and not diverged:
            return None
        self._reported = d.kind
        return d

    def set_speed(self, batches_per_second: float | None) -> None:
        if batches_per_second is not None and not batches_per_second > 0:
            raise ConfigError("the speed must be a positive number of mini-batches a second")
        self.speed = batches_per_second

    def set_note(self, note: str) -> None:
        self._require().note = str(note)

    def set_view(self, view: dict) -> None:
        self._require().view = dict(view)

    def use_points(self, points) -> Snapshot:
        """Train on the user's own 2-D points from now on (the network's ends follow them).

        The run starts again on the new data; the weights are kept when the layer sizes
        still fit, so the picture changes from where it was, not from scratch.
        """
        from bpstudio.core.data.points import points_to_splits

        data = points_to_splits(points)
        old = self.session
        base = old.spec if old is not None else None
        spec = replace(base, data="points") if base is not None else None
        if spec is None:
            from bpstudio.core.run import RunSpec

            spec = RunSpec(data="points")
        spec = spec.fitted_to(data.input_size, data.num_classes)
        session = Session.from_spec(spec, data)
        if old is not None:
            session._apply_live(old.live_values())
            session.reset()
            if old.sizes == session.sizes:
                session.network.parameters[...] = old.network.parameters
        return self.adopt(session)

    def train_input(self, x: np.ndarray, label: int) -> None:
        """Pause, then one SGD step on one input of the user's (kept with the run)."""
        self.pause()
        self._require().train_on(x, label)

    def trace_input(self, x: np.ndarray, label: int) -> Snapshot:
        """A snapshot whose trace is backprop on one input of the user's, network unchanged."""
        s = self._require()
        self.pause()
        net = s.network.copy()
        x = np.asarray(x, s.dtype).reshape(1, -1)
        y = np.zeros((1, net.sizes[-1]), s.dtype)
        y[0, int(label)] = 1.0
        p = net.begin_batch(x, y, s.eta, record=True)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            p.run_all()  # the update lands on the copy only
        return replace(self.snapshot(), trace=p.trace())

    # -- the loop -------------------------------------------------------------------------------
    def interval_ms(self) -> int:
        """How often :meth:`tick` should be called while running."""
        return 0 if self.speed is None else max(1, round(1000 / self.speed))

    def frame_interval(self) -> float:
        """Seconds between frames at full speed: 1/30 s, longer when frames are costly.

        The interval runs from one snapshot to the next and holds the frame's own cost, so a
        frame costing ``c`` comes every ``c / DRAW_SHARE`` seconds.
        """
        paced = self._frame_cost / DRAW_SHARE
        # A frame comes a little after it is due (the batch it shows runs first): aim 5% early
        # so that frames never come fewer than MIN_FPS a second.
        return min(max(FRAME_SECONDS, paced), 1 / (1.05 * MIN_FPS))

    def report_frame_cost(self, seconds: float) -> None:
        """Tell the runner how long training waited for the last frame to be drawn; with its
        own work for that frame, that is what the frame cost training (smoothed)."""
        cost = max(seconds, 0.0) + self._frame_work
        self._frame_cost += 0.2 * (cost - self._frame_cost)

    def tick(self) -> TickResult:
        """One slice of training while running; says what to draw."""
        s = self.session
        if s is None or not self.running:
            return TickResult()
        try:
            if self.speed is None:
                due = self._last_snapshot + self.frame_interval()
                end = min(time.perf_counter() + SLICE_SECONDS, due)
                # Across epoch ends within the slice: a small network's epoch takes a few
                # milliseconds, and each return to the event loop costs training time.
                while True:
                    s.run(1_000_000, deadline=end)
                    if time.perf_counter() >= end or self.epochs_reached():
                        break
                just_ended = s.batch_in_epoch == 0 and s.batches_done > 0
                if time.perf_counter() < due:
                    return self._maybe_finished()
                frame_started = time.perf_counter()
                if not just_ended and not self.epochs_reached():
                    s.step_batch(record=True)  # the batch a frame shows is recorded
            else:
                frame_started = time.perf_counter()
                s.step_batch(record=True)
        except DivergenceError as exc:
            self.pause()
            d = self.diagnose(diverged=True)
            return TickResult(self.snapshot(), diverged=d.message if d else str(exc), diagnosis=d)
        done = self._maybe_finished()
        if done.finished:
            return done
        snap = self.snapshot()
        d = None
        if self.speed is not None or frame_started - self._checked_at >= CHECK_SECONDS:
            self._checked_at = frame_started
            d = self.diagnose(snap)
        self._frame_work = time.perf_counter() - frame_started
        if d is not None:
            self.pause()
            snap = replace(snap, running=False)
        return TickResult(snap, diagnosis=d)

    def _maybe_finished(self) -> TickResult:
        if self.epochs_reached():
            self.pause()
            return TickResult(self.snapshot(), finished=True)
        return TickResult()

    def epochs_reached(self) -> bool:
        s = self.session
        return s is not None and s.epoch >= s.epochs_target and not s.in_pass

    # -- snapshots --------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """Copy what views need out of the session (the costs since the last snapshot)."""
        s = self._require()
        now = time.perf_counter()
        t0, seen0 = self._rate_mark
        if self.running and now - t0 >= 0.5:
            self._rate = (s.examples_seen - seen0) / (now - t0)
            self._rate_mark = (now, s.examples_seen)
        snap = take_snapshot(
            s,
            serial=self._serial,
            costs_from=min(self._costs_sent, len(s.history.batch_costs)),
            running=self.running,
            examples_per_second=self._rate if self.running else 0.0,
            phase_stepping=self.phase_stepping,
        )
        self._serial += 1
        self._costs_sent = len(s.history.batch_costs)
        self._last_snapshot = now
        return snap

    def resend_all(self) -> Snapshot:
        """A snapshot carrying the whole cost history (for a view that starts afresh)."""
        self._costs_sent = 0
        return self.snapshot()

    def _require(self) -> Session:
        if self.session is None:
            raise ConfigError("no session has been loaded yet")
        return self.session
