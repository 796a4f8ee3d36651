"""Reading and writing the built-in segmenter's checkpoint (``resources/segmenter.pt``), with a
one-line :class:`SegmenterCheckpointError` for a missing, damaged, foreign or too new file."""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import torch

from engine.atomic import atomic_write
from engine.checkpoint import load_torch_file
from engine.errors import SegmentationError, one_line
from models.segmenter.network import PromptDecoder
from models.segmenter.serialization import FORMAT_NAME, FORMAT_VERSION, from_payload, to_payload

SHIPPED_SEGMENTER = "segmenter.pt"


class SegmenterCheckpointError(SegmentationError):
    """The segmenter checkpoint cannot be used; the message is one line."""


def default_segmenter_path() -> Path:
    """The segmenter checkpoint shipped in the ``resources`` package."""
    return Path(str(resources.files("resources").joinpath(SHIPPED_SEGMENTER)))


def read_segmenter_payload(path: str | Path) -> dict[str, Any]:
    payload = load_torch_file(path, "segmenter checkpoint", SegmenterCheckpointError)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise SegmenterCheckpointError(f"{path} is not a SIM-Net Studio segmenter checkpoint "
                                       "(for example a SIM-Net model, a SAM model or a plain state dict)")
    version = payload.get("format_version")
    if not isinstance(version, int):
        raise SegmenterCheckpointError(f"segmenter checkpoint {path} has no format version")
    if version > FORMAT_VERSION:
        raise SegmenterCheckpointError(f"segmenter checkpoint {path} has format version {version}, newer than this "
                                       f"program understands ({FORMAT_VERSION}); update SIM-Net Studio")
    return payload


def load_decoder(path: str | Path | None = None) -> PromptDecoder:
    """The decoder from ``path`` (None: the shipped one), in evaluation mode, weights checked finite."""
    path = Path(path) if path is not None else default_segmenter_path()
    payload = read_segmenter_payload(path)
    try:
        decoder = from_payload(payload)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise SegmenterCheckpointError(f"segmenter checkpoint {path} does not match the segmenter: "
                                       f"{one_line(error, 200)}") from None
    for name, tensor in decoder.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise SegmenterCheckpointError(f"segmenter checkpoint {path} has invalid (NaN or infinite) weights in {name}")
    return decoder.eval()


def save_segmenter(path: str | Path, decoder: PromptDecoder, metadata: dict[str, Any] | None = None, *,
                   half: bool = True) -> None:
    with atomic_write(path) as handle:
        torch.save(to_payload(decoder, metadata, half=half), handle)


def export_segmenter(source: str | Path, destination: str | Path, metadata: dict[str, Any] | None = None,
                     mask_threshold: float | None = None) -> None:
    """A training checkpoint as a small shipping one: float16 weights, no optimizer, short metadata;
    optionally with the mask threshold chosen on validation photos."""
    payload = read_segmenter_payload(source)
    if mask_threshold is not None:
        payload["config"] = {**payload["config"], "mask_threshold": float(mask_threshold)}
    decoder = from_payload(payload)
    merged = {key: value for key, value in payload.get("metadata", {}).items() if key not in ("optimizer",)}
    merged.update(metadata or {})
    save_segmenter(destination, decoder, merged, half=True)
