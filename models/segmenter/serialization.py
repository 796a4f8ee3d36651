"""The segmenter checkpoint format, as an in-memory dict (files are the engine's job).

{"format": "simnet-studio-segmenter", "format_version": 1, "config": {...}, "state_dict": {...},
 "metadata": {...}}; the decoder's weights only (the encoder's come from the EfficientNet package),
optionally in float16.
"""
from __future__ import annotations

from typing import Any

from models.segmenter.network import PromptDecoder, SegmenterConfig

FORMAT_NAME = "simnet-studio-segmenter"
FORMAT_VERSION = 1


def to_payload(decoder: PromptDecoder, metadata: dict[str, Any] | None = None, *, half: bool = False) -> dict[str, Any]:
    state = {name: (tensor.half() if half and tensor.is_floating_point() else tensor).detach().cpu().clone()
             for name, tensor in decoder.state_dict().items()}
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "config": decoder.config.to_dict(),
            "state_dict": state, "metadata": dict(metadata or {})}


def from_payload(payload: dict[str, Any]) -> PromptDecoder:
    """Build the decoder; raises ValueError with a reason when the payload does not fit."""
    config = SegmenterConfig.from_dict(payload["config"])
    if config.backbone != SegmenterConfig.backbone:
        raise ValueError(f"unknown backbone {config.backbone!r}")
    decoder = PromptDecoder(config)
    state = {name: tensor.float() if tensor.is_floating_point() else tensor
             for name, tensor in payload["state_dict"].items()}
    missing, unexpected = decoder.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not fit the configuration ({len(missing)} missing, {len(unexpected)} unexpected)")
    return decoder
