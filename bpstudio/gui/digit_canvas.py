"""Draw a digit: a canvas whose ink becomes an input as MNIST's were made, classified as you draw.

The panel runs its own feedforward on a network it builds from the snapshot's (read-only)
weights, never the training thread's network. "Trace this input" and "Train on it" hand the
preprocessed input and the chosen label to whoever listens (the main window sends them to the
worker): the first asks for one backprop pass on it without changing the network, the second for
one update.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpstudio.core.draw import TARGETS, preprocess_stroke, target_for
from bpstudio.core.regions import network_from_parameters
from bpstudio.gui.colors import grey_rgb
from bpstudio.gui.model import DrawsWhenSeen, paints_every_pixel

PAD_SIDE = 280
#: The pen's width on the pad: about 2.5 pixels once the digit is scaled into MNIST's 20×20 box.
PEN_WIDTH = 24
BAR_COLOUR = QColor(120, 150, 190)
WINNER_COLOUR = QColor(178, 24, 43)


class InkPad(QWidget):
    """A square of paper to draw on with a thick round pen; emits ``ink_changed`` as you draw."""

    ink_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("digitCanvasPad")
        self.setFixedSize(PAD_SIDE, PAD_SIDE)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse")
        # 255 is paper, 0 full ink: the image is shown as it is.
        self._paper = QImage(PAD_SIDE, PAD_SIDE, QImage.Format.Format_Grayscale8)
        self._paper.fill(255)
        self._last: QPointF | None = None

    def ink(self) -> np.ndarray:
        """The ink, float64 ``(PAD_SIDE, PAD_SIDE)`` from 0 (paper) to 1 (full ink)."""
        view = np.frombuffer(self._paper.constBits(), np.uint8)
        rows = view.reshape(PAD_SIDE, self._paper.bytesPerLine())[:, :PAD_SIDE]
        return 1.0 - rows.astype(np.float64) / 255.0

    def set_ink(self, ink) -> None:
        """Replace the drawing by ``ink`` (``(PAD_SIDE, PAD_SIDE)``, 0 paper to 1 ink)."""
        grey = np.ascontiguousarray(np.rint(255.0 * (1.0 - np.clip(ink, 0.0, 1.0))), np.uint8)
        image = QImage(grey.data, PAD_SIDE, PAD_SIDE, PAD_SIDE, QImage.Format.Format_Grayscale8)
        self._paper = image.copy()
        self.update()
        self.ink_changed.emit()

    def clear(self) -> None:
        self._paper.fill(255)
        self._last = None
        self.update()
        self.ink_changed.emit()

    def _draw(self, start: QPointF, end: QPointF) -> None:
        painter = QPainter(self._paper)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(0, 0, 0), PEN_WIDTH)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        self.update()
        self.ink_changed.emit()

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._last = event.position()
        self._draw(self._last, self._last)  # a dot where the stroke starts

    def mouseMoveEvent(self, event) -> None:
        if self._last is None:
            return super().mouseMoveEvent(event)
        here = event.position()
        self._draw(self._last, here)
        self._last = here

    def mouseReleaseEvent(self, event) -> None:
        if self._last is not None and event.button() == Qt.MouseButton.LeftButton:
            self._draw(self._last, event.position())
            self._last = None
            return
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.drawImage(0, 0, self._paper)
        painter.setPen(QColor(170, 170, 170))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))


class InputView(QWidget):
    """The preprocessed input as the network sees it, grey on white, with its centre marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        paints_every_pixel(self)
        self.setObjectName("digitCanvasInput")
        self.setFixedSize(112, 112)
        self.setToolTip("The network's input: the drawing preprocessed as its training data were")
        self._image: QImage | None = None
        self._grey: np.ndarray | None = None

    def set_input(self, x: np.ndarray | None, side: int) -> None:
        if x is None:
            self._image = None
        else:
            self._grey = np.ascontiguousarray(grey_rgb(x.reshape(side, side)))
            self._image = QImage(self._grey.data, side, side, side, QImage.Format.Format_Grayscale8)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        if self._image is not None:
            painter.drawImage(self.rect(), self._image)
        # Ticks at the middle of each side: the centre the ink's centre of mass is moved to.
        painter.setPen(QColor(200, 40, 40))
        w, h = self.width(), self.height()
        for a, b in (((w / 2, 0), (w / 2, 5)), ((w / 2, h - 5), (w / 2, h))):
            painter.drawLine(QPointF(*a), QPointF(*b))
        for a, b in (((0, h / 2), (5, h / 2)), ((w - 5, h / 2), (w, h / 2))):
            painter.drawLine(QPointF(*a), QPointF(*b))
        painter.setPen(QColor(170, 170, 170))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))


class OutputBars(QWidget):
    """One bar per output neuron, its height a^L_j on [0, 1] (or on ±max|a| when unbounded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        paints_every_pixel(self)
        self.setObjectName("digitCanvasBars")
        self.setMinimumSize(220, 140)
        self._outputs: np.ndarray | None = None

    def sizeHint(self) -> QSize:
        return QSize(260, 140)

    def set_outputs(self, outputs: np.ndarray | None) -> None:
        self._outputs = outputs
        self.update()

    def _top(self) -> float:
        a = self._outputs
        return 1.0 if a.min() >= 0.0 and a.max() <= 1.0 else max(float(np.abs(a).max()), 1e-12)

    def bar_rect(self, i: int) -> QRect:
        """The rectangle of bar ``i``: its height is ``a_i / top`` of the plot's height."""
        n = len(self._outputs)
        plot = QRectF(4, 4, self.width() - 8, self.height() - 24)
        slot = plot.width() / n
        value = max(0.0, float(self._outputs[i])) / self._top()
        height = round(min(value, 1.0) * plot.height())
        left = round(plot.left() + i * slot + slot * 0.15)
        return QRect(left, round(plot.bottom()) - height, max(1, round(slot * 0.7)), height)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        if self._outputs is None:
            return
        winner = int(np.argmax(self._outputs))
        bottom = self.height() - 20
        painter.setPen(QColor(150, 150, 150))
        painter.drawLine(2, bottom, self.width() - 2, bottom)
        for i in range(len(self._outputs)):
            rect = self.bar_rect(i)
            painter.fillRect(rect, WINNER_COLOUR if i == winner else BAR_COLOUR)
            painter.setPen(QColor(40, 40, 40))
            label = QRect(rect.center().x() - 10, bottom + 2, 20, 16)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(i))


class DigitCanvas(DrawsWhenSeen, QWidget):
    """Draw a digit and see the network classify it as you draw.

    Parameters
    ----------
    model : ViewModel
        Followed for snapshots: the network whose weights classify the drawing.

    Signals
    -------
    trace_requested(numpy.ndarray, int)
        "Trace this input": the input row ``x`` (shape ``(n_1,)``) and the chosen label.
    train_requested(numpy.ndarray, int)
        "Train on it": the same, for one update on this example.
    """

    trace_requested = Signal(object, int)
    train_requested = Signal(object, int)

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("digitCanvas")
        self._model = model
        self._network = None
        self._target: str | None = None
        self._outputs_count: int | None = None
        self._x: np.ndarray | None = None
        self._outputs: np.ndarray | None = None
        self._build()
        model.snapshot_changed.connect(self._on_snapshot_changed)
        self._pad.ink_changed.connect(self._on_ink_changed)
        self._set_target(None, None)
        self._on_snapshot_changed()

    def _build(self) -> None:
        self._pad = InkPad(self)
        self._input = InputView(self)
        self._bars = OutputBars(self)
        self._prediction = QLabel("—")
        self._prediction.setObjectName("digitCanvasPrediction")
        font = QFont(self._prediction.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self._prediction.setFont(font)
        self._note = QLabel()
        self._note.setObjectName("digitCanvasNote")
        self._note.setWordWrap(True)
        self._clear = self._button("Clear", "digitCanvasClear", self._pad.clear)
        self._label = QSpinBox()
        self._label.setObjectName("digitCanvasLabel")
        self._label.setToolTip("The digit you meant: the label the trace and the update use")
        self._trace = self._button("Trace this input", "digitCanvasTrace", self._emit_trace)
        self._train = self._button("Train on it", "digitCanvasTrain", self._emit_train)
        side = QGridLayout()
        side.addWidget(QLabel("network input"), 0, 0)
        side.addWidget(self._input, 1, 0)
        side.addWidget(QLabel("predicted"), 0, 1, Qt.AlignmentFlag.AlignCenter)
        side.addWidget(self._prediction, 1, 1, Qt.AlignmentFlag.AlignCenter)
        side.addWidget(QLabel("output activations aᴸ"), 2, 0, 1, 2)
        side.addWidget(self._bars, 3, 0, 1, 2)
        side.setRowStretch(4, 1)
        top = QHBoxLayout()
        top.addWidget(self._pad, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(side, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self._clear)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("label"))
        buttons.addWidget(self._label)
        buttons.addWidget(self._trace)
        buttons.addWidget(self._train)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self._note)
        layout.addLayout(buttons)

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    # -- public seams ---------------------------------------------------------------------------
    @property
    def pad(self) -> InkPad:
        """The drawing surface (``PAD_SIDE`` square)."""
        return self._pad

    @property
    def bars(self) -> OutputBars:
        return self._bars

    @property
    def input_vector(self) -> np.ndarray | None:
        """The preprocessed input row ``x`` (``(n_1,)``), or ``None`` while nothing is drawn."""
        return None if self._x is None else self._x.copy()

    @property
    def outputs(self) -> np.ndarray | None:
        """a^L for the drawn input, as the bars show it, or ``None``."""
        return None if self._outputs is None else self._outputs.copy()

    @property
    def prediction(self) -> int | None:
        return None if self._outputs is None else int(np.argmax(self._outputs))

    def set_label(self, label: int) -> None:
        self._label.setValue(int(label))

    # -- updates --------------------------------------------------------------------------------
    def _on_snapshot_changed(self, *_args) -> None:
        if not self.seen_or_later(self._on_snapshot_changed):
            return
        snap = self._model.snapshot
        target = None if snap is None else target_for(snap.image_shape)
        outputs = None if snap is None else snap.sizes[-1]
        if (target, outputs) != (self._target, self._outputs_count):
            self._set_target(target, outputs)  # a new kind of data: not at every frame
        else:  # per frame only the drawing's outputs, and only when something is drawn
            self._classify()

    def _set_target(self, target: str | None, outputs: int | None) -> None:
        self._target, self._outputs_count = target, outputs
        usable = target is not None
        for widget in (self._pad, self._trace, self._train, self._label, self._clear):
            widget.setEnabled(usable)
        if not usable:
            self._note.setText("Draw a digit needs MNIST or the 8×8 digits as data.")
        else:
            self._label.setRange(0, outputs - 1)
            t = TARGETS[target]
            self._note.setText(
                f"Made as {target} was: the ink's box scaled to {t.box}×{t.box}, "
                f"centred by mass in {t.field}×{t.field}."
            )
        self._on_ink_changed()  # the drawing made again for this data

    def _preprocessed(self) -> np.ndarray | None:
        if self._target is None:
            return None
        x = preprocess_stroke(self._pad.ink(), self._target)
        return x if x.any() else None

    def _on_ink_changed(self) -> None:
        self._x = self._preprocessed()
        side = TARGETS[self._target].field if self._target else 1
        self._input.set_input(self._x, side)
        self._classify()
        for widget in (self._trace, self._train):
            widget.setEnabled(self._x is not None)

    def _classify(self) -> None:
        """The outputs for the drawing with the newest snapshot's weights (bars, prediction)."""
        snap, x = self._model.snapshot, self._x
        if x is None or snap is None:
            outputs = None
        else:  # the view's own network (built once, refilled from each snapshot)
            self._network = network_from_parameters(
                snap.sizes, snap.activation, snap.cost, snap.weights, snap.biases,
                reuse=self._network,
            )  # fmt: skip
            outputs = self._network.feedforward(x[:, None])[:, 0]
        if outputs is None and self._outputs is None:
            return
        self._outputs = outputs
        self._bars.set_outputs(outputs)
        self._prediction.setText("—" if outputs is None else str(self.prediction))

    def _emit_trace(self) -> None:
        if self._x is not None:
            self.trace_requested.emit(self._x.copy(), self._label.value())

    def _emit_train(self) -> None:
        if self._x is not None:
            self.train_requested.emit(self._x.copy(), self._label.value())
