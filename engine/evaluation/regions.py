"""Region masks on paintings found without any model: colour clusters of a blurred copy.

Deterministic for a seed; used only to build held-out evaluation edits.
"""
from __future__ import annotations

import cv2
import numpy as np
import scipy.ndimage

MIN_FRACTION, MAX_FRACTION = 0.02, 0.2


def find_regions(image: np.ndarray, seed: int, clusters: int = 6) -> list[np.ndarray]:
    """Connected, hole-free, smooth regions covering 2-20 % of the image, largest first."""
    height, width = image.shape[:2]
    scale = 256.0 / max(height, width)
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    if small.ndim == 2 or small.shape[2] == 1:
        small = np.repeat(small.reshape(small.shape[0], small.shape[1], 1), 3, axis=2)
    small = small[..., :3]
    if small.dtype == np.uint16:
        small = (small // 257).astype(np.uint8)
    lab = cv2.cvtColor(cv2.GaussianBlur(small, (0, 0), 2.0), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    _, labels, _ = cv2.kmeans(lab, clusters, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    labels = labels.reshape(small.shape[:2])
    area = labels.size
    regions = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for cluster in range(clusters):
        cleaned = cv2.morphologyEx((labels == cluster).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        components, count = scipy.ndimage.label(cleaned)
        for index in range(1, count + 1):
            region = scipy.ndimage.binary_fill_holes(components == index)
            if not MIN_FRACTION * area <= region.sum() <= MAX_FRACTION * area:
                continue
            full = cv2.resize(region.astype(np.uint8) * 255, (width, height), interpolation=cv2.INTER_LINEAR)
            full = cv2.GaussianBlur(full, (0, 0), max(1.0, 2.0 / scale)) > 127
            ys, xs = np.nonzero(full)
            touches_border = ys.min() == 0 or xs.min() == 0 or ys.max() == height - 1 or xs.max() == width - 1
            if full.any() and not touches_border:
                regions.append(full)
    regions.sort(key=lambda mask: -int(mask.sum()))
    return regions
