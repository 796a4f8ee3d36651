"""Texture-Guidance Module (Eqs. 7-8): one seamless field from the K+1 attention-weighted fields.

w_S = sum_i m_i * w^i (Eq. 8). Warping y_B once by w_S gives the pseudo ground truth x_B^P (Eq. 7),
which has no splicing seams; in training the output is pulled towards it. The product renders its
full-resolution result along this same fused field (one resampling of the artwork's own pixels).
"""
from __future__ import annotations

import torch

from models.grids import warp


def fuse_fields(attention: torch.Tensor, fields: torch.Tensor) -> torch.Tensor:
    """Eq. 8: (B, N, S, S) attention and (B, N, S, S, 2) fields -> (B, S, S, 2)."""
    return (attention[..., None] * fields).sum(dim=1)


def pseudo_ground_truth(image: torch.Tensor, fused_field: torch.Tensor) -> torch.Tensor:
    """Eq. 7: the exemplar warped once by the fused field."""
    return warp(image, fused_field)
