"""Pixel geometry for the evaluation, written apart from the product's so the yardstick shares no code
with what it measures.

Conventions: masks are boolean (H, W); backward maps are float32 (H, W, 2) arrays of (x, y) source
coordinates for each output pixel, pixel centres at integers; affines are 2x3 matrices.
"""
from __future__ import annotations

import cv2
import numpy as np


def identity_map(height: int, width: int) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.stack([xs, ys], axis=-1)


def affine_map(shape: tuple[int, int], backward: np.ndarray) -> np.ndarray:
    """The backward map of a 2x3 backward affine (output pixel -> source pixel)."""
    grid = identity_map(*shape).astype(np.float64)
    return (grid @ backward[:, :2].T + backward[:, 2]).astype(np.float32)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(matrix, np.float64))


def warp_image(image: np.ndarray, backward_map: np.ndarray, *, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """Bilinear sampling of ``image`` at ``backward_map``; keeps dtype and channel count."""
    out = cv2.remap(image, backward_map[..., 0], backward_map[..., 1], cv2.INTER_LINEAR, borderMode=border)
    return out[..., None] if out.ndim == 2 and image.ndim == 3 else out


def warp_mask(mask: np.ndarray, backward_map: np.ndarray) -> np.ndarray:
    """A boolean mask sampled bilinearly (zero outside the image) and thresholded at one half."""
    return warp_image(mask.astype(np.float32), backward_map, border=cv2.BORDER_CONSTANT) > 0.5


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance (pixels) of every pixel to the nearest pixel of ``mask``."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def diagonal(shape: tuple[int, ...]) -> float:
    return float(np.hypot(shape[0], shape[1]))


def jacobian_determinant(backward_map: np.ndarray) -> np.ndarray:
    """det of the map's Jacobian by central differences; > 0 everywhere means the map does not fold."""
    dx_dx = np.gradient(backward_map[..., 0], axis=1)
    dx_dy = np.gradient(backward_map[..., 0], axis=0)
    dy_dx = np.gradient(backward_map[..., 1], axis=1)
    dy_dy = np.gradient(backward_map[..., 1], axis=0)
    return dx_dx * dy_dy - dx_dy * dy_dx


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end-exclusive; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()], np.float64)
