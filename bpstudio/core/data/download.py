"""The cache folder, and downloading MNIST into it with checksums and atomic renames.

A file appears under its final name only once it is complete and matches both its published
MD5 and SHA-256: it is streamed into a temporary file in the same folder, checked, and then
renamed with :func:`os.replace`, which is atomic. An interrupted, corrupted, truncated,
stalled or cancelled download therefore leaves nothing behind but the files already verified,
and the temporary files a killed fetch could not remove are removed by the next one.

A mirror that stalls is given up, however slowly it trickles: besides the timeout of each read,
every :data:`STALL_SECONDS` must bring at least :data:`MIN_PROGRESS_BYTES` (see ``pacing``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from bpstudio.core.data.pacing import Pace, Stalled, open_paced
from bpstudio.core.errors import Cancelled, DownloadError

CACHE_ENV = "BPSTUDIO_CACHE_DIR"
"""Environment variable naming the cache folder, overriding the platform's convention."""
MNIST_URL_ENV = "BPSTUDIO_MNIST_URL"
"""Environment variable naming one base URL that replaces :data:`MNIST_MIRRORS`."""

MNIST_FILES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "train-images-idx3-ubyte.gz": (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        "train-labels-idx1-ubyte.gz": (
            "d53e105ee54ea40749a09fcbcd1e9432",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "9fb629c4189551a2d022fa330f9573f3",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "ec29112dd5afa0611ce80d1b7f02629c",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    }
)
"""The four files of the original MNIST distribution: name -> (MD5, SHA-256), lowercase hex.

Read-only (a :class:`types.MappingProxyType`): bpstudio keeps no mutable module-level state.
"""

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Base URLs tried in order. Plain HTTP is safe here because every file's checksums are known."""

MAX_DOWNLOAD_BYTES = 64 << 20
"""Largest file accepted from a mirror (the largest MNIST file is 9.9 MB)."""

STALL_SECONDS = 30.0
"""Default length of the windows of the minimum-progress rule, in seconds."""
MIN_PROGRESS_BYTES = 16 << 10
"""Least bytes a mirror must send in every window (16 KiB per 30 s is about 0.5 kB/s)."""

_CHUNK = 1 << 16
_USER_AGENT = "bpstudio (MNIST downloader)"

ProgressCallback = Callable[[str, int, int | None], object]


def cache_dir() -> Path:
    """Return the folder where bpstudio keeps downloaded data (it is not created here).

    Returns
    -------
    pathlib.Path
        ``$BPSTUDIO_CACHE_DIR`` when set; otherwise ``$XDG_CACHE_HOME/bpstudio`` or
        ``~/.cache/bpstudio`` on Linux, ``~/Library/Caches/bpstudio`` on macOS, and
        ``%LOCALAPPDATA%\\bpstudio\\Cache`` on Windows.
    """
    return platform_cache_dir(sys.platform, os.environ, Path.home())


def platform_cache_dir(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """Return :func:`cache_dir` for a given platform, environment and home folder.

    Parameters
    ----------
    platform : str
        A value of :data:`sys.platform` (``"linux"``, ``"darwin"``, ``"win32"``, ...).
    environ : mapping
        The environment variables.
    home : pathlib.Path
        The user's home folder.
    """
    override = environ.get(CACHE_ENV, "")
    if override:
        return Path(override).expanduser()
    if platform == "win32":
        local = environ.get("LOCALAPPDATA", "") or str(home / "AppData" / "Local")
        return Path(local) / "bpstudio" / "Cache"
    if platform == "darwin":
        return home / "Library" / "Caches" / "bpstudio"
    xdg = environ.get("XDG_CACHE_HOME", "")
    # The XDG specification says to ignore a relative path.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache"
    return base / "bpstudio"


def mnist_cache_dir() -> Path:
    """Return the folder :func:`fetch_mnist` fills by default: ``cache_dir() / "mnist"``."""
    return cache_dir() / "mnist"


def mnist_mirrors() -> tuple[str, ...]:
    """Return the base URLs to try: ``$BPSTUDIO_MNIST_URL`` alone when set, else the mirrors."""
    override = os.environ.get(MNIST_URL_ENV, "").strip()
    return (override,) if override else MNIST_MIRRORS


def file_checksums(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Return the MD5 and SHA-256 of a file, as lowercase hex strings."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def fetch_mnist(
    dest: str | os.PathLike[str] | None = None,
    *,
    base_urls: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timeout: float = 30.0,
    stall_seconds: float = STALL_SECONDS,
) -> Path:
    """Download the four MNIST files into ``dest``, skipping those already there and intact.

    Parameters
    ----------
    dest : path-like, optional
        Target folder, created with its parents if needed; default :func:`mnist_cache_dir`.
    base_urls : iterable of str, optional
        Base URLs tried in order for each file; default :func:`mnist_mirrors`.
    progress : callable, optional
        ``progress(filename, done_bytes, total_bytes)`` after each chunk received;
        ``total_bytes`` is ``None`` when the server does not say.
    should_cancel : callable, optional
        Polled before each chunk; when it returns True the download stops.
    timeout : float, default 30.0
        Seconds to wait for a connection, or for the next byte.
    stall_seconds : float, default :data:`STALL_SECONDS`
        A mirror that sends less than :data:`MIN_PROGRESS_BYTES` in this many seconds (at any
        point: while the headers or the data arrive) has stalled, and the next one is tried.

    Returns
    -------
    pathlib.Path
        ``dest``, which then holds the four verified ``.gz`` files named in :data:`MNIST_FILES`.

    Raises
    ------
    DownloadError
        If a file could not be downloaded intact from any mirror (the message names the file
        and each mirror's problem: HTTP error, unreachable, stalled, truncated, corrupted), or
        ``dest`` cannot be written.
    Cancelled
        If ``should_cancel`` returned True; the file being downloaded is discarded.
    """
    folder = Path(dest).expanduser() if dest is not None else mnist_cache_dir()
    urls = tuple(base_urls) if base_urls is not None else mnist_mirrors()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the folder {folder}: {exc}") from exc
    remove_leftovers(folder)
    for name, expected in MNIST_FILES.items():
        target = folder / name
        if target.is_file() and file_checksums(target) == expected:
            continue
        pace = (timeout, stall_seconds)
        _fetch_file(name, expected, target, urls, progress, should_cancel, pace)
    return folder


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary ``.NAME.*.part`` files a killed fetch left in ``folder``.

    Only the names this module gives its temporary files are touched (a fetch that is still
    running elsewhere into the same folder would lose its file and report a write error).

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed = []
    for name in MNIST_FILES:
        for path in folder.glob(f".{name}.*.part"):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _fetch_file(
    name: str,
    expected: tuple[str, str],
    target: Path,
    urls: tuple[str, ...],
    progress: ProgressCallback | None,
    should_cancel: Callable[[], bool] | None,
    pace: tuple[float, float],
) -> None:
    """Download ``name`` from the first mirror that delivers it intact, into ``target``.

    ``pace`` is ``(timeout, stall_seconds)``: each mirror gets a fresh :class:`Pace`.
    """
    timeout, stall_seconds = pace
    failures = []
    for base in urls:
        if should_cancel is not None and should_cancel():
            raise Cancelled(f"download of {name} cancelled")
        url = base if base.endswith("/") else f"{base}/"
        url += name
        try:
            rule = Pace(timeout, stall_seconds, MIN_PROGRESS_BYTES)
            _download(url, target, expected, progress, should_cancel, rule)
            return
        except _MirrorFailed as exc:
            failures.append(f"  {url}: {exc}")
    tried = "\n".join(failures) if failures else "  (no mirror to try)"
    raise DownloadError(f"could not download {name} from any mirror:\n{tried}")


class _MirrorFailed(Exception):
    """One mirror did not deliver one file intact; the next mirror may."""


def _download(
    url: str,
    target: Path,
    expected: tuple[str, str],
    progress: ProgressCallback | None,
    should_cancel: Callable[[], bool] | None,
    pace: Pace,
) -> None:
    """Stream ``url`` into a temporary file beside ``target``, verify it, then rename it."""
    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise DownloadError(f"cannot write into {target.parent}: {exc}") from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out, _open_url(url, pace) as response:
            actual = _copy(response, out, target.name, progress, should_cancel)
        if actual != expected:
            raise _MirrorFailed(
                f"corrupted download: checksum mismatch for {target.name}: expected MD5 "
                f"{expected[0]} and SHA-256 {expected[1]}, got MD5 {actual[0]} and "
                f"SHA-256 {actual[1]}"
            )
        os.replace(temp, target)
    except OSError as exc:
        # Network errors were turned into _MirrorFailed already: this is the local disk.
        raise DownloadError(f"cannot write {target}: {exc}") from exc
    finally:
        # After a successful os.replace the temporary name no longer exists.
        temp.unlink(missing_ok=True)


def _open_url(url: str, pace: Pace) -> http.client.HTTPResponse:
    """Open ``url``; any failure becomes :class:`_MirrorFailed` (an HTTP error is closed)."""
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        return open_paced(request, pace)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response open; closing it avoids a ResourceWarning
        raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, Stalled):
            raise _MirrorFailed(f"{exc.reason} while sending its headers") from exc
        raise _MirrorFailed(f"unreachable ({exc.reason})") from exc
    except Stalled as exc:
        raise _MirrorFailed(f"{exc} while sending its headers") from exc
    except ValueError as exc:  # a malformed URL, e.g. a typo in $BPSTUDIO_MNIST_URL
        raise _MirrorFailed(f"not a usable URL ({exc})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorFailed(f"cannot connect ({type(exc).__name__}: {exc})") from exc


def _copy(
    response: http.client.HTTPResponse,
    out: BinaryIO,
    name: str,
    progress: ProgressCallback | None,
    should_cancel: Callable[[], bool] | None,
) -> tuple[str, str]:
    """Copy ``response`` into ``out`` chunk by chunk; return the data's MD5 and SHA-256."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    total = _content_length(response)
    if total is not None and total > MAX_DOWNLOAD_BYTES:
        raise _MirrorFailed(f"announces {total:,} bytes, too large for an MNIST file")
    done = 0
    while True:
        if should_cancel is not None and should_cancel():
            raise Cancelled(f"download of {name} cancelled")
        chunk = _read_chunk(response)
        if not chunk:
            break
        done += len(chunk)
        if done > MAX_DOWNLOAD_BYTES:
            raise _MirrorFailed(f"sent more than {MAX_DOWNLOAD_BYTES:,} bytes: not an MNIST file")
        out.write(chunk)
        md5.update(chunk)
        sha256.update(chunk)
        if progress is not None:
            progress(name, done, total)
    if total is not None and done < total:
        raise _MirrorFailed(f"truncated download: received {done:,} of {total:,} bytes")
    return md5.hexdigest(), sha256.hexdigest()


def _read_chunk(response: http.client.HTTPResponse) -> bytes:
    """Read the next chunk of ``response``; a network failure becomes :class:`_MirrorFailed`.

    ``read1`` returns what one read of the socket brings, so that the pace and the cancel
    check are looked at between reads, not only after a whole chunk trickled in.
    """
    try:
        return response.read1(_CHUNK)
    except Stalled as exc:
        raise _MirrorFailed(str(exc)) from exc
    except http.client.IncompleteRead as exc:
        raise _MirrorFailed(f"truncated download: the connection closed early ({exc!r})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorFailed(f"connection failed ({type(exc).__name__}: {exc})") from exc


def _content_length(response: http.client.HTTPResponse) -> int | None:
    """Return the response's Content-Length, or ``None`` when it is absent or not a number."""
    try:
        length = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None
