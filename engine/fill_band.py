"""The first pixels inside the hole, matched again at full resolution: PatchMatch in a band along its outline.

The patch field is found at work resolution (``engine.fill_synthesis``: a work pixel is 1.5-8 painting
pixels), so what runs on across the hole's outline is the painting's coarse layout; its fine detail (the edge
of a stroke, the grain) is copied from wherever the coarse match put it. PatchMatch filling the same hole
matches its patches at full resolution against the known ring, and on BSDS500 val its fill co-varies more
with the truth within 8 px of the outline (docs/fill-notes.md). So here, within BAND_DEPTH pixels of the
outline, each hole pixel's patch (the painting around it and the fill so far) is matched again at full
resolution, among the patches lying wholly in readable painting within SOURCE_REACH pixels of the hole
(PatchMatch: Barnes et al. 2009, started from the work field's matches), and the band takes the vote of
those matches (each pixel the mean of what the matched patches covering it say: Wexler et al. 2007's step),
fading into the fill over the band's depth, after the mirror's pull (which it replaces where its matches
continue the painting at the outline, and leaves where they do not: a spot the outline cuts, found nowhere
else). The cost follows the band and its surroundings, not the hole: about 0.1 s for a 5 % hole at 4096x2160;
a band longer than MATCHED_PIXELS (a ragged outline) is matched on a lattice.

Chosen on BSDS500 val (30 objects, ``tools/tune_fill.py``): at 1.5x, 16.035 dB / SSIM 0.351 / texture 0.779 /
seam 0.779 without it, 16.067 / 0.358 / 0.755 / 0.672 with it; at the photos' size 15.922 / 0.305 / 0.757 /
0.756 and 15.98 / 0.314 / 0.73 / 0.64.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.fill_patchmatch import JUMPS, Field, Neighbours, describe, improve, patch_basis, refresh_costs
from engine.fill_reads import value_top, work_image_at
from engine.fill_synthesis import Synthesis

#: The band: hole pixels at most this deep (full pixels, from the outline); the matches' weight falls from 1 at
#: the first pixel to 0 at this depth. On BSDS500 val (30 objects at 1.5x) 8 px; 12 px scored 0.003 more SSIM
#: but kept less texture (0.742 against 0.758), 5 px half the gain.
BAND_DEPTH = 8.0
#: Patches are 2 * PATCH_RADIUS + 1 pixels a side (3: 7 x 7; 2 and 5 scored a little lower).
PATCH_RADIUS = 3
#: Rounds of propagation and random search (on val 2 scored 0.0005 SSIM lower, 4 the same).
SWEEPS = 3
#: Patches are compared by their projections on this many principal components (6 to 16 scored the same on val).
COMPONENTS = 6
#: Source patches lie within this many pixels of the hole (16 and 32 scored as well as 64 or the whole context on
#: val, and cost far less on a large painting: the band continues what is just outside it).
SOURCE_REACH = 16.0
#: At most about this many band pixels are matched; a larger band is matched on a lattice (see refine_band).
MATCHED_PIXELS = 15_000
#: The hole pixels the band's patches read: those at most this deep.
BAND_REACH = BAND_DEPTH + PATCH_RADIUS + 1
#: A match is trusted as far as it continues the painting at the outline: the painting at the known pixel nearest
#: the target, shifted by the match, is that pixel within OUTLINE_MISS of the value range (in full; not at all from
#: twice that: something the outline cuts that no patch of the painting holds, a spot, is left to the mirror).
OUTLINE_MISS = 0.2  # 0.1 and 0 (trust every match) scored within 0.0004 SSIM on val
#: A band pixel takes the mean of what the matches of the targets within this many pixels say (the whole 7 x 7
#: patches scored the same on val, at twice the cost; 1 px scored 0.0007 SSIM lower).
VOTE_RADIUS = 2
#: The crop is described in tiles this many pixels a side, only those holding a source or a target (the hole's
#: middle, most of a large hole's box, is skipped).
TILE = 64


def refine_band(context: np.ndarray, hole: np.ndarray, readable: np.ndarray, synthesis: Synthesis,
                box: tuple[int, int, int, int], ys: np.ndarray, xs: np.ndarray, values: np.ndarray,
                rng: np.random.Generator) -> None:
    """Match the band along the outline of ``hole`` (whose bounding box in ``context`` is ``box``: x0, y0, x1, y1)
    again at full resolution; ``values`` ((n, C) float32, the fill at the hole pixels (ys, xs) of ``context``, in
    its units) are changed in place where they lie in the band. ``readable``: the painting that may be copied;
    ``synthesis``: the work field, where the matches start. The band's patches read the fill at (ys, xs): every
    hole pixel within :data:`BAND_REACH` of the outline must be among them (the others are described by the work
    image), and then a pixel's value does not depend on which others are computed."""
    if ys.size == 0:
        return
    height, width = hole.shape
    margin = int(np.ceil(SOURCE_REACH)) + 2 * PATCH_RADIUS + 2
    y0, y1 = max(0, box[1] - margin), min(height, box[3] + margin)
    x0, x1 = max(0, box[0] - margin), min(width, box[2] + margin)
    crop_hole = np.ascontiguousarray(hole[y0:y1, x0:x1])
    depth = cv2.distanceTransform(crop_hole.view(np.uint8), cv2.DIST_L2, 3)
    side = 2 * PATCH_RADIUS + 1
    crop_readable = np.ascontiguousarray(readable[y0:y1, x0:x1])
    # Where a patch would read painting that must not be copied (what is left of the moved region, kept beside
    # the hole), it would be matched to look like it: the band leaves those pixels to the fill.
    kept_out = cv2.dilate((~crop_hole & ~crop_readable).view(np.uint8), np.ones((side, side), np.uint8)) > 0
    band = np.flatnonzero((depth[ys - y0, xs - x0] <= BAND_DEPTH) & ~kept_out[ys - y0, xs - x0])
    by, bx = (ys[band] - y0).astype(np.int64), (xs[band] - x0).astype(np.int64)
    # A long, ragged outline on a large painting makes a large band: then only the pixels of a lattice are matched,
    # and every band pixel takes the vote of the lattice's matches around it (the cost stays bounded).
    stride = max(1, int(np.ceil(np.sqrt(band.size / MATCHED_PIXELS))))
    on_lattice = ((by + y0) % stride == 0) & ((bx + x0) % stride == 0)
    allowed = cv2.erode(crop_readable.view(np.uint8), np.ones((side, side), np.uint8),
                        borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    allowed &= cv2.distanceTransform((~crop_hole).view(np.uint8), cv2.DIST_L2, 3) <= SOURCE_REACH
    if band.size == 0 or not allowed.any():
        return
    pixels = np.ascontiguousarray(context[y0:y1, x0:x1]).reshape(y1 - y0, x1 - x0, -1)
    read = np.flatnonzero(depth[ys - y0, xs - x0] <= BAND_REACH)  # the fill the band's patches read
    missing = crop_hole & (depth <= BAND_REACH)
    missing[ys[read] - y0, xs[read] - x0] = False
    ty, tx = by[on_lattice], bx[on_lattice]
    targets = np.zeros_like(crop_hole)
    targets[ty, tx] = True
    # Only the tiles holding a source or a target are read: a large hole's middle, most of the crop, is not.
    tiles = _busy_tiles(allowed | targets)
    image = _described_image(pixels, missing, synthesis, (y0, y1, x0, x1), hole.shape, tiles)
    image[ys[read] - y0, xs[read] - x0] = values[read] / value_top(context)
    basis = patch_basis(image, allowed, PATCH_RADIUS, rng)[..., :COMPONENTS]
    # One description serves both: the sources lie outside the hole, which the targets' patches alone read.
    source = _describe_where(image, basis, tiles)
    target = source[ty, tx]
    field = Field(ty, tx, *_work_matches(synthesis, ty + y0, tx + x0, hole.shape, (y0, x0)),
                  np.full(ty.size, np.inf, np.float32))
    refresh_costs(field, target, source, allowed)
    neighbours = Neighbours.of(field, field.index_map(allowed.shape), jumps=tuple(stride * j for j in JUMPS))
    improve(field, neighbours, target, source, allowed, rng, SWEEPS)
    trust = np.isfinite(field.cost).astype(np.float32)
    if OUTLINE_MISS > 0:
        trust *= _continues_outline(pixels, crop_hole, crop_readable, field)
    voted, support = _vote(pixels, crop_readable, field, trust, by, bx, stride)
    weight = np.clip(1.0 - (depth[by, bx] - 1.0) / BAND_DEPTH, 0.0, 1.0) * support
    values[band] += weight[:, None] * (voted - values[band])


def _continues_outline(pixels: np.ndarray, crop_hole: np.ndarray, crop_readable: np.ndarray,
                       field: Field) -> np.ndarray:
    """(n,) float32 in [0, 1]: how well each target's match reads, shifted to the known pixel nearest the target,
    that pixel's value (1 within OUTLINE_MISS of the range, 0 from twice that or where it cannot be read)."""
    height, width = crop_hole.shape
    _, labels = cv2.distanceTransformWithLabels(crop_hole.view(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    known = np.flatnonzero(~crop_hole.reshape(-1))
    qy, qx = np.divmod(known[labels[field.ty, field.tx] - 1], width)
    ry, rx = field.sy + (qy - field.ty), field.sx + (qx - field.tx)
    inside = (ry >= 0) & (ry < height) & (rx >= 0) & (rx < width)
    ry, rx = np.clip(ry, 0, height - 1), np.clip(rx, 0, width - 1)
    miss = np.abs(pixels[ry, rx].astype(np.float32) - pixels[qy, qx]).reshape(ry.size, -1).mean(axis=1)
    miss /= value_top(pixels)
    trust = np.clip(2.0 - miss / OUTLINE_MISS, 0.0, 1.0)
    return np.where(inside & crop_readable[ry, rx], trust, 0.0).astype(np.float32)


def _busy_tiles(wanted: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The tiles (y0, y1, x0, x1; TILE pixels a side, clipped to the crop) holding ``wanted`` pixels, neighbours in a
    row of tiles joined into one rectangle (fewer, larger descriptions: the same values)."""
    height, width = wanted.shape
    busy = np.zeros((-(-height // TILE), -(-width // TILE)), bool)
    ys, xs = np.nonzero(wanted)
    busy[ys // TILE, xs // TILE] = True
    framed = np.pad(busy, ((0, 0), (1, 1))).astype(np.int8)
    starts, ends = np.nonzero(np.diff(framed, axis=1) == 1), np.nonzero(np.diff(framed, axis=1) == -1)
    return [(row * TILE, min(height, (row + 1) * TILE), first * TILE, min(width, last * TILE))
            for row, first, last in zip(starts[0], starts[1], ends[1])]


def _describe_where(image: np.ndarray, basis: np.ndarray, tiles: list[tuple[int, int, int, int]]) -> np.ndarray:
    """:func:`describe` of ``image`` at ``tiles`` ((H, W, k); zero elsewhere): each tile described with the patch
    radius of real pixels around it, so it reads what the whole image's description does."""
    radius = basis.shape[0] // 2
    height, width = image.shape[:2]
    out = np.zeros((height, width, basis.shape[3]), np.float32)
    for y0, y1, x0, x1 in tiles:
        ry0, rx0 = max(0, y0 - radius), max(0, x0 - radius)
        ry1, rx1 = min(height, y1 + radius), min(width, x1 + radius)
        described = describe(image[ry0:ry1, rx0:rx1], basis)
        out[y0:y1, x0:x1] = described[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]
    return out


def _described_image(pixels: np.ndarray, missing: np.ndarray, synthesis: Synthesis, crop: tuple[int, int, int, int],
                     shape: tuple[int, int], tiles: list[tuple[int, int, int, int]]) -> np.ndarray:
    """The crop as float32 in [0, 1] at ``tiles`` and the patch radius around them (0 elsewhere: never read); its
    ``missing`` pixels (hole pixels the fill does not compute: under a layer) from the work image."""
    image = np.zeros(pixels.shape, np.float32)
    top = value_top(pixels)
    height, width = missing.shape
    for ty0, ty1, tx0, tx1 in tiles:
        ry0, rx0 = max(0, ty0 - PATCH_RADIUS), max(0, tx0 - PATCH_RADIUS)
        ry1, rx1 = min(height, ty1 + PATCH_RADIUS), min(width, tx1 + PATCH_RADIUS)
        image[ry0:ry1, rx0:rx1] = pixels[ry0:ry1, rx0:rx1].astype(np.float32) / top
    if not missing.any():
        return image
    y0, y1, x0, x1 = crop
    my, mx = np.nonzero(missing)
    work_h, work_w = synthesis.weight.shape
    image[my, mx] = work_image_at(synthesis, my + y0, mx + x0, (work_h / shape[0], work_w / shape[1]), image.shape[2])
    return image


def _work_matches(synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int],
                  origin: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Where the work field copies the full-resolution pixels (ys, xs) from, in crop coordinates (sy, sx)."""
    work_h, work_w = synthesis.weight.shape
    scale_y, scale_x = work_h / shape[0], work_w / shape[1]
    wy = np.clip(np.rint((ys + 0.5) * scale_y - 0.5).astype(np.int64), 0, work_h - 1)
    wx = np.clip(np.rint((xs + 0.5) * scale_x - 0.5).astype(np.int64), 0, work_w - 1)
    sy = ys - origin[0] + np.rint(synthesis.offset[wy, wx, 0] / scale_y).astype(np.int64)
    sx = xs - origin[1] + np.rint(synthesis.offset[wy, wx, 1] / scale_x).astype(np.int64)
    return sy, sx


def _vote(pixels: np.ndarray, readable: np.ndarray, field: Field, trust: np.ndarray, by: np.ndarray, bx: np.ndarray,
          stride: int) -> tuple[np.ndarray, np.ndarray]:
    """The vote at the band pixels (by, bx): the mean of what the matched patches of the targets within
    VOTE_RADIUS pixels (or ``stride`` - 1, on a coarser lattice) say each pixel is, weighted by the matches'
    ``trust`` ((n, C) float32, in the painting's units), and that trust's mean over the targets there ((n,)
    float32, 0 where none votes). A match read beyond its patch (on a lattice) reads ``readable`` painting only."""
    height, width = readable.shape
    receiver_of = np.full(readable.shape, -1, np.int64)
    receiver_of[by, bx] = np.arange(by.size)
    channels = pixels.shape[2]
    flat = pixels.reshape(-1, channels)  # read as float32 where it is multiplied by the trust
    summed = np.zeros((by.size, channels), np.float64)
    weights = np.zeros(by.size, np.float64)
    count = np.zeros(by.size, np.float64)
    reach = max(VOTE_RADIUS, stride - 1)  # every band pixel has a lattice target this near
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            py, px = field.ty + dy, field.tx + dx
            inside = np.isfinite(field.cost) & (py >= 0) & (py < height) & (px >= 0) & (px < width)
            receiver = np.where(inside, receiver_of[np.clip(py, 0, height - 1), np.clip(px, 0, width - 1)], -1)
            if max(abs(dy), abs(dx)) > PATCH_RADIUS:
                qy, qx = field.sy + dy, field.sx + dx
                readable_there = (qy >= 0) & (qy < height) & (qx >= 0) & (qx < width)
                readable_there[readable_there] = readable[qy[readable_there], qx[readable_there]]
                receiver = np.where(readable_there, receiver, -1)
            use = np.flatnonzero(receiver >= 0)
            source = (field.sy[use] + dy) * width + field.sx[use] + dx
            who, trusted = receiver[use], trust[use]
            for channel in range(channels):
                summed[:, channel] += np.bincount(who, flat[source, channel] * trusted, by.size)
            weights += np.bincount(who, trusted, by.size)
            count += np.bincount(who, None, by.size)
    voted = (summed / np.maximum(weights, 1e-12)[:, None]).astype(np.float32)
    return voted, (weights / np.maximum(count, 1.0)).astype(np.float32)
