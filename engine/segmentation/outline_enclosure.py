"""A click's answer widened to the painted outline that encloses it.

Many paintings draw their shapes with a dark outline stroke (cloisonnism, Picasso, Matisse, comics,
stained glass). A click on such a shape should select all of it, outline included, but the
segmenter often answers the part whose colours it recognises: one colour field of a shape that holds
several, stopped short by a stroke inside it or by the shape's own edge. Here the thin dark strokes
around the answer are found (a morphological black-hat: darker than everything within a few pixels,
so a stroke, not a dark passage), and the stroke loop that closes around the click is filled (the
strokes inside it are filled along with the rest). The filled loop is offered when it holds the answer,
reaches beyond it, and the answer runs along it for a good part of its outline (the answer is a part of
the outlined shape, not a detail well inside it), and its outer edge runs in the outline's colour for at least half
its length (a loop that closed through the ground's own strokes, a tree's branches, floods beyond the shape in their
colour: LOOP_RING_SHARE). Where the ground's own thin dark strokes (grass, twigs,
the lines of a drawing) touch the outline, the loop opens onto them and fills far beyond the shape; then
the loop is looked for again among the strokes of the outline's own colour only, read where the answer
touches it (a painted outline is one colour along its length; the ground's strokes mostly are not), and
offered when it widens the answer as above. Where the outline runs beside a ground nearly as dark as itself
the stroke stands out less there; the loop is then looked for again at lower contrasts, and one found only
there is offered when it widens the answer and runs in the outline's colour. Where the outline runs between dark
paint inside and a dark ground, it stands out from both by little (a figure's dark coat on Kandinsky's dark
ground); the loop is then looked for among the strokes of the outline's colour alone, down to a contrast of 10,
and offered when it widens the answer without taking in a dark passage of that colour wider than a stroke (more
of it than the answer itself holds: a shape painted as dark as its outline adds its own dark parts). Where
the stroke is broken (the outline runs over a ground as dark as itself) nothing closes, and nothing is offered
(the segmenter then looks for the outline as a path of its colour: :mod:`engine.segmentation.outline_path`).

Chosen on BSDS500 val (outlined objects, and plain clicks, which must not change for the worse); the colour-alone
step at the lowest contrast was found on a held-out painting's object and only checked on val (no val answer
changes; the dark-passage test comes from the one it changed for the worse without it), and so was the allowance
for a shape as dark as its outline (WIDE_DARK_OWN; no val answer changes). The ring test of the loop at the
first contrast (LOOP_RING_SHARE) was chosen on val, the held-out draws run once after.
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable, NamedTuple

import cv2
import numpy as np

from engine.mask_tools import fill_holes, inner_edge
from engine.masks import touches_border
from models.influence import mask_bbox

#: The crop around the answer reaches this many times the answer's larger side beyond it, each way
#: (the second when the loop runs out of the first).
MARGINS = (1.0, 3.0)
#: The crop is reduced so that its longer side is at most this (pixels): the cost.
CROP_SIDE = 800
#: Strokes up to about this wide (full pixels) are found: the black-hat's disc is a little wider.
STROKE_WIDTH = 8
#: A stroke pixel is at least this much darker (grey levels of 255) than the brightest near it
#: (the black-hat), and no brighter than this.
CONTRAST, DARKEST = 40.0, 110.0
#: The filled loop holds at least this share of the answer...
HOLDS = 0.9
#: ...is at least this many times the answer's area (less: no gain) and at most this many (more: the
#: answer is a detail inside a much larger outlined shape)...
MIN_GROWTH, MAX_GROWTH = 1.05, 8.0
#: ...or the answer spills over the loop all around (holds at least HOLDS of it, and at most SPILL_EDGE of
#: the loop's outline lies within TOUCH_DISTANCE of the answer's) and the loop keeps at least MIN_SHRINK of
#: the answer: the outline stops the answer where the segmenter did not. (Where the answer follows the loop
#: for a good part, the loop is more likely closed by a stroke inside the object, an eyelid, a fold.)
MIN_SHRINK, SPILL_EDGE = 0.2, 0.3
#: ...and at least TOUCH_SHARE of the answer's outline lies within TOUCH_DISTANCE (full pixels, at least)
#: of the loop's (the answer reaches the outline), but less than ALREADY_WHOLE (then it is the shape already).
TOUCH_SHARE, TOUCH_DISTANCE, ALREADY_WHOLE = 0.05, 6.0, 0.85
#: Gaps in the stroke up to about this wide (crop pixels) are closed.
GAP = 5
#: The outline's colour is read in a band this wide (full pixels) around the answer, from its darkest
#: quarter; there is no outline when that quarter is lighter than OUTLINE_GREY_MAX (grey levels of 255).
BAND, DARKEST_SHARE, OUTLINE_GREY_MAX = 6, 25.0, 90.0
#: An answer that may hold part of the outline has its outline's colour read on both sides of its edge
#: (``outline_colour(..., inside_too=True)``), from the darkest HELD_DARKEST_SHARE per cent there: inside it, most
#: of the band is the answer's own paint.
HELD_DARKEST_SHARE = 10.0
#: The second try keeps the strokes within this RGB distance of the outline's colour.
OUTLINE_COLOUR_TOLERANCE = 30.0
#: Where no loop qualifies at CONTRAST, the black-hat's contrast is lowered to each of these in turn (an outline
#: beside a ground nearly as dark as itself stands out from it by less); a loop first found at a lower contrast is
#: offered only when it widens the answer and at least RING_COLOUR_SHARE of its outer RING_WIDTH full pixels lie
#: within OUTLINE_COLOUR_TOLERANCE of the outline's colour (a painted outline is one colour along its length; the
#: ground's dark strokes that a lower contrast also takes in mostly are not). Chosen on BSDS500 val (thirty-fifth
#: session): 40 outlined objects, 3 answers better, none worse; 300 plain regions, none changed. Below 20 the
#: ground's texture closes loops of its own.
LOWER_CONTRASTS = (30.0, 20.0)
#: Where a loop of every stroke at a lower contrast runs out of the outline's colour (it opened onto the ground's
#: strokes), or none closes, the loop is looked for among the strokes of the outline's colour only, at each of
#: these contrasts in turn: an outline between dark paint inside and a dark ground stands out from both by
#: little, but keeps its colour.
COLOUR_CONTRASTS = (30.0, 20.0, 10.0)
#: Such a loop is offered only when at most this share of what it adds to the answer is of the outline's colour and
#: wider than a stroke (survives an opening by the black-hat's disc): it did not close through a dark ground. A shape
#: painted as dark as its outline (a black panther) adds parts of its own dark paint: what is added may then be as
#: wide and dark as the answer is, up to WIDE_DARK_OWN times its share in the answer.
WIDE_DARK_SHARE, WIDE_DARK_OWN = 0.05, 1.5
RING_WIDTH, RING_COLOUR_SHARE = 3.0, 0.75
#: A loop found at CONTRAST itself is offered only when at least LOOP_RING_SHARE of its outer RING_WIDTH full pixels
#: lie within OUTLINE_COLOUR_TOLERANCE of the outline's colour (read outside the answer, or on both sides of its edge
#: where nothing dark lies outside it: the answer holds its outline). A loop that closed through the ground's own thin
#: dark strokes (a tree's branches, palm fronds, a building's window bars) runs mostly in other colours and floods
#: far beyond the shape; the loop is then looked for among the strokes of the outline's colour only
#: (COLOUR_CONTRASTS). Chosen on BSDS500 val (forty-second session): of 240 outlined objects (12 draws) 15 answers
#: better (the most 0.19 -> 0.90), none worse; of 300 plain regions 2 better, none worse; no answer on the painting
#: grid changes. The loops found at CONTRAST there that made an answer better read mostly 0.5-0.97 (three 0.30-0.45,
#: whose objects the later steps then found better still), the floods 0.2-0.45 (two 0.63-0.66), so RING_COLOUR_SHARE
#: (0.75) would refuse many good ones; at 0.4 six of the gains are lost, 0.6 scores as 0.5, 0.7 less (0.894 against
#: 0.896: two floods of tiger stripes as black as the outline go, one good loop 0.97 -> 0.33).
#: A loop first found at a lower contrast beside an answer that holds its outline (nothing dark lies outside it, so no
#: outline's colour is read there for RING_COLOUR_SHARE) is judged as a loop at CONTRAST: its colour read on both
#: sides of the answer's edge, LOOP_RING_SHARE of its outer edge in it (before, every such loop was refused), and at
#: least HELD_ADDS_OUTLINE of what it adds in that colour: it takes in a stretch of the outline the answer left out.
#: (An answer that holds all its outline is the shape already; a loop closed round it by the ground's grain at a
#: lower contrast adds only ground: 0.02 of it in the outline's colour on a test canvas, 0.19-0.49 on val's gains.)
LOOP_RING_SHARE = 0.5
HELD_ADDS_OUTLINE = 0.1
#: A loop among the strokes of the outline's colour (COLOUR_CONTRASTS) whose outer edge is not RING_COLOUR_SHARE in the
#: colour read beside the answer (that band also holds the ground's or the shape's own dark paint) is still offered
#: when at least OWN_RING_SHARE of its outer RING_WIDTH pixels lie within OUTLINE_COLOUR_TOLERANCE of the edge's own
#: colour (the median of its darkest quarter): a painted outline is one colour along its length. Both chosen on
#: BSDS500 val (forty-third session, 480 outlined objects: 12 draws of 40): 3 answers better (0.56 -> 0.90,
#: 0.36 -> 0.73, 0.92 -> 0.94), none worse; the val loops these refused that would have made an answer worse read
#: 0.40-0.80 of their own colour (0.85 and over: only loops that made it better).
OWN_RING_SHARE = 0.85


def enclosing_outline(image: np.ndarray, answer: np.ndarray, click: tuple[float, float]) -> np.ndarray | None:
    """The shape inside the dark outline stroke that encloses ``click`` (x, y) and holds ``answer``
    ((H, W) bool, the segmenter's answer to that click on ``image``, (H, W, 3) uint8 RGB), stroke
    included, as an (H, W) bool mask; None when no closed stroke qualifies."""
    bbox = mask_bbox(answer)
    if bbox is None:
        return None
    crops: dict[tuple[int, int, int, int], _Crop] = {}  # each box's crop made once, for every contrast
    found = _enclosing_at(image, answer, click, bbox, CONTRAST, crops)
    if found is not None:
        if _ring_colour_share(image, answer, found, inside_too=True) >= LOOP_RING_SHARE:
            return found
    else:
        for contrast in LOWER_CONTRASTS:
            found = _enclosing_at(image, answer, click, bbox, contrast, crops)
            if found is not None:  # a lower contrast only adds strokes: its loop is this one or larger
                if _widens_in_outline_colour(image, answer, found) or _widens_holding_outline(image, answer, found):
                    return found
                break
    for contrast in COLOUR_CONTRASTS:
        found = _enclosing_at(image, answer, click, bbox, contrast, crops, colour_only=True)
        if found is not None:
            return found if _widens_in_outline_colour(image, answer, found, thin_only=True) else None
    return None


def _widens_in_outline_colour(image: np.ndarray, answer: np.ndarray, found: np.ndarray,
                              thin_only: bool = False) -> bool:
    """Whether a loop ``found`` at a lower contrast widens ``answer`` and runs in the outline's colour
    (``thin_only``: and takes in no dark ground of that colour, see WIDE_DARK_SHARE)."""
    widens = int(np.count_nonzero(found)) > int(np.count_nonzero(answer))
    return widens and _runs_in_outline_colour(image, answer, found, thin_only)


def _widens_holding_outline(image: np.ndarray, answer: np.ndarray, found: np.ndarray) -> bool:
    """Whether a loop ``found`` at a lower contrast widens an ``answer`` that holds its outline (nothing dark lies
    outside it, so :func:`_widens_in_outline_colour` reads no outline's colour), runs, as a loop at CONTRAST must,
    for at least LOOP_RING_SHARE in the outline's colour read on both sides of the answer's edge, and adds some of
    the outline (HELD_ADDS_OUTLINE)."""
    if int(np.count_nonzero(found)) <= int(np.count_nonzero(answer)):
        return False
    outside = _read_around(image, answer, found, inside_too=False)
    if outside is None or outside.colour is not None:
        return False
    around = outside._replace(colour=outline_colour(outside.colours, outside.grey, outside.held, 1, inside_too=True))
    if around.colour is None or _ring_share(around) < LOOP_RING_SHARE:
        return False
    added = around.inside & ~around.held
    return float(of_outline_colour(around.colours[added], around.colour).mean()) >= HELD_ADDS_OUTLINE


def _enclosing_at(image: np.ndarray, answer: np.ndarray, click: tuple[float, float], bbox: tuple[int, int, int, int],
                  contrast: float, crops: dict[tuple[int, int, int, int], "_Crop"],
                  colour_only: bool = False) -> np.ndarray | None:
    """:func:`enclosing_outline` with strokes of the black-hat ``contrast`` (``colour_only``: of the outline's colour
    only); ``bbox`` the answer's box, ``crops`` the crops made so far (by the box asked for; added to)."""
    height, width = answer.shape
    for share in MARGINS:
        box = search_box(bbox, share, answer.shape)
        if box not in crops:
            crops[box] = _Crop(image, answer, box)
        found = _enclosed_in(crops[box], answer.shape, click, contrast, colour_only)
        if found is not _RUNS_OUT:
            return found
        if box == (0, 0, width, height):
            return None
    return None


def search_box(bbox: tuple[int, int, int, int], share: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) searched for the outline around an answer's ``bbox``: ``share`` times its larger side
    and a stroke's width beyond it each way, within an image of ``shape`` (H, W)."""
    height, width = shape
    margin = int(np.ceil(share * max(bbox[2] - bbox[0], bbox[3] - bbox[1]))) + STROKE_WIDTH
    return (max(0, bbox[0] - margin), max(0, bbox[1] - margin), min(width, bbox[2] + margin),
            min(height, bbox[3] + margin))


def touching_share(shape: np.ndarray, part: np.ndarray, step: int) -> float:
    """The share of the answer ``part``'s edge within TOUCH_DISTANCE (full pixels, at least 2 crop pixels) of
    ``shape``'s outside; both bool masks of a crop reduced ``step`` times."""
    near = max(2.0, TOUCH_DISTANCE / step)
    to_outside = cv2.distanceTransform(shape.view(np.uint8), cv2.DIST_L2, 3)
    return float((to_outside[inner_edge(part)] <= near).mean())


class _RingReading(NamedTuple):
    """The box around a shape and the answer it widens, as the colour tests read it: the box's colours (float32) and
    their grey levels, the outline's colour read there (None: no outline is read), and the shape's and the answer's
    parts of the box."""
    colours: np.ndarray
    grey: np.ndarray
    colour: np.ndarray | None
    inside: np.ndarray
    held: np.ndarray


def _read_around(image: np.ndarray, answer: np.ndarray, shape: np.ndarray, inside_too: bool) -> _RingReading | None:
    """The box around ``shape`` and ``answer`` (both (H, W) bool) with BAND + 2 pixels to spare, with the outline's
    colour read where the answer touches it (:func:`outline_colour`; ``inside_too``: :func:`outline_colour_or_held`);
    None when both are empty."""
    found = mask_bbox(shape | answer)
    if found is None:
        return None
    height, width = shape.shape
    margin = BAND + 2
    x0, y0 = max(0, found[0] - margin), max(0, found[1] - margin)
    x1, y1 = min(width, found[2] + margin), min(height, found[3] + margin)
    rgb = np.ascontiguousarray(image[y0:y1, x0:x1, :3])
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    colours = rgb.astype(np.float32)
    held = np.ascontiguousarray(answer[y0:y1, x0:x1])
    colour = (outline_colour_or_held if inside_too else outline_colour)(colours, grey, held, 1)
    return _RingReading(colours, grey, colour, np.ascontiguousarray(shape[y0:y1, x0:x1]), held)


def _outer_ring(around: _RingReading) -> np.ndarray:
    """The colours (N, 3) of the shape's outer RING_WIDTH pixels."""
    to_outside = cv2.distanceTransform(around.inside.view(np.uint8), cv2.DIST_L2, 3)
    return around.colours[(to_outside > 0) & (to_outside <= RING_WIDTH)]


def _ring_share(around: _RingReading) -> float:
    """The share of the shape's outer RING_WIDTH pixels within OUTLINE_COLOUR_TOLERANCE of the outline's colour."""
    ring = _outer_ring(around)
    return float(of_outline_colour(ring, around.colour).mean()) if len(ring) else 0.0


def _own_ring_share(around: _RingReading) -> float:
    """The share of the shape's outer RING_WIDTH pixels within OUTLINE_COLOUR_TOLERANCE of the ring's own colour (the
    median of its darkest quarter, see OWN_RING_SHARE)."""
    ring = _outer_ring(around)
    if not len(ring):
        return 0.0
    grey = ring @ np.float32([0.299, 0.587, 0.114])
    return float(of_outline_colour(ring, np.median(ring[grey <= np.percentile(grey, 25)], axis=0)).mean())


def _ring_colour_share(image: np.ndarray, answer: np.ndarray, shape: np.ndarray, inside_too: bool = False) -> float:
    """The share of ``shape``'s outer RING_WIDTH pixels within OUTLINE_COLOUR_TOLERANCE of the outline's colour read
    where ``answer`` touches it (``inside_too``: see :func:`_read_around`); 1 when no outline's colour is read (nothing
    dark lies along the answer's edge to tell the loop by)."""
    around = _read_around(image, answer, shape, inside_too)
    if around is None:
        return 0.0
    return 1.0 if around.colour is None else _ring_share(around)


def _runs_in_outline_colour(image: np.ndarray, answer: np.ndarray, shape: np.ndarray, thin_only: bool = False) -> bool:
    """Whether at least RING_COLOUR_SHARE of ``shape``'s outer RING_WIDTH pixels lie within OUTLINE_COLOUR_TOLERANCE
    of the outline's colour, read where ``answer`` touches it (:func:`outline_colour`); all (H, W) bool masks.
    ``thin_only``: or at least OWN_RING_SHARE of them lie within it of their own colour; and at most WIDE_DARK_SHARE
    of what ``shape`` adds to ``answer`` is of the outline's colour and wider than a stroke (or WIDE_DARK_OWN times the
    share of the answer that is)."""
    around = _read_around(image, answer, shape, inside_too=False)
    if around is None or around.colour is None:
        return False
    if _ring_share(around) < RING_COLOUR_SHARE and not (thin_only and _own_ring_share(around) >= OWN_RING_SHARE):
        return False
    if not thin_only:
        return True
    inside, held = around.inside, around.held
    added = inside & ~held
    in_colour = of_outline_colour(around.colours, around.colour)

    def wide_share(area: np.ndarray, of: np.ndarray) -> float:
        wide = cv2.morphologyEx((in_colour & area).view(np.uint8), cv2.MORPH_OPEN, stroke_kernel(1)) > 0
        return int(np.count_nonzero(wide & of)) / max(1, int(np.count_nonzero(of)))

    allowed = max(WIDE_DARK_SHARE, WIDE_DARK_OWN * wide_share(held, held))
    return wide_share(inside, added) <= allowed


_RUNS_OUT = object()
_OPEN = object()


def darkest_blocks(image: np.ndarray, answer: np.ndarray, box: tuple[int, int, int, int], crop_side: int,
                   prepare: Callable[[np.ndarray], np.ndarray] | None = None
                   ) -> tuple[tuple[int, int, int, int], int, np.ndarray, np.ndarray]:
    """``box`` (x0, y0, x1, y1) of ``image`` (its first three channels, passed through ``prepare``) and of
    ``answer`` ((H, W) bool), reduced by the integer step that brings the box's longer side to at most
    ``crop_side``: each reduced pixel the darkest of its block, so that a stroke thinner than a block
    stays as dark as it is painted, and the answer by area (half covered or more). The box is trimmed to
    a multiple of the step. Returns the trimmed box, the step, the reduced pixels and answer (bool)."""
    x0, y0, x1, y1 = box
    step = max(1, int(np.ceil(max(x1 - x0, y1 - y0) / crop_side)))
    x1, y1 = x0 + max(step, (x1 - x0) // step * step), y0 + max(step, (y1 - y0) // step * step)
    pixels = np.ascontiguousarray(image[y0:y1, x0:x1, :3])
    if prepare is not None:
        pixels = prepare(pixels)
    part = answer[y0:y1, x0:x1].view(np.uint8)
    if step == 1:
        return (x0, y0, x1, y1), step, pixels, part > 0
    pixels = cv2.erode(pixels, np.ones((step, step), np.uint8), anchor=(0, 0))[::step, ::step]
    size = ((x1 - x0) // step, (y1 - y0) // step)
    part = cv2.resize(part * np.uint8(255), size, interpolation=cv2.INTER_AREA) >= 128
    return (x0, y0, x1, y1), step, pixels, part


def thin_dark_strokes(grey: np.ndarray, kernel: np.ndarray, contrast: float | None = None) -> np.ndarray:
    """The pixels of ``grey`` (float32, 0-255) on a thin dark stroke, a bool mask: at least ``contrast`` (None:
    CONTRAST, read at the call, as every constant here, so a setting changed at run time reaches it) darker than the
    brightest within ``kernel`` (a morphological black-hat) and no brighter than DARKEST."""
    return _strokes(cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel), grey, CONTRAST if contrast is None else contrast)


def full_size(reduced: np.ndarray, size: tuple[int, int], box: tuple[int, int, int, int], step: int) -> np.ndarray:
    """``reduced`` (bool, over ``box`` reduced ``step`` times by :func:`darkest_blocks`) as a full-size
    (``size``) bool mask: enlarged bilinearly, half covered or more."""
    x0, y0, x1, y1 = box
    out = np.zeros(size, bool)
    out[y0:y1, x0:x1] = (cv2.resize(reduced.view(np.uint8) * np.uint8(255), (x1 - x0, y1 - y0),
                                    interpolation=cv2.INTER_LINEAR) >= 128) if step > 1 else reduced
    return out


def outline_colour(rgb: np.ndarray, grey: np.ndarray, answer: np.ndarray, step: int, *,
                   inside_too: bool = False) -> np.ndarray | None:
    """The colour (3,) of the dark outline stroke where ``answer`` (bool) touches it on ``rgb`` (float32; ``grey``
    its grey levels), reduced ``step`` times by :func:`darkest_blocks`: the median of the darkest DARKEST_SHARE
    per cent of a band BAND full pixels wide around the answer (``inside_too``: of HELD_DARKEST_SHARE per cent of a
    band on both sides of its edge, for an answer that may hold part of the outline); None when that share is
    lighter than OUTLINE_GREY_MAX."""
    square, widths = np.ones((3, 3), np.uint8), max(1, round(BAND / step))
    grown = cv2.dilate(answer.view(np.uint8), square, iterations=widths) > 0
    band = grown & ~(cv2.erode(answer.view(np.uint8), square, iterations=widths) > 0 if inside_too else answer)
    if not band.any():
        return None
    darkest = np.percentile(grey[band], HELD_DARKEST_SHARE if inside_too else DARKEST_SHARE)
    if darkest > OUTLINE_GREY_MAX:
        return None
    return np.median(rgb[band & (grey <= darkest)], axis=0)


def outline_colour_or_held(rgb: np.ndarray, grey: np.ndarray, answer: np.ndarray, step: int) -> np.ndarray | None:
    """:func:`outline_colour` read outside ``answer``, or, where nothing dark lies outside it (the answer may hold its
    outline), on both sides of its edge (``inside_too``); None where neither reads an outline."""
    colour = outline_colour(rgb, grey, answer, step)
    return outline_colour(rgb, grey, answer, step, inside_too=True) if colour is None else colour


class _Crop:
    """One box of the search reduced by :func:`darkest_blocks` (the trimmed ``box``, ``step``, the answer's
    ``part``), with the darkest grey of each block, its black-hat over the stroke ``kernel`` (``darker``), and, when
    first asked for, the same in colour for the second try (:attr:`in_colour`): what every contrast reads."""

    def __init__(self, image: np.ndarray, answer: np.ndarray, box: tuple[int, int, int, int]) -> None:
        self._image, self._answer, self._asked = image, answer, box
        self.box, self.step, grey, self.part = darkest_blocks(image, answer, box, CROP_SIDE,
                                                              lambda crop: cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY))
        self.grey = grey.astype(np.float32)
        self.kernel = stroke_kernel(self.step)
        self.darker = cv2.morphologyEx(self.grey, cv2.MORPH_BLACKHAT, self.kernel)

    @cached_property
    def in_colour(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The crop made in colour (each block's darkest per channel): its grey, its black-hat and its pixels of
        the outline's colour (:func:`outline_colour`, within OUTLINE_COLOUR_TOLERANCE); None without an outline."""
        colours = darkest_blocks(self._image, self._answer, self._asked, CROP_SIDE)[2]  # same box, step and part
        rgb = colours.astype(np.float32)
        grey = cv2.cvtColor(colours, cv2.COLOR_RGB2GRAY).astype(np.float32)
        colour = outline_colour(rgb, grey, self.part, self.step)
        if colour is None:
            return None
        return grey, cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, self.kernel), of_outline_colour(rgb, colour)


def of_outline_colour(rgb: np.ndarray, colour: np.ndarray, tolerance: float | None = None) -> np.ndarray:
    """Which pixels of ``rgb`` (float32, colours on the last axis) lie within ``tolerance`` (RGB distance; None:
    OUTLINE_COLOUR_TOLERANCE, read at the call) of the outline's ``colour`` (3,), a bool array of ``rgb``'s other
    axes."""
    tolerance = OUTLINE_COLOUR_TOLERANCE if tolerance is None else tolerance
    difference = rgb - colour
    return np.einsum("...c,...c->...", difference, difference) <= tolerance ** 2


def _strokes(darker: np.ndarray, grey: np.ndarray, contrast: float) -> np.ndarray:
    """:func:`thin_dark_strokes` from the black-hat ``darker`` of ``grey`` already made."""
    return (darker >= contrast) & (grey <= DARKEST)


def _enclosed_in(crop: _Crop, shape: tuple[int, int], click: tuple[float, float],
                 contrast: float, colour_only: bool = False) -> np.ndarray | None | object:
    """:func:`enclosing_outline` within ``crop``'s box, with the strokes of the black-hat ``contrast``, as a mask
    of the image's ``shape``; ``_RUNS_OUT`` when no loop around the click closes within the box. Tried with every
    thin dark stroke, then (when a loop closed but offers nothing) with the strokes of the outline's colour only
    (``colour_only``: with those alone)."""
    if not crop.part.any():
        return None
    point = crop_point(click, crop.box, crop.step, crop.grey.shape)
    if colour_only:
        found = _loop_in_colour(crop, point, contrast)
    else:
        found = _loop_around(_strokes(crop.darker, crop.grey, contrast), crop.part, point, crop.kernel, crop.step,
                             may_shrink=True)
        # Fewer strokes close no loop that all of them do not: no second try where none closed (_OPEN), only
        # where the loop reached the crop's border or did not fit the answer, or the click lies on a stroke.
        if found is None or found is _RUNS_OUT:
            gated = _loop_in_colour(crop, point, contrast)
            if isinstance(gated, np.ndarray):
                found = gated
    if found is _OPEN:
        return _RUNS_OUT
    return full_size(found, shape, crop.box, crop.step) if isinstance(found, np.ndarray) else found


def _loop_in_colour(crop: _Crop, point: tuple[int, int], contrast: float) -> np.ndarray | None | object:
    """:func:`_loop_around` ``point`` among the strokes of ``contrast`` in the outline's colour (never shrinking the
    answer); None when the crop reads no outline colour."""
    if crop.in_colour is None:
        return None
    grey, darker, own_colour = crop.in_colour
    return _loop_around(_strokes(darker, grey, contrast) & own_colour, crop.part, point, crop.kernel, crop.step,
                        may_shrink=False)


def stroke_kernel(step: int) -> np.ndarray:
    """The black-hat's disc for a crop reduced ``step`` times: a little wider than STROKE_WIDTH full pixels."""
    disc = 2 * max(1, int(np.ceil(STROKE_WIDTH / step / 2))) + 1 + 2
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc, disc))


def crop_point(click: tuple[float, float], box: tuple[int, int, int, int], step: int,
                shape: tuple[int, ...]) -> tuple[int, int]:
    """``click`` (x, y, full pixels) as (column, row) of the crop of ``box`` reduced ``step`` times."""
    x0, y0 = box[0], box[1]
    cx = min(shape[1] - 1, max(0, int(round((click[0] - x0 + 0.5) / step - 0.5))))
    cy = min(shape[0] - 1, max(0, int(round((click[1] - y0 + 0.5) / step - 0.5))))
    return cx, cy


def _loop_around(stroke: np.ndarray, part: np.ndarray, point: tuple[int, int], kernel: np.ndarray, step: int,
                 may_shrink: bool) -> np.ndarray | None | object:
    """The loop of ``stroke`` (bool, the crop's) closing around ``point`` (column, row), filled, when it widens
    the answer ``part`` (or, ``may_shrink``, cuts it: see HOLDS ... ALREADY_WHOLE), as a bool mask of the
    crop; None when it does not; ``_OPEN`` when no loop closes around the point, ``_RUNS_OUT`` when the one
    that does reaches the crop's border."""
    factor = 1.0 / step
    stroke = cv2.morphologyEx(stroke.view(np.uint8), cv2.MORPH_CLOSE, np.ones((GAP, GAP), np.uint8)) > 0
    # The filled loops, without the thin strokes of the ground that merely touch them from outside.
    filled = cv2.morphologyEx(fill_holes(stroke).view(np.uint8), cv2.MORPH_OPEN, kernel) > 0
    cx, cy = point
    if stroke[cy, cx]:
        return None  # the click is on a stroke
    if not filled[cy, cx]:
        return _OPEN  # no loop closes around the click here (it may close farther out)
    labels = cv2.connectedComponents(filled.view(np.uint8), connectivity=8)[1]
    shape = labels == labels[cy, cx]
    if touches_border(shape):
        return _RUNS_OUT
    area, answer_area = int(shape.sum()), int(part.sum())
    common = int((shape & part).sum())
    grows = MIN_GROWTH * answer_area <= area <= MAX_GROWTH * answer_area and common >= HOLDS * answer_area
    near = max(2.0, TOUCH_DISTANCE * factor)
    shrinks = MIN_SHRINK * answer_area <= area < answer_area / MIN_GROWTH and common >= HOLDS * area
    if shrinks and may_shrink:
        loop_edge = inner_edge(shape)
        to_answer_edge = cv2.distanceTransform(part.view(np.uint8), cv2.DIST_L2, 3)
        if float((to_answer_edge[loop_edge] <= near).mean()) <= SPILL_EDGE:
            return shape
        return None
    if not grows:
        return None
    if not TOUCH_SHARE <= touching_share(shape, part, step) < ALREADY_WHOLE:
        return None
    return shape
