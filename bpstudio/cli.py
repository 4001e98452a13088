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


def _add_run_options(p: argparse.ArgumentParser, *, top: bool = True) -> None:
    """The run description's options (from :data:`bpstudio.core.run.FIELDS`).

    On the main parser (``top``) they default to None, filled in from
    :class:`~bpstudio.core.run.RunSpec` later; a command's copies are suppressed when not
    given, so that ``bpstudio --data mnist train`` and ``bpstudio train --data mnist`` mean the
    same (argparse would otherwise overwrite the options given before the command).
    """
    from bpstudio.core.run import FIELDS, RunSpec

    defaults = RunSpec()
    kinds = {"eta": float, "mini_batch_size": int, "epochs": int, "seed": int, "blas_threads": int}
    for f in FIELDS:
        flags = [f.flag] + (["--mini-batch-size"] if f.name == "mini_batch_size" else [])
        extra: dict = {"default": None if top else argparse.SUPPRESS, "dest": f.name}
        if f.name == "sizes":
            extra.update(type=int, nargs="+", metavar="N")
        elif f.choices:
            extra.update(choices=f.choices)
        elif f.name in kinds:
            extra.update(type=kinds[f.name])
        default = getattr(defaults, f.name)
        text = f.help if default is None or "default" in f.help else f"{f.help} (default {default})"
        p.add_argument(*flags, help=text, **extra)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpstudio",
        description="See, step through and check backpropagation. Without a command, opens "
        "the app (on FILE.bpsession if given: `bpstudio run.bpsession`).",
    )
    parser.add_argument("--version", action="version", version=f"bpstudio {__version__}")
    _add_run_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train without the window, printing each epoch")
    _add_run_options(train, top=False)
    train.add_argument(
        "--batches", type=int, metavar="N", help="stop after N mini-batches in all (not epochs)"
    )
    train.add_argument("--save", metavar="FILE", help="write the session to FILE at the end "
                       "and on Ctrl+C")
    train.add_argument(
        "--resume",
        metavar="FILE",
        help="go on with a saved session until --epochs E or --batches N in all, counted from "
        "the run's start (without --save it updates FILE)",
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
    _add_run_options(grad, top=False)
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

    session = sub.add_parser("session", help="look into or check a saved session file")
    session_sub = session.add_subparsers(dest="session_command", metavar="ACTION", required=True)
    info = session_sub.add_parser("info", help="print its description, position and note")
    info.add_argument("file", help="a .bpsession file")
    verify = session_sub.add_parser(
        "verify",
        help="replay the run from its seed and check that it reproduces the saved parameters",
    )
    verify.add_argument("file", help="a .bpsession file")
    verify.add_argument("--data", dest="verify_data", metavar="SPEC",
                        help="where the data is, if not where the file says")

    shot = sub.add_parser(
        "screenshot", help="render the window to a PNG, or the network view to an SVG"
    )
    shot.add_argument("out", help="the file to write: .png (the window) or .svg (the network)")
    _add_run_options(shot, top=False)
    shot.add_argument("--batches", type=int, default=0, help="train this many mini-batches first")
    shot.add_argument(
        "--size", default="1600x1000", help="window size WxH in pixels (default 1600x1000)"
    )
    shot.add_argument("--select", metavar="SPEC", help="select before the shot: w:l,j,k or n:l,j")
    shot.add_argument("--phases", type=int, default=0, help="then step this many backprop phases")
    return parser


def _split_session_file(argv: list[str]) -> tuple[list[str], str | None]:
    """``bpstudio FILE.bpsession [options]``: take the file out before argparse sees it."""
    from bpstudio.core.session_file import SUFFIX

    for i, arg in enumerate(argv):
        if arg.endswith(SUFFIX) and not arg.startswith("-"):
            if i > 0 and argv[i - 1] in ("--save", "--resume"):
                continue
            if any(a in ("train", "session", "screenshot", "gradcheck", "data") for a in argv):
                return argv, None
            return argv[:i] + argv[i + 1 :], arg
    return argv, None


def main(argv: Sequence[str] | None = None) -> int:
    argv, session_file = _split_session_file(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    args.open_file = session_file
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "gradcheck":
            return cmd_gradcheck(args)
        if args.command == "data":
            return cmd_data(args)
        if args.command == "session":
            return cmd_session(args)
        if args.command == "screenshot":
            from bpstudio.gui.app import screenshot

            return screenshot(
                spec_from_args(args),
                args.out,
                size=args.size,
                batches=args.batches,
                select=args.select,
                phases=args.phases,
            )
        from bpstudio.core.run import FIELDS
        from bpstudio.gui.app import run_app

        given = any(getattr(args, f.name, None) is not None for f in FIELDS)
        return run_app(spec_from_args(args), open_file=args.open_file, last_run=not given)
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
    """The :class:`~bpstudio.core.run.RunSpec` the command line's options describe."""
    from bpstudio.core.run import FIELDS, RunSpec

    given = {f.name: getattr(args, f.name, None) for f in FIELDS}
    values = {k: v for k, v in given.items() if v is not None}
    if "sizes" in values:
        values["sizes"] = tuple(values["sizes"])
    return RunSpec(**values).validate()


def make_session(args):
    from bpstudio.core.session import build_session

    return build_session(spec_from_args(args))


def _blas(threads: int):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(threads), user_api="blas")


def cmd_train(args) -> int:
    from bpstudio.core.errors import ConfigError
    from bpstudio.core.session import Session

    if args.batches is not None and args.batches < 0:
        raise ConfigError(f"--batches must be 0 or more, got {args.batches}")
    if args.resume:
        session = Session.load(args.resume)
        if args.epochs is not None:
            session.set_epochs(args.epochs)
        save_to = args.save or args.resume
    else:
        session = make_session(args)
        save_to = args.save
    print(f"{session.data.describe()}")
    print(
        f"network {session.sizes}, {session.activation} neurons, {session.cost} cost, "
        f"η = {session.eta:g}, m = {session.mini_batch_size}, seed {session.seed}"
        + (f"; going on from mini-batch {session.batches_done}" if args.resume else "")
    )
    show = {"always": True, "never": False}.get(args.progress, sys.stderr.isatty())
    bar = ProgressBar(show)
    try:
        with _blas(session.spec.blas_threads):
            _train(session, bar, args.batches)
    except KeyboardInterrupt:
        bar.clear()
        if save_to:
            session.save(save_to)
            print(f"interrupted at mini-batch {session.batches_done}; saved {save_to}")
        raise
    bar.clear()
    test = session.data.test
    if len(test):
        correct = session.network.count_correct(test.x, test.y)
        print(f"Test: {correct} / {len(test)} ({correct / len(test):.2%})")
    if save_to:
        session.save(save_to)
        print(f"saved {save_to} (mini-batch {session.batches_done}, epoch {session.epoch})")
    return 0


def _train(session, bar: ProgressBar, batches: int | None) -> None:
    """Train to ``batches`` mini-batches in all, or else to the session's epoch target."""

    def left() -> int:
        if batches is not None:
            return batches - session.batches_done
        return 0 if session.epoch >= session.epochs_target and not session.in_pass else 1 << 30

    t0, seen0 = time.perf_counter(), session.examples_seen
    while left() > 0:
        deadline = time.perf_counter() + 0.1
        results = session.run(min(left(), session.batches_per_epoch), deadline=deadline)
        last = results[-1]
        rate = (session.examples_seen - seen0) / max(time.perf_counter() - t0, 1e-9)
        done = session.batches_per_epoch if last.completed_epoch else session.batch_in_epoch
        bar.show(
            f"epoch {last.epoch}",
            done,
            session.batches_per_epoch,
            f"cost {last.cost:.4f}  {rate:,.0f} examples/s",
        )
        for r in results:
            if r.epoch_record is not None:
                bar.clear()
                rec = r.epoch_record
                print(f"Epoch {rec.epoch}: {rec.validation_correct} / {rec.validation_total}")


# -- session ------------------------------------------------------------------------------
def cmd_session(args) -> int:
    if args.session_command == "info":
        from bpstudio.core.session_file import describe_file

        print(describe_file(args.file))
        return 0
    from bpstudio.core.replay import verify_session
    from bpstudio.core.session_file import read_manifest

    manifest = read_manifest(args.file)
    with _blas(manifest["spec"].get("blas_threads", 1)):
        result = verify_session(args.file, data_spec=args.verify_data)
    print(f"{args.file}: {result.message}")
    return 0 if result.ok else 1


# -- gradcheck ----------------------------------------------------------------------------
def cmd_gradcheck(args) -> int:
    import numpy as np

    from bpstudio.core.errors import ConfigError
    from bpstudio.core.gradcheck import check_gradient

    if args.sample is not None and args.sample < 1:
        raise ConfigError(f"--sample must be 1 or more parameters, got {args.sample}")
    if args.after < 0:
        raise ConfigError(f"--after must be 0 or more mini-batches, got {args.after}")
    session = make_session(args)
    if args.sample is not None and args.sample > session.network.num_parameters:
        raise ConfigError(
            f"--sample {args.sample} is more than the network's "
            f"{session.network.num_parameters} parameters"
        )
    while session.batches_done < args.after:
        session.run(args.after - session.batches_done)
    train = session.data.train
    idx = np.arange(min(session.mini_batch_size, len(train)))  # the first m training examples
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
