"""Sampling grids: the identity warp and backward warping of tensors along fields.

Fields are ``grid_sample`` grids: (x, y) in [-1, 1] with pixel centres at (2i + 1) / S - 1
(``align_corners=False``), the convention of every module in ``models``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def coordinate_grid(size: int, device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(S, S, 2) grid of (x, y) pixel centres in [-1, 1] (align_corners=False): the identity warp."""
    coords = (torch.arange(size, device=device, dtype=dtype) * 2 + 1) / size - 1
    grid_y, grid_x = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1)


def warp(image: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` (B, C, S, S) along a backward field (B, S, S, 2); borders replicated."""
    return F.grid_sample(image, field, mode="bilinear", padding_mode="border", align_corners=False)


def warp_each(image: torch.Tensor, fields: torch.Tensor) -> torch.Tensor:
    """Warp ``image`` (B, C, S, S) by each of N fields (B, N, S, S, 2) -> (B, N, C, S, S)."""
    batch, count = fields.shape[:2]
    repeated = image[:, None].expand(-1, count, -1, -1, -1).reshape(batch * count, *image.shape[1:])
    warped = warp(repeated, fields.reshape(batch * count, *fields.shape[2:]))
    return warped.view(batch, count, *image.shape[1:])
