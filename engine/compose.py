"""Compose an edit at full resolution: the region in its new shape, a narrow transition, the rest untouched.

The aligned motion (``models.refinement.align_motion``) says, for every pixel of the new shape,
where its content comes from. Everything the edit may change lies within ``reach`` pixels of the
region or its new shape (``engine.locality``); every other pixel is copied bit for bit. Inside
that area the painting is composed in one of two ways, whichever keeps the map free of folds:

- **Bend** (the motion is small next to the reach): one backward map z + w(z) m(z), with w = 1 on
  both masks and a smoothstep to 0 at the reach. The surroundings bend smoothly; the area the
  region leaves is filled by the neighbouring painting carried along. Used only when the map's
  Jacobian determinant stays above :data:`BEND_MIN_JACOBIAN` everywhere, i.e. nothing folds or
  is squeezed into streaks.
- **Transport** (a move larger than the reach can absorb): the region is carried by z + m(z) as a
  layer, opaque on the new shape but for a thin rim, fading out over the reach (at most the
  default reach: a wider feather would drag the old surroundings along); underneath, the
  area the region vacated is filled with shifted copies of the painting around it
  (``engine.fill``). The layer's map is an affine plus a fold-checked non-rigid part, so it never
  folds either.

Both read the artwork's own pixels only, so the painting's strokes survive.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from engine.fill import fill_window
from engine.locality import distance_near, distance_outside, edit_box, smoothstep_falloff
from engine.matte import Footprint, rim_width, vacated_footprint
from engine.pixel_views import copy_pixels
from engine.render import render_cv2, render_torch, sample_motion
from models.influence import mask_bbox

#: The bend is used only when its backward map's Jacobian determinant stays above this.
BEND_MIN_JACOBIAN = 0.35
#: The fold check runs on the box reduced to at most this many pixels a side.
CHECK_SIDE = 256
#: The moved layer fades out over this many pixels outside the new shape (on top of its carried matte).
LAYER_FEATHER = 1.5
#: :func:`layer_window` checks where the layer's map reads from every this many pixels.
WINDOW_STEP = 8

Square = tuple[int, int, int]
Box = tuple[int, int, int, int]


@dataclass
class Composition:
    """The composed box and what the caller needs to paste it."""

    box: Box
    patch: np.ndarray  # the box's new pixels
    warped_mask: np.ndarray  # where the region now is, inside the box
    changed: np.ndarray  # pixels of the box that may differ from the input
    mode: str  # "bend" or "transport"


def min_jacobian(dx: np.ndarray, dy: np.ndarray, spacing: float) -> float:
    """The smallest Jacobian determinant of the backward map z + (dx, dy) sampled every ``spacing`` pixels."""
    if dx.shape[0] < 2 or dx.shape[1] < 2:
        return 1.0
    ddx_dy, ddx_dx = np.gradient(dx, spacing)
    ddy_dy, ddy_dx = np.gradient(dy, spacing)
    return float(((1.0 + ddx_dx) * (1.0 + ddy_dy) - ddx_dy * ddy_dx).min())


def bend_jacobian(source: np.ndarray, target: np.ndarray, motion: np.ndarray, square: Square, box: Box,
                  reach: float) -> float:
    """The smallest Jacobian determinant of the bend's map z + w(z) m(z) over ``box`` (checked reduced)."""
    bx0, by0, bx1, by1 = box
    step = max(1, int(np.ceil(max(bx1 - bx0, by1 - by0) / CHECK_SIDE)))
    both = source[by0:by1:step, bx0:bx1:step] | target[by0:by1:step, bx0:bx1:step]
    weight = smoothstep_falloff(distance_outside(both) * step, reach)
    dx, dy = sample_motion(motion, square, np.arange(bx0, bx1, step, dtype=np.float32),
                           np.arange(by0, by1, step, dtype=np.float32))
    return min_jacobian(weight * dx, weight * dy, float(step))


def layer_window(motion: np.ndarray, square: Square, box: Box, footprint_box: Box, target_box: np.ndarray) -> Box:
    """The part of ``box`` where a transported layer can show: the new shape (``target_box``, a mask
    over the box) grown by the layer's feather, and every pixel whose backward map reads from
    ``footprint_box`` (where the matte lives). The map is checked every :data:`WINDOW_STEP` pixels,
    and a cell counts when its sample lands within :data:`WINDOW_STEP` x the map's stretch of the
    footprint's box, so a smooth map cannot slip a reading pixel between the checks."""
    bx0, by0, bx1, by1 = box
    xs = np.unique(np.append(np.arange(bx0, bx1, WINDOW_STEP), bx1 - 1)).astype(np.float32)
    ys = np.unique(np.append(np.arange(by0, by1, WINDOW_STEP), by1 - 1)).astype(np.float32)
    dx, dy = sample_motion(motion, square, xs, ys)
    read_x, read_y = xs[None, :] + dx, ys[:, None] + dy
    stretch = 1.0
    if dx.shape[0] > 1 and dx.shape[1] > 1:
        spacing = (np.diff(xs)[None, :], np.diff(ys)[:, None])
        stretch = float(max(np.abs(np.diff(read_x, axis=1) / spacing[0]).max(),
                            np.abs(np.diff(read_y, axis=0) / spacing[1]).max(),
                            np.abs(np.diff(read_x, axis=0) / spacing[1]).max(),
                            np.abs(np.diff(read_y, axis=1) / spacing[0]).max(), 1.0))
    slack = WINDOW_STEP * stretch + 2.0
    fx0, fy0, fx1, fy1 = footprint_box
    reads = ((read_x >= fx0 - slack) & (read_x <= fx1 + slack) & (read_y >= fy0 - slack) & (read_y <= fy1 + slack))
    boxes = []
    rows, columns = np.nonzero(reads)
    if rows.size:
        margin = WINDOW_STEP + 1
        boxes.append((int(xs[columns.min()]) - margin, int(ys[rows.min()]) - margin,
                      int(xs[columns.max()]) + margin + 1, int(ys[rows.max()]) + margin + 1))
    found = mask_bbox(target_box)
    if found is not None:
        grow = int(np.ceil(LAYER_FEATHER)) + 1
        boxes.append((found[0] + bx0 - grow, found[1] + by0 - grow, found[2] + bx0 + grow, found[3] + by0 + grow))
    if not boxes:
        return (bx0, by0, bx0, by0)
    return (max(bx0, min(b[0] for b in boxes)), max(by0, min(b[1] for b in boxes)),
            min(bx1, max(b[2] for b in boxes)), min(by1, max(b[3] for b in boxes)))


@dataclass
class Underlay:
    """What the transport puts under the moved layer, all of it independent of the motion: the
    region's footprint and matte, the distances to both masks within the reach, and the painting
    over the box with the vacated area filled. An edit can therefore make it while the motion is
    still being found (``engine.manipulator``)."""

    footprint: Footprint
    matte: np.ndarray  # the footprint's matte over the box
    to_target: np.ndarray  # distance to the new shape, within the reach (engine.locality.distance_near)
    area: np.ndarray  # within the reach of either mask: all the edit may change
    vacated: np.ndarray  # the footprint's vacated area over the box
    hole: np.ndarray  # what the fill filled: the vacated area within the reach
    patch: np.ndarray  # image[box] with the hole filled (compose paints the layer over it: use it once)


def transport_underlay(image: np.ndarray | Callable[[], np.ndarray], source: np.ndarray, target: np.ndarray,
                       reach: float, box: Box, fill: Callable[..., np.ndarray] | None = None,
                       shortfall: float | None = None) -> Underlay:
    """The :class:`Underlay` of a transport over ``box`` (see :func:`compose` for the arguments).
    ``image`` may also be a callable that gives the pixels (an image still being decoded): the
    masks' part of the work is done before it is called. ``shortfall``: how far the source stops short of its
    object's edge (``engine.matte.rim_shortfall``) when the caller has it already."""
    bx0, by0, bx1, by1 = box
    source_box, target_box = source[by0:by1, bx0:bx1], target[by0:by1, bx0:bx1]
    # Each distance is needed within the reach only (a far move's two masks lie far apart in the box).
    to_target, to_source = distance_near(target_box, reach), distance_near(source_box, reach)
    area = np.minimum(to_source, to_target) <= reach  # the distance to the union of the two masks
    image = image() if callable(image) else image
    # The region's rim (its painted outline, its anti-aliased edge) belongs to it: the matte says how
    # much of each pixel around the region does (engine.matte). The layer carries the matte along
    # as its opacity; everything the matte touches is vacated, and the fill never reads from it.
    footprint = vacated_footprint(image, source_box, box, rim_width(source_box, image.shape), shortfall)
    vacated = footprint.over(box, footprint.vacated)
    # The fill reads the painting around the box too, so it gets the whole image (it crops itself).
    # The whole vacated area is its hole, also under the new shape (where the opaque layer hides it):
    # the fill then depends on the region alone, so the editor prepares it before the new shape
    # exists; nothing is copied from the old region.
    hole = vacated & area
    if fill is None:  # the opaque layer covers the new shape: its hole pixels need no fill at full resolution
        patch = fill_window(image, hole, box, forbidden=vacated, covered=target_box)
    else:
        patch = fill(image, hole, box, forbidden=vacated)
    return Underlay(footprint, footprint.over(box), to_target, area, vacated, hole, patch)


def is_bend(source: np.ndarray, target: np.ndarray, motion: np.ndarray, square: Square, box: Box,
            reach: float) -> bool:
    """Whether :func:`compose` bends the surroundings (else it transports the region as a layer)."""
    return bend_jacobian(source, target, motion, square, box, reach) >= BEND_MIN_JACOBIAN


def compose(image: np.ndarray, source: np.ndarray, target: np.ndarray, motion: np.ndarray, square: Square,
            reach: float, device: torch.device, box: Box | None = None, *,
            fill: Callable[..., np.ndarray] | None = None,
            underlay: Callable[[], Underlay] | None = None, resampling: str = "bilinear",
            bend_reach: float | None = None, shortfall: float | None = None) -> Composition:
    """The edit inside its box. ``motion`` (R, R, 2) is the backward displacement in full-resolution
    pixels on the R x R grid over ``square``; ``reach`` the transition's width in pixels; ``box``
    the edit's box (``engine.locality.edit_box``) when the caller has it already; ``fill`` fills the
    vacated area, with ``engine.fill.fill_window``'s signature (the default): the editor passes the
    fill it prepared at selection time (``engine.live_preview.FootprintFill``), ``simnet eval-fill``
    the fills it compares. ``underlay`` gives the transport's :class:`Underlay` for this box
    (e.g. one made in another thread while the motion was found); by default it is made here.
    ``resampling`` is how the artwork is read along the motion (``engine.render.RESAMPLING``). ``bend_reach``
    (at most ``reach``; None: ``reach``) is a bend's transition width, where the transport's reach also takes in
    how far short of its object's edge the region stops (``engine.shortfall``; ``shortfall``, when the caller has
    it already, goes to :func:`transport_underlay`)."""
    box = edit_box(source, target, reach) if box is None else box
    bx0, by0, bx1, by1 = box
    window = (slice(by0, by1), slice(bx0, bx1))
    image_box, source_box, target_box = image[window], source[window], target[window]
    render = render_torch if device.type == "cuda" else render_cv2
    # Everything the edit may change is exactly within the reach of either mask (engine.locality.edit_area).
    bend_reach = reach if bend_reach is None else min(bend_reach, reach)
    if is_bend(source, target, motion, square, box, bend_reach):
        to_both = distance_outside(source_box | target_box)
        area = to_both <= bend_reach
        weight = smoothstep_falloff(to_both, bend_reach)
        patch, warped, moved, _ = render(image_box, source_box, motion, square, box, device, weight,
                                         resampling=resampling)
        return Composition(box, patch, warped, moved & area, "bend")

    under = transport_underlay(image, source, target, reach, box, fill, shortfall) if underlay is None else underlay()
    # The layer is drawn only where it can land: the new shape, and wherever the map reads the matte.
    window = layer_window(motion, square, box, under.footprint.box, target_box)
    wx0, wy0, wx1, wy1 = window
    inner = (slice(wy0 - by0, wy1 - by0), slice(wx0 - bx0, wx1 - bx0))
    layer, layer_mask, _, carried = render(image_box, source_box, motion, square, box, device, None,
                                           window=window, carry=under.matte, resampling=resampling)
    # On the new shape itself the layer stays opaque, wherever the motion reads from. Just outside
    # it, a feather of LAYER_FEATHER pixels keeps the layer's own edge from turning hard where the
    # matte finds no rim (object and ground alike there).
    opacity = np.maximum(np.clip(carried, 0.0, 1.0), smoothstep_falloff(under.to_target[inner], LAYER_FEATHER))
    area, hole, patch = under.area, under.hole, under.patch
    # The layer over the fill: copied where opaque, mixed only where partly transparent (the same
    # numbers as mixing everywhere: weights 1 and 0 give each side exactly).
    under_window = patch[inner]
    copy_pixels(under_window, layer, opacity >= 1.0)
    ys, xs = np.nonzero((opacity > 0.0) & (opacity < 1.0))
    alpha = opacity[ys, xs][:, None]
    blended = alpha * layer[ys, xs].astype(np.float32) + (1.0 - alpha) * under_window[ys, xs].astype(np.float32)
    top = float(np.iinfo(image.dtype).max)
    under_window[ys, xs] = np.clip(np.rint(blended), 0, top).astype(image.dtype)
    changed = hole.copy()  # outside the window: the fill only (the hole lies within the reach)
    changed[inner] = ((opacity > 0) | (hole[inner] & (opacity < 1.0))) & area[inner]
    warped = np.zeros(source_box.shape, bool)
    warped[inner] = layer_mask & (opacity >= 0.5)
    return Composition(box, patch, warped, changed, "transport")
