"""The promptable decoder: cached image features + prompts -> nested candidate masks and scores.

Outputs four mask logits at the working resolution: three nested candidates for a single click
(part, object, larger region; nesting is built in: each candidate's logit is at least the previous
one's) and one single answer for refinement prompts (several clicks, a box, a previous mask). A
small head predicts each mask's IoU with the region the user means (the score).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from models.segmenter.encoder import FEATURE_CHANNELS
from models.segmenter.prompts import WIDE_SIGMA, Prompts, box_map, click_maps, similarity_maps

CANDIDATES = 3  # nested candidates for a single click
ANSWER = 3  # index of the single answer for refinement prompts
OUTPUTS = 4
FEATURE_NAMES = ("f2", "f4", "f8", "f16")
PROMPT_CHANNELS = 9  # prompt inputs of each joining convolution (see ``prompt_maps`` in forward)


@dataclass(frozen=True)
class SegmenterConfig:
    width16: int = 64
    width8: int = 32
    width4: int = 24
    width2: int = 12
    dilations16: tuple[int, ...] = (1, 2, 4, 8)
    working_side: int = 512  # the long side images are reduced to (never enlarged)
    #: The logit at which a pixel is in the mask, chosen on BSDS500 val after training (0 while training):
    #: outputs are shifted by it, so that everywhere downstream a mask is ``logits > 0``.
    mask_threshold: float = 0.0
    backbone: str = "efficientnet-lite0"

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["dilations16"] = list(self.dilations16)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SegmenterConfig":
        known = {field.name for field in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown configuration keys {sorted(unknown)}")
        values = dict(values)
        if "dilations16" in values:
            values["dilations16"] = tuple(int(d) for d in values["dilations16"])
        return cls(**values)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.first = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.second = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)
        nn.init.zeros_(self.second.bias)
        self.second.weight.data.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.second(F.relu(self.first(x))))


def _pool_to(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.adaptive_avg_pool2d(mask, size)


class PromptDecoder(nn.Module):
    def __init__(self, config: SegmenterConfig = SegmenterConfig()) -> None:
        super().__init__()
        self.config = config
        c2, c4, c8, c16 = FEATURE_CHANNELS
        w2, w4, w8, w16 = config.width2, config.width4, config.width8, config.width16
        # PROMPT_CHANNELS: local clicks (2), box, previous, wide clicks (2), has-previous, similarity (2)
        self.project16 = nn.Conv2d(c16, w16, 1)
        self.enter16 = nn.Conv2d(w16 + PROMPT_CHANNELS, w16, 3, padding=1)
        self.blocks16 = nn.Sequential(*(ResidualBlock(w16, d) for d in config.dilations16))
        self.context16 = nn.Linear(w16, w16)
        self.project8 = nn.Conv2d(c8, w8, 1)
        self.enter8 = nn.Conv2d(w16 + w8 + PROMPT_CHANNELS, w8, 3, padding=1)
        self.blocks8 = nn.Sequential(ResidualBlock(w8, 1), ResidualBlock(w8, 2))
        self.project4 = nn.Conv2d(c4, w4, 1)
        # PROMPT_CHANNELS: clicks (2), box, previous, colour similarity (2), colour (3)
        self.reduce8 = nn.Conv2d(w8, w8 // 2, 1)  # fewer channels to carry up to the finer scales
        self.enter4 = nn.Conv2d(w8 // 2 + w4 + PROMPT_CHANNELS, w4, 3, padding=1)
        self.blocks4 = nn.Sequential(ResidualBlock(w4, 1))
        self.project2 = nn.Conv2d(c2, w2, 1)
        self.reduce4 = nn.Conv2d(w4, w4 // 3, 1)
        self.enter2 = nn.Conv2d(w4 // 3 + w2 + PROMPT_CHANNELS, w2, 3, padding=1)
        self.refine2 = nn.Conv2d(w2, w2, 3, padding=1)
        self.logits = nn.Conv2d(w2, OUTPUTS, 1)
        self.score = nn.Sequential(nn.Linear(2 * w8 + w16 + 1 + OUTPUTS, 64), nn.ReLU(), nn.Linear(64, 1))
        # Per-channel statistics of the encoder's features (set from the training photos): the
        # features are standardised so that the prompt maps, in [0, 1], are not drowned out.
        for name, channels in zip(FEATURE_NAMES, FEATURE_CHANNELS):
            self.register_buffer(f"{name}_mean", torch.zeros(channels))
            self.register_buffer(f"{name}_std", torch.ones(channels))

    def set_feature_statistics(self, statistics: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        for name, (mean, std) in statistics.items():
            getattr(self, f"{name}_mean").copy_(mean)
            getattr(self, f"{name}_std").copy_(std.clamp(min=1e-3))

    def _standardised(self, embedding: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        mean, std = getattr(self, f"{name}_mean"), getattr(self, f"{name}_std")
        return (embedding[name] - mean[:, None, None]) / std[:, None, None]

    def prepare(self, embedding: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The part of the decoder that no prompt changes, for one embedding: the standardised
        features, their projections, and each projection's share of the convolution that joins it
        to the prompt maps (a convolution of concatenated inputs is the sum of one per input).
        The editor computes it once per image, so a click runs only what its prompts change."""
        f2, f4, f8, f16 = (self._standardised(embedding, name) for name in FEATURE_NAMES)
        w16, w8, w4 = self.config.width16, self.config.width8, self.config.width4
        joined = {}
        # (projected features, the joining convolution, the first of its input channels that they fill)
        for name, projected, enter, first in (
                ("16", F.relu(self.project16(f16)), self.enter16, 0),
                ("8", F.relu(self.project8(f8)), self.enter8, w16),
                ("4", F.relu(self.project4(f4)), self.enter4, w8 // 2),
                ("2", F.relu(self.project2(f2)), self.enter2, w4 // 3)):
            weight = enter.weight[:, first:first + projected.shape[1]]
            joined[f"joined{name}"] = F.conv2d(projected, weight, enter.bias, padding=1)
        # the colour maps of the fine scales are prompt inputs too, but no prompt changes them
        for name, colour, enter in (("4", embedding["rgb4"], self.enter4), ("2", embedding["rgb2"], self.enter2)):
            joined[f"joined{name}"] = joined[f"joined{name}"] + F.conv2d(colour, enter.weight[:, -3:], padding=1)
        return {"f2": f2, "f4": f4, "f8": f8, "f16": f16, "rgb2": embedding["rgb2"], "rgb4": embedding["rgb4"],
                **joined}

    def forward(self, embedding: dict[str, torch.Tensor], prompts: Prompts,
                prepared: dict[str, torch.Tensor] | None = None,
                outputs: Sequence[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mask logits (B, 4, H, W) at the padded working size and scores (B, 4) in [0, 1].
        ``prepared`` is :meth:`prepare` of the embedding when the caller has it; ``outputs``: only
        these mask logits, in this order (the scores are always all four)."""
        prepared = self.prepare(embedding) if prepared is None else prepared
        f2, f4, f8, f16 = (prepared[name] for name in FEATURE_NAMES)
        rgb2, rgb4 = prepared["rgb2"], prepared["rgb4"]
        points, labels = prompts.points, prompts.labels
        previous = prompts.previous
        flag = prompts.has_previous.float()[:, None, None, None]

        # Which prompt channels can be non-zero in this batch: a map that is zero everywhere adds
        # nothing to the joining convolution, so it is neither drawn nor convolved.
        clicked = [bool((labels == wanted).any()) for wanted in (1, 0)]
        has_box, has_previous = bool(prompts.has_box.any()), bool(prompts.has_previous.any())

        def prompt_maps(features: torch.Tensor, stride: int, wide: bool,
                        colour: torch.Tensor | None) -> tuple[list[torch.Tensor], list[int]]:
            """The prompt maps that are not zero everywhere, and their channels among the prompt
            inputs of the joining convolution: clicks (2), box, previous, then wide clicks (2),
            has-previous and feature similarity (2) on the coarse scales, or colour similarity (2)
            and the colour (3, its share is prepared) on the fine ones."""
            size = features.shape[-2:]
            maps: list[torch.Tensor] = []
            channels: list[int] = []

            def add(first: int, present: list[bool], make) -> None:
                wanted = [index for index, here in enumerate(present) if here]
                if wanted:
                    drawn = make()
                    maps.append(drawn if len(wanted) == len(present) else drawn[:, wanted])
                    channels.extend(first + index for index in wanted)

            add(0, clicked, lambda: click_maps(points, labels, size, stride, float(stride)))
            add(2, [has_box], lambda: box_map(prompts.box, prompts.has_box, size, stride))
            add(3, [has_previous], lambda: _pool_to(previous, size))
            if wide:
                add(4, clicked, lambda: click_maps(points, labels, size, stride, WIDE_SIGMA))
                add(6, [has_previous], lambda: flag.expand(-1, 1, *size))
                add(7, clicked, lambda: similarity_maps(features, points, labels, stride))
            else:
                add(4, clicked, lambda: similarity_maps(colour, points, labels, stride, colour=True))
            return maps, channels

        def join(name: str, enter: nn.Conv2d, carried: torch.Tensor | None,
                 prompt_inputs: tuple[list[torch.Tensor], list[int]]) -> torch.Tensor:
            """``enter`` over [carried, projected features, prompt maps]: the features' share is prepared."""
            maps, channels = prompt_inputs
            carried_channels = 0 if carried is None else carried.shape[1]
            first_prompt = enter.in_channels - PROMPT_CHANNELS
            total = prepared[f"joined{name}"]
            if maps:
                prompt_weight = enter.weight[:, [first_prompt + channel for channel in channels]]
                total = total + F.conv2d(torch.cat(maps, dim=1), prompt_weight, padding=1)
            if carried is not None:
                total = total + F.conv2d(carried, enter.weight[:, :carried_channels], padding=1)
            return F.relu(total)

        x16 = join("16", self.enter16, None, prompt_maps(f16, 16, True, None))
        x16 = self.blocks16(x16)
        context = x16.mean(dim=(2, 3))
        x16 = F.relu(x16 + self.context16(context)[..., None, None])

        up16 = F.interpolate(x16, size=f8.shape[-2:], mode="bilinear", align_corners=False)
        x8 = join("8", self.enter8, up16, prompt_maps(f8, 8, True, None))
        x8 = self.blocks8(x8)

        up8 = F.interpolate(F.relu(self.reduce8(x8)), size=f4.shape[-2:], mode="bilinear", align_corners=False)
        x4 = join("4", self.enter4, up8, prompt_maps(f4, 4, False, rgb4))
        x4 = self.blocks4(x4)

        up4 = F.interpolate(F.relu(self.reduce4(x4)), size=f2.shape[-2:], mode="bilinear", align_corners=False)
        x2 = join("2", self.enter2, up4, prompt_maps(f2, 2, False, rgb2))
        x2 = F.relu(x2 + self.refine2(x2))
        logits = self.logits(x2)
        logits = torch.cat([logits[:, :1], logits[:, 1:2].maximum(logits[:, :1]),
                            logits[:, 2:3].maximum(logits[:, 1:2].maximum(logits[:, :1])), logits[:, 3:]], dim=1)
        scores = self._scores(logits, x8, context)
        if outputs is not None:
            logits = logits[:, list(outputs)]
        full = F.interpolate(logits - self.config.mask_threshold, scale_factor=2.0, mode="bilinear", align_corners=False)
        return full, scores

    def _scores(self, logits: torch.Tensor, x8: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(F.adaptive_avg_pool2d(logits.detach(), x8.shape[-2:]))  # (B, 4, h, w)
        inside = torch.einsum("bkhw,bchw->bkc", weights, x8) / weights.sum(dim=(2, 3))[..., None].clamp(min=1e-3)
        outside = torch.einsum("bkhw,bchw->bkc", 1 - weights, x8) / (1 - weights).sum(dim=(2, 3))[..., None].clamp(min=1e-3)
        area = weights.mean(dim=(2, 3))[..., None]
        which = torch.eye(OUTPUTS, device=logits.device).expand(logits.shape[0], -1, -1)
        rows = torch.cat([inside, outside, context[:, None].expand(-1, OUTPUTS, -1), area, which], dim=2)
        return torch.sigmoid(self.score(rows)[..., 0])


def embed(encoder: nn.Module, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """The per-image embedding: encoder features and the colour at strides 2 and 4.

    ``image``: (B, 3, H, W) RGB in [0, 1], H and W multiples of 16."""
    f2, f4, f8, f16 = encoder(image)
    rgb2 = F.avg_pool2d(image, 2)
    return {"f2": f2, "f4": f4, "f8": f8, "f16": f16, "rgb2": rgb2, "rgb4": F.avg_pool2d(rgb2, 2)}
