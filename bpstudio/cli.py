"""The command line: ``bpstudio`` opens the app; ``bpstudio train|gradcheck|data|screenshot``.

Errors a user can cause end in a one-line message on stderr and a non-zero exit, never a
traceback. Core functions return data; this module decides how to print it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from bpstudio import __version__
from bpstudio.core.errors import BpstudioError, Cancelled

USER_ERROR = 2


def _add_model_options(p: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """The network and data options, on the main parser (``defaults``) or on a command's.

    A command's copies have no defaults of their own, so that ``bpstudio --data mnist train``
    and ``bpstudio train --data mnist`` mean the same (argparse would otherwise overwrite the
    options given before the command with the command's defaults).
    """

    def default(value):
        return value if defaults else argparse.SUPPRESS

    p.add_argument(
        "--data",
        default=default("digits"),
        help="digits (built in, the default), mnist (downloaded with `bpstudio data fetch "
        "mnist`), mnist:<folder> (the four IDX files), a path to the book's mnist.pkl.gz, "
        "or a toy set: xor, circles, spiral, blobs",
    )
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        metavar="N",
        default=default(None),
        help="neurons per layer, input first, e.g. --sizes 784 30 10 (default: a network "
        "that fits the data, [784, 30, 10] for MNIST, [64, 16, 10] for the digits)",
    )
    p.add_argument("--eta", type=float, default=default(3.0), help="learning rate η (default 3.0)")
    p.add_argument("--batch", type=int, default=default(10), help="mini-batch size m (default 10)")
    p.add_argument(
        "--activation",
        default=default("sigmoid"),
        choices=["sigmoid", "tanh", "relu", "linear"],
        help="σ for every layer (default sigmoid)",
    )
    p.add_argument(
        "--cost",
        default=default("quadratic"),
        choices=["quadratic", "cross-entropy"],
        help="cost function (default quadratic, as in chapter 2)",
    )
    p.add_argument("--seed", type=int, default=default(0), help="seed for weights and shuffling")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpstudio",
        description="See, step through and check backpropagation. Without a command, opens "
        "the app.",
    )
    parser.add_argument("--version", action="version", version=f"bpstudio {__version__}")
    _add_model_options(parser)
    parser.add_argument("--epochs", type=int, default=30, help="epochs to train (default 30)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train without the window, printing each epoch")
    _add_model_options(train, defaults=False)
    train.add_argument("--epochs", type=int, default=argparse.SUPPRESS, help="epochs (default 30)")
    train.add_argument(
        "--dtype", default="float64", choices=["float64", "float32"], help="float precision"
    )
    train.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress bar during each epoch (auto: when stderr is a terminal)",
    )

    grad = sub.add_parser(
        "gradcheck",
        help="compare backprop with finite differences and time both",
        description="Computes ∂C/∂p for every parameter p (or a sample) by backprop and by "
        "central finite differences on one mini-batch, prints the largest relative error and "
        "how much faster backprop is.",
    )
    _add_model_options(grad, defaults=False)
    grad.add_argument(
        "--sample", type=int, help="check only this many parameters, chosen with --seed"
    )
    grad.add_argument(
        "--after", type=int, default=0, metavar="N", help="train N mini-batches first"
    )

    data = sub.add_parser("data", help="manage data sets")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    fetch = data_sub.add_parser("fetch", help="download a data set into the cache")
    fetch.add_argument("name", choices=["mnist"], help="the data set (mnist)")
    fetch.add_argument("--dest", help="folder to download into (default: the user cache)")
    data_sub.add_parser("where", help="print the cache folder")

    shot = sub.add_parser("screenshot", help="render the main window offscreen to a PNG")
    shot.add_argument("out", help="the PNG file to write")
    _add_model_options(shot, defaults=False)
    shot.add_argument("--batches", type=int, default=0, help="train this many mini-batches first")
    shot.add_argument(
        "--size", default="1600x1000", help="window size WxH in pixels (default 1600x1000)"
    )
    shot.add_argument("--select", metavar="SPEC", help="select before the shot: w:l,j,k or n:l,j")
    shot.add_argument("--phases", type=int, default=0, help="then step this many backprop phases")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "gradcheck":
            return cmd_gradcheck(args)
        if args.command == "data":
            return cmd_data(args)
        if args.command == "screenshot":
            from bpstudio.gui.app import screenshot

            return screenshot(args)
        from bpstudio.gui.app import run_app

        return run_app(args)
    except BpstudioError as exc:
        print(f"bpstudio: error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("\nbpstudio: interrupted", file=sys.stderr)
        return 130


# -- train --------------------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, enabled: bool, width: int = 30) -> None:
        self.enabled = enabled
        self.width = width
        self._last = 0.0

    def show(self, label: str, done: int, total: int, extra: str = "", force=False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        filled = int(self.width * done / max(total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(f"\r{label} [{bar}] {done}/{total} {extra}\033[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def spec_from_args(args):
    """A :class:`~bpstudio.core.session.SessionSpec` from the command line's options."""
    from bpstudio.core.session import SessionSpec

    return SessionSpec(
        data=args.data,
        sizes=tuple(args.sizes) if args.sizes else None,
        activation=args.activation,
        cost=args.cost,
        eta=args.eta,
        mini_batch_size=args.batch,
        epochs=getattr(args, "epochs", 30),
        seed=args.seed,
    )


def make_session(args):
    from bpstudio.core.session import build_session

    return build_session(spec_from_args(args), dtype=getattr(args, "dtype", "float64"))


def cmd_train(args) -> int:
    from threadpoolctl import threadpool_limits

    from bpstudio.core.errors import ConfigError

    if args.epochs < 0:
        raise ConfigError(f"--epochs must be 0 or more, got {args.epochs}")
    session = make_session(args)
    print(f"{session.data.describe()}")
    print(
        f"network {session.sizes}, {session.activation} neurons, {session.cost} cost, "
        f"η = {session.eta:g}, m = {session.mini_batch_size}, seed {session.seed}"
    )
    show = {"always": True, "never": False}.get(args.progress, sys.stderr.isatty())
    bar = ProgressBar(show)
    # At small m the matrices are too small for BLAS threads to pay for themselves.
    with threadpool_limits(1 if session.mini_batch_size < 64 else None):
        for _ in range(args.epochs):
            record = _train_epoch(session, bar)
            bar.clear()
            print(f"Epoch {record.epoch}: {record.validation_correct} / {record.validation_total}")
    test = session.data.test
    if len(test):
        correct = session.network.count_correct(test.x, test.y)
        print(f"Test: {correct} / {len(test)} ({correct / len(test):.2%})")
    return 0


def _train_epoch(session, bar: ProgressBar):
    total = session.batches_per_epoch
    t0 = time.perf_counter()
    while True:
        results = session.run(total, deadline=time.perf_counter() + 0.1)
        done = session.batch_in_epoch if not results[-1].completed_epoch else total
        rate = session.mini_batch_size * done / max(time.perf_counter() - t0, 1e-9)
        bar.show(
            f"epoch {session.epoch if not results[-1].completed_epoch else session.epoch - 1}",
            done,
            total,
            f"cost {results[-1].cost:.4f}  {rate:,.0f} examples/s",
        )
        if results[-1].completed_epoch:
            return results[-1].epoch_record


# -- gradcheck ----------------------------------------------------------------------------
def cmd_gradcheck(args) -> int:
    import numpy as np

    from bpstudio.core.gradcheck import check_gradient

    session = make_session(args)
    while session.batches_done < args.after:
        session.run(args.after - session.batches_done)
    train = session.data.train
    idx = np.arange(min(args.batch, len(train)))  # the first m training examples
    x, y = train.x[idx], train.one_hot()[idx]
    net = session.network
    total = args.sample or net.num_parameters
    bar = ProgressBar(sys.stderr.isatty())
    result = check_gradient(
        net,
        x,
        y,
        sample=args.sample,
        seed=args.seed,
        progress=lambda d, t: bar.show("finite differences", d, t, force=d == t),
    )
    bar.clear()
    worst = result.worst
    print(f"network {net.sizes}: {net.num_parameters} parameters; mini-batch of {len(idx)}")
    print(
        f"checked {len(result.params)} of {net.num_parameters} parameters: max relative error "
        f"{result.max_relative_error:.2e} (at {worst.label if worst else '-'})"
    )
    print(
        f"backprop: {result.backprop_seconds * 1e3:.3f} ms for the whole gradient "
        "(one forward + one backward pass)"
    )
    print(
        f"finite differences: {result.numeric_seconds:.3f} s for {total} parameters "
        f"(2 forward passes each)"
        + (
            ""
            if total == net.num_parameters
            else f", {result.numeric_seconds_all:.3f} s for all {net.num_parameters}"
        )
    )
    print(f"speed ratio: backprop is {result.speed_ratio:,.0f}× faster")
    return 0 if result.max_relative_error <= 1e-6 else 1


# -- data ---------------------------------------------------------------------------------
def cmd_data(args) -> int:
    from bpstudio.core.data import fetch_mnist, mnist_cache_dir

    if args.data_command == "where":
        print(mnist_cache_dir().parent)
        return 0
    bar = ProgressBar(sys.stderr.isatty())

    def progress(name: str, done: int, total: int | None) -> None:
        bar.show(name, done // 1024, (total or done) // 1024, "KiB", force=done == total)

    try:
        folder = fetch_mnist(args.dest, progress=progress)
    except Cancelled:
        bar.clear()
        return 130
    bar.clear()
    print(f"MNIST is in {folder} (four files, checksums verified)")
    return 0
