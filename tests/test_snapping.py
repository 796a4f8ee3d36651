"""The segmenter's answer snaps to the object's real edge (engine.segmentation.snapping)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.mask_tools import without_specks
from engine.segmentation.base import SPECK_SHARE
from engine.segmentation.learned import LearnedSegmenter
from engine.segmentation.snapping import snap_to_edges

#: ((height, width), centre (share of width, height), semi-axes (x 1.5 min side), angle, colour, ground, seed)
ELLIPSES = [
    ((900, 1200), (0.589, 0.490), (0.0152, 0.0437), 56, (199, 68, 31), (102, 99, 182), 1),
    ((900, 1200), (0.490, 0.625), (0.0162, 0.0330), 58, (201, 54, 204), (145, 76, 66), 4),
    ((480, 640), (0.516, 0.404), (0.0217, 0.0475), -64, (223, 150, 214), (194, 139, 99), 12),
    ((900, 1200), (0.418, 0.410), (0.0330, 0.0404), 73, (228, 23, 206), (147, 127, 171), 19),
    ((1500, 2000), (0.431, 0.636), (0.0351, 0.0269), 80, (98, 42, 58), (115, 108, 103), 20),
    ((900, 1200), (0.506, 0.635), (0.0174, 0.0300), 76, (111, 223, 208), (112, 117, 160), 22),
]


def ellipse_on_grainy_canvas(size, centre, axes, angle, colour, ground, seed):
    """A flat-coloured ellipse on a canvas with grain and blotches; the image, the ellipse and its centre."""
    height, width = size
    rng = np.random.default_rng(seed)
    canvas = np.array(ground, np.float32) + rng.normal(0, 18, (height, width, 3))
    blotches = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 6)[..., None]
    canvas += 25 * blotches / blotches.std()
    shape = np.zeros((height, width), np.uint8)
    cx, cy = centre[0] * width, centre[1] * height
    side = 1.5 * min(height, width)
    cv2.ellipse(shape, (int(cx), int(cy)), (int(axes[0] * side), int(axes[1] * side)), angle, 0, 360, 1, -1)
    image = np.where(shape[..., None] > 0, np.array(colour, np.float32), canvas)
    return np.clip(image, 0, 255).astype(np.uint8), shape > 0, (cx, cy)


def iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / max(1, (first | second).sum()))


@pytest.fixture(scope="module")
def segmenter() -> LearnedSegmenter:
    return LearnedSegmenter()


@pytest.mark.parametrize("case", ELLIPSES, ids=[f"ellipse{case[-1]}" for case in ELLIPSES])
def test_one_click_on_a_flat_ellipse_finds_its_edge(segmenter: LearnedSegmenter, case) -> None:
    image, ellipse, (cx, cy) = ellipse_on_grainy_canvas(*case)
    segmenter.set_image(image)
    answer = segmenter.predict([(cx, cy)], [1]).best
    assert iou(answer, ellipse) >= 0.85


def test_a_mask_off_by_a_working_pixel_snaps_back_and_a_blind_edge_stays() -> None:
    image, ellipse, _ = ellipse_on_grainy_canvas(*ELLIPSES[3])
    grown = cv2.dilate(ellipse.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # 3 px too wide
    snapped = snap_to_edges(image, grown, scale=0.5)
    assert iou(grown, ellipse) < 0.9 < iou(snapped, ellipse)
    flat = np.full_like(image, 128)  # nothing to snap to: the mask is kept as it is
    np.testing.assert_array_equal(snap_to_edges(flat, grown, scale=0.5), grown)


def test_the_snaps_islands_and_pinholes_go_by_the_segmenters_speck_rule() -> None:
    """Pixels of the object's colour scattered on the ground just beyond the mask, and of the ground's colour just
    inside it, are decided one by one by their colour: the snap alone leaves them as islands and pinholes, noise
    that the segmenters' speck rule (``SPECK_SHARE``, applied to every answer after the snap) clears (on a dark
    painted ground, dozens of specks beside a selected figure were each carried along when it moved)."""
    image, ellipse, _ = ellipse_on_grainy_canvas(*ELLIPSES[3])
    colour, ground = np.array(ELLIPSES[3][4], np.uint8), np.array(ELLIPSES[3][5], np.uint8)
    beyond = cv2.distanceTransform((~ellipse).view(np.uint8), cv2.DIST_L2, 3)
    within = cv2.distanceTransform(ellipse.view(np.uint8), cv2.DIST_L2, 3)
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    sparse = (ys % 6 == 0) & (xs % 6 == 0)
    blocks = lambda centres: cv2.dilate(centres.view(np.uint8), np.ones((3, 3), np.uint8)) > 0  # noqa: E731
    specks = blocks(sparse & (beyond > 3.0) & (beyond <= 4.0))  # 3 x 3: the snap's median keeps them
    pinholes = blocks(sparse & (within > 3.0) & (within <= 4.0))
    image[specks], image[pinholes] = colour, ground
    snapped = snap_to_edges(image, ellipse, scale=0.5)
    count = cv2.connectedComponents(snapped.view(np.uint8), connectivity=8)[0] - 1
    assert count > 1  # the snap's own decisions
    snapped = without_specks(snapped, SPECK_SHARE)
    parts = cv2.connectedComponents(snapped.view(np.uint8), connectivity=8)[0] - 1
    holes = cv2.connectedComponents((~snapped).view(np.uint8), connectivity=4)[0] - 1
    assert parts == 1 and holes == 1  # the object, and the ground around it
    assert iou(snapped, ellipse) > 0.97
