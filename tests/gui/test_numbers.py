"""The GUI's one number formatter: what a learner reads must be short, exact enough and honest."""

import math

import numpy as np
import pytest

from bpstudio.gui.numbers import HUGE, format_factor, format_number, parse_number


@pytest.mark.parametrize(
    "value, text",
    [
        (0.039749123, "0.039749"),
        (-0.564651, "−0.56465"),
        (2.5, "2.5"),
        (1234.5678, "1234.6"),
        (123456.7, "1.2346e+5"),
        (-0.000123456789, "−0.00012346"),
        (1e-5, "1e−5"),
        (999_999_999.0, "1e+9"),
        (1.23456789e105, "1.2e+105"),
        (-9.87e28, "−9.9e+28"),
        (0.0, "0"),
        (-0.0, "0"),
        (np.float32(-0.0), "0"),
        (math.inf, "∞"),
        (-math.inf, "−∞"),
        (math.nan, "NaN"),
        (None, "—"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_digits_and_round_trip():
    assert format_number(-1 / 3, 3) == "−0.333"
    rng = np.random.default_rng(0)
    for v in np.concatenate([rng.standard_normal(200) * 10.0 ** rng.integers(-12, 12, 200)]):
        shown = format_number(v)
        assert len(shown) <= 12
        rel = 1e-4 if abs(v) < HUGE else 0.05  # huge ones keep two significant digits
        assert parse_number(shown) == pytest.approx(v, rel=rel)


def test_a_diverged_cost_is_short():
    """Issue 11 item 7: a diverged cost printed as a 135-character number."""
    huge = float("1" + "3" * 134)  # 1.33e134
    assert format_number(huge) == "1.3e+134"
    assert all(len(format_number(10.0**e)) <= 6 for e in range(9, 309))


@pytest.mark.parametrize(
    "value, text",
    [(1256.3, "1,256×"), (1210, "1,210×"), (3.4712, "3.47×"), (-0.001, "0×"), (1e12, "1e+12×")],
)
def test_format_factor(value, text):
    assert format_factor(value) == text
    assert parse_number(text) == pytest.approx(value, rel=1e-2, abs=1e-2)


def test_non_finite_words_parse_back():
    assert parse_number("∞") == math.inf and parse_number("−∞") == -math.inf
    assert math.isnan(parse_number("NaN"))
