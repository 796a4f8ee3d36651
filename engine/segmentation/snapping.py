"""Snap a segmenter's mask to the object's real edge at full resolution.

A segmenter answers at a reduced working size (the built-in one at 512 pixels a side, SAM at 1024),
so its outline, brought up to the image, is only as precise as one working pixel: several image
pixels on a large picture. Within that uncertainty the object's edge is where the colour changes.
In a narrow band around the outline each pixel is placed on the colour line between the local
object colour F (the mask's sure inside nearby) and the local ground colour B (the sure outside
nearby), I = a F + (1 - a) B as in closed-form matting (Levin et al. 2008, Eq. 1): it belongs to
the object when a > 1/2. Local means over a window a few times the band, a 3 x 3 median against the
canvas grain and a small blur of a keep the decision smooth; where F and B are too alike to tell
(textured or low-contrast edges) the segmenter's own outline stays.
"""
from __future__ import annotations

import cv2
import numpy as np

from models.influence import mask_bbox

#: The band is this many working pixels either side of the segmenter's outline (at least MIN_BAND image pixels).
BAND_WORKING_PIXELS = 1.5
MIN_BAND = 2.0
#: The local colour means are taken over a window this many bands wide around each pixel.
WINDOW_BANDS = 3.0
#: Below this colour separation (RGB, 0-255) between F and B the edge is not snapped.
MIN_SEPARATION = 24.0
#: The blur (pixels) of the per-pixel colour-line position before it is thresholded.
SMOOTHING = 0.8


def snap_to_edges(image: np.ndarray, mask: np.ndarray, scale: float) -> np.ndarray:
    """``mask`` (H, W) bool with its outline moved onto the strongest nearby colour edge of ``image``
    (H, W, 3) uint8; ``scale`` is the segmenter's working size over the image's (<= 1)."""
    bbox = mask_bbox(mask)
    if bbox is None or mask.all():
        return mask
    band = max(MIN_BAND, BAND_WORKING_PIXELS / max(scale, 1e-6))
    radius = int(np.ceil(WINDOW_BANDS * band))
    margin = int(np.ceil(band)) + radius + 2
    height, width = mask.shape
    x0, y0 = max(0, bbox[0] - margin), max(0, bbox[1] - margin)
    x1, y1 = min(width, bbox[2] + margin), min(height, bbox[3] + margin)
    inside = mask[y0:y1, x0:x1]
    crop = cv2.medianBlur(np.ascontiguousarray(image[y0:y1, x0:x1]), 3).astype(np.float32)
    depth = cv2.distanceTransform(inside.view(np.uint8), cv2.DIST_L2, 3)
    away = cv2.distanceTransform((~inside).view(np.uint8), cv2.DIST_L2, 3)
    sure_object, sure_ground = depth > band, away > band
    uncertain = ~sure_object & ~sure_ground
    if not sure_object.any() or not sure_ground.any():
        return mask
    size = (2 * radius + 1, 2 * radius + 1)

    def local_mean(where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = cv2.boxFilter(where.astype(np.float32), -1, size, normalize=True, borderType=cv2.BORDER_CONSTANT)
        total = cv2.boxFilter(crop * where[..., None], -1, size, normalize=True, borderType=cv2.BORDER_CONSTANT)
        return total / np.maximum(weight, 1e-6)[..., None], weight > 0

    object_colour, object_known = local_mean(sure_object)
    ground_colour, ground_known = local_mean(sure_ground)
    line = object_colour - ground_colour
    length = (line ** 2).sum(axis=2)
    position = ((crop - ground_colour) * line).sum(axis=2) / np.maximum(length, 1e-6)
    position = cv2.GaussianBlur(np.clip(position, -0.5, 1.5).astype(np.float32), (0, 0), SMOOTHING)
    decided = uncertain & object_known & ground_known & (length > MIN_SEPARATION ** 2)
    snapped = inside.copy()
    snapped[decided] = position[decided] > 0.5
    # Only what stays joined to the sure inside is the object.
    count, labels = cv2.connectedComponents(snapped.view(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[sure_object])] = True
    keep[0] = False
    snapped = keep[labels] | sure_object
    result = mask.copy()
    result[y0:y1, x0:x1] = snapped
    return result
