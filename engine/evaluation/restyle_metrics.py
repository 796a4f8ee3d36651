"""Scores of a restyle (``simnet eval-restyle``): content kept and style reached, on a region.

All are computed on the regions' bounding boxes reduced to at most :data:`METRIC_SIDE` pixels a
side, with EfficientNet-Lite0 features (the shipped ImageNet backbone; VGG is not shipped): style
on the low-level blocks 0, 2 and 4 (1/2, 1/4, 1/8 resolution), content on the deeper blocks 4, 7
and 10 (1/8, 1/16, 1/16), as Gatys et al. and STROTSS take content from deeper layers than style.

- **content distance** (lower is better): STROTSS's self-similarity loss (Kolkin et al. 2019,
  Eq. 3): cosine-distance matrices D among sampled positions of the input region and of the
  output region, each normalised by its column sums; the mean absolute difference, times the
  number of positions (so 0 is the same structure and values are near 1 for unrelated images).
- **structure SSIM** (higher is better): the structure term of SSIM (Wang et al. 2004,
  (sigma_xy + C3) / (sigma_x sigma_y + C3)) of the lightness, averaged over the region: the
  light-and-dark layout, whatever its tones.
- **style loss** (lower is better): Gatys et al.'s Gram-matrix loss between the output region's
  features and the exemplar region's, summed over the three blocks.
- **colour relevance** (higher is better): cosine similarity of the two regions' Lab colour
  histograms (8 x 8 x 8 bins), the low-level colour feature of SIM-Net's Table 2.
- **texture relevance** (higher is better): cosine similarity of the block-0 Gram matrices of
  the two regions in greyscale (texture without colour).
"""
from __future__ import annotations

import functools

import cv2
import numpy as np
import torch

from models.influence import mask_bbox
from models.perceptual import EfficientNetLite0Features

METRIC_SIDE = 256
METRIC_BLOCKS = (0, 2, 4, 7, 10)
STYLE_LAYERS = (0, 1, 2)  # indices into METRIC_BLOCKS
CONTENT_LAYERS = (2, 3, 4)
#: Positions sampled for the self-similarity matrices.
SELF_SIMILARITY_POSITIONS = 1024
HISTOGRAM_BINS = 8


@functools.lru_cache(maxsize=1)
def metric_network() -> EfficientNetLite0Features:
    return EfficientNetLite0Features(feature_blocks=METRIC_BLOCKS)


def region_crop(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mask's bounding box of ``image`` as float RGB in [0, 1] and the mask there, reduced to
    at most :data:`METRIC_SIDE` a side."""
    x0, y0, x1, y1 = mask_bbox(mask)
    crop = image[y0:y1, x0:x1]
    crop = crop[..., :3] if crop.shape[2] >= 3 else np.repeat(crop[..., :1], 3, axis=2)
    rgb = crop.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
    inside = mask[y0:y1, x0:x1].astype(np.float32)
    scale = METRIC_SIDE / max(x1 - x0, y1 - y0)
    if scale < 1:
        size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        inside = cv2.resize(inside, size, interpolation=cv2.INTER_AREA)
    return rgb, inside >= 0.5


def backbone_features(rgb: np.ndarray) -> list[torch.Tensor]:
    with torch.no_grad():
        return metric_network()(torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None])


def _inside(feature: torch.Tensor, mask: np.ndarray) -> torch.Tensor:
    """(positions, C) of ``feature`` (1, C, h, w) inside ``mask`` reduced to (h, w); all when none is."""
    height, width = feature.shape[-2:]
    small = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5
    flat = feature[0].reshape(feature.shape[1], -1).t()
    chosen = torch.from_numpy(small.reshape(-1))
    return flat[chosen] if chosen.any() else flat


def _gram(rows: torch.Tensor) -> torch.Tensor:
    return rows.t() @ rows / rows.shape[0]


def style_loss(output: list[torch.Tensor], output_mask: np.ndarray, exemplar: list[torch.Tensor],
               exemplar_mask: np.ndarray) -> float:
    total = 0.0
    for layer in STYLE_LAYERS:
        ours, theirs = output[layer], exemplar[layer]
        difference = _gram(_inside(ours, output_mask)) - _gram(_inside(theirs, exemplar_mask))
        total += float((difference ** 2).mean())
    return total


def content_distance(before: list[torch.Tensor], after: list[torch.Tensor], mask: np.ndarray,
                     positions: int = SELF_SIMILARITY_POSITIONS) -> float:
    """STROTSS's self-similarity distance on the content layers, averaged."""
    values = []
    for layer in CONTENT_LAYERS:
        first, second = before[layer], after[layer]
        a, b = _inside(first, mask), _inside(second, mask)
        if a.shape[0] > positions:
            keep = torch.from_numpy(np.random.default_rng(0).choice(a.shape[0], positions, replace=False))
            a, b = a[keep], b[keep]
        matrices = []
        for rows in (a, b):
            unit = torch.nn.functional.normalize(rows, dim=1)
            distance = 1.0 - unit @ unit.t()
            matrices.append(distance / distance.sum(0, keepdim=True).clamp_min(1e-8))
        values.append(float((matrices[0] - matrices[1]).abs().mean() * a.shape[0]))
    return float(np.mean(values))


def structure_ssim(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> float:
    """The SSIM structure term of the two lightness maps, averaged over ``mask``."""
    first, second = (cv2.cvtColor(image, cv2.COLOR_RGB2Lab)[..., 0].astype(np.float64) / 100.0
                     for image in (before, after))
    blur = lambda a: cv2.GaussianBlur(a, (11, 11), 1.5)  # noqa: E731
    mu_a, mu_b = blur(first), blur(second)
    var_a = np.maximum(blur(first * first) - mu_a ** 2, 0)
    var_b = np.maximum(blur(second * second) - mu_b ** 2, 0)
    covariance = blur(first * second) - mu_a * mu_b
    c3 = (0.03 ** 2) / 2
    structure = (covariance + c3) / (np.sqrt(var_a * var_b) + c3)
    return float(structure[mask].mean())


def _cosine(first: np.ndarray, second: np.ndarray) -> float:
    first, second = first.ravel().astype(np.float64), second.ravel().astype(np.float64)
    return float(first @ second / max(np.linalg.norm(first) * np.linalg.norm(second), 1e-12))


def colour_relevance(output: np.ndarray, output_mask: np.ndarray, exemplar: np.ndarray,
                     exemplar_mask: np.ndarray) -> float:
    def histogram(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[mask]
        ranges = [(0, 100), (-128, 128), (-128, 128)]
        return np.histogramdd(lab, bins=HISTOGRAM_BINS, range=ranges)[0]
    return _cosine(histogram(output, output_mask), histogram(exemplar, exemplar_mask))


def texture_relevance(output: np.ndarray, output_mask: np.ndarray, exemplar: np.ndarray,
                      exemplar_mask: np.ndarray) -> float:
    def grey(rgb: np.ndarray) -> np.ndarray:
        return np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    ours = _gram(_inside(backbone_features(grey(output))[0], output_mask))
    theirs = _gram(_inside(backbone_features(grey(exemplar))[0], exemplar_mask))
    return _cosine(ours.numpy(), theirs.numpy())


def restyle_scores(before: np.ndarray, after: np.ndarray, region: np.ndarray, exemplar: np.ndarray,
                   exemplar_region: np.ndarray) -> dict[str, float]:
    """Every score of one restyle (full-resolution images and masks)."""
    before_rgb, mask = region_crop(before, region)
    after_rgb, _ = region_crop(after, region)
    exemplar_rgb, exemplar_mask = region_crop(exemplar, exemplar_region)
    before_features, after_features = backbone_features(before_rgb), backbone_features(after_rgb)
    exemplar_features = backbone_features(exemplar_rgb)
    return {
        "content": content_distance(before_features, after_features, mask),
        "structure": structure_ssim(before_rgb, after_rgb, mask),
        "style": style_loss(after_features, mask, exemplar_features, exemplar_mask),
        "colour": colour_relevance(after_rgb, mask, exemplar_rgb, exemplar_mask),
        "texture": texture_relevance(after_rgb, mask, exemplar_rgb, exemplar_mask),
    }
