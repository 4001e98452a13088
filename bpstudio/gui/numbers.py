"""How numbers, and the book's notation around them, are written on screen by every panel.

Numbers: :func:`format_number` (and :func:`format_factor` for "how many times"). A learner
reads these numbers side by side, so they follow one set of rules:

* finite numbers get ``digits`` significant digits (5 unless said otherwise), with a true minus
  sign (−) and without trailing zeros: ``0.039749``, ``−0.56465``, ``2.5``;
* huge numbers (|x| ≥ :data:`HUGE`, e.g. the cost of a diverged network) are written compactly
  in scientific notation with two significant digits, ``1.2e+105``: their digits mean nothing,
  their size does, and a 135-character number helps nobody;
* there is no "−0": negative zero, and anything that rounds to zero, is written ``0``;
* infinities and not-a-number are words a person can read: ``∞``, ``−∞``, ``NaN``;
* ``None`` (a value not computed) is a dash, ``—``.

Notation: :class:`Rich` holds a piece of the book's notation as HTML (for rich-text labels) and
as plain Unicode (for tables and tests); :func:`sym` writes one symbol such as w³₇,₁₂, and
:func:`notation` a whole line with numbers put in.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import numpy as np

#: From this magnitude on a number is "huge" (see the module docstring).
HUGE = 1e9
#: Significant digits of a huge number.
HUGE_DIGITS = 2
MINUS = "−"
#: The grey of notes beside the numbers.
MUTED = "#777777"


def format_number(value: float | None, digits: int = 5) -> str:
    """``value`` as text by the rules of the module docstring.

    Parameters
    ----------
    value : float, int, NumPy scalar or None
    digits : int
        Significant digits of a number below :data:`HUGE` (at least 1).

    Examples
    --------
    >>> format_number(-0.0)
    '0'
    >>> format_number(1.23456789e105)
    '1.2e+105'
    >>> format_number(-0.000123456789)
    '−0.00012346'
    """
    if value is None:
        return "—"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    if abs(value) >= HUGE:
        text = f"{value:.{HUGE_DIGITS}g}"
    else:
        text = f"{value:.{max(int(digits), 1)}g}"
    if float(text) == 0.0:  # -0.0, and whatever the rounding made zero
        return "0"
    if "e" in text:  # 1.2346e+05 -> 1.2346e+5: no padded exponent
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0') or '0'}"
    return text.replace("-", MINUS)


def format_factor(value: float | None) -> str:
    """A "how many times" factor: ``1,256×`` (whole numbers with thousands separators).

    Factors below 10 keep two decimals (``3.47×``); huge ones and non-finite ones follow
    :func:`format_number`.
    """
    if value is None or not math.isfinite(float(value)) or abs(float(value)) >= HUGE:
        return format_number(value) + "×"
    value = float(value)
    text = f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    if float(text.replace(",", "")) == 0.0:
        return "0×"
    return text.replace("-", MINUS) + "×"


def parse_number(text: str) -> float:
    """The float that :func:`format_number` or :func:`format_factor` wrote (for tests, scripts).

    Raises
    ------
    ValueError
        ``text`` is not such a number.
    """
    words = {"∞": math.inf, MINUS + "∞": -math.inf, "NaN": math.nan}
    text = text.strip().rstrip("×")
    if text in words:
        return words[text]
    return float(text.replace(MINUS, "-").replace(",", ""))


# -- the book's notation, with numbers in it ------------------------------------------------------
_SUP = dict(zip("0123456789−+-()lLTn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁻⁽⁾ˡᴸᵀⁿ"))
_SUB = dict(zip("0123456789−+-jkxal", "₀₁₂₃₄₅₆₇₈₉₋₊₋ⱼₖₓₐₗ"))
_SUB[","] = ","


def _script(text: str, table: dict[str, str], mark: str) -> str:
    if all(c in table for c in text):
        return "".join(table[c] for c in text)
    return f"{mark}({text})"


@dataclass(frozen=True)
class Rich:
    """A piece of notation in two forms: HTML (sup/sub) and plain Unicode text."""

    html: str
    text: str

    def __add__(self, other: Rich | str) -> Rich:
        other = rich(other)
        return Rich(self.html + other.html, self.text + other.text)

    def __radd__(self, other: str) -> Rich:
        return rich(other) + self


def rich(value: Rich | str) -> Rich:
    """Plain text as :class:`Rich` (escaped for HTML); a :class:`Rich` passes through."""
    if isinstance(value, Rich):
        return value
    return Rich(html.escape(value).replace("  ", "&nbsp; "), value)


def sym(base: str, sup: object = "", sub: object = "") -> Rich:
    """A symbol with superscript and subscript, e.g. ``sym("w", 3, "7,12")`` → w³₇,₁₂."""
    sup, sub = str(sup), str(sub)
    h = html.escape(base) + (f"<sup>{html.escape(sup)}</sup>" if sup else "")
    h += f"<sub>{html.escape(sub)}</sub>" if sub else ""
    text = base + (_script(sup, _SUP, "^") if sup else "")
    text += _script(sub, _SUB, "_") if sub else ""
    return Rich(h, text)


def num(value: float, paren: bool = False) -> Rich:
    """A number as :class:`Rich`, in parentheses when it shows negative and ``paren`` is set."""
    text = format_number(value)
    return rich(f"({text})" if paren and text.startswith("−") else text)


def caret_html(text: str) -> str:
    """Turn the core's ``a^L``, ``e^−z``, ``δ^(l+1)`` into HTML superscripts."""
    escaped = html.escape(text)
    return re.sub(r"\^(\([^)]*\)|[\w−]+)", lambda m: f"<sup>{m.group(1)}</sup>", escaped)


_SYMBOL = re.compile(r"\{([^{}^_]*)(?:\^([^{}_]*))?(?:_([^{}]*))?\}")
_VALUE = re.compile(r"\$\((\w+)\)|\$(\w+)")


def notation(template: str, **values) -> Rich:
    """Build :class:`Rich` notation from a template.

    ``{base^sup_sub}`` is a symbol (either script may be left out), ``$name`` a value from
    ``values`` (ints as they are, floats through :func:`format_number`), and ``$(name)``
    the same in parentheses when negative.
    ``notation("{δ^$l_$j} = $(d)", l=3, j=7, d=-0.029)`` gives δ³₇ = (−0.029).
    """

    def fill(text: str) -> str:
        def one(m: re.Match) -> str:
            value = values[m.group(1) or m.group(2)]
            if isinstance(value, (str, int, np.integer)):
                return str(value)
            return num(value, paren=m.group(1) is not None).text

        return _VALUE.sub(one, text)

    out, pos = rich(""), 0
    for m in _SYMBOL.finditer(template):
        out += fill(template[pos : m.start()])
        out += sym(fill(m.group(1)), fill(m.group(2) or ""), fill(m.group(3) or ""))
        pos = m.end()
    return out + fill(template[pos:])


# -- rich-text pieces the panels share ------------------------------------------------------------
def muted(text: str) -> str:
    """``text`` (rich text) in the panels' muted grey, for notes beside the numbers."""
    return f"<span style='color:{MUTED}'>{text}</span>"


def mono(value) -> str:
    """A number by :func:`format_number`, in the monospaced font."""
    return f"<code>{format_number(value)}</code>"


def summary_html(rows: list[tuple[str, str]]) -> str:
    """A two-column table: notation on the left, a number (or a note) right-aligned beside it."""
    body = "".join(
        f"<tr><td style='padding-right:12px'>{name}</td><td align='right'>{value}</td></tr>"
        for name, value in rows
    )
    return f"<table cellspacing='0' cellpadding='1'>{body}</table>"


def phase_name(phase) -> str:
    """A phase's short name as rich text: "Feedforward", "BP1", "BP2 (δ³)", "BP3, BP4", "Update"."""
    name = phase.title.split(":")[0]
    return f"{name} (δ<sup>{phase.layer}</sup>)" if phase.kind == "backpropagate" else name


def phase_computing(trace, kind: str, layer: int | None = None):
    """The phase of ``trace``'s pass that computes δ of ``layer`` (``kind`` "delta"), or else
    the phase of that ``kind`` ("feedforward", "gradients", "update")."""
    if kind == "delta":
        kind = "output_error" if layer == trace.num_layers else "backpropagate"
    else:
        layer = None
    return next(p for p in trace.phases if p.kind == kind and (layer is None or p.layer == layer))


def not_yet_html(trace, by) -> str:
    """The note for a quantity that the phase ``by`` computes and ``trace``'s pass has not run:
    "not computed yet (BP3, BP4)", or "(BP1, next)" when ``by`` runs next."""
    where = phase_name(by) + (", next" if by == trace.next_phase else "")
    return f"<i style='color:{MUTED}'>not computed yet ({where})</i>"
