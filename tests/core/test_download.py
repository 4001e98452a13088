"""Tests of bpstudio.core.data.download against a real HTTP server on 127.0.0.1.

The server serves, under one path prefix each: the real MNIST files (``/good/``, when
``<repo>/../shared/data/mnist`` exists), small fake files (``/fake/``), fake files with one byte
flipped (``/corrupt/``), fake files whose Content-Length promises more than is sent
(``/truncated/``), fake files without a Content-Length (``/nolength/``), fake files sent one
byte at a time (``/trickle/``), a status line sent one byte at a time (``/tricklehead/``), fake
files sent in steady 16 KiB pieces (``/steady/``), and 404 for anything else. A trickle sends
at most 60 bytes and stops when the fixture ends, so that no request outlives the module.

The error cases use the fake files, with ``MNIST_FILES`` patched to their checksums, so the
real 11.6 MB are transferred once per run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from bpstudio.core.data import download, load_dataset
from bpstudio.core.data.download import (
    MNIST_FILES,
    cache_dir,
    fetch_mnist,
    mnist_cache_dir,
    mnist_mirrors,
    platform_cache_dir,
)
from bpstudio.core.data.pacing import Pace, Stalled
from bpstudio.core.errors import Cancelled, DownloadError

REPO = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
FIRST = "train-images-idx3-ubyte.gz"


def checksums(data: bytes) -> tuple[str, str]:
    return hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest()


@dataclass
class Route:
    body: bytes
    declared_length: int | None  # None: send no Content-Length header
    piece: int = 0  # > 0: send the body in pieces of this many bytes, `interval` seconds apart
    interval: float = 0.0
    limit: int | None = None  # stop after this many bytes of the body
    head_too: bool = False  # also send the status line and headers piece by piece


@dataclass
class Server:
    url: str
    requests: list[str]

    def base(self, prefix: str) -> str:
        return f"{self.url}/{prefix}/"


def make_handler(routes: dict[str, Route], requests: list[str], stop: threading.Event) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            requests.append(self.path)
            route = routes.get(self.path)
            try:
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.head_too:
                    self.send_paced(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n", route)
                    return
                self.send_response(200)
                if route.declared_length is not None:
                    self.send_header("Content-Length", str(route.declared_length))
                self.end_headers()
                if route.piece:
                    self.send_paced(route.body, route)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client cancelled and hung up

        def send_paced(self, data: bytes, route: Route) -> None:
            data = data[: route.limit]
            for start in range(0, len(data), route.piece):
                if stop.wait(route.interval):
                    return
                self.wfile.write(data[start : start + route.piece])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture(scope="module")
def fake_files() -> dict[str, bytes]:
    """Four small stand-ins; the first spans several 64 KiB chunks."""
    rng = np.random.default_rng(0)
    sizes = (300_000, 1_000, 20_000, 500)
    return {name: rng.bytes(size) for name, size in zip(MNIST_FILES, sizes, strict=True)}


@pytest.fixture(scope="module")
def server(fake_files):
    routes: dict[str, Route] = {}
    for name, body in fake_files.items():
        flipped = bytearray(body)
        flipped[len(body) // 2] ^= 0x01
        routes[f"/fake/{name}"] = Route(body, len(body))
        routes[f"/corrupt/{name}"] = Route(bytes(flipped), len(body))
        routes[f"/truncated/{name}"] = Route(body[: len(body) // 2], len(body))
        routes[f"/nolength/{name}"] = Route(body, None)
        routes[f"/trickle/{name}"] = Route(body, len(body), piece=1, interval=0.05, limit=60)
        routes[f"/tricklehead/{name}"] = Route(body, None, 1, 0.05, limit=60, head_too=True)
        routes[f"/steady/{name}"] = Route(body, len(body), piece=16 << 10, interval=0.05)
    if SHARED_MNIST.is_dir():
        for name in MNIST_FILES:
            body = (SHARED_MNIST / name).read_bytes()
            routes[f"/good/{name}"] = Route(body, len(body))
    requests: list[str] = []
    stop = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(routes, requests, stop))
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="test-http-server", daemon=True
    )
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()  # also joins the threads that served requests
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def fake(monkeypatch, fake_files) -> dict[str, bytes]:
    """Make the downloader expect the fake files' checksums."""
    sums = {name: checksums(body) for name, body in fake_files.items()}
    monkeypatch.setattr(download, "MNIST_FILES", sums)
    return fake_files


def listing(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def assert_holds_exactly(folder: Path, files: dict[str, bytes]) -> None:
    assert listing(folder) == set(files)  # no temporary or partial file left over
    for name, body in files.items():
        assert (folder / name).read_bytes() == body


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# --- the real files, downloaded once --------------------------------------------------------


@dataclass
class RealFetch:
    cache: Path
    folder: Path
    returned: Path
    calls: list[tuple[str, int, int | None]]


@pytest.fixture(scope="module")
def real_fetch(server, tmp_path_factory) -> RealFetch:
    """Fetch the real files with the defaults: the cache folder and the mirror from the env."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"the real MNIST files are not in {SHARED_MNIST}")
    cache = tmp_path_factory.mktemp("cache")
    calls: list[tuple[str, int, int | None]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BPSTUDIO_CACHE_DIR", str(cache))
        patch.setenv("BPSTUDIO_MNIST_URL", server.base("good"))
        returned = fetch_mnist(progress=lambda *args: calls.append(args))
    return RealFetch(cache, cache / "mnist", returned, calls)


@pytest.mark.mnist
def test_fetch_downloads_verified_files_into_the_cache(real_fetch):
    assert real_fetch.returned == real_fetch.folder
    assert listing(real_fetch.folder) == set(MNIST_FILES)
    for name, expected in MNIST_FILES.items():
        data = (real_fetch.folder / name).read_bytes()
        assert checksums(data) == expected
        assert data == (SHARED_MNIST / name).read_bytes()


@pytest.mark.mnist
def test_fetch_reports_increasing_progress(real_fetch):
    for name in MNIST_FILES:
        done = [d for n, d, _ in real_fetch.calls if n == name]
        totals = {t for n, _, t in real_fetch.calls if n == name}
        size = (SHARED_MNIST / name).stat().st_size
        assert done == sorted(done) and len(set(done)) == len(done)
        assert done[-1] == size and totals == {size}
    assert len([c for c in real_fetch.calls if c[0] == FIRST]) > 10


@pytest.mark.mnist
def test_second_fetch_skips_intact_files(real_fetch, server):
    before = {name: (real_fetch.folder / name).stat().st_mtime_ns for name in MNIST_FILES}
    calls: list[tuple] = []
    count = len(server.requests)
    fetch_mnist(real_fetch.folder, base_urls=[server.base("good")], progress=calls.append)
    assert calls == [] and len(server.requests) == count
    after = {name: (real_fetch.folder / name).stat().st_mtime_ns for name in MNIST_FILES}
    assert after == before


@pytest.mark.mnist
def test_fetched_files_load_as_mnist(real_fetch, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(real_fetch.cache))
    splits = load_dataset("mnist")
    assert [len(p) for p in (splits.train, splits.validation, splits.test)] == [50000, 10000, 10000]
    assert splits.train.y[0] == 5


# --- error cases, on small fake files -------------------------------------------------------


def test_fetch_fake_files(fake, server, tmp_path):
    dest = tmp_path / "a" / "b"
    assert fetch_mnist(dest, base_urls=[server.base("fake")]) == dest
    assert_holds_exactly(dest, fake)


def test_corrupted_download_is_discarded(fake, server, tmp_path):
    with pytest.raises(DownloadError) as info:
        fetch_mnist(tmp_path, base_urls=[server.base("corrupt")])
    message = str(info.value)
    expected_md5, expected_sha = download.MNIST_FILES[FIRST]
    assert FIRST in message and "checksum" in message and "corrupted" in message
    assert expected_md5 in message and expected_sha in message
    flipped = bytearray(fake[FIRST])
    flipped[len(flipped) // 2] ^= 0x01
    assert checksums(bytes(flipped))[0] in message  # the actual checksum
    assert listing(tmp_path) == set()


def test_truncated_download_is_discarded(fake, server, tmp_path):
    with pytest.raises(DownloadError, match="truncated") as info:
        fetch_mnist(tmp_path, base_urls=[server.base("truncated")])
    assert FIRST in str(info.value)
    assert listing(tmp_path) == set()


def test_all_mirrors_failing_names_each_error(fake, server, tmp_path):
    bases = [server.base("missing"), closed_port_url(), server.base("corrupt")]
    with pytest.raises(DownloadError) as info:
        fetch_mnist(tmp_path, base_urls=bases, timeout=5)
    message = str(info.value)
    assert FIRST in message and "HTTP 404" in message
    assert "unreachable" in message and "checksum mismatch" in message
    assert all(base in message for base in bases)
    assert listing(tmp_path) == set()


def test_malformed_base_url_is_a_mirror_failure(fake, server, tmp_path):
    with pytest.raises(DownloadError, match="not a usable URL"):
        fetch_mnist(tmp_path, base_urls=["no-scheme/mnist"])
    fetch_mnist(tmp_path, base_urls=["no-scheme/mnist", server.base("fake")])
    assert_holds_exactly(tmp_path, fake)


def test_falls_back_to_the_next_mirror(fake, server, tmp_path):
    bases = [
        server.base("missing"),
        closed_port_url(),
        server.base("corrupt"),
        server.url + "/fake",
    ]
    fetch_mnist(tmp_path, base_urls=bases, timeout=5)
    assert_holds_exactly(tmp_path, fake)


def test_cancel_during_a_download_leaves_no_partial_file(fake, server, tmp_path):
    calls: list[tuple] = []
    with pytest.raises(Cancelled):
        fetch_mnist(
            tmp_path,
            base_urls=[server.base("fake")],
            progress=lambda *args: calls.append(args),
            should_cancel=lambda: bool(calls),
        )
    assert len(calls) == 1 and calls[0][0] == FIRST and calls[0][1] < len(fake[FIRST])
    assert listing(tmp_path) == set()


def test_cancel_keeps_files_already_verified(fake, server, tmp_path):
    names = list(fake)

    def cancel() -> bool:
        return (tmp_path / names[1]).exists()

    with pytest.raises(Cancelled):
        fetch_mnist(tmp_path, base_urls=[server.base("fake")], should_cancel=cancel)
    assert_holds_exactly(tmp_path, {name: fake[name] for name in names[:2]})


def test_existing_bad_file_is_replaced_and_good_file_kept(fake, server, tmp_path):
    names = list(fake)
    (tmp_path / names[0]).write_bytes(fake[names[0]])  # intact: must be kept
    (tmp_path / names[1]).write_bytes(b"garbage")  # damaged: must be downloaded again
    calls: list[tuple] = []
    fetch_mnist(tmp_path, base_urls=[server.base("fake")], progress=lambda *a: calls.append(a))
    assert {name for name, *_ in calls} == set(names[1:])
    assert_holds_exactly(tmp_path, fake)


def test_progress_without_content_length(fake, server, tmp_path):
    calls: list[tuple] = []
    fetch_mnist(tmp_path, base_urls=[server.base("nolength")], progress=lambda *a: calls.append(a))
    assert {total for *_, total in calls} == {None}
    first = [done for name, done, _ in calls if name == FIRST]
    assert first == sorted(first) and first[-1] == len(fake[FIRST])
    assert_holds_exactly(tmp_path, fake)


def test_base_url_without_trailing_slash(fake, server, tmp_path):
    fetch_mnist(tmp_path, base_urls=[server.url + "/fake"])
    assert_holds_exactly(tmp_path, fake)


def test_mirror_from_the_environment(fake, server, tmp_path, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_MNIST_URL", server.base("fake"))
    assert mnist_mirrors() == (server.base("fake"),)
    fetch_mnist(tmp_path)
    assert_holds_exactly(tmp_path, fake)
    monkeypatch.delenv("BPSTUDIO_MNIST_URL")
    assert mnist_mirrors() == download.MNIST_MIRRORS


def test_destination_that_cannot_be_created(fake, server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DownloadError, match="cannot create the folder"):
        fetch_mnist(blocker / "mnist", base_urls=[server.base("fake")])


# --- checksums and cache folders ------------------------------------------------------------


def test_mnist_files_match_the_published_sums():
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"no {SHARED_MNIST}")
    md5 = dict(
        reversed(line.split()) for line in (SHARED_MNIST / "MD5SUMS").read_text().splitlines()
    )
    sha = dict(
        reversed(line.split()) for line in (SHARED_MNIST / "SHA256SUMS").read_text().splitlines()
    )
    assert MNIST_FILES == {name: (md5[name], sha[name]) for name in md5}


def test_cache_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert mnist_cache_dir() == tmp_path / "c" / "mnist"
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, "/home/u/.cache/bpstudio"),
        ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/bpstudio"),
        ("linux", {"XDG_CACHE_HOME": "relative"}, "/home/u/.cache/bpstudio"),
        ("darwin", {"XDG_CACHE_HOME": "/xdg"}, "/home/u/Library/Caches/bpstudio"),
        ("win32", {"LOCALAPPDATA": "/local"}, "/local/bpstudio/Cache"),
        ("win32", {}, "/home/u/AppData/Local/bpstudio/Cache"),
        ("darwin", {"BPSTUDIO_CACHE_DIR": "/mine"}, "/mine"),
    ],
)
def test_platform_cache_dir(platform, environ, expected):
    assert platform_cache_dir(platform, environ, Path("/home/u")) == Path(expected)


def test_os_replace_is_used_for_the_final_name(fake, server, tmp_path, monkeypatch):
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(download.os, "replace", spy)
    fetch_mnist(tmp_path, base_urls=[server.base("fake")])
    assert [dst for _, dst in renames] == list(fake)
    assert all(src.startswith(".") and src.endswith(".part") for src, _ in renames)


def test_cli_fetch_downloads_and_reports(fake, server, tmp_path, monkeypatch, capsys):
    from bpstudio.cli import main

    monkeypatch.setenv("BPSTUDIO_MNIST_URL", server.base("fake"))
    assert main(["data", "fetch", "mnist", "--dest", str(tmp_path)]) == 0
    assert_holds_exactly(tmp_path, fake)
    assert "checksums verified" in capsys.readouterr().out


def test_cli_fetch_refuses_a_corrupted_file_in_one_line(
    fake, server, tmp_path, monkeypatch, capsys
):
    from bpstudio.cli import main

    monkeypatch.setenv("BPSTUDIO_MNIST_URL", server.base("corrupt"))
    assert main(["data", "fetch", "mnist", "--dest", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bpstudio: error: ") and "checksum" in err
    assert "Traceback" not in err
    assert listing(tmp_path) == set()


# --- servers that stall, and what killed fetches leave --------------------------------------


def test_a_server_that_trickles_its_data_is_given_up(fake, server, tmp_path):
    # One byte every 0.05 s never trips the 30 s read timeout; the progress rule catches it.
    with pytest.raises(DownloadError) as info:
        fetch_mnist(tmp_path, base_urls=[server.base("trickle")], stall_seconds=0.5)
    message = str(info.value)
    assert FIRST in message and "stalled: received" in message and "every 0.5 s" in message
    assert listing(tmp_path) == set()  # the partial file is gone


def test_a_server_that_trickles_its_headers_is_given_up(fake, server, tmp_path):
    with pytest.raises(DownloadError, match="stalled: .* while sending its headers"):
        fetch_mnist(tmp_path, base_urls=[server.base("tricklehead")], stall_seconds=0.5)
    assert listing(tmp_path) == set()


def test_a_slow_but_steady_server_is_not_stalled(fake, server, tmp_path):
    # 16 KiB every 0.05 s is 20 times the rule's minimum (16 KiB per second here).
    fetch_mnist(tmp_path, base_urls=[server.base("steady")], stall_seconds=1.0)
    assert_holds_exactly(tmp_path, fake)


def test_a_stalled_mirror_falls_back_to_the_next(fake, server, tmp_path):
    bases = [server.base("trickle"), server.base("fake")]
    fetch_mnist(tmp_path, base_urls=bases, stall_seconds=0.3)
    assert_holds_exactly(tmp_path, fake)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_pace_rule_on_a_fake_clock():
    clock = FakeClock()
    pace = Pace(read_timeout=10.0, window=5.0, min_bytes=100, clock=clock)
    assert pace.next_wait() == 5.0  # until the end of the first window
    clock.now = 1.0
    pace.received(150)
    clock.now = 4.0
    assert pace.next_wait() == 1.0
    clock.now = 5.0
    assert pace.next_wait() == 5.0  # 150 >= 100: a new window starts
    clock.now = 6.0
    pace.received(99)
    clock.now = 10.0
    with pytest.raises(Stalled, match="received 99 bytes in 5 s"):
        pace.next_wait()


def test_pace_read_timeout_on_a_fake_clock():
    clock = FakeClock()
    pace = Pace(read_timeout=2.0, window=5.0, min_bytes=1, clock=clock)
    assert pace.next_wait() == 2.0
    clock.now = 1.5
    pace.received(1)
    clock.now = 3.0
    assert pace.next_wait() == 0.5
    clock.now = 3.5
    with pytest.raises(TimeoutError, match="no data for 2 s") as info:
        pace.next_wait()
    assert not isinstance(info.value, Stalled)


def leftovers(folder: Path) -> list[Path]:
    """Temporary files as a fetch killed with SIGKILL leaves them, and two that are not ours."""
    paths = [folder / f".{FIRST}.k1ll3d.part", folder / ".t10k-labels-idx1-ubyte.gz.abc.part"]
    for path in paths:
        path.write_bytes(b"half a download")
    (folder / ".other.part").write_bytes(b"not ours")
    (folder / "notes.part").write_bytes(b"not ours")
    return paths


def test_the_next_fetch_removes_what_a_killed_fetch_left(fake, server, tmp_path):
    leftovers(tmp_path)
    fetch_mnist(tmp_path, base_urls=[server.base("fake")])
    assert listing(tmp_path) == set(fake) | {".other.part", "notes.part"}


def test_leftovers_are_removed_even_when_the_fetch_then_fails(fake, server, tmp_path):
    paths = leftovers(tmp_path)
    with pytest.raises(DownloadError):
        fetch_mnist(tmp_path, base_urls=[server.base("missing")])
    assert not any(path.exists() for path in paths)
    assert listing(tmp_path) == {".other.part", "notes.part"}


# --- the same over HTTPS --------------------------------------------------------------------


@pytest.fixture
def tls_server(fake_files, tmp_path_factory, monkeypatch):
    """An HTTPS server on 127.0.0.1 (``/fake/`` and ``/trickle/``) with a self-signed
    certificate that this test trusts through ``SSL_CERT_FILE``."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    routes = {}
    for name, body in fake_files.items():
        routes[f"/fake/{name}"] = Route(body, len(body))
        routes[f"/trickle/{name}"] = Route(body, len(body), piece=1, interval=0.05, limit=60)
    stop = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(routes, [], stop))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(f"https://127.0.0.1:{httpd.server_address[1]}", [])
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_https_fetch_and_stall(fake, tls_server, tmp_path):
    fetch_mnist(tmp_path / "ok", base_urls=[tls_server.base("fake")])
    assert_holds_exactly(tmp_path / "ok", fake)
    with pytest.raises(DownloadError, match="stalled: received"):
        fetch_mnist(tmp_path / "slow", base_urls=[tls_server.base("trickle")], stall_seconds=0.5)
    assert listing(tmp_path / "slow") == set()
