"""PySide6-Essentials 6.12.0 on CPython 3.11 leaks a reference to True on every Python-side
Signal.emit() and aborts the interpreter ("Fatal Python error: bool_dealloc") after about a
thousand emits. pyproject.toml excludes it; this test would crash the run if such a build were
installed, and checks the reference count of True directly.
"""

import sys

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    value = Signal(int)


def test_a_hundred_thousand_emits_keep_reference_counts_sane(qapp):
    emitter = Emitter()
    received = []
    emitter.value.connect(received.append)
    true_refs = sys.getrefcount(True)
    for i in range(100_000):
        emitter.value.emit(i)
    assert len(received) == 100_000 and received[-1] == 99_999
    # True is immortal on 3.12+, where getrefcount reports a constant; on 3.11 a leak of one
    # reference per emit would add 100,000 here.
    assert abs(sys.getrefcount(True) - true_refs) < 1000


def test_the_installed_pyside_is_not_the_broken_combination():
    import PySide6

    version = tuple(int(p) for p in PySide6.__version__.split(".")[:3])
    assert not (version == (6, 12, 0) and sys.version_info[:2] == (3, 11))
