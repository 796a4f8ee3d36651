"""The segmenter interface: prepare an image once, then answer prompts (clicks, a box) at once."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import cv2
import numpy as np

from engine.errors import SegmentationError
from engine.mask_tools import without_specks

Progress = Callable[[float, str], None]
Point = tuple[float, float]
Box = tuple[float, float, float, float]

#: Parts of a segmenter's answer under this share of its largest part's area are dropped (unless clicked), and holes
#: under it filled: specks of a dark ground that the built-in segmenter's outline steps took for the outline's
#: colour, or that SAM or the edge snap left, each carried along as a dark fleck when the region moved (BSDS500 val
#: outlined objects, four draws, fiftieth session: 33 of 80 built-in answers had 2-47 parts, of up to 54 pixels
#: beside 4,000-13,000; now 1 has several, each over the share: mean IoU 0.904 -> 0.907, outline missed 3.7 -> 3.8 %:
#: the fragments of one ragged tip went with them).
SPECK_SHARE = 0.005


@dataclass
class MaskPrediction:
    """Candidate masks (N, H, W) at full resolution with their scores; ``best`` is the one to show
    first: ``chosen`` when the segmenter says so, else the best-scored."""

    masks: np.ndarray
    scores: np.ndarray
    chosen: int | None = None

    @property
    def best_index(self) -> int:
        return int(np.argmax(self.scores)) if self.chosen is None else self.chosen

    @property
    def best(self) -> np.ndarray:
        return self.masks[self.best_index]


class Segmenter(Protocol):
    name: str
    device: str
    notice: str  # why this segmenter is used instead of the one asked for ("" when it is the one asked for)

    def set_image(self, image: np.ndarray, progress: Progress | None = None) -> None: ...

    def predict(self, points: Sequence[Point] = (), labels: Sequence[int] = (), box: Box | None = None,
                multimask: bool = True, previous_mask: np.ndarray | None = None) -> MaskPrediction: ...

    def everything(self) -> list[np.ndarray]: ...

    def finer(self, point: Point, smaller_than: int) -> MaskPrediction | None:
        """Candidates for a single click at ``point`` covering fewer than ``smaller_than`` pixels, found by a
        closer look than ``predict``'s; None when the segmenter has none (or no closer look)."""


def image_key(image: np.ndarray) -> str:
    """Content hash identifying an image (a new edit result gives a new key)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str((image.shape, image.dtype.str)).encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


#: The grey a transparent pixel shows the segmenters: a transparent area reads as one flat region, as the artist
#: sees it, not as the colours stored under it (left over from an earlier layer, or noise), which a click there
#: used to select a part of.
TRANSPARENT_GREY = 128.0


def as_rgb8(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB view of any supported image (grey repeated, 16 bit reduced; with alpha, the colours
    over a flat grey by their opacity)."""
    if image.ndim == 2:
        image = image[..., None]
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.shape[2] == 4 and image[..., 3].min() < 255:
        opacity = image[..., 3:4].astype(np.float32) / np.float32(255.0)
        shown = image[..., :3] * opacity + np.float32(TRANSPARENT_GREY) * (np.float32(1.0) - opacity)
        return np.rint(shown).astype(np.uint8)
    return np.ascontiguousarray(image[..., :3])


def reduce_image(image: np.ndarray, working_side: int, min_side: int = 1
                 ) -> tuple[tuple[int, int], float, np.ndarray]:
    """The image as 8-bit RGB, area-reduced so its longer side is at most ``working_side`` (each
    side at least ``min_side``): (the full (H, W), the scale, the reduced image)."""
    rgb = as_rgb8(image)
    height, width = rgb.shape[:2]
    scale = min(1.0, working_side / max(height, width))
    if scale >= 1.0:
        return (height, width), scale, rgb
    size = (max(min_side, round(width * scale)), max(min_side, round(height * scale)))
    return (height, width), scale, cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def check_prompts(shape: tuple[int, int], points: Sequence[Point], labels: Sequence[int], box: Box | None) -> None:
    """Clear errors for prompts that cannot be answered."""
    height, width = shape
    if len(points) != len(labels):
        raise SegmentationError("each point needs a label (1 adds, 0 subtracts)")
    if not points and box is None:
        raise SegmentationError("give at least one point or a box")
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise SegmentationError(f"point ({x:g}, {y:g}) is not a place on the image: give two finite numbers")
        if not (0 <= x < width and 0 <= y < height):
            raise SegmentationError(f"point ({x:g}, {y:g}) is outside the {width}x{height} image")
    if box is not None:
        x0, y0, x1, y1 = box
        if not all(math.isfinite(value) for value in box):
            raise SegmentationError(f"box {box} is not a place on the image: give four finite numbers")
        if not (x1 > x0 and y1 > y0):
            raise SegmentationError(f"box {box} is empty: give X0,Y0,X1,Y1 with X1 > X0 and Y1 > Y0")
        if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
            raise SegmentationError(f"box {box} is outside the {width}x{height} image")
    if points and box is None and not any(label == 1 for label in labels):
        raise SegmentationError("give at least one positive point (or a box)")


def without_answer_specks(masks: Sequence[np.ndarray], points: Sequence[Point], labels: Sequence[int]
                          ) -> list[np.ndarray]:
    """Each of a segmenter's answers to ``points`` (with ``labels``) without its specks (:data:`SPECK_SHARE`): the
    parts that hold a positive point stay whatever their size."""
    clicked = [(float(x), float(y)) for (x, y), label in zip(points, labels) if label == 1]
    return [without_specks(mask, SPECK_SHARE, clicked) for mask in masks]
