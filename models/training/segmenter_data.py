"""BSDS500 for the promptable segmenter: the frozen encoder's features of every photo, computed once
and cached beside the run (``<out>/cache/<split>.pt``), with the photo and its human segmentations.

Photos are padded (reflected) to multiples of 16; ``valid`` marks the real pixels. The training split
is cached twice, the second time mirrored, for augmentation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from models.segmenter.encoder import ImageEncoder
from models.segmenter.network import embed
from models.training.bsds import list_samples, load_sample

FEATURE_KEYS = ("f2", "f4", "f8", "f16", "rgb2", "rgb4")


@dataclass
class CachedPhoto:
    name: str
    image: np.ndarray  # (H, W, 3) uint8, unpadded
    segmentations: list[np.ndarray]  # (H, W) label maps, one per annotator
    features: dict[str, torch.Tensor]  # (C, h, w) float16 of the padded photo
    padded_size: tuple[int, int]


def pad_to_multiple(image: np.ndarray, multiple: int = 16) -> np.ndarray:
    height, width = image.shape[:2]
    bottom, right = (-height) % multiple, (-width) % multiple
    if not bottom and not right:
        return image
    return cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REFLECT_101)


def image_tensor(image: np.ndarray) -> torch.Tensor:
    """(1, 3, H, W) float in [0, 1] of an (H, W, 3) uint8 image."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0


def cache_split(data: Path, split: str, cache: Path, encoder: ImageEncoder, mirrored: bool,
                report: Callable[[str], None] = print) -> Path:
    """Compute (or find) the cached features of one split; returns the cache file."""
    path = cache / f"{split}{'_mirrored' if mirrored else ''}.pt"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    photos = []
    pairs = list_samples(data, (split,))
    for index, (image_path, truth_path) in enumerate(pairs):
        sample = load_sample(image_path, truth_path)
        image, segmentations = sample.image, sample.segmentations
        if mirrored:
            image = np.ascontiguousarray(image[:, ::-1])
            segmentations = [np.ascontiguousarray(labels[:, ::-1]) for labels in segmentations]
        padded = pad_to_multiple(image)
        features = embed(encoder, image_tensor(padded))
        photos.append({"name": sample.name, "image": torch.from_numpy(image),
                       "segmentations": [torch.from_numpy(labels.astype(np.int16)) for labels in segmentations],
                       "features": {key: features[key][0].half() for key in FEATURE_KEYS}})
        if (index + 1) % 50 == 0:
            report(f"cached {split}{' mirrored' if mirrored else ''}: {index + 1}/{len(pairs)}")
    temporary = path.with_suffix(".tmp")
    torch.save(photos, temporary)
    temporary.replace(path)
    return path


def load_cached(path: Path) -> list[CachedPhoto]:
    photos = []
    for entry in torch.load(path, map_location="cpu", weights_only=True):
        features = entry["features"]
        height, width = features["f2"].shape[-2:]
        photos.append(CachedPhoto(entry["name"], entry["image"].numpy(),
                                  [labels.numpy() for labels in entry["segmentations"]],
                                  features, (2 * height, 2 * width)))
    return photos


def build_cache(data: Path, cache: Path, splits: tuple[str, ...] = ("train", "val", "test"),
                report: Callable[[str], None] = print) -> dict[str, list[Path]]:
    """Cache every split (train also mirrored); returns the files per split."""
    encoder = ImageEncoder()
    files: dict[str, list[Path]] = {}
    for split in splits:
        files[split] = [cache_split(data, split, cache, encoder, False, report)]
        if split == "train":
            files[split].append(cache_split(data, split, cache, encoder, True, report))
    return files
