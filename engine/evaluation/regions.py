"""Region masks on paintings found without any model: colour clusters of a blurred copy.

Deterministic for a seed; used only to build held-out evaluation edits. Regions that touch the
image border are kept apart (``border=True``), so the evaluation can include edits of regions cut
by the border on purpose.
"""
from __future__ import annotations

import cv2
import numpy as np
import scipy.ndimage

MIN_FRACTION, MAX_FRACTION = 0.02, 0.2


def find_regions(image: np.ndarray, seed: int, clusters: int = 6, *, border: bool = False) -> list[np.ndarray]:
    """Connected, hole-free, smooth regions covering 2-20 % of the image, largest first: those
    inside the image, or with ``border`` those that touch its border."""
    inside, touching = split_regions(image, seed, clusters)
    return touching if border else inside


def _filled(components: np.ndarray, index: int, box: tuple[slice, slice]) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Component ``index`` with its holes filled, on its bounding box grown by one pixel."""
    rows, cols = box
    box = (slice(max(0, rows.start - 1), rows.stop + 1), slice(max(0, cols.start - 1), cols.stop + 1))
    return scipy.ndimage.binary_fill_holes(components[box] == index), box


def split_regions(image: np.ndarray, seed: int, clusters: int = 6) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`find_regions` both ways at once: (regions inside the image, regions touching its border)."""
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
    inside: list[np.ndarray] = []
    touching: list[np.ndarray] = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for cluster in range(clusters):
        cleaned = cv2.morphologyEx((labels == cluster).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        components, count = scipy.ndimage.label(cleaned)
        sizes = np.bincount(components.ravel(), minlength=count + 1)
        for index, box in enumerate(scipy.ndimage.find_objects(components), start=1):
            if box is None or sizes[index] > MAX_FRACTION * area:  # filling holes only grows a region
                continue
            filled, box = _filled(components, index, box)
            if not MIN_FRACTION * area <= filled.sum() <= MAX_FRACTION * area:
                continue
            region = np.zeros(labels.shape, bool)
            region[box] = filled
            full = cv2.resize(region.astype(np.uint8) * 255, (width, height), interpolation=cv2.INTER_LINEAR)
            full = cv2.GaussianBlur(full, (0, 0), max(1.0, 2.0 / scale)) > 127
            if not full.any():
                continue
            ys, xs = np.nonzero(full)
            on_border = ys.min() == 0 or xs.min() == 0 or ys.max() == height - 1 or xs.max() == width - 1
            (touching if on_border else inside).append(full)
    inside.sort(key=lambda mask: -int(mask.sum()))
    touching.sort(key=lambda mask: -int(mask.sum()))
    return inside, touching
