"""Turn a digit drawn on a canvas into a network input, the way the training digits were made.

MNIST (LeCun et al.): each digit's bounding box was scaled, keeping its aspect ratio, to fit a
20×20 box, with anti-aliasing giving grey levels; the result was placed in a 28×28 field so
that its centre of mass sits at the field's centre. scikit-learn's 8×8 digits (UCI optdigits)
were normalised to fill their frame and reduced to 8×8 blocks whose values count ink on a 0–16
scale. :func:`preprocess_stroke` does the same to a drawing, so a network trained on either set
sees a drawn digit as it saw its training digits. :func:`trace_input` then runs backprop on
such an input, for the views to show, without changing the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpstudio.core.errors import ConfigError

#: Canvas pixels at or below this much ink do not count towards the bounding box.
INK_THRESHOLD = 0.05


@dataclass(frozen=True)
class Target:
    """How one data set's digits were made: the field, the box the ink fills, the grey levels.

    Attributes
    ----------
    field : int
        Side of the square image, in pixels.
    box : int
        The long side of the ink's bounding box after scaling, in pixels.
    levels : int or None
        Grey levels are rounded to multiples of ``1 / levels`` (the digits' 0–16 counts divided
        by 16 as :func:`~bpstudio.core.data.builtin.load_digits` divides them); ``None`` keeps
        them continuous.
    """

    field: int
    box: int
    levels: int | None


TARGETS = {"mnist": Target(28, 20, None), "digits": Target(8, 8, 16)}


def target_for(image_shape) -> str | None:
    """The target whose field matches a data set's ``image_shape``, or ``None``."""
    for name, t in TARGETS.items():
        if tuple(image_shape or ()) == (t.field, t.field):
            return name
    return None


def preprocess_stroke(image, target: str = "mnist") -> np.ndarray:
    """A drawn digit as the network's input.

    Parameters
    ----------
    image : array_like
        The canvas, shape ``(rows, cols)``, ink from 0 (paper) to 1 (full ink).
    target : {"mnist", "digits"}
        ``"mnist"``: the ink's bounding box scaled (aspect kept) so its long side is 20 pixels,
        placed in 28×28 with its centre of mass at the centre. ``"digits"``: the long side fills
        the 8×8 frame, centred the same way, grey levels on the digits' 0–16 scale divided by 16.

    Returns
    -------
    numpy.ndarray
        The input row ``x``, float64 of shape ``(field * field,)`` in ``[0, 1]``, the darkest
        pixel at 1; all zeros when the canvas has no ink. ``x.reshape(field, field)`` is the
        image.

    Raises
    ------
    ConfigError
        If ``target`` is unknown or ``image`` is not a 2-D array.
    """
    if target not in TARGETS:
        raise ConfigError(f"unknown digit target {target!r}; choose one of {', '.join(TARGETS)}")
    t = TARGETS[target]
    ink = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if ink.ndim != 2:
        raise ConfigError(f"a canvas is a 2-D array of ink, got shape {ink.shape}")
    out = np.zeros((t.field, t.field))
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return out.ravel()
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    long_side = max(h, w)
    size = (max(1, round(h * t.box / long_side)), max(1, round(w * t.box / long_side)))
    small = area_resample(crop, size)
    small /= small.max()
    if t.levels is not None:
        small = np.rint(small * t.levels) / t.levels
    top, left = _centred_offset(small, t.field)
    out[top : top + size[0], left : left + size[1]] = small
    return out.ravel()


def area_resample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resample ``image`` to ``shape`` by area averaging (each output pixel is the mean of the
    input it covers, partly covered input pixels weighted by the part), as anti-aliasing does.

    Returns
    -------
    numpy.ndarray
        float64 of shape ``shape``; every output pixel covers some input, so the ink's bounding
        box becomes the whole output.
    """
    rows = _coverage(image.shape[0], shape[0])
    cols = _coverage(image.shape[1], shape[1])
    return rows @ image @ cols.T


def _coverage(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)``: the share of output pixel i's span that input pixel r covers."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    r = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, r + 1) - np.maximum(lo, r), 0.0, None)
    return overlap / (n_in / n_out)


def _centred_offset(small: np.ndarray, field: int) -> tuple[int, int]:
    """Top-left corner that puts the centre of mass of ``small`` nearest the field's centre.

    The shift is whole pixels (as MNIST's was), so the centre of mass lands within half a pixel
    of the centre; it is held back where it would push ink out of the field.
    """
    h, w = small.shape
    mass = small.sum()
    com_row = (np.arange(h) @ small.sum(axis=1)) / mass
    com_col = (np.arange(w) @ small.sum(axis=0)) / mass
    centre = (field - 1) / 2.0  # pixel indices: the field's centre between pixels 13 and 14
    top = int(np.clip(np.floor(centre - com_row + 0.5), 0, field - h))
    left = int(np.clip(np.floor(centre - com_col + 0.5), 0, field - w))
    return top, left


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """``(row, col)`` of an image's centre of mass in pixel indices (pixel centres at 0, 1, …)."""
    image = np.asarray(image, dtype=np.float64)
    mass = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)


def trace_input(network, x, label: int, *, eta: float = 0.0):
    """Backpropagation on one input of one's own, the network left unchanged.

    Parameters
    ----------
    network : Network
        Not modified: the pass runs on a copy of it.
    x : array_like
        The input row, shape ``(n_1,)`` (e.g. from :func:`preprocess_stroke`).
    label : int
        The desired class; y is its one-hot row.
    eta : float
        The η the trace reports (no update is applied).

    Returns
    -------
    bpstudio.core.trace.Trace
        A batch of one example with every phase up to and including BP3 and BP4 done (z, a, δ
        of every layer, ∂C/∂w and ∂C/∂b): the update is the one phase left, so
        ``trace.next_phase`` is the update and ``trace.weights`` are the network's weights.

    Raises
    ------
    ConfigError
        If ``x`` does not fit the input layer or ``label`` is not one of its classes.
    """
    x = np.asarray(x, dtype=network.dtype).reshape(1, -1)
    n_out = network.sizes[-1]
    if not 0 <= int(label) < n_out:
        raise ConfigError(f"the label must be a class from 0 to {n_out - 1}, got {label}")
    y = np.zeros((1, n_out), dtype=network.dtype)
    y[0, int(label)] = 1.0
    copy = network.copy()
    p = copy.begin_batch(x, y, eta, record=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while p.phases[p.done].kind != "update":
            p.run_next()
    return p.trace()
