"""The main window: the network in the centre, docks for controls, plots and inspection.

It forwards user intent to the :class:`TrainingController` and feeds the one GUI model
(:class:`~bpstudio.gui.model.ViewModel`: snapshot, selection, node quantity) that the panels
follow; it never touches the live network. Each snapshot is drawn as it arrives: while training
runs the worker paces snapshots by what frames cost and waits until each is painted (see
``FrameGate``); plots and the status bar are redrawn a few times a second.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QAbstractEventDispatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from bpstudio.core.errors import BpstudioError
from bpstudio.core.probe import saturation
from bpstudio.core.run import RunSpec
from bpstudio.core.snapshot import Snapshot
from bpstudio.gui.controls import ControlsPanel, HyperparametersPanel
from bpstudio.gui.data_picker import (
    MnistDialog,
    fill_data_combo,
    needs_mnist_download,
    remember_data_spec,
)
from bpstudio.gui.diagnosis import show_diagnosis
from bpstudio.gui.equations import EquationsPanel
from bpstudio.gui.inspector import InspectorPanel
from bpstudio.gui.model import ViewModel
from bpstudio.gui.network_view import NetworkView
from bpstudio.gui.plots import PlotsPanel
from bpstudio.gui.session_files import SessionFiles, add_note_dock, dropped_session
from bpstudio.gui.view_docks import add_view_docks, connect_view_panels
from bpstudio.gui.whyfast import WhyFastDialog
from bpstudio.gui.window_parts import (
    add_docks,
    add_status_labels,
    add_toolbar_and_menus,
    make_actions,
    reset_layout,
)
from bpstudio.gui.window_render import epoch_text, hover_text, node_values, status_texts
from bpstudio.gui.window_state import (
    apply_view_state,
    restore_settings,
    save_settings,
    view_state,
)
from bpstudio.gui.worker import TrainingController

PLOT_SECONDS = 0.5  # while training runs, redraw the plots at most this often
STATUS_SECONDS = 0.25  # … and the status bar
# At "as fast as it goes" every redraw costs training time (the plots' redraw about 12 ms, 1.5%
# of training's time at one a second): less often there.
FULL_SPEED_PLOT_SECONDS = 2.0
FULL_SPEED_STATUS_SECONDS = 0.5
NODE_LABELS = {
    "delta": "δ = ∂C/∂z (mean over mini-batch)",
    "a": "a (mean over mini-batch)",
    "z": "z (mean over mini-batch)",
    "sigma_prime": "σ′(z) (mean over mini-batch)",
}


class MainWindow(QMainWindow):
    """bpstudio's window. Build it with :func:`bpstudio.gui.create_main_window`."""

    # GUI-thread signals (the worker's arrive queued; tests and scripts wait on these).
    session_loaded = Signal(object)  # the first Snapshot of a new, reset or opened session
    snapshot_received = Signal(object)
    running_changed = Signal(bool)
    diverged = Signal(str)
    error_shown = Signal(str)

    def __init__(
        self, spec: RunSpec, parent: QWidget | None = None, *, open_file: str | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.spec = spec
        self.model = ViewModel(self)
        self.show_saturation = False
        self.last_message: str | None = None
        self._dirty = False
        self._frames_gated = False
        self._plots_drawn = 0.0
        self._status_drawn = 0.0
        self._arch: tuple | None = None
        self._closed = False
        self.controller = TrainingController(self)
        app = QApplication.instance()
        if app is not None:  # never leave the training thread running when the app quits
            app.aboutToQuit.connect(self.controller.shutdown)
        self._make_actions()
        self._make_widgets()
        self.files = SessionFiles(self)
        self._connect()
        self._restore_settings()
        self.setAcceptDrops(True)
        self.files.update_title()
        if open_file:
            self.statusBar().showMessage(f"Opening {open_file}…")
            self.controller.build(spec)
            self.files.open(open_file, confirmed=True)
        else:
            self.statusBar().showMessage(f"Loading {spec.data}…")
            self.controller.build(spec)

    @property
    def snapshot(self) -> Snapshot | None:
        """The newest snapshot (the model's)."""
        return self.model.snapshot

    @property
    def selection(self) -> tuple | None:
        return self.model.selection

    @property
    def node_quantity(self) -> str:
        return self.model.node_quantity

    # -- construction ------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        c = self.controller
        self.actions = make_actions(
            self,
            {
                "actionOpen": lambda: self.files.open_dialog(),
                "actionSave": lambda: self.files.save(),
                "actionSaveAs": lambda: self.files.save_as(),
                "actionExport": self._on_export,
                "actionPlay": c.play,
                "actionPause": c.pause,
                "actionPlayPause": self._toggle_play,
                "actionStepBatch": c.step_batch,
                "actionStepPhase": c.step_phase,
                "actionReset": c.reset,
                "actionWhyFast": self._on_why_fast,
                "actionQuit": self.close,
            },
        )

    def _make_widgets(self) -> None:
        self.view = NetworkView(self)
        self.setCentralWidget(self.view)
        self.controls = ControlsPanel(self.actions, self)
        self.hyper = HyperparametersPanel(self.spec, self)
        self.plots = PlotsPanel(self)
        self.inspector = InspectorPanel(self.model, self)
        self.equations = EquationsPanel(self.model, self)
        self.why_fast: WhyFastDialog | None = None
        panels = {
            "controls": self.controls,
            "hyper": self.hyper,
            "inspector": self.inspector,
            "equations": self.equations,
            "plots": self.plots,
        }
        self.docks = add_docks(self, panels)
        self.note = add_note_dock(self, self.docks)
        self.view_panels = add_view_docks(self, self.model, self.docks)
        add_toolbar_and_menus(self, self.actions, self.docks, lambda p: self.files.open(p))
        self.status = add_status_labels(self)
        fill_data_combo(self.hyper.fields["data"])
        self._mnist_dialog: MnistDialog | None = None

    def _connect(self) -> None:
        w = self.controller.worker
        # Explicitly queued: these slots touch widgets and must run in the GUI thread, whatever
        # PySide would infer from the callable (a wrapped method can otherwise be called directly
        # in the worker's thread).
        queued = Qt.ConnectionType.QueuedConnection
        w.snapshot_ready.connect(self._on_snapshot, queued)
        w.session_ready.connect(self._on_session_ready, queued)
        w.running_changed.connect(self._on_running_changed, queued)
        w.diverged.connect(self._on_diverged, queued)
        w.diagnosed.connect(self._on_diagnosed, queued)
        w.failed.connect(self._on_failed, queued)
        w.epochs_done.connect(self._on_epochs_done, queued)
        self.actions["actionFit"].triggered.connect(self.view.fit)
        self.actions["actionRebuild"].triggered.connect(self._on_rebuild)
        self.controls.speed_changed.connect(self.controller.set_speed)
        self.controls.node_quantity_changed.connect(self.model.set_node_quantity)
        self.controls.edge_filter_changed.connect(self.view.set_edge_filter)
        self.controls.saturation_toggled.connect(self._on_saturation)
        self.hyper.hyperparameters_changed.connect(
            lambda values: self.controller.set_hyperparameters(**values)
        )
        self.hyper.rebuild_requested.connect(self._on_rebuild)
        self.model.node_quantity_changed.connect(lambda _: self.render_now())
        self.model.selection_changed.connect(self._on_selection_changed)
        self.view.weight_selected.connect(lambda l, j, k: self.model.set_selection(("w", l, j, k)))
        self.view.neuron_selected.connect(lambda l, j: self.model.set_selection(("n", l, j)))
        self.view.selection_cleared.connect(lambda: self.model.set_selection(None))
        self.view.set_tooltip_provider(self.hover_text)
        self.view.painted.connect(self._on_painted)
        self.note.textChanged.connect(self.files.mark_modified)
        connect_view_panels(self, self.view_panels)
        self._painted_serial: int | None = None
        self._idle_dispatcher = QAbstractEventDispatcher.instance()
        self._idle_dispatcher.aboutToBlock.connect(self._on_idle)

    def _restore_settings(self) -> None:
        # Without a remembered layout the first show lays the docks out exactly as View →
        # Reset layout does (sizes given before the window is shown are only approximate).
        self._layout_pending = not restore_settings(self)
        if self._layout_pending:
            self.resize(1500, 900)

    # -- user intent -------------------------------------------------------------------------------
    def _toggle_play(self) -> None:
        if self.snapshot is not None and self.snapshot.running:
            self.controller.pause()
        else:
            self.controller.play()

    def confirm(self, text: str) -> bool:
        """Ask a yes/no question (tests replace this method)."""
        answer = QMessageBox.question(self, "bpstudio", text)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_discard(self, doing: str) -> bool:
        """True if there is no unsaved progress, or the user agrees to lose it."""
        snap = self.snapshot
        if not self.files.modified or snap is None or snap.batches_done == 0:
            return True
        return self.confirm(f"{doing} discards the training not saved yet. Continue?")

    def locate_data(self) -> str | None:
        """Ask where a session's data is now: an MNIST folder (or the book's pickle)."""
        folder = QFileDialog.getExistingDirectory(self, "The folder of the four MNIST files")
        return f"mnist:{folder}" if folder else None

    def _on_rebuild(self, *_):
        try:
            spec = self.hyper.spec()
        except BpstudioError as exc:
            self.show_message("Network and hyperparameters", str(exc), QMessageBox.Icon.Warning)
            return
        if needs_mnist_download(spec.data):  # offer the download, or a folder that has it
            self._mnist_dialog = MnistDialog(self)
            self._mnist_dialog.chosen.connect(self._on_mnist_chosen)
            self._mnist_dialog.open()
            return
        snap = self.snapshot
        if snap is not None and snap.batches_done > 0:
            if not self.confirm(
                "Rebuilding creates a new network and discards the training so far. Continue?"
            ):
                return
        self.spec = spec
        self.statusBar().showMessage(f"Loading {spec.data}…")
        self.controller.build(spec)

    def _on_mnist_chosen(self, spec: str) -> None:
        fill_data_combo(self.hyper.fields["data"], spec)
        self._on_rebuild()

    def _on_saturation(self, on: bool) -> None:
        self.show_saturation = on
        self.render_now()

    def _on_selection_changed(self, selection) -> None:
        if selection is None:
            self.view.clear_selection()
        elif selection[0] == "w":
            self.view.select_weight(*selection[1:])
        else:
            self.view.select_neuron(*selection[1:])

    def note_text(self) -> str:
        return self.note.toPlainText()

    def view_state(self) -> dict:
        """What a session file keeps of the window: the selection and what the view shows."""
        return view_state(self)

    def _on_export(self) -> None:
        from bpstudio.gui.window_exports import open_export_dialog

        open_export_dialog(self)

    # -- files dropped on the window ---------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if dropped_session(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        path = dropped_session(event)
        if path is not None:
            event.acceptProposedAction()
            self.files.open(path)

    # -- from the worker ---------------------------------------------------------------------------
    def _on_session_ready(self, snap: Snapshot) -> None:
        self.plots.cost.clear_data()
        self.plots.accuracy.set_records(())
        self.spec = snap.spec
        self.hyper.set_spec(
            snap.spec,
            live={
                "eta": snap.eta,
                "mini_batch_size": snap.mini_batch_size,
                "activation": snap.activation,
                "cost": snap.cost,
            },
        )
        self.statusBar().showMessage(f"{snap.data_name}: network {list(snap.sizes)}", 5000)
        remember_data_spec(snap.spec.data)  # what was typed stays in the list
        fill_data_combo(self.hyper.fields["data"], snap.spec.data)
        opened = self.files._opening is not None
        self.files.session_loaded(snap)
        self.note.blockSignals(True)
        self.note.setPlainText(snap.note)
        self.note.blockSignals(False)
        self.model.set_snapshot(snap, new_session=True)
        self._on_snapshot(snap, emit=False)
        if opened:
            apply_view_state(self, snap.view or {})
            if snap.note:
                self.docks["noteDock"].show()
                self.docks["noteDock"].raise_()
        self.render_now()
        self.session_loaded.emit(snap)

    def _on_snapshot(self, snap: Snapshot, emit: bool = True) -> None:
        if emit:
            self.model.set_snapshot(snap)
        self.files.progressed(snap)
        self.plots.cost.add_costs(snap.first_cost_index, snap.new_costs, draw=False)
        if not snap.running:
            self.render_now()
        elif self._frames_gated:
            # While training runs the worker waits until each snapshot is on screen
            # (FrameGate, _on_painted), so the GUI never falls behind.
            self.render_now()
        else:
            self._dirty = True  # hidden: drawn when the window shows again
        self.snapshot_received.emit(snap)

    def _on_painted(self) -> None:
        if self.snapshot is not None and not self._dirty:
            self._painted_serial = self.snapshot.serial

    def _on_idle(self) -> None:
        # The GUI thread is about to sleep: this frame (the network, and the plots, colour bars
        # and status painted in the same pass) is done, so the worker may train on. Opening
        # the gate any earlier lets the rest of the frame fight the worker for the interpreter
        # lock, and each such fight costs both threads up to Python's switch interval (5 ms).
        if self._painted_serial is not None:
            self.controller.frames.drawn(self._painted_serial)
            self._painted_serial = None

    def _on_running_changed(self, running: bool) -> None:
        self.actions["actionPlay"].setEnabled(not running)
        self.actions["actionPause"].setEnabled(running)
        self.running_changed.emit(running)

    def _on_diverged(self, message: str) -> None:
        self.show_message(
            "Training diverged", message + "\n\nTraining is paused.", QMessageBox.Icon.Warning
        )
        self.diverged.emit(message)

    def _on_diagnosed(self, diagnosis) -> None:
        """Training went wrong: say what happened and offer what helps, as buttons."""
        self.diagnosis_box = show_diagnosis(self, diagnosis)
        self.last_message = diagnosis.message
        self.statusBar().showMessage(diagnosis.message.split(". ")[0], 15000)
        if diagnosis.kind == "diverged":
            self.diverged.emit(diagnosis.message)

    def _on_failed(self, message: str) -> None:
        snap = self.snapshot
        if snap is not None and snap.spec is not None:  # the form shows the session it has
            self.spec = snap.spec
            self.hyper.set_spec(snap.spec)
        self.show_message("bpstudio", message, QMessageBox.Icon.Critical)
        self.error_shown.emit(message)

    def _on_epochs_done(self) -> None:
        snap = self.snapshot
        if snap is not None:
            self.statusBar().showMessage(
                f"Finished: {epoch_text(snap.epoch, snap.epochs_target)}. Raise Epochs to train "
                "on; stepping goes on as before.",
                15000,
            )

    def show_message(self, title: str, text: str, icon) -> None:
        """Show a message without blocking (the app keeps running); remembered for tests."""
        self.last_message = text
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("messageBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(text.splitlines()[0], 10000)

    # -- drawing -----------------------------------------------------------------------------------
    def render_now(self) -> None:
        """Draw the newest snapshot now (the network, its overlays, the status and plots)."""
        snap = self.snapshot
        if snap is None:
            return
        self._dirty = False
        arch = (snap.sizes, snap.image_shape)
        if arch != self._arch:
            self._arch = arch
            self.view.set_architecture(snap.sizes, snap.image_shape)
        trace = snap.trace
        phase = self._shown_phase(snap)
        if phase is not None and phase.kind == "gradients":  # BP3, BP4 just computed ∂C/∂w
            self.view.set_weights(trace.nabla_w, quantity="∂C/∂w")
        else:
            self.view.set_weights(snap.weights)
        key = self.model.node_quantity
        values, neutral = node_values(snap, key)
        # σ′(z) ≥ 0 always, and a ≥ 0 for sigmoid and ReLU: those get a one-signed map.
        signed = key in ("delta", "z") or (key == "a" and snap.activation in ("tanh", "linear"))
        # Deeper layers' δ are often 10-100x smaller than the output's: one scale per layer
        # keeps them from all showing the zero colour.
        per_layer = key == "delta" and snap.num_layers > 3
        self.view.set_node_values(
            values,
            NODE_LABELS[key],
            neutral,
            hold=snap.running,
            signed=signed,
            per_layer=per_layer,
        )
        self.view.set_input_image(None if trace is None else trace.x[0])
        self._render_phase(snap)
        self._render_saturation(snap)
        now = time.monotonic()
        full_speed = self.controls.speed_value() is None
        every = FULL_SPEED_STATUS_SECONDS if full_speed else STATUS_SECONDS
        if not snap.running or now - self._status_drawn >= every:
            self._status_drawn = now
            self._render_status(snap)
        every = FULL_SPEED_PLOT_SECONDS if full_speed else PLOT_SECONDS
        if not snap.running or now - self._plots_drawn >= every:
            self._plots_drawn = now
            self.plots.cost.flush()
            self.plots.accuracy.set_records(snap.epoch_records)

    def _render_phase(self, snap: Snapshot) -> None:
        self.view.set_phase(self._shown_phase(snap))

    @staticmethod
    def _shown_phase(snap: Snapshot):
        """The phase the view shows: the last one a phase step ran (the update too)."""
        trace = snap.trace
        stepping = snap.phase_stepping and not snap.running
        return trace.last_phase if trace is not None and stepping else None

    def _render_saturation(self, snap: Snapshot) -> None:
        trace = snap.trace
        if not self.show_saturation or trace is None or trace.z[-1] is None:
            self.view.set_saturation_marks(None)
            return
        self.view.set_saturation_marks(saturation(trace, trace.activation))

    def _render_status(self, snap: Snapshot) -> None:
        cost = self.plots.cost  # the last mini-batch's cost, whichever snapshot brought it
        for name, text in status_texts(snap, cost.last_cost if cost.batches else None).items():
            self.status[name].show_text(text, may_narrow=not snap.running)

    def hover_text(self, hit: tuple) -> str:
        """Hover text: w and ∂C/∂w of an edge, or a neuron's δ, from the newest snapshot."""
        return hover_text(self.view.default_tooltip(hit), self.snapshot, hit)

    def _on_why_fast(self) -> None:
        if self.snapshot is None:
            return
        if self.snapshot.running:
            self.controller.pause()
        try:
            dialog = WhyFastDialog.from_snapshot(self.snapshot, self)
        except BpstudioError as exc:
            self.show_message("Why backprop is fast", str(exc), QMessageBox.Icon.Information)
            return
        if self.why_fast is not None:
            self.why_fast.close()
        self.why_fast = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        dialog.show()
        dialog.run()

    # -- closing -----------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._layout_pending:
            self._layout_pending = False
            reset_layout(self, self.docks)
        self._frames_gated = True
        self.controller.frames.set_open(False)
        if self._dirty:
            self.render_now()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._frames_gated = False
        self.controller.frames.set_open(True)
        super().hideEvent(event)

    def discard_and_close(self) -> bool:
        """Close without asking about unsaved progress (scripts, screenshots)."""
        self.files.modified = False
        return self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.controller.thread.isRunning() and not self.confirm_discard("Closing"):
            event.ignore()
            return
        self._frames_gated = False
        self.controller.frames.set_open(True)
        if self._idle_dispatcher is not None:
            self._idle_dispatcher.aboutToBlock.disconnect(self._on_idle)
            self._idle_dispatcher = None
        if self.why_fast is not None:
            self.why_fast.close()
        if self._mnist_dialog is not None:
            self._mnist_dialog.stop()
        if not self._closed:
            self._closed = True
            save_settings(self)
        self.controller.shutdown()
        super().closeEvent(event)
        # Once Qt has deleted the window, free its Python side (and its arrays) at once, not
        # whenever the collector next runs: the two sides hold each other in cycles.
        self.destroyed.connect(_collect_soon)


def _collect_soon(*_) -> None:
    QTimer.singleShot(0, gc.collect)
