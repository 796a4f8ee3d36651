"""A click's answer widened to the cheapest closed path of the outline's colour around it, where the outline runs
into ground of its own colour and no stroke loop closes."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.segmentation.outline_enclosure import enclosing_outline
from engine.segmentation.outline_path import _arrival_times, _runs, outline_path
from tests.test_outline_enclosure import iou, outlined_shape

OUTLINE = np.array([28, 22, 32])


def two_fields_beside_dark_ground(seed: int, size: tuple[int, int] = (240, 320), dark_from: float = 0.6,
                                  outlined: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """A blob of two colour fields (no stroke between them) ringed by a dark outline; the ground right of
    ``dark_from`` of the width is of the outline's own colour. Returns the image, the blob with its outline, the
    first field and a click deep inside it."""
    image, whole, first, second = outlined_shape(seed, size=size)
    inside = cv2.erode(whole.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))) > 0
    image[inside & ~first & ~second] = (70, 150, 90)  # the stroke between the fields painted over
    if not outlined:
        image[whole & ~inside] = (170, 160, 150)
    right = np.zeros_like(whole)
    right[:, int(whole.shape[1] * dark_from):] = True
    ground = right & ~whole
    rng = np.random.default_rng(seed)
    pixels = image.astype(np.float32)
    pixels[ground] = OUTLINE + rng.normal(0, 3, (int(ground.sum()), 3))
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    return np.clip(pixels, 0, 255).astype(np.uint8), whole, first, click


@pytest.mark.parametrize("size", [(240, 320), (900, 1200)])  # the larger one is searched reduced 5x
def test_an_outline_running_into_ground_of_its_colour_is_found_as_a_path(size: tuple[int, int]) -> None:
    image, whole, first, click = two_fields_beside_dark_ground(0, size)
    assert enclosing_outline(image, first, click) is None  # the stroke loop is open along the dark ground
    shape = outline_path(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    assert iou(first, whole) < 0.5


def test_the_path_leaves_no_specks_in_a_flecked_dark_ground() -> None:
    """The dark ground beside the outline is flecked with light paint (a cypress's strokes): its dark pixels
    near the path are of the outline's colour, and settling the reduced shape's blocky edge kept them as specks
    (16 parts beside the shape; each moved with it as a dark fleck)."""
    image, whole, first, click = two_fields_beside_dark_ground(0, (900, 1200))
    right = np.zeros_like(whole)
    right[:, int(whole.shape[1] * 0.6):] = True
    image[right & ~whole & (np.random.default_rng(5).random(whole.shape) < 0.3)] = (150, 140, 120)
    shape = outline_path(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    assert cv2.connectedComponents(shape.view(np.uint8), connectivity=8)[0] - 1 == 1


def test_a_path_mostly_off_thin_strokes_is_not_offered() -> None:
    """With half the outline beside the dark ground, half the path runs over a dark patch, not a stroke."""
    image, _, first, click = two_fields_beside_dark_ground(1, dark_from=0.5)
    assert outline_path(image, first, click) is None


def test_nothing_is_offered_without_an_outline() -> None:
    image, _, first, click = two_fields_beside_dark_ground(2, outlined=False)
    assert outline_path(image, first, click) is None
    assert outline_path(image, np.zeros_like(first), click) is None
    assert outline_path(image[:1, :1], np.ones((1, 1), bool), (0.0, 0.0)) is None


def test_arrival_times_are_shortest_path_costs() -> None:
    """Dial's waves against the costs worked by hand: a wall with one door, dearer pixels on the way."""
    cost = np.ones((5, 7))
    cost[:, 3] = np.inf
    cost[4, 3] = 1  # the door, at the bottom
    cost[2, 1] = 3
    arrival = _arrival_times(cost, (0, 0), (6, 0))
    assert arrival[0, 6] == 8  # down to the door (4 diagonal-or-straight steps), up and across (4)
    assert arrival[2, 1] == 4 and arrival[1, 1] == 1
    assert np.isinf(arrival[0, 3])
    assert _runs(np.array([0, 1, 1, 0, 1, 1, 1, 0, 1], bool)) == [1, 5, 8]


def spilling_answer(whole: np.ndarray) -> np.ndarray:
    """The outlined blob and a disc of the ground beyond its left edge: an answer that spills over the outline."""
    ys, xs = np.nonzero(whole)
    centre_y, left = int(np.median(ys[xs == xs.min()])), int(xs.min())
    grid_y, grid_x = np.mgrid[0:whole.shape[0], 0:whole.shape[1]]
    return whole | (np.hypot(grid_y - centre_y, grid_x - left) < 0.15 * whole.shape[0])


@pytest.mark.parametrize("seed", [0, 3])
def test_an_answer_spilling_over_the_outline_is_cut_back_to_it(seed: int) -> None:
    """The answer covers a stretch of the outline and the ground beyond: no path goes round it, so the path is
    looked for round the part the click is in, and what it cuts off (light ground) is dropped."""
    image, whole, _, click = two_fields_beside_dark_ground(seed)
    answer = spilling_answer(whole)
    assert iou(answer, whole) < 0.9
    shape = outline_path(image, answer, click)
    assert shape is not None and iou(shape, whole) >= 0.95


def test_a_spilling_answer_is_not_cut_without_an_outline() -> None:
    image, whole, _, click = two_fields_beside_dark_ground(3, outlined=False)
    assert outline_path(image, spilling_answer(whole), click) is None
