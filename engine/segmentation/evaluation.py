"""``simnet eval-segment``: interactive segmentation metrics on BSDS500 human regions.

Protocol (models/segmenter/evaluation_protocol.py): per photo, ``per_photo`` target regions, each a
random annotator's region (largest connected part) covering 1-60 % of the photo, drawn with a
generator seeded by the photo's name, so every segmenter sees the same targets. Clicks are
simulated: the first at the region's deepest point, each next one at the deepest point of the
largest error, positive or negative. A segmenter's first answer is its ``MaskPrediction.best``
(for ours the default candidate, never a flood); later answers are refined with the previous mask
when the segmenter accepts one. Metrics: mean IoU after 1 and 3 clicks, NoC@85 and NoC@90 (clicks
to reach that IoU, ``max_clicks`` when never reached), and how often 90 % is never reached.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from engine.errors import SegmentationError
from engine.segmentation.base import Segmenter
from models.segmenter.evaluation_protocol import click_trace, clicks_to_reach, evaluation_targets


@dataclass
class SegmenterScores:
    segmenter: str
    regions: int
    iou_1_click: float
    iou_3_clicks: float
    noc_85: float
    noc_90: float
    never_90: float  # fraction of regions not reaching 90 % within max_clicks
    runaway: float  # fraction of first answers covering over twice the region and over half the image
    seconds_per_click: float

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass
class Photo:
    name: str
    image: np.ndarray
    segmentations: list[np.ndarray]


def bsds_photos(root: str | Path, split: str = "test", limit: int | None = None) -> Iterator[Photo]:
    from models.training.bsds import list_samples, load_sample

    try:
        pairs = list_samples(root, (split,))
    except FileNotFoundError as error:
        raise SegmentationError(str(error)) from None
    for image_path, truth_path in pairs[:limit]:
        sample = load_sample(image_path, truth_path)
        yield Photo(sample.name, sample.image, sample.segmentations)


def enlarged_photos(photos: Iterable[Photo], factor: int) -> Iterator[Photo]:
    """``photos`` enlarged ``factor`` times (bicubic; the human regions by nearest pixel): the photographs as large
    as the paintings the segmenter meets (those are reduced to its working size, BSDS500's 481 px photographs never
    are), so the reduced path is measured too."""
    for photo in photos:
        if factor == 1:
            yield photo
            continue
        height, width = photo.image.shape[:2]
        size = (width * factor, height * factor)
        yield Photo(photo.name, cv2.resize(photo.image, size, interpolation=cv2.INTER_CUBIC),
                    [cv2.resize(np.ascontiguousarray(segmentation), size, interpolation=cv2.INTER_NEAREST)
                     for segmentation in photo.segmentations])


def _answerer(segmenter: Segmenter, shape: tuple[int, int]) -> Callable:
    """Prompts -> the segmenter's first answer; an empty mask when it finds none (scored as IoU 0)."""
    def answer(points, labels, previous):
        try:
            return segmenter.predict(points, labels, previous_mask=previous).best
        except SegmentationError:
            return np.zeros(shape, bool)

    return answer


def evaluate_segmenter(segmenter: Segmenter, photos: Iterable[Photo], *, per_photo: int = 1, max_clicks: int = 20,
                       report: Callable[[str], None] | None = None) -> SegmenterScores:
    traces: list[list[float]] = []
    runaway = 0
    clicks = 0
    seconds = 0.0
    for index, photo in enumerate(photos):
        segmenter.set_image(photo.image)
        answer = _answerer(segmenter, photo.image.shape[:2])
        for target in evaluation_targets(photo.name, photo.segmentations, per_photo):
            first_answers: list[np.ndarray] = []

            def timed(points, labels, previous):
                nonlocal clicks, seconds
                started = time.perf_counter()
                mask = answer(points, labels, previous)
                seconds += time.perf_counter() - started
                clicks += 1
                if len(points) == 1:
                    first_answers.append(mask)
                return mask

            trace = click_trace(timed, target, max_clicks, stop_at=0.90, at_least=3)
            traces.append(trace)
            first = first_answers[0]
            if first.sum() > 2 * target.sum() and first.mean() > 0.5:
                runaway += 1
        if report and (index + 1) % 20 == 0:
            report(f"{segmenter.name}: {index + 1} photos")
    if not traces:
        raise SegmentationError("no target regions to evaluate")
    return SegmenterScores(
        segmenter=segmenter.name, regions=len(traces),
        iou_1_click=float(np.mean([trace[0] for trace in traces])),
        iou_3_clicks=float(np.mean([trace[2] for trace in traces])),
        noc_85=float(np.mean([clicks_to_reach(trace, 0.85, max_clicks) for trace in traces])),
        noc_90=float(np.mean([clicks_to_reach(trace, 0.90, max_clicks) for trace in traces])),
        never_90=float(np.mean([max(trace) < 0.90 for trace in traces])),
        runaway=runaway / len(traces), seconds_per_click=seconds / max(1, clicks))


@dataclass
class PaintingClicks:
    """First answers to single clicks on a grid over unlabelled paintings (no IoU: no ground truth)."""

    segmenter: str
    clicks: int
    median_area: float  # fraction of the painting
    over_half: float  # fraction of first answers covering more than half the painting
    empty: float  # fraction of clicks with no answer


def painting_clicks(segmenter: Segmenter, images: Iterable[np.ndarray], grid: int = 4) -> PaintingClicks:
    """Single clicks at the centres of a ``grid`` x ``grid`` lattice on each painting."""
    areas, empty = [], 0
    for image in images:
        segmenter.set_image(image)
        height, width = image.shape[:2]
        for gy in range(grid):
            for gx in range(grid):
                try:
                    mask = segmenter.predict([((gx + 0.5) * width / grid, (gy + 0.5) * height / grid)], [1]).best
                    areas.append(float(mask.mean()))
                except SegmentationError:
                    empty += 1
    total = len(areas) + empty
    if not total:
        raise SegmentationError("no paintings to click on")
    return PaintingClicks(segmenter.name, total, float(np.median(areas)) if areas else 0.0,
                          float(np.mean([area > 0.5 for area in areas])) if areas else 0.0, empty / total)


def markdown_table(rows: list[SegmenterScores], max_clicks: int) -> str:
    lines = [f"| segmenter | regions | mIoU 1 click | mIoU 3 clicks | NoC@85 | NoC@90 | never 90 % in {max_clicks} | "
             "runaway 1st click | s/click |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(f"| {row.segmenter} | {row.regions} | {row.iou_1_click:.3f} | {row.iou_3_clicks:.3f} | "
                     f"{row.noc_85:.2f} | {row.noc_90:.2f} | {100 * row.never_90:.0f} % | {100 * row.runaway:.1f} % | "
                     f"{row.seconds_per_click:.3f} |")
    return "\n".join(lines)
