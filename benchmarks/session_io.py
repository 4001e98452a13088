"""Save and open times of a session file at [784, 100, 10] with 30 epochs of history.

The run is MNIST's 50,000 training images at m = 10 (5,000 mini-batches an epoch), so 30 epochs
are 150,000 mini-batch costs and 30 epoch records; the parameters are a trained network's. The
history is filled in directly (training 30 epochs first would take minutes and change nothing
about the file). "open" is ``Session.load`` with the data already in memory, as the window has
it when a file of the same data is opened; "open, cold" also reads the four MNIST files.
Target: save and open ≤ 0.5 s.

    python benchmarks/session_io.py [--mnist FOLDER] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=str(DEFAULT_MNIST), help="folder of the IDX files")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not Path(args.mnist).is_dir():
        print(f"the MNIST folder {args.mnist} is not there; pass --mnist FOLDER", file=sys.stderr)
        return 2
    from bpstudio.core.run import RunSpec
    from bpstudio.core.session import CostLog, EpochRecord, Session, build_session

    spec = RunSpec(data=f"mnist:{args.mnist}", sizes=(784, 100, 10))
    session = build_session(spec)
    session.run(200)
    rng = np.random.default_rng(0)
    session.history.batch_costs = CostLog(rng.random(150_000))
    session.history.epochs = [
        EpochRecord(e, 5000 * (e + 1), 0.9, 0.9, 9000, 10000) for e in range(30)
    ]
    session.history.epoch_ends = [5000 * (e + 1) for e in range(30)]
    session.batches_done = len(session.history.batch_costs)
    session.epoch, session.batch_in_epoch = 30, 0
    session._order, session._position = None, 0
    saves, opens = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.bpsession"
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            session.save(path)
            saves.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            opened = Session.load(path, data=session.data)
            opens.append(time.perf_counter() - t0)
        assert np.array_equal(opened.network.parameters, session.network.parameters)
        t0 = time.perf_counter()
        Session.load(path)
        cold = time.perf_counter() - t0
        size = path.stat().st_size
    print(f"[784, 100, 10], 150,000 mini-batch costs, 30 epochs; file {size / 1e6:.2f} MB")
    print(f"save: {statistics.median(saves) * 1e3:.0f} ms median of {args.repeat} (target 500)")
    print(f"open: {statistics.median(opens) * 1e3:.0f} ms median of {args.repeat} (target 500)")
    print(f"open, cold (reading the MNIST files too): {cold * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
