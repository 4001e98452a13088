"""The icons in resources/: self-contained SVG, found by resource_path, drawn by QIcon, and
legible at 16 and 32 px on a light and on a dark background."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QMainWindow

from bpstudio.gui.window_parts import (
    APP_ICON_SIZES,
    ICONS,
    app_icon,
    icon,
    make_actions,
    resource_path,
)

NAMES = sorted(set(ICONS.values()) | set(APP_ICON_SIZES))
LIGHT, DARK = 1.0, 30 / 255  # white, and the near-black of dark themes (#1e1e1e)
CONTRAST = 0.3  # luma distance a pixel needs from the background to count as legible
LEGIBLE_SHARE = 0.10  # … and the share of the icon's square that must have it


def test_the_icons_are_the_ones_the_actions_name():
    assert set(ICONS.values()) == {
        "play",
        "pause",
        "step",
        "phase",
        "reset",
        "fit",
        "open",
        "save",
        "export",
    }


@pytest.mark.parametrize("name", NAMES)
def test_each_icon_is_a_self_contained_svg(name):
    path = resource_path(f"icons/{name}.svg")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert (x, y) == (0, 0) and w == h  # square, so it scales evenly to 16 and 32 px
    text = path.read_text(encoding="utf-8")
    for forbidden in ("<image", "<script", "href", "currentColor", "url("):
        assert forbidden not in text, forbidden  # no linked files, no theme-dependent colour
    assert QSvgRenderer(str(path)).isValid()


def _rgba(icon_: QIcon, size: int) -> np.ndarray:
    pixmap = icon_.pixmap(QSize(size, size))
    assert not pixmap.isNull() and pixmap.size() == QSize(size, size)
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(size, image.bytesPerLine() // 4, 4)
    return rows[:, :size].astype(float) / 255


def _legible_share(rgba: np.ndarray, background: float) -> float:
    """The share of pixels whose luma, composited over a grey ``background``, differs from
    the background's by more than :data:`CONTRAST`."""
    rgb, alpha = rgba[..., :3], rgba[..., 3:]
    luma = (rgb * alpha + background * (1 - alpha)) @ np.array([0.299, 0.587, 0.114])
    return float(np.mean(np.abs(luma - background) > CONTRAST))


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("name", NAMES)
def test_each_icon_is_legible_on_light_and_dark(name, size, qapp):
    rgba = _rgba(icon(name), size)
    assert np.mean(rgba[..., 3] > 0.5) >= 0.15  # something is drawn
    assert _legible_share(rgba, LIGHT) >= LEGIBLE_SHARE, "too faint on a light background"
    assert _legible_share(rgba, DARK) >= LEGIBLE_SHARE, "too faint on a dark background"


def test_the_legibility_check_rejects_a_glyph_for_one_theme_only(tmp_path, qapp):
    black = tmp_path / "black.svg"
    black.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">'
        '<path d="M8 4 L27 16 L8 28 Z" fill="#111111"/></svg>'
    )
    rgba = _rgba(QIcon(str(black)), 32)
    assert _legible_share(rgba, LIGHT) >= LEGIBLE_SHARE
    assert _legible_share(rgba, DARK) < LEGIBLE_SHARE


def test_actions_carry_their_own_icons(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = make_actions(window, {})
    for action_name, icon_name in ICONS.items():
        drawn = _rgba(actions[action_name].icon(), 32)
        assert np.array_equal(drawn, _rgba(icon(icon_name), 32)), action_name
    assert not np.array_equal(_rgba(icon("play"), 32), _rgba(icon("pause"), 32))


def test_the_app_icon_uses_the_small_drawing_below_32_px(qapp):
    app = app_icon()
    sizes = {s.width() for s in app.availableSizes()}
    assert {16, 24, 32, 48, 64, 128, 256} <= sizes
    assert np.array_equal(_rgba(app, 16), _rgba(icon("bpstudio-small"), 16))
    assert np.array_equal(_rgba(app, 32), _rgba(icon("bpstudio"), 32))


def test_a_missing_resource_says_so():
    with pytest.raises(FileNotFoundError, match="nothing.svg"):
        resource_path("icons/nothing.svg")
