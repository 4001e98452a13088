"""GUI fixtures: every QThread a test starts must have stopped when the test ends (settings are
isolated for every test in tests/conftest.py)."""

import pytest
from PySide6.QtCore import QThread


@pytest.fixture(autouse=True)
def _no_qthread_left_running(monkeypatch):
    started: list[QThread] = []
    original = QThread.start

    def tracking_start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", tracking_start)
    yield started
    running = [t for t in started if _is_running(t)]
    assert not running, f"test left {len(running)} QThread(s) running"


def _is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is gone: it cannot be running
        return False


@pytest.fixture(autouse=True)
def _collect_garbage_in_the_gui_thread():
    """Free each test's Qt garbage here, in the GUI thread, not in a later test's worker thread
    (bpstudio.gui.gc_guard explains why that matters)."""
    yield
    import gc

    gc.collect()
