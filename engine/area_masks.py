"""Masks reduced by OpenCV's INTER_AREA and thresholded, read over the part that matters only.

The fill reduces its hole and the painting it may read from a context of up to the whole canvas to
its work grid (``engine.fill``): ``cv2.resize`` of a 4096x2160 float mask takes about 25 ms, most
of it spent on cells far from the hole, whose answer is known. Here the same booleans come from
the taps of OpenCV's general area path (``models.crops.area_taps``, its ``computeResizeAreaTab``),
read over the hole's bounding box; OpenCV itself is used where it takes another path (a whole
number shrink, or an enlargement).
"""
from __future__ import annotations

import cv2
import numpy as np

from models.crops import area_general_path, area_taps, shrink_area_box, taps_within
from models.influence import mask_bbox


def _any_in_ranges(mask: np.ndarray, index: np.ndarray, weight: np.ndarray, offset: int) -> np.ndarray:
    """For each cell, whether ``mask`` (its axis 1 starting at ``offset``) holds a pixel among the
    cell's taps of positive weight: they are one run of indices, counted by a running sum."""
    used = weight > 0
    low = np.clip(index[:, 0] - offset, 0, mask.shape[1])
    high = np.clip(np.where(used, index, -1).max(axis=1) + 1 - offset, 0, mask.shape[1])
    running = np.zeros((mask.shape[0], mask.shape[1] + 1), np.int32)
    np.cumsum(mask, axis=1, dtype=np.int32, out=running[:, 1:])
    return running[:, high] > running[:, low]


def area_any(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0``: the cells of
    the (w, h) grid with a pixel of ``mask`` among their taps (every tap weighs more than 0)."""
    if not area_general_path(mask.shape, size):
        return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    found = mask_bbox(mask)
    if found is None:
        return np.zeros((size[1], size[0]), bool)
    x0, y0, x1, y1 = found
    height, width = mask.shape
    across = _any_in_ranges(mask[y0:y1, x0:x1], *area_taps(width, size[0]), x0)  # (mask rows, cells)
    return _any_in_ranges(cv2.transpose(across.view(np.uint8)), *area_taps(height, size[1]), y0).T


def area_share_above(mask: np.ndarray, size: tuple[int, int], level: float) -> np.ndarray:
    """``cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > level`` for a
    ``level`` below 1 and a mask that is mostly True: cells without a False pixel among their taps
    are above it (their weights sum to 1), the others are summed as OpenCV sums them, over the
    box their taps cover."""
    if not area_general_path(mask.shape, size) or not 0.0 <= level <= 0.9999:
        return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > level
    result = np.ones((size[1], size[0]), bool)
    found = mask_bbox(~mask)
    if found is None:
        return result
    x0, y0, x1, y1 = found
    height, width = mask.shape
    x_index, x_weight = area_taps(width, size[0])
    y_index, y_weight = area_taps(height, size[1])
    columns, rows = taps_within(x_index, x_weight, x0, x1)[0], taps_within(y_index, y_weight, y0, y1)[0]
    # Every tap of those cells lies in this box: summed over it, their sums are OpenCV's.
    used_x, used_y = x_index[columns][x_weight[columns] > 0], y_index[rows][y_weight[rows] > 0]
    fx0, fx1, fy0, fy1 = int(used_x.min()), int(used_x.max()) + 1, int(used_y.min()), int(used_y.max()) + 1
    values = cv2.transpose(np.ascontiguousarray(mask[fy0:fy1, fx0:fx1]).view(np.uint8)).astype(np.float32).T
    sums = shrink_area_box(values, fy0, fx0, (height, width), (size[1], size[0]))
    result[rows, columns] = sums[rows, columns] > level
    return result
