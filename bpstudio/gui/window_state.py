"""What the window keeps between runs (settings) and with a run (a session file's view state).

Both keep the same few view settings — what the nodes show, the edge filter, the saturation
rings, the selection — through :func:`view_state` and :func:`apply_view_state`; the settings add
the window's geometry and dock layout, the speed and the last run description.
"""

from __future__ import annotations

from bpstudio.gui import settings

#: Settings keys of the view, by the view state's names.
VIEW_KEYS = {"node_quantity": "view/node_quantity", "edge_filter": "view/edge_filter"}
SPEED_KEY = "view/speed"


def view_state(window) -> dict:
    """The selection and what the view shows, as plain values."""
    sel = window.model.selection
    return {
        "selection": None if sel is None else list(sel),
        "node_quantity": window.model.node_quantity,
        "edge_filter": window.controls.edges.currentIndex(),
        "saturation": window.show_saturation,
    }


def apply_view_state(window, view: dict) -> None:
    """Show ``view`` (from a file or the settings); values of the wrong kind are ignored."""
    controls = window.controls
    quantity = view.get("node_quantity")
    index = controls.quantity.findData(quantity) if isinstance(quantity, str) else -1
    if index >= 0:
        controls.quantity.setCurrentIndex(index)
    edges = view.get("edge_filter")
    if isinstance(edges, int) and 0 <= edges < controls.edges.count():
        controls.edges.setCurrentIndex(edges)
    if isinstance(view.get("saturation"), bool):
        controls.saturation.setChecked(view["saturation"])
    sel = view.get("selection")
    if isinstance(sel, list) and sel:
        window.model.set_selection(tuple(sel))


def restore_settings(window) -> bool:
    """Give a new window the remembered layout, view and speed; True if the layout was there."""
    restored = settings.restore_window_state(window)
    apply_view_state(
        window,
        {
            "node_quantity": settings.get_value(VIEW_KEYS["node_quantity"], "delta", kind=str),
            "edge_filter": settings.get_value(VIEW_KEYS["edge_filter"], 0, kind=int),
        },
    )
    speed = window.controls.speed
    index = settings.get_value(SPEED_KEY, speed.value(), kind=int)
    if 0 <= index <= speed.maximum():
        speed.setValue(index)
    window.controller.set_speed(window.controls.speed_value())
    return restored


def save_settings(window) -> None:
    """Remember the window (call once, on close)."""
    settings.save_window_state(window)
    state = view_state(window)
    for name, key in VIEW_KEYS.items():
        settings.set_value(key, state[name])
    settings.set_value(SPEED_KEY, window.controls.speed.value())
    snap = window.model.snapshot
    if snap is not None and snap.spec is not None:
        settings.save_last_run(snap.spec.to_dict())
