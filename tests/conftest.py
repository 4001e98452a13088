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


@pytest.fixture(autouse=True)
def settings_dir(tmp_path_factory, monkeypatch):
    """Every test gets an empty settings store of its own, in a temporary folder: bpstudio's
    (``BPSTUDIO_SETTINGS_DIR``) and any ``QSettings()`` made with Qt's default locations."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("BPSTUDIO_SETTINGS_DIR", str(folder))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder


@pytest.fixture(autouse=True)
def _answer_yes_to_window_questions(monkeypatch):
    """A window's yes/no questions (discard unsaved progress?) get "yes" unless a test sets
    ``window.confirm`` itself: a modal box would wait forever offscreen."""
    try:
        from bpstudio.gui.main_window import MainWindow
    except ImportError:  # pragma: no cover - the GUI is always installed with the tests
        return
    monkeypatch.setattr(MainWindow, "confirm", lambda self, text: True)
