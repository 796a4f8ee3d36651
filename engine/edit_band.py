"""The outline of the area an edit may change, for the editor to draw while the user sets the reach.

``engine.locality`` defines the area (the region, the new shape and a band of width ``reach``
around them); this module resolves the reach (the user's, or the default) and traces that area's
boundary inside its bounding box only, so it stays cheap on 8K canvases.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.locality import default_reach, edit_area, edit_box, resolve_reach
from engine.masks import outline_polygons
from engine.matte import rim_shortfall
from models.influence import mask_bbox


@dataclass(frozen=True)
class EditBand:
    """Where an edit of ``source`` into ``target`` may change the painting."""

    #: The band's width in pixels: the user's reach, or the default when the user chose Auto.
    reach: float
    #: What Auto means for these masks (``engine.locality.default_reach``), in pixels.
    default_reach: float
    #: The area's boundary: closed polygons of (x, y) image coordinates, (N, 2) float arrays.
    outline: list[np.ndarray] = field(default_factory=list)


def edit_band(source_mask: np.ndarray, target_mask: np.ndarray, reach: float | None,
              image: np.ndarray | None = None) -> EditBand:
    """The band for ``reach`` pixels (None: the default reach) around both masks. With the painting
    (``image``) the default reach is the edit's own: grown by how far the region stops short of its
    object's edge (``engine.matte.rim_shortfall``)."""
    automatic = default_reach(source_mask, target_mask, max(source_mask.shape[:2]))
    found = mask_bbox(source_mask) if image is not None else None
    if found is not None:
        x0, y0, x1, y1 = found
        automatic += rim_shortfall(image, source_mask[y0:y1, x0:x1], found)
    resolved = automatic if reach is None else resolve_reach(source_mask, target_mask, reach)
    box = edit_box(source_mask, target_mask, resolved)
    if box is None:
        return EditBand(resolved, automatic)
    x0, y0, x1, y1 = box
    # The area within the box only (the box holds all of it): no canvas-sized array per update.
    area = edit_area(source_mask[y0:y1, x0:x1], target_mask[y0:y1, x0:x1], resolved)
    # One pixel of margin, so an area that touches the box's edge still gets a closed outline.
    padded = np.pad(area, 1)
    outline = [polygon + (x0 - 1, y0 - 1) for polygon in outline_polygons(padded)]
    return EditBand(resolved, automatic, outline)
