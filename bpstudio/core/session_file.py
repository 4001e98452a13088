"""Session files (``.bpsession``): a run saved so that it goes on exactly where it stopped.

The format is open and never pickled, so a file from a stranger cannot run code. It is a zip
archive of

``manifest.json``
    ``{"format": "bpstudio-session", "version": 1, ...}``: the run description (``spec``,
    the starting values), the position (epoch, mini-batch, examples seen, the place in the
    epoch's shuffled order, and any half-done mini-batch: its size, η, σ, cost and how many of
    its phases ran), the shuffling generator's state, the change log (``changes``: from which
    mini-batch η, m, σ or the cost changed), the epochs' accuracies, the data's spec and a
    SHA-256 of its arrays, the note and the window's view settings, and what each array is.
``parameters.npy``
    Every weight and bias, as the network's flat vector (layer by layer, [w^l | b^l] rows).
``batch_costs.npy``
    The cost of every mini-batch so far (float64), at full resolution, up to the run's exact
    limit (``costs.exact_limit`` in the manifest, 2**24 mini-batches); past it
    ``costs_beyond.npy`` holds exact per-bucket statistics (count, sum, smallest, largest, as
    four rows flattened; ``costs.beyond`` says the bucket width).
``order.npy``
    The shuffled order of the epoch under way (absent between epochs).
``data_*.npy``
    Only for data made by the user (points), which cannot be loaded by name.

Arrays are read with ``allow_pickle=False`` after their header has been checked against the
manifest, so a tampered file is refused before anything large is allocated. Writes are atomic
(:mod:`bpstudio.core.atomic`). Every problem is a :class:`SessionFileError` with one line.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from bpstudio import __version__
from bpstudio.core.atomic import atomic_open
from bpstudio.core.backprop import parameter_count
from bpstudio.core.cost_buckets import CostBuckets
from bpstudio.core.cost_log import EXACT_LIMIT, CostLog
from bpstudio.core.errors import BpstudioError, DataError
from bpstudio.core.functions import get_activation, get_cost
from bpstudio.core.run import LIVE_FIELDS, Change, RunSpec, check_live_value

FORMAT = "bpstudio-session"
VERSION = 1
SUFFIX = ".bpsession"
#: The manifest is small; a bigger one is not a session file.
MANIFEST_LIMIT = 8 * 2**20
#: Data sets kept inside the file (they have no name to load them by).
STORED_DATA = ("points",)


class SessionFileError(BpstudioError):
    """A session file cannot be read or written; the message says which and why."""


class DataNotFound(SessionFileError):
    """The file's data set cannot be found where its spec says (e.g. the MNIST folder moved)."""

    def __init__(self, message: str, data_spec: str) -> None:
        super().__init__(message)
        self.data_spec = data_spec


# -- the data's fingerprint -----------------------------------------------------------------------
def data_checksum(data) -> str:
    """SHA-256 over the data set's arrays (inputs as stored, labels), split by split."""
    h = hashlib.sha256()
    for part in (data.train, data.validation, data.test):
        x = getattr(part, "x_bytes", None)
        x = part.x if x is None else x
        for a in (np.ascontiguousarray(x), np.ascontiguousarray(part.y)):
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _cached_checksum(data) -> str:
    cached = getattr(data, "_bpstudio_sha256", None)
    if cached is None:
        cached = data_checksum(data)
        try:
            object.__setattr__(data, "_bpstudio_sha256", cached)
        except (AttributeError, TypeError):
            pass
    return cached


# -- saving ---------------------------------------------------------------------------------------
def save_session(session, path) -> None:
    """Write ``session`` to ``path`` atomically (see the module docstring for the format)."""
    costs = session.history.batch_costs
    arrays = {"parameters": session.network.parameters, "batch_costs": costs.array()}
    beyond = costs.beyond
    if beyond is not None:
        stats, _ = beyond.state()
        arrays["costs_beyond"] = stats.reshape(-1)
    if session._order is not None:
        arrays["order"] = session._order.astype(np.int64)
    if session.spec.data in STORED_DATA:
        for name, part in _parts(session.data):
            arrays[f"data_{name}_x"] = part.x
            arrays[f"data_{name}_y"] = part.y
    manifest = _manifest(session, arrays)
    try:
        with atomic_open(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, True, 1) as z:
            z.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
            for name, a in arrays.items():
                buf = io.BytesIO()
                np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
                z.writestr(f"{name}.npy", buf.getvalue())
    except BpstudioError as exc:
        raise SessionFileError(str(exc)) from None
    except OSError as exc:
        raise SessionFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def _costs_manifest(costs) -> dict:
    beyond = costs.beyond
    return {
        "exact_limit": costs.limit,
        "exact": costs.exact_count,
        "beyond": None if beyond is None else beyond.state()[1],
    }


def _parts(data):
    return (("train", data.train), ("validation", data.validation), ("test", data.test))


def _manifest(session, arrays: dict) -> dict:
    p = session._pass
    half_done = None
    if p is not None:
        half_done = {
            "size": int(p.ws.m),
            "eta": p.eta,
            "activation": p.activation.name,
            "cost": p.cost.name,
            "phases_done": int(p.done),
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "written_by": f"bpstudio {__version__}",
        "spec": session.spec.to_dict(),
        "current": session.live_values(),
        "position": {
            "epoch": session.epoch,
            "batch_in_epoch": session.batch_in_epoch,
            "batches_done": session.batches_done,
            "examples_seen": session.examples_seen,
            "position_in_epoch": session._position,
            "half_done_batch": half_done,
        },
        "shuffle_state": session._rng.bit_generator.state,
        "changes": [list(c) for c in session.changes],
        "own_examples": [
            {**e._asdict(), "x": e.x.tolist()} for e in session.own_examples
        ],
        "history": {
            "epoch_ends": list(session.history.epoch_ends),
            "epochs": [r.__dict__ for r in session.history.epochs],
        },
        "data": {
            "spec": session.spec.data,
            "name": session.data.name,
            "sha256": _cached_checksum(session.data),
            "stored": session.spec.data in STORED_DATA,
        },
        "costs": _costs_manifest(session.history.batch_costs),
        "evaluate": session.evaluate,
        "note": session.note,
        "view": session.view,
        "arrays": {
            name: {"shape": list(np.shape(a)), "dtype": np.asarray(a).dtype.str}
            for name, a in arrays.items()
        },
    }


# -- loading --------------------------------------------------------------------------------------
def read_manifest(path) -> dict:
    """The manifest of a session file, checked for format and version."""
    with _open_zip(path) as z:
        return _read_manifest(z, path)


def load_session(path, *, data=None, data_spec: str | None = None, cancel=None):
    """Open a session file: a :class:`~bpstudio.core.session.Session` ready to go on.

    Raises
    ------
    DataNotFound
        The data cannot be loaded from its spec (give ``data_spec`` or ``data``).
    SessionFileError
        Anything else wrong with the file, in one line.
    """
    from bpstudio.core.session import Session

    with _open_zip(path) as z:
        m = _read_manifest(z, path)
        try:
            spec = RunSpec.from_dict(m["spec"])
        except BpstudioError as exc:
            raise _bad(path, f"its run description is not valid ({exc})") from None
        sizes = spec.sizes
        if sizes is None:
            raise _bad(path, "its run description has no layer sizes")
        n_params = parameter_count(sizes)
        pos = _position(m, path)
        limit = _cost_limit(m, path)
        exact = min(pos["batches_done"], limit)
        params = _read_array(z, path, "parameters", (n_params,), (np.dtype(spec.dtype),))
        costs = _read_array(z, path, "batch_costs", (exact,), (np.dtype(np.float64),))
        beyond = None
        if pos["batches_done"] > limit:
            beyond = _read_beyond(z, path, m)
        order = None
        if "order.npy" in z.namelist():
            order = _read_array(z, path, "order", None, (np.dtype(np.int64),))
        if data is None:
            data = _load_data(z, m, path, data_spec, spec, cancel)
    if not np.all(np.isfinite(params)):
        raise _bad(path, "its parameters hold NaN or infinite values")
    if m["data"].get("sha256") != _cached_checksum(data):
        raise _bad(
            path,
            f"the data found for {data_spec or m['data'].get('spec')!r} is not the data this run "
            "was trained on (its checksum differs)",
        )
    if data_spec is not None:
        from dataclasses import replace

        spec = replace(spec, data=data_spec)
    try:
        session = Session.from_spec(spec, data, evaluate=bool(m.get("evaluate", True)))
    except BpstudioError as exc:
        raise _bad(path, str(exc)) from None
    try:
        log = CostLog(costs, limit=limit, beyond=beyond, total=pos["batches_done"])
    except ValueError as exc:
        raise _bad(path, f"its cost history is not valid ({exc})") from None
    _restore(session, m, path, params, log, order, pos)
    return session


def _open_zip(path) -> zipfile.ZipFile:
    p = Path(path)
    if not p.exists():
        raise SessionFileError(f"{path}: no such file")
    if not p.is_file():
        raise SessionFileError(f"{path}: not a file")
    try:
        return zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        raise _bad(path, "it is not a zip archive (truncated, or not a session file)") from None
    except OSError as exc:
        raise SessionFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _bad(path, why: str) -> SessionFileError:
    return SessionFileError(f"{path} is not a usable bpstudio session: {why}")


def _member(z: zipfile.ZipFile, path, name: str, limit: int) -> bytes:
    try:
        info = z.getinfo(name)
    except KeyError:
        raise _bad(path, f"it has no {name}") from None
    if info.file_size > limit:
        raise _bad(path, f"its {name} is far larger than it can be")
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _bad(path, f"its {name} is damaged ({exc})") from None
    if len(data) > limit:
        raise _bad(path, f"its {name} is far larger than it can be")
    return data


def _read_manifest(z: zipfile.ZipFile, path) -> dict:
    raw = _member(z, path, "manifest.json", MANIFEST_LIMIT)
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(path, "its manifest is not valid JSON") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise _bad(path, "it is a zip archive but not a session file (no session manifest)")
    version = m.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(path, "its format version is missing")
    if version > VERSION:
        raise SessionFileError(
            f"{path} was written by a newer bpstudio (format version {version}; this one reads "
            f"up to {VERSION}): update bpstudio to open it"
        )
    for key, kind in (
        ("spec", dict),
        ("position", dict),
        ("shuffle_state", dict),
        ("changes", list),
        ("history", dict),
        ("data", dict),
    ):
        if not isinstance(m.get(key), kind):
            raise _bad(path, f"its manifest lacks a valid {key!r}")
    return m


def _read_array(z, path, name: str, shape, dtypes) -> np.ndarray:
    raw = _member(z, path, f"{name}.npy", 2**31)
    buf = io.BytesIO(raw)
    try:
        major, minor = np.lib.format.read_magic(buf)
        hdr = (
            np.lib.format.read_array_header_1_0
            if (major, minor) == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        got_shape, fortran, dtype = hdr(buf)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise _bad(path, f"its {name} array is damaged ({exc})") from None
    if dtype not in dtypes or dtype.hasobject:
        raise _bad(path, f"its {name} array has the wrong type ({dtype})")
    if shape is not None and tuple(got_shape) != tuple(shape):
        raise _bad(path, f"its {name} array has shape {tuple(got_shape)}, expected {shape}")
    if len(got_shape) != 1:
        raise _bad(path, f"its {name} array must be one-dimensional")
    need = int(np.prod(got_shape)) * dtype.itemsize
    if len(raw) - buf.tell() < need:
        raise _bad(path, f"its {name} array is truncated")
    buf.seek(0)
    try:
        return np.load(buf, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _bad(path, f"its {name} array is damaged ({exc})") from None


def _cost_limit(m, path) -> int:
    costs = m.get("costs")
    if costs is None:
        return EXACT_LIMIT
    if not isinstance(costs, dict):
        raise _bad(path, "its cost history description is not valid")
    return _int(costs.get("exact_limit"), path, "exact cost limit", 1)


def _read_beyond(z, path, m) -> CostBuckets:
    info = m["costs"].get("beyond")
    if not isinstance(info, dict):
        raise _bad(path, "its costs past the exact limit are missing")
    stats = _read_array(z, path, "costs_beyond", None, (np.dtype(np.float64),))
    if stats.size % 4:
        raise _bad(path, "its costs past the exact limit are damaged")
    try:
        return CostBuckets.from_state(stats.reshape(4, -1), info)
    except (KeyError, TypeError, ValueError):
        raise _bad(path, "its costs past the exact limit are not valid") from None


def _int(value, path, what: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _bad(path, f"its {what} is not a valid count")
    return value


def _position(m: dict, path) -> dict:
    p = m["position"]
    out = {k: _int(p.get(k), path, k) for k in (
        "epoch", "batch_in_epoch", "batches_done", "examples_seen", "position_in_epoch"
    )}
    out["half_done_batch"] = p.get("half_done_batch")
    return out


def _load_data(z, m, path, data_spec, spec: RunSpec, cancel):
    from bpstudio.core.data import load_dataset

    info = m["data"]
    if info.get("stored"):
        return _stored_data(z, path, info)
    name = data_spec or spec.data
    try:
        return load_dataset(name, seed=spec.seed, cancel=cancel)
    except DataError as exc:
        raise DataNotFound(
            f"the data of {path} ({name}) cannot be loaded: {exc}", name
        ) from None


def _stored_data(z, path, info):
    from bpstudio.core.data import Dataset, DataSplits

    parts = []
    for part in ("train", "validation", "test"):
        x = _read_array_2d(z, path, f"data_{part}_x")
        y = _read_array(z, path, f"data_{part}_y", None, (np.dtype(np.int64),))
        if len(x) != len(y):
            raise _bad(path, f"its stored {part} data has {len(x)} inputs and {len(y)} labels")
        parts.append(Dataset(x, y))
    return DataSplits(info.get("name", "points"), *parts)


def _read_array_2d(z, path, name):
    raw = _member(z, path, f"{name}.npy", 2**28)
    try:
        a = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _bad(path, f"its {name} array is damaged ({exc})") from None
    if a.ndim != 2 or a.dtype != np.float64 or not np.all(np.isfinite(a)):
        raise _bad(path, f"its {name} array is not a table of finite numbers")
    return a


def _restore(session, m, path, params, costs, order, pos) -> None:
    from bpstudio.core.session import EpochRecord

    n = session.train_size
    if order is not None and (len(order) != n or not np.array_equal(np.sort(order), np.arange(n))):
        raise _bad(path, "its shuffled order is not a permutation of the training set")
    if pos["position_in_epoch"] > n or (order is None and pos["position_in_epoch"] != 0):
        raise _bad(path, "its place in the epoch is out of range")
    try:
        session._rng.bit_generator.state = m["shuffle_state"]
    except (TypeError, ValueError, KeyError) as exc:
        raise _bad(path, f"its shuffling state is not valid ({exc})") from None
    session.network.parameters[...] = params
    session.history.batch_costs = costs
    session.history.epoch_ends = [
        _int(v, path, "epoch end") for v in m["history"].get("epoch_ends", [])
    ]
    try:
        session.history.epochs = [EpochRecord(**r) for r in m["history"].get("epochs", [])]
    except TypeError:
        raise _bad(path, "its epoch records are not valid") from None
    session.changes = [_change(c, path) for c in m["changes"]]
    session.own_examples = [_own_example(e, path, session) for e in m.get("own_examples", [])]
    session.epoch = pos["epoch"]
    session.batch_in_epoch = pos["batch_in_epoch"]
    session.batches_done = pos["batches_done"]
    session.examples_seen = pos["examples_seen"]
    session._order = order
    session._position = pos["position_in_epoch"]
    _apply_current(session, m.get("current"), path)
    note, view = m.get("note", ""), m.get("view", {})
    session.note = note if isinstance(note, str) else ""
    session.view = view if isinstance(view, dict) else {}
    half = pos["half_done_batch"]
    if half is not None:
        _resume_pass(session, half, path)


def _change(c, path) -> Change:
    if not (isinstance(c, list) and len(c) == 3 and c[1] in LIVE_FIELDS):
        raise _bad(path, "its change log is not valid")
    try:
        return Change(_int(c[0], path, "change's mini-batch"), c[1], check_live_value(c[1], c[2]))
    except BpstudioError:
        raise _bad(path, "its change log holds a value that is not valid") from None


def _own_example(e, path, session):
    from bpstudio.core.session import OwnExample

    try:
        x = np.array(e["x"], dtype=np.float64)
        example = OwnExample(
            _int(e["batch"], path, "example's mini-batch"),
            x,
            _int(e["label"], path, "example's label"),
            check_live_value("eta", e["eta"]),
            check_live_value("activation", e["activation"]),
            check_live_value("cost", e["cost"]),
        )
    except (KeyError, TypeError, ValueError, BpstudioError):
        raise _bad(path, "one of its own examples is not valid") from None
    if x.shape != (session.sizes[0],) or not np.all(np.isfinite(x)):
        raise _bad(path, "one of its own examples does not fit the network")
    if example.label >= session.sizes[-1]:
        raise _bad(path, "one of its own examples has a label the network does not have")
    return example


def _apply_current(session, current, path) -> None:
    if not isinstance(current, dict) or set(current) != set(LIVE_FIELDS):
        raise _bad(path, "its current hyperparameters are missing")
    try:
        values = {k: check_live_value(k, v) for k, v in current.items()}
    except BpstudioError as exc:
        raise _bad(path, str(exc)) from None
    session._apply_live(values)


def _resume_pass(session, half, path) -> None:
    """Start the half-done mini-batch again with its own values and redo its finished phases.

    No phase before the update changes the parameters, so redoing them gives the same
    numbers bit for bit.
    """
    if not isinstance(half, dict):
        raise _bad(path, "its half-done mini-batch is not valid")
    try:
        size = _int(half["size"], path, "half-done batch size", 1)
        done = _int(half["phases_done"], path, "half-done phase count", 1)
        eta = check_live_value("eta", half["eta"])
        act, cost = get_activation(half["activation"]), get_cost(half["cost"])
    except (KeyError, BpstudioError):
        raise _bad(path, "its half-done mini-batch is not valid") from None
    if session._order is None or session._position + size > session.train_size:
        raise _bad(path, "its half-done mini-batch lies outside the epoch")
    net = session.network
    keep = (session.mini_batch_size, session.eta, net.activation, net.cost)
    session.mini_batch_size, session.eta = size, eta
    net.activation, net.cost = act, cost
    try:
        p = session._begin(record=True)
    finally:
        session.mini_batch_size, session.eta = keep[0], keep[1]
        net.activation, net.cost = keep[2], keep[3]
    if done >= len(p.phases):
        raise _bad(path, "its half-done mini-batch has no phase left")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(done):
            p.run_next()





def describe_file(path) -> str:
    """What ``bpstudio session info`` prints: description, position, history summary, note."""
    with _open_zip(path) as z:
        m = _read_manifest(z, path)
        pos = _position(m, path)
        exact = min(pos["batches_done"], _cost_limit(m, path))
        costs = _read_array(z, path, "batch_costs", (exact,), (np.dtype("<f8"),))
    spec, current = m["spec"], m.get("current") or {}
    lines = [
        f"{path}: bpstudio session, format version {m['version']} ({m.get('written_by', '?')})",
        f"data {m['data'].get('spec')} (sha256 {str(m['data'].get('sha256'))[:12]}…)",
        f"network {spec.get('sizes')}, seed {spec.get('seed')}, {spec.get('dtype')}, "
        f"{spec.get('blas_threads')} BLAS thread(s)",
        f"now: {current.get('activation')} neurons, {current.get('cost')} cost, "
        f"η = {current.get('eta')}, m = {current.get('mini_batch_size')}; "
        f"{len(m['changes'])} change(s) since the start",
        f"position: epoch {pos['epoch']} (from 0) of {spec.get('epochs')}, mini-batch "
        f"{pos['batch_in_epoch']} of the epoch, {pos['batches_done']} in all"
        + (", one half done" if pos["half_done_batch"] else ""),
    ]
    if len(costs):
        lines.append(
            f"cost: first mini-batch {costs[0]:.5g}, last {costs[-1]:.5g}, "
            f"mean of the last 100 {float(np.mean(costs[-100:])):.5g}"
        )
    for r in m["history"].get("epochs", [])[-3:]:
        if isinstance(r, dict):
            lines.append(
                f"Epoch {r.get('epoch')}: {r.get('validation_correct')} / "
                f"{r.get('validation_total')} validation"
            )
    note = m.get("note") or ""
    lines.append("note: " + (note if isinstance(note, str) and note else "(none)"))
    return "\n".join(lines)
