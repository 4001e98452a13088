"""The command line: the book's epoch lines, the gradient check, one-line errors."""

import re
import subprocess
import sys

import pytest

from bpstudio.cli import build_parser, main, spec_from_args
from bpstudio.core.run import RunSpec


def test_train_prints_the_books_epoch_lines(capsys):
    assert main(["train", "--epochs", "2", "--progress", "never"]) == 0
    out = capsys.readouterr().out
    lines = re.findall(r"^Epoch (\d+): (\d+) / 300$", out, re.M)
    assert [e for e, _ in lines] == ["0", "1"]
    assert int(lines[-1][1]) > 150  # learning: well above the 30 / 300 of guessing
    assert re.search(r"^Test: \d+ / 300 \(\d+\.\d\d%\)$", out, re.M)


def test_progress_bar_goes_to_stderr(capsys):
    assert main(["train", "--epochs", "1", "--progress", "always", "--data", "xor"]) == 0
    captured = capsys.readouterr()
    assert "epoch 0 [" in captured.err and "examples/s" in captured.err
    assert "epoch 0 [" not in captured.out and "Epoch 0: " in captured.out


def test_gradcheck_reports_error_and_speed(capsys):
    assert main(["gradcheck", "--sample", "200"]) == 0
    out = capsys.readouterr().out
    err = float(re.search(r"max relative error (\S+)", out).group(1))
    assert err <= 1e-6
    assert re.search(r"backprop is [\d,]+× faster", out)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--data", "nonsense"], "unknown data set"),
        (["train", "--sizes", "3", "4"], "first layer must have 64"),
        (["train", "--eta", "-1"], "learning rate"),
        (["train", "--batch", "0"], "mini-batch size"),
        (["train", "--data", "mnist:/no/such/folder"], "/no/such/folder"),
        (["gradcheck", "--sizes", "64", "0", "10"], "positive"),
        (["train", "--seed", "-1"], "seed"),
        (["train", "--epochs", "-1"], "epochs"),
        (["train", "--sizes", "64", "100000000", "10"], "limit is 2 GB"),
        (["gradcheck", "--sample", "-1"], "--sample"),
        (["gradcheck", "--after", "-5"], "--after"),
        (["screenshot", "x.svg2"], ".png (the window) or .svg"),
        (["screenshot", "x.png", "--size", "100000x100000"], "pixels a side"),
        (["screenshot", "x.png", "--select", "w:9,9,9"], "--select"),
        (["session", "info", "no-such.bpsession"], "no such file"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("bpstudio: error: ") and message in err
    assert err.count("\n") == 1


def test_no_traceback_from_the_real_command():
    proc = subprocess.run(
        [sys.executable, "-m", "bpstudio", "train", "--data", "mnist:/no/such/folder"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "bpstudio: error:" in proc.stderr


def test_help_everywhere():
    for argv in ([], ["train"], ["gradcheck"], ["data"], ["data", "fetch"], ["screenshot"]):
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--help"])
        assert exc.value.code == 0


@pytest.mark.mnist
def test_mnist_one_epoch_reaches_the_books_accuracy(mnist_folder, capsys):
    argv = ["train", "--data", f"mnist:{mnist_folder}", "--sizes", "784", "30", "10"]
    assert (
        main([*argv, "--epochs", "1", "--batch", "10", "--eta", "3.0", "--progress", "never"]) == 0
    )
    correct = int(re.search(r"^Epoch 0: (\d+) / 10000$", capsys.readouterr().out, re.M).group(1))
    assert correct >= 9000  # the book reports 9129 (91.3%) after epoch 0


def test_digits_default_network_reaches_95_percent_within_30_epochs():
    from bpstudio.core.data import load_digits
    from bpstudio.core.session import Session

    session = Session(load_digits(0))  # [64, 16, 10], η = 3.0, m = 10, seed 0
    assert session.sizes == [64, 16, 10]
    while session.epoch < 30:
        session.run(session.batches_per_epoch)
    assert session.accuracy("test") >= 0.95


@pytest.mark.mnist
def test_mnist_thirty_epochs_reach_94_5_percent(mnist_folder):
    from threadpoolctl import threadpool_limits

    from bpstudio.core.data import load_mnist_idx
    from bpstudio.core.session import Session

    session = Session(load_mnist_idx(mnist_folder), [784, 30, 10], eta=3.0, mini_batch_size=10)
    with threadpool_limits(1):
        while session.epoch < 30:
            session.run(session.batches_per_epoch)
    best = max(r.validation_accuracy for r in session.history.epochs)
    assert session.history.epochs[-1].validation_accuracy >= 0.945, best


@pytest.mark.parametrize("command", [["train"], ["gradcheck"], ["screenshot", "out.png"]])
def test_options_mean_the_same_before_and_after_the_command(command):
    given = ["--data", "xor", "--sizes", "2", "3", "2", "--eta", "0.5", "--seed", "7"]
    given += ["--batch", "4", "--activation", "tanh", "--cost", "cross-entropy"]
    before = spec_from_args(build_parser().parse_args(given + command))
    after = spec_from_args(build_parser().parse_args(command + given))
    expected = RunSpec(
        data="xor",
        sizes=(2, 3, 2),
        eta=0.5,
        seed=7,
        mini_batch_size=4,
        activation="tanh",
        cost="cross-entropy",
    )
    assert before == after == expected
    # Options given nowhere keep the run description's defaults, with or without a command.
    for argv in (command, []):
        assert spec_from_args(build_parser().parse_args(argv)) == RunSpec()


def test_epochs_before_train_are_kept():
    assert spec_from_args(build_parser().parse_args(["--epochs", "2", "train"])).epochs == 2
    assert spec_from_args(build_parser().parse_args(["train", "--epochs", "3"])).epochs == 3
    assert spec_from_args(build_parser().parse_args(["train"])).epochs == 30
