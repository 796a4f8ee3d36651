"""Prompt maps: clicks, a box and the previous mask drawn on each decoder scale, plus two
similarity cues (feature and colour similarity to the clicked points) that tell the decoder which
pixels look like the clicked ones.

Coordinates are working-image pixels (x, y), pixel centres at integers. ``labels`` holds 1 for a
positive click, 0 for a negative one and -1 for padding (batches of different click counts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

#: Width of the wide click blobs (working pixels), so a click is felt across a large region.
WIDE_SIGMA = 48.0
#: Colour distance (RGB in [0, 1]) at which the colour cue falls to exp(-1/2).
COLOUR_SIGMA = 0.12


def grid_centres(height: int, width: int, stride: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Working-pixel coordinates of the cell centres of a stride-``stride`` grid: (H, 1), (1, W)."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) * stride - 0.5
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) * stride - 0.5
    return ys[:, None], xs[None, :]


def click_maps(points: torch.Tensor, labels: torch.Tensor, size: tuple[int, int], stride: int,
               sigma: float) -> torch.Tensor:
    """(B, 2, h, w): max over positive (channel 0) and negative (channel 1) clicks of a Gaussian blob."""
    height, width = size
    ys, xs = grid_centres(height, width, stride, points.device)
    dy = ys[None, None] - points[..., 1, None, None]  # (B, N, h, 1)
    dx = xs[None, None] - points[..., 0, None, None]  # (B, N, 1, w)
    blobs = torch.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))  # (B, N, h, w)
    maps = []
    for wanted in (1, 0):
        chosen = (labels == wanted).float()[..., None, None]
        maps.append((blobs * chosen).amax(dim=1) if points.shape[1] else blobs.new_zeros(points.shape[0], height, width))
    return torch.stack(maps, dim=1)


def box_map(box: torch.Tensor, has_box: torch.Tensor, size: tuple[int, int], stride: int) -> torch.Tensor:
    """(B, 1, h, w): 1 inside the box (x0, y0, x1, y1), 0 elsewhere and for rows without a box."""
    height, width = size
    ys, xs = grid_centres(height, width, stride, box.device)
    x0, y0, x1, y1 = (box[:, i, None, None] for i in range(4))
    inside = (xs[None] >= x0) & (xs[None] <= x1) & (ys[None] >= y0) & (ys[None] <= y1)
    return (inside.float() * has_box.float()[:, None, None])[:, None]


def sample_at(features: torch.Tensor, points: torch.Tensor, stride: int) -> torch.Tensor:
    """(B, N, C): bilinear samples of a stride-``stride`` feature map at working-pixel points."""
    height, width = features.shape[-2:]
    gx = ((points[..., 0] + 0.5) / stride) / width * 2 - 1
    gy = ((points[..., 1] + 0.5) / stride) / height * 2 - 1
    grid = torch.stack([gx, gy], dim=-1)[:, :, None]  # (B, N, 1, 2)
    return F.grid_sample(features, grid, mode="bilinear", padding_mode="border", align_corners=False)[..., 0].transpose(1, 2)


def similarity_maps(features: torch.Tensor, points: torch.Tensor, labels: torch.Tensor, stride: int,
                    colour: bool = False) -> torch.Tensor:
    """(B, 2, h, w): the highest similarity of each location to a positive / negative click.

    Feature maps use cosine similarity; colour maps (``colour``) a Gaussian of the RGB distance."""
    batch, _, height, width = features.shape
    if points.shape[1] == 0:
        return features.new_zeros(batch, 2, height, width)
    clicked = sample_at(features, points, stride)  # (B, N, C)
    if colour:
        distance = ((features[:, None] - clicked[..., None, None]) ** 2).sum(dim=2)  # (B, N, h, w)
        similarity = torch.exp(-distance / (2 * COLOUR_SIGMA ** 2))
    else:
        unit = F.normalize(features, dim=1)
        similarity = torch.einsum("bnc,bchw->bnhw", F.normalize(clicked, dim=2), unit).clamp(min=0)
    maps = []
    for wanted in (1, 0):
        chosen = (labels == wanted).float()[..., None, None]
        maps.append((similarity * chosen).amax(dim=1))
    return torch.stack(maps, dim=1)


@dataclass
class Prompts:
    """A batch of prompts; coordinates in working pixels. ``labels``: 1 add, 0 remove, -1 padding."""

    points: torch.Tensor  # (B, N, 2)
    labels: torch.Tensor  # (B, N)
    box: torch.Tensor  # (B, 4) x0, y0, x1, y1
    has_box: torch.Tensor  # (B,) bool
    previous: torch.Tensor  # (B, 1, H, W) previous mask in {0, 1} at the padded working size
    has_previous: torch.Tensor  # (B,) bool

    def to(self, device: torch.device | str) -> "Prompts":
        """The same prompts on ``device`` (training on a GPU)."""
        return Prompts(*(tensor.to(device) for tensor in (self.points, self.labels, self.box, self.has_box,
                                                           self.previous, self.has_previous)))


def prompt_batch(points: Sequence[Sequence[tuple[float, float]]], labels: Sequence[Sequence[int]],
                 boxes: Sequence[tuple[float, float, float, float] | None],
                 previous: Sequence[np.ndarray | None], padded_size: tuple[int, int]) -> Prompts:
    """Prompts for a batch from per-item lists; shorter click lists are padded with label -1 and
    previous masks (H, W) are placed at the top left of the padded size."""
    count = max((len(item) for item in points), default=0)
    batch = len(points)
    point_tensor = torch.zeros(batch, count, 2)
    label_tensor = torch.full((batch, count), -1, dtype=torch.long)
    for row, (item_points, item_labels) in enumerate(zip(points, labels)):
        if item_points:
            point_tensor[row, :len(item_points)] = torch.tensor(item_points, dtype=torch.float32)
            label_tensor[row, :len(item_labels)] = torch.tensor(item_labels, dtype=torch.long)
    box_tensor = torch.tensor([box if box is not None else (0.0, 0.0, 0.0, 0.0) for box in boxes], dtype=torch.float32)
    has_box = torch.tensor([box is not None for box in boxes])
    previous_tensor = torch.zeros(batch, 1, *padded_size)
    for row, mask in enumerate(previous):
        if mask is not None:
            previous_tensor[row, 0, :mask.shape[0], :mask.shape[1]] = torch.from_numpy(mask.astype(np.float32))
    has_previous = torch.tensor([mask is not None for mask in previous])
    return Prompts(point_tensor, label_tensor, box_tensor.reshape(batch, 4), has_box, previous_tensor, has_previous)
