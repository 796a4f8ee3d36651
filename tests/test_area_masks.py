"""The fill's reduced masks (engine.area_masks) are OpenCV's INTER_AREA answers, read over a box only."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.area_masks import area_any, area_share_above


def _blob_mask(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(3):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(1, max(2, width // 4))), int(rng.integers(1, max(2, height // 4))))
        cv2.ellipse(mask, (centre, axes, float(rng.uniform(0, 180))), 1, -1)
    mask = mask > 0
    mask[rng.integers(0, height, 5), rng.integers(0, width, 5)] = True  # lone pixels: the thinnest taps
    return mask


@pytest.mark.parametrize("height,width,seed", [(2160, 4096, 0), (613, 997, 1), (400, 400, 2), (1201, 301, 3),
                                               (250, 260, 4), (800, 400, 5), (97, 211, 6)])
def test_the_reduced_masks_are_opencvs(height: int, width: int, seed: int) -> None:
    """At the fill's work size (200 px a side) and a few others, whole-number factors included."""
    hole = _blob_mask(height, width, seed)
    forbidden = _blob_mask(height, width, seed + 10)
    readable = ~hole & ~forbidden
    scale = min(1.0, 200 / max(height, width))
    sizes = {(max(1, round(width * scale)), max(1, round(height * scale))), (width // 2, height // 2),
             (max(1, width // 7), max(1, height // 3)), (width, height)}
    for size in sizes:
        expected_any = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        np.testing.assert_array_equal(area_any(hole, size), expected_any)
        expected_share = cv2.resize(readable.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.999
        np.testing.assert_array_equal(area_share_above(readable, size, 0.999), expected_share)


def test_empty_and_full_masks() -> None:
    empty, full = np.zeros((300, 500), bool), np.ones((300, 500), bool)
    assert not area_any(empty, (120, 72)).any() and area_any(full, (120, 72)).all()
    assert area_share_above(full, (120, 72), 0.999).all() and not area_share_above(empty, (120, 72), 0.999).any()
