"""Python's cyclic garbage collector, run in the GUI thread only.

Automatic collection starts in whichever thread happens to allocate when a threshold is passed:
the training worker, or the "why backprop is fast" thread. If it then frees Qt objects that
belong to the GUI thread (a widget caught in a reference cycle), their C++ destructors run in
that worker thread, which Qt does not allow and which can deadlock with the GUI thread (seen:
the gradient-check thread collecting a finished test's widgets while the GUI thread waited). So
automatic collection is switched off and a timer in the GUI thread collects instead, each
generation when its own threshold says so, as the automatic collector would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: How often the GUI thread looks at the collector's counts.
INTERVAL_MS = 250


class MainThreadCollector(QObject):
    """Collects garbage from a timer of the thread it lives in (the GUI thread)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("mainThreadCollector")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(INTERVAL_MS)
        gc.disable()

    @classmethod
    def install(cls, app: QObject | None = None) -> MainThreadCollector | None:
        """The application's collector, created on first call (before starting a thread)."""
        app = QCoreApplication.instance() if app is None else app
        if app is None:
            return None
        existing = app.findChild(cls, "mainThreadCollector")
        return existing if existing is not None else cls(app)

    def check(self) -> int:
        """Collect the oldest generation whose count is over its threshold; objects freed."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
