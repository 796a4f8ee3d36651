"""A segmenter that needs no weights: colour/texture graph cut seeded by the prompts.

Preparation (once per image) reduces the painting to a working size and computes smoothed Lab
colour and a local texture measure. A click then seeds a region by feature similarity around it,
GrabCut refines it (clicks are hard constraints: positive inside, negative outside), and the
result is upsampled to full resolution with a smooth boundary.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import scipy.ndimage

from engine.errors import SegmentationError
from engine.segmentation.base import Box, MaskPrediction, Point, Progress, check_prompts, image_key, reduce_image

WORKING_SIDE = 256
GRABCUT_ITERATIONS = 2


class FallbackSegmenter:
    name = "fallback (colour and texture graph cut)"
    device = "cpu"
    notice = ""

    def __init__(self, working_side: int = WORKING_SIDE) -> None:
        self.working_side = working_side
        self._key: str | None = None
        self.preparations = 0

    # -- preparation ----------------------------------------------------------------------------
    def set_image(self, image: np.ndarray, progress: Progress | None = None) -> None:
        key = image_key(image)
        if key == self._key:
            return
        report = progress or (lambda fraction, message: None)
        report(0.0, "reducing the image")
        self.shape, self.scale, self.small = reduce_image(image, self.working_side)
        report(0.4, "colour features")
        self.smoothed = cv2.bilateralFilter(self.small, 7, 40, 5)
        lab = cv2.cvtColor(self.small, cv2.COLOR_RGB2LAB).astype(np.float32)
        report(0.7, "texture features")
        # Region statistics rather than pixels: local mean colour and local colour spread, so a
        # striped or brushy texture reads as one region.
        sigma = 5.0
        mean = cv2.GaussianBlur(lab, (0, 0), sigma)
        spread = np.sqrt(np.maximum(cv2.GaussianBlur(lab * lab, (0, 0), sigma) - mean * mean, 0.0))
        self.features = np.concatenate([mean, spread], axis=2)
        self._key = key
        self.preparations += 1
        report(1.0, "ready")

    def _require_image(self) -> None:
        if self._key is None:
            raise SegmentationError("no image set: call set_image first")

    # -- prompts --------------------------------------------------------------------------------
    def _to_small(self, x: float, y: float) -> tuple[int, int]:
        height, width = self.small.shape[:2]
        return (min(width - 1, max(0, int(x * self.scale))), min(height - 1, max(0, int(y * self.scale))))

    def _similar_region(self, seeds: list[tuple[int, int]]) -> np.ndarray:
        """Pixels whose features are close to the seeds', connected to a seed."""
        radius = 4
        samples = np.concatenate([self.features[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1]
                                  .reshape(-1, self.features.shape[2]) for x, y in seeds])
        centre = samples.mean(axis=0)
        spread = np.sqrt(((samples - centre) ** 2).sum(axis=1)).mean()
        distance = np.sqrt(((self.features - centre) ** 2).sum(axis=2))
        threshold = max(20.0, 3.0 * spread)
        close = distance < threshold
        labels, _ = scipy.ndimage.label(close)
        seeded = np.zeros_like(close)
        for x, y in seeds:
            if labels[y, x]:
                seeded |= labels == labels[y, x]
        return seeded

    def _grabcut(self, initial: np.ndarray, positives, negatives, box_small) -> np.ndarray:
        height, width = initial.shape
        state = np.full((height, width), cv2.GC_PR_BGD, np.uint8)
        if box_small is not None:
            # GrabCut's own convention: outside the box is background, inside probably the region;
            # clicks then pin pixels either way and the cut settles the rest.
            x0, y0, x1, y1 = box_small
            state[:] = cv2.GC_BGD
            state[y0:y1, x0:x1] = cv2.GC_PR_FGD
        else:
            # The similar region is blurred inwards by the texture window: let the cut decide a
            # band around it, where the background colour model is what excludes pixels.
            band = cv2.dilate(initial.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))) > 0
            state[band] = cv2.GC_PR_FGD
        for x, y in positives:
            cv2.circle(state, (x, y), 2, cv2.GC_FGD, -1)
        for x, y in negatives:
            cv2.circle(state, (x, y), 2, cv2.GC_BGD, -1)
        if not ((state == cv2.GC_BGD) | (state == cv2.GC_PR_BGD)).any() or not ((state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)).any():
            return (state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)
        background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
        cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: keep answers repeatable
        cv2.grabCut(self.smoothed, state, None, background, foreground, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
        return (state == cv2.GC_FGD) | (state == cv2.GC_PR_FGD)

    def _finish(self, small_mask: np.ndarray, positives) -> np.ndarray:
        """Keep the parts holding a positive click (all parts for a box), fill holes, go full size."""
        if positives:
            labels, _ = scipy.ndimage.label(small_mask)
            keep = {labels[y, x] for x, y in positives if labels[y, x]}
            small_mask = np.isin(labels, list(keep)) if keep else small_mask
        small_mask = scipy.ndimage.binary_fill_holes(small_mask)
        height, width = self.shape
        soft = cv2.resize(small_mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
        if self.scale < 1.0:
            soft = cv2.GaussianBlur(soft, (0, 0), 0.5 / self.scale)
        return soft >= 0.5

    def predict(self, points: Sequence[Point] = (), labels: Sequence[int] = (), box: Box | None = None,
                multimask: bool = True, previous_mask: np.ndarray | None = None) -> MaskPrediction:
        """``previous_mask`` is accepted for the common interface and not used (the graph cut starts afresh from the clicks)."""
        self._require_image()
        check_prompts(self.shape, points, labels, box)
        positives = [self._to_small(x, y) for (x, y), label in zip(points, labels) if label == 1]
        negatives = [self._to_small(x, y) for (x, y), label in zip(points, labels) if label != 1]
        box_small = None
        if box is not None:
            x0, y0 = self._to_small(max(0.0, box[0]), max(0.0, box[1]))
            x1, y1 = self._to_small(box[2], box[3])
            box_small = (x0, y0, max(x0 + 1, x1 + 1), max(y0 + 1, y1 + 1))
        similar = self._similar_region(positives) if positives else np.zeros(self.small.shape[:2], bool)
        for x, y in negatives:
            similar[max(0, y - 2):y + 3, max(0, x - 2):x + 3] = False
        cut = self._grabcut(similar, positives, negatives, box_small)
        candidates = [self._finish(cut, positives)]
        if multimask and positives:
            candidates.append(self._finish(similar, positives))
        candidates = [mask for mask in candidates if mask.any()]
        if not candidates:
            raise SegmentationError("no region found at these prompts; try another point or a box")
        # The graph cut is the answer; the colour-similar region is offered as an alternative,
        # scored by how much of the graph cut it agrees with.
        primary = candidates[0]
        scores = [1.0] + [0.9 * float((mask & primary).sum() / max(1, (mask | primary).sum())) for mask in candidates[1:]]
        return MaskPrediction(np.stack(candidates), np.array(scores))

    def finer(self, point: Point, smaller_than: int) -> MaskPrediction | None:
        """No closer look: its candidates are all it offers for a click."""
        return None

    def everything(self) -> list[np.ndarray]:
        """All regions: seeds on a grid, each grown by colour/texture, overlaps resolved by size."""
        self._require_image()
        height, width = self.small.shape[:2]
        taken = np.zeros((height, width), bool)
        regions = []
        step = max(8, max(height, width) // 12)
        for y in range(step // 2, height, step):
            for x in range(step // 2, width, step):
                if taken[y, x]:
                    continue
                region = self._similar_region([(x, y)]) & ~taken
                if region.sum() < 0.002 * height * width:
                    continue
                taken |= region
                regions.append(self._finish(region, [(x, y)]))
        return regions
