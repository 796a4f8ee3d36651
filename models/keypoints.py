"""Local Region Alignment Module: keypoints and local Jacobians of a region mask.

A first-order-motion style hourglass sees one mask (plus blurred copies and coordinate channels)
and predicts K heatmaps H^k; each keypoint p_k is the heatmap's expectation (soft-argmax) and its
2x2 Jacobian J_k the heatmap-weighted average of a per-pixel regression. The same detector runs on
the source mask y_A and on the target mask x_A, giving K local affines from each mask to a shared
virtual reference frame R (Sec. "Local Region Alignment").
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.blocks import Hourglass
from models.grids import coordinate_grid


def mask_features(mask: torch.Tensor) -> torch.Tensor:
    """Mask, two blurred copies (soft distance cues) and x/y coordinates: (B, 5, S, S)."""
    blur_small = F.avg_pool2d(mask, 5, stride=1, padding=2, count_include_pad=False)
    blur_large = F.avg_pool2d(mask, 11, stride=1, padding=5, count_include_pad=False)
    grid = coordinate_grid(mask.shape[-1], mask.device, mask.dtype).permute(2, 0, 1)
    return torch.cat([mask, blur_small, blur_large, grid[None].expand(mask.shape[0], -1, -1, -1)], dim=1)


class KeypointDetector(nn.Module):
    """Mask -> K keypoints (B, K, 2), Jacobians (B, K, 2, 2) and heatmaps (B, K, S, S)."""

    def __init__(self, num_keypoints: int = 10, width: int = 32, depth: int = 4, temperature: float = 0.1) -> None:
        super().__init__()
        self.num_keypoints = num_keypoints
        self.temperature = temperature
        self.hourglass = Hourglass(5, width, depth)
        self.heatmap_head = nn.Conv2d(self.hourglass.out_channels, num_keypoints, 7, padding=3)
        self.jacobian_head = nn.Conv2d(self.hourglass.out_channels, 4 * num_keypoints, 7, padding=3)
        # Start from identity Jacobians, as in first-order-motion.
        nn.init.zeros_(self.jacobian_head.weight)
        with torch.no_grad():
            self.jacobian_head.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0]).repeat(num_keypoints))

    def forward(self, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.hourglass(mask_features(mask))
        batch, _, height, width = mask.shape
        logits = self.heatmap_head(features).flatten(2) / self.temperature
        heatmaps = F.softmax(logits, dim=-1).view(batch, self.num_keypoints, height, width)
        grid = coordinate_grid(height, mask.device, mask.dtype)
        keypoints = (heatmaps[..., None] * grid).sum(dim=(2, 3))
        jacobian_map = self.jacobian_head(features).view(batch, self.num_keypoints, 4, height, width)
        jacobians = (jacobian_map * heatmaps[:, :, None]).sum(dim=(3, 4)).view(batch, self.num_keypoints, 2, 2)
        return keypoints, jacobians, heatmaps
