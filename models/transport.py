"""Image Transport Module (Eqs. 3-5): attention over the warped copies and the original.

Confidence masks m_f^i = x_A - w^i(y_A) (Eq. 3) say where warp i puts the region right. A small
hourglass sees the K warped masks, the K confidence masks, both masks and the K displacement
fields, and outputs K+1 attention maps that sum to one per pixel (Eq. 4); map 0 keeps the
original. The result is x_B = sum_i m_i * w^i(y_B), and x_A likewise on the mask (Eq. 5).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.blocks import Hourglass


def confidence_masks(target_mask: torch.Tensor, warped_masks: torch.Tensor) -> torch.Tensor:
    """Eq. 3: x_A - w^i(y_A) for each warp; (B, K, S, S)."""
    return target_mask - warped_masks


def fuse(attention: torch.Tensor, warped: torch.Tensor) -> torch.Tensor:
    """Eq. 5: per-pixel attention-weighted sum of the warped copies (B, N, C, S, S) -> (B, C, S, S)."""
    return (attention[:, :, None] * warped).sum(dim=1)


class ImageTransport(nn.Module):
    """Predicts the K+1 attention maps of Eq. 4 from the warped masks.

    Map 0 keeps the original. We tie it to the edit's area of influence: m_0 = 1 - E, where the
    envelope E (``models.dilation.influence_envelope``) is 1 on and near the two masks and fades
    to 0 further out. Inside, the network shares E among the K keypoint fields with a softmax, so
    the region is carried entirely by warped copies (never half-blended with the unmoved original)
    and the far background is kept exactly. The maps still sum to one per pixel.
    """

    def __init__(self, num_keypoints: int = 10, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        in_channels = 4 * num_keypoints + 3
        self.hourglass = Hourglass(in_channels, width, depth)
        self.attention_head = nn.Conv2d(self.hourglass.out_channels, num_keypoints, 7, padding=3)

    def forward(self, source_mask: torch.Tensor, target_mask: torch.Tensor, envelope: torch.Tensor,
                warped_masks: torch.Tensor, displacements: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``envelope`` (B, 1, S, S), ``warped_masks`` (B, K, S, S), ``displacements`` (B, K, 2, S, S)
        -> attention (B, K+1, S, S) and the keypoints' shares of the envelope (B, K, S, S), which
        sum to one everywhere, also where the envelope is 0 (the engine redraws the envelope at
        full resolution and needs the shares there)."""
        batch, count, size = warped_masks.shape[:3]
        inputs = torch.cat([source_mask, target_mask, envelope, warped_masks,
                            confidence_masks(target_mask, warped_masks),
                            displacements.reshape(batch, 2 * count, size, size)], dim=1)
        shares = F.softmax(self.attention_head(self.hourglass(inputs)), dim=1)
        return torch.cat([1.0 - envelope, envelope * shares], dim=1), shares  # Eq. 4
