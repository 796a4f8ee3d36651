"""How much of each pixel around a selected region belongs to it: the region's rim as an alpha matte.

A user's selection rarely hugs an object's outline: the painted outline stroke and the
anti-aliased edge lie just outside it. When the region moves they must move with it, and its old
place must keep none of them. Within a narrow band outside the region (:func:`rim_band`) each
pixel is judged against the painting just beyond the band, the surroundings:

1. **Colour against the surroundings.** A band pixel's colour is compared (CIELAB distance) with
   the nearest surrounding samples in space, a local, non-parametric background colour model. A
   pixel the surroundings do not explain (a dark outline on a light ground, the object's own
   colour spilling past the selection) is object. How far genuine background strays from its own
   surroundings is measured on the same painting (the next ring out), so a busy ground needs a
   larger difference than a flat one.
2. **Connected to the region.** Only such pixels joined to the region through other such pixels
   count (hysteresis: strong evidence anywhere in the joined piece), so a dark stroke of the
   ground that merely passes nearby stays put. Where the ground has the rim's own colour (a dark
   outline over a dark passage, or a busy ground full of its colour) the surroundings cannot tell;
   there the rim is continued in its commonest flat colours, no farther from the object's inside
   than it reaches elsewhere. Those colours are read from its clear pixels beyond the region and from
   the region's own outer layer where it is unlike the region's inside (the part of the outline the
   selection already holds; the object's inside is the region less that layer, so where the
   selection holds the whole outline nothing beyond it is continued: a dark ground beside a held
   outline stays put). Where the selection stops short of the outline and the object's own paint between
   them is of the ground's colour, that paint (the band pixels within BRIDGE of the region in the colour
   of its nearest edge) is the region's side of the join, and is taken between the region and the rim.
3. **A soft outer edge.** Just outside that core each pixel's alpha is its colour's position
   between the local object-rim colour and the local background colour (the colour-line model of
   Bayesian / closed-form matting, Levin et al. 2008, Eq. 1: I = a F + (1 - a) B).

Inside the region alpha is 1, beyond the band 0. The same matte is the moving layer's opacity and
the hole the fill must restore (``engine.compose``). NumPy/OpenCV only.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.imageio import to_float_rgb
from engine.locality import box_within_reach, place_over, rim_floor
from engine.mask_tools import inner_edge
from engine.sampling import sample_points
from engine.shortfall import selection_shortfall
from models.influence import mask_bbox, region_size

#: The band's width: this share of the region's size, at most the reach, and at least
#: ``engine.locality.rim_floor`` (8 px up to a 1000 px painting: a painted outline a few pixels wide, a selection that
#: stops a pixel or two short of it; growing as the square root of a larger painting's size, where an outline is
#: thicker in pixels). The default reach has the same floor.
BAND_SHARE = 0.03
#: The surroundings are sampled in a ring this wide beyond the band (share of the band, pixels at least).
RING_SHARE = 0.75
RING_MIN = 3.0
#: ...and starts this far beyond the band (share of the band, pixels at least).
RING_GAP_SHARE = 0.25
RING_GAP_MIN = 2.0
#: Each band pixel is compared with the surrounding samples in a disc (the ring's width) around the
#: sample nearest to it, taken on a grid of at most this many offsets a side.
OFFSETS_A_SIDE = 3
#: CIELAB distances: a pixel is object when the surroundings miss its colour by more than the
#: larger of this and the typical miss of genuine background ("weak")...
WEAK_DISTANCE = 10.0
#: ...and its joined piece holds a pixel missed by more than this (or by twice the typical miss): "strong".
STRONG_DISTANCE = 20.0
#: A selection that stops a pixel or two short of the outline stroke: the object's own paint between them, where the
#: ground is of its colour too, explains itself away and keeps the stroke from touching the region. Band pixels
#: within BRIDGE (pixels, at the judged scale) of the region whose colour its nearest edge pixel's matches (within
#: the weak distance) join the region's side, and are taken where they lie between it and a rim piece so joined.
BRIDGE = 2.0
#: The share of genuine background pixels whose miss counts as typical.
TYPICAL_QUANTILE = 0.95
#: The rim is continued across a ground of its own colour only when this many of its pixels are clear,
#: and then in the colours (at most MAX_MODES) shared, within the weak distance, by at least this share
#: of its clear pixels (PALETTE_SIZE of them sampled).
MIN_STROKE_PIXELS = 20
#: The region's own outer layer (pixels within LAYER_DEPTH of its edge) gives the rim's palette too where
#: the region's inside, LAYER_GAP beyond it, misses its colour: the part of the outline the selection holds.
LAYER_DEPTH, LAYER_GAP = 6.0, 2.0
MODE_SHARE = 0.25
MAX_MODES = 3
PALETTE_SIZE = 512
#: ...up to this quantile of the rim's width (the distance of its outer edge from the object's inside,
#: where it shows), and this many pixels more. Chosen on BSDS500 val (outlined objects, two draws of 27,
#: fiftieth session; quantile 0.5, 0.75, 0.98 and slack 1, 2 tried; with that session's speck-free clicks, against
#: the release before both): a dark ground carried along as a halo 5.4 -> 3.5 % of a ring around the new place
#: (the object's own mask moved: 3.1 -> 1.0 %; quantile 0.98: 4.6 and 2.6 %), outline left 4.8 -> 5.1 % (the fill
#: continues the dark ground the rim no longer takes into the old outline's place), vacated PSNR 15.35 -> 15.43.
RIM_WIDTH_QUANTILE = 0.75
RIM_WIDTH_SLACK = 1.0
#: The soft edge reaches this many pixels beyond the core.
SOFT_EDGE = 2.0
#: A colour-line alpha below this is the ground's own grain, not a trace of the rim.
SOFT_FLOOR = 0.1
#: A wider band is judged on the painting reduced to make it this many pixels wide...
WORK_BAND = 8.0
#: ...and a band wider than this is judged again as this wide (at a third of the resolution): a thin outline (4 px)
#: survives a band judged at a third (94 % carried at 22.7 px), not at a quarter (72 % at 29.6 px, 4K).
FINE_BAND = 3 * WORK_BAND
#: Window radius (pixels) of the local object-rim and background colour means of the soft edge.
COLOUR_RADIUS = 4
#: Widen the band by how far short of its object's edge the selection stops (``engine.shortfall``).
WIDEN_SHORT_SELECTIONS = True
#: Below this alpha a pixel is left to the surroundings.
HOLE_ALPHA = 0.02
#: The old region is cleared this far (pixels) beyond where its matte ends, so no trace of its edge is left.
VACATED_MARGIN = 1.5


def rim_band(region: np.ndarray, reach: float, image_side: int = 0) -> float:
    """The band's width in pixels for a region (boolean mask) of a painting whose longer side is
    ``image_side`` pixels, moved with transition width ``reach``."""
    return float(min(reach, max(rim_floor(image_side), BAND_SHARE * region_size(region))))


def _lab(pixels: np.ndarray, denoise: bool = False) -> np.ndarray:
    """(H, W, C) uint8/uint16 RGB(A) or grey as float32 CIELAB; ``denoise``: after a 3 x 3 median,
    which keeps strokes and edges but not the canvas grain."""
    if denoise and pixels.ndim == 3 and pixels.shape[2] in (1, 3, 4) and min(pixels.shape[:2]) >= 3:
        pixels = cv2.medianBlur(np.ascontiguousarray(pixels), 3)
    return cv2.cvtColor(to_float_rgb(pixels), cv2.COLOR_RGB2Lab)


def _disc(radius: float) -> np.ndarray:
    """The pixels within ``radius`` (Euclidean) of the centre, as a dilation kernel: dilating by it
    gives the pixels whose exact distance to a mask is at most ``radius``."""
    reach = int(np.floor(radius))
    rows, cols = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    return (rows * rows + cols * cols <= radius * radius).astype(np.uint8)


def _lab_at(pixels: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``_lab(pixels, denoise=True)`` at the given pixels only, (N, 3): the median needs the
    neighbours, the colour conversion (pixel by pixel) only the pixels asked for."""
    if pixels.ndim == 3 and pixels.shape[2] in (1, 3, 4) and min(pixels.shape[:2]) >= 3:
        pixels = cv2.medianBlur(np.ascontiguousarray(pixels), 3)
    picked = pixels[rows, cols]
    return _lab(picked[:, None] if picked.ndim == 2 else picked[:, None, None])[:, 0]


def _nearest_miss(lab: np.ndarray, queries: np.ndarray, samples: np.ndarray, radius: float) -> np.ndarray:
    """For each ``queries`` pixel (in raster order), the smallest colour distance to the ``samples``
    pixels within about ``radius`` of the sample pixel nearest to it: a local background model that
    follows the surroundings around the region."""
    _, labels = cv2.distanceTransformWithLabels((~samples).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    height, width = samples.shape
    # Pixels by their raster index: one gather per offset instead of a two-axis fancy index.
    sample_index = np.flatnonzero(samples)  # label k is the k-th sample pixel in raster order
    query_index = np.flatnonzero(queries)
    rows, cols = np.divmod(sample_index[labels.reshape(-1)[query_index] - 1], width)
    flat_samples = samples.reshape(-1)
    # One plane per colour channel: three gathers of numbers are faster than one of triples, and the
    # squares are summed in the same order as a sum over the last axis would.
    planes = [np.ascontiguousarray(lab[..., channel]).reshape(-1) for channel in range(lab.shape[-1])]
    colours = [plane[query_index] for plane in planes]
    step = max(1, int(round(radius / OFFSETS_A_SIDE)))
    reach = int(np.ceil(radius))
    offsets = np.arange(-reach, reach + 1, step)
    # The least squared distance, square-rooted once at the end (the root is monotone: the same values).
    best = np.full(query_index.size, np.inf, np.float32)
    for dy in offsets:
        row_start = np.clip(rows + dy, 0, height - 1) * width
        for dx in offsets:
            if dy * dy + dx * dx > radius * radius + 1:
                continue
            at = row_start + np.clip(cols + dx, 0, width - 1)
            squared = None
            for plane, colour in zip(planes, colours):
                difference = plane[at] - colour
                difference *= difference
                squared = difference if squared is None else squared + difference
            squared[~flat_samples[at]] = np.inf
            np.minimum(best, squared, out=best)
    return np.sqrt(best)


def _local_mean(lab: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean colour of the ``where`` pixels in a square window around each pixel, and their count share."""
    size = (2 * COLOUR_RADIUS + 1,) * 2
    weight = cv2.boxFilter(where.astype(np.float32), -1, size, normalize=True, borderType=cv2.BORDER_CONSTANT)
    total = cv2.boxFilter(lab * where[..., None], -1, size, normalize=True, borderType=cv2.BORDER_CONSTANT)
    return total / np.maximum(weight, 1e-6)[..., None], weight


def _rim_continued(lab: np.ndarray, region: np.ndarray, core: np.ndarray, clear: np.ndarray, layer: np.ndarray,
                   candidates: np.ndarray, level: float) -> np.ndarray:
    """Where the rim runs on across a ground of its own colour: candidate pixels whose colour matches the
    rim's (its ``clear`` pixels beyond the region and the outline the region's outer ``layer`` holds),
    joined to the region, and no farther from the object's inside (the region less that
    layer) than the rim reaches elsewhere: where the region holds the outline, the ground just beyond it
    is not continued. There the surroundings cannot tell, but the outline goes on."""
    extra = np.zeros(region.shape, bool)
    stroke = clear | layer
    stroke_points = np.argwhere(stroke)
    if stroke_points.shape[0] < MIN_STROKE_PIXELS:
        return extra
    inside = region & ~layer
    if not inside.any():
        return extra
    from_inside = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # The rim's width: how far its outer edge lies from the object's inside where the rim shows (a dark
    # ground beside it, taken in here and there, does not widen it).
    solid = (region | core).view(np.uint8)
    rim_edge = (solid > 0) & (cv2.erode(solid, np.ones((3, 3), np.uint8)) == 0) & (core | layer)
    if not rim_edge.any():
        return extra
    width = float(np.quantile(from_inside[rim_edge], RIM_WIDTH_QUANTILE)) + RIM_WIDTH_SLACK
    near = candidates & (from_inside <= width)
    points = np.argwhere(near)
    if points.shape[0] == 0:
        return extra
    # Only a rim painted in a few flat colours is continued: the commonest colours (modes) of its clear
    # pixels, each shared by a good part of them, taken greedily.
    palette = lab[stroke]
    if palette.shape[0] > PALETTE_SIZE:
        palette = palette[np.linspace(0, palette.shape[0] - 1, PALETTE_SIZE).astype(int)]
    alike = np.sqrt(((palette[:, None] - palette[None]) ** 2).sum(axis=2)) <= level
    free = np.ones(palette.shape[0], bool)
    colours = []
    for _ in range(MAX_MODES):
        support = (alike & free[None]).sum(axis=1) * free
        if support.max() < MODE_SHARE * palette.shape[0]:
            break
        members = alike[support.argmax()] & free
        colours.append(palette[members].mean(axis=0))
        free &= ~members
    if not colours:
        return extra
    candidate_colours = lab[points[:, 0], points[:, 1]]
    miss = np.min([np.sqrt(((candidate_colours - colour) ** 2).sum(axis=1)) for colour in colours], axis=0)
    extra[points[:, 0], points[:, 1]] = miss <= level
    count, labels = cv2.connectedComponents((extra | region | core).astype(np.uint8), connectivity=8)
    touching = np.zeros(count, bool)
    touching[np.unique(labels[region])] = True
    touching[0] = False
    return extra & touching[labels]


def _solid_rim(lab: np.ndarray, inner: np.ndarray, band: float, ring: float) -> tuple[np.ndarray, np.ndarray]:
    """The region with the part of its band that belongs to it (steps 1 and 2), and the band."""
    outside = cv2.distanceTransform((~inner).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    in_band = (outside > 0) & (outside <= band)
    # The surroundings start a little beyond the band, so that a rim reaching past the band does not
    # pass for background and explain itself away.
    start = band + max(RING_GAP_MIN, RING_GAP_SHARE * band)
    near_ring = (outside > start) & (outside <= start + ring)
    far_ring = (outside > start + ring) & (outside <= start + 2 * ring)
    if not in_band.any() or not near_ring.any():
        return inner.copy(), in_band
    miss = np.zeros(inner.shape, np.float32)
    miss[in_band] = _nearest_miss(lab, in_band, near_ring, ring)
    # How far genuine background strays from its own surroundings: the near ring against the far one.
    typical = 0.0
    if far_ring.any():
        typical = float(np.quantile(_nearest_miss(lab, near_ring, far_ring, ring), TYPICAL_QUANTILE))
    weak_level, strong_level = max(WEAK_DISTANCE, typical), max(STRONG_DISTANCE, 2.0 * typical)
    weak, strong = in_band & (miss > weak_level), in_band & (miss > strong_level)
    # Hysteresis, joined to the region: a weak piece counts only if it touches the region and holds
    # strong evidence somewhere. Joins through hair-thin chains (the ground's grain) are opened away.
    opened = cv2.morphologyEx((weak | inner).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    weak = weak & opened
    gap = _region_paint(lab, inner, outside, in_band & ~weak, weak_level)
    count, labels = cv2.connectedComponents((weak | inner | gap).astype(np.uint8), connectivity=8)
    touching = np.zeros(count, bool)
    touching[np.unique(labels[inner])] = True
    pieces = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)[1]
    has_strong = np.zeros(pieces.max() + 1, bool)
    has_strong[np.unique(pieces[strong & weak])] = True
    has_strong[0] = False
    core = weak & touching[labels] & has_strong[pieces]
    if gap.any() and core.any():  # the region's paint between it and the rim pieces it joined
        kernel = _disc(BRIDGE)
        closed = cv2.morphologyEx((inner | core).astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
        alone = cv2.morphologyEx(inner.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
        core |= closed & ~alone & gap
    # The palette of the rim to continue: its clear pixels beyond the region, and the region's own outer
    # layer where it is unlike the region's inside (the part of the outline the selection already holds).
    layer = _outer_layer(lab, inner, ring, weak_level)
    core |= _rim_continued(lab, inner, core, core & strong, layer, in_band & ~core, weak_level)
    return inner | core, in_band


def _region_paint(lab: np.ndarray, inner: np.ndarray, outside: np.ndarray, candidates: np.ndarray,
                  level: float) -> np.ndarray:
    """The ``candidates`` within BRIDGE of the region ``inner`` (``outside``: the distance to it) whose colour its
    nearest edge pixel's matches within ``level``: the object's own paint past the selection."""
    near = candidates & (outside <= BRIDGE)
    edge = inner_edge(inner)
    out = np.zeros(inner.shape, bool)
    if BRIDGE <= 0 or not near.any() or not edge.any():
        return out
    rows, cols = np.nonzero(near)
    alike = _nearest_miss(lab, near, edge, 0.0) <= level  # the nearest edge pixel's colour alone
    out[rows[alike], cols[alike]] = True
    return out


def _outer_layer(lab: np.ndarray, inner: np.ndarray, ring: float, level: float) -> np.ndarray:
    """The pixels of the region ``inner`` within LAYER_DEPTH of its edge whose colour the region's inside
    (a ``ring`` wide, LAYER_GAP beyond the layer) misses by more than ``level``: an outline stroke that
    the selection holds where it reached it."""
    inside = cv2.distanceTransform(inner.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    edge = inner & (inside <= LAYER_DEPTH)
    start = LAYER_DEPTH + LAYER_GAP
    deep = inner & (inside > start) & (inside <= start + ring)
    if not edge.any() or not deep.any():
        return np.zeros(inner.shape, bool)
    miss = np.zeros(inner.shape, np.float32)
    miss[edge] = _nearest_miss(lab, edge, deep, ring)
    return edge & (miss > level)


def _edge_colours(lab: np.ndarray, solid: np.ndarray, in_band: np.ndarray, soft_edge: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The local object-rim colour F and background colour B around the solid's outline, and
    where B is known (step 3)."""
    beyond = cv2.distanceTransform((~solid).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    edge_of_solid = solid & (cv2.distanceTransform(solid.astype(np.uint8), cv2.DIST_L2, 3) <= 2.0)
    background = (in_band | (beyond > 0)) & ~solid & (beyond > soft_edge)
    rim_colour, _ = _local_mean(lab, edge_of_solid)
    ground_colour, ground_share = _local_mean(lab, background)
    return rim_colour, ground_colour, ground_share > 0


def _colour_line_alpha(colours: np.ndarray, rim_colours: np.ndarray, ground_colours: np.ndarray,
                       fallback: np.ndarray) -> np.ndarray:
    """a in I = a F + (1 - a) B (Levin et al. 2008, Eq. 1) by projection onto the line from B to F,
    clipped to [0, 1]; ``fallback`` where F and B are too alike to tell."""
    line = rim_colours - ground_colours
    length = (line ** 2).sum(axis=1)
    along = ((colours - ground_colours) * line).sum(axis=1) / np.maximum(length, 1e-6)
    along = np.where(along < SOFT_FLOOR, 0.0, np.clip(along, 0.0, 1.0))  # below the floor: the ground's grain
    return np.where(length > WEAK_DISTANCE ** 2, along, fallback).astype(np.float32)


def rim_matte(image: np.ndarray, region: np.ndarray, box: tuple[int, int, int, int], band: float,
              judged_as: float | None = None) -> np.ndarray:
    """The alpha (float32, over ``box`` = x0, y0, x1, y1) of the object selected by ``region`` (a mask
    over the box), its rim included, up to ``band`` pixels beyond the region; the painting around
    the box is read for the surroundings.

    A wide band is judged on the painting reduced so that it is :data:`WORK_BAND` pixels wide; the
    soft edge is then drawn at full resolution across the reduced decision's outline. A band wider than
    :data:`FINE_BAND` is judged once more as that wide, at a finer scale (:func:`_judged`)."""
    bx0, by0, bx1, by1 = box
    alpha = region.astype(np.float32)
    if band <= 0 or not region.any():
        return alpha
    ring, margin = _ring_and_margin(band)
    height, width = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, bx0 - margin), max(0, by0 - margin), min(width, bx1 + margin), min(height, by1 + margin)
    inner = np.zeros((cy1 - cy0, cx1 - cx0), bool)
    inner[by0 - cy0:by1 - cy0, bx0 - cx0:bx1 - cx0] = region
    crop = image[cy0:cy1, cx0:cx1]
    full = _judged(crop, inner, band, ring, band if judged_as is None else judged_as)
    if band > FINE_BAND:
        # A thin outline (a few pixels on a large painting) is lost where a wide band is judged much reduced: the
        # band's first FINE_BAND pixels are judged again at a finer scale (on the part of the crop that reads),
        # and each pixel takes the larger alpha.
        fine_ring, fine_margin = _ring_and_margin(FINE_BAND)
        fy0, fx0 = max(0, by0 - cy0 - fine_margin), max(0, bx0 - cx0 - fine_margin)
        fine = (slice(fy0, by1 - cy0 + fine_margin), slice(fx0, bx1 - cx0 + fine_margin))
        full[fine] = np.maximum(full[fine], _judged(crop[fine], inner[fine], FINE_BAND, fine_ring, FINE_BAND))
    full[inner] = 1.0
    return np.ascontiguousarray(full[by0 - cy0:by1 - cy0, bx0 - cx0:bx1 - cx0])


def _ring_and_margin(band: float) -> tuple[float, int]:
    """The surroundings' ring width for a band ``band`` pixels wide, and how far beyond the region the crop
    that judges it must reach (the band, the gap and the two rings read)."""
    ring = max(RING_MIN, RING_SHARE * band)
    return ring, int(np.ceil(band + max(RING_GAP_MIN, RING_GAP_SHARE * band) + 2 * ring)) + 1


def _judged(crop: np.ndarray, inner: np.ndarray, band: float, ring: float, judged_as: float) -> np.ndarray:
    """The alpha over ``crop`` of the region ``inner`` (a mask over it) for a band ``band`` pixels wide and
    surroundings in a ``ring`` beyond it: judged at full resolution, or, where ``judged_as`` (the band before a
    selection's shortfall widened it, else the band) is wider than WORK_BAND, on the crop reduced to make that
    WORK_BAND pixels wide, the soft edge then drawn at full resolution across the reduced decision's outline."""
    scale = min(1.0, WORK_BAND / judged_as)
    if scale == 1.0:
        return _full_resolution_matte(crop, inner, band, ring)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    lab = _lab(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), denoise=True)
    small_inner = cv2.resize(inner.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 0.5
    solid, in_band = _solid_rim(lab, small_inner, band * scale, ring * scale)
    rim_colour, ground_colour, known = _edge_colours(lab, solid, in_band, SOFT_EDGE)
    full_size = (crop.shape[1], crop.shape[0])
    # The reduced outline, bilinearly: a ramp about one reduced pixel wide where it is uncertain.
    share = cv2.resize(solid.astype(np.float32), full_size, interpolation=cv2.INTER_LINEAR)
    grown = cv2.dilate(solid.astype(np.uint8), np.ones((3, 3), np.uint8))
    reachable = cv2.resize(grown & (in_band | solid).astype(np.uint8), full_size,
                           interpolation=cv2.INTER_NEAREST) > 0
    full = np.where(share >= 0.999, np.float32(1.0), np.float32(0.0))
    ramp = reachable & (share < 0.999) & ~inner
    rows, cols = np.nonzero(ramp)
    if rows.size:
        # F and B are local means: reduced, then read bilinearly at the ramp's pixels.
        to_small_x = ((cols + 0.5) * scale - 0.5).astype(np.float32)
        to_small_y = ((rows + 0.5) * scale - 0.5).astype(np.float32)
        read = lambda plane: sample_points(plane, to_small_x, to_small_y)  # noqa: E731
        y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        pixels = _lab_at(crop[y0:y1, x0:x1], rows - y0, cols - x0)
        full[rows, cols] = np.where(read(known.astype(np.float32)) > 0.5, _colour_line_alpha(
            pixels, read(rim_colour).reshape(-1, 3), read(ground_colour).reshape(-1, 3), share[rows, cols]),
            share[rows, cols])
    return full


def _full_resolution_matte(crop: np.ndarray, inner: np.ndarray, band: float, ring: float) -> np.ndarray:
    """The alpha over ``crop`` of the region ``inner`` (a mask over it) judged at full resolution: steps 1 and 2 in
    a band ``band`` pixels wide, surroundings in a ``ring`` beyond it, and the soft edge (step 3)."""
    lab = _lab(crop, denoise=True)
    solid, in_band = _solid_rim(lab, inner, band, ring)
    rim_colour, ground_colour, known = _edge_colours(lab, solid, in_band, SOFT_EDGE)
    beyond = cv2.distanceTransform((~solid).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    soft = (beyond > 0) & (beyond <= SOFT_EDGE) & in_band & known
    full = solid.astype(np.float32)
    full[soft] = _colour_line_alpha(lab[soft], rim_colour[soft], ground_colour[soft], np.float32(0.0))
    return full


Box = tuple[int, int, int, int]


def rim_width(region: np.ndarray, image_shape: tuple[int, ...]) -> float:
    """The matte's band for ``region`` of an image of ``image_shape``: it does not depend on where the
    region goes nor on the reach (the rim belongs to the object; ``engine.compose`` clips what it
    changes to the reach), so the editor can prepare the footprint before there is a new shape
    (``engine.live_preview``)."""
    return rim_band(region, float("inf"), max(image_shape[:2]))


def rim_shortfall(image: np.ndarray, region: np.ndarray, box: Box) -> float:
    """How far (pixels) ``region`` (a mask over ``box`` of ``image``) stops short of its object's edge
    (``engine.shortfall``), by which its footprint's band grows: an edit's default reach grows by as much, so
    that the edge can move with the object."""
    if not WIDEN_SHORT_SELECTIONS:
        return 0.0
    return selection_shortfall(image, region, box, rim_width(region, image.shape))


@dataclass
class Footprint:
    """What a moved region leaves: its matte and the area cleared for the fill, over ``box`` (the
    region grown by its band and margin, clipped to the image). It depends on the painting, the
    region and the band only, not on the new shape, so the editor prepares it before one exists."""

    box: Box
    matte: np.ndarray  # float32 alpha over the box
    vacated: np.ndarray  # bool over the box: the matte's support grown by VACATED_MARGIN

    def over(self, box: Box, values: np.ndarray | None = None) -> np.ndarray:
        """``values`` (the matte by default; a mask over this footprint's box) placed over ``box``,
        zero where the footprint does not reach."""
        return place_over(self.matte if values is None else values, self.box, box)


def vacated_footprint(image: np.ndarray, region: np.ndarray, box: Box, band: float,
                      shortfall: float | None = None) -> Footprint | None:
    """The :class:`Footprint` of ``region`` (a mask over ``box``, x0, y0, x1, y1, of ``image``) for a
    rim ``band`` pixels wide, widened by how far short of its object's edge the region stops
    (``engine.shortfall``; ``shortfall`` when the caller has it already, :func:`rim_shortfall`'s value);
    None for an empty region."""
    found = mask_bbox(region)
    if found is None:
        return None
    x0, y0 = box[0], box[1]
    inner = (found[0] + x0, found[1] + y0, found[2] + x0, found[3] + y0)
    judged_as = band
    if WIDEN_SHORT_SELECTIONS:  # a selection that stops short of its object's edge: the band reaches past the edge
        band += selection_shortfall(image, region, box, band) if shortfall is None else shortfall
    footprint_box = box_within_reach(inner, band + VACATED_MARGIN + 2.0, image.shape)
    matte = rim_matte(image, place_over(region, box, footprint_box), footprint_box, band, judged_as)
    # Within VACATED_MARGIN (Euclidean) of the matte's support: one dilation by that disc.
    vacated = cv2.dilate((matte > HOLE_ALPHA).view(np.uint8), _disc(VACATED_MARGIN)) > 0
    return Footprint(footprint_box, matte, vacated)
