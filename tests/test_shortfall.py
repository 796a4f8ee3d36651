"""A selection brushed a few pixels short of its object's painted outline still takes the outline along
(engine.shortfall: the matte's band and the default reach grow by how far short it stops)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.edit_band import edit_band
from engine.locality import default_reach, edit_area
from engine.manipulator import Manipulator
from engine.matte import rim_shortfall, rim_width
from engine.removal import remove_region
from engine.shortfall import selection_shortfall
from tests.test_matte import grainy_canvas, outline_left_and_carried, outlined_object


def disc(shape: tuple[int, int], cx: int, cy: int, radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= radius ** 2


@pytest.fixture(scope="module")
def manipulator() -> Manipulator:
    return Manipulator(device="cpu")


@pytest.mark.parametrize("short,low,high", [(0, 0.0, 1.0), (2, 0.0, 2.0), (6, 3.0, 8.0)])
def test_the_shortfall_is_how_far_inside_its_outline_a_selection_stops(short: int, low: float, high: float) -> None:
    height, width = 240, 320
    image, body, _ = outlined_object(grainy_canvas(height, width, seed=4), 160, 120, 60, 4)
    selection = disc((height, width), 160, 120, 60 - short)
    band = rim_width(selection, image.shape)
    found = selection_shortfall(image, selection, (0, 0, width, height), band)
    assert low <= found <= high, f"{short} px short: shortfall {found:.1f} px"
    assert found <= band


def test_a_selection_on_a_flat_ground_has_no_shortfall_beyond_the_band() -> None:
    image = np.full((200, 200, 3), 128, np.uint8)
    selection = disc((200, 200), 100, 100, 40)
    band = rim_width(selection, image.shape)
    assert 0.0 <= selection_shortfall(image, selection, (0, 0, 200, 200), band) <= band
    assert selection_shortfall(image, np.zeros((200, 200), bool), (0, 0, 200, 200), band) == 0.0


@pytest.mark.parametrize("short", [4, 6])
def test_a_selection_short_of_its_outline_moves_it_whole(manipulator: Manipulator, short: int) -> None:
    """Brushed 6 px inside a 4 px outline, the selection's old band (8 px) ended across the stroke and read the
    stroke itself as the surroundings: the outline stayed behind (94 % of it here). The band and the default reach
    now reach past it: the outline goes with the object and its old place keeps none of it; nothing farther than
    the edit's reach changes."""
    height, width = 240, 420
    image, body, ring = outlined_object(grainy_canvas(height, width, seed=5), 100, 120, 60, 4)
    selection = disc((height, width), 100, 120, 60 - short)
    shift = 210
    target = np.roll(selection, shift, axis=1)
    result = manipulator.edit(image, selection, target)
    assert result.mode == "transport"
    assert result.reach > default_reach(selection, target, width)  # grown by the shortfall
    left_behind, carried = outline_left_and_carried(result.image, ring, shift)
    assert left_behind <= 0.05, f"{left_behind:.0%} of the outline stayed behind"
    assert carried >= 0.85, f"only {carried:.0%} of the outline came along"
    far = ~edit_area(selection, target, result.reach)
    np.testing.assert_array_equal(result.image[far], image[far])
    # The reach the editor draws for Auto is the one the edit used.
    assert edit_band(selection, target, None, image).reach == pytest.approx(result.reach)


def test_a_reach_the_user_set_is_kept(manipulator: Manipulator) -> None:
    height, width = 240, 420
    image, _, _ = outlined_object(grainy_canvas(height, width, seed=5), 100, 120, 60, 4)
    selection = disc((height, width), 100, 120, 54)
    target = np.roll(selection, 210, axis=1)
    result = manipulator.edit(image, selection, target, reach=5.0)
    assert result.reach == 5.0
    far = ~edit_area(selection, target, 5.0)
    np.testing.assert_array_equal(result.image[far], image[far])
    assert edit_band(selection, target, 5.0, image).reach == 5.0


def test_removing_a_selection_short_of_its_outline_removes_the_outline() -> None:
    height, width = 240, 320
    image, body, ring = outlined_object(grainy_canvas(height, width, seed=6), 160, 120, 60, 4)
    selection = disc((height, width), 160, 120, 54)
    removal = remove_region(image, selection)
    assert removal.reach == pytest.approx(default_reach(selection, selection, width)
                                          + rim_shortfall(image, selection, (0, 0, width, height)))
    grey = cv2.cvtColor(removal.image, cv2.COLOR_RGB2GRAY)
    assert (grey[ring] < 70).mean() <= 0.05
