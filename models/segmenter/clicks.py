"""Simulated clicks, as in the interactive-segmentation literature (RITM, SimpleClick):
the first click at the interior point farthest from the region's boundary, each next click at the
point farthest inside the largest error region, positive when that region was missed, negative
when it was wrongly included. The image border counts as boundary."""
from __future__ import annotations

import numpy as np
import scipy.ndimage


def _inner_distance(mask: np.ndarray) -> np.ndarray:
    """Distance of each pixel of ``mask`` to the nearest pixel outside it (or the image border);
    computed within the mask's bounding box only (outside it the distance is 0)."""
    depth = np.zeros(mask.shape, np.float64)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return depth
    box = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    padded = np.pad(mask[box], 1, constant_values=False)
    depth[box] = scipy.ndimage.distance_transform_edt(padded)[1:-1, 1:-1]
    return depth


def first_click(target: np.ndarray, rng: np.random.Generator | None = None,
                spread: float = 0.0) -> tuple[float, float]:
    """(x, y) of the interior point farthest from the boundary; with ``rng`` and ``spread`` > 0, a
    random point among those at least (1 - spread) times as deep (training variety)."""
    depth = _inner_distance(target)
    return _deepest(depth, rng, spread)


def _deepest(depth: np.ndarray, rng: np.random.Generator | None, spread: float) -> tuple[float, float]:
    peak = float(depth.max())
    if peak <= 0:
        raise ValueError("empty region")
    if rng is None or spread <= 0:
        y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
        return float(x), float(y)
    ys, xs = np.nonzero(depth >= (1.0 - spread) * peak)
    pick = int(rng.integers(len(ys)))
    return float(xs[pick]), float(ys[pick])


def next_click(prediction: np.ndarray, target: np.ndarray, rng: np.random.Generator | None = None,
               spread: float = 0.0) -> tuple[tuple[float, float], int] | None:
    """The corrective click for ``prediction`` against ``target``: ((x, y), label), or None when
    the prediction is exact. Label 1 adds a missed area, 0 removes a wrongly included one."""
    missed = target & ~prediction
    extra = prediction & ~target
    missed_depth = _inner_distance(missed)
    extra_depth = _inner_distance(extra)
    if max(missed_depth.max(), extra_depth.max()) <= 0:
        return None
    positive = missed_depth.max() >= extra_depth.max()
    point = _deepest(missed_depth if positive else extra_depth, rng, spread)
    return point, int(positive)
