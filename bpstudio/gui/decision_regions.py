"""Decision regions: the plane coloured by what a two-input network says, with the data on top.

Each cell of a ``REGION_N × REGION_N`` grid over the unit square gets the colour of the class
the network predicts there, lighter where it is less sure (:func:`bpstudio.core.regions.
region_colors`); training points are drawn filled, test points hollow. Selecting a neuron
(``("n", l, j)`` with l ≥ 2) shows that neuron's own activation over the plane instead, on the
diverging map, so one sees what each hidden neuron has learned.

The grid comes from the snapshot when it carries one (``snap.region_grid``, the outputs as
:func:`~bpstudio.core.regions.region_grid` returns them over ``REGION_BOUNDS``, computed in the
training thread); otherwise the panel evaluates it from the snapshot's weights.

Points are edited by asking: a click emits ``point_added(x, y, label)``, a right-click
``point_removed(index)``; whoever owns the data changes it and calls :meth:`set_points`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.data.points import MAX_CLASSES, Points, load_points_csv, save_points_csv
from bpstudio.core.errors import BpstudioError
from bpstudio.core.regions import (
    REGION_BOUNDS,
    REGION_N,
    network_from_parameters,
    region_colors,
    region_grid,
)
from bpstudio.gui.colors import diverging_lut, nice_ceiling
from bpstudio.gui.model import DrawsWhenSeen
from bpstudio.gui.region_plane import CLASS_COLOURS, RegionPlane


def activation_range(activation: str, values: np.ndarray) -> tuple[float, float]:
    """The values mapped to the diverging map's ends for a neuron's activation over the plane."""
    if activation == "sigmoid":
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    top = nice_ceiling(float(np.nanmax(np.abs(values))) if values.size else 1.0)
    return -top, top


class DecisionRegions(DrawsWhenSeen, QWidget):
    """Dock contents: the plane, a class chooser, Clear / Load / Save, and what the colour means.

    Parameters
    ----------
    model : ViewModel
        Followed for snapshots (the network) and the selection (a neuron's own activation).

    Signals
    -------
    point_added(float, float, int)
        A click asks for a point of the chosen class at data coordinates ``(x, y)``.
    point_removed(int)
        A right-click asks to remove point ``index``, counted as :meth:`set_points` was given
        them: the training points first, then the test points.
    points_cleared()
        "Clear" asks to remove every point.
    points_loaded(Points)
        "Load CSV…" read a file; whoever owns the data should use these points.
    """

    point_added = Signal(float, float, int)
    point_removed = Signal(int)
    points_cleared = Signal()
    points_loaded = Signal(object)

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decisionRegions")
        self._model = model
        self._shown: np.ndarray | None = None  # the grid of values last drawn
        self._classes: int | None = None  # the network's classes the chooser offers
        self._net = None  # the view's own network, refilled from each snapshot it needs
        self._build()
        model.snapshot_changed.connect(self._on_snapshot_changed)
        model.selection_changed.connect(self._on_snapshot_changed)
        self._plane.describe = self.describe_point
        self._plane.left_clicked.connect(self._on_left_clicked)
        self._plane.point_right_clicked.connect(self.point_removed)
        self._on_snapshot_changed()

    def _build(self) -> None:
        self._plane = RegionPlane(self)
        self._class = QComboBox()
        self._class.setObjectName("decisionRegionsClass")
        self._class.setToolTip("The class of the points a click adds")
        self._set_class_count(2)
        self._caption = QLabel()
        self._caption.setObjectName("decisionRegionsCaption")
        self._caption.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("add"))
        top.addWidget(self._class)
        top.addStretch(1)
        for text, name, slot in (
            ("Clear", "decisionRegionsClear", self.points_cleared.emit),
            ("Load CSV…", "decisionRegionsLoad", self._on_load_clicked),
            ("Save CSV…", "decisionRegionsSave", self._on_save_clicked),
        ):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            top.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self._plane, 1)
        layout.addWidget(self._caption)

    def sizeHint(self) -> QSize:
        return QSize(460, 540)

    def _set_class_count(self, classes: int) -> None:
        """Offer the network's ``classes`` and, below MAX_CLASSES, one new class."""
        classes = max(2, min(MAX_CLASSES, classes))
        count = min(MAX_CLASSES, classes + 1)
        if self._classes == classes:
            return
        self._classes = classes
        current = max(0, self._class.currentIndex())
        self._class.clear()
        for i in range(count):
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(*CLASS_COLOURS[i]))
            self._class.addItem(QIcon(swatch), f"class {i}" + (" (new)" if i >= classes else ""))
        self._class.setCurrentIndex(min(current, count - 1))

    # -- public seams ---------------------------------------------------------------------------
    @property
    def plane(self) -> RegionPlane:
        return self._plane

    @property
    def chosen_class(self) -> int:
        return max(0, self._class.currentIndex())

    def set_chosen_class(self, label: int) -> None:
        self._class.setCurrentIndex(int(label))

    @property
    def shown_values(self) -> np.ndarray | None:
        """The grid last drawn: outputs ``(n, n, n_L)``, or ``(n, n, 1)`` of one neuron."""
        return self._shown

    def set_points(self, train_xy, train_labels, test_xy, test_labels) -> None:
        """The data drawn on the plane: training points filled, test points hollow."""
        self._plane.set_points(train_xy, train_labels, test_xy, test_labels)

    def shown_points(self) -> Points:
        """The points drawn, as a :class:`Points` set that splits back into the same parts."""
        return Points.from_parts(*self._plane.points)

    def describe_point(self, x: float, y: float) -> str | None:
        """The hover text at ``(x, y)``: the values of the grid cell there."""
        values = self._shown
        if values is None or not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return None
        n = values.shape[0]
        cell = values[min(n - 1, int((1.0 - y) * n)), min(n - 1, int(x * n))]
        where = f"x₁ = {x:.3f}, x₂ = {y:.3f}"
        if len(cell) == 1:
            return f"{where}: a = {cell[0]:.3f}"
        shown = ", ".join(f"{v:.2f}" for v in cell[:MAX_CLASSES])
        return f"{where}: class {int(np.argmax(cell))} (aᴸ = {shown})"

    def load_csv(self, path) -> Points:
        """Read ``path`` and emit ``points_loaded``; raises ``DataError`` for a bad file."""
        points = load_points_csv(path)
        self.points_loaded.emit(points)
        return points

    def save_csv(self, path) -> None:
        """Write the points drawn to ``path`` (``x,y,label``); raises ``FileError`` on failure."""
        save_points_csv(path, self.shown_points())

    # -- updates --------------------------------------------------------------------------------
    def _on_snapshot_changed(self, *_args) -> None:
        if not self.seen_or_later(self._on_snapshot_changed):
            return
        snap = self._model.snapshot
        if snap is None or snap.sizes[0] != 2:
            self._shown = None
            self._plane.show_message(
                "Decision regions need two-input data: xor, circles, spiral, blobs or your own "
                "points."
            )
            self._caption.setText("")
            return
        self._set_class_count(snap.sizes[-1])
        neuron = self._selected_neuron(snap)
        if neuron is None:
            values, rgb, caption = self._outputs(snap)
        else:
            values, rgb, caption = self._neuron(snap, *neuron)
        self._shown = values
        self._plane.set_cells(rgb)
        self._caption.setText(caption)

    def _selected_neuron(self, snap) -> tuple[int, int] | None:
        sel = self._model.selection
        if sel is not None and sel[0] == "n" and 2 <= sel[1] <= len(snap.sizes):
            return int(sel[1]), int(sel[2])
        return None

    def _network(self, snap):
        self._net = network_from_parameters(
            snap.sizes, snap.activation, snap.cost, snap.weights, snap.biases, reuse=self._net
        )
        return self._net

    def _outputs(self, snap):
        grid = getattr(snap, "region_grid", None)
        if grid is None or np.shape(grid) != (REGION_N, REGION_N, snap.sizes[-1]):
            grid = region_grid(self._network(snap), REGION_BOUNDS, REGION_N)
        if snap.sizes[-1] == 1:
            low, high = activation_range(snap.activation, grid)
            rgb = region_colors(grid, diverging_lut(), low=low, high=high)
            return (
                grid,
                rgb,
                (
                    f"Colour: the output a from {low:g} (blue) to {high:g} (red). "
                    "● training points, ○ test points."
                ),
            )
        palette = np.resize(CLASS_COLOURS, (max(len(CLASS_COLOURS), snap.sizes[-1]), 3))
        return (
            grid,
            region_colors(grid, palette),
            (
                "Colour: the class the network predicts, lighter where it is less sure. "
                "● training points, ○ test points. Click to add a point of the chosen class, "
                "right-click to remove one. Select a neuron to see its own activation."
            ),
        )

    def _neuron(self, snap, l: int, j: int):
        layer = region_grid(self._network(snap), REGION_BOUNDS, REGION_N, layer=l)
        values = layer[..., j : j + 1]
        low, high = activation_range(snap.activation, values)
        rgb = region_colors(values, diverging_lut(), low=low, high=high)
        kind = "output" if l == len(snap.sizes) else "hidden"
        return (
            values,
            rgb,
            (
                f"Neuron {j} of layer {l} ({kind}): its activation a over the plane, from {low:g} "
                f"(blue) to {high:g} (red). Select nothing to see the network's classes again."
            ),
        )

    # -- user intent ----------------------------------------------------------------------------
    def _on_left_clicked(self, x: float, y: float) -> None:
        self.point_added.emit(x, y, self.chosen_class)

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load points", "", "CSV files (*.csv)")
        if path:
            try:
                self.load_csv(path)
            except BpstudioError as error:
                QMessageBox.warning(self, "Cannot load the points", str(error))

    def _on_save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save points", "points.csv", "CSV (*.csv)")
        if path:
            try:
                self.save_csv(path)
            except BpstudioError as error:
                QMessageBox.warning(self, "Cannot save the points", str(error))
