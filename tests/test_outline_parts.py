"""The parts of an outlined shape that a click's answer left out (an arm of another colour) are taken in;
a ground that is dark, a shape without an outline and a cell of the ground are left alone."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.segmentation.outline_parts import outlined_parts

STROKE = (25, 20, 30)


def iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / max(1, (first | second).sum()))


def outlined_shape(part_of, colour: tuple[int, int, int], noise: float, seed: int = 0,
                   size: tuple[int, int] = (240, 320), outlined: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A round body (blue) with a part of ``colour`` (``part_of(xs, ys, centre, unit)``: where it lies), both
    ringed by a dark outline 4 px wide (unless not ``outlined``), on a grainy canvas. Returns the image, the
    body, the part and the ring."""
    rng = np.random.default_rng(seed)
    height, width = size
    unit = height / 240
    ys, xs = np.mgrid[0:height, 0:width]
    canvas = np.array([200.0, 195.0, 180.0]) + cv2.GaussianBlur(rng.normal(0, 20, (height, width, 3)), (0, 0), 1.5)
    centre = (0.42 * width, 0.5 * height)
    body = np.hypot(xs - centre[0], ys - centre[1]) < 60 * unit
    part = part_of(xs, ys, centre, unit) & ~body
    image = np.where(body[..., None], [60, 90, 190], np.where(part[..., None], colour, canvas))
    image = image + rng.normal(0, noise, image.shape)
    inside = body | part
    ring = (cv2.dilate(inside.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))) > 0) & ~inside
    if outlined:
        image[ring] = STROKE
    return np.clip(image, 0, 255).astype(np.uint8), body, part, ring


def _arm(xs: np.ndarray, ys: np.ndarray, centre: tuple[float, float], unit: float) -> np.ndarray:
    arm = np.zeros(xs.shape, np.uint8)
    points = np.array([[centre[0] + 40 * unit, centre[1]], [centre[0] + 85 * unit, centre[1] - 15 * unit],
                       [centre[0] + 105 * unit, centre[1] - 50 * unit]], np.int32)
    cv2.polylines(arm, [points], False, 1, thickness=max(3, round(16 * unit)))
    return arm > 0


def armed_shape(seed: int = 0, size: tuple[int, int] = (240, 320), outlined: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The body with a thin bent arm (purple: nearer the body's colour than the ground's)."""
    return outlined_shape(_arm, (160, 50, 160), 6.0, seed, size, outlined)


@pytest.mark.parametrize("size", [(240, 320), (1080, 1440)])  # the larger one is judged reduced 2x
def test_an_arm_of_another_colour_inside_the_outline_is_taken_in(size: tuple[int, int]) -> None:
    image, body, arm, _ = armed_shape(size=size)
    whole = outlined_parts(image, body)
    assert whole is not None
    assert iou(whole, body | arm) >= 0.93
    assert (whole & arm).sum() >= 0.9 * arm.sum() and (whole & body).sum() == body.sum()


def test_nothing_is_taken_without_an_outline_stroke() -> None:
    image, body, arm, _ = armed_shape(1, outlined=False)
    assert outlined_parts(image, body) is None


def test_a_dark_ground_is_no_outline() -> None:
    # the same shape on a black ground crossed by thin light stripes: the stripes' cells are not parts
    image, body, arm, ring = armed_shape(2)
    height, width = body.shape
    dark = np.full_like(image, 18)
    stripes = (np.arange(width)[None, :] // 6 % 4 == 0) & np.ones((height, 1), bool)
    dark[stripes] = 235
    keep = body | arm | ring
    image = np.where(keep[..., None], image, dark)
    assert outlined_parts(image, body) is None


def test_a_cell_of_the_ground_beside_the_outline_stays_out() -> None:
    # The answer is the shape with a stretch of its outline (it spills over it there); beside that stretch
    # the ground's own dark strokes close off a small cell of ground colour. It is not a part of the shape.
    image, body, arm, ring = armed_shape(3)
    ys, xs = np.nonzero(body | arm | ring)
    left = int(xs.min())
    row = int(np.median(ys[xs == left]))
    cell = np.zeros_like(body)
    cell[row - 18:row + 18, left - 30:left] = True
    spilled = body | arm | (ring & (np.abs(np.arange(body.shape[0]) - row) < 22)[:, None])
    border = (cv2.dilate(cell.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0) & ~cell & ~spilled
    image[border] = STROKE
    result = outlined_parts(image, spilled)
    assert result is None or not (result & cell).any()
    # the same cell painted in the shape's colours is taken as a part of it
    image[cell] = (150, 50, 165)
    result = outlined_parts(image, spilled)
    assert result is not None and (result & cell).sum() >= 0.9 * cell.sum()


def test_empty_answer() -> None:
    image, body, _, _ = armed_shape(4)
    assert outlined_parts(image, np.zeros_like(body)) is None


def lobed_shape(seed: int = 0, size: tuple[int, int] = (240, 320)) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The body with a lobe painted as dark as the outline (a shadowed part, a navy foot)."""
    return outlined_shape(lambda xs, ys, centre, unit: np.hypot(xs - centre[0] - 62 * unit, ys - centre[1] - 20 * unit)
                          < 26 * unit, (30, 27, 40), 4.0, seed, size)


@pytest.mark.parametrize("size", [(240, 320), (1080, 1440)])
def test_a_lobe_as_dark_as_the_outline_is_taken_in(size: tuple[int, int]) -> None:
    image, body, lobe, ring = lobed_shape(size=size)
    whole = outlined_parts(image, body)
    assert whole is not None
    assert (whole & lobe).sum() >= 0.9 * lobe.sum() and (whole & body).sum() == body.sum()
    assert iou(whole, body | lobe | ring) >= 0.9  # with the stroke around it, nothing of the ground
    assert (whole & ~(body | lobe | ring)).sum() <= 0.02 * lobe.sum()  # (the larger one is judged reduced 2x)


def test_a_dark_lobe_on_a_ground_of_middling_darkness_is_taken_in() -> None:
    """The lobed shape, the body shaded in the lobe's paint on its side, and a dark green band of the ground along the
    far side of the outline (about 38 % of the ground just beyond the stroke dark: a Cubist grey-blue ground). The
    answer does not lie on a dark ground, so the lobe is judged, and taken in; the green band stays out."""
    image, body, lobe, ring = lobed_shape(5)
    ys, xs = np.mgrid[0:body.shape[0], 0:body.shape[1]]
    centre_y, centre_x = ys[body].mean(), xs[body].mean()
    image[body & (xs > centre_x + 30)] = (30, 27, 40)
    beyond = cv2.distanceTransform((~(body | lobe | ring)).view(np.uint8), cv2.DIST_L2, 5)
    band = (beyond > 2) & (beyond < 30) & (np.abs(np.abs(np.arctan2(ys - centre_y, xs - centre_x)) - np.pi) < 0.8)
    image[band] = (20, 45, 25)
    whole = outlined_parts(image, body)
    assert whole is not None and (whole & lobe).sum() >= 0.9 * lobe.sum()
    assert not (whole & band).any()


def _dark_patch_beside_the_outline(seed: int, colour: tuple[int, int, int]
                                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The body without its lobe, outlined; a patch of the ground painted ``colour`` touches the outline from outside.
    Returns the image, the body, its outline and the patch."""
    image, body, lobe, ring = lobed_shape(seed)
    plain, _, _, _ = armed_shape(seed)
    ys, xs = np.mgrid[0:body.shape[0], 0:body.shape[1]]
    outline = (cv2.dilate(body.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))) > 0) & ~body
    patch = (np.abs(xs - xs[body].max() - 24) < 20) & (np.abs(ys - ys[body].mean()) < 25) & ~body & ~outline
    image = np.where((lobe | ring)[..., None], plain, image)  # the lobe and its outline painted over with ground
    image[outline] = STROKE
    image[patch] = colour
    return image, body, outline, patch


def test_a_dark_patch_of_the_ground_touching_the_outline_stays_out() -> None:
    # A patch of the ground as dark as the outline touches the outline from outside. It is the ground's (it meets the
    # answer only where the stroke runs between them).
    image, body, _, patch = _dark_patch_beside_the_outline(5, (30, 27, 40))
    result = outlined_parts(image, body)
    assert result is None or not (result & patch).any()


def test_an_answer_holding_its_outline_still_takes_the_arm_in() -> None:
    """The answer holds the outline round the body, so nothing dark lies just beyond it: the stroke's colour is
    read on both sides of the answer's edge, and the arm is taken in."""
    image, body, arm, ring = armed_shape(2)
    near_body = cv2.distanceTransform((~body).astype(np.uint8), cv2.DIST_L2, 5) <= 5
    answer = body | (ring & near_body)
    whole = outlined_parts(image, answer)
    assert whole is not None
    assert (whole & arm).sum() >= 0.9 * arm.sum() and (whole & answer).sum() == answer.sum()


def test_after_a_closed_loop_a_dark_patch_of_the_ground_in_another_dark_colour_stays_out() -> None:
    """The answer is the body closed by its outline all round (a loop found it). A dark patch of the ground touches the
    outline from outside, dark enough to pass for the stroke's paint but of another dark colour (a reflection, a
    shadow): it does not continue the paint the loop ran along, so it stays out; without the loop it would be taken."""
    image, body, outline, patch = _dark_patch_beside_the_outline(5, (40, 32, 52))  # 27 RGB from the stroke: "dark"
    answer = body | outline
    taken = outlined_parts(image, answer)
    assert taken is not None and (taken & patch).sum() >= 0.9 * patch.sum()
    closed = outlined_parts(image, answer, closed=True)
    assert closed is None or not (closed & patch).any()


def test_after_a_loop_closed_through_a_dark_lobes_own_paint_the_lobe_is_taken_in() -> None:
    """A loop that closed through the dark lobe's own paint (its answer holds a sliver of the lobe along the body): the
    rest of the lobe continues the paint the loop ran along, and is taken in."""
    image, body, lobe, ring = lobed_shape(3)
    sliver = lobe & (cv2.distanceTransform((~body).astype(np.uint8), cv2.DIST_L2, 5) <= 4)
    around_body = ring & ~(cv2.dilate(lobe.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)
    answer = body | sliver | around_body
    whole = outlined_parts(image, answer, closed=True)
    assert whole is not None and (whole & lobe).sum() >= 0.9 * lobe.sum()
