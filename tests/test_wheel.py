"""``pip install .`` from a clean clone installs the resources: build the wheel from a copy of
the project's files, look inside it, and find an icon from the unpacked copy."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a wheel build: about 15 s

ROOT = Path(__file__).resolve().parents[1]
#: pip's words when the isolated build cannot fetch setuptools (no network, no cache).
OFFLINE = (
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Network is unreachable",
)


def _project_files() -> list[str]:
    """What a clone would hold: files git tracks, plus new ones it does not ignore."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [p for p in listed.split("\0") if p and (ROOT / p).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("clone")
    for name in _project_files():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(out)],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        if any(word in result.stdout + result.stderr for word in OFFLINE):
            pytest.skip("pip cannot fetch the build backend (offline)")
        pytest.fail(f"pip wheel failed:\n{result.stdout}\n{result.stderr}")
    (built,) = out.glob("bpstudio-*.whl")
    return built


def test_the_icons_ship_in_the_wheel(wheel):
    icons = sorted((ROOT / "resources" / "icons").glob("*.svg"))
    assert len(icons) >= 10
    with zipfile.ZipFile(wheel) as archive:
        for svg in icons:
            shipped = archive.read(f"bpstudio/resources/icons/{svg.name}")
            assert shipped == svg.read_bytes(), svg.name


def test_every_module_ships_in_the_wheel(wheel):
    """pyproject.toml lists the packages; a new one left off the list fails here."""
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    sources = [p for p in _project_files() if p.startswith("bpstudio/") and p.endswith(".py")]
    missing = sorted(set(sources) - shipped)
    assert not missing, f"add their packages to [tool.setuptools] packages: {missing}"


def test_an_installed_copy_finds_its_icons(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site), QT_QPA_PLATFORM="offscreen")
    script = (
        "import bpstudio; from bpstudio.gui.window_parts import resource_path; "
        "print(bpstudio.__file__); print(resource_path('icons/play.svg'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    package, icon = (Path(line) for line in result.stdout.split())
    site = site.resolve()
    assert package.is_relative_to(site)  # the unpacked copy, not the checkout
    assert icon == site / "bpstudio" / "resources" / "icons" / "play.svg"
