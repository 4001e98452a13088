"""Atomic writes: a failure at any point leaves the old file byte for byte, and no litter."""

import errno
import os
import stat

import pytest

from bpstudio.core.atomic import FileError, atomic_open, atomic_write, atomic_write_bytes
from bpstudio.core.errors import BpstudioError

OLD = b"the old content\n" * 1000


@pytest.fixture
def old_file(tmp_path):
    path = tmp_path / "run.bpsession"
    path.write_bytes(OLD)
    return path


def test_writes_the_new_content_and_leaves_no_temporary_file(old_file):
    atomic_write(old_file, lambda f: f.write(b"new"))
    assert old_file.read_bytes() == b"new"
    assert os.listdir(old_file.parent) == [old_file.name]


def test_a_failure_halfway_through_leaves_the_old_file_whole(old_file):
    new = bytes(range(256)) * 400

    def write_half_then_fail(f):
        f.write(new[: len(new) // 2])
        f.flush()
        raise RuntimeError("the writer broke")

    with pytest.raises(RuntimeError, match="the writer broke"):
        atomic_write(old_file, write_half_then_fail)
    assert old_file.read_bytes() == OLD
    assert os.listdir(old_file.parent) == [old_file.name]


def test_a_full_disk_is_a_one_line_file_error_and_the_old_file_stays(old_file):
    def disk_fills_up(f):
        f.write(b"x" * 100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(FileError) as info:
        atomic_write(old_file, disk_fills_up)
    message = str(info.value)
    assert message == f"cannot write {old_file}: the disk is full"
    assert isinstance(info.value, BpstudioError)
    assert old_file.read_bytes() == OLD
    assert os.listdir(old_file.parent) == [old_file.name]


def test_the_context_manager_form_commits_only_on_success(old_file):
    with pytest.raises(KeyError):
        with atomic_open(old_file) as f:
            f.write(b"partial")
            raise KeyError("stop")
    assert old_file.read_bytes() == OLD
    with atomic_open(old_file) as f:
        f.write(b"complete")
    assert old_file.read_bytes() == b"complete"
    assert os.listdir(old_file.parent) == [old_file.name]


def test_a_missing_folder_names_the_folder(tmp_path):
    target = tmp_path / "no-such-folder" / "x.csv"
    with pytest.raises(FileError, match="the folder .*no-such-folder does not exist"):
        atomic_write_bytes(target, b"data")
    assert not (tmp_path / "no-such-folder").exists()


def test_a_folder_as_target_is_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(FileError, match="it is a folder"):
        atomic_write_bytes(tmp_path / "sub", b"data")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write in any folder")
def test_no_permission_is_a_file_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(FileError, match="permission denied"):
            atomic_write_bytes(folder / "x.npz", b"data")
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permissions_like_a_plain_open_and_kept_on_replace(tmp_path):
    fresh = tmp_path / "fresh.csv"
    atomic_write_bytes(fresh, b"a")
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"a")
    assert stat.S_IMODE(fresh.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    plain.chmod(0o640)
    atomic_write_bytes(plain, b"b")
    assert stat.S_IMODE(plain.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_symbolic_link_is_followed_and_kept(old_file):
    link = old_file.parent / "link.bpsession"
    link.symlink_to(old_file.name)
    atomic_write_bytes(link, b"through the link")
    assert link.is_symlink()
    assert old_file.read_bytes() == b"through the link"


def test_no_permission_for_the_temporary_file_is_a_file_error(tmp_path, monkeypatch):
    # As root the folder test above cannot run; refusing the temporary file checks the message.
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "x.npz"
    with pytest.raises(FileError) as info:
        atomic_write_bytes(target, b"data")
    assert str(info.value) == f"cannot write {target}: permission denied"
