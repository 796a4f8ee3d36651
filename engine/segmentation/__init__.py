"""Region masks from clicks and boxes: Segment Anything when the user gives its weights, else our
built-in trained segmenter, else (its checkpoint unusable) the weight-free GrabCut fallback."""
from __future__ import annotations

from pathlib import Path

from engine.errors import SegmentationError, one_line
from engine.segmentation.base import MaskPrediction, Segmenter
from engine.segmentation.fallback import FallbackSegmenter


def load_segmenter(sam_checkpoint: str | Path | None = None, device: str = "auto",
                   segmenter_checkpoint: str | Path | None = None) -> Segmenter:
    """SAM from ``sam_checkpoint`` (on CUDA when present and ``device`` is auto); else the built-in
    segmenter from ``segmenter_checkpoint`` (None: the shipped one). When the built-in one cannot be
    loaded, the GrabCut fallback is returned with the reason in its ``notice``."""
    if not sam_checkpoint:
        from engine.segmentation.learned import LearnedSegmenter

        try:
            return LearnedSegmenter(segmenter_checkpoint)
        except SegmentationError as error:
            fallback = FallbackSegmenter()
            fallback.notice = f"{one_line(error)}; selecting with the simpler GrabCut fallback instead"
            return fallback
    from engine.devices import auto_device
    from engine.segmentation.sam import SamSegmenter

    return SamSegmenter(sam_checkpoint, auto_device(device))


__all__ = ["FallbackSegmenter", "MaskPrediction", "Segmenter", "load_segmenter"]
