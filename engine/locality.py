"""Where an edit may change the painting: the region, its new shape, and a transition band of
width ``reach`` around them. Every pixel outside that area stays bit-identical.

The reach is the user's choice (the editor's Reach control, ``--reach`` on the command line);
:func:`default_reach` is as narrow as still gives a clean transition, the way Photoshop's
Content-Aware Move leaves everything that was not selected where it is.
"""
from __future__ import annotations

import cv2
import numpy as np

from models.influence import mask_bbox, region_size

#: The default transition band, as a share of the region's size (the side of a square with the
#: area of both masks together)...
DEFAULT_REACH_SHARE = 0.06
#: ...but never narrower than this many pixels, so anti-aliased outlines always have room to blend.
MIN_REACH = 4.0
#: The widest band the editor offers, in pixels.
MAX_REACH = 400.0


def default_reach(source_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """The default width of the transition band, in pixels."""
    return max(MIN_REACH, DEFAULT_REACH_SHARE * region_size(source_mask | target_mask))


def resolve_reach(source_mask: np.ndarray, target_mask: np.ndarray, reach: float | None) -> float:
    """``reach`` itself (pixels, 0 or more), or :func:`default_reach` when it is None."""
    if reach is None:
        return default_reach(source_mask, target_mask)
    if not np.isfinite(reach) or reach < 0:
        raise ValueError(f"the reach must be a distance of 0 pixels or more, not {reach}")
    return float(reach)


def edit_box(source_mask: np.ndarray, target_mask: np.ndarray, reach: float) -> tuple[int, int, int, int] | None:
    """The bounding box (x0, y0, x1, y1) of :func:`edit_area`, clipped to the canvas; None if both masks are empty."""
    box = mask_bbox(source_mask | target_mask)
    return None if box is None else box_within_reach(box, reach, source_mask.shape)


def box_within_reach(box: tuple[int, int, int, int], reach: float, canvas: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The masks' bounding box (x0, y0, x1, y1) grown to every pixel within ``reach`` of it, clipped
    to the canvas (H, W): :func:`edit_box` when the caller knows the masks' box already."""
    margin = int(np.ceil(reach)) + 1
    height, width = canvas[:2]
    x0, y0, x1, y1 = box
    return max(0, x0 - margin), max(0, y0 - margin), min(width, x1 + margin), min(height, y1 + margin)


def distance_outside(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels, float32) of each pixel to the nearest pixel of ``mask`` (0 on it)."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def edit_area(source_mask: np.ndarray, target_mask: np.ndarray, reach: float) -> np.ndarray:
    """Every pixel the edit may change: within ``reach`` pixels of the region or its new shape."""
    area = np.zeros(source_mask.shape, dtype=bool)
    box = edit_box(source_mask, target_mask, reach)
    if box is None:
        return area
    x0, y0, x1, y1 = box
    both = source_mask[y0:y1, x0:x1] | target_mask[y0:y1, x0:x1]
    area[y0:y1, x0:x1] = distance_outside(both) <= reach
    return area
