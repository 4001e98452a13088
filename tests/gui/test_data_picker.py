"""Tests of bpstudio.gui.data_picker: getting MNIST from the window, and remembered data specs.

Downloads go to a real HTTP server on 127.0.0.1 that serves four small valid gzip IDX files
(``/fast/``), the same files in 8 KiB pieces 0.05 s apart (``/slow/``, about 3 s per file, cut
short when the fixture ends), and 404 for anything else. ``MNIST_FILES`` is patched to their
checksums and the cache folder is a temporary one.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from bpstudio.core.data import DATASET_CHOICES, download, load_dataset
from bpstudio.core.data.mnist import mnist_files_present
from bpstudio.core.run import RunSpec
from bpstudio.gui import settings
from bpstudio.gui.controls import HyperparametersPanel
from bpstudio.gui.data_picker import (
    DATA_SPECS,
    MAX_DATA_SPECS,
    MnistDialog,
    fill_data_combo,
    needs_mnist_download,
    remember_data_spec,
    remembered_data_specs,
)
from tests.core.corpus import idx_images, idx_labels, write_idx_folder

PIECE = 8 << 10
INTERVAL = 0.05


def gz_idx_files() -> dict[str, bytes]:
    """The four files, named as MNIST's, holding small valid gzip IDX data (the first one
    large enough to take several pieces on the slow route)."""
    raw = (idx_images(400), idx_labels(400), idx_images(4, seed=1), idx_labels(4, seed=1))
    return {
        name: gzip.compress(data, compresslevel=0, mtime=0)
        for name, data in zip(download.MNIST_FILES, raw, strict=True)
    }


def make_handler(files: dict[str, bytes], stop: threading.Event) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            prefix, _, name = self.path.strip("/").partition("/")
            body = files.get(name)
            if body is None or prefix not in ("fast", "slow"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if prefix == "fast":
                    self.wfile.write(body)
                    return
                for start in range(0, len(body), PIECE):
                    if stop.wait(INTERVAL):
                        return
                    self.wfile.write(body[start : start + PIECE])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client cancelled and hung up

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture(scope="module")
def served() -> dict[str, bytes]:
    return gz_idx_files()


@pytest.fixture(scope="module")
def server(served):
    stop = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(served, stop))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="test-http-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def cache(monkeypatch, tmp_path, served) -> Path:
    """An empty cache folder, and the downloader expecting the served files' checksums."""
    sums = {
        name: (
            hashlib.md5(body, usedforsecurity=False).hexdigest(),
            hashlib.sha256(body).hexdigest(),
        )
        for name, body in served.items()
    }
    monkeypatch.setattr(download, "MNIST_FILES", sums)
    monkeypatch.setenv("BPSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mnist"


@pytest.fixture
def dialog(qtbot, cache):
    dlg = MnistDialog()
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg
    assert dlg.stop(timeout=10), "the download thread did not end"


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def status(dlg: MnistDialog) -> str:
    return dlg.findChild(QLabel, "mnistStatus").text()


# --- what it says ---------------------------------------------------------------------------


def test_the_dialog_says_where_it_looked(dialog, cache):
    intro = dialog.findChild(QLabel, "mnistIntro").text()
    assert str(cache) in intro
    assert "11 MB" in intro
    assert needs_mnist_download("mnist") and needs_mnist_download(" MNIST ")
    assert not needs_mnist_download("digits")
    assert not needs_mnist_download(f"mnist:{cache}")


def test_no_download_is_needed_once_the_cache_holds_the_files(cache):
    write_idx_folder(cache)
    assert not needs_mnist_download("mnist")


# --- choosing a folder ----------------------------------------------------------------------


def test_a_folder_with_the_four_files_gives_mnist_folder(qtbot, dialog, tmp_path):
    folder = write_idx_folder(tmp_path / "my mnist")
    dialog.ask_folder = lambda parent: str(folder)
    with qtbot.waitSignal(dialog.chosen, timeout=5000) as blocker:
        click(qtbot, dialog.folder_button)
    assert blocker.args == [f"mnist:{folder}"]
    assert dialog.result_spec == f"mnist:{folder}"
    assert dialog.result() == MnistDialog.DialogCode.Accepted and not dialog.isVisible()
    assert remembered_data_specs() == [f"mnist:{folder}"]
    assert len(load_dataset(blocker.args[0]).test) == 4  # the spec loads as it is


def test_a_folder_without_them_says_what_is_missing_and_chooses_nothing(qtbot, dialog, tmp_path):
    folder = write_idx_folder(tmp_path / "partial", train_labels_idx1_ubyte=None)
    dialog.ask_folder = lambda parent: str(folder)
    with qtbot.assertNotEmitted(dialog.chosen):
        click(qtbot, dialog.folder_button)
    assert "train-labels-idx1-ubyte" in status(dialog) and str(folder) in status(dialog)
    assert dialog.isVisible() and dialog.result_spec is None
    assert remembered_data_specs() == []


def test_cancelling_the_folder_question_changes_nothing(qtbot, dialog):
    dialog.ask_folder = lambda parent: None
    with qtbot.assertNotEmitted(dialog.chosen):
        click(qtbot, dialog.folder_button)
    assert dialog.isVisible() and status(dialog) == ""


# --- downloading ----------------------------------------------------------------------------


def test_download_shows_progress_and_gives_mnist(qtbot, dialog, server, served, cache, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_MNIST_URL", f"{server}/fast/")
    seen: list[tuple[str, int, int | None]] = []
    dialog.progressed.connect(lambda *args: seen.append(args))
    with qtbot.waitSignal(dialog.chosen, timeout=10000) as blocker:
        click(qtbot, dialog.download_button)
        assert dialog.is_downloading()
    assert blocker.args == ["mnist"] and dialog.result_spec == "mnist"
    assert not dialog.is_downloading() and not dialog.isVisible()
    # Every file reported up to its full size, in order; the bar shows the last one complete.
    finals = {name: (done, total) for name, done, total in seen}
    assert finals == {name: (len(body), len(body)) for name, body in served.items()}
    assert list(dict.fromkeys(name for name, *_ in seen)) == list(served)
    assert dialog.bar.value() == dialog.bar.maximum() > 0
    assert mnist_files_present(cache)
    assert {p.name for p in cache.iterdir()} == set(served)
    assert len(load_dataset("mnist").test) == 4


def test_cancel_stops_a_slow_download_and_keeps_the_dialog(
    qtbot, dialog, server, served, cache, monkeypatch
):
    monkeypatch.setenv("BPSTUDIO_MNIST_URL", f"{server}/slow/")
    first = list(download.MNIST_FILES)[0]
    seen: list[tuple] = []
    dialog.progressed.connect(lambda *args: seen.append(args))
    click(qtbot, dialog.download_button)
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=5000)
    assert first in status(dialog) and "file 1 of 4" in status(dialog)
    assert dialog.bar.isVisible() and dialog.bar.maximum() == len(served[first])
    assert not dialog.download_button.isEnabled() and not dialog.folder_button.isEnabled()
    with (
        qtbot.assertNotEmitted(dialog.chosen),
        qtbot.waitSignal(dialog.download_ended, timeout=5000) as ended,
    ):
        click(qtbot, dialog.cancel_button)
    assert ended.args == ["cancelled"]
    assert not dialog.is_downloading()
    assert not any(t.name == "mnist-download" for t in threading.enumerate())
    assert seen[-1][1] < seen[-1][2]  # it stopped part-way through the first file
    assert list(cache.iterdir()) == []  # the partial file was discarded
    assert dialog.isVisible() and dialog.result_spec is None
    assert "cancelled" in status(dialog)
    assert dialog.download_button.isEnabled() and dialog.folder_button.isEnabled()


def test_close_during_a_download_cancels_it_then_closes(qtbot, dialog, server, monkeypatch):
    monkeypatch.setenv("BPSTUDIO_MNIST_URL", f"{server}/slow/")
    seen: list[tuple] = []
    dialog.progressed.connect(lambda *args: seen.append(args))
    click(qtbot, dialog.download_button)
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=5000)
    with qtbot.assertNotEmitted(dialog.chosen):
        click(qtbot, dialog.close_button)
        assert dialog.isVisible()  # not before its thread has ended
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert not dialog.is_downloading()
    assert dialog.result() == MnistDialog.DialogCode.Rejected


def test_offline_the_download_fails_in_one_message_and_the_folder_stays(
    qtbot, dialog, monkeypatch, tmp_path
):
    with socket.socket() as sock:  # a port where nothing listens: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("BPSTUDIO_MNIST_URL", f"http://127.0.0.1:{port}/")
    with qtbot.waitSignal(dialog.download_ended, timeout=10000) as ended:
        click(qtbot, dialog.download_button)
    assert ended.args == ["failed"]
    assert "Download failed: could not download" in status(dialog)
    assert "unreachable" in status(dialog)
    assert not dialog.bar.isVisible()  # no progress to show
    assert dialog.isVisible() and dialog.folder_button.isEnabled()
    folder = write_idx_folder(tmp_path / "offline copy")
    dialog.ask_folder = lambda parent: str(folder)
    with qtbot.waitSignal(dialog.chosen, timeout=5000) as blocker:
        click(qtbot, dialog.folder_button)
    assert blocker.args == [f"mnist:{folder}"]


# --- remembered data specs ------------------------------------------------------------------


def test_specs_are_remembered_most_recent_first_at_most_ten(tmp_path):
    for i in range(MAX_DATA_SPECS + 3):
        remember_data_spec(f"mnist:/data/{i}")
    remember_data_spec("mnist:/data/5")  # again: moves to the front, not twice
    expected = ["mnist:/data/5", *(f"mnist:/data/{i}" for i in range(12, 2, -1) if i != 5)]
    assert remembered_data_specs() == expected[:MAX_DATA_SPECS]
    # Built-in names and blanks are not stored: the list always offers those.
    for spec in ("digits", " MNIST ", "xor", "   "):
        remember_data_spec(spec)
    assert remembered_data_specs() == expected[:MAX_DATA_SPECS]
    # They persist in the settings file itself.
    assert settings.get_value(DATA_SPECS, kind=list) == expected[:MAX_DATA_SPECS]


def test_a_bad_stored_value_is_ignored():
    settings.set_value(DATA_SPECS, "not a list")
    assert remembered_data_specs() == []
    settings.set_value(DATA_SPECS, [3, None, "", "book.pkl.gz", "digits", "book.pkl.gz"])
    assert remembered_data_specs() == ["book.pkl.gz"]


def test_the_data_combo_lists_the_choices_then_the_remembered_specs(qtbot, tmp_path):
    panel = HyperparametersPanel(RunSpec())
    qtbot.addWidget(panel)
    combo = panel.fields["data"]
    assert combo.objectName() == "dataCombo"
    remember_data_spec("~/book/mnist.pkl.gz")
    remember_data_spec("mnist:/data/mnist")
    changes: list[str] = []
    combo.currentTextChanged.connect(changes.append)
    fill_data_combo(combo, "/typed/not/yet/remembered.pkl")
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == [*DATASET_CHOICES, "", "mnist:/data/mnist", "~/book/mnist.pkl.gz"]
    assert combo.currentText() == "/typed/not/yet/remembered.pkl" and combo.currentIndex() == -1
    assert changes == []  # shown silently, as set_spec does
    fill_data_combo(combo)  # None keeps what the box shows
    assert combo.currentText() == "/typed/not/yet/remembered.pkl"
    fill_data_combo(combo, "mnist:/data/mnist")
    assert combo.currentIndex() == len(DATASET_CHOICES) + 1
    assert panel.spec().data == "mnist:/data/mnist"
