"""The bad-input corpus (tests/core/corpus.py), loaded through ``load_dataset``.

Every case must end in a one-line DataError with the right words, without hanging on a FIFO
and without allocating more than the file holds (tracemalloc's peak, which NumPy's buffers are
counted in, stays far below what the forged headers and shapes claim).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from bpstudio.core.data import load_dataset
from bpstudio.core.errors import DataError
from tests.core.corpus import CASES, TRAIN_IMAGES, BadInput, write_idx_folder

PEAK_LIMIT = 16 << 20
"""Most bytes a refused load may allocate: the largest case holds 64 MiB of zeros and claims GB."""
FIFO_PATIENCE = 5.0
"""Seconds the FIFO guard waits before it unblocks a load stuck in open() (a failed test)."""


@contextlib.contextmanager
def fifo_guard(folder: Path):
    """Unblock, after a while, a load that opened a FIFO under ``folder``; yield what it did.

    Opening a FIFO for reading blocks until a writer opens it. If a load regresses into opening
    one, this thread opens every FIFO for writing after :data:`FIFO_PATIENCE` seconds and
    closes it again, so the load sees an empty file and the test fails instead of hanging.
    """
    done, fired = threading.Event(), []

    def unblock() -> None:
        if done.wait(FIFO_PATIENCE):
            return
        for path in folder.rglob("*"):
            with contextlib.suppress(OSError):  # ENXIO: nobody is reading this one
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                fired.append(path)

    thread = threading.Thread(target=unblock, name="fifo-guard")
    thread.start()
    try:
        yield fired
    finally:
        done.set()
        thread.join()


def load_refused(spec: str) -> tuple[str, int]:
    """Load ``spec``, which must raise DataError; return its message and the peak allocation."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            load_dataset(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(info.value), peak


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_is_refused_in_one_line_with_the_right_words(case: BadInput, tmp_path):
    if case.posix and not (hasattr(os, "mkfifo") and Path("/dev/zero").exists()):
        pytest.skip("needs named pipes and /dev/zero (POSIX)")
    spec = case.make(tmp_path)
    with fifo_guard(tmp_path) as fired:
        message, peak = load_refused(spec)
    words_only = message.replace(str(tmp_path), "<tmp>")
    assert not fired, f"the load blocked opening a FIFO: {fired}"
    assert "\n" not in message
    for words in case.words:
        assert words in message, message
    for words in case.absent:
        assert words not in words_only, message
    assert peak < PEAK_LIMIT, f"{peak:,} bytes allocated"
    assert not (tmp_path / "pwned").exists()  # the forbidden global was never called


def test_the_corpus_holds_what_the_issue_lists():
    names = {case.name for case in CASES}
    for needed in ("fifo", "folder in place", "gzip bomb", "truncated IDX", "wrong magic"):
        assert any(needed in name for name in names), needed
    for needed in ("huge claimed shape", "empty pickled array", "forbidden global"):
        assert any(needed in name for name in names), needed


# --- a file that cannot be read ---------------------------------------------------------------


def test_unreadable_gzip_says_permission_denied(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("runs as root, whom chmod 000 does not stop (the simulated case covers it)")
    folder = write_idx_folder(tmp_path)
    (folder / f"{TRAIN_IMAGES}.gz").chmod(0)
    message, _ = load_refused(f"mnist:{folder}")
    assert "permission denied" in message and "not a valid gzip file" not in message


def test_unreadable_gzip_says_permission_denied_simulated(tmp_path, monkeypatch):
    """The kernel's answer to a user without read permission, given to every way of opening."""
    folder = write_idx_folder(tmp_path)
    locked = str(folder / f"{TRAIN_IMAGES}.gz")

    def refuse(real):
        def opener(file, *args, **kwargs):
            if os.fspath(file) == locked if isinstance(file, str | os.PathLike) else False:
                raise PermissionError(errno.EACCES, "Permission denied", locked)
            return real(file, *args, **kwargs)

        return opener

    monkeypatch.setattr(os, "open", refuse(os.open))
    monkeypatch.setattr(builtins, "open", refuse(builtins.open))
    message, _ = load_refused(f"mnist:{folder}")
    assert f"{TRAIN_IMAGES}.gz cannot be opened: permission denied" in message, message
    assert "not a valid gzip file" not in message


def test_a_folder_in_the_download_cache_is_not_reported_as_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(tmp_path))
    write_idx_folder(tmp_path / "mnist", train_images_idx3_ubyte=None)
    (tmp_path / "mnist" / f"{TRAIN_IMAGES}.gz").mkdir()
    message, _ = load_refused("mnist")
    assert f"{TRAIN_IMAGES}.gz is a folder, not a regular file" in message
    assert "not downloaded" not in message
    (tmp_path / "mnist" / f"{TRAIN_IMAGES}.gz").rmdir()
    message, _ = load_refused("mnist")
    assert "not downloaded yet" in message
