"""Remembered settings (in the isolated store of conftest.settings_dir) and the window layout:
typed reads that survive bad values, recent files, the last run, geometry and docks from one
window to the next, the minimum window size, View → Reset layout."""

import math
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMainWindow, QMenu

from bpstudio.gui import create_main_window, settings
from bpstudio.gui.window_parts import (
    DOCKS,
    MIN_WINDOW,
    add_docks,
    add_toolbar_and_menus,
    fill_recent_menu,
    make_actions,
)


def _touch(folder: Path, name: str) -> str:
    path = folder / name
    path.write_bytes(b"PK")
    return str(path)


# -- the store -------------------------------------------------------------------------------------
def test_the_store_is_the_isolated_one(settings_dir):
    assert Path(settings.settings_file()).parent == settings_dir
    settings.set_value(settings.SPEED, 5.0)
    assert (settings_dir / "bpstudio.ini").is_file()
    # Anything using Qt's default locations lands in the same temporary folder.
    assert Path(QSettings("bpstudio", "bpstudio").fileName()).is_relative_to(settings_dir)


def test_values_come_back_with_their_types():
    values = {
        settings.NODE_QUANTITY: "sigma_prime",
        settings.EDGE_FILTER: 0.05,
        settings.SPEED: None,
        "view/list": [1, "two", 3.5],
        "view/one": ["only"],  # an INI file would hand a one-element list back as a string
        "view/flag": True,
    }
    for key, value in values.items():
        settings.set_value(key, value)
    for key, value in values.items():
        assert settings.get_value(key) == value
    assert settings.get_value(settings.SPEED, 1.0, kind=(float, type(None))) is None
    assert settings.get_value("view/one", []) == ["only"]
    assert settings.get_value("view/flag", False) is True


@pytest.mark.parametrize(
    "raw, default, options",
    [
        ("not json {", 10.0, {}),  # not JSON at all
        ('"fast"', 10.0, {}),  # a string where a number belongs
        ("true", 10.0, {}),  # a bool is not a number
        ("NaN", 10.0, {}),  # JSON-ish, but not a finite number
        ("Infinity", 10.0, {}),
        ("0.3", 0.2, {"choices": (None, 0.2, 0.05, 0.01)}),  # not one of the choices
        ('"phi"', "delta", {"choices": ("delta", "a", "z", "sigma_prime")}),
        ('{"a": 1}', [], {}),
    ],
)
def test_bad_stored_values_fall_back_to_the_default(raw, default, options):
    key = "view/something"
    store = settings.store()
    store.setValue(key, raw)
    store.sync()
    assert settings.get_value(key, default, **options) == default


def test_an_int_is_read_as_a_float_where_a_float_is_wanted():
    settings.set_value(settings.SPEED, 20)
    value = settings.get_value(settings.SPEED, 1.0)
    assert value == 20.0 and isinstance(value, float)


def test_a_corrupt_settings_file_is_ignored(settings_dir, qtbot):
    (settings_dir / "bpstudio.ini").write_bytes(
        b"\x00\xff[window]\ngeometry=@ByteArray(\x01\x02)\nstate=garbage\n"
        b"state_version=many\n[files]\nrecent=[[[\n[run\nlast=\xc3(\n\x9c\x00" * 3
    )
    assert settings.recent_files() == []
    assert settings.last_run() is None
    assert settings.get_value(settings.SPEED, 10.0) == 10.0
    window = _plain_window(qtbot)
    assert settings.restore_window_state(window) is False
    # and the store can be written again afterwards
    settings.set_value(settings.SPEED, 2.0)
    assert settings.get_value(settings.SPEED, 10.0) == 2.0


# -- last run and recent files ---------------------------------------------------------------------
def test_the_last_run_is_kept_as_plain_values():
    run = {
        "data": "digits",
        "sizes": [64, 16, 10],
        "activation": "tanh",
        "eta": 0.5,
        "mini_batch_size": 10,
        "seed": 3,
    }
    assert settings.last_run() is None
    settings.save_last_run(run)
    assert settings.last_run() == run
    settings.store().setValue(settings.LAST_RUN, "[1, 2]")  # not a description
    assert settings.last_run() is None


def test_recent_files_most_recent_first_at_most_ten(tmp_path):
    paths = [_touch(tmp_path, f"run{i}.bpsession") for i in range(12)]
    for p in paths:
        settings.add_recent_file(p)
    assert settings.recent_files() == paths[::-1][: settings.MAX_RECENT]
    settings.add_recent_file(paths[5])  # opened again: moves to the front, no duplicate
    listed = settings.recent_files()
    assert listed[0] == paths[5] and listed.count(paths[5]) == 1
    assert len(listed) == settings.MAX_RECENT


def test_missing_recent_files_are_dropped_when_listed(tmp_path):
    keep, gone = _touch(tmp_path, "keep.bpsession"), _touch(tmp_path, "gone.bpsession")
    settings.add_recent_file(keep)
    settings.add_recent_file(gone)
    Path(gone).unlink()
    assert settings.recent_files() == [keep]
    settings.clear_recent_files()
    assert settings.recent_files() == []


def test_recent_paths_are_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "here.bpsession")
    settings.add_recent_file("here.bpsession")
    assert settings.recent_files() == [str(tmp_path / "here.bpsession")]


def test_the_recent_menu_opens_files_and_clears(tmp_path, qtbot):
    a, b = _touch(tmp_path, "a & b.bpsession"), _touch(tmp_path, "second.bpsession")
    settings.add_recent_file(b)
    settings.add_recent_file(a)
    menu = QMenu()
    qtbot.addWidget(menu)
    opened = []
    entries = fill_recent_menu(menu, settings.recent_files(), opened.append)
    assert [e.data() for e in entries] == [a, b]
    assert entries[0].text() == "&1  a && b.bpsession"  # the & is shown, not a mnemonic
    entries[1].trigger()
    assert opened == [b]
    texts = [act.text() for act in menu.actions() if not act.isSeparator()]
    assert texts[-1] == "Clear"
    clear = menu.findChild(type(entries[0]), "actionClearRecent")
    clear.trigger()
    assert settings.recent_files() == []

    def remaining():
        return [act for act in menu.actions() if not act.isSeparator()]

    qtbot.waitUntil(lambda: [act.text() for act in remaining()] == ["No recent files", "Clear"])
    assert not any(act.isEnabled() for act in remaining())


# -- the window ------------------------------------------------------------------------------------
def _plain_window(qtbot) -> QMainWindow:
    window = QMainWindow()
    window.setObjectName("plainWindow")
    window.setCentralWidget(QLabel("centre"))
    for name in ("leftDock", "bottomDock"):
        dock = QDockWidget(name, window)
        dock.setObjectName(name)
        dock.setWidget(QLabel(name))
        area = Qt.DockWidgetArea.LeftDockWidgetArea
        if name == "bottomDock":
            area = Qt.DockWidgetArea.BottomDockWidgetArea
        window.addDockWidget(area, dock)
    qtbot.addWidget(window)
    return window


@pytest.fixture
def make_window(qtbot):
    """Build bpstudio's real window (``create_main_window``), shown; closed at the end."""
    made = []

    def make(size=(1500, 900)):
        window = create_main_window("digits")
        qtbot.addWidget(window)
        made.append(window)
        if size is not None:  # None: as the window sized itself
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for window in made:
        window.close()


def test_layout_persists_from_one_window_to_the_next(make_window, qtbot):
    # A size that fits the screen (offscreen's is 800 x 800), or Qt shrinks the restored window.
    screen = QGuiApplication.primaryScreen().availableGeometry()
    size = (max(MIN_WINDOW[0], min(1200, screen.width() - 40)), min(760, screen.height() - 20))
    first = make_window(size)
    assert first.size().toTuple() == size
    first.findChild(QDockWidget, "equationsDock").hide()
    plots = first.findChild(QDockWidget, "plotsDock")
    default = plots.height()
    first.resizeDocks([plots], [300], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: plots.height() >= default + 40)  # as tall as the docks around allow
    chosen = plots.height()
    settings.save_window_state(first)
    first.close()

    second = create_main_window("digits")
    qtbot.addWidget(second)
    try:
        assert settings.restore_window_state(second) is True
        second.show()
        qtbot.waitExposed(second)
        assert second.size().toTuple() == size  # not the 1500 x 900 a new window gets
        assert not second.findChild(QDockWidget, "equationsDock").isVisible()
        assert second.findChild(QDockWidget, "inspectorDock").isVisible()
        assert abs(second.findChild(QDockWidget, "plotsDock").height() - chosen) <= 10
    finally:
        second.close()


def test_closing_the_window_remembers_it_for_the_next(make_window, qtbot):
    """The window saves on close and restores when built (no explicit calls here)."""
    first = make_window((MIN_WINDOW[0], 720))
    first.findChild(QDockWidget, "inspectorDock").hide()
    quantity = first.findChild(QComboBox, "nodeQuantity")
    quantity.setCurrentIndex(quantity.findData("z"))
    first.close()
    assert settings.get_value(settings.NODE_QUANTITY) == "z"

    second = make_window(None)
    assert second.size().toTuple() == (MIN_WINDOW[0], 720)
    assert not second.findChild(QDockWidget, "inspectorDock").isVisible()
    assert second.findChild(QComboBox, "nodeQuantity").currentData() == "z"


def test_a_layout_saved_for_other_docks_is_not_applied(qtbot):
    window = _plain_window(qtbot)
    settings.save_window_state(window)
    settings.store().setValue(settings.STATE_VERSION_KEY, settings.STATE_VERSION + 1)
    assert settings.restore_window_state(window) is False


def _visible_dock_rects(window) -> dict[str, QRect]:
    return {
        name: window.findChild(QDockWidget, name).geometry()
        for name, *_ in DOCKS
        if window.findChild(QDockWidget, name).isVisible()
    }


def test_at_the_minimum_size_no_dock_draws_over_another(make_window, qtbot):
    window = make_window()
    window.resize(320, 240)  # smaller than allowed: the window stops at its minimum
    qtbot.waitUntil(lambda: window.size().toTuple() == MIN_WINDOW)
    rects = _visible_dock_rects(window)
    assert len(rects) == len(DOCKS)
    central = window.centralWidget().geometry()
    names = sorted(rects)
    for i, a in enumerate(names):
        assert not rects[a].intersects(central), a
        assert window.rect().contains(rects[a]), a
        for b in names[i + 1 :]:
            assert not rects[a].intersects(rects[b]), (a, b)
    assert central.width() >= 250 and central.height() >= 250

    window.resize(1500, 900)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1500, 900))
    assert window.findChild(QDockWidget, "plotsDock").height() >= 150


def test_reset_layout_puts_every_dock_back(make_window, qtbot):
    window = make_window()
    before = {name: rect.getRect() for name, rect in _visible_dock_rects(window).items()}
    plots = window.findChild(QDockWidget, "plotsDock")
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, plots)
    window.tabifyDockWidget(  # (floating a dock cannot be tried offscreen: no raise())
        window.findChild(QDockWidget, "hyperDock"), window.findChild(QDockWidget, "equationsDock")
    )
    window.findChild(QDockWidget, "inspectorDock").hide()
    window.findChild(QDockWidget, "controlsDock").hide()
    qtbot.waitUntil(lambda: window.dockWidgetArea(plots) == Qt.DockWidgetArea.LeftDockWidgetArea)

    window.findChild(QAction, "actionResetLayout").trigger()

    def restored():
        now = _visible_dock_rects(window)
        return set(now) == set(before) and all(
            _close(now[name].getRect(), before[name]) for name in before
        )

    qtbot.waitUntil(restored)
    for name, _title, _key, area, *_ in DOCKS:
        dock = window.findChild(QDockWidget, name)
        assert not dock.isFloating(), name
        assert window.dockWidgetArea(dock).name.lower().startswith(area), name


def _close(a: tuple, b: tuple, tolerance: int = 12) -> bool:
    return all(math.isclose(x, y, abs_tol=tolerance) for x, y in zip(a, b))


def test_reset_layout_puts_a_tabbed_dock_back_behind_its_neighbour(qtbot):
    window = QMainWindow()
    window.setCentralWidget(QLabel("network"))
    qtbot.addWidget(window)
    docks = add_docks(window, {key: QLabel(key) for _name, _title, key, *_ in DOCKS})
    note = QDockWidget("Note", window)  # a dock added as the window adds its note
    note.setObjectName("noteDock")
    note.setWidget(QLabel("note"))
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, note)
    window.tabifyDockWidget(docks["equationsDock"], note)
    docks["equationsDock"].raise_()
    docks["noteDock"] = note
    add_toolbar_and_menus(window, make_actions(window, {}), docks)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    equations = docks["equationsDock"]
    assert window.tabifiedDockWidgets(equations) == [note]
    before = {name: dock.geometry().getRect() for name, dock in docks.items()}

    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, note)
    equations.hide()
    qtbot.waitUntil(lambda: window.dockWidgetArea(note) == Qt.DockWidgetArea.LeftDockWidgetArea)
    window.findChild(QAction, "actionResetLayout").trigger()

    qtbot.waitUntil(
        lambda: all(_close(dock.geometry().getRect(), before[name]) for name, dock in docks.items())
    )
    assert window.tabifiedDockWidgets(equations) == [note]
    assert equations.isVisible() and note.isVisible()
