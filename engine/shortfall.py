"""How far short of its object's edge a selection stops.

A selection brushed by hand rarely hugs the object's painted outline: it stops a few pixels inside,
in the object's own paint. The rim matte (``engine.matte``) judges a band of fixed width beyond the
selection against the surroundings just beyond that band; when the selection stops short by about
the band's width, the outline stroke lies across the band's outer edge and in the surroundings
themselves, so it explains itself away and stays behind when the object moves (a selection 6 px
short of the stroke left 80 % of it on BSDS500 val). Here the edge is looked for: for each pixel of
the selection's boundary, the nearest strong edge beyond it (the pixels of the painting nearest to
that boundary pixel, within twice the band, whose CIELAB gradient is among the strongest there).
The shortfall is the lower quartile of those distances, less what a selection that hugs the edge
shows (the gradient's own spread). The matte's band and the edit's default reach grow by it, so the
stroke lies within the band and the surroundings are read beyond it; a selection that hugs its
object's edge (a click's answer) has none and nothing changes.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.imageio import to_float_rgb
from engine.locality import box_within_reach, place_over
from models.influence import mask_bbox

#: The shortfall is this quantile of the boundary pixels' distances to the nearest strong edge beyond them (a low
#: one: in a busy painting a boundary that cuts through the strokes finds its first edge at scattered distances, a
#: selection short of a stroke at about the same distance all round). Chosen on BSDS500 val (40 outlined objects,
#: their inside shrunk by 0 / 2 / 4 / 6 px: outline left 5.15 / 8.76 / 27.8 / 80.5 % before; the median, with lightness edges alone, 5.08 / 8.51 /
#: 14.0 / 21.8 %, the lower quartile 5.15 / 8.76 / 19.8 / 26.1 %) with `simnet eval`'s 56 edits (PSNR outside the
#: masks 30.82 dB before; the median 30.35, the quartile 30.65: its growths' colour-cluster regions cut through
#: strokes, and a wider band refills more of the painting around them).
SHORTFALL_QUANTILE = 0.25
#: ...a strong edge being a pixel whose gradient is at least this quantile of the gradients within the look...
EDGE_QUANTILE = 0.75
#: ...less this many pixels (a selection on the edge finds it a pixel or two out: the gradient's spread).
HUGGING = 2.0
#: The edge is looked for up to this many times the band beyond the selection; the shortfall is at most the band.
LOOK = 2.0
#: The painting is judged reduced so that the band is at most this many pixels wide (as the matte judges it).
WORK_BAND = 8.0

Box = tuple[int, int, int, int]


def selection_shortfall(image: np.ndarray, region: np.ndarray, box: Box, band: float) -> float:
    """How many pixels (0 to ``band``) beyond ``region`` (a mask over ``box`` = x0, y0, x1, y1 of ``image``)
    its object's edge lies, for a rim band ``band`` pixels wide (``engine.matte.rim_width``)."""
    found = mask_bbox(region)
    if found is None or band <= 0:
        return 0.0
    look = LOOK * band
    inner = (found[0] + box[0], found[1] + box[1], found[2] + box[0], found[3] + box[1])
    crop_box = box_within_reach(inner, look + 2.0, image.shape)
    cx0, cy0, cx1, cy1 = crop_box
    selected = place_over(region, box, crop_box)
    crop = image[cy0:cy1, cx0:cx1]
    scale = min(1.0, WORK_BAND / band)
    if scale < 1.0:  # reduced before the colours are converted: a large painting's crop costs little
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
        selected = cv2.resize(selected.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA) >= 128
        if not selected.any():
            return 0.0
    colours = cv2.cvtColor(to_float_rgb(crop), cv2.COLOR_RGB2Lab)
    colours = cv2.GaussianBlur(colours, (0, 0), 0.8).reshape(colours.shape)
    # Colour edges too: a region whose edge is a change of hue at one lightness hugs it as well.
    dx, dy = cv2.Sobel(colours, cv2.CV_32F, 1, 0), cv2.Sobel(colours, cv2.CV_32F, 0, 1)
    gradient = np.sqrt((dx * dx + dy * dy).reshape(colours.shape).sum(axis=2))
    # Each pixel beyond the selection, its distance and the boundary pixel nearest to it.
    distance, nearest = cv2.distanceTransformWithLabels((~selected).view(np.uint8), cv2.DIST_L2, 5,
                                                        labelType=cv2.DIST_LABEL_PIXEL)
    within = (distance > 0) & (distance <= look * scale)
    if not within.any():
        return 0.0
    strong = within & (gradient >= np.quantile(gradient[within], EDGE_QUANTILE))
    first = np.full(int(nearest.max()) + 1, look * scale, np.float32)
    np.minimum.at(first, nearest[strong], distance[strong])
    boundary = np.unique(nearest[within])
    shortfall = float(np.quantile(first[boundary], SHORTFALL_QUANTILE)) / scale - HUGGING
    return float(np.clip(shortfall, 0.0, band))
