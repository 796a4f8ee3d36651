"""The built-in promptable segmenter: our decoder (``resources/segmenter.pt``, trained on BSDS500)
on a frozen EfficientNet-Lite0 embedding, with Segment Anything's interface.

``set_image`` reduces the image to the working size (long side 512, never enlarged) and computes
the embedding once per image. ``predict`` answers prompts at the working size in milliseconds and
brings the masks to full resolution by bilinear interpolation of their logits. A single click gives
nested candidates (part, object, larger region) with their predicted IoU as score; the first shown
(``MaskPrediction.chosen``) is :func:`models.segmenter.choice.default_candidate`'s: the best predicted IoU
plus its level's prior, never one covering over half the image, grown to the object's edge by a
graph cut when the cut keeps it (:func:`engine.segmentation.graph_cut.grow_to_edge`, then perhaps further
by :func:`~engine.segmentation.graph_cut.grow_within_outline` from the largest candidate; the grown
answer is added as a candidate and shown first), then widened to the painted outline closing around
the click (:mod:`engine.segmentation.outline_enclosure`; where no stroke loop closes, the cheapest closed
path of the outline's colour around it, :mod:`engine.segmentation.outline_path`) and given the parts of its outlined shape it
left out (:mod:`engine.segmentation.outline_parts`), each offered the same way. Several clicks, a box
or a previous mask give one refined answer. A small box, and a click whose every candidate is a large
region around it, are also answered in a zoomed view of their surroundings (see FOCUS_BOX, FOCUS_CLICK).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from engine.errors import SegmentationError
from engine.segmentation.base import (Box, MaskPrediction, Point, Progress, as_rgb8, check_prompts, image_key,
                                      reduce_image, without_answer_specks)
from engine.segmentation.checkpoint import SegmenterCheckpointError, load_decoder
from engine.segmentation.graph_cut import grow_to_edge, grow_within_outline
from engine.segmentation.outline_enclosure import enclosing_outline
from engine.segmentation.outline_path import outline_path
from engine.segmentation.outline_parts import DARK_RING_SHARE, dark_ring_share, outlined_parts
from engine.segmentation.snapping import EdgeSnapper
from models.segmenter.choice import FLOOD_FRACTION, default_candidate, level_prior
from models.segmenter.encoder import ImageEncoder
from models.segmenter.network import ANSWER, CANDIDATES, OUTPUTS, embed
from models.segmenter.prompts import prompt_batch

#: A window of the image (x0, y0, x1, y1), in pixels, end-exclusive.
Window = tuple[int, int, int, int]
#: Two nested candidates this similar (IoU) are shown as one.
DUPLICATE_IOU = 0.97
#: After the cut from the first answer, try one from the largest candidate (a patch of an outlined collage).
GROW_FROM_LARGER = True
#: A box whose longer side is under FOCUS_BOX working pixels is answered in a zoomed view: the box and
#: FOCUS_MARGIN of its longer side around it, enlarged so that its longer side is FOCUS_SIDE pixels (at the
#: working size a small object is a few pixels of the encoder's features, and the decoder finds nothing).
FOCUS_BOX, FOCUS_MARGIN, FOCUS_SIDE = 64, 0.75, 384
#: In the zoomed view's answer, parts under this share of the largest part's area are dropped (stray bits
#: of the ground the enlarged box took in).
FOCUS_PART_SHARE = 0.25
#: The zoomed answer is then grown to the object's edge by a graph cut, kept when it grows it at most this much.
FOCUS_GROWTH = 1.5
#: ... and cut to the box grown by this share of its longer side (and 2 px).
FOCUS_SLACK = 0.1
#: A click whose every candidate is larger than a window of FOCUS_CLICK working pixels a side around it is
#: also answered in a zoomed view of that window (enlarged to FOCUS_SIDE): a small object there (a framed
#: picture on a wall) is a few pixels of the encoder's features, and every candidate of the whole view is a
#: larger region around it. A zoomed answer that lies inside the window is offered as the smallest candidate.
FOCUS_CLICK = 64
#: ... and shown first when its predicted IoU beats the whole view's first answer by this much. The zoom is asked
#: however sure the whole view is of its answer: Frida Kahlo's lips, clicked, were her face (predicted IoU
#: 0.58) and are the lips in the zoomed view (0.84). (Until the twenty-fifth session it was asked only under a
#: predicted IoU of 0.5; lifting that changed no first answer of 399 BSDS500 val clicks nor of the held-out
#: paintings' 4x4 click grids, and runs the zoom on 97 of those 144 clicks instead of 47.) Not when the first answer
#: is ringed by its painted outline nearly all round (``outline_parts.dark_ring_share``): the outlined shape is what
#: was clicked, and a patch of what is painted inside it is a step away (a BSDS500 val object, a collage piece whose
#: water stripe the zoom took: IoU 0.95 -> 0.08; no other val, held-out or grid click's first answer changes).
FOCUS_CLICK_LEAD = 0.15
#: A zoomed answer is kept only when it covers at least this share of the window (about 6 working px a side:
#: not a speck of paint).
FOCUS_CLICK_MIN_SHARE = 0.008


class LearnedSegmenter:
    device = "cpu"
    notice = ""

    def __init__(self, checkpoint: str | Path | None = None, *, sharing: "LearnedSegmenter | None" = None) -> None:
        """Loads the networks from ``checkpoint`` (the shipped one by default), or uses those of ``sharing``
        (a zoomed view of that segmenter's image, which answers no click by zooming again)."""
        if sharing is not None:
            self.decoder, self.encoder = sharing.decoder, sharing.encoder
        else:
            # Channels-last tensors: the decoder's thin convolutions run about 10 % faster on the CPU.
            self.decoder = load_decoder(checkpoint).to(memory_format=torch.channels_last)
            try:
                self.encoder = ImageEncoder()
            except (ImportError, OSError, RuntimeError, KeyError) as error:
                raise SegmenterCheckpointError(f"the EfficientNet-Lite0 weights the segmenter needs cannot be read "
                                               f"({type(error).__name__})") from None
        self.name = "built-in segmenter (trained on BSDS500)"
        self.working_side = self.decoder.config.working_side
        self._key: str | None = None
        self.preparations = 0
        self.zoomed = sharing is not None

    # -- the embedding --------------------------------------------------------------------------
    def set_image(self, image: np.ndarray, progress: Progress | None = None) -> None:
        key = image_key(image)
        if key == self._key:
            return
        report = progress or (lambda fraction, message: None)
        report(0.0, "reducing the image")
        self.shape, self.scale, small = reduce_image(image, self.working_side, min_side=16)
        self.image_rgb8 = as_rgb8(image)
        self.snapper = EdgeSnapper(self.image_rgb8, self.scale)  # the answers' outlines snap to its edges
        self.small_shape = small.shape[:2]
        self.small_image = small
        bottom, right = (-small.shape[0]) % 16, (-small.shape[1]) % 16
        padded = cv2.copyMakeBorder(small, 0, bottom, 0, right, cv2.BORDER_REFLECT_101) if bottom or right else small
        self.padded_size = padded.shape[:2]
        report(0.2, "computing the image embedding")
        tensor = torch.from_numpy(np.ascontiguousarray(padded)).permute(2, 0, 1)[None].float() / 255.0
        with torch.inference_mode():
            self.embedding = {name: features.contiguous(memory_format=torch.channels_last)
                              for name, features in embed(self.encoder, tensor).items()}
            self.prepared = self.decoder.prepare(self.embedding)  # what no click changes, once per image
        self._key = key
        self.preparations += 1
        report(1.0, "ready")

    def _require_image(self) -> None:
        if self._key is None:
            raise SegmentationError("no image set: call set_image first")

    # -- prompts --------------------------------------------------------------------------------
    def _to_working(self, x: float, y: float) -> tuple[float, float]:
        return ((x + 0.5) * self.scale - 0.5, (y + 0.5) * self.scale - 0.5)

    def working_logits(self, points: Sequence[Point], labels: Sequence[int], box: Box | None,
                       previous_mask: np.ndarray | None,
                       outputs: Sequence[int] = tuple(range(OUTPUTS))) -> tuple[np.ndarray, np.ndarray]:
        """The logit maps (len(outputs), h, w) of ``outputs`` (all four by default) at the working
        size, and the scores (4,) of all four."""
        working_points = [self._to_working(x, y) for x, y in points]
        working_box = None
        if box is not None:
            x0, y0 = self._to_working(max(0.0, box[0]), max(0.0, box[1]))
            x1, y1 = self._to_working(min(box[2], self.shape[1] - 1.0), min(box[3], self.shape[0] - 1.0))
            working_box = (x0, y0, x1, y1)
        previous = None
        if previous_mask is not None:
            if previous_mask.shape != self.shape:
                raise SegmentationError(f"the previous mask is {previous_mask.shape[1]}x{previous_mask.shape[0]}, "
                                        f"the image {self.shape[1]}x{self.shape[0]}")
            height, width = self.small_shape
            previous = cv2.resize(previous_mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) >= 0.5
        prompts = prompt_batch([working_points], [list(labels)], [working_box], [previous], self.padded_size)
        with torch.inference_mode():
            logits, scores = self.decoder(self.embedding, prompts, self.prepared, outputs)
        height, width = self.small_shape
        return logits[0, :, :height, :width].numpy(), scores[0].numpy()

    def predict(self, points: Sequence[Point] = (), labels: Sequence[int] = (), box: Box | None = None,
                multimask: bool = True, previous_mask: np.ndarray | None = None) -> MaskPrediction:
        """Candidates at full resolution. ``previous_mask`` (H, W) bool: the mask the clicks correct."""
        self._require_image()
        check_prompts(self.shape, points, labels, box)
        if box is not None and previous_mask is None and \
                max(box[2] - box[0], box[3] - box[1]) * self.scale < FOCUS_BOX:
            focused = self._focused(points, labels, box)
            if focused is not None:
                return focused
        positives = [self._to_working(x, y) for (x, y), label in zip(points, labels) if label == 1]
        single_click = len(points) == 1 and box is None and previous_mask is None
        indices = list(range(CANDIDATES)) if single_click and multimask else [ANSWER]
        logits, scores = self.working_logits(points, labels, box, previous_mask, indices)
        kept = [self._keep_clicked(candidate, positives) for candidate in logits]
        areas = [float((mask > 0).mean()) for mask in kept]
        candidates, candidate_scores, candidate_areas, levels = [], [], [], []
        for level, (mask, score, area) in enumerate(zip(kept, scores[indices], areas)):
            if area == 0:
                continue
            if candidates and _iou(mask > 0, candidates[-1] > 0) >= DUPLICATE_IOU:
                # one candidate for two levels: the better score, and the level the choice favours more
                candidate_scores[-1] = max(candidate_scores[-1], float(score))
                levels[-1] = max(levels[-1], level, key=level_prior)
                continue
            candidates.append(mask)
            candidate_scores.append(float(score))
            candidate_areas.append(area)
            levels.append(level)
        if not candidates:
            raise SegmentationError("no region found at these prompts; try another point or a box")
        chosen = default_candidate(candidate_scores, candidate_areas, levels)
        if single_click and multimask:
            chosen = self._grow_chosen(candidates, candidate_scores, chosen, positives[0])
        masks = [self.snapper.snap(self._full_resolution(mask), mask > 0) for mask in candidates]
        if single_click and multimask:
            # widened (or cut) to the painted outline closing around the click, then given the parts of the
            # outlined shape it left out; each offered as by _offer
            click = (float(points[0][0]), float(points[0][1]))
            enclosed = enclosing_outline(self.image_rgb8, masks[chosen], click)
            looped = enclosed is not None
            if enclosed is None:  # no stroke loop closes: the cheapest path of the outline's colour around it
                enclosed = outline_path(self.image_rgb8, masks[chosen], click)
            chosen = _offer_shape(masks, candidate_scores, chosen, enclosed)
            chosen = _offer_shape(masks, candidate_scores, chosen,
                                  outlined_parts(self.image_rgb8, masks[chosen], closed=looped))
            if FOCUS_CLICK and not self.zoomed:
                chosen = self._offer_focused_click(masks, candidate_scores, chosen, click)
        return MaskPrediction(np.stack(without_answer_specks(masks, points, labels)), np.array(candidate_scores),
                              chosen)

    def _focused(self, points: Sequence[Point], labels: Sequence[int], box: Box) -> MaskPrediction | None:
        """The answer to a small box (and its clicks) found in a zoomed view of it (see FOCUS_BOX), as a
        full-resolution prediction; None when the zoomed view finds nothing either."""
        x0, y0, x1, y1 = window = _grown_box(box, FOCUS_MARGIN * max(box[2] - box[0], box[3] - box[1], 1.0),
                                             self.shape)
        zoomed, inside, back = self._zoomed_view(window)
        corner, far_corner = inside(box[0], box[1]), inside(box[2], box[3])
        try:
            answer = zoomed.predict([inside(x, y) for x, y in points], labels, (*corner, *far_corner), multimask=False)
        except SegmentationError:
            return None
        small = back(answer.best)
        count, parts, stats, _ = cv2.connectedComponentsWithStats(small.view(np.uint8), connectivity=8)
        if count < 2:
            return None
        areas = stats[1:, cv2.CC_STAT_AREA]
        kept = np.flatnonzero(areas >= FOCUS_PART_SHARE * areas.max()) + 1
        mask = np.zeros(self.shape, bool)
        mask[y0:y1, x0:x1] = np.isin(parts, kept)
        # grown to the object's edge as a click's answer is (the zoomed decoder's outline is soft at this size)
        anchor = next(((x, y) for (x, y), label in zip(points, labels) if label == 1),
                      ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
        grown = grow_to_edge(self.image_rgb8, mask, anchor)
        if grown is not None and grown.sum() <= FOCUS_GROWTH * mask.sum():
            mask = grown
        # a box selects what it holds: nothing beyond it but its object's own edge
        hx0, hy0, hx1, hy1 = _grown_box(box, FOCUS_SLACK * max(box[2] - box[0], box[3] - box[1]) + 2, self.shape)
        held = np.zeros_like(mask)
        held[hy0:hy1, hx0:hx1] = True
        mask &= held
        if not mask.any():
            return None
        return MaskPrediction(mask[None], np.array([float(answer.scores[answer.best_index])]), 0)

    def _zoomed_view(self, window: tuple[int, int, int, int]) -> tuple["LearnedSegmenter", Callable, Callable]:
        """A segmenter set on ``window`` (x0, y0, x1, y1 pixels) of this image enlarged so that its longer side is
        FOCUS_SIDE; the function taking this image's coordinates (x, y) into the enlarged window's; and the one
        taking a mask of the enlarged window back to the window's size (by area, half covered or more)."""
        x0, y0, x1, y1 = window
        factor = FOCUS_SIDE / max(x1 - x0, y1 - y0)
        enlarged = cv2.resize(self.image_rgb8[y0:y1, x0:x1],
                              (max(1, round((x1 - x0) * factor)), max(1, round((y1 - y0) * factor))),
                              interpolation=cv2.INTER_CUBIC)
        zoomed = LearnedSegmenter(sharing=self)
        zoomed.set_image(enlarged)
        scale_x, scale_y = enlarged.shape[1] / (x1 - x0), enlarged.shape[0] / (y1 - y0)

        def inside(x: float, y: float) -> tuple[float, float]:
            return (x - x0 + 0.5) * scale_x - 0.5, (y - y0 + 0.5) * scale_y - 0.5

        def back(mask: np.ndarray) -> np.ndarray:
            return cv2.resize(mask.view(np.uint8) * np.uint8(255), (x1 - x0, y1 - y0),
                              interpolation=cv2.INTER_AREA) >= 128

        return zoomed, inside, back

    def _zoomed_click(self, click: tuple[float, float]) -> tuple[MaskPrediction, Window] | None:
        """A single click answered in a zoomed view of the window (x0, y0, x1, y1) of FOCUS_CLICK working pixels
        around it, its masks taken back to the window's size, and that window; None when the zoomed view finds
        nothing."""
        half = FOCUS_CLICK / 2 / self.scale
        window = _grown_box((click[0], click[1], click[0], click[1]), half, self.shape)
        zoomed, inside, back = self._zoomed_view(window)
        try:
            answer = zoomed.predict([inside(*click)], [1])
        except SegmentationError:
            return None
        return MaskPrediction(np.stack([back(mask) for mask in answer.masks]), answer.scores, answer.chosen), window

    def _within_window(self, small: np.ndarray, window: Window, image_edge_open: bool = False) -> bool:
        """Whether a zoomed answer's mask ``small`` (the window's size) is kept: not a speck (under
        FOCUS_CLICK_MIN_SHARE of the window) and not running out of the window (a larger region, which the whole
        view's candidates hold); with ``image_edge_open`` a side of the window on the image's own edge may be
        touched (an object the painting's edge cuts)."""
        if small.sum() < FOCUS_CLICK_MIN_SHARE * small.size:
            return False
        x0, y0, x1, y1 = window
        height, width = self.shape
        sides = ((small[0], y0 > 0), (small[-1], y1 < height), (small[:, 0], x0 > 0), (small[:, -1], x1 < width))
        return not any(side.any() for side, inner in sides if inner or not image_edge_open)

    def _placed(self, small: np.ndarray, window: Window) -> np.ndarray:
        """A mask of ``window``'s size as a mask of this image."""
        x0, y0, x1, y1 = window
        shape = np.zeros(self.shape, bool)
        shape[y0:y1, x0:x1] = small
        return shape

    def finer(self, point: Point, smaller_than: int) -> MaskPrediction | None:
        """Candidates finer than the whole view's for a single click at ``point``: the zoomed view's answers
        (see FOCUS_CLICK) that lie inside its window and cover fewer than ``smaller_than`` pixels, smallest
        first; None when there are none. Asked when the user steps below a click's smallest candidate: on
        BSDS500 val photographs enlarged twice, 86 small regions (0.2-2 % of the photo), the best candidate
        within reach rose from IoU 0.514 to 0.555 (13 regions nearer, 8 by more than 0.1), at 0.26 s for the
        zoom; on 100 regions of 1-60 % none came nearer. A window side on the image's own edge may be touched
        (an object the painting's edge cuts)."""
        self._require_image()
        check_prompts(self.shape, [point], [1], None)
        click = (float(point[0]), float(point[1]))
        zoomed = self._zoomed_click(click)
        if zoomed is None:
            return None
        answer, window = zoomed
        found = [(small, float(score)) for small, score in zip(answer.masks, answer.scores)
                 if self._within_window(small, window, image_edge_open=True) and small.sum() < smaller_than]
        kept: list[tuple[np.ndarray, float]] = []
        for small, score in sorted(found, key=lambda item: item[0].sum()):
            if all(_iou(small, other) < DUPLICATE_IOU for other, _ in kept):
                kept.append((small, score))
        if not kept:
            return None
        masks = without_answer_specks([self._placed(small, window) for small, _ in kept], [click], [1])
        return MaskPrediction(np.stack(masks), np.array([score for _, score in kept]))

    def _offer_focused_click(self, masks: list[np.ndarray], scores: list[float], chosen: int,
                             click: tuple[float, float]) -> int:
        """The answer to a single click in a zoomed view of the window around it (see FOCUS_CLICK), offered among
        ``masks`` as by :func:`_offer` when it lies inside the window and is smaller than every candidate;
        returns the index of the answer to show first."""
        if min(int(mask.sum()) for mask in masks) <= (FOCUS_CLICK / self.scale) ** 2:
            return chosen  # the whole view resolves something this small around the click
        zoomed = self._zoomed_click(click)
        if zoomed is None:
            return chosen
        answer, window = zoomed
        if not self._within_window(answer.best, window):
            return chosen
        shape, zoomed_score = self._placed(answer.best, window), float(answer.scores[answer.best_index])
        lead = zoomed_score - scores[chosen]
        count = len(masks)
        offered = _offer_shape(masks, scores, chosen, shape)
        inserted = len(masks) > count
        if inserted:
            scores[offered] = zoomed_score
        first = chosen + 1 if inserted and offered <= chosen else chosen  # the whole view's first answer, moved along
        if lead >= FOCUS_CLICK_LEAD and dark_ring_share(self.image_rgb8, masks[first]) < DARK_RING_SHARE:
            return offered
        return first

    def _grow_chosen(self, candidates: list[np.ndarray], scores: list[float], chosen: int,
                     click: tuple[float, float]) -> int:
        """The first answer grown to the object's edge, offered among ``candidates`` (logits) as by
        :func:`_offer`, unless the growth is refused or floods the image (over ``FLOOD_FRACTION``);
        returns the index of the answer to show first. A cut from the largest candidate may then grow it
        further (:func:`grow_within_outline`: a patch of an outlined collage)."""
        answer = candidates[chosen] > 0
        grown = grow_to_edge(self.small_image, answer, click)
        if GROW_FROM_LARGER:
            base = answer if grown is None else grown
            larger = [candidate > 0 for candidate in candidates if (candidate > 0).sum() > base.sum()]
            if larger:
                wider = grow_within_outline(self.small_image, base, click, max(larger, key=np.count_nonzero))
                grown = grown if wider is None else wider
        if grown is None or grown.mean() > FLOOD_FRACTION:
            return chosen
        return _offer(candidates, scores, chosen, grown, np.where(grown, 1.0, -1.0).astype(np.float32),
                      lambda logits: logits > 0)

    @staticmethod
    def _keep_clicked(logits: np.ndarray, positives: list[tuple[float, float]]) -> np.ndarray:
        """The logits with every part that holds no positive click pushed outside (all parts for a box)."""
        inside = logits > 0
        if not positives or not inside.any():
            return logits
        count, components = cv2.connectedComponents(inside.view(np.uint8), connectivity=4)
        height, width = inside.shape
        wanted = {components[min(height - 1, max(0, round(y))), min(width - 1, max(0, round(x)))] for x, y in positives}
        wanted.discard(0)
        if not wanted or len(wanted) == count - 1:  # nothing clicked inside, or every part is clicked
            return logits
        chosen = components == wanted.pop() if len(wanted) == 1 else np.isin(components, list(wanted))
        keep = cv2.dilate(chosen.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        return np.where(keep, logits, np.minimum(logits, -1.0)).astype(np.float32)

    def _full_resolution(self, logits: np.ndarray) -> np.ndarray:
        height, width = self.shape
        if logits.shape == (height, width):
            return logits > 0
        return cv2.resize(logits, (width, height), interpolation=cv2.INTER_LINEAR) > 0

    def everything(self, points_per_side: int = 8) -> list[np.ndarray]:
        """All regions: a single click on each point of a grid, its default candidate kept; the
        smaller regions first, each keeping what is still free, so a large background cannot
        swallow the objects on it (near-duplicates are dropped)."""
        self._require_image()
        height, width = self.small_shape
        found = []
        for gy in range(points_per_side):
            for gx in range(points_per_side):
                x, y = (gx + 0.5) * width / points_per_side, (gy + 0.5) * height / points_per_side
                logits, scores = self.working_logits([((x + 0.5) / self.scale - 0.5, (y + 0.5) / self.scale - 0.5)],
                                                     [1], None, None, range(CANDIDATES))
                masks = [self._keep_clicked(logits[index], [(x, y)]) > 0 for index in range(CANDIDATES)]
                chosen = default_candidate(scores[:CANDIDATES].tolist(), [float(mask.mean()) for mask in masks])
                if masks[chosen].any():
                    found.append(masks[chosen])
        found.sort(key=lambda mask: int(mask.sum()))
        taken = np.zeros((height, width), bool)
        regions = []
        for mask in found:
            free = mask & ~taken
            if free.sum() < 0.002 * height * width or free.sum() < 0.5 * mask.sum():
                continue
            taken |= free
            regions.append(self._full_resolution(np.where(free, 1.0, -1.0).astype(np.float32)))
        return regions


def _grown_box(box: Box, margin: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixels (x0, y0, x1, y1; x1, y1 excluded) of ``box`` (x0, y0, x1, y1, ends included, may be
    fractional) grown by ``margin`` each way, clipped to ``shape`` (H, W)."""
    height, width = shape
    return (max(0, int(np.floor(box[0] - margin))), max(0, int(np.floor(box[1] - margin))),
            min(width, int(np.ceil(box[2] + margin)) + 1), min(height, int(np.ceil(box[3] + margin)) + 1))


def _offer(candidates: list, scores: list[float], chosen: int, shape: np.ndarray, stored: np.ndarray,
           as_mask: Callable[[np.ndarray], np.ndarray]) -> int:
    """Offer ``shape`` (a bool mask), a refinement of candidate ``chosen``: the index of the candidate it
    repeats (IoU at least DUPLICATE_IOU), or else the index where ``stored`` (its form in ``candidates``,
    whose masks ``as_mask`` gives) is inserted, smallest first, with the score of the answer it came from."""
    masks = [as_mask(candidate) for candidate in candidates]
    similar = [index for index, mask in enumerate(masks) if _iou(shape, mask) >= DUPLICATE_IOU]
    if similar:
        return similar[0]
    position = sum(int(mask.sum()) < int(shape.sum()) for mask in masks)
    candidates.insert(position, stored)
    scores.insert(position, scores[chosen])
    return position


def _offer_shape(masks: list[np.ndarray], scores: list[float], chosen: int, shape: np.ndarray | None) -> int:
    """``shape`` (a full-resolution bool refinement of answer ``chosen``; None: none) offered among ``masks``
    as by :func:`_offer`; returns the index of the answer to show first."""
    return chosen if shape is None else _offer(masks, scores, chosen, shape, shape, lambda mask: mask)


def _iou(first: np.ndarray, second: np.ndarray) -> float:
    union = np.logical_or(first, second).sum()
    return float(np.logical_and(first, second).sum() / union) if union else 1.0
