"""The region's rim belongs to it: a painted outline just outside the selection moves with the region,
and its old place keeps none of it (engine.matte, engine.compose's transport)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.manipulator import Manipulator
from engine.matte import rim_band, rim_matte

OUTLINE = np.array([25, 20, 30], np.uint8)


def grainy_canvas(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A light, busy ground: soft colour waves and grain (no dark pixels)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    waves = np.stack([np.sin(xs / 23.0 + c) * np.cos(ys / 31.0 - 2 * c) for c in range(3)], axis=-1)
    grain = rng.normal(0, 12, (height, width, 3))
    return np.clip(170 + 45 * waves + grain, 90, 255).astype(np.uint8)


def outlined_object(canvas: np.ndarray, cx: int, cy: int, radius: int, width: int,
                    colour=(200, 60, 50)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canvas with a flat disc ringed by a dark painted outline ``width`` px wide (anti-aliased),
    the disc's mask and the outline's mask."""
    height, width_px = canvas.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width_px]
    distance = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
    body = distance <= radius
    ring = (distance > radius) & (distance <= radius + width)
    image = canvas.copy()
    image[body] = colour
    image[ring] = OUTLINE
    blurred = cv2.GaussianBlur(image, (3, 3), 0.7)
    edge = (distance > radius - 2) & (distance <= radius + width + 2)
    image[edge] = blurred[edge]
    return image, body, ring


@pytest.mark.parametrize("radius,width", [(40, 4), (420, 14)])  # the second judges a reduced band
def test_matte_takes_the_outline_and_leaves_the_ground(radius: int, width: int) -> None:
    side = 2 * radius + 160
    image, body, ring = outlined_object(grainy_canvas(side, side), side // 2, side // 2, radius, width)
    selection = cv2.erode(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # stops 2 px short
    band = rim_band(selection, reach=3 * width)
    assert band >= width + 2
    alpha = rim_matte(image, selection, (0, 0, side, side), band)
    assert alpha.dtype == np.float32 and alpha.shape == selection.shape
    assert (alpha[selection] == 1).all()
    assert (alpha[body] > 0.5).mean() > 0.99
    assert (alpha[ring] > 0.5).mean() > 0.97
    distance = cv2.distanceTransform((~(body | ring)).astype(np.uint8), cv2.DIST_L2, 3)
    ground = distance > 2.5
    assert (alpha[ground] < 0.02).mean() > 0.995


def test_an_outline_past_paint_of_the_grounds_colour_is_taken() -> None:
    """A shape painted in the ground's own colour, ringed by a dark outline, selected 2 px short of it: the shape's
    paint between the selection and the stroke is explained by the ground, yet the stroke is the shape's."""
    side, radius, width = 240, 60, 4
    rng = np.random.default_rng(3)
    ground_colour = np.array([228, 226, 218], np.float64)
    canvas = np.clip(ground_colour + rng.normal(0, 6, (side, side, 3)), 0, 255).astype(np.uint8)
    image, body, ring = outlined_object(canvas, side // 2, side // 2, radius, width, colour=(228, 226, 218))
    selection = cv2.erode(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # stops 2 px short
    alpha = rim_matte(image, selection, (0, 0, side, side), rim_band(selection, reach=3 * width))
    assert (alpha[ring] > 0.5).mean() > 0.95
    assert (alpha[body] > 0.5).mean() > 0.99
    distance = cv2.distanceTransform((~(body | ring)).astype(np.uint8), cv2.DIST_L2, 3)
    assert (alpha[distance > 2.5] < 0.02).mean() > 0.995


def test_a_thick_outline_on_a_large_scan_is_taken_whole() -> None:
    """On a 3000 px scan the outline is thicker than on a 1000 px one (10 px here); a band of 8 px
    (the floor for a painting of about 1000 px) holds none of it, the band for the painting's size all of it."""
    height, width, radius, outline = 600, 3000, 100, 10
    image, body, ring = outlined_object(grainy_canvas(height, width, seed=6), 1500, 300, radius, outline)
    selection = cv2.erode(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # stops 2 px short
    box = (1300, 100, 1700, 500)
    inside_box = (slice(100, 500), slice(1300, 1700))
    ground = cv2.distanceTransform((~(body | ring)).astype(np.uint8), cv2.DIST_L2, 3)[inside_box] > 2.5
    small = rim_band(selection, float("inf"))
    large = rim_band(selection, float("inf"), image_side=width)
    assert small == 8.0 and large >= outline + 3
    assert (rim_matte(image, selection[inside_box], box, small)[ring[inside_box]] > 0.5).mean() < 0.5
    alpha = rim_matte(image, selection[inside_box], box, large)
    assert (alpha[ring[inside_box]] > 0.5).mean() > 0.97
    assert (alpha[ground] < 0.02).mean() > 0.995


def test_matte_keeps_a_dark_stroke_of_the_ground_that_does_not_touch_the_region() -> None:
    image = grainy_canvas(200, 200, seed=1)
    ys, xs = np.mgrid[0:200, 0:200]
    region = (xs - 100) ** 2 + (ys - 100) ** 2 <= 50 ** 2
    image[region] = (40, 160, 60)
    stroke = (np.abs(xs - 158) <= 1) & (ys > 40) & (ys < 160)  # 8 px from the region: inside the band
    image[stroke] = OUTLINE
    alpha = rim_matte(image, region, (0, 0, 200, 200), band=10.0)
    assert (alpha[stroke] == 0).all()


def test_the_outline_the_selection_holds_in_part_is_followed_over_a_ground_of_its_colour() -> None:
    """The selection holds the outline on the left (a light ground) and stops short of it on the right,
    where the ground is speckled with the outline's own colour, so the surroundings explain it there.
    The region's outer layer, unlike its inside, gives the outline's colour: the rest of it is taken."""
    side, radius, width = 240, 60, 4
    canvas = grainy_canvas(side, side, seed=2)
    ys, xs = np.mgrid[0:side, 0:side]
    speckles = (np.random.default_rng(3).random((side, side)) < 0.08) & (xs > side // 2)
    canvas[cv2.dilate(speckles.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = OUTLINE
    image, body, ring = outlined_object(canvas, side // 2, side // 2, radius, width)
    right = xs > side // 2 + 5
    selection = (cv2.erode(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) | ((body | ring) & ~right)
    alpha = rim_matte(image, selection, (0, 0, side, side), rim_band(selection, reach=3 * width))
    assert (alpha[ring & right] > 0.5).mean() > 0.8  # 0.24 without the outer layer's colours
    beyond = cv2.distanceTransform((~(body | ring)).astype(np.uint8), cv2.DIST_L2, 3) > 2.5
    assert (alpha[beyond & right] >= 0.02).mean() < 0.01


def test_a_dark_ground_beside_an_outline_the_selection_holds_is_not_taken() -> None:
    """The selection holds the whole outline; on the right a dark passage of the outline's colour (a
    cypress beside the object) touches it. Nothing tells the ground from the rim there by colour, but the
    rim's width does: the outline ends where it ends elsewhere, and the passage stays (it came along as a
    dark halo 8 px wide, the whole band, when the continuation was measured from the region's edge)."""
    side, radius, width = 240, 60, 4
    canvas = grainy_canvas(side, side, seed=4)
    ys, xs = np.mgrid[0:side, 0:side]
    passage = xs > side // 2 + radius
    canvas[passage] = OUTLINE + np.array([12, 10, 8], np.uint8)
    image, body, ring = outlined_object(canvas, side // 2, side // 2, radius, width)
    selection = body | ring
    alpha = rim_matte(image, selection, (0, 0, side, side), rim_band(selection, reach=3 * width))
    beyond = cv2.distanceTransform((~selection).astype(np.uint8), cv2.DIST_L2, 3)
    within_band = (beyond > 2.5) & (beyond <= 10)
    assert (alpha[passage & within_band] >= 0.02).mean() < 0.05  # 0.51 when measured from the region's edge
    assert (alpha[~passage & within_band] >= 0.02).mean() < 0.05  # the light ground: its soft edge only


@pytest.fixture(scope="module")
def manipulator() -> Manipulator:
    return Manipulator(device="cpu")


def outline_left_and_carried(result: np.ndarray, ring: np.ndarray, shift: int) -> tuple[float, float]:
    """The shares of an outline ``ring`` still dark at its old place and dark ``shift`` px to the right."""
    grey = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY)
    return float((grey[ring] < 70).mean()), float((grey[np.roll(ring, shift, axis=1)] < 70).mean())


def test_a_moved_region_takes_its_outline_and_leaves_no_trace(manipulator: Manipulator) -> None:
    """The selection stops short of the outline; after a move far beyond the reach the outline is
    at the new place and gone from the old one."""
    height, width = 240, 400
    image, body, ring = outlined_object(grainy_canvas(height, width, seed=2), 100, 120, 60, 4)
    selection = cv2.erode(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    shift = 190
    target = np.roll(selection, shift, axis=1)
    result = manipulator.edit(image, selection, target)
    assert result.mode == "transport"
    left_behind, carried = outline_left_and_carried(result.image, ring, shift)
    assert left_behind <= 0.02, f"{left_behind:.0%} of the outline stayed behind"
    assert carried >= 0.9, f"only {carried:.0%} of the outline came along"
    # Nothing farther than the reach changed.
    from engine.locality import edit_area
    far = ~edit_area(selection, target, result.reach)
    np.testing.assert_array_equal(result.image[far], image[far])


@pytest.mark.parametrize("width,outline", [(3000, 10), (8000, 4)])
def test_a_small_object_on_a_large_scan_takes_its_outline_along(manipulator: Manipulator, width: int,
                                                                 outline: int) -> None:
    """On a 3000 px scan a small object's outline may be 10 px thick: the default reach from the region's size
    alone (9 px) cut it (98 % stayed behind); the reach and the matte's band have the painting's floor
    (engine.locality.rim_floor, 14 px there), so the whole outline travels. On an 8000 px scan it may still be
    4 px thin, and the band is judged reduced, where so thin an outline must not vanish."""
    from engine.locality import rim_floor

    height = 500
    image, body, ring = outlined_object(grainy_canvas(height, width, seed=2), 400, 250, 60, outline)
    selection = cv2.erode(body.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    shift = 400
    target = np.roll(selection, shift, axis=1)
    result = manipulator.edit(image, selection, target)
    assert result.mode == "transport" and result.reach >= rim_floor(width)  # and the selection's shortfall
    grey = cv2.cvtColor(result.image, cv2.COLOR_RGB2GRAY)
    assert (grey[ring] < 70).mean() <= 0.02
    assert (grey[np.roll(ring, shift, axis=1)] < 70).mean() >= 0.9


def test_a_large_region_whose_soft_edge_has_more_than_32767_pixels() -> None:
    """cv2.remap refuses maps of 32767 points or more a side: a 4K-sized region's edge has more."""
    side = 2600
    image = grainy_canvas(side, side, seed=3)
    ys, xs = np.ogrid[0:side, 0:side]
    region = (xs - side / 2) ** 2 + (ys - side / 2) ** 2 <= 1150 ** 2
    image[region] = (200, 60, 40)
    alpha = rim_matte(image, region, (0, 0, side, side), rim_band(region, float("inf")))
    ramp = (alpha > 0) & (alpha < 1)
    assert alpha[region].min() == 1.0 and ramp.sum() > 0
    assert alpha[~cv2.dilate(region.astype(np.uint8), np.ones((121, 121), np.uint8)).astype(bool)].max() == 0


def test_sample_points_reads_any_number_of_points() -> None:
    from engine.sampling import sample_points

    rng = np.random.default_rng(0)
    plane = rng.random((300, 400, 3)).astype(np.float32)
    rows, cols = rng.integers(0, 300, 40_000), rng.integers(0, 400, 40_000)
    read = sample_points(plane, cols.astype(np.float32), rows.astype(np.float32))
    np.testing.assert_allclose(read, plane[rows, cols], atol=1e-6)
    assert sample_points(plane[..., 0], cols[:5].astype(np.float32), rows[:5].astype(np.float32)).shape == (5,)


@pytest.mark.parametrize("radius", [1.0, 1.5, 2.0, 2.9, 4.0])
def test_the_disc_dilation_is_the_exact_distance_test(radius: float) -> None:
    """The vacated area is grown by one dilation with a disc instead of a distance transform: the
    same pixels as "within ``radius`` of the mask" by the exact Euclidean distance, borders included."""
    from engine.locality import distance_outside
    from engine.matte import _disc

    mask = np.random.default_rng(3).random((60, 80)) > 0.97
    mask[0, 5] = mask[59, 79] = True
    grown = cv2.dilate(mask.view(np.uint8), _disc(radius)) > 0
    np.testing.assert_array_equal(grown, distance_outside(mask) <= radius)


@pytest.mark.parametrize("kind", ["rgb", "rgba", "grey", "flat", "sixteen"])
def test_colours_read_at_pixels_equal_the_whole_conversion(kind: str) -> None:
    """The matte's soft edge converts only its ramp's pixels to CIELAB: the same numbers as converting
    the whole (median-filtered) crop and picking them."""
    from engine.matte import _lab, _lab_at

    rng = np.random.default_rng(1)
    shape = {"rgb": (30, 40, 3), "rgba": (30, 40, 4), "grey": (30, 40, 1), "flat": (30, 40), "sixteen": (30, 40, 3)}[kind]
    top = 65535 if kind == "sixteen" else 255
    pixels = rng.integers(0, top + 1, shape).astype(np.uint16 if kind == "sixteen" else np.uint8)
    rows, cols = rng.integers(0, 30, 200), rng.integers(0, 40, 200)
    np.testing.assert_array_equal(_lab_at(pixels, rows, cols), _lab(pixels, denoise=True)[rows, cols])
