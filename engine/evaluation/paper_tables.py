"""SIM-Net's own tables for reshape edits (``simnet eval``), from the restyle evaluation's metric code.

Table 1 (AAAI 2024): style loss in the ROI; SSIM, PSNR and a perceptual distance outside it.
Table 2: colour and texture relevance, time, memory. Here, with a true result for every edit:

- ROI = the new shape (the target mask); the style loss (Gram matrices, blocks 0, 2, 4 of the
  shipped EfficientNet-Lite0; :mod:`engine.evaluation.restyle_metrics`) and the colour and texture
  relevances compare the result's ROI with the truth's;
- outside = every pixel outside both masks, against the truth: SSIM and PSNR
  (:mod:`engine.evaluation.metrics`) and a perceptual distance (mean L1 of the same backbone's
  block 0, 2 and 4 features over the outside positions; LPIPS is not shipped);
- seconds and peak memory per edit (:mod:`engine.evaluation.cost`).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from engine.evaluation.dataset import EvalEdit
from engine.evaluation.metrics import psnr, ssim
from engine.evaluation.restyle_metrics import (STYLE_LAYERS, backbone_features, colour_relevance, region_crop,
                                               style_loss, texture_relevance)

#: The images are reduced to at most this many pixels a side for the perceptual distance.
PERCEPTUAL_SIDE = 512


def _reduced_rgb(image: np.ndarray, side: int) -> np.ndarray:
    rgb = image[..., :3] if image.shape[2] >= 3 else np.repeat(image[..., :1], 3, axis=2)
    rgb = rgb.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
    scale = side / max(rgb.shape[:2])
    if scale < 1:
        rgb = cv2.resize(rgb, (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale))),
                         interpolation=cv2.INTER_AREA)
    return rgb


def perceptual_outside(result: np.ndarray, truth: np.ndarray, outside: np.ndarray) -> float:
    """Mean L1 distance of backbone features (blocks 0, 2, 4) over the positions outside the masks."""
    ours, theirs = (backbone_features(_reduced_rgb(image, PERCEPTUAL_SIDE)) for image in (result, truth))
    total = 0.0
    for layer in STYLE_LAYERS:
        a, b = ours[layer][0], theirs[layer][0]
        height, width = a.shape[-2:]
        where = cv2.resize(outside.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.999
        if not where.any():
            return float("nan")
        total += float((a - b).abs().mean(0)[torch.from_numpy(where)].mean())
    return total


def paper_scores(edit: EvalEdit, result: np.ndarray) -> dict[str, float]:
    """Table 1 and Table 2's quality columns for one reshape result."""
    true = edit.edit
    roi = true.target_mask
    outside = ~(true.source_mask | true.target_mask)
    result_rgb, roi_small = region_crop(result, roi)
    truth_rgb, _ = region_crop(true.truth, roi)
    return {
        "style_roi": style_loss(backbone_features(result_rgb), roi_small, backbone_features(truth_rgb), roi_small),
        "ssim_outside": ssim(result, true.truth, outside),
        "psnr_outside": psnr(result, true.truth, outside),
        "perceptual_outside": perceptual_outside(result, true.truth, outside),
        "colour_roi": colour_relevance(result_rgb, roi_small, truth_rgb, roi_small),
        "texture_roi": texture_relevance(result_rgb, roi_small, truth_rgb, roi_small),
    }


PAPER_HEADERS = ("method", "style loss (ROI) ↓", "SSIM (outside) ↑", "PSNR (outside) ↑", "perceptual (outside) ↓",
                 "colour rel. (ROI) ↑", "texture rel. (ROI) ↑", "seconds", "peak MB")


def paper_markdown(summary: dict[str, dict[str, float]], count: int) -> str:
    """One row per method over ``count`` edits: SIM-Net's Table 1 and Table 2 columns."""
    lines = [f"SIM-Net's Table 1 and 2 columns, over {count} edits:", "",
             "| " + " | ".join(PAPER_HEADERS) + " |", "|" + " --- |" * len(PAPER_HEADERS)]
    for method, values in summary.items():
        cells = [f"{values['style_roi']:.1f}", f"{values['ssim_outside']:.4f}", f"{values['psnr_outside']:.2f}",
                 f"{values['perceptual_outside']:.4f}", f"{values['colour_roi']:.3f}", f"{values['texture_roi']:.3f}",
                 f"{values['seconds']:.2f}", f"{values['peak_mb']:.0f}"]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


PAPER_LEGEND = ("ROI: the new shape; style loss and colour/texture relevance compare the result's ROI with "
                "the truth's (EfficientNet-Lite0 Gram matrices, blocks 0-4; Lab histograms; block-0 Gram "
                "matrices of the grey ROI). outside: every pixel outside both masks, against the truth; "
                "perceptual: mean L1 of the same backbone's features there (LPIPS is not shipped). seconds and "
                "peak MB: the method's call alone (peak: rise of the resident high-water mark).")
