"""Semantic-free region masks: Segment Anything when weights are given, else a weight-free fallback."""
from __future__ import annotations

from pathlib import Path

from engine.segmentation.base import MaskPrediction, Segmenter
from engine.segmentation.fallback import FallbackSegmenter


def load_segmenter(sam_checkpoint: str | Path | None = None, device: str = "auto") -> Segmenter:
    """SAM from ``sam_checkpoint`` (on CUDA when present and ``device`` is auto), else the fallback."""
    if not sam_checkpoint:
        return FallbackSegmenter()
    import torch

    from engine.segmentation.sam import SamSegmenter

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return SamSegmenter(sam_checkpoint, device)


__all__ = ["FallbackSegmenter", "MaskPrediction", "Segmenter", "load_segmenter"]
