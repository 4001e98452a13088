"""Remake the README's screenshots of the explaining views (run from the repository's root).

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [--mnist FOLDER]

Each picture is the real window, driven as a user would: trained, a tab brought forward, a
selection made. They are written into docs/ beside this script.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_MNIST = HERE.parents[1] / "shared" / "data" / "mnist"


def _window(data, sizes=None, **settings):
    from bpstudio.gui import create_main_window
    from bpstudio.gui.scripted import wait_for

    window = create_main_window(data, sizes, **settings)
    window.resize(1500, 900)
    window.show()
    if window.snapshot is None:
        wait_for(window.session_loaded, failure=window.error_shown)
    return window


def _advance(app, window, batches):
    from bpstudio.gui.scripted import wait_for

    window.controller.advance(batches)
    wait_for(window.snapshot_received, failure=window.error_shown)
    window.render_now()
    app.processEvents()


def _settle(app, rounds=20):
    for _ in range(rounds):
        app.processEvents()


def _save(window, name):
    path = HERE / name
    window.grab().save(str(path))
    print(f"wrote {path}")


def receptive_fields(app, mnist):
    w = _window(f"mnist:{mnist}", (784, 30, 10))
    _advance(app, w, 5000)  # one epoch at m = 10
    w.docks["receptiveFieldsDock"].raise_()
    w.view_panels["receptiveFieldsDock"].set_mode("dw")
    w.resizeDocks([w.docks["plotsDock"]], [420], _vertical())
    w.model.set_selection(("n", 2, 7))
    _settle(app)
    _save(w, "receptive_fields.png")
    w.discard_and_close()


def _vertical():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Vertical


def decision_regions(app):
    w = _window("spiral", (2, 16, 16, 3), cost="cross-entropy", eta=0.5,
                epochs=100000)
    w.docks["decisionRegionsDock"].raise_()
    w.resizeDocks([w.docks["plotsDock"]], [480], _vertical())
    _advance(app, w, 20000)
    w.controls.speed.setValue(w.controls.speed.maximum())  # as fast as it goes
    w.controller.play()
    from bpstudio.gui.scripted import wait_for

    for _ in range(15):
        wait_for(w.snapshot_received)
    _settle(app)
    _save(w, "decision_regions.png")
    w.controller.pause()
    w.discard_and_close()


def drawn_digit(app, mnist):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    w = _window(f"mnist:{mnist}", (784, 30, 10))
    _advance(app, w, 10000)
    w.docks["digitCanvasDock"].raise_()
    w.resizeDocks([w.docks["plotsDock"]], [420], _vertical())
    _settle(app)
    pad = w.view_panels["digitCanvasDock"].pad
    side = pad.width()
    stroke = [(int(side * (0.3 + 0.4 * t)), int(side * 0.2)) for t in np.linspace(0, 1, 12)]
    stroke += [
        (int(side * (0.7 - 0.3 * t)), int(side * (0.2 + 0.65 * t))) for t in np.linspace(0, 1, 20)
    ]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(*stroke[0]))
    for p in stroke[1:]:
        QTest.mouseMove(pad, QPoint(*p))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(*stroke[-1]))
    _settle(app)
    _save(w, "drawn_digit.png")
    w.discard_and_close()


def path_explorer(app):
    w = _window("digits", (64, 16, 12, 10))
    _advance(app, w, 300)
    w.docks["pathExplorerDock"].raise_()
    w.resizeDocks([w.docks["inspectorDock"]], [560], _vertical())
    w.model.set_selection(("w", 2, 5, 36))
    w.view_panels["pathExplorerDock"].set_example(None)  # the mini-batch mean
    _settle(app)
    _save(w, "path_explorer.png")
    w.discard_and_close()


def large_network(app, mnist):
    w = _window(f"mnist:{mnist}", (784, 300, 100, 10))
    _advance(app, w, 500)
    w.model.set_selection(("n", 2, 150))
    _settle(app)
    _save(w, "large_network.png")
    w.discard_and_close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=str(DEFAULT_MNIST))
    parser.add_argument("--only", help="one of the shots by name")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["BPSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="bpstudio-docs-")
    from bpstudio.gui.app import ensure_app

    app = ensure_app()
    shots = {
        "receptive_fields": lambda: receptive_fields(app, args.mnist),
        "decision_regions": lambda: decision_regions(app),
        "drawn_digit": lambda: drawn_digit(app, args.mnist),
        "path_explorer": lambda: path_explorer(app),
        "large_network": lambda: large_network(app, args.mnist),
    }
    for name, shot in shots.items():
        if args.only in (None, name):
            shot()
    return 0


if __name__ == "__main__":
    sys.exit(main())
