"""Mask resampling on the mask's bounding box (models/crops.py) gives exactly what OpenCV's INTER_AREA
of the whole crop square gave: same cells, bit for bit, on any mask, square and working size."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from models import crops
from models.crops import area_taps, crop_square, mask_to_working, to_working


def whole_square(mask: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """The previous implementation: the whole square, zero-padded, through cv2.resize INTER_AREA."""
    crop = crop_square(mask.view(np.uint8), x0, y0, side, replicate=False)
    return to_working(crop * np.uint8(255), size)


def random_case(rng: np.random.Generator) -> tuple[np.ndarray, int, int, int, int]:
    height, width = int(rng.integers(40, 700)), int(rng.integers(40, 700))
    ys, xs = np.ogrid[0:height, 0:width]
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    rx, ry = rng.uniform(1, width / 3), rng.uniform(1, height / 3)
    mask = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1
    if rng.random() < 0.4:  # ragged: holes and specks, as a painted mask has
        mask = (mask & (rng.random((height, width)) < 0.8)) | (rng.random((height, width)) < 0.001)
    side = int(rng.integers(20, int(1.4 * max(height, width))))
    x0, y0 = int(rng.integers(-side // 2, width)), int(rng.integers(-side // 2, height))
    return mask, x0, y0, side, int(rng.choice([64, 96, 128]))


def test_bounding_box_resampling_is_bit_identical_to_the_whole_square() -> None:
    rng = np.random.default_rng(7)
    fractional = 0
    for _ in range(150):
        mask, x0, y0, side, size = random_case(rng)
        fractional += crops._fractional_shrink(side, size)
        np.testing.assert_array_equal(mask_to_working(mask, x0, y0, side, size),
                                      whole_square(mask, x0, y0, side, size))
    assert fractional > 80  # most cases took the bounding-box path


@pytest.mark.parametrize("side,size,fractional", [(2561, 64, True), (5324, 128, True), (129, 128, True),
                                                  (2560, 64, False), (128, 128, False), (50, 64, False)])
def test_which_sizes_take_the_bounding_box_path(side: int, size: int, fractional: bool) -> None:
    assert crops._fractional_shrink(side, size) is fractional


def test_a_large_square_with_a_small_region_reads_only_the_region() -> None:
    """A 10 %-of-the-square region: identical cells, and the box is all that is resampled."""
    side, size = 2561, 64
    mask = np.zeros((2160, 4096), bool)
    ys, xs = np.ogrid[0:2160, 0:4096]
    mask |= ((xs - 1800) / 700) ** 2 + ((ys - 1000) / 400) ** 2 <= 1
    seen = []
    real = crops.shrink_area_box
    crops_box = lambda values, *args: seen.append(values.shape) or real(values, *args)  # noqa: E731
    try:
        crops.shrink_area_box = crops_box
        result = mask_to_working(mask, 641, -214, side, size)
    finally:
        crops.shrink_area_box = real
    assert seen == [(801, 1401)]
    np.testing.assert_array_equal(result, whole_square(mask, 641, -214, side, size))


def test_empty_and_off_square_masks_give_zero_coverage() -> None:
    mask = np.zeros((300, 400), bool)
    assert not mask_to_working(mask, 10, 10, 250, 64).any()
    mask[5:20, 5:20] = True  # outside the square below
    np.testing.assert_array_equal(mask_to_working(mask, 100, 100, 250, 64), np.zeros((64, 64, 1), np.float32))
    assert not mask_to_working(mask, 1000, 1000, 250, 64).any()  # a square beside the canvas


def test_area_taps_reproduce_opencv_on_single_pixels() -> None:
    """Each tap weight is what cv2.resize gives a lone pixel (to float32 rounding of its sum)."""
    side, size = 333, 64
    index, weight = area_taps(side, size)
    assert np.allclose(weight.sum(axis=1), 1.0, atol=1e-5)
    for pixel in (0, 5, 6, 100, 332):
        row = np.zeros((1, side), np.float32)
        row[0, pixel] = 1.0
        opencv = cv2.resize(row, (size, 1), interpolation=cv2.INTER_AREA)[0]
        ours = np.zeros(size, np.float32)
        for cell in range(size):
            ours[cell] = weight[cell][index[cell] == pixel].sum()
        np.testing.assert_allclose(ours, opencv, atol=1e-6)
