"""The Warp tool's bend of a mask by pins (engine/mask_warp.py)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.mask_warp import pin_warp, rigid_mls


def bar() -> np.ndarray:
    mask = np.zeros((300, 500), bool)
    mask[120:180, 60:440] = True
    return mask


def test_pins_go_exactly_where_they_are_dragged() -> None:
    before = np.array([[70.0, 150.0], [250.0, 150.0], [430.0, 150.0]])
    after = np.array([[70.0, 150.0], [250.0, 150.0], [420.0, 80.0]])
    np.testing.assert_allclose(rigid_mls(before, before, after), after, atol=1e-6)


def test_one_pin_moves_the_shape_without_turning_it() -> None:
    moved = pin_warp(bar(), [(250, 150)], [(270, 180)])
    np.testing.assert_array_equal(moved, np.roll(np.roll(bar(), 30, axis=0), 20, axis=1))


def test_unmoved_pins_change_nothing() -> None:
    pins = [(70, 150), (430, 150)]
    np.testing.assert_array_equal(pin_warp(bar(), pins, pins), bar())
    np.testing.assert_array_equal(pin_warp(bar(), [], []), bar())


def test_a_dragged_end_bends_the_shape_around_the_held_pins() -> None:
    mask = bar()
    bent = pin_warp(mask, [(70, 150), (250, 150), (430, 150)], [(70, 150), (250, 150), (420, 80)])
    # The held end stays where it was, the dragged end rises by about the drag, nothing shears apart.
    assert (bent[:, 60:120] == mask[:, 60:120]).mean() > 0.98
    rows = np.nonzero(bent[:, 400:420].any(axis=1))[0]
    assert abs((rows.min() + rows.max()) / 2 - 80) < 10
    assert abs(int(bent.sum()) - int(mask.sum())) < 0.05 * mask.sum()
    import cv2
    assert cv2.connectedComponents(bent.astype(np.uint8))[0] == 2  # one piece


def test_a_bend_off_the_picture_is_cut_and_every_pin_needs_a_place() -> None:
    gone = pin_warp(bar(), [(250, 150)], [(250, 2000)])
    assert not gone.any()
    with pytest.raises(ValueError, match="new place"):
        pin_warp(bar(), [(250, 150)], [])


@pytest.mark.parametrize("pins_to", [
    ((90.0, 150.0), (200.0, 150.0), (60.0, 160.0)),  # the right end dragged past the others
    ((90.0, 150.0), (200.0, 150.0), (330.0, 40.0)),  # a large bend
])
def test_a_folding_drag_lands_the_whole_shape_without_straight_cuts(pins_to) -> None:
    """The bent shape is the backward map read at every pixel: where that map sends the shape, not only where its
    outline carried forwards goes (the two differ once a drag folds the shape; the result was cut straight)."""
    height, width = 300, 400
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (200, 150), (120, 30), 0, 0, 360, 1, -1)
    mask = mask > 0
    pins_from = ((90.0, 150.0), (200.0, 150.0), (310.0, 150.0))
    bent = pin_warp(mask, pins_from, pins_to)
    ys, xs = np.mgrid[0:height, 0:width]
    reads = rigid_mls(np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64), np.asarray(pins_to),
                      np.asarray(pins_from))
    exact = cv2.remap(mask.view(np.uint8) * np.uint8(255), reads[:, 0].reshape(height, width).astype(np.float32),
                      reads[:, 1].reshape(height, width).astype(np.float32), cv2.INTER_LINEAR) >= 128
    assert (bent & exact).sum() / (bent | exact).sum() > 0.99
