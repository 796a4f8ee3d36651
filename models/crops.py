"""The square crop the network works in, resampled to its working resolution.

Shared by training (pairs from photographs) and the engine (real edits), so that the network sees
exactly the same kind of input in both. NumPy/OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np


def crop_square(array: np.ndarray, x0: int, y0: int, side: int, *, replicate: bool) -> np.ndarray:
    """The square [x0, x0+side) x [y0, y0+side) of ``array``, padded where it leaves the array
    (edge pixels repeated when ``replicate``, else zeros)."""
    height, width = array.shape[:2]
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(width, x0 + side), min(height, y0 + side)
    crop = array[cy0:cy1, cx0:cx1]
    pads = (cy0 - y0, y0 + side - cy1, cx0 - x0, x0 + side - cx1)
    if any(pads):
        border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
        squeeze = crop.ndim == 3 and crop.shape[2] == 1
        crop = cv2.copyMakeBorder(crop, *pads, border, value=0)
        if squeeze and crop.ndim == 2:
            crop = crop[..., None]
    return crop


def canvas_in_working(canvas: tuple[int, ...], x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """How much of each cell of the square [x0, x0+side) x [y0, y0+side), reduced to ``size`` x ``size``,
    lies on a canvas of shape (H, W): (S, S, 1) float32 in [0, 1], to 1/255.

    What ``to_working`` of the square's 0/255 coverage gives (INTER_AREA of a box is the product of
    its two one-dimensional overlaps), without making or resampling a side x side array, which took
    0.4 s for a square of a 4K painting.
    """
    height, width = canvas[:2]
    rows = _overlap(y0, side, size, 0, height)
    columns = _overlap(x0, side, size, 0, width)
    coverage = np.round(np.outer(rows, columns) * 255.0) / 255.0
    return coverage.astype(np.float32)[..., None]


def _overlap(start: int, side: int, size: int, low: int, high: int) -> np.ndarray:
    """Share of each of ``size`` equal cells of [start, start+side) that lies within [low, high)."""
    edges = start + np.arange(size + 1, dtype=np.float64) * (side / size)
    inside = np.clip(np.minimum(edges[1:], high) - np.maximum(edges[:-1], low), 0.0, None)
    return inside / (side / size)


def to_working(array: np.ndarray, size: int) -> np.ndarray:
    """Area-average to ``size`` x ``size`` (anti-aliased), float32 in [0, 1], (S, S, C)."""
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(array.dtype, 1.0)
    # Integer images are averaged in their own type (exact to one grey level, and on an 8K crop
    # several times faster than converting the whole crop to floats first).
    native = array if array.dtype in (np.uint8, np.uint16) else array.astype(np.float32)
    resized = cv2.resize(native, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / scale
    return resized if resized.ndim == 3 else resized[..., None]


def mask_to_working(mask: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """A boolean mask's square crop as (S, S, 1) coverage in [0, 1], to 1/255.

    When the square is shrunk by a fractional factor (the usual case), only the mask's bounding
    box inside the square is read and resampled (:func:`shrink_area_box`); the result is the same,
    bit for bit, as OpenCV's INTER_AREA of the whole square, which is what the network was trained on.
    """
    if mask.dtype == bool and mask.ndim == 2 and _fractional_shrink(side, size):
        return _mask_box_to_working(mask, x0, y0, side, size)
    crop = crop_square(mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8), x0, y0, side,
                       replicate=False)
    return to_working(crop * np.uint8(255), size)


def _fractional_shrink(side: int, size: int) -> bool:
    """Whether OpenCV's INTER_AREA takes its general path for ``side`` -> ``size``: a shrink whose
    factor is not a whole number (its own test, in double precision)."""
    return area_general_path((side, side), (size, size))


def area_general_path(shape: tuple[int, int], size: tuple[int, int]) -> bool:
    """Whether OpenCV's INTER_AREA resize of ``shape`` (H, W) to ``size`` (w, h) takes its general
    path: a shrink along both axes whose factors are not both whole numbers (its own test, in double
    precision)."""
    scale_x, scale_y = 1.0 / (size[0] / shape[1]), 1.0 / (size[1] / shape[0])
    whole = (abs(scale_x - round(scale_x)) < np.finfo(np.float64).eps
             and abs(scale_y - round(scale_y)) < np.finfo(np.float64).eps)
    return bool(scale_x >= 1.0 and scale_y >= 1.0 and not whole)


def area_taps(source_size: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's INTER_AREA weights for shrinking ``source_size`` samples to ``size`` cells.

    Returns (size, T) source indices and float32 weights in OpenCV's summation order; a cell with
    fewer than T taps has zero weights at the end (adding their products adds exactly zero). The
    arithmetic is OpenCV's ``computeResizeAreaTab``: double precision, then rounded to float32.
    """
    scale = 1.0 / (size / source_size)
    start = np.arange(size, dtype=np.float64) * scale
    stop = start + scale
    width = np.minimum(scale, source_size - start)
    whole_stop = np.minimum(np.floor(stop).astype(np.int64), source_size - 1)
    whole_start = np.minimum(np.ceil(start).astype(np.int64), whole_stop)
    has_head = whole_start - start > 1e-3
    has_tail = stop - whole_stop > 1e-3
    first = whole_start - has_head
    count = has_head + (whole_stop - whole_start) + has_tail
    taps = np.arange(int(count.max()))[None, :]
    index = first[:, None] + taps
    weight = np.broadcast_to(1.0 / width[:, None], index.shape).copy()
    head = has_head[:, None] & (taps == 0)
    weight[head] = np.broadcast_to(((whole_start - start) / width)[:, None], index.shape)[head]
    tail = has_tail[:, None] & (taps == count[:, None] - 1)
    tail_weight = np.minimum(np.minimum(stop - whole_stop, 1.0), width) / width
    weight[tail] = np.broadcast_to(tail_weight[:, None], index.shape)[tail]
    weight = weight.astype(np.float32)
    weight[taps >= count[:, None]] = 0.0
    return np.minimum(index, source_size - 1), weight


def taps_within(index: np.ndarray, weight: np.ndarray, lo: int, hi: int) -> tuple[slice, np.ndarray, np.ndarray]:
    """The cells whose taps reach [lo, hi), with their taps relative to ``lo`` (taps outside: weight 0)."""
    reaches = ((index >= lo) & (index < hi) & (weight > 0)).any(axis=1)
    cells = np.flatnonzero(reaches)
    chosen = slice(int(cells[0]), int(cells[-1]) + 1)
    inside = (index[chosen] >= lo) & (index[chosen] < hi)
    return chosen, np.clip(index[chosen] - lo, 0, hi - lo - 1), np.where(inside, weight[chosen], np.float32(0))


def shrink_area_box(values: np.ndarray, top: int, left: int, side: int | tuple[int, int],
                    size: int | tuple[int, int]) -> np.ndarray:
    """OpenCV's INTER_AREA (general path, one channel) of a ``side`` x ``side`` float32 square (or
    a (height, width) rectangle to (rows, columns) cells) that is zero except for ``values`` at
    (``top``, ``left``); returns the (size, size) float32 sums before rounding. Only ``values`` is
    touched: the zeros around it would add exactly 0.0 to OpenCV's float32 sums, which are formed
    in the same order here (each row across, then the rows down). ``values`` is best a transposed
    view of a contiguous array: its columns are what is gathered.
    """
    (side_y, side_x), (size_y, size_x) = (side if isinstance(side, tuple) else (side, side),
                                          size if isinstance(size, tuple) else (size, size))
    result = np.zeros((size_y, size_x), np.float32)
    index, weight = area_taps(side_x, size_x)
    columns, column_index, column_weight = taps_within(index, weight, left, left + values.shape[1])
    index, weight = area_taps(side_y, size_y)
    rows, row_index, row_weight = taps_within(index, weight, top, top + values.shape[0])
    columns_first = values.T  # each tap then gathers whole (contiguous) rows
    across = np.zeros((column_index.shape[0], values.shape[0]), np.float32)  # (cells, rows)
    for tap in range(column_index.shape[1]):
        across += columns_first[column_index[:, tap]] * column_weight[:, tap, None]
    rows_first = np.ascontiguousarray(across.T)
    down = np.zeros((row_index.shape[0], across.shape[0]), np.float32)
    for tap in range(row_index.shape[1]):
        down += rows_first[row_index[:, tap]] * row_weight[:, tap, None]
    result[rows, columns] = down
    return result


def _mask_box_to_working(mask: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    height, width = mask.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(width, x0 + side), min(height, y0 + side)
    inside = mask[cy0:cy1, cx0:cx1] if cx1 > cx0 and cy1 > cy0 else mask[:0, :0]
    rows = np.flatnonzero(inside.any(axis=1))
    if not rows.size:
        return np.zeros((size, size, 1), np.float32)
    columns = np.flatnonzero(inside[rows[0]:rows[-1] + 1].any(axis=0))
    box = inside[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    # Transposed (OpenCV's transpose: a tenth of NumPy's copy of a transposed boolean view), so that
    # each column is one contiguous row to gather.
    values = (cv2.transpose(np.ascontiguousarray(box).view(np.uint8)) * np.float32(255)).T
    sums = shrink_area_box(values, cy0 - y0 + int(rows[0]), cx0 - x0 + int(columns[0]), side, size)
    levels = np.clip(np.rint(sums), 0, 255)  # OpenCV's saturate_cast: round half to even
    return (levels.astype(np.uint8).astype(np.float32) / 255.0)[..., None]


def image_to_working(image: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """An image's square crop as (S, S, 3) RGB in [0, 1]; grey is repeated, alpha dropped."""
    if image.ndim == 2:
        image = image[..., None]
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]
    return to_working(crop_square(rgb, x0, y0, side, replicate=True), size)


def working_positions(x0: int, y0: int, side: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution (x, y) pixel coordinates of the working grid's cell centres, (S, S) each."""
    coords = (np.arange(size, dtype=np.float32) + 0.5) * (side / size) - 0.5
    return np.meshgrid(coords + x0, coords + y0)


def pixels_to_grid(points_x: np.ndarray, points_y: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """Full-resolution pixel coordinates -> grid_sample coordinates of the square, (..., 2)."""
    return np.stack([(2.0 * (points_x - x0) + 1.0) / side - 1.0, (2.0 * (points_y - y0) + 1.0) / side - 1.0], axis=-1)
