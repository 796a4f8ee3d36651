"""The Warp tool's bend of the new shape by pins, as Puppet Warp bends a layer: every pin is where the shape
is held, and dragging one pin bends the shape around the others.

The bend is the rigid moving-least-squares deformation of Schaefer, McPhail and Warren (2006, "Image
Deformation Using Moving Least Squares", Sec. 2.3): each point moves by the rotation and translation that
best carry the pins to their new places, each pin weighted by 1 / distance^(2 alpha) to the point (Eq. 1-2),
so a point near a pin follows that pin exactly, and the shape between pins bends without shearing. In two
dimensions the best rotation is the angle of sum_i w_i conj(p_i - p*) (q_i - q*) over the centred pins
(p*, q*: the weighted centroids), which is Eq. 7's solution written with complex numbers. One pin moves
the shape without turning it.

The mask is drawn backwards: each pixel of the result reads the mask where the deformation from the pins'
new places to their old ones takes it (the usual inverse by swapping the pins' roles), on a coarse grid
that is then interpolated, so a bend of an 8K mask takes tens of milliseconds. NumPy/OpenCV only.
"""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np

from models.influence import mask_bbox

Point = tuple[float, float]

#: The pins' weights fall as 1 / distance^(2 ALPHA) (Schaefer et al.'s alpha; 1 is theirs).
ALPHA = 1.0
#: The deformation is computed every GRID_STEP pixels (more on a large shape: at most GRID_CELLS a side) and
#: interpolated between (it is smooth).
GRID_STEP, GRID_CELLS = 4, 256


def rigid_mls(points: np.ndarray, pins_from: np.ndarray, pins_to: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Where the rigid moving-least-squares deformation that carries ``pins_from`` (n, 2: x, y) to
    ``pins_to`` takes ``points`` (m, 2); float64 (m, 2)."""
    points = np.asarray(points, np.float64)
    pins_from, pins_to = np.asarray(pins_from, np.float64), np.asarray(pins_to, np.float64)
    if len(pins_from) == 0:
        return points.copy()
    if len(pins_from) == 1:
        return points + (pins_to[0] - pins_from[0])
    source = pins_from[:, 0] + 1j * pins_from[:, 1]
    destination = pins_to[:, 0] + 1j * pins_to[:, 1]
    at = points[:, 0] + 1j * points[:, 1]
    distance_squared = np.abs(at[:, None] - source[None, :]) ** 2  # (m, n)
    on_pin = distance_squared < 1e-12
    weights = 1.0 / np.maximum(distance_squared, 1e-12) ** alpha
    # A point on a pin goes where the pin goes: its weight alone.
    weights = np.where(on_pin.any(axis=1, keepdims=True), on_pin.astype(np.float64), weights)
    total = weights.sum(axis=1)
    source_centre = (weights * source[None, :]).sum(axis=1) / total
    destination_centre = (weights * destination[None, :]).sum(axis=1) / total
    turn = (weights * np.conj(source[None, :] - source_centre[:, None])
            * (destination[None, :] - destination_centre[:, None])).sum(axis=1)
    size = np.abs(turn)
    rotation = np.where(size > 1e-12, turn / np.maximum(size, 1e-12), 1.0 + 0j)
    moved = (at - source_centre) * rotation + destination_centre
    return np.stack([moved.real, moved.imag], axis=1)


def bend_outline(polygons: list[np.ndarray], pins_from: Sequence[Point], pins_to: Sequence[Point],
                 spacing: float = 3.0) -> list[np.ndarray]:
    """The closed outline ``polygons`` ((n, 2) x, y; e.g. ``engine.masks.outline_polygons``) bent as
    :func:`pin_warp` bends the mask, forwards, with points every ``spacing`` pixels at most (a straight edge
    bends too): the Warp tool's outline while a pin is dragged, a millisecond for thousands of points."""
    bent = []
    for polygon in polygons:
        polygon = np.asarray(polygon, np.float64)
        ends = np.roll(polygon, -1, axis=0)
        counts = np.maximum(1, np.ceil(np.hypot(*(ends - polygon).T) / spacing)).astype(int)
        steps = np.concatenate([np.arange(count) / count for count in counts])
        starts = np.repeat(polygon, counts, axis=0)
        dense = starts + steps[:, None] * (np.repeat(ends, counts, axis=0) - starts)
        bent.append(rigid_mls(dense, pins_from, pins_to))
    return bent


def points_box(points: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """The pixel box (x0, y0, x1, y1; x1, y1 excluded) holding ``points`` ((m, 2) x, y), ``margin`` pixels wider each
    way (not clipped to any picture)."""
    low, high = np.floor(points.min(axis=0)).astype(int) - margin, np.ceil(points.max(axis=0)).astype(int) + margin + 1
    return int(low[0]), int(low[1]), int(high[0]), int(high[1])


def dense_map(box: tuple[int, int, int, int], step: float,
              reads: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``reads`` ((m, 2) points x, y to (m, 2)) at every pixel of ``box`` (x0, y0, x1, y1; x1, y1 excluded), as two
    float32 planes for ``cv2.remap``: computed on a grid every ``step`` pixels from (x0, y0), reaching at least to the
    last pixel, and interpolated bilinearly between (a smooth map costs its grid, not its pixels)."""
    x0, y0, x1, y1 = box
    grid_x = x0 + step * np.arange(int(np.ceil((x1 - 1 - x0) / step)) + 1, dtype=np.float64)
    grid_y = y0 + step * np.arange(int(np.ceil((y1 - 1 - y0) / step)) + 1, dtype=np.float64)
    xs, ys = np.meshgrid(grid_x, grid_y)
    values = reads(np.stack([xs.ravel(), ys.ravel()], axis=1)).reshape(*xs.shape, 2)
    width, height = x1 - x0, y1 - y0
    at_x = np.ascontiguousarray(np.broadcast_to((np.arange(width, dtype=np.float32) / step)[None, :], (height, width)))
    at_y = np.ascontiguousarray(np.broadcast_to((np.arange(height, dtype=np.float32) / step)[:, None], (height, width)))
    first, second = (cv2.remap(np.ascontiguousarray(values[..., axis], np.float32), at_x, at_y, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE) for axis in (0, 1))
    return first, second


def _landing_box(shape: tuple[int, int], found: tuple[int, int, int, int], before: np.ndarray,
                 after: np.ndarray) -> tuple[int, int, int, int]:
    """The part of the picture (x0, y0, x1, y1, clipped to it) where the bent shape can land: the pixels whose
    backward map reads the shape's box ``found``, found on a coarse grid over the whole picture. (The outline
    carried forwards bounds it only when the bend does not fold: the forward and backward maps of moving least
    squares are not each other's inverse, and a pin dragged past another made straight cuts in the shape.)"""
    height, width = shape
    step = max(GRID_STEP, int(np.ceil(max(height, width) / GRID_CELLS)))
    xs, ys = np.meshgrid(np.arange(0, width + step, step, dtype=np.float64),
                         np.arange(0, height + step, step, dtype=np.float64))
    reads = rigid_mls(np.stack([xs.ravel(), ys.ravel()], axis=1), after, before)
    fx0, fy0, fx1, fy1 = found
    # A grid point counts when it reads within three cells of the box: the map is smooth, and between grid points
    # it does not stretch a cell by more than that.
    margin = 3 * step
    inside = ((reads[:, 0] >= fx0 - margin) & (reads[:, 0] <= fx1 + margin)
              & (reads[:, 1] >= fy0 - margin) & (reads[:, 1] <= fy1 + margin))
    if not inside.any():
        return 0, 0, 0, 0
    x0, y0, x1, y1 = points_box(np.stack([xs.ravel()[inside], ys.ravel()[inside]], axis=1), step)
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def pin_warp(mask: np.ndarray, pins_from: Sequence[Point], pins_to: Sequence[Point]) -> np.ndarray:
    """``mask`` ((H, W) bool) bent by moving its pins from ``pins_from`` to ``pins_to`` (x, y image pixels,
    the same number); what the bend carries past the picture is cut off."""
    mask = np.asarray(mask, bool)
    if len(pins_from) != len(pins_to):
        raise ValueError("every pin needs its new place")
    found = mask_bbox(mask)
    if found is None or len(pins_from) == 0:
        return mask.copy()
    before, after = np.asarray(pins_from, np.float64), np.asarray(pins_to, np.float64)
    if np.allclose(before, after):
        return mask.copy()
    height, width = mask.shape
    x0, y0, x1, y1 = _landing_box(mask.shape, found, before, after)
    result = np.zeros_like(mask)
    if x0 >= x1 or y0 >= y1:
        return result  # bent entirely off the picture
    # The backward map on a coarse grid over that box, interpolated at every pixel of it.
    step = max(GRID_STEP, int(np.ceil(max(x1 - x0, y1 - y0) / GRID_CELLS)))
    read_x, read_y = dense_map((x0, y0, x1, y1), step, lambda points: rigid_mls(points, after, before))
    warped = cv2.remap(mask.view(np.uint8) * np.uint8(255), read_x, read_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    result[y0:y1, x0:x1] = warped >= 128
    return result
