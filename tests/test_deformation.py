"""Synthetic edits (models/deformation.py) and the geometry of an edit's area of influence (models/influence.py)."""
from __future__ import annotations

import numpy as np
import pytest

from models.deformation import EDIT_KINDS, identity_map, make_synthetic_edit, warp_mask
from models.influence import edit_reach, fade_weight, influence_box


def ellipse(height: int, width: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1


def jacobian_determinant(backward_map: np.ndarray) -> np.ndarray:
    d_dy_x, d_dx_x = np.gradient(backward_map[..., 0])
    d_dy_y, d_dx_y = np.gradient(backward_map[..., 1])
    return d_dx_x * d_dy_y - d_dy_x * d_dx_y


def test_reach_is_how_far_the_outline_moved() -> None:
    source = ellipse(200, 300, 100, 100, 40, 30)
    assert edit_reach(source, source) == 0.0
    assert edit_reach(source, np.roll(source, 35, axis=1)) == pytest.approx(35, abs=1)
    grown = ellipse(200, 300, 100, 100, 55, 30)
    assert edit_reach(source, grown) == pytest.approx(15, abs=1)


def test_reach_of_large_masks_is_measured_on_reduced_masks() -> None:
    source = ellipse(2400, 3000, 1000, 1200, 400, 300)
    assert edit_reach(source, np.roll(source, 350, axis=1)) == pytest.approx(350, rel=0.02)


@pytest.mark.parametrize("move", [10, 60, 140])
def test_the_fade_never_folds_the_surroundings(move: int) -> None:
    """A region moved by up to more than its own size: the faded backward map stays one-to-one."""
    source = ellipse(400, 500, 150, 200, 50, 40)
    target = np.roll(source, move, axis=1)
    grid = identity_map(400, 500)
    weight = fade_weight(source, target)[..., None]
    backward = grid + weight * np.array([-move, 0.0], np.float32)
    assert jacobian_determinant(backward).min() > 0.1
    assert weight[target].min() == 1.0 and weight[source].min() == 1.0


def test_a_small_edit_keeps_a_fade_proportional_to_the_region() -> None:
    source = ellipse(400, 400, 200, 200, 60, 60)
    target = np.roll(source, 2, axis=1)
    weight = fade_weight(source, target)
    row = weight[200, 262:]  # just right of the masks
    size = np.sqrt((source | target).sum())
    reach = np.flatnonzero(row > 0)[-1]
    assert 0.4 * size < reach < 0.6 * size  # FADE_INNER + FADE_OUTER of the region's size


@pytest.mark.parametrize("kind", EDIT_KINDS)
def test_synthetic_edits_move_the_region_and_stay_in_their_box(kind: str) -> None:
    source = ellipse(300, 360, 180, 150, 50, 35)
    for seed in range(4):
        edit = make_synthetic_edit(source, np.random.default_rng(seed), kind)
        np.testing.assert_array_equal(edit.target_mask, warp_mask(source, edit.backward_map))
        moved = np.abs(edit.backward_map - identity_map(300, 360)).max(axis=2) > 1e-3
        x0, y0, side = influence_box(edit.source_mask, edit.target_mask)
        ys, xs = np.nonzero(moved)
        assert xs.min() >= x0 and ys.min() >= y0 and xs.max() < x0 + side and ys.max() < y0 + side
