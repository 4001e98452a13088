"""Test configuration: Qt runs headless, and no test may leave a thread running."""

import os
import threading
from pathlib import Path

# Before anything imports Qt: the offscreen platform needs no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

#: The real MNIST files, beside the project as CI and the developers' machines have them.
SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture
def mnist_folder() -> Path:
    """The folder of the four real MNIST files; skips the test where it is absent."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the real MNIST files are not in {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture(autouse=True)
def _no_threads_left_running(request):
    """Fail any test that leaves a Python thread or a QThread running (as napari's suite does)."""
    before = set(threading.enumerate())
    yield
    # A _DummyThread is Python's record of a thread it did not start (a QThread that ran Python
    # code); those are checked by the QThread fixture in tests/gui/conftest.py.
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    for t in leaked:
        t.join(timeout=2.0)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test left threads running: {leaked}"
