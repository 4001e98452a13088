"""Replaying a saved run from its seed, to check that it reproduces the saved parameters.

``bpstudio session verify FILE`` calls :func:`verify_session`: it builds the run afresh from its
description, applies the change log at the mini-batches it names, runs to the saved position
(including a half-done mini-batch) and compares every parameter bit for bit. The cost of each
replayed mini-batch is compared with the saved one as it goes, which finds the first mini-batch
that differs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bpstudio.core.session_file import load_session, read_manifest


class VerifyResult(NamedTuple):
    """What a replay found."""

    ok: bool
    batches: int  # mini-batches replayed
    first_difference: int | None  # the first mini-batch (from 0) whose result differs
    max_abs_difference: float  # largest |replayed − saved| parameter difference
    message: str


def replay(saved, *, progress=None, cancel=None):
    """A fresh session run from ``saved``'s seed and change log to ``saved``'s position.

    Returns ``(session, first_cost_difference)``; the second is the first mini-batch whose
    cost differs from the saved history, or None.
    """
    from bpstudio.core.session import Session, apply_own_example

    fresh = Session.from_spec(saved.spec, saved.data, evaluate=False)
    costs = saved.history.batch_costs.array()
    by_batch: dict[int, dict] = {}
    for change in saved.changes:
        by_batch.setdefault(change.batch, {})[change.name] = change.value
    own: dict[int, list] = {}
    for example in saved.own_examples:
        own.setdefault(example.batch, []).append(example)
    first = None
    target = saved.batches_done
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for b in range(target):
            if b in by_batch:
                fresh.set_hyperparameters(**by_batch[b])
            for example in own.get(b, ()):
                apply_own_example(fresh.network, example)
            result = fresh.step_batch()
            if first is None and b < costs.size and result.cost != costs[b]:
                first = b
            if progress is not None and (b % 256 == 0 or b == target - 1):
                progress(b + 1, target)
            if cancel is not None and b % 256 == 0 and cancel():
                from bpstudio.core.errors import Cancelled

                raise Cancelled("the replay was cancelled")
        if target in by_batch:
            fresh.set_hyperparameters(**by_batch[target])
        for example in own.get(target, ()):
            apply_own_example(fresh.network, example)
        if saved.in_pass:
            for _ in range(saved._pass.done):
                fresh.step_phase()
    return fresh, first


def verify_session(path, *, data_spec=None, progress=None, cancel=None) -> VerifyResult:
    """Replay the run saved in ``path`` and compare it with the saved parameters.

    Raises :class:`~bpstudio.core.session_file.SessionFileError` for a file that cannot be read.
    """
    read_manifest(path)  # a clear message for a file that is not a session, before any data
    saved = load_session(path, data_spec=data_spec)
    fresh, first = replay(saved, progress=progress, cancel=cancel)
    a, b = fresh.network.parameters, saved.network.parameters
    same = np.array_equal(a.view(np.uint8), b.view(np.uint8))
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    n = saved.batches_done
    where = f"{n} mini-batches" + (" and a half-done one" if saved.in_pass else "")
    if same and first is None:
        return VerifyResult(True, n, None, 0.0, f"reproduced bit for bit after {where}")
    if first is None:
        first = max(n - 1, 0)
    return VerifyResult(
        False,
        n,
        first,
        diff,
        f"does not reproduce: the first mini-batch that differs is number {first} (from 0); "
        f"largest parameter difference after {where}: {diff:.3g}",
    )
