"""The square crop the network works in, resampled to its working resolution.

Shared by training (pairs from photographs) and the engine (real edits), so that the network sees
exactly the same kind of input in both. NumPy/OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np


def crop_square(array: np.ndarray, x0: int, y0: int, side: int, *, replicate: bool) -> np.ndarray:
    """The square [x0, x0+side) x [y0, y0+side) of ``array``, padded where it leaves the array
    (edge pixels repeated when ``replicate``, else zeros)."""
    height, width = array.shape[:2]
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(width, x0 + side), min(height, y0 + side)
    crop = array[cy0:cy1, cx0:cx1]
    pads = (cy0 - y0, y0 + side - cy1, cx0 - x0, x0 + side - cx1)
    if any(pads):
        border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
        squeeze = crop.ndim == 3 and crop.shape[2] == 1
        crop = cv2.copyMakeBorder(crop, *pads, border, value=0)
        if squeeze and crop.ndim == 2:
            crop = crop[..., None]
    return crop


def to_working(array: np.ndarray, size: int) -> np.ndarray:
    """Area-average to ``size`` x ``size`` (anti-aliased), float32 in [0, 1], (S, S, C)."""
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(array.dtype, 1.0)
    # Integer images are averaged in their own type (exact to one grey level, and on an 8K crop
    # several times faster than converting the whole crop to floats first).
    native = array if array.dtype in (np.uint8, np.uint16) else array.astype(np.float32)
    resized = cv2.resize(native, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / scale
    return resized if resized.ndim == 3 else resized[..., None]


def mask_to_working(mask: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """A boolean mask's square crop as (S, S, 1) coverage in [0, 1], to 1/255."""
    crop = crop_square(mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8), x0, y0, side,
                       replicate=False)
    return to_working(crop * np.uint8(255), size)


def image_to_working(image: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """An image's square crop as (S, S, 3) RGB in [0, 1]; grey is repeated, alpha dropped."""
    if image.ndim == 2:
        image = image[..., None]
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]
    return to_working(crop_square(rgb, x0, y0, side, replicate=True), size)


def working_positions(x0: int, y0: int, side: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution (x, y) pixel coordinates of the working grid's cell centres, (S, S) each."""
    coords = (np.arange(size, dtype=np.float32) + 0.5) * (side / size) - 0.5
    return np.meshgrid(coords + x0, coords + y0)


def pixels_to_grid(points_x: np.ndarray, points_y: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """Full-resolution pixel coordinates -> grid_sample coordinates of the square, (..., 2)."""
    return np.stack([(2.0 * (points_x - x0) + 1.0) / side - 1.0, (2.0 * (points_y - y0) + 1.0) / side - 1.0], axis=-1)
