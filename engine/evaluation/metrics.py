"""PSNR, SSIM and IoU restricted to an area (images as (H, W, C) arrays of one dtype)."""
from __future__ import annotations

import math

import cv2
import numpy as np

#: PSNR reported for identical pixels (instead of infinity), so means stay finite.
PSNR_CAP = 99.0


def _peak(image: np.ndarray) -> float:
    return 65535.0 if image.dtype == np.uint16 else 255.0


def psnr(result: np.ndarray, truth: np.ndarray, area: np.ndarray | None = None) -> float:
    """PSNR (dB) over the pixels of ``area`` (all channels); capped at :data:`PSNR_CAP`."""
    difference = result.astype(np.float64) - truth.astype(np.float64)
    squared = difference**2 if area is None else (difference**2)[area]
    if squared.size == 0:
        return PSNR_CAP
    mse = float(squared.mean())
    if mse == 0.0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(_peak(truth) ** 2 / mse))


def ssim_map(result: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03), channel mean."""
    peak = _peak(truth)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    x = result.astype(np.float64)
    y = truth.astype(np.float64)
    blur = lambda a: cv2.GaussianBlur(a, (11, 11), 1.5)  # noqa: E731
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    value = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return value if value.ndim == 2 else value.mean(axis=2)


def ssim(result: np.ndarray, truth: np.ndarray, area: np.ndarray | None = None) -> float:
    """Mean SSIM over ``area`` (computed on the area's bounding box plus a window margin)."""
    if area is None:
        return float(ssim_map(result, truth).mean())
    rows, cols = np.flatnonzero(area.any(axis=1)), np.flatnonzero(area.any(axis=0))
    if rows.size == 0:
        return 1.0
    y0, y1 = max(0, rows[0] - 8), min(area.shape[0], rows[-1] + 9)
    x0, x1 = max(0, cols[0] - 8), min(area.shape[1], cols[-1] + 9)
    values = ssim_map(result[y0:y1, x0:x1], truth[y0:y1, x0:x1])
    return float(values[area[y0:y1, x0:x1]].mean())


def iou(first: np.ndarray, second: np.ndarray) -> float:
    union = np.logical_or(first, second).sum()
    return 1.0 if union == 0 else float(np.logical_and(first, second).sum() / union)


def changed_fraction(result: np.ndarray, reference: np.ndarray, area: np.ndarray) -> float:
    """Fraction of the pixels of ``area`` where ``result`` differs from ``reference`` in any channel."""
    if not area.any():
        return 0.0
    differs = result != reference
    if differs.ndim == 3:
        differs = differs.any(axis=2)
    return float(differs[area].mean())


#: The ghost measure only counts vacated pixels where the old content and the truth differ by more
#: than this many levels (of 255, mean over channels): elsewhere they cannot be told apart.
GHOST_CONTRAST = 12.0


def ghost_fraction(result: np.ndarray, before: np.ndarray, truth: np.ndarray, area: np.ndarray) -> float:
    """Share of the vacated ``area`` that still shows the old region: pixels whose result is closer to
    the input (``before``) than to the truth, among those where the two differ clearly
    (:data:`GHOST_CONTRAST`). NaN when no pixel of ``area`` tells them apart.

    1 for a method that leaves the old region in place, 0 for the truth; a smear of the region's
    own colours counts as ghost, a fill with what surrounds it mostly does not.
    """
    level = 255.0 / _peak(truth)
    to_before = np.abs(result.astype(np.float32) - before.astype(np.float32)) * level
    to_truth = np.abs(result.astype(np.float32) - truth.astype(np.float32)) * level
    contrast = np.abs(before.astype(np.float32) - truth.astype(np.float32)) * level
    if to_before.ndim == 3:
        to_before, to_truth, contrast = to_before.mean(axis=2), to_truth.mean(axis=2), contrast.mean(axis=2)
    counted = area & (contrast > GHOST_CONTRAST)
    if not counted.any():
        return float("nan")
    return float((to_before[counted] < to_truth[counted]).mean())


#: The columns of SIM-Net's Tables 1 and 2 that ``engine.evaluation.paper_tables`` adds to a reshape's row.
PAPER_METRICS = ("style_roi", "ssim_outside", "psnr_outside", "perceptual_outside", "colour_roi", "texture_roi",
                 "seconds", "peak_mb")
