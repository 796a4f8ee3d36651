"""The checkpoint format, as an in-memory dict (reading and writing files is the caller's job).

{"format": "simnet-studio", "format_version": 1, "config": {...}, "state_dict": {...},
 "metadata": {...}}. Weights may be stored in float16 to keep the shipped file small.
"""
from __future__ import annotations

from typing import Any

import torch

from models.simnet import SimNet, SimNetConfig

FORMAT_NAME = "simnet-studio"
FORMAT_VERSION = 1


def to_payload(model: SimNet, metadata: dict[str, Any] | None = None, *, half: bool = False) -> dict[str, Any]:
    state = {name: (tensor.half() if half and tensor.is_floating_point() else tensor).detach().cpu().clone()
             for name, tensor in model.state_dict().items()}
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "config": model.config.to_dict(),
            "state_dict": state, "metadata": dict(metadata or {})}


def from_payload(payload: dict[str, Any]) -> SimNet:
    """Build the model; raises ValueError with a reason when the payload does not fit."""
    model = SimNet(SimNetConfig.from_dict(payload["config"]))
    state = {name: tensor.float() if tensor.is_floating_point() else tensor
             for name, tensor in payload["state_dict"].items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not fit the configuration ({len(missing)} missing, {len(unexpected)} unexpected)")
    return model
