"""Frames at "as fast as it goes" are paced by what they cost (issue 11, live training speed)."""

import pytest

from bpstudio.core.runner import DRAW_SHARE, FRAME_SECONDS, MIN_FPS, Runner


def paced(cost: float) -> float:
    runner = Runner()
    for _ in range(200):  # the smoothed cost settles on a steady one
        runner.report_frame_cost(cost)
    return runner.frame_interval()


@pytest.mark.parametrize("cost", [0.003, 0.0035, 0.004])
def test_frames_take_their_share_of_the_time_between_two_snapshots(cost):
    # The interval runs from one snapshot to the next and holds the frame itself: a frame
    # costing c comes every c / DRAW_SHARE seconds, so frames take DRAW_SHARE of training's
    # time, and never more than the tenth the design allows.
    interval = paced(cost)
    assert interval == pytest.approx(cost / DRAW_SHARE)
    assert cost / interval <= 0.1


def test_cheap_frames_come_30_a_second_and_dear_ones_never_fewer_than_15():
    assert paced(0.0) == pytest.approx(FRAME_SECONDS)
    assert paced(0.0001) == pytest.approx(FRAME_SECONDS)
    slow = paced(0.05)  # a frame of 50 ms would want a second between frames
    assert 1 / slow > MIN_FPS  # early enough that frames, arriving a little late, keep 15 a second
    assert 1 / slow < 1.1 * MIN_FPS
