"""A click's answer widened (or cut) to the dark outline stroke that closes around the click."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import engine.segmentation.outline_enclosure as outline_enclosure
from engine.segmentation.outline_enclosure import enclosing_outline


def iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / max(1, (first | second).sum()))


def outlined_shape(seed: int = 0, size: tuple[int, int] = (240, 320), gap: int = 0,
                   ground: tuple[float, float] = (120, 210)) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A blob in two colour fields split by a dark stroke inside it, ringed by a dark outline 4 px wide, on a
    grainy canvas; ``gap``: a stretch of the outline left out. Returns the image, the blob with its outline,
    and the two fields."""
    rng = np.random.default_rng(seed)
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width]
    canvas = rng.uniform(*ground, (1, 1, 3)) + cv2.GaussianBlur(rng.normal(0, 20, (height, width, 3)), (0, 0), 1.5)
    angle = np.arctan2(ys - height / 2, xs - width / 2)
    radius = 0.3 * height * (1 + 0.15 * np.sin(3 * angle + rng.uniform(0, 6)))
    inside = np.hypot(xs - width / 2, ys - height / 2) < radius
    split = (xs - width / 2) * np.cos(0.4) + (ys - height / 2) * np.sin(0.4)
    first, second = inside & (split < -2), inside & (split > 2)
    image = np.where(first[..., None], [200, 170, 60], np.where(second[..., None], [70, 150, 90], canvas))
    image = image + rng.normal(0, 6, image.shape)
    ring = (cv2.dilate(inside.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))) > 0) & ~inside
    stroke_inside = inside & ~first & ~second
    paint = ring | stroke_inside
    if gap:
        paint &= ~((np.abs(ys - height / 2) < gap / 2) & (xs > width / 2))
    image[paint] = (25, 20, 30)
    return np.clip(image, 0, 255).astype(np.uint8), inside | ring, first, second


@pytest.mark.parametrize("size", [(240, 320), (1080, 1920)])  # the larger one is judged reduced 3x
def test_a_field_of_an_outlined_shape_grows_to_the_whole_shape_with_its_outline(size: tuple[int, int]) -> None:
    image, whole, first, second = outlined_shape(size=size)
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    assert iou(first, whole) < 0.6  # the answer was one field


def test_an_answer_spilling_over_the_outline_is_cut_at_it() -> None:
    image, whole, first, _ = outlined_shape(1)
    spilled = cv2.dilate(whole.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    shape = enclosing_outline(image, spilled, (float(xs[len(xs) // 2]), float(ys[len(ys) // 2])))
    assert shape is not None and iou(shape, whole) >= 0.95


def test_nothing_is_offered_without_a_closed_thin_stroke_or_when_the_answer_is_whole() -> None:
    image, whole, first, _ = outlined_shape(2, gap=30)  # the outline is broken: no loop
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    assert enclosing_outline(image, first, click) is None
    image, whole, first, _ = outlined_shape(2)
    assert enclosing_outline(image, whole, click) is None  # the answer hugs the outline: nothing to gain
    # a dark passage as wide as the shape is no stroke: the same shape painted dark on a dark ground
    dark = np.where(whole[..., None], np.uint8(30), image)
    dark = np.where((cv2.dilate(whole.astype(np.uint8), np.ones((61, 61), np.uint8)) > 0)[..., None], np.uint8(30), dark)
    assert enclosing_outline(dark, first, click) is None


def test_a_detail_well_inside_a_large_outlined_shape_is_kept() -> None:
    image, whole, first, _ = outlined_shape(3)
    depth = cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    detail = np.hypot(*np.mgrid[0:whole.shape[0], 0:whole.shape[1]] - np.array([[[y]], [[x]]])) < 6
    assert enclosing_outline(image, detail, (float(x), float(y))) is None  # far from the outline, far smaller


def test_empty_answer_and_uint16_free_inputs() -> None:
    image, whole, first, _ = outlined_shape(4)
    assert enclosing_outline(image, np.zeros_like(first), (10.0, 10.0)) is None
    assert enclosing_outline(image[:1, :1], np.ones((1, 1), bool), (0.0, 0.0)) is None


def test_an_outline_touched_by_the_grounds_own_dark_strokes_still_closes_in_its_own_colour(monkeypatch) -> None:
    """Grass-like strokes of another dark colour cover the ground and touch the outline, so every thin dark
    stroke together fills far beyond the shape; the outline's own colour still closes around it."""
    image, whole, first, _ = outlined_shape(5)
    rng = np.random.default_rng(5)
    height, width = whole.shape
    for _ in range(900):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        end = (x + int(rng.integers(-14, 15)), y + int(rng.integers(-14, 15)))
        cv2.line(image, (x, y), end, (90, 62, 18), 2)
    image[whole] = outlined_shape(5)[0][whole]  # the strokes lie on the ground only, touching the outline
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.9
    monkeypatch.setattr(outline_enclosure, "of_outline_colour",  # no colour read: every dark stroke only
                        lambda rgb, colour: np.zeros(rgb.shape[:-1], bool))
    assert enclosing_outline(image, first, click) is None


def _dark_ground_on_the_right(image: np.ndarray, whole: np.ndarray, grey: float, seed: int) -> np.ndarray:
    """``image`` with the ground right of the shape's middle painted nearly as dark as the outline (``grey``)."""
    rng = np.random.default_rng(seed)
    height, width = whole.shape
    right = np.zeros_like(whole)
    right[:, width // 2:] = True
    ground = right & ~whole
    out = image.astype(np.float32)
    out[ground] = grey + rng.normal(0, 2, (int(ground.sum()), 3))
    return np.clip(out, 0, 255).astype(np.uint8)


def test_an_outline_beside_a_ground_nearly_as_dark_closes_at_a_lower_contrast(monkeypatch) -> None:
    """Beside a ground of grey 55 the outline (grey 23) stands out by about 30 levels, under the black-hat's 40:
    the loop opens there, and closes when the contrast is lowered."""
    image, whole, first, _ = outlined_shape(6)
    image = _dark_ground_on_the_right(image, whole, 55.0, 6)
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    monkeypatch.setattr(outline_enclosure, "LOWER_CONTRASTS", ())
    monkeypatch.setattr(outline_enclosure, "COLOUR_CONTRASTS", ())
    assert enclosing_outline(image, first, click) is None  # at the black-hat's own contrast the loop is open


def test_a_loop_found_at_a_lower_contrast_must_run_in_the_outlines_colour(monkeypatch) -> None:
    """The right half of the loop is a dark green stroke, not the outline's purple, beside a darkish ground: it
    closes only at a lower contrast and is not offered, being of another colour for half its length."""
    image, whole, first, _ = outlined_shape(7)
    image = _dark_ground_on_the_right(image, whole, 85.0, 7)
    height, width = whole.shape
    ring = whole & ~cv2.erode(whole.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))).astype(bool)
    right = np.zeros_like(whole)
    right[:, width // 2:] = True
    image[ring & right] = (20, 70, 20)  # grey 49: 36 levels under the ground, so found at 30, not at 40
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    assert enclosing_outline(image, first, click) is None
    monkeypatch.setattr(outline_enclosure, "RING_COLOUR_SHARE", 0.0)  # any colour: the loop is offered
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.9


def _dark_field_beside(field: tuple[int, int, int], ground: tuple[int, int, int]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
    """An outlined shape whose second field is painted ``field`` with the ground beyond it ``ground``: the image,
    the shape with its outline, its first field, that ground, and a click deep in the first field."""
    image, whole, first, second = outlined_shape(8)
    height, width = whole.shape
    ys, xs = np.mgrid[0:height, 0:width]
    beyond = ((xs - width / 2) * np.cos(0.4) + (ys - height / 2) * np.sin(0.4) > 0) & ~whole
    image[second] = field
    image[beyond] = ground
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    return image, whole, first, beyond, (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))


def test_an_outline_between_a_dark_field_and_a_dark_ground_closes_among_the_strokes_of_its_colour() -> None:
    """Along half the shape the outline (grey 23) runs between a dark brown field (grey 39) and a ground nearly as
    dark as itself (grey 37, near its colour): it stands out by 14-16 levels only, and closes among the strokes of its
    own colour at the lowest contrast (Kandinsky's dark ground beside a figure's dark coat); the ground stays out."""
    image, whole, first, beyond, click = _dark_field_beside((55, 35, 15), (40, 35, 40))
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    assert (shape & beyond).sum() < 0.01 * whole.sum()


def test_a_loop_of_the_outlines_colour_that_takes_in_a_dark_ground_of_that_colour_is_refused(monkeypatch) -> None:
    """As above, but the dark field is itself of the outline's colour and wider than a stroke: a loop at the lowest
    contrast would take in a dark passage (a shadow, a night sky beside a roof), so nothing is offered."""
    image, whole, first, _, click = _dark_field_beside((40, 30, 35), (45, 40, 45))
    assert enclosing_outline(image, first, click) is None
    monkeypatch.setattr(outline_enclosure, "WIDE_DARK_SHARE", 1.0)  # a dark passage may be taken: it is
    assert enclosing_outline(image, first, click) is not None


def test_a_shape_painted_as_dark_as_its_outline_takes_in_its_own_dark_parts() -> None:
    """As above, but the answer's own field is painted in the outline's colour too (a black panther drawn in black
    on a dark ground): what the loop adds is as wide and dark as the answer itself, the shape's own paint, not a
    dark passage of the ground, so the loop is offered; the ground stays out."""
    image, whole, first, beyond, click = _dark_field_beside((40, 30, 35), (45, 40, 45))
    image[first] = (40, 30, 35)
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    assert (shape & beyond).sum() < 0.01 * whole.sum()


def _canopy_beside(image: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``image`` with a canopy of thin dark green branches (a frame with upright bars) right of the shape, touching
    its outline: strokes of the ground, in another colour than the outline's."""
    branches = np.zeros(whole.shape, np.uint8)
    cv2.rectangle(branches, (400, 40), (630, 360), 1, 3)
    for x in range(450, 630, 50):
        cv2.line(branches, (x, 40), (x, 360), 1, 2)
    image = image.copy()
    image[(branches > 0) & ~(cv2.dilate(whole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)] = (30, 90, 40)
    return image


def test_a_loop_closed_through_the_grounds_strokes_of_another_colour_is_refused() -> None:
    """The outline is broken where a canopy of dark green branches touches it: every thin dark stroke together closes
    a loop round the shape and the canopy (a flood, worse than the answer); its outer edge runs mostly in green."""
    for seed, gap in ((6, 40), (6, 0)):
        image, whole, first, second = outlined_shape(seed, size=(400, 640), gap=gap)
        image = _canopy_beside(image, whole)
        for part in (first, second):
            ys, xs = np.nonzero(cv2.distanceTransform(part.astype(np.uint8), cv2.DIST_L2, 5) > 10)
            click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
            shape = enclosing_outline(image, part, click)
            if gap:
                flood = outline_enclosure._enclosing_at(image, part, click, outline_enclosure.mask_bbox(part),
                                                        outline_enclosure.CONTRAST, {})
                assert flood is not None and iou(flood, whole) < iou(part, whole)  # what was offered before
                assert shape is None or iou(shape, whole) >= iou(part, whole)
            else:  # the outline closes by itself: the canopy touching it changes nothing
                assert shape is not None and iou(shape, whole) >= 0.95


def test_a_loop_at_a_lower_contrast_beside_an_answer_holding_its_outline_is_judged_by_the_held_colour(
        monkeypatch) -> None:
    """Where nothing dark lies outside the answer (it holds its outline), no outline's colour is read beside it: a loop
    found only at a lower contrast is then judged by the colour read on both sides of the answer's edge, as a loop at
    the black-hat's own contrast is, instead of being refused for want of a colour."""
    image, whole, first, _ = outlined_shape(6)
    image = _dark_ground_on_the_right(image, whole, 55.0, 6)
    ys, xs = np.nonzero(cv2.distanceTransform(first.astype(np.uint8), cv2.DIST_L2, 5) > 10)
    click = (float(xs[len(xs) // 2]), float(ys[len(ys) // 2]))
    read = outline_enclosure.outline_colour

    def nothing_outside(rgb, grey, answer, step, *, inside_too=False):
        return read(rgb, grey, answer, step, inside_too=True) if inside_too else None

    monkeypatch.setattr(outline_enclosure, "outline_colour", nothing_outside)
    monkeypatch.setattr(outline_enclosure, "COLOUR_CONTRASTS", ())
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    monkeypatch.setattr(outline_enclosure, "LOOP_RING_SHARE", 1.01)  # the held colour must run round it too
    assert enclosing_outline(image, first, click) is None


def test_a_loop_of_the_outlines_colour_one_colour_along_its_length_is_offered_though_read_beside_it_in_another(
        monkeypatch) -> None:
    """The loop among the strokes of the outline's colour (a dark field inside, a dark ground beyond) is offered when
    its outer edge is one colour along its length, though the colour read beside the answer (a band that may also hold
    the ground's or the shape's own dark paint) matches less of it than RING_COLOUR_SHARE asks."""
    image, whole, first, beyond, click = _dark_field_beside((55, 35, 15), (40, 35, 40))
    monkeypatch.setattr(outline_enclosure, "RING_COLOUR_SHARE", 1.01)  # the colour read beside never matches enough
    shape = enclosing_outline(image, first, click)
    assert shape is not None and iou(shape, whole) >= 0.95
    assert (shape & beyond).sum() < 0.01 * whole.sum()
    monkeypatch.setattr(outline_enclosure, "OWN_RING_SHARE", 1.01)
    assert enclosing_outline(image, first, click) is None
