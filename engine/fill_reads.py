"""The painting read through a reduced-resolution patch field, at full-resolution pixels.

Each full-resolution pixel lies between four work pixels; each of those says where its patch was copied from
(``engine.fill_synthesis``). The pixel is read from the full-resolution painting at each of those places (the
same position relative to the copied patch) and the reads are mixed by their bilinear and vote weights. Where
the four agree, which is most of the hole, the pixel is an exact copy of a painting pixel; where copies meet,
they blend over about one work pixel. Scattered pixels (the known ring around a hole) are read one by one, a
hole box-wise in strips shared between two threads.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Executor

import cv2
import numpy as np

from engine.fill_synthesis import Synthesis

#: The full-resolution vote reads through the matches of the work pixels within this many work pixels,
#: where a work pixel spans at most 1 / VOTE_MIN_SCALE full pixels (on a coarser grid: the four around).
#: On BSDS500 val a reach of 2 gained 0.1 dB and 0.02 SSIM but kept only 0.80 of the texture (1: 0.91,
#: PatchMatch 0.89): the wider vote blurs where copies meet, so 1 is used.
VOTE_REACH, VOTE_MIN_SCALE = 1, 0.25


def _padded_field(synthesis: Synthesis, scale: tuple[float, float], k: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The work grid's copy offsets in full pixels (dy, dx) and its vote weights, each (h + 2k, w + 2k),
    padded by k (replicated), so that the window of each full pixel's cell (v0 - k + 1 .. v0 + k) is
    found at [v0 + 1 .. v0 + 2k] even at the edges."""
    offset = np.pad(synthesis.offset, ((k, k), (k, k), (0, 0)), mode="edge")
    full_y = np.rint(offset[..., 0] / scale[0]).astype(np.int64)
    full_x = np.rint(offset[..., 1] / scale[1]).astype(np.int64)
    return full_y, full_x, np.pad(synthesis.weight, k, mode="edge").astype(np.float32)


def _cells(positions: np.ndarray, scale: float, work_size: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For full-resolution rows (or columns) ``positions``: the padded work index of the work pixel at or
    before each, and how far past that work pixel it lies (work pixels, float32)."""
    position = (positions + 0.5) * scale - 0.5
    cell = np.clip(np.floor(position).astype(np.int64), -1, work_size - 1) + k
    return cell, (position - (cell - k)).astype(np.float32)


def copy_reads(context: np.ndarray, readable: np.ndarray, synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray,
               scale: tuple[float, float], helper: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The mixed copies at full-resolution pixels (ys, xs) of the context: (values (n, C) float32, weights (n,)).

    Each pixel is read through the matches of the work pixels within VOTE_REACH of it (see there), weighted by
    a tent of that width and by their vote weights (a vote at full resolution, as PatchMatch's
    completion ends with). Where all those work pixels copy from the same place, the pixel is read once."""
    k = VOTE_REACH if min(scale) >= VOTE_MIN_SCALE else 1
    if ys.size >= DENSE_SHARE * (np.ptp(ys) + 1) * (np.ptp(xs) + 1):
        return _reads_dense(context, readable, synthesis, ys, xs, scale, k, helper)
    height, width = readable.shape
    full_y, full_x, weight = _padded_field(synthesis, scale, k)
    grid_h, grid_w = weight.shape
    window = [(a, b) for a in range(-k + 1, k + 1) for b in range(-k + 1, k + 1)]
    same = weight > 0
    for a, b in window:
        shifted = np.zeros_like(same)
        inner = (slice(max(0, -a), grid_h - max(0, a)), slice(max(0, -b), grid_w - max(0, b)))
        moved = (slice(max(0, a), grid_h - max(0, -a)), slice(max(0, b), grid_w - max(0, -b)))
        shifted[inner] = ((full_y[moved] == full_y[inner]) & (full_x[moved] == full_x[inner])
                          & (weight[moved] > 0))
        same &= shifted
    full_y, full_x = full_y.reshape(-1), full_x.reshape(-1)
    # Each context row's and column's cell (padded work index of the work pixel at or before it).
    work_h, work_w = synthesis.weight.shape
    row_cell, along_y = _cells(np.arange(height), scale[0], work_h, k)
    col_cell, along_x = _cells(np.arange(width), scale[1], work_w, k)
    v0, u0 = row_cell[ys], col_cell[xs]
    cell = v0 * grid_w + u0
    channels = context.shape[2]
    flat = context.reshape(-1, channels)
    readable_flat = readable.reshape(-1)
    summed = np.zeros((ys.size, channels), np.float32)
    total = np.zeros(ys.size, np.float32)

    def read(rows: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sy, sx = ys[rows] + full_y[key], xs[rows] + full_x[key]
        inside = (sy >= 0) & (sy < height) & (sx >= 0) & (sx < width)
        where = np.clip(sy, 0, height - 1) * width + np.clip(sx, 0, width - 1)
        return flat[where], inside & readable_flat[where]

    uniform = same.reshape(-1)[cell]
    rows = np.flatnonzero(uniform)
    values, usable = read(rows, cell[rows])
    summed[rows[usable]] = values[usable]
    total[rows[usable]] = 1.0
    rows = np.flatnonzero(~uniform | (total == 0))  # where copies meet: a tent-weighted mix of the window's
    fv, fu = along_y[ys[rows]], along_x[xs[rows]]
    summed[rows], total[rows] = 0.0, 0.0
    weight_flat = weight.reshape(-1)
    for a, b in window:
        key = cell[rows] + a * grid_w + b
        share = (np.clip(1.0 - np.abs(a - fv) / k, 0, 1) * np.clip(1.0 - np.abs(b - fu) / k, 0, 1)
                 * weight_flat[key])
        values, usable = read(rows, key)
        share = np.where(usable, share, 0.0).astype(np.float32)
        summed[rows] += share[:, None] * values
        total[rows] += share
    return summed, total


#: Pixels filling at least this share of their bounding box (a hole, not its ring) are read box-wise,
#: in strips of this many rows.
DENSE_SHARE, STRIP_ROWS = 0.25, 64
#: ... and, within a strip, in runs of blocks of this many columns that hold pixels.
RUN_COLUMNS = 64


def _reads_dense(context: np.ndarray, readable: np.ndarray, synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray,
                 scale: tuple[float, float], k: int, helper: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`copy_reads` over the bounding box of (ys, xs) at once: for each work pixel of the window, its
    copy offset and vote weight brought to full resolution (each full pixel takes its cell's) and the
    painting read through them by one OpenCV remap; the same values, several times faster on a hole.
    A ``helper`` (an executor's thread) reads strips from the bottom up once it is free."""
    work_h, work_w = synthesis.weight.shape
    full_y, full_x, weight = _padded_field(synthesis, scale, k)
    # The box is read in strips of rows, each pixel in its strip: pixels in row order (as np.nonzero
    # gives them) are taken as they come.
    order = None if np.all(ys[1:] >= ys[:-1]) else np.argsort(ys, kind="stable")
    if order is not None:
        ys, xs = ys[order], xs[order]
    channels = context.shape[2]
    readable_bytes = readable.view(np.uint8)
    window = range(-k + 1, k + 1)
    summed = np.empty((channels, ys.size), np.float32)  # a plane per channel while filled
    total = np.empty(ys.size, np.float32)
    first_row, last_row = int(ys[0]), int(ys[-1]) + 1
    # The pixels as a mask over their bounding box: a box read keeps its pixels by it, in row order.
    left = int(xs.min())
    wanted = np.zeros((last_row - first_row, int(xs.max()) + 1 - left), bool)
    wanted[ys - first_row, xs - left] = True

    def read_strip(strip_start: int) -> None:
        """Read the pixels of one strip into ``summed`` and ``total`` (strips write disjoint rows)."""
        strip_end = min(last_row, strip_start + STRIP_ROWS)
        begin, end = np.searchsorted(ys, [strip_start, strip_end])
        if begin == end:
            return
        rows = np.arange(strip_start, strip_end)
        row_cell, along_y = _cells(rows, scale[0], work_h, k)
        strip_xs = xs[begin:end]
        # Each run of columns the strip's pixels occupy (in blocks of RUN_COLUMNS) is read as one box:
        # a hole's pixels under a layer that covers them are left out, and so is the gap between them.
        occupied = np.zeros((int(strip_xs.max()) // RUN_COLUMNS) + 2, bool)
        occupied[strip_xs // RUN_COLUMNS] = True
        edges = np.flatnonzero(np.diff(occupied.view(np.int8), prepend=0))
        runs = list(zip(edges[0::2] * RUN_COLUMNS, edges[1::2] * RUN_COLUMNS))
        for run_start, run_end in runs:
            in_run: slice | np.ndarray = slice(begin, end)  # one run: all the strip's pixels
            if len(runs) > 1:
                in_run = np.flatnonzero((strip_xs >= run_start) & (strip_xs < run_end)) + begin
            x0, x1 = int(xs[in_run].min()), int(xs[in_run].max()) + 1
            planes, strip_total = _read_box(context, readable_bytes, full_y, full_x, weight, rows, row_cell,
                                            along_y, x0, x1, scale[1], work_w, k, window)
            picked = wanted[strip_start - first_row:strip_end - first_row, x0 - left:x1 - left]
            for channel, plane in enumerate(planes):
                summed[channel, in_run] = plane[picked]
            total[in_run] = strip_total[picked]

    # Strips small enough for the processor's caches: on a large hole the reads are bound by memory.
    # This thread takes them from the top; a ``helper`` thread, once free, from the bottom.
    strips = deque(range(first_row, last_row, STRIP_ROWS))
    taking = threading.Lock()

    def read_strips(from_bottom: bool) -> None:
        while True:
            with taking:
                if not strips:
                    return
                strip_start = strips.pop() if from_bottom else strips.popleft()
            read_strip(strip_start)

    helping = None if helper is None else helper.submit(read_strips, True)
    read_strips(False)
    if helping is not None:
        helping.result()
    summed = np.ascontiguousarray(summed.T)
    if order is not None:
        unsorted = np.empty_like(order)
        unsorted[order] = np.arange(order.size)
        summed, total = summed[unsorted], total[unsorted]
    # Weights deep in a hole can be tiny (the vote's confidence falls with depth): the mix is returned
    # normalised, as a single read is (weight 1), so that no threshold on the weight mistakes it for none.
    read = total > 0
    summed /= np.where(read, total, np.float32(1.0))[:, None]  # unread: divided by 1, unchanged
    return summed, read.astype(np.float32)


def _read_box(context: np.ndarray, readable_bytes: np.ndarray, full_y: np.ndarray, full_x: np.ndarray,
              weight: np.ndarray, rows: np.ndarray, row_cell: np.ndarray, along_y: np.ndarray, x0: int, x1: int,
              scale_x: float, work_w: int, k: int, window: range) -> tuple[list[np.ndarray], np.ndarray]:
    """The vote's weighted sum, one (rows, x1 - x0) plane per channel, and its total weight over rows ``rows``
    and columns x0..x1 of the context: for each work pixel of the window, its copy offset and vote weight
    brought to full resolution (each full pixel takes its cell's) and the painting read through them by one
    OpenCV remap. (Summed plane by plane: a product broadcast over three channels is several times slower.)"""
    cols = np.arange(x0, x1)
    col_cell, along_x = _cells(cols, scale_x, work_w, k)
    column_x = cols.astype(np.float32)[None, :]
    channels = context.shape[2]
    planes = [np.zeros((rows.size, cols.size), np.float32) for _ in range(channels)]
    box_total = np.zeros((rows.size, cols.size), np.float32)
    product = np.empty((rows.size, cols.size), np.float32)
    for a in window:
        tent_y = np.clip(1.0 - np.abs(a - along_y) / k, 0, 1)
        # Per row of the strip and column of the grid (small), then spread over the box's columns.
        band_y = (full_y[row_cell + a] + rows[:, None]).astype(np.float32)
        band_x = full_x[row_cell + a].astype(np.float32)
        band_weight = weight[row_cell + a] * tent_y[:, None]
        for b in window:
            map_y = band_y[:, col_cell + b]
            map_x = band_x[:, col_cell + b]
            map_x += column_x
            values = cv2.remap(context, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
            usable = cv2.remap(readable_bytes, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
            share = band_weight[:, col_cell + b]
            share *= np.clip(1.0 - np.abs(b - along_x) / k, 0, 1)[None, :]
            share *= usable
            for plane, value in zip(planes, cv2.split(values) if channels > 1 else [values.reshape(product.shape)]):
                np.multiply(share, value, out=product)
                plane += product
            box_total += share
    return planes, box_total


def copies_at(context: np.ndarray, readable: np.ndarray, synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray,
              scale: tuple[float, float], helper: Executor | None = None) -> np.ndarray:
    """The mixed copies at hole pixels (ys, xs) (n, C) float32; where no copy reads the painting, the
    synthesized work image scaled up. A ``helper`` thread shares the reading once it is free."""
    summed, total = copy_reads(context, readable, synthesis, ys, xs, scale, helper)
    missing = total <= 1e-6
    if missing.any():  # no copy reads painting here: the synthesized work image, scaled up
        summed[missing] = work_image_at(synthesis, ys[missing], xs[missing], scale, context.shape[2]) * \
            value_top(context)
        total[missing] = 1.0
    return summed / total[:, None]


def work_image_at(synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray, scale: tuple[float, float],
                  channels: int) -> np.ndarray:
    """The synthesized work image (reduced, RGB in [0, 1]) at full-resolution pixels (ys, xs): the work pixel
    each lies in (``scale``: work pixels per full-resolution pixel, rows and columns), as (n, ``channels``)
    float32 (1: grey, the work image's first channel, which it repeats; 3: RGB; 4: RGB and an opaque alpha)."""
    work_h, work_w = synthesis.weight.shape
    picked = synthesis.image[np.clip(((ys + 0.5) * scale[0]).astype(np.int64), 0, work_h - 1),
                             np.clip(((xs + 0.5) * scale[1]).astype(np.int64), 0, work_w - 1)]
    if channels <= 3:
        return picked[:, :channels].astype(np.float32)
    return np.concatenate([picked, np.ones((ys.size, channels - 3), picked.dtype)], axis=1).astype(np.float32)


def value_top(image: np.ndarray) -> float:
    """The full range of the painting's values: 65535 for 16-bit, else 255."""
    return 65535.0 if image.dtype == np.uint16 else 255.0
