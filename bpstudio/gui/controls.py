"""The control and hyperparameter panels: they only forward what the user asks for."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
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
from bpstudio.core.session import SessionSpec
from bpstudio.gui.worker import SPEEDS

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
        self.speed.setValue(len(SPEEDS) - 1)
        self.speed.setToolTip("From one mini-batch per second to as fast as it goes")
        self.speed_text = QLabel(_speed_label(None), self)
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

    def _on_speed(self, index: int) -> None:
        speed = SPEEDS[index]
        self.speed_text.setText(_speed_label(speed))
        self.speed_changed.emit(speed)


class HyperparametersPanel(QWidget):
    """Data, layer sizes and seed (rebuild the network), and η, m, σ, cost, epochs (live)."""

    rebuild_requested = Signal(object)  # SessionSpec
    hyperparameters_changed = Signal(dict)

    def __init__(self, spec: SessionSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hyperPanel")
        form = QFormLayout(self)
        self.data = QComboBox(self)
        self.data.setObjectName("dataCombo")
        self.data.setEditable(True)
        self.data.addItems(DATASET_CHOICES)
        self.data.setToolTip("digits, mnist, mnist:<folder>, a path to mnist.pkl.gz, or a toy set")
        self.data.setCurrentText(spec.data)
        self.sizes = QLineEdit(self)
        self.sizes.setObjectName("sizesEdit")
        self.sizes.setPlaceholderText("default for the data, e.g. 784 30 10")
        self.sizes.setText(" ".join(map(str, spec.sizes)) if spec.sizes else "")
        self.seed = QSpinBox(self)
        self.seed.setObjectName("seedSpin")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(spec.seed)
        self.apply = QPushButton("Rebuild network", self)
        self.apply.setObjectName("rebuildButton")
        self.apply.setToolTip("Load the data and create a new network with these layer sizes")
        self.apply.clicked.connect(self._on_rebuild)
        form.addRow("Data", self.data)
        form.addRow("Layer sizes", self.sizes)
        form.addRow("Seed", self.seed)
        form.addRow("", self.apply)

        self.activation = QComboBox(self)
        self.activation.setObjectName("activationCombo")
        self.activation.addItems(["sigmoid", "tanh", "relu", "linear"])
        self.activation.setCurrentText(spec.activation)
        self.cost = QComboBox(self)
        self.cost.setObjectName("costCombo")
        self.cost.addItems(["quadratic", "cross-entropy"])
        self.cost.setCurrentText(spec.cost)
        self.eta = QDoubleSpinBox(self)
        self.eta.setObjectName("etaSpin")
        self.eta.setDecimals(4)
        self.eta.setRange(0.0001, 1e6)
        self.eta.setValue(spec.eta)
        self.batch = QSpinBox(self)
        self.batch.setObjectName("batchSpin")
        self.batch.setRange(1, 60000)
        self.batch.setValue(spec.mini_batch_size)
        self.epochs = QSpinBox(self)
        self.epochs.setObjectName("epochsSpin")
        self.epochs.setRange(1, 100000)
        self.epochs.setValue(spec.epochs)
        form.addRow("Activation σ", self.activation)
        form.addRow("Cost", self.cost)
        form.addRow("Learning rate η", self.eta)
        form.addRow("Mini-batch size m", self.batch)
        form.addRow("Epochs", self.epochs)
        note = QLabel("η, m, σ, cost and epochs apply from the next mini-batch.", self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #666;")
        form.addRow(note)
        self.activation.currentTextChanged.connect(lambda v: self._changed(activation=v))
        self.cost.currentTextChanged.connect(lambda v: self._changed(cost=v))
        self.eta.valueChanged.connect(lambda v: self._changed(eta=v))
        self.batch.valueChanged.connect(lambda v: self._changed(mini_batch_size=v))
        self.epochs.valueChanged.connect(lambda v: self._changed(epochs=v))

    def _changed(self, **values) -> None:
        self.hyperparameters_changed.emit(values)

    def spec(self) -> SessionSpec:
        """The settings as a :class:`SessionSpec`; raises ValueError for bad layer sizes."""
        text = self.sizes.text().replace(",", " ").split()
        try:
            sizes = tuple(int(t) for t in text) if text else None
        except ValueError:
            raise ValueError(f"layer sizes must be whole numbers, e.g. 784 30 10: {text}") from None
        return SessionSpec(
            data=self.data.currentText().strip() or "digits",
            sizes=sizes,
            activation=self.activation.currentText(),
            cost=self.cost.currentText(),
            eta=self.eta.value(),
            mini_batch_size=self.batch.value(),
            epochs=self.epochs.value(),
            seed=self.seed.value(),
        )

    def show_sizes(self, sizes) -> None:
        """Show the network's actual sizes (after a default was chosen for the data)."""
        self.sizes.setText(" ".join(map(str, sizes)))

    def _on_rebuild(self) -> None:
        self.rebuild_requested.emit(None)


__all__ = ["ControlsPanel", "HyperparametersPanel", "NODE_QUANTITIES"]
