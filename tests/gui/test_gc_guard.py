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


def test_while_training_runs_older_objects_are_frozen_and_collected_after_pause(qapp, qtbot):
    # A full collection visits every object the window made and holds the interpreter lock,
    # stopping training, for tens of milliseconds; while training runs only newer objects are
    # visited. Garbage among the older ones is collected once training pauses.
    import weakref

    from bpstudio.gui import create_main_window

    collector = MainThreadCollector.install(qapp)
    win = create_main_window("digits", seed=0, epochs=1000)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.snapshot is not None, timeout=30_000)

    class Cycle:
        pass

    old = Cycle()
    old.me = old
    gone = weakref.ref(old)
    del old
    win.controls.speed.setValue(win.controls.speed.maximum())  # as fast as it goes
    win.actions["actionPlay"].trigger()
    qtbot.waitUntil(lambda: collector.holding, timeout=5000)
    assert gc.get_freeze_count() > 0
    for _ in range(3):
        collector.check()
        gc.collect()  # even a full collection does not visit the frozen objects
    assert gone() is not None
    qtbot.waitUntil(lambda: win.snapshot.batches_done > 50, timeout=10_000)
    win.actions["actionPause"].trigger()
    qtbot.waitUntil(lambda: not collector.holding, timeout=5000)
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None
    win.discard_and_close()


def test_a_holder_that_is_deleted_releases_the_collector(qapp):
    from PySide6.QtCore import QObject

    collector = MainThreadCollector.install(qapp)
    first, second = QObject(), QObject()
    collector.hold(first, True)
    collector.hold(second, True)
    collector.hold(second, True)  # holding twice is holding once
    assert collector.holding and gc.get_freeze_count() > 0
    collector.hold(first, False)
    assert collector.holding  # the other still runs
    del second
    gc.collect()
    assert not collector.holding and gc.get_freeze_count() == 0
