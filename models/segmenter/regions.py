"""Human regions of annotators' label maps (BSDS500 style): evaluation targets and training parts."""
from __future__ import annotations

import numpy as np
import scipy.ndimage

#: A target region of the evaluation covers this fraction of the image (protocol in engine/segmentation/evaluation.py).
MIN_TARGET_FRACTION, MAX_TARGET_FRACTION = 0.01, 0.60


def largest_component(region: np.ndarray) -> np.ndarray:
    components, number = scipy.ndimage.label(region)
    if number <= 1:
        return region
    sizes = np.bincount(components.ravel())[1:]
    return components == (1 + int(np.argmax(sizes)))


def target_regions(segmentation: np.ndarray, low: float = MIN_TARGET_FRACTION,
                   high: float = MAX_TARGET_FRACTION) -> list[np.ndarray]:
    """Each label's largest connected part, kept when it covers ``low``..``high`` of the image."""
    area = segmentation.size
    regions = []
    for label in np.unique(segmentation):
        region = largest_component(segmentation == label)
        if low * area <= region.sum() <= high * area:
            regions.append(region)
    return regions


class ComponentMap:
    """One annotator's segmentation split into connected parts, each with its own id, so that a
    region (or the part under a point) is one comparison instead of a labelling pass."""

    def __init__(self, segmentation: np.ndarray) -> None:
        self.components = np.zeros(segmentation.shape, np.int32)
        self.largest: list[int] = []  # the largest part of every label
        next_id = 1
        for label in np.unique(segmentation):
            parts, number = scipy.ndimage.label(segmentation == label)
            if number == 0:
                continue
            inside = parts > 0
            self.components[inside] = parts[inside] + (next_id - 1)
            sizes = np.bincount(parts.ravel())[1:]
            self.largest.append(next_id + int(np.argmax(sizes)))
            next_id += number
        self.areas = np.bincount(self.components.ravel(), minlength=next_id)

    def target_ids(self, low: float, high: float) -> list[int]:
        size = self.components.size
        return [part for part in self.largest if low * size <= self.areas[part] <= high * size]

    def region(self, part: int) -> np.ndarray:
        return self.components == part

    def part_at(self, x: int, y: int) -> np.ndarray:
        return self.components == self.components[y, x]
