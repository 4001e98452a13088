"""Python's cyclic garbage collector, run in the GUI thread only.

Automatic collection starts in whichever thread happens to allocate when a threshold is passed:
the training worker, or the "why backprop is fast" thread. If it then frees Qt objects that
belong to the GUI thread (a widget caught in a reference cycle), their C++ destructors run in
that worker thread, which Qt does not allow and which can deadlock with the GUI thread (seen:
the gradient-check thread collecting a finished test's widgets while the GUI thread waited). So
automatic collection is switched off and a timer in the GUI thread collects instead, each
generation when its own threshold says so, as the automatic collector would.

While training runs, a full collection holds the interpreter lock for 40-60 ms (it visits every
object the window ever made, some 150,000) and training stops for that long. So while anyone
holds the collector (:meth:`~MainThreadCollector.hold`), the objects that existed when the first
hold began are frozen (:func:`gc.freeze`): collections visit only what was made since. The last
release unfreezes them, and any garbage among them is collected as before.
"""

from __future__ import annotations

import gc
import weakref

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
        self._holders: dict[int, weakref.ref] = {}
        gc.disable()

    @classmethod
    def install(cls, app: QObject | None = None) -> MainThreadCollector | None:
        """The application's collector, created on first call (before starting a thread)."""
        app = QCoreApplication.instance() if app is None else app
        if app is None:
            return None
        existing = app.findChild(cls, "mainThreadCollector")
        return existing if existing is not None else cls(app)

    def hold(self, holder: QObject, held: bool) -> None:
        """``holder`` starts (True) or stops (False) running work that long collections would
        stall; a holder that is deleted stops by itself."""
        key = id(holder)
        if held and key not in self._holders:
            if not self._holders:
                gc.freeze()
            self._holders[key] = weakref.ref(holder, lambda _ref, key=key: self._release(key))
        elif not held:
            self._release(key)

    @property
    def holding(self) -> bool:
        """Whether some holder is running (and the older objects are frozen)."""
        return bool(self._holders)

    def _release(self, key: int) -> None:
        if self._holders.pop(key, None) is not None and not self._holders:
            gc.unfreeze()

    def check(self) -> int:
        """Collect the oldest generation whose count is over its threshold; objects freed."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
