"""Image Transport Module (Eqs. 3-5): attention over the warped copies and the original.

Confidence masks m_f^i = x_A - w^i(y_A) (Eq. 3) say where warp i puts the region right. A small
hourglass sees the K warped masks, the K confidence masks, both masks and the K displacement
fields, and outputs K+1 attention maps, softmax-normalised per pixel (Eq. 4); map 0 keeps the
original. The result is x_B = sum_i m_i * w^i(y_B), and x_A likewise on the mask (Eq. 5).
It also predicts a small residual displacement inside the edited area, which the fused field adds.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.keypoints import Hourglass


def confidence_masks(target_mask: torch.Tensor, warped_masks: torch.Tensor) -> torch.Tensor:
    """Eq. 3: x_A - w^i(y_A) for each warp; (B, K, S, S)."""
    return target_mask - warped_masks


def fuse(attention: torch.Tensor, warped: torch.Tensor) -> torch.Tensor:
    """Eq. 5: per-pixel attention-weighted sum of the warped copies (B, N, C, S, S) -> (B, C, S, S)."""
    return (attention[:, :, None] * warped).sum(dim=1)


class ImageTransport(nn.Module):
    """Predicts K+1 attention logits (Eq. 4) and a residual displacement from the warped masks."""

    def __init__(self, num_keypoints: int = 10, width: int = 32, depth: int = 4, residual_scale: float = 0.25) -> None:
        super().__init__()
        in_channels = 4 * num_keypoints + 2
        self.hourglass = Hourglass(in_channels, width, depth)
        self.attention_head = nn.Conv2d(self.hourglass.out_channels, num_keypoints + 1, 7, padding=3)
        self.residual_head = nn.Conv2d(self.hourglass.out_channels, 2, 7, padding=3)
        nn.init.zeros_(self.residual_head.weight)
        nn.init.zeros_(self.residual_head.bias)
        self.residual_scale = residual_scale

    def forward(self, source_mask: torch.Tensor, target_mask: torch.Tensor, warped_masks: torch.Tensor,
                displacements: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``warped_masks`` (B, K, S, S), ``displacements`` (B, K, 2, S, S) -> attention, residual."""
        batch, count, size = warped_masks.shape[:3]
        inputs = torch.cat([source_mask, target_mask, warped_masks, confidence_masks(target_mask, warped_masks),
                            displacements.reshape(batch, 2 * count, size, size)], dim=1)
        features = self.hourglass(inputs)
        attention = F.softmax(self.attention_head(features), dim=1)  # Eq. 4
        residual = self.residual_scale * torch.tanh(self.residual_head(features))
        return attention, residual.permute(0, 2, 3, 1)
