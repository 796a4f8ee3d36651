"""Fill the area a region vacates with the painting's own pixels.

Two fills, chosen by name:

- ``"patch"`` (the default): coherent multi-scale patch synthesis. The hole's surroundings are
  reduced to at most :data:`WORK_SIDE` pixels a side; there the hole is completed so that every
  patch over it resembles a patch of the known painting (Wexler et al. 2007's EM completion, with
  PatchMatch's search: ``engine.fill_synthesis``, ``engine.fill_patchmatch``). The resulting
  nearest-neighbour field is then applied to the full-resolution painting, only at the hole's
  pixels (``engine.fill_apply``): the fill is made of the painting's own strokes, at full detail.
- ``"shift-map"``: the fill used before (a few whole shifted copies chosen per pixel,
  ``engine.fill_shiftmap``), kept for comparison (``simnet eval-fill``).

The caller may name pixels that must never be copied (``forbidden``: the moved region and what is
left of it); the hole itself is never read either. Images (H, W, C) uint8/uint16, masks boolean.
"""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from engine.area_masks import area_any, area_share_above
from engine.fill_apply import apply_field
from engine.fill_synthesis import fits_a_patch, smooth_fill, synthesize
from engine.imageio import to_float_rgb
from engine.locality import context_box, place_over
from engine.pixel_views import put_pixels
from models.influence import mask_bbox

FillMethod = Literal["patch", "shift-map"]
FILL_METHODS: tuple[str, ...] = ("patch", "shift-map")

#: The synthesis works on the hole's surroundings reduced to at most this many pixels a side.
WORK_SIDE = 200
#: How much known painting around the hole is searched, as a share of the hole's size.
CONTEXT_SHARE = 0.75

Box = tuple[int, int, int, int]


def fill_hole(image: np.ndarray, hole: np.ndarray, *, seed: int = 0, forbidden: np.ndarray | None = None,
              method: FillMethod = "patch") -> np.ndarray:
    """``image`` with the pixels of ``hole`` replaced by the painting's own pixels from around them.

    Only hole pixels change; pixels of ``hole`` and ``forbidden`` are never copied. Deterministic for a seed.
    """
    height, width = hole.shape
    return fill_window(image, hole, (0, 0, width, height), seed=seed, forbidden=forbidden, method=method)


def fill_window(image: np.ndarray, hole: np.ndarray, box: Box, *, seed: int = 0, forbidden: np.ndarray | None = None,
                method: FillMethod = "patch", covered: np.ndarray | None = None) -> np.ndarray:
    """``image[box]`` (box = x0, y0, x1, y1) with the pixels of ``hole`` (a mask over the box) filled
    as :func:`fill_hole` would; the painting around the box is read too. ``forbidden`` (a mask over
    the box) names pixels never to copy from; the ``"shift-map"`` fill, kept as it was, knows no
    such pixels and only avoids the hole. Works on the hole's surroundings only, so its cost
    follows the hole, not the canvas. ``covered`` (a mask over the box) names hole pixels that will
    never be seen (an opaque layer goes over them): the patch fill completes the hole as a whole but
    computes and writes only the others (their values are the same as without it); they keep the
    image's values."""
    if method == "shift-map":
        from engine.fill_shiftmap import fill_window as shift_map_window
        return shift_map_window(image, hole, box, seed=seed)
    if method != "patch":
        raise ValueError(f"unknown fill {method!r}; expected one of {', '.join(FILL_METHODS)}")
    bx0, by0, bx1, by1 = box
    result = image[by0:by1, bx0:bx1].copy()
    bbox = mask_bbox(hole)
    if bbox is None:
        return result
    hole_bbox = (bbox[0] + bx0, bbox[1] + by0, bbox[2] + bx0, bbox[3] + by0)
    around = context_box(hole_bbox, CONTEXT_SHARE, image.shape)
    x0, y0, x1, y1 = around
    context = image[y0:y1, x0:x1]
    if context.ndim == 2:
        context = context[..., None]
    hole_context = place_over(hole, box, around)
    readable = ~hole_context
    if forbidden is not None:
        readable &= ~place_over(forbidden, box, around)
    scale = min(1.0, WORK_SIDE / max(context.shape[:2]))
    size = (max(1, round(context.shape[1] * scale)), max(1, round(context.shape[0] * scale)))
    work = to_float_rgb(cv2.resize(context, size, interpolation=cv2.INTER_AREA))
    # What INTER_AREA makes of the masks (any hole pixel; nothing but readable ones), read near the hole only.
    unknown = area_any(hole_context, size)
    readable_work = area_share_above(readable, size, 0.999)
    if not (readable_work & ~unknown).any():
        return result  # nothing known to copy from
    shown = hole if covered is None else hole & ~covered
    if fits_a_patch(unknown, readable_work):
        synthesis = synthesize(work, unknown, readable_work, np.random.default_rng(seed))
        local = (hole_bbox[0] - x0, hole_bbox[1] - y0, hole_bbox[2] - x0, hole_bbox[3] - y0)
        skipped = None if covered is None else place_over(covered, box, around)
        _, _, values = apply_field(context, hole_context, readable, synthesis, local, skipped, seed=seed)
    else:  # too little painting around the hole for one whole patch: a smooth fill from what there is
        values = smooth_fill(context.astype(np.float32), ~readable)[place_over(shown, box, around)]
    top = float(np.iinfo(image.dtype).max)
    filled = np.clip(np.rint(values), 0, top).astype(image.dtype)
    target = result if result.ndim == 3 else result[..., None]
    # apply_field returns the hole's pixels in row order, as a boolean mask over the box takes them.
    put_pixels(target, shown, filled)
    return result
