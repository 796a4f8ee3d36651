"""Per-cell descriptors for the restyle correspondence: EfficientNet-Lite0 features at 1/4 of the
working resolution (blocks 2 and 4; block 4's 1/8 map upsampled), plus the cell's tone.

The features of the region and of the exemplar region are each centred and scaled by their own
channel statistics inside the region (positional style removed, as in PONO/AdaIN), then every cell
is L2-normalised, so a dot product is a cosine similarity (CoCosNet's correlation).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.perceptual import EfficientNetLite0Features

#: Blocks whose features describe a cell: 1/4 resolution (24 channels) and 1/8 (40 channels).
RESTYLE_BLOCKS = (2, 4)
#: One cell of the correspondence grid is this many working pixels a side.
CELL = 4


class RestyleBackbone(nn.Module):
    """Frozen EfficientNet-Lite0 blocks 0..4; RGB in [0, 1] -> (1, 64, H/4, W/4)."""

    def __init__(self) -> None:
        super().__init__()
        self.network = EfficientNetLite0Features(feature_blocks=RESTYLE_BLOCKS)

    @torch.no_grad()
    def forward(self, image: torch.Tensor) -> torch.Tensor:
        quarter, eighth = self.network(image)
        eighth = F.interpolate(eighth, size=quarter.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([quarter, eighth], dim=1)


def cell_coverage(mask: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The share of each cell of ``grid`` (h, w) covered by ``mask`` (H, W) in [0, 1]."""
    return F.adaptive_avg_pool2d(mask[None, None].float(), grid)[0, 0]


def relative_positions(weights: torch.Tensor) -> torch.Tensor:
    """(2, h, w): each cell's position (x, y) in the bounding box of the cells with weight > 0,
    from -0.5 to 0.5: RABIT's position encoding per region, so that a flat region still maps
    onto the exemplar region in order instead of onto one patch."""
    height, width = weights.shape
    rows = torch.nonzero(weights.sum(1) > 0).squeeze(1)
    cols = torch.nonzero(weights.sum(0) > 0).squeeze(1)
    if rows.numel() == 0:
        rows, cols = torch.arange(height), torch.arange(width)
    y0, y1 = float(rows[0]), float(rows[-1])
    x0, x1 = float(cols[0]), float(cols[-1])
    ys = (torch.arange(height, dtype=torch.float32) - y0) / max(1.0, y1 - y0) - 0.5
    xs = (torch.arange(width, dtype=torch.float32) - x0) / max(1.0, x1 - x0) - 0.5
    return torch.stack([xs.view(1, -1).expand(height, -1), ys.view(-1, 1).expand(-1, width)])


def descriptors(features: torch.Tensor, tone: torch.Tensor, weights: torch.Tensor, tone_weight: float,
                position_weight: float = 0.0) -> torch.Tensor:
    """Unit descriptors (N, C + 3) of every cell.

    ``features`` (C, h, w) from :class:`RestyleBackbone`; ``tone`` (h, w) the cell's luminance,
    already on a common scale for both images; ``weights`` (h, w) how much each cell counts in the
    channel statistics (its coverage by the region). Channels are standardised with the
    region's weighted mean and deviation, so each image's own style (means and contrasts of
    its feature channels) does not decide the match; the tone is appended with ``tone_weight`` and
    the cell's place in the region (:func:`relative_positions`) with ``position_weight``.
    """
    channels = features.shape[0]
    flat = features.reshape(channels, -1)
    w = weights.reshape(1, -1).clamp_min(0)
    total = w.sum().clamp_min(1e-6)
    mean = (flat * w).sum(1, keepdim=True) / total
    std = (((flat - mean) ** 2 * w).sum(1, keepdim=True) / total).sqrt().clamp_min(1e-4)
    standard = (flat - mean) / std / channels ** 0.5
    position = position_weight * relative_positions(weights).reshape(2, -1)
    joined = torch.cat([standard, tone_weight * tone.reshape(1, -1), position], dim=0).t()
    return F.normalize(joined, dim=1)
