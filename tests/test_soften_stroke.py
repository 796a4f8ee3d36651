"""The soft brush (engine.masks.soften_stroke): it rounds the stroke's outline and leaves the rest."""
import numpy as np

from engine.masks import soften_stroke


def test_soft_stroke_rounds_its_corners_and_keeps_the_rest():
    before = np.zeros((80, 120), bool)
    before[10:30, 80:110] = True  # a region the stroke does not touch
    after = before.copy()
    after[30:60, 10:50] = True  # the stroke: a square with sharp corners
    soft = soften_stroke(before, after, radius=4.0)
    assert np.array_equal(soft[:, 70:], after[:, 70:])
    assert not soft[30, 10] and not soft[59, 49]  # corners rounded off
    assert soft[45, 30]  # the middle stays
    assert abs(int(soft.sum()) - int(after.sum())) < 0.1 * after.sum()


def test_hard_stroke_is_kept_as_painted():
    before = np.zeros((20, 20), bool)
    after = before.copy()
    after[5:10, 5:10] = True
    assert np.array_equal(soften_stroke(before, after, radius=0.0), after)
