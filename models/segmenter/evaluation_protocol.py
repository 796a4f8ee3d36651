"""The interactive evaluation protocol (shared by `simnet eval-segment` and training's validation).

Targets: for each photo, ``per_photo`` regions drawn with a generator seeded by the photo's name:
a random annotator, then a random one of that annotator's regions (its largest connected part)
covering 1-60 % of the photo. Clicks: the first at the deepest point of the region, each next one at
the deepest point of the largest error (see clicks.py), up to ``max_clicks``. Metrics: IoU after
each click; NoC@t is the first click count reaching IoU t (``max_clicks`` when never reached).
"""
from __future__ import annotations

import zlib
from typing import Callable, Sequence

import numpy as np
import torch

from models.segmenter.choice import default_candidate
from models.segmenter.clicks import first_click, next_click
from models.segmenter.network import ANSWER, CANDIDATES, PromptDecoder
from models.segmenter.prompts import prompt_batch
from models.segmenter.regions import target_regions

#: answer(points, labels, previous mask or None) -> mask
Answer = Callable[[list[tuple[float, float]], list[int], "np.ndarray | None"], np.ndarray]


def evaluation_targets(name: str, segmentations: Sequence[np.ndarray], per_photo: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    targets = []
    order = rng.permutation(len(segmentations))
    for annotator in order:
        regions = target_regions(segmentations[int(annotator)])
        if regions:
            targets.append(regions[int(rng.integers(len(regions)))])
        if len(targets) == per_photo:
            break
    return targets


def iou(mask: np.ndarray, target: np.ndarray) -> float:
    union = np.logical_or(mask, target).sum()
    return float(np.logical_and(mask, target).sum() / union) if union else 1.0


def click_trace(answer: Answer, target: np.ndarray, clicks: int, stop_at: float | None = None,
                at_least: int = 1) -> list[float]:
    """IoU after each of ``clicks`` simulated clicks. With ``stop_at``, clicking stops once the IoU
    reaches it (after ``at_least`` clicks); the rest of the trace repeats the last IoU, as it does
    once the mask is exact."""
    points = [first_click(target)]
    labels = [1]
    previous = None
    ious: list[float] = []
    while True:
        mask = answer(points, labels, previous)
        ious.append(iou(mask, target))
        if len(ious) == clicks:
            return ious
        if stop_at is not None and len(ious) >= at_least and max(ious) >= stop_at:
            return ious + [ious[-1]] * (clicks - len(ious))
        correction = next_click(mask, target)
        if correction is None:
            return ious + [ious[-1]] * (clicks - len(ious))
        points.append(correction[0])
        labels.append(correction[1])
        previous = mask


def clicks_to_reach(ious: Sequence[float], threshold: float, max_clicks: int) -> int:
    for index, value in enumerate(ious):
        if value >= threshold:
            return index + 1
    return max_clicks


def decoder_answer(decoder: PromptDecoder, embedding: dict[str, torch.Tensor], padded_size: tuple[int, int],
                   shape: tuple[int, int]) -> Answer:
    """The decoder as an Answer at the working resolution: the default candidate for one click,
    the single answer after that."""
    height, width = shape

    @torch.no_grad()
    def answer(points, labels, previous):
        device = next(iter(embedding.values())).device
        prompts = prompt_batch([points], [labels], [None], [previous], padded_size).to(device)
        logits, scores = decoder(embedding, prompts)
        masks = (logits[0, :, :height, :width] > 0).cpu().numpy()
        if len(points) == 1 and previous is None:
            areas = masks[:CANDIDATES].mean(axis=(1, 2))
            return masks[default_candidate(scores[0, :CANDIDATES].tolist(), areas.tolist())]
        return masks[ANSWER]

    return answer


def simulate(decoder: PromptDecoder, embedding: dict[str, torch.Tensor], padded_size: tuple[int, int],
             target: np.ndarray, clicks: int) -> list[float]:
    return click_trace(decoder_answer(decoder, embedding, padded_size, target.shape), target, clicks)
