"""Remove a region: its place filled from the painting around it, as the place a moved region leaves.

The region takes its rim with it (its painted outline and anti-aliased edge: the matte of
``engine.matte``, as for a move), and the whole footprint is filled from the painting around it
(``engine.fill``: the same fill a move's vacated area gets, never reading from the footprint).
Nothing farther than the reach from the region changes. This is Photoshop's Delete and Fill
(Content-Aware) and GIMP's Heal Selection; in the editor it is also what a new shape erased to
nothing asks for. No network is involved: there is no motion to find.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from engine.compose import transport_underlay
from engine.errors import EditError, MaskError
from engine.locality import box_within_reach, resolve_reach
from engine.matte import rim_shortfall
from engine.masks import check_image, check_mask
from engine.pixel_views import copy_pixels
from models.influence import mask_bbox


@dataclass
class Removal:
    """The painting without the region; ``box`` (x0, y0, x1, y1, end-exclusive) holds every changed pixel, and is
    empty when nothing changed (as an ``EditResult``'s)."""

    image: np.ndarray
    box: tuple[int, int, int, int]
    reach: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.box[2] > self.box[0] and self.box[3] > self.box[1]


def remove_region(image: np.ndarray, region: np.ndarray, *, reach: float | None = None,
                  fill: Callable[..., np.ndarray] | None = None) -> Removal:
    """``image`` ((H, W, C) or (H, W), 8- or 16-bit) with ``region`` ((H, W) mask) and its rim removed and filled.

    ``reach`` is the farthest, in pixels, that the rim and the fill may reach beyond the region (None: the
    default reach of an edit, ``engine.locality.default_reach``); ``fill`` stands in for the fill, with
    ``engine.fill.fill_window``'s signature (the editor passes the one it prepared when the region was
    selected). Raises :class:`MaskError` for an empty region or one of another size."""
    started = time.perf_counter()
    image = check_image(image)
    shape = image.shape[:2]
    region = check_mask(region, shape, "region")
    found = mask_bbox(region)
    if found is None:
        raise MaskError("the region is empty: select a region first")
    x0, y0, x1, y1 = found
    automatic = reach is None
    try:
        reach = resolve_reach(region[y0:y1, x0:x1], region[y0:y1, x0:x1], reach, max(shape))
    except ValueError as error:
        raise EditError(str(error)) from None
    shortfall = None
    if automatic:  # a selection short of its object's edge: the default reach takes the edge in too
        shortfall = rim_shortfall(image, region[y0:y1, x0:x1], found)
        reach += shortfall
    box = box_within_reach(found, reach, shape)
    under = transport_underlay(image, region, np.zeros_like(region), reach, box, fill, shortfall)
    result = image.copy()
    bx0, by0, bx1, by1 = box
    copy_pixels(result[by0:by1, bx0:bx1], under.patch, under.hole)
    if np.array_equal(result[by0:by1, bx0:bx1], image[by0:by1, bx0:bx1]):
        box = (0, 0, 0, 0)  # nothing around the region to fill from (it is the whole painting)
    return Removal(result, box, reach, {"total": time.perf_counter() - started})
