"""The editor's mask tools (Mask menu), without Qt: boolean (H, W) masks in, boolean masks out.

Masks stay binary everywhere in the product (the edit reads them as sets of pixels, and its own
soft transition is the Reach), so there is no soft-edged "feather": :func:`smooth` rounds the
outline off instead. Every tool works on the mask's bounding box (plus what the radius can
reach), so it stays fast on 8K canvases when the region is small.

The image border is not an edge of the region: shrinking does not eat into a region from the
border of the painting, and holes are only background parts enclosed by the region.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from engine.errors import MaskError
from engine.imageio import load_mask, save_mask

#: Largest radius the grow, shrink and smooth tools accept (pixels).
MAX_RADIUS = 1000


def _check_radius(pixels: int) -> int:
    if int(pixels) != pixels or not 0 <= pixels <= MAX_RADIUS:
        raise MaskError(f"the radius must be a whole number of pixels from 0 to {MAX_RADIUS}, not {pixels}")
    return int(pixels)


def _box(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """The mask's bounding box widened by ``margin`` and cut to the image; None for an empty mask."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    height, width = mask.shape
    return (slice(max(0, rows[0] - margin), min(height, rows[-1] + 1 + margin)),
            slice(max(0, columns[0] - margin), min(width, columns[-1] + 1 + margin)))


def _distance_to_zero(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance from each set pixel to the nearest unset one (0 on unset pixels)."""
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Every pixel within ``pixels`` (Euclidean distance, inclusive) of the mask: a dilation by the
    exact disc of that radius."""
    pixels = _check_radius(pixels)
    box = _box(mask, pixels + 1)
    if box is None or pixels == 0:
        return mask.copy()
    result = np.zeros_like(mask, dtype=bool)
    result[box] = _distance_to_zero(~mask[box]) <= pixels
    return result


def shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The pixels of the mask farther than ``pixels`` from every pixel outside it: an erosion by the
    exact disc of that radius (the image border does not count as outside)."""
    pixels = _check_radius(pixels)
    box = _box(mask, 1)
    if box is None or pixels == 0:
        return mask.copy()
    result = np.zeros_like(mask, dtype=bool)
    result[box] = _distance_to_zero(mask[box]) > pixels
    return result


def smooth(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The outline rounded off: the mask blurred by a Gaussian of sigma ``pixels`` and thresholded
    at one half. Notches and spikes narrower than about ``pixels`` go; large shapes keep their area."""
    pixels = _check_radius(pixels)
    box = _box(mask, 3 * pixels + 2)
    if box is None or pixels == 0:
        return mask.copy()
    result = np.zeros_like(mask, dtype=bool)
    result[box] = _gaussian(mask[box].astype(np.float32), pixels) >= 0.5
    return result


#: Up to this sigma the blur runs at full resolution; beyond it on the mask reduced by sigma / FULL_SIGMA (rounded up) and
#: brought back by linear interpolation (the blurred field is smooth at that scale). OpenCV's kernel spans 8
#: sigma: Smooth by 1000 px of a region on an 8K painting took minutes on the editor's GUI thread.
FULL_SIGMA = 8


def _gaussian(field: np.ndarray, sigma: float) -> np.ndarray:
    """``field`` blurred by a Gaussian of ``sigma`` pixels, in time that does not grow with ``sigma``."""
    factor = math.ceil(sigma / FULL_SIGMA)  # the reduced blur's sigma is at most FULL_SIGMA
    if factor <= 1:
        return cv2.GaussianBlur(field, (0, 0), sigma)
    height, width = field.shape
    # Padded (mirrored) to whole blocks of factor x factor pixels, so each reduced pixel is one block's mean and
    # the interpolation back puts it at that block's centre; mirrored at the edge as the full-size blur is.
    padded = cv2.copyMakeBorder(field, 0, -height % factor, 0, -width % factor, cv2.BORDER_REFLECT)
    small = cv2.resize(padded, (padded.shape[1] // factor, padded.shape[0] // factor), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    back = cv2.resize(blurred, (padded.shape[1], padded.shape[0]), interpolation=cv2.INTER_LINEAR)
    return back[:height, :width]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every background part it encloses (not connected to the image border) filled:
    what a flood of the background from around the mask's bounding box (4-connected, as
    ``scipy.ndimage.binary_fill_holes``) does not reach."""
    mask = np.asarray(mask, bool)
    box = _box(mask, 0)
    if box is None:
        return mask.copy()
    part = mask[box]
    flooded = np.zeros((part.shape[0] + 2, part.shape[1] + 2), np.uint8)
    flooded[1:-1, 1:-1] = part
    cv2.floodFill(flooded, None, (0, 0), 2)
    result = mask.copy()
    result[box] = flooded[1:-1, 1:-1] != 2
    return result


def _pixel_count(contour: np.ndarray) -> float:
    """About how many pixels a traced contour encloses, itself included: its polygon (through the pixel
    centres) and half its perimeter more, and one (exact for upright rectangles; a few percent over for
    ragged outlines)."""
    return cv2.contourArea(contour) + cv2.arcLength(contour, True) / 2 + 1


def without_specks(mask: np.ndarray, share: float, points: list[tuple[float, float]] = ()) -> np.ndarray:
    """The mask without its specks: its parts (8-connected) smaller than ``share`` of its largest part are
    dropped, except those holding one of ``points`` (x, y), and its holes smaller than that are filled.
    Stray pixels and pinholes that a per-pixel decision leaves on a busy ground (an edge snapped pixel by
    pixel, an outline's colour read in a dark ground), as Segment Anything's automatic masks are cleaned.

    The parts and holes are found by tracing their outlines (a two-level contour tree), which reads the mask
    once and labels no pixel: at 8K a large answer costs milliseconds. Their sizes are read from the
    outlines (the largest part's a few percent over); each speck is drawn filled in its own small box, where
    its pixels are counted exactly and cleared (or set, for a hole)."""
    mask = np.asarray(mask, bool)
    box = _box(mask, 0)
    if box is None:
        return mask.copy()
    window = np.ascontiguousarray(mask[box]).view(np.uint8)
    contours, hierarchy = cv2.findContours(window, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    tree = hierarchy[0]
    if len(contours) <= 1:
        return mask.copy()
    parts = [index for index in range(len(contours)) if tree[index][3] < 0]

    def inside_of(hole: int) -> float:  # a hole's contour runs on the part's pixels around it
        return max(0.0, cv2.contourArea(contours[hole]) - cv2.arcLength(contours[hole], True) / 2 + 1)

    def size(part: int) -> float:
        pixels, child = _pixel_count(contours[part]), tree[part][2]
        while child >= 0:
            pixels -= inside_of(child)
            child = tree[child][0]
        return pixels

    limit = share * max(size(part) for part in parts)
    result = mask.copy()
    changed = result[box]
    top, left = box[0].start, box[1].start
    dropped = set()
    for index in sorted(range(len(contours)), key=lambda index: tree[index][3] >= 0):  # the parts first
        contour, is_part = contours[index], tree[index][3] < 0
        if not is_part and tree[index][3] in dropped:
            continue  # a hole of a dropped speck stays ground
        # large for sure: a part's polygon is less than its pixels; a hole's inside, read from the polygon around it, is
        # at most about a perimeter's worth over
        if (cv2.contourArea(contour) if is_part else inside_of(index) - cv2.arcLength(contour, True)) >= limit:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        filled = np.zeros((h, w), np.uint8)
        cv2.drawContours(filled, [contour], -1, 1, cv2.FILLED, offset=(-x, -y))
        if is_part:
            child = tree[index][2]
            while child >= 0:  # a speck's own holes stay out of it
                cv2.drawContours(filled, [contours[child]], -1, 0, cv2.FILLED, offset=(-x, -y))
                cv2.drawContours(filled, [contours[child]], -1, 1, 1, offset=(-x, -y))
                child = tree[child][0]
            speck = (filled > 0) & (window[y:y + h, x:x + w] > 0)
        else:
            speck = (filled > 0) & (window[y:y + h, x:x + w] == 0)
        if np.count_nonzero(speck) >= limit:
            continue
        if is_part and any(0 <= round(py) - top - y < h and 0 <= round(px) - left - x < w
                           and speck[round(py) - top - y, round(px) - left - x] for px, py in points):
            continue  # clicked
        changed[y:y + h, x:x + w][speck] = not is_part
        if is_part:
            dropped.add(index)
    return result


def inner_edge(mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` ((H, W) bool) with a pixel outside it among their 8 neighbours (the image
    border counts as inside)."""
    return mask & ~(cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)


def invert(mask: np.ndarray) -> np.ndarray:
    return ~np.asarray(mask, bool)


# -- mask files ---------------------------------------------------------------------------------
def same_aspect_ratio(size: tuple[int, int], shape: tuple[int, int]) -> bool:
    """True when an (H, W) ``size`` scaled to the height of ``shape`` is its width to within a pixel
    (either way round)."""
    (height, width), (to_height, to_width) = size, shape
    return abs(width * to_height / height - to_width) <= 1.0 or abs(to_width * height / to_height - width) <= 1.0


def read_mask_file(path: str | Path, shape: tuple[int, int]) -> np.ndarray:
    """A mask for an image of ``shape`` (H, W) from a black-and-white image file (white, or opaque,
    is selected). A mask of another size is scaled when its aspect ratio is the image's and refused
    otherwise; an unreadable file, or one that selects nothing, is refused (``MaskError``)."""
    path = Path(path)
    mask = load_mask(path)
    if mask.shape != tuple(shape):
        if not same_aspect_ratio(mask.shape, shape):
            raise MaskError(f"{path.name} is {mask.shape[1]}x{mask.shape[0]} but the painting is {shape[1]}x{shape[0]} "
                            "(a mask of another aspect ratio cannot be scaled to it)")
        height, width = shape
        shrinking = width * height < mask.size
        scaled = cv2.resize(mask.astype(np.float32), (width, height),
                            interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        mask = scaled >= 0.5
    if not mask.any():
        raise MaskError(f"{path.name} selects nothing (it is black everywhere)")
    return mask


def write_mask_file(path: str | Path, mask: np.ndarray) -> Path:
    """Write ``mask`` as a black-and-white image (PNG when ``path`` has no extension), atomically;
    returns the path written."""
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    save_mask(path, mask)
    return path
