"""What bpstudio remembers between runs: window layout, the last run, recent files, view settings.

A thin layer over :class:`QSettings` (organisation and application "bpstudio", INI format).
Where the file lives: ``$BPSTUDIO_SETTINGS_DIR/bpstudio.ini`` when that variable is set (tests
set it, and so can a user who wants a portable or throw-away profile); otherwise Qt's per-user
location (``~/.config/bpstudio/bpstudio.ini`` on Linux).

Values other than the window's geometry and dock state are stored as JSON text, so that what
comes back has the type that went in (INI files otherwise return a one-element list as a
string and numbers as text). Every read survives a bad stored value: a corrupt or hand-edited
file never stops the app, the value's default is used instead.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

ORGANIZATION = APPLICATION = "bpstudio"
#: Environment variable naming the folder of the settings file (it wins over Qt's location).
SETTINGS_DIR_ENV = "BPSTUDIO_SETTINGS_DIR"
#: Raise when the docks change, so that an old saved layout is not applied to a new window.
STATE_VERSION = 1
MAX_RECENT = 10

GEOMETRY = "window/geometry"
STATE = "window/state"
STATE_VERSION_KEY = "window/state_version"
LAST_RUN = "run/last"
RECENT = "files/recent"
NODE_QUANTITY = "view/node_quantity"
EDGE_FILTER = "view/edge_filter"
SPEED = "view/speed"

_MISSING = object()


def store() -> QSettings:
    """bpstudio's settings store (see the module docstring for where it lives)."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        return QSettings(os.path.join(folder, "bpstudio.ini"), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def settings_file() -> str:
    """The path of the settings file in use."""
    return store().fileName()


# -- plain values ----------------------------------------------------------------------------------
def set_value(key: str, value) -> None:
    """Remember ``value`` (JSON-serialisable: None, bool, int, float, str, lists, dicts)."""
    s = store()
    s.setValue(key, json.dumps(value, allow_nan=False))
    s.sync()


def get_value(
    key: str,
    default=None,
    *,
    kind: type | tuple[type, ...] | None = None,
    choices: Iterable | None = None,
):
    """The value remembered under ``key``, or ``default`` when there is none or it is bad.

    ``kind`` is the type(s) the value must have (by default the type of ``default``, unless
    that is None); an int is accepted where a float is wanted, a bool never where a number is.
    With ``choices`` the value must also be one of them. Non-finite floats are refused.
    """
    raw = store().value(key, _MISSING)
    if raw is _MISSING or not isinstance(raw, str):
        return default
    try:
        value = json.loads(raw)
    except ValueError:
        return default
    if kind is None and default is not None:
        kind = type(default)
    if kind is not None and not _is_kind(value, kind):
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return default
    if choices is not None and value not in list(choices):
        return default
    return float(value) if kind is float and isinstance(value, int) else value


def _is_kind(value, kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def remove_value(key: str) -> None:
    """Forget ``key``."""
    s = store()
    s.remove(key)
    s.sync()


# -- the last run ----------------------------------------------------------------------------------
def save_last_run(description: dict) -> None:
    """Remember the last run's description (plain values, e.g. ``RunSpec.to_dict()``)."""
    set_value(LAST_RUN, description)


def last_run() -> dict | None:
    """The last run's description as saved, or None (convert it with ``RunSpec.from_dict``,
    which must still check its values: the file may have been edited by hand)."""
    return get_value(LAST_RUN, None, kind=dict)


# -- recent files ----------------------------------------------------------------------------------
def recent_files() -> list[str]:
    """Recently opened or saved session files, most recent first; files gone are left out."""
    return [p for p in _stored_recent() if Path(p).is_file()]


def add_recent_file(path: str | os.PathLike) -> list[str]:
    """Put ``path`` first among the recent files (at most :data:`MAX_RECENT`, files that no
    longer exist dropped); returns the new list."""
    first = str(Path(path).expanduser().absolute())
    rest = [p for p in _stored_recent() if p != first and Path(p).is_file()]
    paths = [first, *rest][:MAX_RECENT]
    set_value(RECENT, paths)
    return paths


def remove_recent_file(path: str | os.PathLike) -> None:
    """Forget one recent file (e.g. one that failed to open)."""
    gone = str(Path(path).expanduser().absolute())
    set_value(RECENT, [p for p in _stored_recent() if p != gone])


def clear_recent_files() -> None:
    """Forget all recent files."""
    set_value(RECENT, [])


def _stored_recent() -> list[str]:
    paths = get_value(RECENT, [], kind=list)
    unique = []
    for p in paths:
        if isinstance(p, str) and p and p not in unique:
            unique.append(p)
    return unique[:MAX_RECENT]


# -- the window ------------------------------------------------------------------------------------
def save_window_state(window: QMainWindow) -> None:
    """Remember the window's geometry and its docks' and toolbars' layout (call on close)."""
    s = store()
    s.setValue(GEOMETRY, window.saveGeometry())
    s.setValue(STATE, window.saveState(STATE_VERSION))
    s.setValue(STATE_VERSION_KEY, STATE_VERSION)
    s.sync()


def restore_window_state(window: QMainWindow) -> bool:
    """Give the window its remembered geometry and dock layout (call after the docks exist,
    before showing it). Returns True if both were restored; otherwise whatever was not valid
    is left as the window built it."""
    s = store()
    geometry, state = s.value(GEOMETRY), s.value(STATE)
    try:
        version = int(s.value(STATE_VERSION_KEY, -1))
    except (TypeError, ValueError):
        version = -1
    restored_geometry = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
    restored_state = (
        version == STATE_VERSION
        and isinstance(state, QByteArray)
        and window.restoreState(state, STATE_VERSION)
    )
    return bool(restored_geometry and restored_state)


def forget_window_state() -> None:
    """Forget the remembered geometry and layout (the next window starts with the defaults)."""
    s = store()
    for key in (GEOMETRY, STATE, STATE_VERSION_KEY):
        s.remove(key)
    s.sync()
