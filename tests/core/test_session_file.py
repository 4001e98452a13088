"""Session files: bit-identical continuation, replay verification, and every bad file refused."""

import io
import json
import zipfile

import numpy as np
import pytest

from bpstudio.cli import main
from bpstudio.core.replay import verify_session
from bpstudio.core.run import RunSpec
from bpstudio.core.session import Session, build_session
from bpstudio.core.session_file import SessionFileError, read_manifest


def _run(batches: int, *, change_at=None, phases: int = 0, spec=None) -> Session:
    s = build_session(spec or RunSpec(data="digits", mini_batch_size=10, seed=3))
    for b in range(batches):
        if change_at is not None and b == change_at:
            s.set_hyperparameters(eta=1.25, mini_batch_size=7)
        s.step_batch()
    for _ in range(phases):
        s.step_phase()
    return s


def _same_bits(a: Session, b: Session) -> bool:
    pa, pb = a.network.parameters, b.network.parameters
    return pa.dtype == pb.dtype and np.array_equal(pa.view(np.uint8), pb.view(np.uint8))


@pytest.mark.parametrize(
    "saved_at, change_at, phases",
    [(40, None, 0), (40, 25, 0), (40, 25, 3), (119, None, 0), (120, 60, 2)],
)
def test_save_open_continue_equals_an_uninterrupted_run(tmp_path, saved_at, change_at, phases):
    path = tmp_path / "run.bpsession"
    saved = _run(saved_at, change_at=change_at, phases=phases)
    saved.save(path)
    opened = Session.load(path)
    assert opened.batches_done == saved_at and opened.in_pass == (phases > 0)
    assert opened.changes == saved.changes and opened.live_values() == saved.live_values()
    assert opened.history.batch_costs == saved.history.batch_costs
    assert _same_bits(opened, saved)
    uninterrupted = _run(saved_at, change_at=change_at, phases=phases)
    for s in (opened, uninterrupted):
        s.set_hyperparameters(eta=2.0)  # a change after the reopen is replayed the same way
        while s.batches_done < 260:
            s.step_batch()
    assert _same_bits(opened, uninterrupted)
    assert opened.history.batch_costs == uninterrupted.history.batch_costs
    assert opened.history.epoch_ends == uninterrupted.history.epoch_ends


def test_verify_passes_on_a_good_file_and_finds_a_tampered_one(tmp_path):
    path = tmp_path / "run.bpsession"
    _run(50, change_at=20, phases=2).save(path)
    result = verify_session(path)
    assert result.ok and result.first_difference is None and result.batches == 50
    tampered = tmp_path / "tampered.bpsession"
    _rewrite(path, tampered, costs=lambda c: _bump(c, 33))
    bad = verify_session(tampered)
    assert not bad.ok and bad.first_difference == 33
    changed = tmp_path / "changed.bpsession"
    _rewrite(path, changed, params=lambda p: _bump(p, 5))
    bad = verify_session(changed)
    assert not bad.ok and bad.max_abs_difference > 0


def test_session_verify_command_exit_codes(tmp_path, capsys):
    path = tmp_path / "run.bpsession"
    _run(30).save(path)
    assert main(["session", "verify", str(path)]) == 0
    assert "bit for bit" in capsys.readouterr().out
    tampered = tmp_path / "t.bpsession"
    _rewrite(path, tampered, params=lambda p: _bump(p, 0))
    assert main(["session", "verify", str(tampered)]) == 1
    assert "does not reproduce" in capsys.readouterr().out
    assert main(["session", "verify", str(tmp_path / "none.bpsession")]) == 2


def test_train_save_resume_equals_one_run_and_info_prints_it(tmp_path, capsys):
    a, b = tmp_path / "a.bpsession", tmp_path / "b.bpsession"
    common = ["--data", "xor", "--seed", "5", "--progress", "never"]
    assert main(["train", *common, "--batches", "37", "--save", str(a)]) == 0
    assert main(["train", "--resume", str(a), "--batches", "90", "--progress", "never"]) == 0
    assert main(["train", *common, "--batches", "90", "--save", str(b)]) == 0
    assert _same_bits(Session.load(a), Session.load(b))
    assert Session.load(a).batches_done == 90
    capsys.readouterr()
    assert main(["session", "info", str(a)]) == 0
    out = capsys.readouterr().out
    assert "90 in all" in out and "xor" in out and "note: (none)" in out


def test_note_view_and_history_round_trip(tmp_path):
    s = _run(130)
    s.note = "Stop at BP2 and predict the sign of δ²₄ before stepping."
    s.view = {"selection": ["w", 3, 4, 7], "node_quantity": "a"}
    s.save(tmp_path / "n.bpsession")
    opened = Session.load(tmp_path / "n.bpsession")
    assert opened.note == s.note and opened.view == s.view
    assert opened.history.epochs == s.history.epochs
    assert read_manifest(tmp_path / "n.bpsession")["version"] == 1


def test_a_failure_in_the_middle_of_a_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "run.bpsession"
    _run(10).save(path)
    before = path.read_bytes()
    calls = []

    def failing_save(f, a, allow_pickle=False):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        f.write(b"x" * 100)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(SessionFileError, match="run.bpsession"):
        _run(20).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.bpsession"]


# -- bad files -------------------------------------------------------------------------------------
def _bump(a: np.ndarray, i: int) -> np.ndarray:
    a = a.copy()
    a[i] = np.nextafter(a[i], np.inf)
    return a


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _rewrite(src, dst, *, manifest=None, params=None, costs=None, drop=()):
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    if manifest is not None:
        m = json.loads(members["manifest.json"])
        manifest(m)
        members["manifest.json"] = json.dumps(m).encode()
    for name, fn in (("parameters.npy", params), ("batch_costs.npy", costs)):
        if fn is not None:
            members[name] = _npy(fn(np.load(io.BytesIO(members[name]))))
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            if name not in drop:
                z.writestr(name, data)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.bpsession"
    _run(12).save(path)
    return path


def _version(m):
    m["version"] = 99


def _data_name(m):
    m["data"]["sha256"] = "0" * 64


BAD = {
    "truncated": (lambda g, p: p.write_bytes(g.read_bytes()[: len(g.read_bytes()) // 2]), "zip"),
    "corrupted": (
        lambda g, p: p.write_bytes(g.read_bytes()[:40] + b"\0" * 200 + g.read_bytes()[240:]),
        "damaged",
    ),
    "any zip": (lambda g, p: zipfile.ZipFile(p, "w").writestr("a.txt", "hello"), "manifest"),
    "any json": (lambda g, p: p.write_text('{"format": 1}'), "not a zip"),
    "json manifest of another kind": (
        lambda g, p: zipfile.ZipFile(p, "w").writestr("manifest.json", '{"x": [1, 2]}'),
        "not a session file",
    ),
    "newer version": (lambda g, p: _rewrite(g, p, manifest=_version), "newer bpstudio"),
    "wrong shape": (lambda g, p: _rewrite(g, p, params=lambda a: a[:-3]), "shape"),
    "wrong dtype": (lambda g, p: _rewrite(g, p, params=lambda a: a.astype(np.float32)), "type"),
    "NaN parameters": (
        lambda g, p: _rewrite(g, p, params=lambda a: np.where(np.arange(a.size) == 3, np.nan, a)),
        "NaN",
    ),
    "data checksum": (lambda g, p: _rewrite(g, p, manifest=_data_name), "checksum"),
    "missing array": (lambda g, p: _rewrite(g, p, drop=("parameters.npy",)), "parameters"),
    "an object array": (
        lambda g, p: _rewrite(g, p, params=lambda a: np.array([None] * a.size, dtype=object)),
        "",
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_every_bad_file_gets_a_one_line_message(good, tmp_path, kind):
    make, words = BAD[kind]
    path = tmp_path / "bad.bpsession"
    if kind == "an object array":  # np.save refuses objects without pickle: write it raw
        pytest.importorskip("numpy")
        with zipfile.ZipFile(good) as z:
            members = {n: z.read(n) for n in z.namelist()}
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "|O", "fortran_order": False, "shape": (5,)}
        )
        members["parameters.npy"] = b"\x93NUMPY\x01\x00" + buf.getvalue()[8:] + b"\0" * 40
        with zipfile.ZipFile(path, "w") as z:
            for n, d in members.items():
                z.writestr(n, d)
    else:
        make(good, path)
    with pytest.raises(SessionFileError) as exc:
        Session.load(path)
    message = str(exc.value)
    assert "\n" not in message and str(path) in message and words in message
    if kind in (
        "truncated",
        "any zip",
        "any json",
        "json manifest of another kind",
        "newer version",
    ):
        assert main(["session", "info", str(path)]) == 2  # info reads the manifest only


def test_steps_on_ones_own_examples_are_saved_and_replayed(tmp_path):
    rng = np.random.default_rng(4)
    s = _run(15)
    s.train_on(rng.random(64), 3)
    s.set_hyperparameters(eta=0.7)
    s.train_on(rng.random(64), 8)
    for _ in range(10):
        s.step_batch()
    s.train_on(rng.random(64), 1)
    path = tmp_path / "own.bpsession"
    s.save(path)
    assert verify_session(path).ok
    opened = Session.load(path)
    assert [e.batch for e in opened.own_examples] == [15, 15, 25]
    assert _same_bits(opened, s)
    without = tmp_path / "without.bpsession"
    _rewrite(path, without, manifest=lambda m: m["own_examples"].pop(1))
    assert not verify_session(without).ok  # the replay needs them to reproduce the run
