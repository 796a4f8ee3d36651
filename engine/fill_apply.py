"""Apply a reduced-resolution patch field at full resolution: the hole gets the painting's own pixels.

Each full-resolution hole pixel lies between four work pixels; each of those says where its patch
was copied from (``engine.fill_synthesis``). The pixel is read from the full-resolution painting at
each of those places (the same position relative to the copied patch) and the reads are mixed by
their bilinear and vote weights. Where the four agree, which is most of the hole, the pixel is an
exact copy of a painting pixel; where copies meet, they blend over about one work pixel.

Two corrections then heal the copies into their surroundings (as Georgiev's healing brush and
Perez et al.'s Poisson editing do), so no seam shows at the hole's outline: what the copies predict
for the known pixels just around the hole is compared with what is there; (1) at work resolution
that difference is interpolated across the hole by Laplace's equation (a membrane: smooth inside,
equal to the difference on the outline); (2) what remains at full resolution is smoothed and added
to the hole pixels near the outline, fading inwards. The copies' own detail is left as it is.
With (1) comes a third step, also at work resolution: below a Gaussian of a few percent of the hole's
size, the copies are drawn towards the harmonic interpolation of the painting around the hole (the
smoothest surface through its outline), as far as they fail to continue that outline. Last, the first
few pixels inside the hole are drawn towards their mirror images across the outline (the pixel as far
outside, straight across), as far as the copies miss the known pixel there: what the outline cuts (a
stroke, a spot, the grain at the edge) runs on into the hole instead of stopping at it.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Executor, ThreadPoolExecutor

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from engine.fill_synthesis import Synthesis
from engine.sampling import sample_points

#: Width (in work pixels, at least SEAM_MIN full pixels) over which the outline correction fades.
SEAM_WIDTH, SEAM_MIN = 1.5, 3.0
#: The full-resolution vote reads through the matches of the work pixels within this many work pixels,
#: where a work pixel spans at most 1 / VOTE_MIN_SCALE full pixels (on a coarser grid: the four around).
#: On BSDS500 val a reach of 2 gained 0.1 dB and 0.02 SSIM but kept only 0.80 of the texture (1: 0.91,
#: PatchMatch 0.89): the wider vote blurs where copies meet, so 1 is used.
VOTE_REACH, VOTE_MIN_SCALE = 1, 0.25
#: Known ring just outside the hole whose mismatch is measured (full pixels).
RING = 2
#: Apply the membrane (healing) correction: the copies' mismatch with the painting along the hole's
#: edge, interpolated smoothly across the hole (Laplace's equation with that mismatch as boundary
#: values, as in Georgiev's healing brush / Perez et al.'s Poisson editing), solved at work resolution.
MEMBRANE = True
#: The mismatch along the outline is smoothed along it over this many work pixels, and limited to
#: this share of the full range, so that a healing shifts colours and never paints a fog over the copies.
MEMBRANE_SMOOTH, MEMBRANE_CLIP = 2.0, 0.1
#: Draw the fill's coarse layout this much towards the harmonic interpolation of the painting around the
#: hole (the smoothest surface through its outline): below a Gaussian of LOW_FREQUENCY_SIGMA times the hole's
#: size, the fill becomes (1 - pull) copies + pull membrane; the copies' finer detail is kept whole. What lay
#: under a removed object is unknown: where the copies' guess of its large shapes is wrong, a bold guess
#: costs far more squared error than a muted one (chosen on BSDS500 val).
LOW_FREQUENCY_PULL, LOW_FREQUENCY_SIGMA = 1.0, 0.03
#: ... in full only where the copies miss the known ring around the hole by at least this RMS (share of the
#: range); where they continue it better (a repeating painting, a line that runs on), in proportion.
SURE_MISS = 0.1
#: That harmonic surface runs along the painting's structures around the hole (a line, a band, a horizon
#: runs on across it): an anisotropic diffusion along the structure tensor read beside the hole (see
#: diffusion_tensors), across them at ((small + d) / (large + d)) ** ANISOTROPY of the weight along them; the
#: tensor is averaged over TENSOR_SIGMA work pixels. On BSDS500 val (30 objects) it raised the fill from
#: 15.73 to 16.00 dB at 1.5x and from 15.61 to 15.73 at the photos' size (with the pull raised from 0.7 to
#: 1.0 and the solver's regulariser lowered, see _laplace), SSIM 0.350 -> 0.354, texture 0.758 -> 0.757.
#: 0 turns it off (the 5-point Laplacian).
ANISOTROPY, TENSOR_SIGMA, TENSOR_DELTA = 2.0, 2.0, 1e-4
#: ... but never less than this across them: rows of a hole that reach the picture's edge at both ends still
#: take their values from the rows beside them.
ACROSS_MIN = 1e-3
#: The surface is solved through the pixels around the hole that may not be read but stay (the old region's
#: rim beyond the reach of a small region's edit), up to the painting beyond them: a free edge there let the
#: rest of the outline decide alone (an eye moved up in Picasso's self-portrait left a grey-brown band where
#: the skin below should have come in). On BSDS500 val (30 objects): 16.03 / 16.02 dB -> 16.03 / 16.05 at
#: 1.5x / the photos' size, SSIM unchanged; moved by 0.2-0.5x their size instead, 17.28 -> 17.27.
SURFACE_THROUGH_GAP = True
#: Also correct the finer mismatch along the outline (below a work pixel), fading over SEAM_WIDTH.
OUTLINE = True
#: Continue the painting across the outline: the first hole pixels are drawn towards their mirror image
#: in the known ring (the pixel as far outside, straight across the outline), weight
#: MIRROR_WEIGHT * exp(-(depth - 1) / MIRROR_DEPTH) at depth (px) into the hole; 0 turns it off. Scaled
#: by how far the copies miss the nearest known pixel, in full from MIRROR_MISS of the range (where the
#: painting repeats, the copies are exact and stay). On BSDS500 val (30 objects, 1.5x size) it raised the
#: fill from 15.65 to 15.73 dB and SSIM from 0.344 to 0.350, the texture ratio falling from 0.774 to 0.758;
#: deeper (6 px) gained 0.03 dB more but lost more texture.
MIRROR_WEIGHT, MIRROR_DEPTH = 0.8, 4.0
MIRROR_MISS = 0.05


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


def _reads(context: np.ndarray, readable: np.ndarray, synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray,
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
    """:func:`_reads` over the bounding box of (ys, xs) at once: for each work pixel of the window, its
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


def apply_field(context: np.ndarray, hole: np.ndarray, readable: np.ndarray, synthesis: Synthesis,
                box: tuple[int, int, int, int], skipped: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill the hole of ``context`` (full resolution) within ``box`` (the hole's bounding box, x0, y0, x1, y1).

    Returns the hole pixels' rows and columns (in the context, in row order, as np.nonzero gives them) and their
    new values (n, C) float32; hole pixels in ``skipped`` (a mask over the context) are left out. Each pixel's
    value depends on the hole as a whole, never on which other pixels are computed.
    """
    height, width = hole.shape
    work_h, work_w = synthesis.weight.shape
    scale = (work_h / height, work_w / width)
    x0, y0, x1, y1 = box
    wanted = hole[y0:y1, x0:x1] if skipped is None else hole[y0:y1, x0:x1] & ~skipped[y0:y1, x0:x1]
    rows, cols = np.nonzero(wanted)
    ys, xs = rows + y0, cols + x0
    if ys.size == 0:
        return ys, xs, np.zeros((0, context.shape[2]), np.float32)
    # The corrections at the outline need the copies' reads of the known ring, not of the hole: they are
    # made in a second thread while the hole is read (both are mostly OpenCV and NumPy work on large
    # arrays, which runs outside Python's lock); that thread then reads the hole's last strips.
    with ThreadPoolExecutor(max_workers=1) as helper:
        edges = helper.submit(_edge_corrections, context, hole, readable, synthesis, box, scale, ys, xs)
        values = _copies(context, readable, synthesis, ys, xs, scale, helper)
        membrane_and_outline, mirror = edges.result()
    if membrane_and_outline is not None:
        values += membrane_and_outline
    if mirror is not None:
        near, weight, mirrored = mirror
        values[near] += weight[:, None] * (mirrored - values[near])
    return ys, xs, values


def _edge_corrections(context: np.ndarray, hole: np.ndarray, readable: np.ndarray, synthesis: Synthesis,
                      box: tuple[int, int, int, int], scale: tuple[float, float], ys: np.ndarray, xs: np.ndarray
                      ) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """What heals the copies into their surroundings at hole pixels (ys, xs): the membrane and the outline
    correction added together (n, C) and the mirror's pull (the pixels it reaches, their weights and
    mirror values); each None when turned off."""
    added = None
    membrane = _membrane(synthesis) if MEMBRANE else None
    if membrane is not None:
        added = _at_full(membrane, scale, ys, xs, context.shape[2]) * _top(context)
    if OUTLINE:
        outline = _outline_correction(context, hole, readable, synthesis, box, scale, ys, xs, membrane)
        if outline is not None:  # added at the pixels it reaches, the band along the outline
            band, correction = outline
            if added is None:
                added = np.zeros((ys.size, context.shape[2]), np.float32)
            added[band] += correction
    mirror = _mirror_pull(context, hole, readable, synthesis, box, scale, ys, xs) if MIRROR_WEIGHT > 0 else None
    return added, mirror


def _copies(context: np.ndarray, readable: np.ndarray, synthesis: Synthesis, ys: np.ndarray, xs: np.ndarray,
            scale: tuple[float, float], helper: Executor | None = None) -> np.ndarray:
    """The mixed copies at hole pixels (ys, xs) (n, C) float32; where no copy reads the painting, the
    synthesized work image scaled up. A ``helper`` thread shares the reading once it is free."""
    work_h, work_w = synthesis.weight.shape
    summed, total = _reads(context, readable, synthesis, ys, xs, scale, helper)
    missing = total <= 1e-6
    if missing.any():  # no copy reads painting here: the synthesized work image, scaled up
        upsampled = synthesis.image[np.clip(((ys[missing] + 0.5) * scale[0]).astype(np.int64), 0, work_h - 1),
                                    np.clip(((xs[missing] + 0.5) * scale[1]).astype(np.int64), 0, work_w - 1)]
        top = 65535.0 if context.dtype == np.uint16 else 255.0
        summed[missing] = upsampled[:, :context.shape[2]] * top if upsampled.shape[1] >= context.shape[2] else \
            np.repeat(upsampled[:, :1], context.shape[2], axis=1) * top
        total[missing] = 1.0
    return summed / total[:, None]


def _mirror_pull(context: np.ndarray, hole: np.ndarray, readable: np.ndarray, synthesis: Synthesis,
                 box: tuple[int, int, int, int], scale: tuple[float, float], ys: np.ndarray, xs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """How the hole pixels (ys, xs) near the outline are drawn towards their mirror images across it: the
    indices it reaches, their weights and the mirror values ((n, C) float32); None when nothing is known."""
    height, width = hole.shape
    reach = int(np.ceil(MIRROR_DEPTH * 4)) + 2
    x0, y0 = max(0, box[0] - 2 * reach), max(0, box[1] - 2 * reach)
    x1, y1 = min(width, box[2] + 2 * reach), min(height, box[3] + 2 * reach)
    local_hole = np.ascontiguousarray(hole[y0:y1, x0:x1])
    depth, labels = cv2.distanceTransformWithLabels(local_hole.view(np.uint8), cv2.DIST_L2, 5,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
    known = np.flatnonzero(~local_hole.reshape(-1))
    if known.size == 0:
        return None
    # labels number the zero (known) pixels in row-major order, from 1
    ly, lx = ys - y0, xs - x0
    near = np.flatnonzero(depth[ly, lx] <= reach)
    label = labels[ly[near], lx[near]] - 1
    ny, nx = np.divmod(known[label], x1 - x0)
    my, mx = 2 * ny - ly[near], 2 * nx - lx[near]
    inside = (my >= 0) & (my < y1 - y0) & (mx >= 0) & (mx < x1 - x0)
    my, mx = np.clip(my, 0, y1 - y0 - 1), np.clip(mx, 0, x1 - x0 - 1)
    usable = inside & ~local_hole[my, mx] & readable[my + y0, mx + x0]
    weight = MIRROR_WEIGHT * np.exp(-(depth[ly[near], lx[near]] - 1.0) / MIRROR_DEPTH) * usable
    if MIRROR_MISS > 0:  # as far as the copies miss the known pixel nearest to it
        unique, inverse = np.unique(label, return_inverse=True)
        qy, qx = np.divmod(known[unique], x1 - x0)
        qy, qx = qy + y0, qx + x0
        summed, total = _reads(context, readable, synthesis, qy, qx, scale)
        predicted = summed / np.maximum(total, 1e-6)[:, None]
        miss = np.abs(context[qy, qx].reshape(unique.size, -1).astype(np.float32) - predicted).mean(axis=1)
        miss = np.where(total > 1e-6, miss / _top(context), 1.0)
        weight *= np.clip(miss / MIRROR_MISS, 0.0, 1.0)[inverse.reshape(-1)]
    mirrored = context[my + y0, mx + x0].reshape(near.size, -1).astype(np.float32)
    return near, weight, mirrored


def _outline_correction(context: np.ndarray, hole: np.ndarray, readable: np.ndarray, synthesis: Synthesis,
                        box: tuple[int, int, int, int], scale: tuple[float, float], ys: np.ndarray,
                        xs: np.ndarray, membrane: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The smoothed mismatch between the known ring around the hole and what the copies predict there,
    fading from the outline into the hole: the indices (into ys, xs) of the hole pixels it reaches and
    its values there (band, C); None when no known pixel rings the hole."""
    height, width = hole.shape
    fade = max(SEAM_MIN, SEAM_WIDTH / min(scale))
    grow = int(np.ceil(fade)) + RING + 2
    x0, y0, x1, y1 = max(0, box[0] - grow), max(0, box[1] - grow), min(width, box[2] + grow), min(height, box[3] + grow)
    local_hole = hole[y0:y1, x0:x1]
    # The known pixels within RING of the hole (OpenCV's 3x3 chamfer distance, a = 0.955, b = 1.369:
    # within 2, exactly the diamond |dy| + |dx| <= 2), found by one dilation instead of a distance map.
    ring = (cv2.dilate(local_hole.view(np.uint8), _chamfer_disc(RING)) > 0) & ~local_hole & readable[y0:y1, x0:x1]
    if not ring.any():
        return None
    ry, rx = np.nonzero(ring)
    summed, total = _reads(context, readable, synthesis, ry + y0, rx + x0, scale)
    if membrane is not None:
        summed += (_at_full(membrane, scale, ry + y0, rx + x0, context.shape[2]) * _top(context)
                   * total[:, None])
    counted = total > 1e-6
    channels = context.shape[2]
    known = context[ry + y0, rx + x0].astype(np.float32)
    mismatch = known[counted] - summed[counted] / total[counted][:, None]
    sigma = 0.5 * fade
    inside = cv2.distanceTransform(local_hole.view(np.uint8), cv2.DIST_L2, 3)
    ly, lx = ys - y0, xs - x0
    falloff = np.clip(1.0 - (inside[ly, lx] - 1.0) / fade, 0.0, 1.0)
    band = np.flatnonzero(falloff > 0)
    # The blur is wide (sigma = half the fade) and smooth: it is made on a grid of blocks of about
    # sigma / 2 pixels (the ring's mismatch summed per block; only the ring is non-zero) and read
    # back bilinearly, at the hole pixels it reaches only.
    factor = max(1, int(sigma / 2))
    small = (-(-local_hole.shape[0] // factor), -(-local_hole.shape[1] // factor))
    block = (ry[counted] // factor) * small[1] + rx[counted] // factor
    cells = small[0] * small[1]
    support = np.bincount(block, minlength=cells).astype(np.float32).reshape(small)
    residual = np.stack([np.bincount(block, weights=mismatch[:, channel], minlength=cells)
                         for channel in range(channels)], axis=1).astype(np.float32).reshape(small + (channels,))
    residual = cv2.GaussianBlur(residual, (0, 0), sigma / factor).reshape(small + (channels,))
    support = cv2.GaussianBlur(support, (0, 0), sigma / factor)
    rows, cols = (ly[band] + 0.5) / factor - 0.5, (lx[band] + 0.5) / factor - 0.5
    spread = sample_points(support, cols, rows)
    trend = sample_points(residual, cols, rows).reshape(band.size, channels)
    return band, trend / np.maximum(spread, 1e-3)[:, None] * (falloff[band] * (spread > 1e-3))[:, None]


def _top(image: np.ndarray) -> float:
    return 65535.0 if image.dtype == np.uint16 else 255.0


def _at_full(field: np.ndarray, scale: tuple[float, float], ys: np.ndarray, xs: np.ndarray, channels: int) -> np.ndarray:
    """A work-resolution (h, w, 3) colour field, bilinearly at full-resolution pixels (ys, xs) (edges
    replicated), as ``channels`` channels (grey: the first, which equals the others; a fourth, alpha,
    gets none). Read at the pixels only, not over their box."""
    picked = sample_points(field, (xs + 0.5) * scale[1] - 0.5, (ys + 0.5) * scale[0] - 0.5).reshape(ys.size, -1)
    if channels <= 3:
        return picked[:, :channels]
    return np.concatenate([picked, np.zeros((ys.size, channels - 3), np.float32)], axis=1)


def _chamfer_disc(radius: int) -> np.ndarray:
    """The pixels within ``radius`` (1 or 2) of the centre by OpenCV's 3x3 L2 chamfer distance."""
    offsets = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(offsets, offsets, indexing="ij")
    low, high = np.minimum(abs(dy), abs(dx)), np.maximum(abs(dy), abs(dx))
    return ((1.3693 * low + 0.955 * (high - low)) <= radius).astype(np.uint8)


_AXES = ((0, 1), (0, -1), (1, 0), (-1, 0))
_DIAGONALS = ((1, 1), (1, -1), (-1, 1), (-1, -1))


def _laplace(unknown: np.ndarray, readable: np.ndarray, boundary: np.ndarray,
             tensors: np.ndarray | None = None) -> np.ndarray:
    """``boundary`` (h, w, C) with its ``unknown`` pixels replaced by the harmonic interpolation of their
    readable neighbours' values (solved directly); beside unreadable pixels or the image's edge, a Neumann
    edge (the pixel mirrors itself). The other pixels are returned as they are.

    Without ``tensors``, the 5-point Laplacian. With ``tensors`` ((h, w, 3): dxx, dxy, dyy of a diffusion
    tensor D at each unknown pixel), div(D grad u) = 0 on the eight neighbours (see ``_lattice_weight``): a
    weighted graph Laplacian, so the solution still lies within its boundary values."""
    height, width = unknown.shape
    out = boundary.copy()
    hy, hx = np.nonzero(unknown)
    count = hy.size
    if count == 0:
        return out
    index = -np.ones((height, width), np.int64)
    index[hy, hx] = np.arange(count)
    diagonal = np.full(count, 1e-9)  # keeps a part with no readable neighbour solvable (at 0)
    rows, cols, data = [], [], []
    rhs = np.zeros((count, boundary.shape[2]))
    at_hole = tensors[hy, hx].astype(np.float64) if tensors is not None else None
    for dy, dx in _AXES if tensors is None else _AXES + _DIAGONALS:
        weight = np.ones(count) if at_hole is None else _lattice_weight(at_hole, dy, dx)
        ny, nx = hy + dy, hx + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        ny, nx = np.clip(ny, 0, height - 1), np.clip(nx, 0, width - 1)
        neighbour = np.where(inside, index[ny, nx], -1)
        inner = neighbour >= 0
        edge = inside & ~inner & readable[ny, nx]
        rows.append(np.flatnonzero(inner))
        cols.append(neighbour[inner])
        data.append(-weight[inner])
        diagonal[inner | edge] += weight[inner | edge]
        rhs[edge] += weight[edge, None] * boundary[ny[edge], nx[edge]]
    rows.append(np.arange(count))
    cols.append(np.arange(count))
    data.append(diagonal)
    matrix = scipy.sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                                     shape=(count, count))
    solved = scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs)
    out[hy, hx] = np.asarray(solved, np.float32).reshape(count, -1)
    return out


def _lattice_weight(tensors: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The weight of the step (dy, dx) for diffusion tensors (n, 3) = dxx, dxy, dyy: D split into
    non-negative multiples of the lattice's directions, D = (dxx - |dxy|) x x^T + (dyy - |dxy|) y y^T +
    |dxy| v v^T with v = (1, sign dxy), exact where D allows it (|dxy| <= dxx, dyy), clipped at 0 where
    not; the identity gives the 5-point Laplacian."""
    dxx, dxy, dyy = tensors[:, 0], tensors[:, 1], tensors[:, 2]
    if dy == 0:
        return np.maximum(dxx - np.abs(dxy), 0.0)
    if dx == 0:
        return np.maximum(dyy - np.abs(dxy), 0.0)
    return np.maximum(dxy if dx * dy > 0 else -dxy, 0.0)


def diffusion_tensors(image: np.ndarray, unknown: np.ndarray, readable: np.ndarray) -> np.ndarray:
    """(h, w, 3): dxx, dxy, dyy of a diffusion tensor at each ``unknown`` pixel that runs along the
    structures of the painting around the hole. The structure tensor (Gaussian-weighted gradient products,
    Weickert's coherence-enhancing diffusion) is read on the readable pixels beside the hole and interpolated
    harmonically into it; across the structures the tensor keeps (small + d) / (large + d) of its weight along
    them (its eigenvalues, d = TENSOR_DELTA of the hole's mean larger eigenvalue), to the power ANISOTROPY."""
    grey = image.mean(axis=2).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    near_hole = cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    valid = (readable & ~near_hole).astype(np.float32)  # gradients not touched by the hole's own pixels
    products = np.stack([gx * gx, gx * gy, gy * gy], axis=2) * valid[..., None]
    support = cv2.GaussianBlur(valid, (0, 0), TENSOR_SIGMA)
    structure = cv2.GaussianBlur(products, (0, 0), TENSOR_SIGMA) / np.maximum(support, 1e-6)[..., None]
    structure = _laplace(unknown, readable & (support > 1e-3), structure)
    jxx, jxy, jyy = structure[..., 0], structure[..., 1], structure[..., 2]
    half_trace, root = (jxx + jyy) / 2, np.sqrt(((jxx - jyy) / 2) ** 2 + jxy**2)
    large, small = half_trace + root, np.maximum(half_trace - root, 0.0)
    delta = max(TENSOR_DELTA * (float(np.mean(large[unknown])) if unknown.any() else 0.0), 1e-12)
    across = np.maximum(((small + delta) / (large + delta)) ** ANISOTROPY, ACROSS_MIN)
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # of the gradients (the larger eigenvalue's direction)
    c, s = np.cos(angle), np.sin(angle)
    # D = across g g^T + t t^T, g = (c, s) across the structures, t = (-s, c) along them
    return np.stack([across * c * c + s * s, (across - 1) * c * s, across * s * s + c * c], axis=2).astype(np.float32)


def _membrane(synthesis: Synthesis) -> np.ndarray:
    """The smooth correction (h, w, C) at work resolution: 0 on known pixels away from the hole; on the
    known ring around the hole, the painting minus what the copies predict there; inside the hole, the
    harmonic interpolation of that ring. With LOW_FREQUENCY_PULL, the copies' coarse layout is also
    drawn towards the harmonic interpolation of the painting around the hole (see there)."""
    image = synthesis.image
    unknown = synthesis.unknown
    height, width = unknown.shape
    ring = (cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~unknown
    correction = np.zeros_like(image)
    ry, rx = np.nonzero(ring & (synthesis.weight > 0) & synthesis.readable)
    if ry.size == 0:
        return correction
    sy = np.clip(ry + synthesis.offset[ry, rx, 0], 0, height - 1)
    sx = np.clip(rx + synthesis.offset[ry, rx, 1], 0, width - 1)
    residual = np.zeros_like(image)
    support = np.zeros(unknown.shape, np.float32)
    residual[ry, rx] = image[ry, rx] - image[sy, sx]
    support[ry, rx] = 1.0
    # How far the copies miss the painting just around the hole (RMS): near 0 where the painting repeats.
    miss = float(np.sqrt(np.mean(residual[ry, rx] ** 2)))
    if MEMBRANE_SMOOTH > 0:  # the copies' texture mismatch is noise here: only the mismatch's trend is healed
        residual = cv2.GaussianBlur(residual, (0, 0), MEMBRANE_SMOOTH).reshape(image.shape)
        support = cv2.GaussianBlur(support, (0, 0), MEMBRANE_SMOOTH)
        residual[ry, rx] /= np.maximum(support[ry, rx], 1e-6)[:, None]
    correction[ry, rx] = np.clip(residual[ry, rx], -MEMBRANE_CLIP, MEMBRANE_CLIP)
    if LOW_FREQUENCY_PULL <= 0 or miss <= 0:
        return _laplace(unknown, synthesis.readable, correction)
    # One solve for both: the correction's interpolation and the painting's own (its known pixels as boundary).
    channels = image.shape[2]
    tensors = diffusion_tensors(image, unknown, synthesis.readable) if ANISOTROPY > 0 else None
    solved = ~synthesis.readable if SURFACE_THROUGH_GAP else unknown
    both = _laplace(solved, synthesis.readable, np.concatenate([correction, image], axis=2), tensors)
    correction, harmonic = both[..., :channels], both[..., channels:]
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    sigma = LOW_FREQUENCY_SIGMA * max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    gap = np.where(unknown[..., None], harmonic - image - correction, 0.0).astype(np.float32)
    pull = cv2.GaussianBlur(gap, (0, 0), max(sigma, 0.5)).reshape(image.shape)
    share = LOW_FREQUENCY_PULL * (min(1.0, miss / SURE_MISS) if SURE_MISS > 0 else 1.0)
    return correction + share * pull
