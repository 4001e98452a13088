"""Starting the app, building the window for tests and scripts, and offscreen screenshots."""

from __future__ import annotations

import os
import sys
import tempfile

from bpstudio.core.errors import ConfigError
from bpstudio.core.run import FIELDS, RunSpec


def ensure_app():
    """The QApplication, created with bpstudio's name if there is none yet.

    Also makes sure Python's cyclic garbage collector runs only in the GUI thread (see
    :class:`bpstudio.gui.gc_guard.MainThreadCollector`).
    """
    from PySide6.QtWidgets import QApplication

    from bpstudio.gui.gc_guard import MainThreadCollector

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("bpstudio")
        app.setOrganizationName("bpstudio")
    MainThreadCollector.install(app)
    from bpstudio.gui.window_parts import app_icon

    app.setWindowIcon(app_icon())  # taskbars use it for every window
    return app


def create_main_window(data: str = "digits", sizes=None, *, open_file=None, **settings):
    """Build bpstudio's main window without running the event loop.

    ``data``, ``sizes`` and ``settings`` are the fields of :class:`~bpstudio.core.run.RunSpec`
    (``activation``, ``cost``, ``eta``, ``mini_batch_size``, ``epochs``, ``seed``, ``dtype``,
    ``blas_threads``). ``open_file`` opens a session file instead. The session is created in
    the training thread; wait for ``window.session_loaded`` before stepping.
    """
    from bpstudio.gui.main_window import MainWindow

    ensure_app()
    unknown = sorted(set(settings) - {f.name for f in FIELDS})
    if unknown:
        raise TypeError(f"create_main_window() got unknown settings: {', '.join(unknown)}")
    spec = RunSpec(data=data, sizes=None if sizes is None else tuple(sizes), **settings)
    return MainWindow(spec.validate(), open_file=open_file)


def run_app(spec: RunSpec, open_file: str | None = None, *, last_run: bool = False) -> int:
    """``bpstudio``: open the window (on ``open_file`` if given) and run until it is closed.

    With ``last_run`` (no run options were given) the window starts with the run description
    it had when it was last closed, if one is remembered and still valid.
    """
    app = ensure_app()
    from bpstudio.gui.main_window import MainWindow

    if last_run:
        spec = remembered_run(spec)
    window = MainWindow(spec, open_file=open_file)
    window.show()
    return app.exec()


def remembered_run(default: RunSpec) -> RunSpec:
    """The run description the last window closed with, or ``default``."""
    from bpstudio.core.errors import BpstudioError
    from bpstudio.gui import settings

    values = settings.last_run()
    if not values:
        return default
    try:
        return RunSpec.from_dict(values)
    except BpstudioError:  # a stale or damaged entry: start as new
        return default


#: The largest window ``bpstudio screenshot`` renders (pixels a side).
MAX_SHOT_SIDE = 8000
SHOT_SUFFIXES = (".png", ".svg")


def screenshot(spec: RunSpec, out: str, *, size="1600x1000", batches=0, select=None, phases=0):
    """``bpstudio screenshot OUT``: the window as PNG, or the network view as vector SVG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A scripted shot neither reads nor overwrites the user's layout and view settings.
    os.environ["BPSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="bpstudio-shot-")
    suffix = os.path.splitext(out)[1].lower()
    if suffix not in SHOT_SUFFIXES:
        raise ConfigError(
            f"screenshot writes .png (the window) or .svg (the network view), not {out!r}"
        )
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size must look like 1600x1000, got {size!r}") from None
    if not (200 <= width <= MAX_SHOT_SIDE and 200 <= height <= MAX_SHOT_SIDE):
        raise ConfigError(
            f"--size must be from 200 to {MAX_SHOT_SIDE} pixels a side, got {size!r}"
        )
    if batches < 0 or phases < 0:
        raise ConfigError("--batches and --phases must be 0 or more")
    app = ensure_app()
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import drive

    window = MainWindow(spec)
    window.resize(width, height)
    window.show()
    try:
        drive(app, window, batches=batches, select=select, phases=phases)
        if suffix == ".svg":
            from bpstudio.gui.network_export import export_network_svg

            export_network_svg(window.view, out)
        elif not window.grab().save(out):
            raise ConfigError(f"could not write {out}")
    finally:
        window.discard_and_close()
    print(f"wrote {out}")
    return 0
