"""The toy sets' size and noise, given in the data spec (spiral:n=1000,noise=0.1)."""

import numpy as np
import pytest

from bpstudio.core.data import load_dataset, make_toy
from bpstudio.core.errors import ConfigError, DataError


def test_size_and_noise_come_from_the_spec():
    plain = load_dataset("spiral", seed=3)
    sized = load_dataset("spiral:n=1000", seed=3)
    assert len(sized.train) + len(sized.validation) + len(sized.test) == 1000
    assert np.array_equal(load_dataset("spiral:noise=0", seed=3).train.x, plain.train.x)
    noisy = load_dataset("spiral:noise=0.2", seed=3)
    assert np.array_equal(noisy.train.y, plain.train.y)  # the same points, moved
    moved = np.abs(noisy.train.x - plain.train.x).mean()
    assert moved > 0.02
    # Noise draws after the points: the labels and their order stay those of the plain set.
    assert np.array_equal(
        make_toy("xor", n=50, seed=1, noise=0.1).train.y, make_toy("xor", n=50, seed=1).train.y
    )


@pytest.mark.parametrize(
    "spec, error, words",
    [
        ("spiral:n=3", ConfigError, "at least 5"),
        ("spiral:n=10000000", ConfigError, "at most"),
        ("spiral:noise=2", ConfigError, "noise"),
        ("spiral:colour=red", DataError, "n=<points>"),
        ("spiral:n=many", DataError, "n=<points>"),
    ],
)
def test_bad_options_say_what_is_accepted(spec, error, words):
    with pytest.raises(error, match=words):
        load_dataset(spec)
