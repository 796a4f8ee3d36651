"""Which torch device a command or the editor runs on: ``auto`` is CUDA when present, else the CPU."""
from __future__ import annotations

import torch

from engine.errors import EditError


def auto_device(device: str = "auto") -> str:
    """``device`` with ``auto`` replaced by ``cuda`` when present, else ``cpu``; anything else as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_device(device: str = "auto") -> torch.device:
    """The device for ``device`` (auto, cpu or cuda[:N]); a clear error when CUDA is asked for but
    absent, or the name is unknown."""
    device = auto_device(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EditError("CUDA was asked for but no CUDA device is available; use --device cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise EditError(f"unknown device {device!r}; use auto, cpu or cuda")
    return torch.device(device)
