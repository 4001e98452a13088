"""The core is NumPy only: importing every module of it loads no Qt (the import-linter contract
in pyproject.toml says the same; this test needs no extra tool)."""

import pkgutil
import subprocess
import sys

import bpstudio.core


def test_the_core_never_imports_qt():
    modules = [m.name for m in pkgutil.walk_packages(bpstudio.core.__path__, "bpstudio.core.")]
    assert "bpstudio.core.session" in modules and "bpstudio.core.data.download" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'shiboken6', 'bpstudio.gui')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
