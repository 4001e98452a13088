"""Tests of bpstudio.core.budget: the memory estimate against what the engine really allocates."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from bpstudio.core.backprop import Workspace
from bpstudio.core.budget import (
    MEMORY_BUDGET_BYTES,
    check_network_memory,
    estimate_network_memory,
    format_bytes,
)
from bpstudio.core.errors import ConfigError
from bpstudio.core.network import Network


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parameters_and_snapshot_are_the_networks_own_bytes(dtype):
    sizes = [784, 30, 10]
    estimate = estimate_network_memory(sizes, dtype=dtype)
    net = Network(sizes, seed=0, dtype=dtype)
    own = sum(w.nbytes for w in net.weights) + sum(b.nbytes for b in net.biases)
    assert estimate.parameters == own == net.num_parameters * np.dtype(dtype).itemsize
    assert estimate.gradients == estimate.snapshot == own


def test_batch_workspace_is_the_engines_buffers_for_two_batch_sizes():
    sizes, m = (64, 40, 20, 10), 25
    ws = Workspace(sizes, m, np.dtype(np.float64))
    arrays = [*ws.a_ones, ws.a[-1], ws.y, *ws.z[1:], *ws.delta[1:], *ws.scaled_delta[1:]]
    buffers = sum(a.nbytes for a in arrays)
    assert estimate_network_memory(sizes, mini_batch_size=m).batch == 2 * buffers


def test_evaluation_covers_what_feeding_a_data_set_forward_allocates():
    net = Network([20, 500, 10], seed=0)
    x = np.random.default_rng(0).random((4000, 20))
    tracemalloc.start()
    try:
        out = net.output(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    working = peak - out.nbytes
    estimate = estimate_network_memory([20, 500, 10]).evaluation
    assert working <= estimate <= 1.5 * working


def test_the_issues_sizes_are_refused_with_the_amount_and_the_limit():
    with pytest.raises(ConfigError) as info:
        check_network_memory([64, 100000000, 10])
    message = str(info.value)
    assert message.startswith("[64, 100000000, 10] needs about ")
    assert "TB of memory" in message and "bpstudio's limit is 2 GB" in message
    assert "7,500,000,010 weights and biases" in message and "\n" not in message
    with pytest.raises(ConfigError, match=r"\[64, 2000000, 10\] needs about 69 GB"):
        check_network_memory([64, 2000000, 10])


def test_the_usual_networks_fit():
    for sizes in ([784, 30, 10], [784, 100, 10], [64, 30, 10], [2, 8, 8, 2]):
        estimate = check_network_memory(sizes, mini_batch_size=100)
        assert estimate.total < MEMORY_BUDGET_BYTES / 50


def test_the_budget_is_a_limit_on_the_total():
    estimate = estimate_network_memory([784, 100, 10], dtype="float32", mini_batch_size=20)
    assert check_network_memory([784, 100, 10], "float32", 20, budget_bytes=estimate.total)
    with pytest.raises(ConfigError, match=r"needs about 9 MB .*; bpstudio.s limit is 9 MB"):
        check_network_memory([784, 100, 10], "float32", 20, budget_bytes=estimate.total - 1)
    double = estimate_network_memory([784, 100, 10], dtype="float64", mini_batch_size=20)
    assert double.total == 2 * estimate.total


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (([784, 0, 10],), "positive"),
        (([784],), "at least two layers"),
        (([784, 10], "complex-ish"), "unknown dtype"),
        (([784, 10], "float64", 0), "at least 1"),
        (([784, 10], "float64", 2.5), "whole number"),
    ],
)
def test_bad_settings_are_config_errors(args, words):
    with pytest.raises(ConfigError, match=words):
        check_network_memory(*args)


@pytest.mark.parametrize(
    ("size", "text"),
    [(999, "999 bytes"), (7_300_000, "7.3 MB"), (2_000_000_000, "2 GB"), (180e9, "180 GB")],
)
def test_format_bytes(size, text):
    assert format_bytes(int(size)) == text
