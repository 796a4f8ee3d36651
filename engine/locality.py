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
#: ...but never narrower than this many pixels where the painting's size is not known, so anti-aliased outlines
#: always have room to blend...
MIN_REACH = 4.0
#: ...and where it is, never narrower than the band that holds a moved region's rim (:func:`rim_floor`;
#: ``engine.matte``'s band has the same floor): its painted outline must lie within the reach to travel with it (a
#: 12 px outline round a small object on a 3000 px scan: half of it stayed behind).
RIM_MIN, RIM_SIDE = 8.0, 1000.0
#: The widest band the editor offers, in pixels.
MAX_REACH = 400.0


def rim_floor(image_side: int) -> float:
    """The narrowest band, in pixels, that holds a moved region's rim (its painted outline, its anti-aliased edge)
    on a painting whose longer side is ``image_side`` pixels: RIM_MIN up to RIM_SIDE, then growing as the square
    root of the size. A painted outline is as thick in pixels as the scan is large, but a band grown in proportion
    costs a 4K edit of a large region a third of its time (its band 22.7 -> 32.8 px: +0.3 s of 1.0 s), so the floor
    grows halfway: the thick outlines of scans up to about 3000 px fit it (14 px there), larger scans' in part."""
    return RIM_MIN * float(np.sqrt(max(1.0, image_side / RIM_SIDE)))


def default_reach(source_mask: np.ndarray, target_mask: np.ndarray, image_side: int = 0) -> float:
    """The default width of the transition band, in pixels, for masks on a painting whose longer side is
    ``image_side`` pixels (0: not known; the floor is then MIN_REACH). Chosen with the rim's floor on BSDS500 val
    (fifty-first session): a floor of 8 px instead of 4 for small regions changed the outlined objects' figures by
    at most 0.1 point (seed 1: outline left 6.85 -> 6.74 %)."""
    floor = rim_floor(image_side) if image_side > 0 else MIN_REACH
    return max(floor, DEFAULT_REACH_SHARE * region_size(source_mask | target_mask))


def resolve_reach(source_mask: np.ndarray, target_mask: np.ndarray, reach: float | None, image_side: int = 0) -> float:
    """``reach`` itself (pixels, 0 or more), or :func:`default_reach` when it is None."""
    if reach is None:
        return default_reach(source_mask, target_mask, image_side)
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


def context_box(box: tuple[int, int, int, int], share: float, canvas: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``box`` (x0, y0, x1, y1) grown by ``share`` of its larger side plus 4 pixels, clipped to the
    canvas (H, W): the surroundings a fill reads around its hole."""
    x0, y0, x1, y1 = box
    margin = int(np.ceil(share * max(y1 - y0, x1 - x0))) + 4
    height, width = canvas[:2]
    return max(0, x0 - margin), max(0, y0 - margin), min(width, x1 + margin), min(height, y1 + margin)


def place_over(values: np.ndarray, from_box: tuple[int, int, int, int],
               to_box: tuple[int, int, int, int]) -> np.ndarray:
    """``values`` (an array over ``from_box``, x0, y0, x1, y1, of one canvas; any trailing channels)
    placed over ``to_box``: what lies outside ``from_box`` is zero (False), what lies outside
    ``to_box`` is dropped."""
    x0, y0, x1, y1 = to_box
    fx0, fy0, fx1, fy1 = from_box
    out = np.zeros((y1 - y0, x1 - x0, *values.shape[2:]), values.dtype)
    cx0, cy0, cx1, cy1 = max(x0, fx0), max(y0, fy0), min(x1, fx1), min(y1, fy1)
    if cx1 > cx0 and cy1 > cy0:
        out[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = values[cy0 - fy0:cy1 - fy0, cx0 - fx0:cx1 - fx0]
    return out


def distance_outside(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels, float32) of each pixel to the nearest pixel of ``mask`` (0 on it)."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def distance_near(mask: np.ndarray, reach: float) -> np.ndarray:
    """:func:`distance_outside` of ``mask``, exact up to ``reach`` and +inf beyond it: computed on the
    mask's bounding box grown by the reach only, so that two masks far apart in one large box do not
    each pay for the whole box."""
    distance = np.full(mask.shape, np.inf, np.float32)
    found = mask_bbox(mask)
    if found is None:
        return distance
    x0, y0, x1, y1 = box_within_reach(found, reach + 1.0, mask.shape)
    distance[y0:y1, x0:x1] = distance_outside(mask[y0:y1, x0:x1])
    return distance


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


def smoothstep_falloff(distance: np.ndarray, reach: float) -> np.ndarray:
    """1 at distance 0, smoothly down to 0 at ``reach`` (float32); a step when the reach is 0."""
    if reach <= 0:
        return (distance <= 0).astype(np.float32)
    ramp = np.clip(1.0 - distance / np.float32(reach), 0.0, 1.0).astype(np.float32)
    return ramp * ramp * (3.0 - 2.0 * ramp)
