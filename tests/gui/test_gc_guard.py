"""Cyclic garbage is collected in the GUI thread only, never in a worker thread."""

import gc
import threading

from bpstudio.gui.gc_guard import MainThreadCollector


def test_threads_started_by_the_gui_never_collect(qapp, qtbot):
    collector = MainThreadCollector.install(qapp)
    assert MainThreadCollector.install(qapp) is collector  # one per application
    assert not gc.isenabled()
    collected_in = []

    def note(phase, info):
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        worker = threading.Thread(target=lambda: [[object()] for _ in range(200_000)], name="w")
        worker.start()
        worker.join()
        assert "w" not in collected_in  # 200,000 allocations, no collection in that thread

        class Cycle:
            pass

        for _ in range(5000):  # garbage in cycles, freed only by the collector
            c = Cycle()
            c.me = c
        qtbot.waitUntil(lambda: "MainThread" in collected_in, timeout=5000)
    finally:
        gc.callbacks.remove(note)
