"""Colour maps shared by the network view, its colour bars and the tests.

Everything here is a small pure function or class over NumPy arrays, so a test can compute the
colour the view should show without looking inside the view.

One look-up table (LUT) of ``N_BINS`` colours serves every diverging quantity: a value ``v`` on
the scale ``±scale`` goes to bin ``index = clip(rint(v * HALF / scale), -HALF, HALF) + HALF``,
so bin ``HALF`` is exactly zero. Nodes show the LUT colour itself; edges show it blended onto the
background with an opacity that grows with ``|v|``, so strong weights stand out and weak ones
fade into the page.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

#: Background of the network view: light, so screenshots read well on a page.
BACKGROUND = (255, 255, 255)
#: Fill of a node whose value is not available (not computed yet in this pass).
NEUTRAL_GREY = (200, 200, 200)
#: Number of colour bins; odd, so that zero has a bin of its own (``HALF``).
N_BINS = 255
HALF = N_BINS // 2
#: ColorBrewer RdBu, blue (negative) through near-white (zero) to red (positive).
DIVERGING_STOPS = (
    "#2166ac",
    "#4393c3",
    "#92c5de",
    "#d1e5f0",
    "#f7f7f7",
    "#fddbc7",
    "#f4a582",
    "#d6604d",
    "#b2182b",
)
#: Viridis (matplotlib's default sequential map) at nine stops: dark violet (zero) to yellow.
#: One-signed quantities (σ′(z), a of σ) use it, so they never look like signed ones.
SEQUENTIAL_STOPS = (
    "#440154",
    "#472d7b",
    "#3b528b",
    "#2c728e",
    "#21918c",
    "#28ae80",
    "#5ec962",
    "#addc30",
    "#fde725",
)
#: Edge opacity at ``|v| = 0`` and the exponent of its growth to 1 at ``|v| = scale``.
EDGE_MIN_ALPHA = 0.06
EDGE_ALPHA_GAMMA = 1.3
#: How much of an unfocused edge's colour survives while a neuron has the focus.
FADE_KEEP = 0.12


def _hex_to_rgb(text: str) -> tuple[int, int, int]:
    value = int(text.lstrip("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def _lut(stops, n_bins: int) -> np.ndarray:
    rgb_stops = np.array([_hex_to_rgb(s) for s in stops], dtype=float)
    where = np.linspace(0.0, 1.0, len(rgb_stops))
    t = np.linspace(0.0, 1.0, n_bins)
    rgb = np.stack([np.interp(t, where, rgb_stops[:, c]) for c in range(3)], axis=1)
    out = np.full((n_bins, 4), 255, dtype=np.uint8)
    out[:, :3] = np.rint(rgb).astype(np.uint8)
    return out


def sequential_lut(n_bins: int = N_BINS) -> np.ndarray:
    """Return the sequential colour table (``uint8`` ``(n_bins, 4)``): row 0 is zero."""
    return _lut(SEQUENTIAL_STOPS, n_bins)


def diverging_lut(n_bins: int = N_BINS) -> np.ndarray:
    """Return the diverging colour table.

    Parameters
    ----------
    n_bins : int
        Number of colours (odd).

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(n_bins, 4)`` (RGBA, alpha 255); row 0 is the most negative
        value, row ``n_bins // 2`` zero, the last row the most positive.
    """
    return _lut(DIVERGING_STOPS, n_bins)


def edge_alpha(magnitude: np.ndarray) -> np.ndarray:
    """Opacity of an edge whose weight has relative magnitude ``|w| / scale``.

    Parameters
    ----------
    magnitude : numpy.ndarray
        Values in ``[0, 1]`` (larger values are clipped).

    Returns
    -------
    numpy.ndarray
        Opacity in ``[EDGE_MIN_ALPHA, 1]``, same shape.
    """
    m = np.clip(np.asarray(magnitude, dtype=float), 0.0, 1.0)
    return EDGE_MIN_ALPHA + (1.0 - EDGE_MIN_ALPHA) * m**EDGE_ALPHA_GAMMA


def blend(rgba: np.ndarray, alpha: np.ndarray, background=BACKGROUND) -> np.ndarray:
    """Blend colours onto the background: ``alpha * colour + (1 - alpha) * background``.

    Parameters
    ----------
    rgba : numpy.ndarray
        ``(n, 4)`` or ``(n, 3)`` colours, ``uint8``.
    alpha : numpy.ndarray or float
        Opacity per colour, shape ``(n,)``, or one number.
    background : tuple of int
        RGB of the background.

    Returns
    -------
    numpy.ndarray
        Opaque ``uint8`` colours of shape ``(n, 4)``.
    """
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (len(rgba),))[:, None]
    rgb = a * rgba[:, :3] + (1.0 - a) * np.asarray(background, dtype=float)[None, :]
    out = np.full((len(rgba), 4), 255, dtype=np.uint8)
    out[:, :3] = np.rint(rgb).astype(np.uint8)
    return out


def edge_lut(n_bins: int = N_BINS) -> np.ndarray:
    """Return the edge colour table: the diverging LUT blended onto the background.

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``(n_bins, 4)``, opaque; bin ``i`` stands for ``v / scale = (i - HALF) / HALF``.
    """
    half = n_bins // 2
    magnitude = np.abs(np.arange(n_bins) - half) / half
    return blend(diverging_lut(n_bins), edge_alpha(magnitude))


def grey_rgb(pixels: np.ndarray) -> np.ndarray:
    """Grey level shown for input pixels in ``[0, 1]``: 0 is white paper, 1 is black ink.

    Returns
    -------
    numpy.ndarray
        ``uint8`` grey levels, same shape as ``pixels``.
    """
    p = np.clip(np.asarray(pixels, dtype=float), 0.0, 1.0)
    return np.rint(255.0 * (1.0 - p)).astype(np.uint8)


def pack_rgb32(rgba: np.ndarray) -> np.ndarray:
    """Pack ``(n, 4)`` ``uint8`` colours as ``uint32`` ``0xFFRRGGBB`` (``QImage.Format_RGB32``)."""
    c = rgba.astype(np.uint32)
    return (0xFF000000 | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).astype(np.uint32)


def robust_scale(values: np.ndarray, percentile: float = 99.0, max_samples: int = 2048) -> float:
    """A colour scale that a few outliers cannot wash out.

    Parameters
    ----------
    values : numpy.ndarray
        Any shape; non-finite entries are ignored.
    percentile : float
        Percentile of ``|values|`` used as the scale (linear interpolation, as ``np.percentile``).
    max_samples : int
        Larger inputs are subsampled with a fixed stride (deterministic, and cheap per frame).

    Returns
    -------
    float
        A positive scale (``1.0`` when every value is zero or non-finite).
    """
    flat = np.ravel(values)
    stride = max(1, len(flat) // max_samples)
    sample = np.abs(flat[::stride])
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 1.0
    # np.percentile's own machinery costs ~0.3 ms a frame; two partitions give the same number.
    rank = (sample.size - 1) * percentile / 100.0
    lo = int(np.floor(rank))
    hi = min(lo + 1, sample.size - 1)
    part = np.partition(sample, (lo, hi))
    scale = float(part[lo] + (rank - lo) * (part[hi] - part[lo]))
    if scale <= 0.0:
        scale = float(sample.max())
    return scale if scale > 0.0 else 1.0


#: Mantissas of the round numbers colour scales snap to (each step at most a third larger).
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(value: float) -> float:
    """The smallest round number ``m * 10**k`` (``m`` in :data:`NICE_STEPS`) that is ``>= value``.

    Colour scales snap to these, so the numbers on a colour bar are readable and stay put while
    the values drift, instead of changing in the third digit on every frame (which also made the
    same colour mean a slightly different value in every frame).

    Returns
    -------
    float
        ``1.0`` for a value that is not a positive finite number.
    """
    value = float(value)
    if not np.isfinite(value) or value <= 0.0:
        return 1.0
    exponent = int(np.floor(np.log10(value)))
    # log10 may round across a power of ten, so the next decade is tried as well.
    for unit in (10.0**exponent, 10.0 ** (exponent + 1)):
        for m in NICE_STEPS:
            # A relative tolerance keeps 0.30000000000000004 at 0.3 rather than 0.4.
            if m * unit >= value * (1 - 1e-12):
                return float(f"{m * unit:.12g}")
    return value  # not reached: 10 ** (exponent + 2) > value


class DivergingMap:
    """Map values on ``±scale`` to the diverging colours.

    Parameters
    ----------
    scale : float
        Values at or beyond ``±scale`` get the end colours.
    lut : numpy.ndarray, optional
        ``(N_BINS, 4)`` colour table; the plain diverging LUT by default, ``edge_lut()`` for edges.
    """

    def __init__(self, scale: float, lut: np.ndarray | None = None) -> None:
        self.scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
        self.lut = _DEFAULT_LUT if lut is None else lut
        # A map is made per frame with a new scale; the packed table depends on the LUT alone.
        self.lut32 = _DEFAULT_LUT32 if lut is None else pack_rgb32(self.lut)

    #: Values run from ``-scale`` to ``+scale`` (see :class:`SequentialMap` for ``0 … scale``).
    signed = True

    @property
    def low(self) -> float:
        """The value of the first bin."""
        return -self.scale

    def rescaled(self, scale: float) -> DivergingMap:
        """The same colours on another scale (reuses the packed table)."""
        new = type(self).__new__(type(self))
        new.scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
        new.lut, new.lut32 = self.lut, self.lut32
        return new

    def index(self, values, out: np.ndarray | None = None, work: np.ndarray | None = None):
        """Return the LUT bin of each value (``intp``), optionally into preallocated arrays.

        The bin is ``floor(v * HALF / scale + HALF + 0.5)`` clipped to ``[0, N_BINS - 1]``
        (round half up); NaN maps to the zero bin.

        Parameters
        ----------
        values : array_like
            Values to map.
        out : numpy.ndarray, optional
            ``intp`` array of the same shape to receive the bins.
        work : numpy.ndarray, optional
            Scratch array of the same shape, ``float64`` or ``float32`` (avoids an allocation per
            frame; ``float32`` halves the memory traffic of the 794,000 edges of [784, 1000, 10]).
        """
        v = np.asarray(values, dtype=float)
        f = np.multiply(v, HALF / self.scale, out=work)
        f += HALF + 0.5
        np.clip(f, 0.0, len(self.lut) - 0.5, out=f)  # ±inf end at the end bins; NaN stays NaN
        if np.isnan(np.add.reduce(f, axis=None)):  # one cheap pass; masks only when needed
            np.putmask(f, np.isnan(f), HALF + 0.5)
        if out is None:
            return f.astype(np.intp)
        np.copyto(out, f, casting="unsafe")  # truncation is floor: f >= 0
        return out

    def rgba(self, values) -> np.ndarray:
        """Return the ``uint8`` RGBA colour of each value, shape ``(n, 4)``."""
        return self.lut[self.index(np.ravel(values))]

    def qcolor(self, value: float) -> QColor:
        """Return the colour of one value as a ``QColor``."""
        r, g, b, a = (int(c) for c in self.lut[int(self.index(np.array([value]))[0])])
        return QColor(r, g, b, a)


_DEFAULT_LUT = diverging_lut()
_DEFAULT_LUT.setflags(write=False)
_DEFAULT_LUT32 = pack_rgb32(_DEFAULT_LUT)
_DEFAULT_LUT32.setflags(write=False)


class SequentialMap(DivergingMap):
    """Map values on ``0 … scale`` to the sequential colours (one-signed quantities).

    Bin ``i`` stands for ``v = i * scale / (N_BINS - 1)``; negative values and NaN get bin 0,
    values at or beyond ``scale`` the last bin.
    """

    signed = False

    def __init__(self, scale: float, lut: np.ndarray | None = None) -> None:
        super().__init__(scale, _SEQUENTIAL_LUT if lut is None else lut)
        if lut is None:
            self.lut32 = _SEQUENTIAL_LUT32

    @property
    def low(self) -> float:
        return 0.0

    def index(self, values, out: np.ndarray | None = None, work: np.ndarray | None = None):
        """Return the LUT bin of each value: ``floor(v / scale * (N_BINS - 1) + 0.5)``, clipped."""
        v = np.asarray(values, dtype=float)
        top = len(self.lut) - 1
        f = np.multiply(v, top / self.scale, out=work)
        f += 0.5
        np.clip(f, 0.0, top + 0.5, out=f)
        if np.isnan(np.add.reduce(f, axis=None)):
            np.putmask(f, np.isnan(f), 0.0)
        if out is None:
            return f.astype(np.intp)
        np.copyto(out, f, casting="unsafe")
        return out


_SEQUENTIAL_LUT = sequential_lut()
_SEQUENTIAL_LUT.setflags(write=False)
_SEQUENTIAL_LUT32 = pack_rgb32(_SEQUENTIAL_LUT)
_SEQUENTIAL_LUT32.setflags(write=False)


def node_maps(peaks: np.ndarray, signed: bool, per_layer: bool):
    """The node colour map and the map of each layer, from the largest ``|value|`` per layer.

    Parameters
    ----------
    peaks : numpy.ndarray
        ``(L,)`` largest ``|value|`` of each layer (0 where none is shown).
    signed : bool
        Diverging maps on ``±scale``, or sequential maps on ``0 … scale``.
    per_layer : bool
        Each layer on its own round scale (the common map then has scale 1, the colour bar
        reading in fractions of a layer's scale), or all on the round scale above the peak.

    Returns
    -------
    tuple
        ``(common map, [map of layer l = 1 … L])``.
    """
    kind = DivergingMap if signed else SequentialMap
    if per_layer:
        return kind(1.0), [kind(nice_ceiling(float(p))) for p in peaks]
    common = kind(nice_ceiling(float(np.max(peaks))))
    return common, [common] * len(peaks)


#: The background as a packed ``0xFFRRGGBB`` colour (entry 0 of an edge colour table).
BG32 = int(pack_rgb32(np.array([[*BACKGROUND, 255]], dtype=np.uint8))[0])


class EdgeColours:
    """Per-frame colour of every edge, with optional strongest-fraction filter and focus.

    Only the edges the screen shows need a colour each frame: of the 794,000 edges of
    [784, 1000, 10] about 6,000 own a pixel of the ID image. :meth:`set_shown` names them (the
    raster does, after every build); :attr:`table` is kept current for those, the focused
    edges and, before the first :meth:`set_shown`, for all. :meth:`full_table` colours all.

    Parameters
    ----------
    n_edges : int
        Number of weights.

    Attributes
    ----------
    weights : numpy.ndarray
        ``(n_edges,)`` copy of the latest weights (global edge order).
    table : numpy.ndarray
        ``(n_edges + 1,)`` packed ``0xFFRRGGBB`` colours; entry 0 is the background.
    visible : numpy.ndarray
        ``(n_edges,)`` bool: not hidden by the filter.
    map : DivergingMap
        The edge colours on the current scale.
    """

    def __init__(self, n_edges: int) -> None:
        self.n_edges = n_edges
        self.weights = np.zeros(n_edges)
        self.table = np.full(n_edges + 1, BG32, dtype=np.uint32)
        self.visible = np.ones(n_edges, dtype=bool)
        self.map = DivergingMap(1.0, edge_lut())
        self._faded32 = pack_rgb32(blend(self.map.lut, FADE_KEEP))
        self.fraction: float | None = None
        self.focus: np.ndarray | None = None
        self.shown: np.ndarray | None = None
        self.has_weights = False

    def set_weights(self, flat) -> None:
        """Copy the weights, rescale and recolour.

        ``flat`` is ``(n_edges,)`` in global order, or the sequence of matrices ``w^l`` whose
        concatenated ``ravel()`` is that (copied straight in, without a concatenated copy).
        """
        if isinstance(flat, np.ndarray):
            np.copyto(self.weights, flat)
        else:
            start = 0
            for w in flat:
                stop = start + np.size(w)
                np.copyto(self.weights[start:stop], np.ravel(w))
                start = stop
        self.has_weights = True
        self.map = self.map.rescaled(nice_ceiling(robust_scale(self.weights)))
        self.recolour()

    def set_shown(self, edges: np.ndarray | None) -> None:
        """Keep :attr:`table` current for these global edge numbers only (``None``: all)."""
        self.shown = None if edges is None else np.asarray(edges, np.intp)
        self.recolour()

    def recolour(self) -> None:
        """Rebuild :attr:`table` (for the shown edges) from the weights, filter and focus."""
        if self.fraction is None:
            self.visible.fill(True)
        else:
            magnitude = np.abs(self.weights)
            kth = self.n_edges - max(1, int(round(self.fraction * self.n_edges)))
            threshold = np.partition(magnitude, kth)[kth]
            np.greater_equal(magnitude, threshold, out=self.visible)
        edges = self.shown
        if edges is not None and self.focus is not None:
            edges = np.union1d(edges, self.focus)
        self._colour(self.table, edges)

    def full_table(self) -> np.ndarray:
        """A fresh ``(n_edges + 1,)`` table with every edge coloured (for exports)."""
        table = np.full(self.n_edges + 1, BG32, dtype=np.uint32)
        self._colour(table, None)
        return table

    def _colour(self, table: np.ndarray, edges: np.ndarray | None) -> None:
        weights = self.weights if edges is None else self.weights[edges]
        lut = self.map.lut32 if self.focus is None else self._faded32
        colours = lut[self.map.index(weights)]
        if self.focus is not None:
            focus = np.zeros(self.n_edges, bool)
            focus[self.focus] = True
            strong = focus if edges is None else focus[edges]
            colours[strong] = self.map.lut32[self.map.index(weights[strong])]
        colours[~(self.visible if edges is None else self.visible[edges])] = BG32
        if edges is None:
            table[1:] = colours
        else:
            table[1 + edges] = colours

    def colour_of(self, e: int) -> np.ndarray:
        """``(4,)`` ``uint8`` colour of edge ``e`` at full strength (the selected edge)."""
        return self.map.lut[int(self.map.index(self.weights[e : e + 1])[0])]
