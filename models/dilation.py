"""Dilating Module (Eqs. 1-2): each local affine becomes a full-image warp field.

For keypoint k with source keypoint p_k^y, target keypoint p_k^x and Jacobians J_k^y, J_k^x (each
from its mask to the reference frame R), the backward warp from the target to the source is

    w^k(z) = p_k^y + J_k^y (J_k^x)^{-1} (z - p_k^x),                                 (Eq. 1-2)

i.e. A^k_{y<-R} composed with (A^k_{x<-R})^{-1}. Fields are grid_sample grids (align_corners=False).
"""
from __future__ import annotations

import torch

from models.grids import coordinate_grid


def local_affine_parameters(source_keypoints: torch.Tensor, source_jacobians: torch.Tensor,
                            target_keypoints: torch.Tensor, target_jacobians: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Each keypoint's backward affine w^k(z) = L_k z + b_k, Eqs. 1-2 expanded: (B, K, 2, 2), (B, K, 2)."""
    linear = source_jacobians @ torch.linalg.inv(target_jacobians)
    offset = source_keypoints - (linear @ target_keypoints[..., None])[..., 0]
    return linear, offset


def local_affine_fields(source_keypoints: torch.Tensor, source_jacobians: torch.Tensor,
                        target_keypoints: torch.Tensor, target_jacobians: torch.Tensor, size: int) -> torch.Tensor:
    """K backward warp fields (B, K, S, S, 2), each exact near its own keypoint (Eqs. 1-2)."""
    linear, _ = local_affine_parameters(source_keypoints, source_jacobians, target_keypoints, target_jacobians)
    grid = coordinate_grid(size, source_keypoints.device, source_keypoints.dtype)  # (S, S, 2)
    offsets = grid[None, None] - target_keypoints[:, :, None, None, :]  # (B, K, S, S, 2): z - p_k^x
    return source_keypoints[:, :, None, None, :] + torch.einsum("bkij,bkhwj->bkhwi", linear, offsets)


def with_identity(fields: torch.Tensor) -> torch.Tensor:
    """Prepend the identity field w^0 (keeps the original; background far from the keypoints)."""
    batch, _, size = fields.shape[:3]
    identity = coordinate_grid(size, fields.device, fields.dtype)[None, None].expand(batch, 1, -1, -1, -1)
    return torch.cat([identity, fields], dim=1)
