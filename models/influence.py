"""An edit's area of influence: how far outside its two masks it may change the painting.

Both the synthetic edits (training, evaluation) and the network's attention (Eq. 4's map 0, see
``models.transport``) use the same geometry, so that the network and its training data agree on
where an edit acts. Lengths scale with the region's size, so an edit looks the same at any
resolution. Masks are boolean (H, W) arrays, pixel centres at integers; NumPy/OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np

#: The deformation is applied in full up to this distance (times the region's size) outside the region...
FADE_INNER = 0.15
#: ...and fades to the identity over this further distance (times the region's size)...
FADE_OUTER = 0.35
#: ...or over this many times the edit's reach, if that is longer. A fade of width W carrying a
#: displacement d has slope up to 1.5 d / W (smoothstep); at 1 or more the backward map folds over
#: itself and smears the surroundings into streaks. Moves and growths of about a region's size
#: are common edits, so the fade widens with them instead.
FOLD_GUARD = 1.8
#: The reach is measured on masks reduced to at most this many pixels a side.
REACH_MAX_SIDE = 512


def region_size(mask: np.ndarray) -> float:
    """The side of a square with the mask's area: the length scale of an edit (at least 1 pixel)."""
    return max(1.0, float(np.sqrt(np.count_nonzero(mask))))


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1), end-exclusive, of the true pixels; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def edit_reach(source_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """How far the edit carries the region's outline, in pixels: the Hausdorff distance of the masks.

    Large masks are first reduced to :data:`REACH_MAX_SIDE` (their coverage thresholded at one half),
    which is precise to a fraction of a percent of their bounding box.
    """
    box = mask_bbox(source_mask | target_mask)
    if box is None or not source_mask.any() or not target_mask.any():
        return 0.0
    x0, y0, x1, y1 = box  # every pixel of both masks, so distances inside the box are exact
    source_mask, target_mask = source_mask[y0:y1, x0:x1], target_mask[y0:y1, x0:x1]
    scale = min(1.0, REACH_MAX_SIDE / max(source_mask.shape))
    if scale < 1.0:
        size = (max(1, round(source_mask.shape[1] * scale)), max(1, round(source_mask.shape[0] * scale)))
        reduce = lambda mask: cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.5  # noqa: E731
        small_source, small_target = reduce(source_mask), reduce(target_mask)
        if small_source.any() and small_target.any():
            source_mask, target_mask = small_source, small_target
        else:
            scale = 1.0
    to_source = cv2.distanceTransform((~source_mask).astype(np.uint8), cv2.DIST_L2, 5)
    to_target = cv2.distanceTransform((~target_mask).astype(np.uint8), cv2.DIST_L2, 5)
    return max(float(to_source[target_mask].max()), float(to_target[source_mask].max())) / scale


def fade_width(source_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """Width (pixels) of the fade from the full edit to the identity; see :data:`FOLD_GUARD`."""
    return max(FADE_OUTER * region_size(source_mask | target_mask), FOLD_GUARD * edit_reach(source_mask, target_mask))


def influence_margin(source_mask: np.ndarray, target_mask: np.ndarray) -> float:
    """How far outside the two masks an edit may change pixels, in pixels."""
    return FADE_INNER * region_size(source_mask | target_mask) + fade_width(source_mask, target_mask) + 2.0


def influence_box(source_mask: np.ndarray, target_mask: np.ndarray) -> tuple[int, int, int]:
    """The square (x0, y0, side) that holds everything an edit can change.

    It is the bounding box of both masks grown by :func:`influence_margin` and made square around
    its centre. It may reach outside the image; callers pad. The model works on this square resampled
    to its working resolution, so training crops use the very same box.
    """
    box = mask_bbox(source_mask | target_mask)
    if box is None:
        raise ValueError("both masks are empty")
    x0, y0, x1, y1 = box
    margin = influence_margin(source_mask, target_mask)
    side = int(np.ceil(max(x1 - x0, y1 - y0) + 2 * margin))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return int(np.floor(cx - side / 2.0)), int(np.floor(cy - side / 2.0)), side


def fade_weight(source_mask: np.ndarray, target_mask: np.ndarray) -> np.ndarray:
    """An edit's area of influence: 1 on and near the two masks, falling smoothly to 0 (smoothstep)
    further out, over :func:`fade_width`; scale-free."""
    region = source_mask | target_mask
    size = region_size(region)
    # In place: on an 8K crop each temporary is ~100 MB, and allocating them cost more than the
    # distance transform. Same operations in the same order as 1 - (d - inner) / width, clipped,
    # then ramp^2 (3 - 2 ramp).
    ramp = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 5)
    ramp -= FADE_INNER * size
    ramp /= fade_width(source_mask, target_mask)
    np.subtract(1.0, ramp, out=ramp)
    np.clip(ramp, 0.0, 1.0, out=ramp)
    squared = ramp * ramp
    ramp *= 2.0
    np.subtract(3.0, ramp, out=ramp)
    ramp *= squared
    return ramp


def influence_envelope(source_coverage: np.ndarray, target_coverage: np.ndarray) -> np.ndarray:
    """Where an edit may act, on a working grid: 1 on and near the two masks, fading smoothly to 0
    further out (:func:`fade_weight` of the coverages thresholded at one half), float32 (S, S).

    SIM-Net's attention keeps the original wherever this is below one (Eq. 4's map 0 is one minus
    it), and the alignment fades its motion with it. The caller computes it once per edit from the
    masks it already holds; the network takes it as an input.
    """
    source, target = source_coverage > 0.5, target_coverage > 0.5
    if not (source.any() or target.any()):
        return np.zeros(source.shape, np.float32)
    return fade_weight(source, target)


def batch_envelopes(source_masks: np.ndarray, target_masks: np.ndarray) -> np.ndarray:
    """:func:`influence_envelope` of each pair of (N, 1, S, S) coverages: (N, 1, S, S) float32."""
    return np.stack([influence_envelope(source[0], target[0])[None]
                     for source, target in zip(source_masks, target_masks)]).astype(np.float32)
