""" "Why backprop is fast": the whole gradient by backprop and by finite differences, timed.

Backprop gets every ∂C/∂w and ∂C/∂b from one forward and one backward pass. Central finite
differences need two forward passes per parameter, C(p + ε) and C(p − ε): for the book's
[784, 30, 10] network that is 47,720 forward passes against two. The dialog runs both on one
mini-batch in a background :class:`QThread` (the check takes about a second there), with
progress and cancel, and shows the times, their ratio and the largest disagreement.

Threading: a :class:`GradientCheckWorker` lives in the thread and reports through queued
signals; Cancel sets a :class:`threading.Event` that the core polls (``should_cancel``) and
that makes it raise :class:`~bpstudio.core.errors.Cancelled`. Closing the dialog cancels the
run and joins the thread.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.errors import Cancelled, ConfigError
from bpstudio.core.gradcheck import EPSILON, GradientCheck, check_gradient
from bpstudio.core.network import Network
from bpstudio.gui.gc_guard import MainThreadCollector
from bpstudio.gui.numbers import MUTED, format_factor, format_number


class GradientCheckWorker(QObject):
    """Runs :func:`check_gradient` over every parameter in its thread; reports by signals."""

    progress = Signal(int, int)
    result_ready = Signal(object)
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, network: Network, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self._network, self._x, self._y = network, x, y
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the run to stop (thread-safe); it stops within a few hundred parameters."""
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        result, message = None, None
        try:
            result = check_gradient(
                self._network,
                self._x,
                self._y,
                progress=self.progress.emit,
                should_cancel=self._cancel.is_set,
            )
        except Cancelled:
            pass
        except Exception as exc:  # reported to the dialog, never lost in the thread
            message = f"{type(exc).__name__}: {exc}"
        # Hand the worker back to the GUI thread before this thread ends, so that it is deleted
        # there; the signals below are queued to the dialog either way.
        self.moveToThread(QCoreApplication.instance().thread())
        if message is not None:
            self.failed.emit(message)
        elif result is None:
            self.cancelled.emit()
        else:
            self.result_ready.emit(result)


class WhyFastDialog(QDialog):
    """Time backprop against finite differences over every parameter of a network.

    Parameters
    ----------
    network : Network
        The network to check (copied to float64; never changed).
    x : (m, n_1) array
        One mini-batch of inputs, one example per row.
    y : (m, n_L) array
        Its one-hot desired outputs.
    parent : QWidget, optional
    """

    result_ready = Signal(object)
    cancelled = Signal()

    def __init__(self, network: Network, x, y, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whyFastDialog")
        self.setWindowTitle("Why backprop is fast")
        self._network = network.as_dtype(np.float64)
        self._x, self._y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        self._thread: QThread | None = None
        self._worker: GradientCheckWorker | None = None
        self._last_thread: QThread | None = None  # kept (finished) until the next run
        self.finished_result: GradientCheck | None = None
        self._build()

    @classmethod
    def from_snapshot(cls, snapshot, parent: QWidget | None = None) -> WhyFastDialog:
        """A dialog for a snapshot's current parameters and the mini-batch of its trace.

        Raises
        ------
        ConfigError
            The snapshot has no trace yet (no mini-batch has run).
        """
        if snapshot.trace is None:
            raise ConfigError("run a mini-batch first: the check needs one to compute the cost")
        net = Network(snapshot.sizes, snapshot.activation, snapshot.cost, dtype=np.float64)
        for dst, src in zip(net.weights, snapshot.weights):
            dst[...] = src
        for dst, src in zip(net.biases, snapshot.biases):
            dst[:, 0] = src
        return cls(net, snapshot.trace.x, snapshot.trace.y, parent)

    def _build(self) -> None:
        n = self._network.num_parameters
        intro = QLabel(
            f"Compute all {n:,} partial derivatives ∂C/∂w and ∂C/∂b of the network "
            f"{self._network.sizes} twice: by backpropagation, and by central finite differences "
            f"(C(p + ε) − C(p − ε)) / 2ε with ε = {EPSILON:g}, one parameter at a time."
        )
        intro.setWordWrap(True)
        self._whole_batch = QCheckBox(f"use the whole mini-batch (m = {len(self._x)})")
        self._whole_batch.setObjectName("whyFastWholeBatch")
        self._run_button = QPushButton("Run")
        self._run_button.setObjectName("whyFastRun")
        self._run_button.clicked.connect(self.run)
        self._run_button.setDefault(True)
        self._cancel_button = QPushButton("Cancel")
        self._cancel_button.setObjectName("whyFastCancel")
        self._cancel_button.setEnabled(False)
        self._cancel_button.clicked.connect(self.cancel)
        self._progress = QProgressBar()
        self._progress.setObjectName("whyFastProgress")
        self._status = QLabel("Default: the first example of the batch only (m = 1).")
        self._status.setObjectName("whyFastStatus")
        self._status.setWordWrap(True)
        self._results = QLabel()
        self._results.setObjectName("whyFastResults")
        self._results.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self._whole_batch)
        buttons.addStretch(1)
        buttons.addWidget(self._run_button)
        buttons.addWidget(self._cancel_button)
        close = QPushButton("Close")
        close.setObjectName("whyFastClose")
        close.clicked.connect(self.reject)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        for w in (self._progress, self._status, self._results):
            layout.addWidget(w)
        layout.addStretch(1)
        self.resize(600, 440)

    # -- API ------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def status_text(self) -> str:
        return self._status.text()

    def run(self) -> None:
        """Start the check in a background thread (does nothing while one is running)."""
        if self._thread is not None:
            return
        m = len(self._x) if self._whole_batch.isChecked() else 1
        self.finished_result = None
        self._results.setText("")
        self._progress.setRange(0, self._network.num_parameters)
        self._progress.setValue(0)
        self._status.setText(f"Running on m = {m} example{'s' if m > 1 else ''} …")
        self._run_button.setEnabled(False)
        self._whole_batch.setEnabled(False)
        self._cancel_button.setEnabled(True)
        worker = GradientCheckWorker(self._network, self._x[:m], self._y[:m])
        MainThreadCollector.install()  # garbage is collected in the GUI thread, not there
        thread = QThread()
        thread.setObjectName("whyFastThread")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.result_ready.connect(self._on_result)
        worker.cancelled.connect(self._on_cancelled)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start()

    def show_result(self, result: GradientCheck) -> None:
        """Show a finished check's times, factors and agreement (what a run ends with)."""
        self.finished_result = result
        self._progress.setValue(self._progress.maximum())
        self._status.setText("Done.")
        self._results.setText(result_html(result))

    def cancel(self) -> None:
        """Ask a running check to stop; the dialog then says "Cancelled"."""
        if self._worker is not None:
            self._worker.cancel()
            self._status.setText("Cancelling …")

    @property
    def worker_thread(self) -> QThread | None:
        """The background thread of the run under way, or else of the last run."""
        return self._thread if self._thread is not None else self._last_thread

    # -- slots ----------------------------------------------------------------------------------
    def _from_current_run(self) -> bool:
        # A report queued by an earlier run (stopped when the dialog closed) must not touch a
        # run started since.
        return self._worker is None or self.sender() is self._worker

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self._worker is not None and self._from_current_run():
            self._progress.setMaximum(total)
            self._progress.setValue(done)

    @Slot(object)
    def _on_result(self, result: GradientCheck) -> None:
        if not self._from_current_run():
            return
        self._stop_thread()
        self.show_result(result)
        self.result_ready.emit(result)

    @Slot()
    def _on_cancelled(self) -> None:
        if not self._from_current_run():
            return
        self._stop_thread()
        self._status.setText("Cancelled")
        self.cancelled.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if not self._from_current_run():
            return
        self._stop_thread()
        self._status.setText(f"The check failed: {message}")

    # -- the thread's end -----------------------------------------------------------------------
    def _stop_thread(self) -> None:
        """Cancel a run under way, quit its thread and wait for it (safe to call twice)."""
        thread, worker = self._thread, self._worker
        if worker is not None:
            worker.cancel()
        if thread is not None:
            thread.quit()
            thread.wait()
            self._last_thread = thread
        # Dropped only after the wait: the worker must not be deleted while its run() returns.
        self._thread = self._worker = None
        self._run_button.setEnabled(True)
        self._whole_batch.setEnabled(True)
        self._cancel_button.setEnabled(False)

    def done(self, code: int) -> None:  # accept() and reject() end here
        self._stop_thread()
        super().done(code)

    def closeEvent(self, event) -> None:
        self._stop_thread()
        super().closeEvent(event)


#: A measured factor within this ratio of the predicted one counts as "about the same".
SAME_WITHIN = 1.1

_WHY = {
    "smaller": (
        "The measured factor is smaller than that: passes this short are dominated by fixed "
        "per-call costs, which backprop's two passes pay too. It grows with the network, which "
        "is why backprop made training large networks possible."
    ),
    "larger": (
        "The measured factor is larger than that: each of the finite differences' forward passes "
        "pays the fixed cost of a call on its own, while backprop's passes run as a few large "
        "array operations."
    ),
    "about the same": (
        "The measured factor is about the same as that: here the cost of a gradient is well "
        "counted in forward passes."
    ),
}


def predicted_factor(r: GradientCheck) -> float:
    """How many times faster backprop should be by counting forward passes: 2n against ~2."""
    return float(r.total_parameters)


def comparison(measured: float, predicted: float) -> str:
    """ "larger", "smaller" or "about the same" (within :data:`SAME_WITHIN`) of two factors."""
    if measured > predicted * SAME_WITHIN:
        return "larger"
    if measured * SAME_WITHIN < predicted:
        return "smaller"
    return "about the same"


def result_html(r: GradientCheck) -> str:
    """The times, their ratio against the predicted one, the largest difference, as rich text."""
    n, m = r.total_parameters, r.batch_size
    predicted = predicted_factor(r)
    rows = [
        ("parameters", f"{n:,}"),
        ("examples in the batch (m)", f"{m}"),
        ("backprop (1 forward + 1 backward pass)", _seconds(r.backprop_seconds)),
        (f"finite differences ({2 * n:,} forward passes)", _seconds(r.numeric_seconds_all)),
        ("backprop is faster by a factor of", format_factor(r.speed_ratio)),
        ("counting forward passes predicts", format_factor(predicted)),
        ("largest relative difference", format_number(r.max_relative_error, 3)),
    ]
    table = "".join(
        f"<tr><td style='padding-right:16px'>{a}</td><td align='right'><code>{b}</code></td></tr>"
        for a, b in rows
    )
    why = (
        "Backprop gets all the partial derivatives from one forward pass and one backward pass "
        "over the batch, which together cost about as much as two forward passes. Finite "
        "differences need two forward passes, C(p + ε) and C(p − ε), for <i>each</i> of the "
        f"{n:,} parameters: {2 * n:,} forward passes in all, about {n:,} times as much work. "
        + _WHY[comparison(r.speed_ratio, predicted)]
        + " The two gradients agree: the check that backprop is right."
    )
    return (
        f"<table cellspacing='0' cellpadding='2'>{table}</table><p style='color:{MUTED}'>{why}</p>"
    )


def _seconds(s: float) -> str:
    """Seconds as "12.3 ms" below a second, else "1.23 s" (through :func:`format_number`)."""
    if s < 1:
        return f"{format_number(s * 1e3, 3)} ms"
    return f"{format_number(s, 3)} s"
