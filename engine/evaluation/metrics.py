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
