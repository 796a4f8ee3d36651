"""Snap a segmenter's mask to the object's real edge at full resolution.

A segmenter answers at a reduced working size (the built-in one at 512 pixels a side, SAM at 1024),
so its outline, brought up to the image, is only as precise as one working pixel: several image
pixels on a large picture. Within that uncertainty the object's edge is where the colour changes.
In a narrow band around the outline each pixel is placed on the colour line between the local
object colour F (the mask's sure inside nearby) and the local ground colour B (the sure outside
nearby), I = a F + (1 - a) B as in closed-form matting (Levin et al. 2008, Eq. 1): it belongs to
the object when a > 1/2. A 3 x 3 median keeps the canvas grain out of the decision; where F and B
are too alike to tell (textured or low-contrast edges) the segmenter's own outline stays.

The local means are smooth, so they are taken at the working size; only the band's own pixels are
read at full resolution, and the cost follows the outline, not the picture.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.sampling import sample_points
from models.influence import mask_bbox

#: The band is this many working pixels either side of the segmenter's outline.
BAND_WORKING_PIXELS = 1.5
#: The local colour means are taken over a window this many bands wide around each pixel.
WINDOW_BANDS = 3.0
#: Below this colour separation (RGB, 0-255) between F and B the edge is not snapped.
MIN_SEPARATION = 24.0


class EdgeSnapper:
    """Prepared once per image: the image after a 3 x 3 median, at full and at the working size."""

    def __init__(self, image: np.ndarray, scale: float) -> None:
        """``image`` (H, W, 3) uint8 RGB; ``scale`` the segmenter's working size over the image's (<= 1)."""
        self.full = cv2.medianBlur(np.ascontiguousarray(image), 3)
        self.scale = min(1.0, float(scale))
        height, width = image.shape[:2]
        self.small_size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        self.small = (self.full if self.scale == 1.0
                      else cv2.resize(self.full, self.small_size, interpolation=cv2.INTER_AREA)).astype(np.float32)

    def snap(self, mask: np.ndarray, working_mask: np.ndarray | None = None) -> np.ndarray:
        """``mask`` (H, W) bool with its outline moved onto the strongest nearby colour edge;
        ``working_mask``: the same answer at the working size, when the segmenter has it (saves
        reducing the full-resolution mask)."""
        height, width = mask.shape
        if self.scale == 1.0:
            small_mask = small_inside = mask
        elif working_mask is not None and working_mask.shape == self.small.shape[:2]:
            small_mask = small_inside = working_mask
        else:  # the share of each working pixel inside the mask, 0-255
            share = cv2.resize(mask.view(np.uint8) * np.uint8(255), self.small_size, interpolation=cv2.INTER_AREA)
            small_mask, small_inside = share > 0, share >= 128
        # Only the answer's surroundings matter: the working-size work is cropped to them.
        radius = int(np.ceil(WINDOW_BANDS * BAND_WORKING_PIXELS))
        bbox = mask_bbox(small_mask)
        if bbox is None:
            return mask
        grow = radius + int(np.ceil(BAND_WORKING_PIXELS)) + 2
        small_height, small_width = small_mask.shape
        x0, y0 = max(0, bbox[0] - grow), max(0, bbox[1] - grow)
        x1, y1 = min(small_width, bbox[2] + grow), min(small_height, bbox[3] + grow)
        small_mask, small_inside = small_mask[y0:y1, x0:x1], small_inside[y0:y1, x0:x1]
        small = self.small[y0:y1, x0:x1]
        depth = cv2.distanceTransform(np.ascontiguousarray(small_inside).view(np.uint8), cv2.DIST_L2, 3)
        away = cv2.distanceTransform(np.ascontiguousarray(~small_mask).view(np.uint8), cv2.DIST_L2, 3)
        sure_object, sure_ground = depth > BAND_WORKING_PIXELS, away > BAND_WORKING_PIXELS
        if not sure_object.any() or not sure_ground.any():
            return mask
        size = (2 * radius + 1, 2 * radius + 1)

        def local_mean(where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            weight = cv2.boxFilter(where.astype(np.float32), -1, size, normalize=True, borderType=cv2.BORDER_CONSTANT)
            total = cv2.boxFilter(small * where[..., None], -1, size, normalize=True, borderType=cv2.BORDER_CONSTANT)
            return total / np.maximum(weight, 1e-6)[..., None], weight

        object_colour, object_weight = local_mean(sure_object)
        ground_colour, ground_weight = local_mean(sure_ground)
        uncertain = ~sure_object & ~sure_ground & (object_weight > 0) & (ground_weight > 0)
        band_rows, band_cols = np.nonzero(uncertain)
        rows, cols = _full_pixels((band_rows + y0, band_cols + x0), self.scale, (height, width))
        if rows.size == 0:
            return mask
        small_x = ((cols + 0.5) * self.scale - 0.5 - x0).astype(np.float32)
        small_y = ((rows + 0.5) * self.scale - 0.5 - y0).astype(np.float32)
        read = lambda plane: sample_points(plane, small_x, small_y).reshape(small_x.size, -1)  # noqa: E731
        object_at, ground_at = read(object_colour), read(ground_colour)
        line = object_at - ground_at
        length = (line ** 2).sum(axis=1)
        colours = self.full[rows, cols].astype(np.float32)
        position = ((colours - ground_at) * line).sum(axis=1) / np.maximum(length, 1e-6)
        decided = length > MIN_SEPARATION ** 2
        result = mask.copy()
        result[rows[decided], cols[decided]] = position[decided] > 0.5
        return result


def _full_pixels(small: tuple[np.ndarray, np.ndarray], scale: float, shape: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The full-resolution pixels (rows, cols) whose nearest working pixel is one of ``small`` (rows,
    cols): full pixel X belongs to working pixel floor((X + 0.5) * scale)."""
    small_rows, small_cols = small
    if scale == 1.0:
        return small_rows, small_cols
    height, width = shape
    side = int(np.ceil(1.0 / scale)) + 1  # the most full pixels a working pixel holds, a side
    first_row = np.ceil((small_rows / scale) - 0.5).astype(np.int64)
    first_col = np.ceil((small_cols / scale) - 0.5).astype(np.int64)
    offsets = np.arange(side)
    rows = (first_row[:, None, None] + offsets[None, :, None]).repeat(side, axis=2)
    cols = (first_col[:, None, None] + offsets[None, None, :]).repeat(side, axis=1)
    owned = ((np.floor((rows + 0.5) * scale) == small_rows[:, None, None])
             & (np.floor((cols + 0.5) * scale) == small_cols[:, None, None])
             & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width))
    return rows[owned], cols[owned]


def snap_to_edges(image: np.ndarray, mask: np.ndarray, scale: float) -> np.ndarray:
    """One-off :meth:`EdgeSnapper.snap` (prepare an :class:`EdgeSnapper` once to snap several masks)."""
    return EdgeSnapper(image, scale).snap(mask)
