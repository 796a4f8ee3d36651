"""A click's first answer grown to the object's edge by a graph cut (GrabCut, Rother et al. 2004),
as Photoshop's Quick Selection does.

The segmenter often answers a part of a painted object: the part whose colours it recognises, short
of the object's outline. GrabCut, started from that answer, learns the colours of the answer and of
its surroundings and moves the boundary to where the two differ most, here the strong edge of the
outline or of an object pasted from another picture. Seeds: sure object is the answer's core (its
pixels at least half as deep as its deepest) and a small disc at the click, probably object the
rest of the answer, probably background a band around it as wide as the square root of its area,
background beyond. The cut runs on a crop around the band at most ``CUT_SIDE`` pixels a side.

On photos of natural scenes the cut often shrinks an answer into one of its colours, or grows it
into a like-coloured neighbour. It is kept only when it keeps at least ``KEEP`` of the answer (it
grows the answer or trims its edge) and when its colours stand out from its surroundings at least
as clearly as the answer's did (:func:`colour_separation`). Chosen on BSDS500 val only (outlined
objects and plain clicks); the README has the figures.

Where the answer is one patch of an object painted in many colours (a collage, a cloisonné shape), the
cut learns the patch's colour alone and stops at the strokes around it (it is refused, or grows the patch
a little); :func:`grow_within_outline` then starts a cut from the segmenter's largest candidate, and
keeps it only where it is an outlined shape.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.mask_tools import fill_holes
from engine.segmentation.outline_enclosure import thin_dark_strokes
from models.influence import mask_bbox

#: Width of the band around the answer where the cut may grow it, over the square root of its area.
BAND = 1.0
#: The answer's pixels at least this share of its greatest depth are sure object.
CORE = 0.5
#: The crop is reduced so its longer side is at most this (working pixels): the cost.
CUT_SIDE = 160
#: Rounds of colour models and cut: a second changed the mean answer on val by at most 0.006 and
#: cost 40 % more.
ITERATIONS = 1
#: The cut is kept only when it keeps at least this share of the answer.
KEEP = 0.9
#: A cut started from a larger candidate (:func:`grow_within_outline`) is tried only when that candidate
#: covers at most SEED_MAX_SHARE of the picture and runs along dark strokes for at least SEED_ON_STROKES of
#: its outline. It runs on a crop of at most SEED_SIDE working pixels a side, with a band of probable ground
#: SEED_BAND times the square root of the candidate's area wide (1.0, as from the answer, grew one more of
#: the 60 outlined val objects for 40 % more time a cut; 0.5 lost the held-out Frida Kahlo collage click).
SEED_MAX_SHARE, SEED_ON_STROKES, SEED_SIDE, SEED_BAND = 0.25, 0.5, 256, 0.75
#: It is kept only when it grows the answer at least SEED_GROWTH times (it is there to reach the rest of
#: the object), at least ON_STROKES of its outline lies within STROKE_NEAR working pixels of a dark stroke
#: (the black-hat of ``engine.segmentation.outline_enclosure``)...
SEED_GROWTH, ON_STROKES, STROKE_NEAR = 1.1, 0.9, 2
#: ...and at most GROUND_STROKES of the pixels GROUND_BAND working pixels beyond it are strokes: a painted
#: outline stands out against its ground, a region bounded by the strokes of a stroke-filled painting (Van
#: Gogh's sky) does not. On BSDS500 val the outlined objects' cuts have 0.02-0.08 there, plain regions'
#: 0.22-0.23.
GROUND_STROKES, GROUND_BAND = 0.15, (4.0, 12.0)
#: The cut is not even tried when more than this share of the pixels beyond the larger candidate are
#: strokes (val: the candidates of the outlined objects it grew have 0.02-0.16 there): a cut costs 0.1-1 s.
SEED_GROUND_STROKES = 0.25
#: The surroundings whose colours a region is compared with: a ring this many times the square
#: root of its area wide.
RING = 0.15


def grow_to_edge(image: np.ndarray, mask: np.ndarray, click: tuple[float, float],
                 seed: np.ndarray | None = None, side: int | None = None, band_share: float | None = None
                 ) -> np.ndarray | None:
    """``mask`` (h, w) bool, the answer to a click at ``click`` (x, y) on ``image`` (h, w, 3) uint8,
    refined by a graph cut; None when the cut drops more than ``1 - KEEP`` of it or finds nothing.
    ``seed`` (h, w) bool, a larger region holding the answer: the cut starts from it instead (probably
    object; the answer's core stays sure object), so the object's colours are learnt from more than the
    answer's. ``side``: the crop's longer side is reduced to at most this (None: CUT_SIDE); ``band_share``: see BAND
    (None: BAND). The defaults are read at the call, so a setting changed at run time (a tuning tool's) reaches them."""
    side = CUT_SIDE if side is None else side
    band_share = BAND if band_share is None else band_share
    start = mask if seed is None else seed | mask
    bbox = mask_bbox(start)
    if bbox is None:
        return None
    height, width = mask.shape
    band = max(4, int(round(band_share * np.sqrt(start.sum()))))
    x0, y0 = max(0, bbox[0] - band - 2), max(0, bbox[1] - band - 2)
    x1, y1 = min(width, bbox[2] + band + 2), min(height, bbox[3] + band + 2)
    crop_height, crop_width = y1 - y0, x1 - x0
    factor = min(1.0, side / max(crop_height, crop_width))
    size = (max(1, round(crop_width * factor)), max(1, round(crop_height * factor)))
    answer = mask[y0:y1, x0:x1].astype(np.float32)
    started = start[y0:y1, x0:x1].astype(np.float32)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    if factor < 1.0:
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        answer = cv2.resize(answer, size, interpolation=cv2.INTER_AREA)
        started = cv2.resize(started, size, interpolation=cv2.INTER_AREA)
    inside = (answer >= 0.5).view(np.uint8)
    if not inside.any():
        return None
    probable = (started >= 0.5) | (inside > 0)
    band = max(2, round(band * factor))
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    state = np.full(inside.shape, cv2.GC_BGD, np.uint8)
    near = cv2.dilate(probable.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))) > 0
    state[near] = cv2.GC_PR_BGD
    state[probable] = cv2.GC_PR_FGD
    state[depth >= CORE * depth.max()] = cv2.GC_FGD
    cx = min(size[0] - 1, max(0, round((click[0] - x0 + 0.5) * factor - 0.5)))
    cy = min(size[1] - 1, max(0, round((click[1] - y0 + 0.5) * factor - 0.5)))
    cv2.circle(state, (cx, cy), 2, cv2.GC_FGD, -1)
    if not np.isin(state, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():  # no surroundings to learn the ground from
        return None
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: keep answers repeatable
    cv2.grabCut(crop, state, None, background, foreground, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    cut = ((state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)).view(np.uint8)
    _, parts = cv2.connectedComponents(cut, connectivity=4)
    cut = fill_holes(parts == parts[cy, cx])  # the clicked part, whole
    if factor < 1.0:
        cut = cv2.resize(cut.astype(np.float32), (crop_width, crop_height), interpolation=cv2.INTER_LINEAR) >= 0.5
    grown = np.zeros_like(mask)
    grown[y0:y1, x0:x1] = cut
    if (grown & mask).sum() < KEEP * mask.sum():
        return None
    if colour_separation(image, grown) < colour_separation(image, mask):
        return None
    return grown


def grow_within_outline(image: np.ndarray, mask: np.ndarray, click: tuple[float, float],
                        larger: np.ndarray) -> np.ndarray | None:
    """The answer ``mask`` grown by a graph cut started from ``larger`` (a larger candidate holding it), so
    that the object's colours are learnt from more than the answer's: a click on one patch of an object
    painted in many colours (a collage, a cloisonné shape) whose own strokes close the patch off. Kept
    only as :func:`grow_to_edge` keeps a cut, and only when the cut is an outlined shape: its outline runs
    along a dark stroke and the ground just beyond is not itself full of strokes (see ON_STROKES and
    GROUND_STROKES); None otherwise."""
    if larger.mean() > SEED_MAX_SHARE:
        return None
    strokes = dark_strokes(image)
    if _share_near(strokes, _outline(larger)) < SEED_ON_STROKES or _strokes_beyond(strokes, larger) > SEED_GROUND_STROKES:
        return None  # no outlined shape to reach (and the larger cut costs a few tenths of a second)
    grown = grow_to_edge(image, mask, click, seed=larger, side=SEED_SIDE, band_share=SEED_BAND)
    if grown is None or grown.sum() < SEED_GROWTH * mask.sum() or grown.mean() > SEED_MAX_SHARE:
        return None
    if _share_near(strokes, _outline(grown)) < ON_STROKES or _strokes_beyond(strokes, grown) > GROUND_STROKES:
        return None
    return grown


def _strokes_beyond(strokes: np.ndarray, mask: np.ndarray) -> float:
    """The share of stroke pixels GROUND_BAND pixels beyond ``mask`` (1 when there are none)."""
    outside = cv2.distanceTransform((~mask).view(np.uint8), cv2.DIST_L2, 3)
    beyond = (outside > GROUND_BAND[0]) & (outside <= GROUND_BAND[1])
    return float(strokes[beyond].mean()) if beyond.any() else 1.0


def dark_strokes(image: np.ndarray) -> np.ndarray:
    """The thin dark strokes of ``image`` (RGB, at the working size), a bool mask: the rule of
    :func:`engine.segmentation.outline_enclosure.thin_dark_strokes` over a 9-pixel disc."""
    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return thin_dark_strokes(grey, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))


def stroke_share(image: np.ndarray, mask: np.ndarray) -> float:
    """The share of ``mask``'s outline pixels lying within STROKE_NEAR pixels of a dark painted stroke."""
    return _share_near(dark_strokes(image), _outline(mask))


def _outline(mask: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0


def _share_near(strokes: np.ndarray, outline: np.ndarray) -> float:
    near = cv2.dilate(strokes.view(np.uint8), np.ones((2 * STROKE_NEAR + 1, 2 * STROKE_NEAR + 1), np.uint8)) > 0
    return float(near[outline].mean()) if outline.any() else 0.0


def colour_separation(image: np.ndarray, mask: np.ndarray) -> float:
    """How unlike its surroundings a region's colours are, 0-1: one minus the intersection of the
    colour histograms (8 bins a channel) of ``mask`` and of a ring around it ``RING`` times the
    square root of its area wide."""
    bbox = mask_bbox(mask)
    if bbox is None:
        return 0.0
    height, width = mask.shape
    ring = max(2, int(round(RING * np.sqrt(mask.sum()))))
    x0, y0 = max(0, bbox[0] - ring), max(0, bbox[1] - ring)
    x1, y1 = min(width, bbox[2] + ring), min(height, bbox[3] + ring)
    inside = np.ascontiguousarray(mask[y0:y1, x0:x1])
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    around = (cv2.dilate(inside.view(np.uint8), disc) > 0) & ~inside
    if not around.any():
        return 0.0
    bins = image[y0:y1, x0:x1] // 32
    codes = (bins[..., 0].astype(np.int32) * 8 + bins[..., 1]) * 8 + bins[..., 2]

    def histogram(where: np.ndarray) -> np.ndarray:
        counts = np.bincount(codes[where], minlength=512).astype(np.float64)
        return counts / counts.sum()

    return float(1.0 - np.minimum(histogram(inside), histogram(around)).sum())
