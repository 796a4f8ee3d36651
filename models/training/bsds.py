"""BSDS500 photographs and their human region segmentations (the only training data).

Regions are semantic-free, like the masks an artist gets from Segment Anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import scipy.io
import scipy.ndimage

#: A usable region covers this fraction of the photo.
MIN_REGION_FRACTION, MAX_REGION_FRACTION = 0.02, 0.35


@dataclass(frozen=True)
class BsdsSample:
    name: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    segmentations: list[np.ndarray]  # label maps, one per annotator


def list_samples(root: str | Path, splits: tuple[str, ...]) -> list[tuple[Path, Path]]:
    """(image, ground truth) path pairs for the given splits."""
    root = Path(root)
    pairs = []
    for split in splits:
        for image_path in sorted((root / "images" / split).glob("*.jpg")):
            truth = root / "groundTruth" / split / f"{image_path.stem}.mat"
            if truth.exists():
                pairs.append((image_path, truth))
    if not pairs:
        raise FileNotFoundError(f"no BSDS500 images with ground truth under {root} for {splits}")
    return pairs


def load_sample(image_path: Path, truth_path: Path) -> BsdsSample:
    image = cv2.cvtColor(cv2.imread(str(image_path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    cells = scipy.io.loadmat(str(truth_path))["groundTruth"][0]
    segmentations = [np.asarray(cell["Segmentation"][0, 0]) for cell in cells]
    return BsdsSample(image_path.stem, image, segmentations)


def candidate_regions(sample: BsdsSample) -> list[np.ndarray]:
    """Connected, hole-free human regions of a usable size (boolean masks)."""
    area = sample.image.shape[0] * sample.image.shape[1]
    regions = []
    for labels in sample.segmentations:
        for label in np.unique(labels):
            region = labels == label
            count = int(region.sum())
            if not MIN_REGION_FRACTION * area <= count <= MAX_REGION_FRACTION * area * 1.5:
                continue
            components, number = scipy.ndimage.label(region)
            if number > 1:
                sizes = np.bincount(components.ravel())[1:]
                region = components == (1 + int(np.argmax(sizes)))
            region = scipy.ndimage.binary_fill_holes(region)
            if MIN_REGION_FRACTION * area <= region.sum() <= MAX_REGION_FRACTION * area:
                regions.append(region)
    return regions


def object_like_shapes(labels: np.ndarray, rng: np.random.Generator, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` object-like regions of one human segmentation ``labels``, taken in ``rng``'s order:
    connected, hole-free, 1-25 % of the photo, away from its border, not a sliver or a thin band (at least
    35 % of their box, the box at most 4:1), each cropped to its box (boolean)."""
    shapes = []
    for label in rng.permutation(np.unique(labels)):
        region = scipy.ndimage.binary_fill_holes(labels == label)
        if scipy.ndimage.label(region)[1] != 1 or not 0.01 <= region.mean() <= 0.25:
            continue
        rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
        if rows[0] == 0 or cols[0] == 0 or rows[-1] == region.shape[0] - 1 or cols[-1] == region.shape[1] - 1:
            continue
        crop = region[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        if crop.mean() < 0.35 or max(crop.shape) > 4 * min(crop.shape):
            continue
        shapes.append(crop)
        if len(shapes) == limit:
            break
    return shapes
