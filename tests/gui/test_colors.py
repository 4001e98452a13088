"""Colour scales: the robust percentile and the round numbers colour bars snap to."""

from __future__ import annotations

import numpy as np
import pytest

from bpstudio.gui.colors import NICE_STEPS, nice_ceiling, robust_scale


@pytest.mark.parametrize("n", [1, 2, 7, 100, 2048, 23_820, 79_400])
def test_robust_scale_is_numpys_percentile_of_the_strided_sample(n):
    values = np.random.default_rng(n).normal(0, 0.3, n)
    if n > 2:
        values[1] = np.nan
        values[2] = np.inf
    stride = max(1, n // 2048)
    sample = np.abs(values[::stride])
    sample = sample[np.isfinite(sample)]
    want = np.percentile(sample, 99) if sample.size else 1.0
    assert robust_scale(values) == pytest.approx(want, rel=1e-12)


def test_robust_scale_of_nothing_finite_or_all_zero_is_one():
    assert robust_scale(np.zeros(10)) == 1.0
    assert robust_scale(np.array([np.nan, np.inf])) == 1.0


@pytest.mark.parametrize(
    ("value", "want"),
    [(0.8, 0.8), (0.7, 0.8), (0.0473, 0.05), (1.0000001, 1.2), (9.9, 10.0), (123.0, 150.0),
     (0.0026, 0.003), (0.30000000000000004, 0.3), (1e-7, 1e-7)],
)  # fmt: skip
def test_nice_ceiling_examples(value, want):
    assert nice_ceiling(value) == want


def test_nice_ceiling_is_the_smallest_round_number_above():
    values = np.exp(np.random.default_rng(1).uniform(np.log(1e-9), np.log(1e9), 5000))
    for v in values:
        c = nice_ceiling(v)
        mantissa = c / 10.0 ** np.floor(np.log10(c) + 1e-9)
        assert min(abs(mantissa - m) for m in NICE_STEPS) < 1e-9
        assert v * (1 - 1e-12) <= c <= v * 4 / 3 * (1 + 1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_nice_ceiling_of_a_bad_value_is_one(bad):
    assert nice_ceiling(bad) == 1.0
