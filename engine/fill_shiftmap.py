"""Fill the area a region vacates with the painting's own strokes, copied from around it.

A transport fill in the spirit of the paper's region transport: every vacated pixel is taken from
one of a few shifted copies of the painting, and a per-pixel choice (the "attention") picks the
copy. The choice is made at a reduced resolution and then applied at full resolution, so the
result is made of the painting's own pixels, never a blur:

1. Candidate shifts: the offsets at which patches around the hole repeat elsewhere in the
   painting (He & Sun, "Statistics of Patch Offsets for Image Completion", ECCV 2012), plus plain
   shifts that carry the hole just past its own edge in eight directions.
2. Labelling: each hole pixel picks a shift by iterated conditional modes on a shift-map energy
   (Pritch et al., "Shift-Map Image Editing", ICCV 2009): a copied pixel must agree with the
   known pixels beside the hole, and neighbours with different shifts must agree where the two
   copies meet. Shifts may only read known pixels (never the old region itself: no ghost).
3. Full resolution: the shifts are scaled up and applied to the full-resolution painting; the
   seams between copies are feathered over about one reduced pixel.

NumPy/OpenCV only; images (H, W, C) uint8/uint16, masks boolean.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.imageio import to_float_rgb
from engine.locality import context_box
from engine.sampling import sample_points
from models.influence import mask_bbox

#: The labelling works on the hole's context reduced to at most this many pixels a side.
WORK_SIDE = 128
#: How much known painting around the hole is searched, as a share of the hole's size.
CONTEXT_SHARE = 0.75
#: Patch side (reduced pixels) for the offset statistics, and how many patches are sampled.
PATCH = 7
SAMPLES = 96
#: Candidate shifts kept from the offset statistics.
DOMINANT_SHIFTS = 24
#: Iterated-conditional-modes sweeps, and the extra cost of a seam (Potts term, in squared grey levels / 255^2).
SWEEPS = 10
SEAM_COST = 0.02
NEIGHBOURS = ((0, 1), (0, -1), (1, 0), (-1, 0))
#: Cost of copying from farther away from the hole, per hole size.
DISTANCE_COST = 0.01


def _dominant_shifts(work: np.ndarray, unknown: np.ndarray, rng: np.random.Generator,
                     minimum: float) -> list[tuple[int, int]]:
    """Offsets (dy, dx) at which sampled known patches near the hole repeat elsewhere in the context."""
    height, width = unknown.shape
    radius = PATCH // 2
    if height < PATCH + 2 or width < PATCH + 2:
        return []
    near = cv2.dilate(unknown.astype(np.uint8), np.ones((2 * PATCH + 1, 2 * PATCH + 1), np.uint8)) > 0
    blocked = cv2.dilate(unknown.astype(np.uint8), np.ones((PATCH, PATCH), np.uint8)) > 0  # patches touching the hole
    usable = near & ~blocked
    usable[:radius], usable[-radius:], usable[:, :radius], usable[:, -radius:] = False, False, False, False
    ys, xs = np.nonzero(usable)
    if ys.size == 0:
        return []
    chosen = rng.choice(ys.size, size=min(SAMPLES, ys.size), replace=False)
    # Positions a match may sit at (patch centres whose patch lies in known painting).
    invalid = blocked[radius:height - radius, radius:width - radius]
    votes = np.zeros((2 * height + 1, 2 * width + 1), np.float32)
    cy, cx = np.mgrid[radius:height - radius, radius:width - radius]
    for index in chosen:
        y, x = ys[index], xs[index]
        patch = work[y - radius:y + radius + 1, x - radius:x + radius + 1]
        distance = cv2.matchTemplate(work, patch, cv2.TM_SQDIFF)
        distance[invalid] = np.inf
        distance[(cy - y) ** 2 + (cx - x) ** 2 < minimum * minimum] = np.inf  # not the patch itself
        best = np.unravel_index(np.argmin(distance), distance.shape)
        if np.isfinite(distance[best]):
            votes[best[0] + radius - y + height, best[1] + radius - x + width] += 1.0
    votes = cv2.GaussianBlur(votes, (0, 0), 1.0)
    peaks = (votes == cv2.dilate(votes, np.ones((5, 5), np.uint8))) & (votes > 0.05)
    py, px = np.nonzero(peaks)
    order = np.argsort(-votes[py, px])[:DOMINANT_SHIFTS]
    return [(int(py[i] - height), int(px[i] - width)) for i in order]


def _edge_shifts(unknown: np.ndarray) -> list[tuple[int, int]]:
    """Shifts that carry the hole just past its own edge, in eight directions."""
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    span_y, span_x = rows[-1] - rows[0] + 2, cols[-1] - cols[0] + 2
    shifts = []
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)):
        for share in (0.5, 1.0):
            shifts.append((int(round(dy * span_y * share)), int(round(dx * span_x * share))))
    return shifts


def _label(work: np.ndarray, unknown: np.ndarray, shifts: list[tuple[int, int]],
           start: np.ndarray | None = None, sweeps: int = SWEEPS) -> np.ndarray:
    """A shift index per reduced pixel of the hole (-1 elsewhere), by iterated conditional modes,
    from ``start`` (a coarser level's labels, upsampled) where it is valid."""
    height, width = unknown.shape
    hole_y, hole_x = np.nonzero(unknown)
    count = hole_y.size
    labels = len(shifts)
    index = -np.ones((height, width), np.int64)
    index[hole_y, hole_x] = np.arange(count)
    # Copied colours and validity of every shift at every hole pixel, and at the pixels beside the hole.
    def sample(ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        colours = np.zeros((labels, ys.size, 3), np.float32)
        valid = np.zeros((labels, ys.size), bool)
        for label, (dy, dx) in enumerate(shifts):
            sy, sx = ys + dy, xs + dx
            inside = (sy >= 0) & (sy < height) & (sx >= 0) & (sx < width)
            sy, sx = np.clip(sy, 0, height - 1), np.clip(sx, 0, width - 1)
            valid[label] = inside & ~unknown[sy, sx]
            colours[label] = work[sy, sx]
        return colours, valid

    colours, valid = sample(hole_y, hole_x)
    # Copy from the painting close around the hole ("the surrounding texture"), not from far features.
    to_hole = cv2.distanceTransform((~unknown).astype(np.uint8), cv2.DIST_L2, 3)
    extent = max(1.0, float(np.sqrt(count)))
    unary = np.zeros((labels, count), np.float32)
    for label, (dy, dx) in enumerate(shifts):
        sy, sx = np.clip(hole_y + dy, 0, height - 1), np.clip(hole_x + dx, 0, width - 1)
        unary[label] = DISTANCE_COST * to_hole[sy, sx] / extent
    unary[~valid] = np.inf
    parity = (hole_y + hole_x) % 2
    # (hole pixel, its neighbour in one direction) index pairs, split by the pixel's checkerboard
    # colour: ICM updates one colour at a time, whose neighbours all have the other colour.
    pairs: list[list[tuple[np.ndarray, np.ndarray]]] = [[], []]
    for dy, dx in NEIGHBOURS:
        ny, nx = hole_y + dy, hole_x + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        ny, nx = np.clip(ny, 0, height - 1), np.clip(nx, 0, width - 1)
        known = inside & ~unknown[ny, nx]
        if known.any():  # a copy must continue the known painting beside the hole
            beside, beside_valid = sample(ny[known], nx[known])
            cost = ((beside - work[ny[known], nx[known]][None]) ** 2).sum(axis=2)
            unary[:, np.flatnonzero(known)] += np.where(beside_valid, cost, 1.0)  # one neighbour per direction
        other = inside & unknown[ny, nx]
        for colour in (0, 1):
            chosen = other & (parity == colour)
            pairs[colour].append((np.flatnonzero(chosen), index[ny[chosen], nx[chosen]]))
    # Start: at the hole's edge the cheapest valid shift (ties to the shortest); inside, the shift of
    # the nearest edge pixel where it is valid, so copies grow inwards as coherent pieces.
    lengths = np.array([np.hypot(dy, dx) for dy, dx in shifts])
    choice = np.argmin(unary + 1e-6 * lengths[:, None], axis=0)
    edge = unknown & (cv2.erode(unknown.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE) == 0)
    if edge.any():
        _, nearest = cv2.distanceTransformWithLabels((~edge).astype(np.uint8), cv2.DIST_L2, 3,
                                                     labelType=cv2.DIST_LABEL_PIXEL)
        edge_y, edge_x = np.nonzero(edge)  # DIST_LABEL_PIXEL numbers the zero pixels in scan order
        source = nearest[hole_y, hole_x] - 1
        inherited = choice[index[edge_y[source], edge_x[source]]]
        usable = np.isfinite(unary[inherited, np.arange(count)])
        choice = np.where(usable, inherited, choice)
    if start is not None:
        coarse = start[hole_y, hole_x]
        usable = (coarse >= 0) & np.isfinite(unary[np.maximum(coarse, 0), np.arange(count)])
        choice = np.where(usable, coarse, choice)
    stuck = ~np.isfinite(unary[choice, np.arange(count)])
    everything = np.arange(count)
    members = [everything[parity == colour] for colour in (0, 1)]
    for _ in range(sweeps):
        for colour in (0, 1):
            update = members[colour]
            cost = unary[:, update].copy()
            position = np.full(count, -1, np.int64)
            position[update] = np.arange(update.size)
            for pixels, neighbours in pairs[colour]:
                chosen = choice[neighbours]
                # Where the two copies meet: this pixel under the neighbour's shift and the neighbour
                # under each candidate shift must agree with the copies actually chosen.
                here = colours[:, pixels] - colours[chosen, pixels][None]
                there = colours[:, neighbours] - colours[chosen, neighbours][None]
                seam = np.einsum("lpc,lpc->lp", here, here) + np.einsum("lpc,lpc->lp", there, there) + SEAM_COST
                seam[chosen, np.arange(pixels.size)] = 0.0
                seam[:, ~(valid[chosen, pixels] & valid[chosen, neighbours])] += 1.0
                cost[:, position[pixels]] += seam  # each pixel has at most one neighbour in this direction
            choice[update] = np.argmin(cost, axis=0)
    choice[stuck & ~np.isfinite(unary[choice, everything])] = int(np.argmin(lengths))
    result = -np.ones((height, width), np.int64)
    result[hole_y, hole_x] = choice
    return result


def fill_hole(image: np.ndarray, hole: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """``image`` with the pixels of ``hole`` replaced by shifted copies of the known painting around them.

    Only hole pixels change. Deterministic for a seed.
    """
    height, width = hole.shape
    return fill_window(image, hole, (0, 0, width, height), seed=seed)


def fill_window(image: np.ndarray, hole: np.ndarray, box: tuple[int, int, int, int], *, seed: int = 0) -> np.ndarray:
    """``image[box]`` (box = x0, y0, x1, y1) with the pixels of ``hole`` (a mask over the box) filled
    as :func:`fill_hole` would; the painting around the box is read too. Works on the hole's
    surroundings only, so its cost follows the hole, not the canvas."""
    bx0, by0, bx1, by1 = box
    result = image[by0:by1, bx0:bx1].copy()
    bbox = mask_bbox(hole)
    if bbox is None:
        return result
    x0, y0, x1, y1 = context_box((bbox[0] + bx0, bbox[1] + by0, bbox[2] + bx0, bbox[3] + by0), CONTEXT_SHARE,
                                 image.shape)
    context = image[y0:y1, x0:x1]
    # The hole over the context box (every hole pixel lies inside it).
    hole_box = np.zeros(context.shape[:2], bool)
    cx0, cy0, cx1, cy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
    hole_box[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = hole[cy0 - by0:cy1 - by0, cx0 - bx0:cx1 - bx0]
    scale = min(1.0, WORK_SIDE / max(context.shape[:2]))
    size = (max(1, round(context.shape[1] * scale)), max(1, round(context.shape[0] * scale)))
    work = to_float_rgb(cv2.resize(context, size, interpolation=cv2.INTER_AREA))
    unknown = cv2.resize(hole_box.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    if unknown.all():
        return result  # nothing known to copy from: the hole fills the whole image
    rng = np.random.default_rng(seed)
    hole_extent = np.sqrt(np.count_nonzero(unknown))
    shifts = _dominant_shifts(work, unknown, rng, minimum=max(2.0, 0.25 * hole_extent)) + _edge_shifts(unknown)
    shifts = list(dict.fromkeys(shifts))  # unique, in order
    # Coarse to fine: at half the resolution the copies settle into larger,
    # coherent pieces; each finer level starts from the coarser labels and only moves the seams.
    labels = None
    for factor in (2, 1):
        level_size = (max(1, work.shape[1] // factor), max(1, work.shape[0] // factor))
        level_work = cv2.resize(work, level_size, interpolation=cv2.INTER_AREA) if factor > 1 else work
        level_unknown = (cv2.resize(unknown.astype(np.float32), level_size, interpolation=cv2.INTER_AREA) > 0
                         if factor > 1 else unknown)
        if factor > 1 and (min(level_size) < 8 or level_unknown.all()):
            continue
        level_shifts = [(int(round(dy / factor)), int(round(dx / factor))) for dy, dx in shifts]
        start = None if labels is None else cv2.resize(labels.astype(np.int32), level_size,
                                                       interpolation=cv2.INTER_NEAREST).astype(np.int64)
        labels = _label(level_work, level_unknown, level_shifts, start, SWEEPS if start is None else SWEEPS // 2)
    used = [label for label in np.unique(labels) if label >= 0]
    # Full resolution: each used shift's share, feathered over about one reduced pixel.
    # The hole's bounding box in the context's coordinates (found above, over the window).
    hx0, hy0, hx1, hy1 = bbox[0] + bx0 - x0, bbox[1] + by0 - y0, bbox[2] + bx0 - x0, bbox[3] + by0 - y0
    full_size = (context.shape[1], context.shape[0])
    # Only the hole's own pixels are computed: their coordinates in the context, row by row.
    hole_rows, hole_cols = np.nonzero(hole_box[hy0:hy1, hx0:hx1])
    pixel_x, pixel_y = (hole_cols + hx0).astype(np.float32), (hole_rows + hy0).astype(np.float32)
    total = np.zeros(hole_rows.size, np.float32)
    mixed = np.zeros((hole_rows.size, context.shape[2] if context.ndim == 3 else 1), np.float32)
    known_full = (~hole_box).view(np.uint8)
    # The reduced labels, bilinearly up to the hole's box only (as cv2.resize to the whole context
    # would, then cropped): reduced x = (full x + 0.5) * reduced width / full width - 0.5.
    step_x, step_y = labels.shape[1] / full_size[0], labels.shape[0] / full_size[1]
    to_reduced = np.array([[step_x, 0.0, (hx0 + 0.5) * step_x - 0.5], [0.0, step_y, (hy0 + 0.5) * step_y - 0.5]])
    for label in used:
        share = cv2.GaussianBlur((labels == label).astype(np.float32), (0, 0), 0.7)
        share = cv2.warpAffine(share, to_reduced, (hx1 - hx0, hy1 - hy0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)[hole_rows, hole_cols]
        where = np.flatnonzero(share)  # the hole pixels this copy is used for
        if where.size == 0:
            continue
        dy, dx = shifts[label]
        source_x, source_y = pixel_x[where] + dx / scale, pixel_y[where] + dy / scale
        copy = sample_points(context, source_x, source_y, cv2.INTER_NEAREST)
        readable = sample_points(known_full, source_x, source_y, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT) > 0
        share = share[where] * readable
        mixed[where] += share[:, None] * copy.reshape(-1, mixed.shape[1]).astype(np.float32)
        total[where] += share
    filled = total > 1e-4
    top = float(np.iinfo(image.dtype).max)
    values = np.clip(np.rint(mixed[filled] / total[filled][:, None]), 0, top).astype(image.dtype)
    window = result[y0 - by0 + hy0:y0 - by0 + hy1, x0 - bx0 + hx0:x0 - bx0 + hx1]
    window[hole_rows[filled], hole_cols[filled]] = values.reshape(window[hole_rows[filled], hole_cols[filled]].shape)
    return result
