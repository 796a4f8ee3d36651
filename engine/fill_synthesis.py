"""Multi-scale patch synthesis of a hole at reduced resolution.

Wexler, Shechtman & Irani, "Space-Time Completion of Video" (PAMI 2007): the hole is filled so
that every patch overlapping it looks like some patch of the known painting. Alternately (an EM
iteration) each such patch finds its nearest source patch (``engine.fill_patchmatch``), and each
hole pixel becomes the weighted mean of what the overlapping patches' matches say it should be
(their vote, weighted by similarity and by the confidence of patches near the known edge).
This runs coarse to fine: at the coarsest level the hole is a few patches wide, so its layout
(where a colour field or a line continues) is settled there; finer levels start from the coarser
field and only refine it. What the caller keeps is the finest level's field: for each patch, where
in the painting its content comes from.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.fill_patchmatch import (Field, Neighbours, describe, describe_at, improve, patch_basis, propagate,
                                    random_field, refresh_costs)
from engine.smoothing import area_reduce

#: Patch side is 2 * PATCH_RADIUS + 1 (work pixels) at the finest level, 2 * COARSE_PATCH_RADIUS + 1 at
#: the coarser ones (smaller, so that the pyramid goes further down; all chosen on BSDS500 val).
PATCH_RADIUS = 4
COARSE_PATCH_RADIUS = 3
#: The coarsest level has the hole about this many pixels across.
COARSEST_HOLE = 16
#: No level is smaller than this (pixels a side).
MIN_LEVEL_SIDE = 24
#: EM iterations at the coarsest level, at the levels between, and at the finest. Six between (fifty-second session,
#: was four): BSDS500 val (30 objects, tools/tune_fill.py) at 1.5x 16.164 -> 16.199 dB, SSIM 0.360 -> 0.363, at the
#: photos' size 15.961 -> 15.967, 0.314 -> 0.314 (eight: 16.213 / 0.366 but texture 0.759 -> 0.748); then held out
#: once (eval-fill, exact masks): SSIM 0.2632 -> 0.2650, 0.2719 -> 0.2723, 0.2747 -> 0.2770 (18 objects, 54 of seed
#: 0, 54 of seed 1), PSNR -0.02, -0.02, +0.01 dB; the 4K 5 % fill's time unchanged (the middle levels are small).
EM_COARSEST, EM_MIDDLE, EM_FINEST = 8, 6, 2
#: PatchMatch sweeps per EM iteration (the field carries over between iterations).
SWEEPS = 1
#: The vote reads every VOTE_STEP-th pixel of each patch (a sparser mean, much cheaper).
VOTE_STEP = 2
#: The vote's similarity scale: this percentile of the match distances (Wexler et al. use the 75th).
SIMILARITY_PERCENTILE = 75
#: Wexler et al.'s confidence: a patch's vote counts CONFIDENCE_DECAY ** -(its distance into the hole).
CONFIDENCE_DECAY = 1.3
#: Coherence passes on the finest field, and how much worse a neighbour's match may be to be taken.
COHERENCE_PASSES, COHERENCE_SLACK = 2, 0.1
#: A texture feature beside the colours (after Newson et al. 2014, "Video Inpainting of Complex Scenes",
#: Sec. 4.2): each pixel also carries the local mean of its lightness gradient's magnitude (|dx| + |dy| over a
#: TEXTURE_WINDOW square), times TEXTURE_WEIGHT, so that a busy part of the hole is not matched to a smooth
#: patch of the same mean colour. Without it, the vote (smoother than the painting) drew smooth sources: the
#: remnant probe's Shipwreck hole was filled with a flat brown patch where the sea's foam and the hull are
#: busy. It is completed with the colours (smooth-filled into the hole at the start) and dropped afterwards;
#: 0 turns it off. On BSDS500 val (30 objects at 1.5x / the photos' size, tools/tune_fill.py): 16.079 / 15.980
#: dB, SSIM 0.352 / 0.306, texture ratio 0.758 / 0.703 without; 16.035 / 15.922, 0.351 / 0.305, 0.779 / 0.757
#: with it (weights 1.5-4 and windows 3-13 tried: more weight, more texture and less PSNR and SSIM).
TEXTURE_WEIGHT, TEXTURE_WINDOW = 2.0, 9


@dataclass
class Synthesis:
    """The finest level's field. For the target patch centred at (y, x): its match lies at
    (y, x) + offset[y, x] (work pixels); ``weight`` is its vote's weight, 0 where there is no patch."""

    offset: np.ndarray  # (h, w, 2) int: dy, dx
    weight: np.ndarray  # (h, w) float32
    image: np.ndarray  # (h, w, C) float32: the synthesized work image
    unknown: np.ndarray  # (h, w) bool: the hole at work resolution
    readable: np.ndarray  # (h, w) bool: painting that may be copied


@dataclass
class _Level:
    radius: int  # of this level's patches
    image: np.ndarray  # padded by PATCH_RADIUS (replicated)
    unknown: np.ndarray  # padded with False
    allowed: np.ndarray  # source patch centres whose patch lies in readable painting
    targets: np.ndarray  # patch centres whose patch overlaps the hole
    confidence: np.ndarray  # per target centre

    @property
    def shape(self) -> tuple[int, int]:
        return self.unknown.shape


def _level(image: np.ndarray, unknown: np.ndarray, readable: np.ndarray, radius: int) -> _Level:
    r = PATCH_RADIUS  # every level is padded alike, so coordinates carry over between levels
    side = 2 * radius + 1
    padded = cv2.copyMakeBorder(image, r, r, r, r, cv2.BORDER_REPLICATE)
    if padded.ndim == 2:
        padded = padded[..., None]
    pad = lambda mask: np.pad(mask, r, constant_values=False)  # noqa: E731
    unknown, readable = pad(unknown), pad(readable & ~unknown)
    kernel = np.ones((side, side), np.uint8)
    allowed = cv2.erode(readable.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    targets = cv2.dilate(unknown.astype(np.uint8), kernel) > 0
    targets[:r], targets[-r:], targets[:, :r], targets[:, -r:] = False, False, False, False
    into_hole = cv2.distanceTransform(unknown.astype(np.uint8), cv2.DIST_L2, 3)  # 0 on known pixels
    return _Level(radius, padded, unknown, allowed, targets, CONFIDENCE_DECAY ** -into_hole)


def _pyramid(image: np.ndarray, unknown: np.ndarray, readable: np.ndarray) -> list[_Level]:
    """Levels from fine to coarse (halving), down to a hole about COARSEST_HOLE pixels across."""
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    extent = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    levels = [_level(image, unknown, readable, PATCH_RADIUS)]
    hole, known = unknown.astype(np.float32), readable.astype(np.float32)
    while extent > COARSEST_HOLE and min(image.shape[:2]) >= 2 * MIN_LEVEL_SIDE:
        size = ((image.shape[1] + 1) // 2, (image.shape[0] + 1) // 2)
        image = area_reduce(image, size)
        hole = cv2.resize(hole, size, interpolation=cv2.INTER_AREA)
        known = cv2.resize(known, size, interpolation=cv2.INTER_AREA)
        level = _level(image, hole > 0, known > 0.999, COARSE_PATCH_RADIUS)
        if np.count_nonzero(level.allowed) < 16:
            break
        levels.append(level)
        extent = (extent + 1) // 2
    return levels


def _vote(level: _Level, field: Field, weight: np.ndarray) -> None:
    """Each hole pixel becomes the weighted mean of what the patches over it copy there (Wexler et al.'s vote).

    Computed over the targets' bounding box: the patch centres' weights and matches laid out on it, each
    patch offset read through them by one remap (a patch that is no target has weight 0 there)."""
    if field.ty.size == 0:
        return
    image = level.image
    channels = image.shape[2]
    r = level.radius
    stride = VOTE_STEP if r > 2 else 1
    y0, x0 = int(field.ty.min()), int(field.tx.min())
    box_h, box_w = int(field.ty.max()) + 1 - y0, int(field.tx.max()) + 1 - x0
    weights = np.zeros((box_h, box_w), np.float32)
    source_y = np.zeros((box_h, box_w), np.float32)
    source_x = np.zeros((box_h, box_w), np.float32)
    weights[field.ty - y0, field.tx - x0] = weight
    source_y[field.ty - y0, field.tx - x0] = field.sy
    source_x[field.ty - y0, field.tx - x0] = field.sx
    # The sums over the box grown by the patch radius: target (y, x) votes at (y + dy, x + dx).
    summed = np.zeros((box_h + 2 * r, box_w + 2 * r, channels), np.float32)
    total = np.zeros((box_h + 2 * r, box_w + 2 * r), np.float32)
    weighted = weights[..., None]
    for dy in range(-r, r + 1, stride):
        for dx in range(-r, r + 1, stride):
            read = _read_nearest(image, source_x + dx, source_y + dy)
            at = (slice(r + dy, r + dy + box_h), slice(r + dx, r + dx + box_w))
            summed[at] += weighted * read
            total[at] += weights
    window = (slice(y0 - r, y0 + box_h + r), slice(x0 - r, x0 + box_w + r))
    counted = level.unknown[window] & (total > 0)
    image[window][counted] = summed[counted] / total[counted][:, None]


def _read_nearest(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """``image`` (H, W, C) float32 at the whole-pixel positions (map_x, map_y) (float32 maps): (h, w, C)."""
    if image.shape[2] <= 4:
        read = cv2.remap(image, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        return read.reshape(map_x.shape + (image.shape[2],))
    return image[map_y.astype(np.int64), map_x.astype(np.int64)]


def _weights(level: _Level, field: Field) -> np.ndarray:
    """Similarity exp(-d / 2 sigma^2), sigma^2 the 75th percentile of the distances, times the confidence."""
    finite = np.isfinite(field.cost)
    if not finite.any():
        return np.zeros(field.cost.size, np.float32)
    sigma2 = max(float(np.percentile(field.cost[finite], SIMILARITY_PERCENTILE)), 1e-6)
    similarity = np.where(finite, np.exp(-np.where(finite, field.cost, 0.0) / (2.0 * sigma2)), 0.0)
    return (similarity * level.confidence[field.ty, field.tx]).astype(np.float32)


def _upsample(coarse: Field, coarse_shape: tuple[int, int], fine: _Level, rng: np.random.Generator) -> Field:
    """The finer level's field: each patch takes its coarse parent's match, doubled (padding accounted)."""
    r = PATCH_RADIUS
    ty, tx = np.nonzero(fine.targets)
    index = coarse.index_map(coarse_shape)
    cy = np.clip((ty - r) // 2 + r, 0, coarse_shape[0] - 1)
    cx = np.clip((tx - r) // 2 + r, 0, coarse_shape[1] - 1)
    parent = index[cy, cx]
    have = parent >= 0
    parent = np.maximum(parent, 0)
    sy = 2 * (coarse.sy[parent] - r) + r + (ty - r) - 2 * (cy - r)
    sx = 2 * (coarse.sx[parent] - r) + r + (tx - r) - 2 * (cx - r)
    height, width = fine.shape
    sy, sx = np.clip(sy, 0, height - 1), np.clip(sx, 0, width - 1)
    field = random_field(ty, tx, fine.allowed, rng)
    usable = have & fine.allowed[sy, sx]
    field.sy[usable], field.sx[usable] = sy[usable], sx[usable]
    return field


def _masked_distances(level: _Level, ty: np.ndarray, tx: np.ndarray, known: np.ndarray,
                      sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
    """Mean squared difference (n_targets, n_sources) between the patches centred at (ty, tx) and at
    (sy, sx), over the target patches' ``known`` pixels only."""
    r = level.radius
    side = 2 * r + 1
    windows = np.lib.stride_tricks.sliding_window_view(level.image, (side, side), axis=(0, 1))
    known_windows = np.lib.stride_tricks.sliding_window_view(known, (side, side), axis=(0, 1))
    sources = windows[sy - r, sx - r].transpose(0, 2, 3, 1).reshape(sy.size, -1).astype(np.float64)
    targets = windows[ty - r, tx - r].transpose(0, 2, 3, 1).reshape(ty.size, -1).astype(np.float64)
    weights = np.repeat(known_windows[ty - r, tx - r].reshape(ty.size, -1, 1), level.image.shape[2], axis=2)
    weights = weights.reshape(ty.size, -1).astype(np.float64)
    # sum_i m_i (t_i - s_i)^2 = sum m t^2 - 2 (m t) . s + m . s^2, for all pairs at once.
    # OpenCV's products: BLAS's threaded ones stall on a busy two-core machine (see patch_basis).
    distance = ((weights * targets**2).sum(axis=1)[:, None]
                - cv2.gemm(weights * targets, sources, 2.0, None, 0.0, flags=cv2.GEMM_2_T)
                + cv2.gemm(weights, sources**2, 1.0, None, 0.0, flags=cv2.GEMM_2_T))
    distance /= np.maximum(weights.sum(axis=1), 1.0)[:, None]
    return distance


def _peel(level: _Level) -> None:
    """Fill the (coarsest) level's hole from its edge inwards, one ring of pixels at a time (an onion
    peel): each pixel of the ring takes the centre of the source patch nearest to its patch's known and
    already filled pixels. The EM then starts from a guess made of the painting's own colours; from a
    smooth interpolation (a mix of what surrounds the hole) the search kept choosing the painting's
    mid-tone patches (on Kandinsky, a beige patchwork between a black ground and an orange field)."""
    sy, sx = np.nonzero(level.allowed)
    if sy.size == 0:
        return
    remaining = level.unknown.copy()
    ring = np.ones((3, 3), np.uint8)
    while remaining.any():
        front = remaining & (cv2.dilate((~remaining).astype(np.uint8), ring) > 0)
        if not front.any():
            return
        ty, tx = np.nonzero(front)
        distance = _masked_distances(level, ty, tx, ~remaining, sy, sx)
        best = np.argmin(distance, axis=1)
        level.image[ty, tx] = level.image[sy[best], sx[best]]
        remaining &= ~front


def _start_field(level: _Level, rng: np.random.Generator) -> Field:
    """The coarsest level's first field: the hole peeled (see :func:`_peel`), then each patch's nearest
    source patch, found exhaustively (the level is small)."""
    _peel(level)
    ty, tx = np.nonzero(level.targets)
    field = random_field(ty, tx, level.allowed, rng)
    sy, sx = np.nonzero(level.allowed)
    if sy.size == 0:
        return field
    distance = _masked_distances(level, ty, tx, np.ones(level.shape, bool), sy, sx)
    best = np.argmin(distance, axis=1)
    field.sy, field.sx = sy[best].astype(np.int64), sx[best].astype(np.int64)
    field.cost = distance[np.arange(ty.size), best].astype(np.float32)
    return field


#: Start the hole from a smooth interpolation of its surroundings (push-pull) instead of what lay there.
SMOOTH_START = True


def smooth_fill(image: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """``image`` with ``unknown`` replaced by a smooth interpolation of the known pixels around it
    (push-pull: known pixels averaged down a pyramid until none is missing, then read back up)."""
    known = (~unknown).astype(np.float32)
    if known.all() or not known.any():
        return image
    channels = image.shape[2]
    levels = [(image * known[..., None], known)]
    while (levels[-1][1] <= 1e-6).any() and min(levels[-1][1].shape) > 1:
        values, weights = levels[-1]
        size = ((weights.shape[1] + 1) // 2, (weights.shape[0] + 1) // 2)
        levels.append((area_reduce(values, size).reshape(size[::-1] + (channels,)),
                       cv2.resize(weights, size, interpolation=cv2.INTER_AREA)))
    values, weights = levels[-1]
    estimate = values / np.maximum(weights, 1e-6)[..., None]
    for values, weights in reversed(levels[:-1]):
        size = (weights.shape[1], weights.shape[0])
        coarse = cv2.resize(estimate, size, interpolation=cv2.INTER_LINEAR).reshape(values.shape)
        trust = np.clip(weights, 0.0, 1.0)[..., None]
        estimate = trust * values / np.maximum(weights, 1e-6)[..., None] + (1.0 - trust) * coarse
    out = image.copy()
    out[unknown] = estimate[unknown]
    return out


def texture_features(image: np.ndarray) -> np.ndarray:
    """(h, w, 1): the local mean of |d/dx| + |d/dy| of the lightness (see TEXTURE_WEIGHT)."""
    grey = image.mean(axis=2).astype(np.float32)
    magnitude = (np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3))
                 + np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))) / 8
    return cv2.blur(magnitude, (TEXTURE_WINDOW, TEXTURE_WINDOW))[..., None]


def fits_a_patch(unknown: np.ndarray, readable: np.ndarray) -> bool:
    """Whether at least one whole patch (finest level) lies in ``readable`` painting outside ``unknown``:
    the synthesis needs one to copy from (a canvas a few pixels across, or a hole with a sliver of
    painting around it, has none)."""
    side = 2 * PATCH_RADIUS + 1
    kernel = np.ones((side, side), np.uint8)
    source = (readable & ~unknown).astype(np.uint8)
    return bool(cv2.erode(source, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).any())


def synthesize(image: np.ndarray, unknown: np.ndarray, readable: np.ndarray, rng: np.random.Generator) -> Synthesis:
    """Fill ``unknown`` in ``image`` ((h, w, C) float32) from patches lying wholly in ``readable``."""
    if SMOOTH_START:  # what lay in the hole (the moved object) must not steer the search
        image = smooth_fill(image, unknown)
    channels = image.shape[2]
    if TEXTURE_WEIGHT > 0:  # measured on the known painting, carried into the hole as the colours are
        features = smooth_fill(TEXTURE_WEIGHT * texture_features(image), unknown)
        image = np.concatenate([image, features], axis=2).astype(np.float32)
    levels = _pyramid(image, unknown, readable)
    r = PATCH_RADIUS
    coarsest = levels[-1]
    field: Field | None = _start_field(coarsest, rng)
    _vote(coarsest, field, _weights(coarsest, field))
    previous_shape = coarsest.shape
    for depth in range(len(levels) - 1, -1, -1):
        level = levels[depth]
        basis = patch_basis(level.image, level.allowed, level.radius, rng)
        source = describe(level.image, basis)
        if depth == len(levels) - 1:
            steps = EM_COARSEST
        else:
            field = _upsample(field, previous_shape, level, rng)
            _vote(level, field, level.confidence[field.ty, field.tx].astype(np.float32))
            steps = EM_FINEST if depth == 0 else EM_MIDDLE
        index = field.index_map(level.shape)
        neighbours = Neighbours.of(field, index)
        for _ in range(steps):
            target = describe_at(level.image, basis, field.ty, field.tx)
            refresh_costs(field, target, source, level.allowed)
            improve(field, neighbours, target, source, level.allowed, rng, SWEEPS)
            _vote(level, field, _weights(level, field))
        previous_shape = level.shape
    finest = levels[0]
    target = describe_at(finest.image, basis, field.ty, field.tx)
    refresh_costs(field, target, source, finest.allowed)
    nearest = Neighbours.of(field, index, jumps=(1,))
    for _ in range(COHERENCE_PASSES):
        propagate(field, nearest, target, source, finest.allowed, slack=COHERENCE_SLACK)
    height, width = unknown.shape
    offset = np.zeros((height + 2 * r, width + 2 * r, 2), np.int64)
    weight = np.zeros((height + 2 * r, width + 2 * r), np.float32)
    offset[field.ty, field.tx, 0], offset[field.ty, field.tx, 1] = field.sy - field.ty, field.sx - field.tx
    weight[field.ty, field.tx] = _weights(finest, field)
    inner = (slice(r, r + height), slice(r, r + width))
    return Synthesis(offset[inner], weight[inner], np.ascontiguousarray(finest.image[inner][..., :channels]), unknown,
                     readable & ~unknown)
