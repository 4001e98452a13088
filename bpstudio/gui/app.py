"""Starting the app, building the window for tests and scripts, and offscreen screenshots."""

from __future__ import annotations

import os
import sys

from bpstudio.cli import spec_from_args
from bpstudio.core.errors import ConfigError
from bpstudio.core.session import SessionSpec


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
    return app


def create_main_window(
    data: str = "digits",
    sizes=None,
    *,
    activation: str = "sigmoid",
    cost: str = "quadratic",
    eta: float = 3.0,
    batch: int = 10,
    epochs: int = 30,
    seed: int = 0,
):
    """Build bpstudio's main window (same options as the command line), without running the
    event loop. The session is created in the training thread; wait for
    ``window.controller.worker.session_ready`` before stepping."""
    from bpstudio.gui.main_window import MainWindow

    ensure_app()
    spec = SessionSpec(
        data=data,
        sizes=None if sizes is None else tuple(int(n) for n in sizes),
        activation=activation,
        cost=cost,
        eta=eta,
        mini_batch_size=batch,
        epochs=epochs,
        seed=seed,
    )
    return MainWindow(spec)


def run_app(args) -> int:
    """``bpstudio``: open the window and run until it is closed."""
    app = ensure_app()
    from bpstudio.gui.main_window import MainWindow

    window = MainWindow(spec_from_args(args))
    window.resize(1500, 900)
    window.show()
    return app.exec()


def screenshot(args) -> int:
    """``bpstudio screenshot OUT.png``: render the window offscreen after some training."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size must look like 1600x1000, got {args.size!r}") from None
    app = ensure_app()
    from bpstudio.gui.main_window import MainWindow
    from bpstudio.gui.scripted import drive

    window = MainWindow(spec_from_args(args))
    window.resize(width, height)
    window.show()
    try:
        drive(app, window, batches=args.batches, select=args.select, phases=args.phases)
        if not window.grab().save(args.out):
            raise ConfigError(f"could not write {args.out}")
    finally:
        window.close()
    print(f"wrote {args.out}")
    return 0
