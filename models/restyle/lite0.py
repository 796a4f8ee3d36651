"""The first blocks of EfficientNet-Lite0 in NumPy, without torch.

The restyle's correspondence (``models.restyle.features``) needs the ImageNet backbone's blocks
0..4 on images of at most 256 px a side. Importing torch alone takes longer than the whole
restyle, so the command line runs these blocks here instead: the same network as
:class:`models.perceptual.EfficientNetLite0Features` (stem, then MBConv blocks: 1x1 expansion,
k x k depthwise, 1x1 projection, ReLU6, no squeeze-excitation; convolutions padded by k // 2), its
batch norms folded into the convolutions (:func:`fold_batch_norms`). Arrays are (H, W, C) float32.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

#: Strides of the 16 MBConv blocks of EfficientNet-Lite0 (as models.perceptual.LITE0_STRIDES).
LITE0_STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1)
BATCH_NORM_EPS = 1e-3


def _folded(state: Mapping[str, np.ndarray], conv: str, norm: str) -> tuple[np.ndarray, np.ndarray]:
    """Convolution ``conv`` followed by inference batch norm ``norm`` as one convolution: (weight, bias)."""
    scale = state[f"{norm}.weight"] / np.sqrt(state[f"{norm}.running_var"] + BATCH_NORM_EPS)
    weight = state[f"{conv}.weight"] * scale[:, None, None, None]
    bias = state[f"{norm}.bias"] - state[f"{norm}.running_mean"] * scale
    return weight.astype(np.float32), bias.astype(np.float32)


def fold_batch_norms(state: Mapping[str, np.ndarray], blocks: int) -> dict[str, np.ndarray]:
    """The package's state dict (as NumPy arrays) for the stem and blocks ``0 .. blocks - 1``,
    batch norms folded: ``{name}.weight`` (out, in / groups, k, k) and ``{name}.bias`` for the
    names ``stem`` and ``{i}.expand`` (when the block has one), ``{i}.depthwise``, ``{i}.project``."""
    folded: dict[str, np.ndarray] = {}

    def put(name: str, conv: str, norm: str) -> None:
        folded[f"{name}.weight"], folded[f"{name}.bias"] = _folded(state, conv, norm)

    put("stem", "_conv_stem", "_bn0")
    for index in range(blocks):
        prefix = f"_blocks.{index}"
        if f"{prefix}._expand_conv.weight" in state:
            put(f"{index}.expand", f"{prefix}._expand_conv", f"{prefix}._bn0")
        put(f"{index}.depthwise", f"{prefix}._depthwise_conv", f"{prefix}._bn1")
        put(f"{index}.project", f"{prefix}._project_conv", f"{prefix}._bn2")
    return folded


def _taps(x: np.ndarray, kernel: int, stride: int) -> tuple[np.ndarray, int, int]:
    """``x`` zero-padded by kernel // 2 and the output size of a k x k convolution at ``stride``."""
    pad = kernel // 2
    height, width = x.shape[:2]
    out_h = (height + 2 * pad - kernel) // stride + 1
    out_w = (width + 2 * pad - kernel) // stride + 1
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0))), out_h, out_w


def _shifted(padded: np.ndarray, dy: int, dx: int, stride: int, out_h: int, out_w: int) -> np.ndarray:
    """The input each output pixel sees at kernel tap (dy, dx)."""
    return padded[dy:dy + stride * (out_h - 1) + 1:stride, dx:dx + stride * (out_w - 1) + 1:stride]


def convolution(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """A dense k x k convolution (out, in, k, k) by im2col; used for the 3-channel stem."""
    out_channels, in_channels, kernel, _ = weight.shape
    padded, out_h, out_w = _taps(x, kernel, stride)
    columns = [_shifted(padded, dy, dx, stride, out_h, out_w) for dy in range(kernel) for dx in range(kernel)]
    stacked = np.concatenate(columns, axis=2).reshape(out_h * out_w, kernel * kernel * in_channels)
    matrix = weight.transpose(2, 3, 1, 0).reshape(kernel * kernel * in_channels, out_channels)
    return (stacked @ matrix + bias).reshape(out_h, out_w, out_channels)


def depthwise(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """A k x k depthwise convolution (C, 1, k, k): the sum of the shifted, strided input times each tap."""
    kernel = weight.shape[2]
    padded, out_h, out_w = _taps(x, kernel, stride)
    taps = weight[:, 0].transpose(1, 2, 0)  # (k, k, C)
    out = np.empty((out_h, out_w, x.shape[2]), np.float32)
    out[:] = bias
    product = np.empty_like(out)
    for dy in range(kernel):
        for dx in range(kernel):
            out += np.multiply(_shifted(padded, dy, dx, stride, out_h, out_w), taps[dy, dx], out=product)
    return out


def pointwise(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A 1 x 1 convolution (out, in, 1, 1): one matrix product."""
    height, width, channels = x.shape
    return (x.reshape(-1, channels) @ weight[:, :, 0, 0].T + bias).reshape(height, width, -1)


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 6.0, out=x)


class Lite0Blocks:
    """EfficientNet-Lite0's stem and blocks 0 .. max(``feature_blocks``); RGB (H, W, 3) in [0, 1]
    -> the (h, w, C) outputs of ``feature_blocks``, as :class:`models.perceptual.EfficientNetLite0Features`."""

    def __init__(self, weights: Mapping[str, np.ndarray], feature_blocks: tuple[int, ...]) -> None:
        self.weights = {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in weights.items()}
        self.feature_blocks = tuple(feature_blocks)
        missing = [f"{i}.project.weight" for i in range(max(self.feature_blocks) + 1)
                   if f"{i}.project.weight" not in self.weights]
        if missing or "stem.weight" not in self.weights:
            raise ValueError(f"the backbone's weights lack {', '.join(missing) or 'stem.weight'}")

    def _layer(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self.weights[f"{name}.weight"], self.weights[f"{name}.bias"]

    def __call__(self, rgb: np.ndarray) -> list[np.ndarray]:
        x = (np.asarray(rgb, np.float32) - np.float32(0.5)) / np.float32(0.5)
        x = _relu6(convolution(x, *self._layer("stem"), stride=2))
        features = []
        for index in range(max(self.feature_blocks) + 1):
            stride = LITE0_STRIDES[index]
            out = x
            if f"{index}.expand.weight" in self.weights:
                out = _relu6(pointwise(out, *self._layer(f"{index}.expand")))
            out = _relu6(depthwise(out, *self._layer(f"{index}.depthwise"), stride=stride))
            out = pointwise(out, *self._layer(f"{index}.project"))
            x = x + out if stride == 1 and x.shape[2] == out.shape[2] else out
            if index in self.feature_blocks:
                features.append(x)
        return features
