"""The control and hyperparameter panels: they only forward what the user asks for."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.data import DATASET_CHOICES
from bpstudio.core.errors import ConfigError
from bpstudio.core.run import FIELDS, RunSpec
from bpstudio.core.runner import DEFAULT_SPEED, SPEEDS

#: What the nodes can show, as (label in the menu, key).
NODE_QUANTITIES = (
    ("δ  error (∂C/∂z)", "delta"),
    ("a  activation", "a"),
    ("z  weighted input", "z"),
    ("σ′(z)", "sigma_prime"),
)
#: The edge filter's choices: the strongest fraction of edges by |w|.
EDGE_FILTERS = (
    ("all edges", None),
    ("strongest 20%", 0.2),
    ("strongest 5%", 0.05),
    ("strongest 1%", 0.01),
)


def _speed_label(speed: float | None) -> str:
    return "as fast as it goes" if speed is None else f"{speed:g} mini-batches/s"


class ControlsPanel(QWidget):
    """Play, pause, step and reset buttons, the speed, and what the view shows."""

    speed_changed = Signal(object)  # mini-batches per second, or None for full speed
    node_quantity_changed = Signal(str)
    edge_filter_changed = Signal(object)
    saturation_toggled = Signal(bool)

    def __init__(self, actions: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("controlsPanel")
        layout = QVBoxLayout(self)
        buttons = QGridLayout()
        names = ("actionPlay", "actionPause", "actionStepBatch", "actionStepPhase", "actionReset")
        for i, name in enumerate(names):
            button = QToolButton(self)
            button.setDefaultAction(actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button, i // 2, i % 2)
        layout.addLayout(buttons)

        self.speed = QSlider(Qt.Orientation.Horizontal, self)
        self.speed.setObjectName("speedSlider")
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(SPEEDS.index(DEFAULT_SPEED))
        self.speed.setToolTip("From one mini-batch per second to as fast as it goes")
        self.speed_text = QLabel(_speed_label(DEFAULT_SPEED), self)
        self.speed.valueChanged.connect(self._on_speed)
        form = QFormLayout()
        form.addRow("Speed", self.speed)
        form.addRow("", self.speed_text)

        self.quantity = QComboBox(self)
        self.quantity.setObjectName("nodeQuantity")
        for label, key in NODE_QUANTITIES:
            self.quantity.addItem(label, key)
        self.quantity.currentIndexChanged.connect(
            lambda _: self.node_quantity_changed.emit(self.quantity.currentData())
        )
        form.addRow("Nodes show", self.quantity)

        self.edges = QComboBox(self)
        self.edges.setObjectName("edgeFilter")
        for label, fraction in EDGE_FILTERS:
            self.edges.addItem(label, fraction)
        self.edges.currentIndexChanged.connect(
            lambda _: self.edge_filter_changed.emit(self.edges.currentData())
        )
        form.addRow("Edges", self.edges)

        self.saturation = QCheckBox("mark saturated neurons (σ′ ≈ 0)", self)
        self.saturation.setObjectName("saturationToggle")
        self.saturation.toggled.connect(self.saturation_toggled)
        form.addRow("", self.saturation)
        layout.addLayout(form)
        layout.addStretch(1)

    def speed_value(self) -> float | None:
        """The chosen speed in mini-batches a second (None: as fast as it goes)."""
        return SPEEDS[self.speed.value()]

    def _on_speed(self, index: int) -> None:
        speed = SPEEDS[index]
        self.speed_text.setText(_speed_label(speed))
        self.speed_changed.emit(speed)


class HyperparametersPanel(QWidget):
    """The run description as a form: data, layer sizes, seed, precision and BLAS threads
    (rebuild the network), and η, m, σ, cost, epochs (live, from the next mini-batch on).

    Every row comes from :data:`bpstudio.core.run.FIELDS` (its label and help); ``spec()``
    reads the form as a :class:`~bpstudio.core.run.RunSpec` and ``set_spec`` shows one.
    """

    rebuild_requested = Signal(object)
    hyperparameters_changed = Signal(dict)

    def __init__(self, spec: RunSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hyperPanel")
        form = QFormLayout(self)
        self.fields: dict[str, QWidget] = {}
        for f in FIELDS:
            widget = self._make_widget(f)
            widget.setToolTip(f.help[0].upper() + f.help[1:])
            self.fields[f.name] = widget
            if f.name == "blas_threads":
                self.apply = QPushButton("Rebuild network", self)
                self.apply.setObjectName("rebuildButton")
                self.apply.setToolTip(
                    "Load the data and create a new network with these settings (Ctrl+B)"
                )
                self.apply.clicked.connect(self._on_rebuild)
            form.addRow(f.label, widget)
            if f.name == "blas_threads":
                form.addRow("", self.apply)
        # The names the rest of the window and the tests know these widgets by.
        self.data, self.sizes, self.seed = (self.fields[k] for k in ("data", "sizes", "seed"))
        self.activation, self.cost = self.fields["activation"], self.fields["cost"]
        self.eta, self.batch = self.fields["eta"], self.fields["mini_batch_size"]
        self.epochs = self.fields["epochs"]
        note = QLabel("η, m, σ, cost and epochs apply from the next mini-batch.", self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #666;")
        form.addRow(note)
        self.set_spec(spec)
        self.activation.currentTextChanged.connect(lambda v: self._changed(activation=v))
        self.cost.currentTextChanged.connect(lambda v: self._changed(cost=v))
        self.eta.valueChanged.connect(lambda v: self._changed(eta=v))
        self.batch.valueChanged.connect(lambda v: self._changed(mini_batch_size=v))
        self.epochs.valueChanged.connect(lambda v: self._changed(epochs=v))

    def _make_widget(self, f) -> QWidget:
        name = f.name
        if name == "data":
            w = QComboBox(self)
            w.setEditable(True)
            w.addItems(DATASET_CHOICES)
            w.lineEdit().returnPressed.connect(w.clearFocus)
        elif f.choices:
            w = QComboBox(self)
            w.addItems(f.choices)
        elif name == "eta":
            w = QDoubleSpinBox(self)
            w.setDecimals(4)
            w.setRange(0.0001, 1e6)
        elif name in ("mini_batch_size", "epochs", "blas_threads"):
            w = QSpinBox(self)
            w.setRange({"epochs": 0}.get(name, 1), {"blas_threads": 64}.get(name, 1_000_000))
        else:  # sizes, seed: free text, checked when the network is rebuilt
            w = QLineEdit(self)
            if name == "sizes":
                w.setPlaceholderText("default for the data, e.g. 784 30 10")
            w.returnPressed.connect(w.clearFocus)
        if isinstance(w, QSpinBox | QDoubleSpinBox):
            w.setKeyboardTracking(False)  # apply a typed value once, not digit by digit
            w.editingFinished.connect(w.clearFocus)
        w.setObjectName(OBJECT_NAMES[name])
        w.installEventFilter(self)
        return w

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        # Esc hands the keys back to the window (Play, Step, Fit), as Enter does.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            watched.clearFocus()
            return True
        return super().eventFilter(watched, event)

    def _changed(self, **values) -> None:
        self.hyperparameters_changed.emit(values)

    def spec(self) -> RunSpec:
        """The form as a RunSpec; raises ConfigError for anything not valid (sizes, seed)."""
        values = {}
        for name, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                values[name] = widget.currentText().strip()
            elif isinstance(widget, QSpinBox | QDoubleSpinBox):
                values[name] = widget.value()
            else:
                values[name] = widget.text()
        text = values["sizes"].replace(",", " ").split()
        try:
            values["sizes"] = tuple(int(t) for t in text) if text else None
        except ValueError:
            raise ConfigError(
                f"layer sizes must be whole numbers, e.g. 784 30 10, got {' '.join(text)!r}"
            ) from None
        try:
            values["seed"] = int(values["seed"].strip() or "0")
        except ValueError:
            raise ConfigError(f"the seed must be a whole number, got {values['seed']!r}") from None
        values["data"] = values["data"] or "digits"
        return RunSpec(**values).validate()

    def set_spec(self, spec: RunSpec, *, live: dict | None = None) -> None:
        """Show ``spec`` (with the current η, m, σ, cost from ``live``) without emitting."""
        values = {**spec.to_dict(), **(live or {})}
        for name, widget in self.fields.items():
            value = values[name]
            blocked = widget.blockSignals(True)
            if isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QSpinBox | QDoubleSpinBox):
                widget.setValue(value)
            elif name == "sizes":
                widget.setText(" ".join(map(str, value)) if value else "")
            else:
                widget.setText(str(value))
            widget.blockSignals(blocked)

    def show_sizes(self, sizes) -> None:
        """Show the network's actual sizes (after a default was chosen for the data)."""
        self.sizes.setText(" ".join(map(str, sizes)))

    def _on_rebuild(self) -> None:
        self.rebuild_requested.emit(None)


#: The objectName of each field's widget (tests and accessibility tools find them by it).
OBJECT_NAMES = {
    "data": "dataCombo",
    "sizes": "sizesEdit",
    "activation": "activationCombo",
    "cost": "costCombo",
    "eta": "etaSpin",
    "mini_batch_size": "batchSpin",
    "epochs": "epochsSpin",
    "seed": "seedEdit",
    "dtype": "dtypeCombo",
    "blas_threads": "blasSpin",
}


__all__ = ["ControlsPanel", "HyperparametersPanel", "NODE_QUANTITIES"]
