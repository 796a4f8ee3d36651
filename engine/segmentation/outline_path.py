"""A click's answer widened to the cheapest closed path of the outline's colour around it.

:mod:`engine.segmentation.outline_enclosure` finds the painted outline around a click as a loop of thin dark
strokes closed by a small morphological gap. Where the outline runs beside paint nearly as dark as itself (a
black coat, a dark tree) its stroke does not stand out there and the loop stays open; where the answer covers part
of the outline, the outline's colour read beyond the answer is the ground's. Here the outline is looked for as a
path instead: the cheapest closed path around the answer's core over pixels of the outline's colour, cheapest on
thin strokes of that colour, dearer over patches of it, dearest (gaps of a pixel or two only) off it. The path
crosses a ray from the click exactly once, so it goes round the click: waves of arrival times (a Dial's
shortest-path search with a few integer costs, one dilation per cost and step) from one side of a crossing of the
ray to the other, the ray itself closed. The filled path, with the outline's strokes along it, is offered when
it runs in the outline's colour nearly all the way and mostly on its thin strokes, holds most of the answer and
widens it, and the ground beyond it is mostly of other colours and lighter than the path (a stroke painted on it,
not the darkest specks of a dark ground).

The outline's colour is read from the darkest tenth of a band on both sides of the answer's edge (the answer
may take in part of the outline; the band outside it alone then reads the ground's colour).

Where the answer spills over the outline into the ground beyond, no path closes round its core; the path is then
looked for round the part of the answer the click is in and cuts the spill off (:func:`_spill_cut`).

Chosen on BSDS500 val only (thirty-sixth and thirty-seventh sessions; outlined objects of four draws, 300 plain
regions, 128 clicks on a grid over the paintings, which must not change for the worse).
"""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from engine.mask_tools import fill_holes, without_specks
from engine.masks import touches_border
from engine.segmentation.base import SPECK_SHARE
import engine.segmentation.outline_enclosure as enclosure
from models.influence import mask_bbox

#: The crop around the answer reaches this many times the answer's larger side beyond it, each way, and is
#: reduced (each pixel the darkest of its block) so that its longer side is at most CROP_SIDE: the cost.
MARGIN, CROP_SIDE = 1.0, 200
#: A thin stroke of the outline's colour is at least this much darker than the brightest near it (black-hat).
THIN_CONTRAST = 20.0
#: The path's cost of a pixel: on a thin stroke of the outline's colour, on other pixels of that colour, and on a
#: pixel next to them (bridging a gap of a pixel or two); pixels farther from the colour are not crossed.
COST_STROKE, COST_COLOUR, COST_GAP = 1, 3, 31
#: The path crosses the ray from the click at one of this many runs of the outline's colour nearest the click.
CROSSINGS = 4
#: The path is offered when at least COLOUR_SHARE of it lies in the outline's colour and THIN_SHARE on its thin
#: strokes (the outline, not a dark passage), the filled path holds at least HOLDS of the answer (the answer may
#: spill over the outline a little), is MIN_GROWTH to MAX_GROWTH times its area, and at least TOUCH_SHARE of the
#: answer's edge lies near the path's (the answer reaches the outline).
COLOUR_SHARE, THIN_SHARE, HOLDS = 0.96, 0.6, 0.8
#: ...and the ground just beyond it (a ring one to three stroke widths out) is at most GROUND_IN_COLOUR of the
#: outline's colour, and lighter than the path by at least DARKER_THAN_GROUND grey levels (medians): on an evenly
#: noisy dark ground the darkest specks pass for thin strokes of a colour read from the ground itself (val outlines:
#: at most 0.55 and at least 11.5; such a ground: 0.69 and 5).
GROUND_IN_COLOUR, DARKER_THAN_GROUND = 0.6, 8.0
#: Where the answer spills over the outline: a piece of the answer cut off by the path that is at least DARK_PIECE
#: of the outline's colour is given back (a limb dark inside), and the cut is offered only when the path's shape
#: and the answer overlap less than SAME_IOU (else there is nothing to cut).
DARK_PIECE, SAME_IOU = 0.5, 0.95

_CLOSED = np.inf


class _Reading(NamedTuple):
    """The crop round an answer, reduced, as the path search reads it: the crop's ``box`` and ``step``, the answer's
    ``part`` of it, its grey levels, the outline's ``colour`` and its pixels (``in_colour``, and ``near_colour``
    within a pixel of them), the click's (column, row) and a stroke width in crop pixels (``reach``)."""
    box: tuple[int, int, int, int]
    step: int
    part: np.ndarray
    grey: np.ndarray
    colour: np.ndarray
    in_colour: np.ndarray
    near_colour: np.ndarray
    point: tuple[int, int]
    reach: int


def outline_path(image: np.ndarray, answer: np.ndarray, click: tuple[float, float]) -> np.ndarray | None:
    """The shape inside the cheapest closed path of the outline's colour around ``click`` (x, y) and the core of
    ``answer`` ((H, W) bool, the segmenter's answer to that click on ``image``, (H, W, 3) uint8 RGB), with the
    outline's strokes along it, as an (H, W) bool mask; None when no such path qualifies.

    Where the answer spills over the outline (it covers a stretch of the stroke and the ground beyond), no path
    goes round its core; the path is then looked for round the part of the answer the click is in, short of the
    outline's colour, and offered when what it cuts off looks like the ground (:func:`_spill_cut`)."""
    reading = _read(image, answer, click)
    if reading is None:
        return None
    core = cv2.erode(reading.part.view(np.uint8), _square(reading.reach)) > 0
    path, shape = _path_shape(reading, core if core.any() else reading.part), None
    if path is _ESCAPES:
        clicked = _clicked_part(reading)
        shape = None if clicked is None else _spill_cut(reading, _path_shape(reading, clicked))
    elif isinstance(path, _Path):
        area, answer_area = int(path.shape.sum()), int(reading.part.sum())
        if enclosure.MIN_GROWTH * answer_area <= area <= enclosure.MAX_GROWTH * answer_area and \
                int((path.shape & reading.part).sum()) >= HOLDS * answer_area:
            shape = path.shape
    if shape is None or enclosure.touching_share(shape, reading.part, reading.step) < enclosure.TOUCH_SHARE:
        return None
    return _at_full_resolution(image, answer, enclosure.full_size(shape, answer.shape, reading.box, reading.step),
                               reading.box, reading.step, reading.colour)


def _read(image: np.ndarray, answer: np.ndarray, click: tuple[float, float]) -> _Reading | None:
    """The crop round ``answer`` as the search reads it; None without an outline's colour or with the click off
    the answer."""
    bbox = mask_bbox(answer)
    if bbox is None:
        return None
    box, step, colours, part = enclosure.darkest_blocks(image, answer, enclosure.search_box(bbox, MARGIN, answer.shape),
                                                        CROP_SIDE)
    rgb = colours.astype(np.float32)
    grey = cv2.cvtColor(colours, cv2.COLOR_RGB2GRAY).astype(np.float32)
    colour = enclosure.outline_colour(rgb, grey, part, step, inside_too=True)
    if colour is None:
        return None
    column, row = enclosure.crop_point(click, box, step, grey.shape)
    if not part[row, column]:
        return None
    in_colour = enclosure.of_outline_colour(rgb, colour)
    near_colour = cv2.dilate(in_colour.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return _Reading(box, step, part, grey, colour, in_colour, near_colour, (column, row),
                    max(1, int(round(enclosure.STROKE_WIDTH / step))))


_ESCAPES = object()


class _Path(NamedTuple):
    """The filled path with the outline's strokes along it (bool, crop-sized), and the path's median grey."""
    shape: np.ndarray
    grey: float


def _path_shape(reading: _Reading, core: np.ndarray) -> _Path | object | None:
    """The filled cheapest path round ``core`` (bool, crop-sized, holding the click) with the outline's thin strokes
    along it, when the path runs in the outline's colour and on its strokes and the ground beyond is other and
    lighter; _ESCAPES when no path of the colour closes round the click; None otherwise."""
    column, row = reading.point
    closed = ~reading.near_colour | core
    closed[row, column] = True
    if _escapes(closed, reading.point):
        return _ESCAPES  # no path of the colour closes around the click within the crop
    darker = cv2.morphologyEx(reading.grey, cv2.MORPH_BLACKHAT, enclosure.stroke_kernel(reading.step))
    in_colour = reading.in_colour
    thin = (darker >= THIN_CONTRAST) & in_colour
    cost = np.where(thin, COST_STROKE, np.where(in_colour, COST_COLOUR, COST_GAP)).astype(np.float64)
    cost[closed] = _CLOSED
    loop = _cheapest_loop(cost, in_colour & ~core, reading.point)
    if loop is None or float(in_colour[loop].mean()) < COLOUR_SHARE or float(thin[loop].mean()) < THIN_SHARE:
        return None
    region = fill_holes(loop)
    shape = fill_holes(region | ((cv2.dilate(region.view(np.uint8), _square(reading.reach)) > 0) & thin))
    outside = cv2.distanceTransform((~shape).view(np.uint8), cv2.DIST_L2, 3)
    beyond = (outside > reading.reach) & (outside <= 3 * reading.reach)
    found = _Path(shape, float(np.median(reading.grey[loop])))
    if not beyond.any() or not _like_ground(reading, beyond, found):
        return None  # the path runs in the ground's own dark tail, not on a stroke painted over it
    return found


def _like_ground(reading: _Reading, pixels: np.ndarray, path: _Path) -> bool:
    """Whether ``pixels`` (bool, crop-sized) are mostly of other colours than the outline's and lighter than the
    ``path`` (a stroke painted on a ground, not the darkest specks of a dark ground)."""
    return float(reading.in_colour[pixels].mean()) <= GROUND_IN_COLOUR and \
        float(np.median(reading.grey[pixels])) - path.grey >= DARKER_THAN_GROUND


def _clicked_part(reading: _Reading) -> np.ndarray | None:
    """The part of the answer the click is in, short of the outline's colour (4-connected); None when the click
    is on the colour."""
    free = reading.part & ~reading.near_colour
    column, row = reading.point
    if not free[row, column]:
        return None
    labels = cv2.connectedComponents(free.view(np.uint8), connectivity=4)[1]
    return labels == labels[row, column]


def _spill_cut(reading: _Reading, path: _Path | object | None) -> np.ndarray | None:
    """The shape of ``path`` (:func:`_path_shape` round the clicked part of an answer that spills over the outline)
    when it keeps MIN_SHRINK of the answer or more, differs from it (IoU under SAME_IOU), and what it cuts off
    looks like the ground beyond the outline, with the pieces it cuts off that are mostly of the outline's colour
    given back (a thin limb, dark inside, that the path cut across); else None."""
    if not isinstance(path, _Path):
        return None
    shape, part = path.shape, reading.part
    area, answer_area, held = int(path.shape.sum()), int(part.sum()), int((path.shape & part).sum())
    if not enclosure.MIN_SHRINK * answer_area <= area <= enclosure.MAX_GROWTH * answer_area or \
            held >= SAME_IOU * (area + answer_area - held):
        return None
    count, pieces = cv2.connectedComponents((part & ~shape).view(np.uint8), connectivity=8)
    for label in range(1, count):
        piece = pieces == label
        if float(reading.in_colour[piece].mean()) >= DARK_PIECE:
            shape = shape | piece
    cut = part & ~shape
    return shape if not cut.any() or _like_ground(reading, cut, path) else None


def _square(reach: int) -> np.ndarray:
    return np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)


def _at_full_resolution(image: np.ndarray, answer: np.ndarray, enlarged: np.ndarray, box: tuple[int, int, int, int],
                        step: int, colour: np.ndarray) -> np.ndarray:
    """``enlarged`` (the shape found on the crop of ``box`` reduced ``step`` times, enlarged to full size) with its
    blocky edge settled on ``image``: within about a block of its edge only the answer's pixels and those of the
    outline's ``colour`` stay, specks dropped, and what they close is filled (the outline's outer edge,
    not the block's)."""
    if step == 1:
        return enlarged
    x0, y0, x1, y1 = box
    shape = np.ascontiguousarray(enlarged[y0:y1, x0:x1])
    width = 2 * (step + 1) + 1
    inner = cv2.erode(shape.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))) > 0
    pixels = np.ascontiguousarray(image[y0:y1, x0:x1, :3]).astype(np.float32)
    kept = shape & (enclosure.of_outline_colour(pixels, colour) | answer[y0:y1, x0:x1])
    out = np.zeros_like(enlarged)
    # pixels of the outline's colour in a dark ground beside the outline are specks (see SPECK_SHARE)
    out[y0:y1, x0:x1] = fill_holes(without_specks(inner | kept, SPECK_SHARE))
    return out


def _escapes(closed: np.ndarray, point: tuple[int, int]) -> bool:
    """Whether ``point`` (column, row; closed) reaches the border through ``closed`` pixels (bool; no path of the
    open ones goes round it): a cheap test before the search."""
    labels = cv2.connectedComponents(closed.view(np.uint8), connectivity=4)[1]
    return touches_border(labels == labels[point[1], point[0]])


def _cheapest_loop(cost: np.ndarray, crossable: np.ndarray, point: tuple[int, int]) -> np.ndarray | None:
    """The cheapest closed path of ``cost``'s open pixels that goes once round ``point`` (column, row; closed), as
    a bool mask; None when there is none. The ray from the point is tried upwards first, then in the other three
    directions (each by turning the arrays), crossing at the CROSSINGS runs of ``crossable`` pixels nearest the
    point."""
    marker = np.zeros(cost.shape, bool)
    marker[point[1], point[0]] = True
    for turns in range(4):
        turned_cost, turned_crossable = np.rot90(cost, turns), np.rot90(crossable, turns)
        rows, columns = np.nonzero(np.rot90(marker, turns))
        row, column = int(rows[0]), int(columns[0])
        if not 1 <= column <= turned_cost.shape[1] - 2:
            continue
        crossings = _runs(turned_crossable[:row, column])[-CROSSINGS:]
        best: tuple[float, list[tuple[int, int]]] | None = None
        for crossing in crossings:
            ray_closed = turned_cost.copy()
            ray_closed[:row + 1, column] = _CLOSED
            source, target = (column - 1, crossing), (column + 1, crossing)
            arrival = _arrival_times(ray_closed, source, target)
            total = arrival[crossing, column + 1] + turned_cost[crossing, column]
            if np.isfinite(total) and (best is None or total < best[0]):
                best = (float(total), _path_back(arrival, target, source) + [(column, crossing)])
        if best is None:
            continue
        loop = np.zeros(turned_cost.shape, bool)
        loop[[y for _, y in best[1]], [x for x, _ in best[1]]] = True
        return np.rot90(loop, -turns)
    return None


def _runs(line: np.ndarray) -> list[int]:
    """The middle index of each run of True in ``line`` (bool, 1-D), in order."""
    padded = np.concatenate([[False], line, [False]]).astype(np.int8)
    starts = np.flatnonzero(np.diff(padded) == 1)
    ends = np.flatnonzero(np.diff(padded) == -1) - 1
    return [int((start + end) // 2) for start, end in zip(starts, ends)]


def _arrival_times(cost: np.ndarray, source: tuple[int, int], target: tuple[int, int]) -> np.ndarray:
    """Shortest-path costs from ``source`` (column, row) over the open pixels of ``cost`` (a few small integer costs
    of entering a pixel; inf: closed; 8 neighbours), as an array (inf: not reached), found until ``target`` is
    reached: Dial's search, each wave the pixels of one cost next to the wave that many steps earlier."""
    height, width = cost.shape
    costs = [int(value) for value in np.unique(cost[np.isfinite(cost)])]
    of_cost = {value: (cost == value).view(np.uint8) for value in costs}
    arrival = np.full((height, width), np.inf)
    open_pixels = np.isfinite(cost).view(np.uint8).copy()
    arrival[source[1], source[0]] = 0
    open_pixels[source[1], source[0]] = 0
    first = np.zeros((height, width), np.uint8)
    first[source[1], source[0]] = 1
    waves, square = {0: first}, np.ones((3, 3), np.uint8)
    longest, last = max(costs, default=1), 0
    for time in range(1, 6 * (height + width) + 1):
        wave = None
        for value in costs:
            earlier = waves.get(time - value)
            if earlier is not None:
                reached = cv2.dilate(earlier, square) & of_cost[value] & open_pixels
                wave = reached if wave is None else wave | reached
        if wave is not None and wave.any():
            arrival[wave > 0] = time
            open_pixels &= 1 - wave
            waves[time], last = wave, time
            if wave[target[1], target[0]]:
                break
        waves.pop(time - longest, None)
        if time - last > longest:
            break  # nothing left to reach
    return arrival


def _path_back(arrival: np.ndarray, target: tuple[int, int], source: tuple[int, int]) -> list[tuple[int, int]]:
    """The pixels (column, row) of a shortest path from ``source`` to ``target`` read back from ``arrival``
    (:func:`_arrival_times`): from the target, always to the neighbour reached first."""
    height, width = arrival.shape
    path, (x, y) = [target], target
    while (x, y) != source:
        best = None
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                nx, ny = x + dx, y + dy
                if (dx or dy) and 0 <= nx < width and 0 <= ny < height and np.isfinite(arrival[ny, nx]) \
                        and (best is None or arrival[ny, nx] < best[0]):
                    best = (arrival[ny, nx], nx, ny)
        x, y = best[1], best[2]
        path.append((x, y))
    return path
