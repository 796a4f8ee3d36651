"""Classical anchors for ``simnet eval-restyle``, applied with the same locality as the restyle.

- **Reinhard** et al. 2001: per-channel mean and deviation of the region moved to the exemplar
  region's, in CIE Lab.
- **Histogram matching**: each RGB channel's distribution of the region mapped onto the
  exemplar region's (quantile matching).
- **AdaIN on backbone features** (Huang & Belongie 2017, Eq. 8), with no decoder shipped:
  the region's EfficientNet-Lite0 features (blocks 0, 2, 4) get the exemplar region's channel
  means and deviations, and the picture is decoded by optimising its pixels to have those
  features (:data:`ADAIN_STEPS` Adam steps at most :data:`ADAIN_SIDE` pixels a side); the change
  is then enlarged onto the full-resolution region.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from engine.imageio import to_float_rgb
from engine.locality import box_within_reach, default_reach, distance_outside, smoothstep_falloff
from engine.evaluation.restyle_metrics import metric_network
from models.influence import mask_bbox

ADAIN_STEPS = 100
ADAIN_SIDE = 256
QUANTILES = 257


def _compose(image: np.ndarray, region: np.ndarray, styled_box: np.ndarray, box: tuple[int, int, int, int],
             reach: float) -> np.ndarray:
    """``styled_box`` (float RGB) blended in like a restyle at strength 1 (same weight, same reach)."""
    x0, y0, x1, y1 = box
    weight = smoothstep_falloff(distance_outside(region[y0:y1, x0:x1]), reach)[..., None]
    top = np.iinfo(image.dtype).max
    before = image[y0:y1, x0:x1]
    styled = np.clip(np.rint(styled_box * top), 0, top)
    mixed = before[..., :3].astype(np.float32) + weight * (styled - before[..., :3])
    out = image.copy()
    out[y0:y1, x0:x1, :3] = np.where(weight > 0, np.clip(np.rint(mixed), 0, top), before[..., :3]).astype(image.dtype)
    return out


def _box(region: np.ndarray, shape: tuple[int, ...]) -> tuple[tuple[int, int, int, int], float]:
    reach = default_reach(region, region)
    return box_within_reach(mask_bbox(region), reach, shape), reach


def reinhard(image: np.ndarray, region: np.ndarray, exemplar: np.ndarray, exemplar_region: np.ndarray) -> np.ndarray:
    box, reach = _box(region, image.shape)
    x0, y0, x1, y1 = box
    lab = cv2.cvtColor(to_float_rgb(image[y0:y1, x0:x1]), cv2.COLOR_RGB2Lab)
    theirs = cv2.cvtColor(to_float_rgb(exemplar), cv2.COLOR_RGB2Lab)[exemplar_region]
    ours = lab[region[y0:y1, x0:x1]]
    scale = theirs.std(0) / np.maximum(ours.std(0), 1e-3)
    moved = (lab - ours.mean(0)) * scale + theirs.mean(0)
    return _compose(image, region, np.clip(cv2.cvtColor(moved.astype(np.float32), cv2.COLOR_Lab2RGB), 0, 1),
                    box, reach)


def histogram_matching(image: np.ndarray, region: np.ndarray, exemplar: np.ndarray,
                       exemplar_region: np.ndarray) -> np.ndarray:
    box, reach = _box(region, image.shape)
    x0, y0, x1, y1 = box
    rgb = to_float_rgb(image[y0:y1, x0:x1])
    ours, theirs = rgb[region[y0:y1, x0:x1]], to_float_rgb(exemplar)[exemplar_region]
    levels = np.linspace(0, 1, QUANTILES)
    styled = np.empty_like(rgb)
    for channel in range(3):
        styled[..., channel] = np.interp(rgb[..., channel], np.quantile(ours[:, channel], levels),
                                         np.quantile(theirs[:, channel], levels))
    return _compose(image, region, styled, box, reach)


def _reduced(rgb: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(rgb.shape[:2])
    if scale >= 1:
        return rgb
    size = (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _masked_moments(feature: torch.Tensor, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    height, width = feature.shape[-2:]
    small = torch.from_numpy(cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5)
    flat = feature[0].reshape(feature.shape[1], -1)[:, small.reshape(-1)] if small.any() else feature[0].flatten(1)
    return flat.mean(1).view(1, -1, 1, 1), flat.std(1).view(1, -1, 1, 1) + 1e-5


def adain_features(image: np.ndarray, region: np.ndarray, exemplar: np.ndarray, exemplar_region: np.ndarray,
                   steps: int = ADAIN_STEPS) -> np.ndarray:
    box, reach = _box(region, image.shape)
    x0, y0, x1, y1 = box
    rgb = to_float_rgb(image[y0:y1, x0:x1])
    small = _reduced(rgb, ADAIN_SIDE)
    small_mask = cv2.resize(region[y0:y1, x0:x1].astype(np.float32), small.shape[1::-1]) >= 0.5
    ex0, ey0, ex1, ey1 = mask_bbox(exemplar_region)
    ex_rgb = _reduced(to_float_rgb(exemplar[ey0:ey1, ex0:ex1]), ADAIN_SIDE)
    ex_mask = cv2.resize(exemplar_region[ey0:ey1, ex0:ex1].astype(np.float32), ex_rgb.shape[1::-1]) >= 0.5
    network = metric_network()
    start = torch.from_numpy(small).permute(2, 0, 1)[None]
    with torch.no_grad():
        content = network(start)
        style = network(torch.from_numpy(ex_rgb).permute(2, 0, 1)[None])
    targets = []
    for ours, theirs in zip(content, style):  # every block: AdaIN's statistics on the style blocks and deeper
        mean, deviation = _masked_moments(ours, small_mask)
        style_mean, style_deviation = _masked_moments(theirs, ex_mask)
        targets.append((ours - mean) / deviation * style_deviation + style_mean)  # AdaIN, Eq. 8
    pixels = start.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([pixels], lr=0.02)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = sum(((got - wanted) ** 2).mean() / wanted.var().clamp_min(1e-6)
                   for got, wanted in zip(network(pixels), targets))
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            pixels.clamp_(0, 1)
    change = (pixels.detach()[0].permute(1, 2, 0).numpy() - small).astype(np.float32)
    change = cv2.resize(change, rgb.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    return _compose(image, region, np.clip(rgb + change, 0, 1), box, reach)
