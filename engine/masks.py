"""Mask utilities for the editor and the CLI: checking, moving and outlining boolean (H, W) masks (and
checking the image an edit works on).

The Mask menu's tools (grow, shrink, smooth, fill holes, invert, mask files) are in engine.mask_tools.
"""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from engine.errors import EditError, MaskError
from engine.mask_tools import grow


def check_image(image: np.ndarray) -> np.ndarray:
    """``image`` as an edit takes it: (H, W, C) with 1, 3 or 4 channels, 8- or 16-bit ((H, W) gains a channel axis)."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        raise EditError("the image must be an (H, W) or (H, W, C) array")
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] not in (1, 3, 4):
        raise EditError(f"the image has {image.shape[2]} channels; expected 1, 3 or 4")
    if image.dtype not in (np.uint8, np.uint16):
        raise EditError(f"the image has pixel type {image.dtype}; expected 8- or 16-bit")
    return image


def check_mask(mask: np.ndarray, shape: tuple[int, int], name: str = "mask") -> np.ndarray:
    """Accept bool/integer/float (anti-aliased) masks, thresholded at half their range; check the size."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.shape != tuple(shape):
        raise MaskError(f"the {name} is {mask.shape[1] if mask.ndim > 1 else '?'}x{mask.shape[0]} "
                        f"but the image is {shape[1]}x{shape[0]}")
    if mask.dtype == bool:
        return mask
    if np.issubdtype(mask.dtype, np.integer):
        top = 1 if mask.max(initial=0) <= 1 else np.iinfo(mask.dtype).max
        return mask >= (top + 1) / 2
    return mask >= 0.5


def transform_mask(mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Move/scale/rotate a mask by a forward 2x3 affine (pixel coordinates); parts leaving the canvas are cut.

    Only the mask's bounding box is resampled, into the box it lands in (an 8K canvas costs what
    the region costs)."""
    height, width = mask.shape
    moved = np.zeros((height, width), bool)
    box = bounding_box(mask)
    if box is None:
        return moved
    affine = np.asarray(affine, np.float64)
    # The box with a pixel of margin (bilinear reads one pixel further), and where its corners land.
    x0, y0, x1, y1 = max(0, box[0] - 2), max(0, box[1] - 2), min(width, box[2] + 2), min(height, box[3] + 2)
    corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], np.float64) @ affine.T
    dx0, dy0 = (max(0, int(np.floor(corners[:, axis].min())) - 2) for axis in (0, 1))
    dx1 = min(width, int(np.ceil(corners[:, 0].max())) + 3)
    dy1 = min(height, int(np.ceil(corners[:, 1].max())) + 3)
    if dx1 <= dx0 or dy1 <= dy0:
        return moved  # it left the canvas
    # Crop pixel c is canvas pixel c + (x0, y0); window pixel w is canvas pixel w + (dx0, dy0).
    local = affine.copy()
    local[:, 2] = affine[:, :2] @ np.array([x0, y0], np.float64) + affine[:, 2] - np.array([dx0, dy0], np.float64)
    window = cv2.warpAffine(mask[y0:y1, x0:x1].astype(np.float32), local, (dx1 - dx0, dy1 - dy0),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    moved[dy0:dy1, dx0:dx1] = window >= 0.5
    return moved


def _rotation(degrees: float) -> np.ndarray:
    angle = np.deg2rad(degrees)
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def transform_linear(scale_x: float = 1.0, scale_y: float = 1.0, angle_degrees: float = 0.0,
                     frame_degrees: float = 0.0) -> np.ndarray:
    """The 2x2 part of a Transform: scale by ``scale_x`` and ``scale_y`` along the axes of a frame turned by
    ``frame_degrees`` (the shape's own axes once it has been turned, as Free Transform scales a turned layer),
    then turn by ``angle_degrees``."""
    frame = _rotation(frame_degrees)
    return _rotation(angle_degrees) @ frame @ np.diag([scale_x, scale_y]) @ frame.T


def affine_about(centre: tuple[float, float], linear: np.ndarray, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """Forward 2x3 affine: ``linear`` about ``centre``, then a move by (dx, dy)."""
    centre_ = np.asarray(centre, np.float64)
    return np.hstack([linear, (centre_ + np.array([dx, dy]) - linear @ centre_)[:, None]])


def region_affine(mask: np.ndarray, *, dx: float = 0.0, dy: float = 0.0, scale_x: float = 1.0,
                  scale_y: float = 1.0, angle_degrees: float = 0.0, frame_degrees: float = 0.0) -> np.ndarray:
    """Forward 2x3 affine that scales (along a frame turned by ``frame_degrees``) and rotates about the region's
    centroid, then moves it."""
    centroid = mask_centroid(mask)
    if centroid is None:
        raise MaskError("the mask is empty")
    return affine_about(centroid, transform_linear(scale_x, scale_y, angle_degrees, frame_degrees), dx, dy)


def turned_box(mask: np.ndarray, centre: tuple[float, float], degrees: float) -> tuple[float, float, float, float] | None:
    """The box (x0, y0, x1, y1) of ``mask``'s pixels in a frame turned by ``degrees`` about ``centre``: the box that
    turned by ``degrees`` hugs the shape (for 0, :func:`bounding_box`). None for an empty mask."""
    outlines = outline_polygons(mask, min_points=1)
    if not outlines:
        return None
    pixels = np.concatenate(outlines)
    corners = np.concatenate([pixels + offset for offset in ((0, 0), (1, 0), (0, 1), (1, 1))])
    centre_ = np.asarray(centre, np.float64)
    in_frame = (corners - centre_) @ _rotation(degrees) + centre_  # each point turned by -degrees
    (x0, y0), (x1, y1) = in_frame.min(axis=0), in_frame.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def outline_polygons(mask: np.ndarray, min_points: int = 3) -> list[np.ndarray]:
    """Outer and inner boundaries of a mask as (N, 2) float arrays of (x, y) points, for drawing
    (traced inside the mask's box, with a pixel of margin: an 8K canvas costs what the region costs)."""
    box = bounding_box(mask)
    if box is None:
        return []
    height, width = mask.shape
    x0, y0, x1, y1 = max(0, box[0] - 1), max(0, box[1] - 1), min(width, box[2] + 1), min(height, box[3] + 1)
    contours, _ = cv2.findContours(mask[y0:y1, x0:x1].astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    offset = np.array([x0, y0], np.float64)
    return [contour[:, 0, :].astype(np.float64) + offset for contour in contours if len(contour) >= min_points]


def masks_equal(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two boolean masks are the same, compared eight pixels at a time where they allow it (2.4x NumPy's
    ``array_equal`` on an 8K mask, which the editor asks often: is a reshape waiting?)."""
    if first.shape != second.shape:
        return False
    if (first.dtype == second.dtype == np.bool_ and first.flags.c_contiguous and second.flags.c_contiguous
            and first.size % 8 == 0):
        return bool(np.array_equal(first.reshape(-1).view(np.uint64), second.reshape(-1).view(np.uint64)))
    return bool(np.array_equal(first, second))


def simplified_polygons(polygons: list[np.ndarray], tolerance: float) -> list[np.ndarray]:
    """Closed (N, 2) polygons each simplified to within ``tolerance`` of itself (Douglas-Peucker): an outline
    drawn zoomed out, where a mask's pixel steps are finer than a screen pixel."""
    simplified = []
    for polygon in polygons:
        points = cv2.approxPolyDP(np.ascontiguousarray(polygon, np.float32).reshape(-1, 1, 2), tolerance, True)
        simplified.append(points[:, 0, :].astype(np.float64) if len(points) >= 3 else polygon)
    return simplified


def dashed_polylines(polygons: list[np.ndarray], dash: float, gap: float, scale: float) -> list[np.ndarray]:
    """The dashes of closed (N, 2) polygons as open (M, 2) polylines: ``dash`` on, ``gap`` off, both in screen
    pixels at ``scale`` screen pixels an image pixel, each polygon starting with a dash (Qt's dashed pens, laid
    out once so that an outline's halo and its line, drawn by different strokers, dash alike)."""
    period = dash + gap
    closed = [np.vstack([points, points[:1]]) for points in (np.asarray(p, np.float64) for p in polygons)
              if len(points) >= 2]
    if period <= 0 or scale <= 0 or not closed:
        return []
    # All polygons in one run: each one's length along it (screen pixels) starts a whole period after the last
    # one's end, so that no dash runs from one into the next and every polygon starts with a dash.
    lengths = [np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))]) * scale for points in closed]
    totals = np.array([length[-1] for length in lengths])
    offsets = np.concatenate([[0.0], np.cumsum((np.floor(totals[:-1] / period) + 2) * period)])
    along = np.concatenate([length + offset for length, offset in zip(lengths, offsets)])
    points = np.concatenate(closed)
    counts = np.maximum(np.ceil(totals / period).astype(np.int64), 1)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = np.repeat(offsets, counts) + within * period
    ends = np.minimum(starts + dash, np.repeat(offsets + totals, counts))
    # Each dash: its start, the corners within it, its end; all laid out in one array, then cut apart.
    first_inner = np.searchsorted(along, starts, side="right")
    inner = np.maximum(np.searchsorted(along, ends, side="left") - first_inner, 0)
    sizes = inner + 2
    begins = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    laid = np.empty((int(sizes.sum()), 2))
    for ends_at, rows in ((starts, begins), (ends, begins + sizes - 1)):
        laid[rows] = np.column_stack([np.interp(ends_at, along, points[:, 0]), np.interp(ends_at, along, points[:, 1])])
    corner_dash = np.repeat(np.arange(len(starts)), inner)
    corner = np.arange(int(inner.sum())) - np.repeat(np.cumsum(inner) - inner, inner)
    laid[begins[corner_dash] + 1 + corner] = points[first_inner[corner_dash] + corner]
    return np.split(laid, begins[1:])


def mask_centroid(mask: np.ndarray) -> tuple[float, float] | None:
    """The mean (x, y) of the set pixels (read inside their bounding box); None when empty."""
    box = bounding_box(mask)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    # From the box's column and row counts (exact integer sums: the means over the pixels' coordinates,
    # without listing them; a 4K region's pixels took tens of milliseconds to list).
    inside = mask[y0:y1, x0:x1]
    pixels = inside.view(np.uint8) if inside.dtype == bool else (inside != 0).view(np.uint8)
    columns = cv2.reduce(pixels, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).reshape(-1).astype(np.int64)
    rows = cv2.reduce(pixels, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).reshape(-1).astype(np.int64)
    count = int(columns.sum())
    return int(columns @ np.arange(columns.size)) / count + x0, int(rows @ np.arange(rows.size)) / count + y0


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end-exclusive, of the set pixels; None when empty."""
    from models.influence import mask_bbox

    return mask_bbox(mask)


def touches_border(mask: np.ndarray) -> bool:
    """Whether any set pixel lies on the mask's outermost rows or columns."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def soften_stroke(before: np.ndarray, after: np.ndarray, radius: float) -> np.ndarray:
    """A brush stroke with a soft edge: near the pixels the stroke changed (``before`` -> ``after``),
    the boundary of ``after`` is smoothed by ``radius`` pixels; everywhere else ``after`` is kept.

    Masks are binary, so a soft brush cannot paint half-selected pixels; instead it rounds off
    the stroke's outline (a ragged hand-drawn edge becomes smooth). Only the stroke's bounding
    box is processed, so this stays cheap on 8K canvases.
    """
    if radius <= 0:
        return after.copy()
    box = bounding_box(np.logical_xor(before, after))
    if box is None:
        return after.copy()
    height, width = after.shape
    pad = int(np.ceil(3 * radius)) + 2
    x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
    x1, y1 = min(width, box[2] + pad), min(height, box[3] + pad)
    crop_before, crop_after = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
    near = grow(np.logical_xor(crop_before, crop_after), int(np.ceil(2 * radius)))
    smoothed = cv2.GaussianBlur(crop_after.astype(np.float32), (0, 0), radius) >= 0.5
    result = after.copy()
    result[y0:y1, x0:x1] = np.where(near, smoothed, crop_after)
    return result


def region_hash(region: np.ndarray) -> str:
    """A short fingerprint of a mask (its size and bits)."""
    digest = hashlib.blake2b(np.packbits(region).tobytes(), digest_size=16)
    digest.update(repr(region.shape).encode())
    return digest.hexdigest()
