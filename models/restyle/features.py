"""Per-cell descriptors for the restyle correspondence: EfficientNet-Lite0 features at 1/4 of the
working resolution (blocks 2 and 4; block 4's 1/8 map upsampled), plus the cell's tone.

The features of the region and of the exemplar region are each centred and scaled by their own
channel statistics inside the region (positional style removed, as in PONO/AdaIN), then every cell
is L2-normalised, so a dot product is a cosine similarity (CoCosNet's correlation).

NumPy and OpenCV only (the backbone's blocks run in :mod:`models.restyle.lite0`), so that
``simnet restyle`` never imports torch. Arrays are (h, w, C) float32; cells are in raster order.
"""
from __future__ import annotations

from typing import Mapping

import cv2
import numpy as np

from models.restyle.lite0 import Lite0Blocks

#: Blocks whose features describe a cell: 1/4 resolution (24 channels) and 1/8 (40 channels).
RESTYLE_BLOCKS = (2, 4)
#: One cell of the correspondence grid is this many working pixels a side.
CELL = 4


class RestyleBackbone:
    """Frozen EfficientNet-Lite0 blocks 0..4 (``weights``: :func:`models.restyle.lite0.fold_batch_norms`'s);
    RGB (H, W, 3) in [0, 1] -> (H/4, W/4, 64)."""

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.network = Lite0Blocks(weights, RESTYLE_BLOCKS)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        quarter, eighth = self.network(rgb)
        # Bilinear with half-pixel centres: torch's F.interpolate(align_corners=False) exactly.
        eighth = cv2.resize(eighth, (quarter.shape[1], quarter.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.concatenate([quarter, eighth], axis=2)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Each row divided by its length (torch's F.normalize: lengths under 1e-12 count as 1e-12)."""
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), np.float32(1e-12))


def cell_coverage(mask: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The share of each cell of ``grid`` (h, w) covered by ``mask`` (H, W) in [0, 1] (exact when
    the grid divides the mask, as it does here)."""
    return cv2.resize(mask.astype(np.float32), (grid[1], grid[0]), interpolation=cv2.INTER_AREA)


def relative_positions(weights: np.ndarray) -> np.ndarray:
    """(h, w, 2): each cell's position (x, y) in the bounding box of the cells with weight > 0,
    from -0.5 to 0.5: RABIT's position encoding per region, so that a flat region still maps
    onto the exemplar region in order instead of onto one patch."""
    height, width = weights.shape
    rows = np.flatnonzero(weights.sum(1) > 0)
    cols = np.flatnonzero(weights.sum(0) > 0)
    if rows.size == 0:
        rows, cols = np.arange(height), np.arange(width)
    y0, y1 = float(rows[0]), float(rows[-1])
    x0, x1 = float(cols[0]), float(cols[-1])
    ys = (np.arange(height, dtype=np.float32) - y0) / max(1.0, y1 - y0) - 0.5
    xs = (np.arange(width, dtype=np.float32) - x0) / max(1.0, x1 - x0) - 0.5
    return np.stack(np.broadcast_arrays(xs[None, :], ys[:, None]), axis=-1).astype(np.float32)


def descriptors(features: np.ndarray, tone: np.ndarray, weights: np.ndarray, tone_weight: float,
                position_weight: float = 0.0) -> np.ndarray:
    """Unit descriptors (N, C + 3) of every cell, in raster order.

    ``features`` (h, w, C) from :class:`RestyleBackbone`; ``tone`` (h, w) the cell's luminance,
    already on a common scale for both images; ``weights`` (h, w) how much each cell counts in the
    channel statistics (its coverage by the region). Channels are standardised with the
    region's weighted mean and deviation, so each image's own style (means and contrasts of
    its feature channels) does not decide the match; the tone is appended with ``tone_weight`` and
    the cell's place in the region (:func:`relative_positions`) with ``position_weight``.
    """
    channels = features.shape[2]
    flat = features.reshape(-1, channels).astype(np.float32)
    w = np.maximum(weights.reshape(-1, 1), 0).astype(np.float32)
    total = max(float(w.sum()), 1e-6)
    mean = (flat * w).sum(0, keepdims=True) / np.float32(total)
    std = np.maximum(np.sqrt(((flat - mean) ** 2 * w).sum(0, keepdims=True) / np.float32(total)), np.float32(1e-4))
    standard = (flat - mean) / std / np.float32(channels ** 0.5)
    position = np.float32(position_weight) * relative_positions(weights).reshape(-1, 2)
    joined = np.concatenate([standard, np.float32(tone_weight) * tone.reshape(-1, 1).astype(np.float32), position],
                            axis=1)
    return unit_rows(joined)
