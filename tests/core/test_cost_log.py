"""The cost history stays bounded on long runs: exact up to a limit, exact statistics beyond."""

import csv

import numpy as np

from bpstudio.core.cost_log import RECENT, CostLog
from bpstudio.core.export import write_history_csv
from bpstudio.core.replay import verify_session
from bpstudio.core.run import RunSpec
from bpstudio.core.session import Session, build_session


def test_memory_stays_bounded_and_the_statistics_stay_exact():
    rng = np.random.default_rng(0)
    costs = rng.random(400_000) + np.linspace(3, 0, 400_000)
    log = CostLog(limit=1000)
    sizes = []
    for i, c in enumerate(costs.tolist()):
        log.append(c)
        if i in (10_000, 399_999):
            sizes.append(log.nbytes)
    assert len(log) == costs.size and log.exact_count == 1000
    assert np.array_equal(log.array(), costs[:1000])
    assert sizes[1] <= sizes[0] + 8 * 4096  # 390,000 more costs, (almost) no more memory
    beyond = log.beyond
    rest = costs[1000:]
    assert beyond.batches == rest.size
    w = beyond.width
    for b in (0, len(beyond) // 2, len(beyond) - 1):
        chunk = rest[b * w : (b + 1) * w]
        assert beyond.count[b] == chunk.size
        assert beyond.low[b] == chunk.min() and beyond.high[b] == chunk.max()
        assert np.isclose(beyond.mean[b], chunk.mean(), rtol=1e-12)
    first, recent = log.since(costs.size - 10)
    assert first == costs.size - 10 and list(recent) == costs[-10:].tolist()
    assert log.since(0) == (0, tuple(costs[:1000].tolist()))
    first, recent = log.since(1000)  # long gone: the newest RECENT are at hand
    assert first == costs.size - RECENT and len(recent) == RECENT


def _long_session(tmp_path):
    s = build_session(RunSpec(data="xor", seed=2, mini_batch_size=8))
    s.history.batch_costs = CostLog(limit=50)
    for _ in range(230):
        s.step_batch()
    return s


def test_a_session_past_its_exact_limit_saves_reopens_verifies_and_exports(tmp_path):
    s = _long_session(tmp_path)
    path = tmp_path / "long.bpsession"
    s.save(path)
    opened = Session.load(path)
    log = opened.history.batch_costs
    assert len(log) == 230 and log.exact_count == 50 and log.limit == 50
    assert np.array_equal(log.array(), s.history.batch_costs.array())
    assert log.beyond.batches == 180 and log.beyond.width == s.history.batch_costs.beyond.width
    assert verify_session(path).ok
    out = tmp_path / "h.csv"
    write_history_csv(opened, out)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    exact = [r for r in rows if r["cost_min"] == "" and r["batches_in_row"] == "1"]
    buckets = [r for r in rows if r["cost_min"] != ""]  # statistics of mini-batches
    assert [float(r["cost"]) for r in exact] == log.array().tolist()
    assert sum(int(r["batches_in_row"]) for r in buckets) == 180
    ended = [r for r in rows if r["end_of_epoch"] == "1"]
    assert len(ended) == len(opened.history.epochs)  # every epoch's accuracies are there
