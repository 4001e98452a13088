"""The run description: one source for the CLI, the window's form and session files."""

import shlex

import numpy as np
import pytest

from bpstudio.cli import build_parser, spec_from_args
from bpstudio.core.errors import ConfigError
from bpstudio.core.run import FIELDS, RunSpec
from bpstudio.core.runner import Runner
from bpstudio.core.session import Session, build_session

SPECS = [
    RunSpec(),
    RunSpec(
        data="xor",
        sizes=(2, 5, 3, 2),
        activation="tanh",
        cost="cross-entropy",
        eta=0.25,
        mini_batch_size=4,
        epochs=7,
        seed=2**40 + 3,
        dtype="float32",
        blas_threads=2,
    ),
]


def _argv(spec: RunSpec) -> list[str]:
    argv = []
    for f in FIELDS:
        value = getattr(spec, f.name)
        if value is None:
            continue
        argv += [f.flag, *(map(str, value) if f.name == "sizes" else [str(value)])]
    return argv


@pytest.mark.parametrize("spec", SPECS)
def test_round_trip_through_the_command_line(spec):
    assert spec_from_args(build_parser().parse_args(["train", *_argv(spec)])) == spec
    assert spec_from_args(build_parser().parse_args(_argv(spec))) == spec


@pytest.mark.parametrize("spec", SPECS)
def test_round_trip_through_plain_values_and_a_session_file(spec, tmp_path):
    assert RunSpec.from_dict(spec.to_dict()) == spec
    if spec.sizes is None:
        return
    session = build_session(spec)
    session.save(tmp_path / "s.bpsession")
    assert Session.load(tmp_path / "s.bpsession").spec == spec


def test_every_field_has_an_option_and_a_help_text():
    text = build_parser().format_help()
    for f in FIELDS:
        assert f.flag in text and f.help


@pytest.mark.parametrize(
    "values, words",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"eta": float("nan")}, "learning rate"),
        ({"mini_batch_size": 0}, "mini-batch size"),
        ({"epochs": -1}, "epochs"),
        ({"activation": "softsign"}, "activation"),
        ({"dtype": "float16"}, "precision"),
        ({"blas_threads": 0}, "BLAS"),
    ],
)
def test_bad_values_are_refused_before_anything_starts(values, words):
    with pytest.raises(ConfigError, match=words):
        RunSpec(**values).validate()


def test_from_dict_refuses_unknown_keys_and_wrong_types():
    with pytest.raises(ConfigError, match="unknown"):
        RunSpec.from_dict({"data": "digits", "momentum": 0.9})
    with pytest.raises(ConfigError, match="wrong type"):
        RunSpec.from_dict({"eta": "3"})
    with pytest.raises(ConfigError, match="layer sizes"):
        RunSpec.from_dict({"sizes": [64, "16", 10]})


def test_fitting_keeps_the_hidden_layers():
    assert RunSpec(sizes=(64, 30, 20, 10)).fitted_to(2, 3).sizes == (2, 30, 20, 3)


def test_the_runner_steps_and_plays_without_qt():
    runner = Runner()
    first = runner.build(RunSpec(data="xor", epochs=1, mini_batch_size=8))
    assert first.batches_done == 0 and first.spec.data == "xor"
    runner.step_batch()
    runner.step_phase()
    assert runner.session.batches_done == 1 and runner.session.in_pass
    runner.set_hyperparameters({"eta": 0.5, "epochs": 2})
    assert runner.session.epochs_target == 2 and runner.session.changes[-1].batch == 2
    runner.set_speed(None)
    assert runner.play()
    while runner.running:
        result = runner.tick()
    assert result.finished and runner.session.epoch == 2
    assert not runner.play()  # the target is reached
    again = Session.from_spec(runner.session.spec, runner.session.data)
    assert np.isfinite(again.network.parameters).all()


def test_shell_quoting_is_not_needed_for_the_options():
    # The options a spec becomes are plain words (what the README's examples show).
    assert all(shlex.quote(a) == a for a in _argv(SPECS[1]))


def test_the_runner_diagnoses_blown_up_weights_and_goes_back_to_healthy_ones():
    runner = Runner()
    runner.build(RunSpec(data="digits", epochs=100))
    for _ in range(300):
        runner.step_batch()
        assert runner.diagnose(runner.snapshot()) is None  # healthy: nothing to report
    runner.set_hyperparameters({"eta": 1e6})
    found = None
    for _ in range(20):
        try:
            runner.step_batch()
        except Exception:  # noqa: BLE001 - a refused step is one way it can end
            found = runner.diagnose(diverged=True)
            break
        found = runner.diagnose(runner.snapshot())
        if found is not None:
            break
    assert found is not None and "restore_checkpoint" in found.remedies
    assert found.checkpoint is not None and found.checkpoint <= 300
    back = runner.restore_checkpoint(found.checkpoint)
    assert back == found.checkpoint
    w = runner.session.network.parameters
    assert np.isfinite(w).all() and np.abs(w).max() < 100
