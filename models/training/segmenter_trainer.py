"""Training the promptable segmenter's decoder on cached BSDS500 features with simulated clicks.

Each step draws one kind of prompt for its whole batch (one shape of photo per batch):
- a single click (at a random point among the deepest of the region): the three nested candidates
  learn the part, object and larger region at that point (the smallest, median and largest of the
  annotators' regions there), the single answer learns the drawn region;
- iterative clicks (RITM): 1..5 corrective clicks simulated with the model itself, no gradient,
  each on the largest error of its previous answer, which is fed back as the previous mask;
- a jittered box around the region, with or without a click.
Losses: binary cross-entropy + Dice for the masks, squared error of the scores against the masks'
real IoU. Adam with a cosine schedule; checkpoints (with optimizer) are written atomically and a run
resumes from its last one.
"""
from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from models.segmenter.choice import default_candidate
from models.segmenter.clicks import first_click, next_click
from models.segmenter.network import ANSWER, CANDIDATES, FEATURE_NAMES, PromptDecoder, SegmenterConfig
from models.segmenter.prompts import prompt_batch
from models.segmenter.regions import ComponentMap
from models.segmenter.serialization import from_payload, to_payload
from models.training.segmenter_composites import OutlinedComposite, composite_click, make_composites, object_shapes
from models.training.segmenter_data import CachedPhoto, build_cache, load_cached

TRAIN_FRACTIONS = (0.005, 0.7)


@dataclass
class SegmenterTrainOptions:
    data: Path
    out: Path
    steps: int = 4000
    batch_size: int = 4
    lr: float = 1e-3
    seed: int = 0
    log_every: int = 25
    save_every: int = 100
    validate_every: int = 500
    validation_photos: int = 40
    max_iterations: int = 3
    crop: tuple[int, int] = (256, 384)  # (height, width) of the training window, multiples of 16
    config: SegmenterConfig = SegmenterConfig()
    #: Fine-tuning: decoder weights to start from when there is no checkpoint to resume.
    initial: PromptDecoder | None = None
    #: Fractions of steps with a single click, iterative clicks and a box.
    kinds: tuple[float, float, float] = (0.5, 0.35, 0.15)
    #: Where the decoder trains ("cpu", "cuda"); features are cached on the CPU and sent per batch.
    device: str = "cpu"
    #: Share of batches drawn from outlined composites (models/training/segmenter_composites.py), how many are
    #: made, and the training photos whose regions may not serve as their shapes (held out for an evaluation).
    outlined_share: float = 0.0
    outlined_count: int = 400
    excluded_shapes: frozenset[str] = frozenset()
    #: Share of the outlined composites whose ground is laced with dark lines of the outline's colour.
    laced_share: float = 0.0
    #: Fine-tuning: weight of a loss that keeps the decoder's masks and predicted IoUs on photo batches near the
    #: starting decoder's (distillation, "learning without forgetting"), so new kinds of batches add to what it knew.
    keep_initial: float = 0.0


@dataclass
class Item:
    """A training region seen through a crop window: features, masks and click in crop coordinates."""

    features: dict[str, torch.Tensor]
    target: np.ndarray
    nested: list[np.ndarray]
    valid: np.ndarray
    click: tuple[float, float]


def draw_item(photo: CachedPhoto, rng: np.random.Generator, crop: tuple[int, int],
              maps: list[ComponentMap]) -> Item | None:
    """A random region of a random annotator (``maps``: the photo's annotators' parts), its first
    click, all seen through a ``crop`` window (multiples of 16, placed on the 16-pixel grid so that
    every feature scale crops exactly)."""
    annotator = maps[int(rng.integers(len(maps)))]
    parts = annotator.target_ids(*TRAIN_FRACTIONS)
    if not parts:
        return None
    target = annotator.region(parts[int(rng.integers(len(parts)))])
    x, y = first_click(target, rng, spread=0.4)
    found = sorted((other.part_at(int(x), int(y)) for other in maps), key=lambda region: int(region.sum()))
    return _windowed(photo, target, [found[0], found[len(found) // 2], found[-1]], (x, y), rng, crop)


def draw_composite_item(composite: OutlinedComposite, rng: np.random.Generator, crop: tuple[int, int]) -> Item:
    """A click inside an outlined composite's shape: the whole ringed shape is its answer and its larger
    candidates, the donor's region under the click its smallest."""
    click, part = composite_click(composite, rng)
    whole = composite.whole
    return _windowed(composite.photo, whole, [part, whole, whole], click, rng, crop)


def _windowed(photo: CachedPhoto, target: np.ndarray, nested: list[np.ndarray], click: tuple[float, float],
              rng: np.random.Generator, crop: tuple[int, int]) -> Item:
    """The item seen through a ``crop`` window around the click."""
    x, y = click
    crop_height, crop_width = min(crop[0], photo.padded_size[0]), min(crop[1], photo.padded_size[1])
    top = _window_start(y, crop_height, photo.padded_size[0], rng)
    left = _window_start(x, crop_width, photo.padded_size[1], rng)
    features = {}
    for key, value in photo.features.items():
        stride = photo.padded_size[0] // value.shape[-2]
        features[key] = value[:, top // stride:(top + crop_height) // stride, left // stride:(left + crop_width) // stride]

    def window(mask: np.ndarray) -> np.ndarray:
        out = np.zeros((crop_height, crop_width), bool)
        part = mask[top:top + crop_height, left:left + crop_width]
        out[:part.shape[0], :part.shape[1]] = part
        return out

    return Item(features, window(target), [window(mask) for mask in nested], window(np.ones_like(target)),
                (x - left, y - top))


def _window_start(centre: float, length: int, total: int, rng: np.random.Generator, margin: int = 32) -> int:
    """A start on the 16-pixel grid, with ``centre`` at least ``margin`` inside the window when possible."""
    starts = np.arange(0, total - length + 1, 16)
    for needed in (margin, 0):
        fitting = starts[(starts <= centre - needed) & (starts + length >= centre + needed + 1)]
        if len(fitting):
            return int(fitting[int(rng.integers(len(fitting)))])
    return int(starts[0])


def feature_statistics(photos: list[CachedPhoto]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per-channel mean and standard deviation of each encoder feature over ``photos``."""
    statistics = {}
    for name in FEATURE_NAMES:
        values = torch.cat([photo.features[name].float().flatten(1) for photo in photos], dim=1)
        statistics[name] = (values.mean(dim=1), values.std(dim=1))
    return statistics


def stack_features(items: list[Item]) -> dict[str, torch.Tensor]:
    return {key: torch.stack([item.features[key] for item in items]).float() for key in items[0].features}


def padded(masks: list[np.ndarray], size: tuple[int, int]) -> torch.Tensor:
    """(B, 1, H, W) float of masks placed at the top left of the padded size."""
    out = torch.zeros(len(masks), 1, *size)
    for row, mask in enumerate(masks):
        out[row, 0, :mask.shape[0], :mask.shape[1]] = torch.from_numpy(mask.astype(np.float32))
    return out


def mask_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per-row BCE over the real pixels + soft Dice; logits, target, valid: (B, 1, H, W)."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    bce = (bce * valid).sum(dim=(1, 2, 3)) / valid.sum(dim=(1, 2, 3))
    probability = torch.sigmoid(logits) * valid
    dice = 1 - (2 * (probability * target).sum(dim=(1, 2, 3)) + 1) / (probability.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)
    return bce + dice


def keep_initial_loss(logits: torch.Tensor, initial_logits: torch.Tensor, valid: torch.Tensor,
                      scores: torch.Tensor | None = None, initial_scores: torch.Tensor | None = None) -> torch.Tensor:
    """BCE of all masks' logits (B, M, H, W) against the starting decoder's probabilities over the real pixels,
    plus the squared difference of the predicted IoUs (B, M), which choose the first answer (distillation:
    Hinton et al. 2015; Li and Hoiem's learning without forgetting, 2017)."""
    bce = F.binary_cross_entropy_with_logits(logits, torch.sigmoid(initial_logits), reduction="none")
    loss = ((bce * valid).sum(dim=(2, 3)) / valid.sum(dim=(2, 3))).mean()
    if scores is not None and initial_scores is not None:
        loss = loss + F.mse_loss(scores, initial_scores)
    return loss


def binary_iou(masks: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU per row and channel of (B, K, H, W) boolean masks against (B, 1, H, W)."""
    intersection = (masks & target).sum(dim=(2, 3)).float()
    union = (masks | target).sum(dim=(2, 3)).float()
    return intersection / union.clamp(min=1)


class SegmenterTrainer:
    def __init__(self, options: SegmenterTrainOptions, report: Callable[[str], None] = print) -> None:
        self.options = options
        self.report = report
        torch.manual_seed(options.seed)
        self.rng = np.random.default_rng(options.seed)
        files = build_cache(options.data, options.out / "cache", report=report)
        unmirrored, *mirrored = (load_cached(path) for path in files["train"])
        self.train = [photo for photos in (unmirrored, *mirrored) for photo in photos]
        self.val = load_cached(files["val"][0])
        self.groups: dict[tuple[int, int], list[CachedPhoto]] = {}
        for photo in self.train:
            self.groups.setdefault(photo.padded_size, []).append(photo)
        self.composites: dict[tuple[int, int], list[OutlinedComposite]] = {}
        if options.outlined_share > 0:
            for composite in self._outlined_composites(unmirrored):
                self.composites.setdefault(composite.photo.padded_size, []).append(composite)
        self.teacher: PromptDecoder | None = None
        if options.initial is not None:
            self.decoder = options.initial
            self.decoder.config = replace(self.decoder.config, mask_threshold=0.0)  # train on raw logits
            if options.keep_initial > 0:  # a frozen copy of the start, before any step
                self.teacher = copy.deepcopy(self.decoder).eval().requires_grad_(False)
        else:
            self.decoder = PromptDecoder(options.config)
            self.decoder.set_feature_statistics(feature_statistics(self.train[::max(1, len(self.train) // 50)]))
        self.device = torch.device(options.device)
        self.decoder.to(self.device)
        if self.teacher is not None:
            self.teacher.to(self.device)
        self.optimizer = torch.optim.Adam(self.decoder.parameters(), lr=options.lr)
        self._maps: dict[int, list[ComponentMap]] = {}
        self.step = 0
        self.history: list[dict[str, float]] = []
        self._resume()

    # -- checkpoints ----------------------------------------------------------------------------
    @property
    def last_path(self) -> Path:
        return self.options.out / "last.pt"

    def _resume(self) -> None:
        if not self.last_path.exists():
            return
        payload = torch.load(self.last_path, map_location="cpu", weights_only=False)
        self.decoder = from_payload(payload).to(self.device)
        self.optimizer = torch.optim.Adam(self.decoder.parameters(), lr=self.options.lr)
        self.optimizer.load_state_dict(payload["optimizer"])  # its state follows the parameters' device
        self.step = int(payload["metadata"]["step"])
        self.history = list(payload["metadata"].get("history", []))
        self.rng = np.random.default_rng(self.options.seed + self.step)
        self.report(f"resumed at step {self.step}")

    def save(self, path: Path | None = None) -> None:
        payload = to_payload(self.decoder, {"step": self.step, "history": self.history})
        payload["optimizer"] = self.optimizer.state_dict()
        path = path or self.last_path
        temporary = path.with_suffix(".tmp")
        torch.save(payload, temporary)
        temporary.replace(path)

    # -- one step -------------------------------------------------------------------------------
    def _component_maps(self, photo: CachedPhoto) -> list[ComponentMap]:
        """The photo's annotators' parts, computed on first use and kept."""
        key = id(photo)
        if key not in self._maps:
            self._maps[key] = [ComponentMap(labels) for labels in photo.segmentations]
        return self._maps[key]

    def _outlined_composites(self, photos: list[CachedPhoto]) -> list[OutlinedComposite]:
        """The outlined composites, made once (seeded) from the training ``photos`` (not mirrored) and cached
        beside the features."""
        laced = f"_laced{self.options.laced_share:g}" if self.options.laced_share > 0 else ""
        path = self.options.out / "cache" / f"outlined_{self.options.outlined_count}_seed{self.options.seed}{laced}.pt"
        if path.exists():
            return [OutlinedComposite(CachedPhoto(entry["name"], entry["image"].numpy(), [], entry["features"],
                                                  tuple(entry["padded_size"])), entry["whole"].numpy(),
                                      entry["parts"].numpy())
                    for entry in torch.load(path, map_location="cpu", weights_only=True)]
        from models.segmenter.encoder import ImageEncoder
        from models.segmenter.network import embed
        from models.training.segmenter_data import FEATURE_KEYS, image_tensor

        encoder = ImageEncoder()
        rng = np.random.default_rng(self.options.seed + 7)
        shapes = object_shapes([photo for photo in photos if photo.name not in self.options.excluded_shapes], rng)

        def encode(image: np.ndarray) -> dict[str, torch.Tensor]:
            features = embed(encoder, image_tensor(image))
            return {key: features[key][0].half() for key in FEATURE_KEYS}

        composites = make_composites(photos, shapes, self.options.outlined_count, encode, rng,
                                     self.options.laced_share)
        entries = [{"name": c.photo.name, "image": torch.from_numpy(c.photo.image), "features": c.photo.features,
                    "padded_size": list(c.photo.padded_size), "whole": torch.from_numpy(c.whole),
                    "parts": torch.from_numpy(c.parts)} for c in composites]
        temporary = path.with_suffix(".tmp")
        torch.save(entries, temporary)
        temporary.replace(path)
        self.report(f"made {len(composites)} outlined composites from {len(shapes)} shapes")
        return composites

    def _batch(self) -> tuple[list[Item], bool]:
        """One batch of items, and whether it was drawn from the photos (not the outlined composites)."""
        if self.composites and self.rng.random() < self.options.outlined_share:
            group, crop = self._size_group(self.composites)
            return [draw_composite_item(group[int(self.rng.integers(len(group)))], self.rng, crop)
                    for _ in range(self.options.batch_size)], False
        group, crop = self._size_group(self.groups)
        items: list[Item] = []
        while len(items) < self.options.batch_size:
            photo = group[int(self.rng.integers(len(group)))]
            item = draw_item(photo, self.rng, crop, self._component_maps(photo))
            if item is not None:
                items.append(item)
        return items, True

    def _size_group(self, groups: dict[tuple[int, int], list]) -> tuple[list, tuple[int, int]]:
        """One batch's group (all of one padded size, drawn in proportion to its count) and its crop window."""
        sizes = list(groups)
        weights = np.array([len(groups[size]) for size in sizes], float)
        size = sizes[int(self.rng.choice(len(sizes), p=weights / weights.sum()))]
        return groups[size], self.options.crop if size[0] <= size[1] else self.options.crop[::-1]

    def _learning_rate(self) -> float:
        warmup = 30
        if self.step < warmup:
            return self.options.lr * (self.step + 1) / warmup
        progress = min(1.0, (self.step - warmup) / max(1, self.options.steps - warmup))
        return self.options.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    def train_step(self) -> dict[str, float]:
        items, from_photos = self._batch()
        size = items[0].target.shape
        device = self.device
        embedding = {key: value.to(device) for key, value in stack_features(items).items()}
        targets = padded([item.target for item in items], size).to(device)
        valid = padded([item.valid for item in items], size).to(device)
        kind = self.rng.choice(["single", "iterative", "box"], p=list(self.options.kinds))
        points = [[item.click] for item in items]
        labels = [[1] for _ in items]
        boxes: list = [None] * len(items)
        previous: list = [None] * len(items)
        if kind == "box":
            boxes = [self._jittered_box(item.target) for item in items]
            if self.rng.random() < 0.5:
                points, labels = [[] for _ in items], [[] for _ in items]
        elif kind == "iterative":
            rounds = int(self.rng.integers(1, self.options.max_iterations + 1))
            self.decoder.eval()
            with torch.no_grad():
                for round_index in range(rounds):
                    prompts = prompt_batch(points, labels, boxes, previous, size).to(device)
                    logits, scores = self.decoder(embedding, prompts)
                    logits, scores = logits.cpu(), scores.cpu()
                    for row, item in enumerate(items):
                        height, width = item.target.shape
                        masks = (logits[row, :, :height, :width] > 0).numpy() & item.valid
                        if round_index == 0:
                            areas = masks[:CANDIDATES].mean(axis=(1, 2))
                            chosen = masks[default_candidate(scores[row, :CANDIDATES].tolist(), areas.tolist())]
                        else:
                            chosen = masks[ANSWER]
                        previous[row] = chosen
                        click = next_click(chosen, item.target, self.rng, spread=0.2)
                        if click is not None:
                            points[row] = points[row] + [click[0]]
                            labels[row] = labels[row] + [click[1]]
            self.decoder.train()
        prompts = prompt_batch(points, labels, boxes, previous, size).to(device)
        logits, scores = self.decoder(embedding, prompts)
        answer_loss = mask_loss(logits[:, ANSWER:ANSWER + 1], targets, valid).mean()
        with torch.no_grad():
            ious = binary_iou((logits > 0) & (valid > 0), targets > 0)
        loss = answer_loss
        score_loss = F.mse_loss(scores[:, ANSWER], ious[:, ANSWER])
        candidate_loss = torch.zeros((), device=device)
        if kind == "single":
            for index in range(CANDIDATES):
                nested = padded([item.nested[index] for item in items], size).to(device)
                candidate_loss = candidate_loss + mask_loss(logits[:, index:index + 1], nested, valid).mean() / CANDIDATES
            score_loss = F.mse_loss(scores, ious)
        loss = loss + candidate_loss + score_loss
        keep_loss = torch.zeros((), device=device)
        if self.teacher is not None and from_photos:
            with torch.no_grad():
                teacher_logits, teacher_scores = self.teacher(embedding, prompts)
            keep_loss = keep_initial_loss(logits, teacher_logits, valid, scores, teacher_scores)
            loss = loss + self.options.keep_initial * keep_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.decoder.parameters(), 5.0)
        self.optimizer.step()
        return {"loss": float(loss.detach()), "answer": float(answer_loss.detach()), "candidates": float(candidate_loss.detach()),
                "score": float(score_loss.detach()), "keep": float(keep_loss.detach()), "iou": float(ious[:, ANSWER].mean()), "kind": str(kind)}

    def _jittered_box(self, target: np.ndarray) -> tuple[float, float, float, float]:
        ys, xs = np.nonzero(target)
        height, width = target.shape
        span = max(xs.max() - xs.min(), ys.max() - ys.min())
        jitter = self.rng.normal(0, 0.05 * span, 4)
        return (float(max(0, xs.min() + jitter[0])), float(max(0, ys.min() + jitter[1])),
                float(min(width - 1, xs.max() + jitter[2])), float(min(height - 1, ys.max() + jitter[3])))

    # -- validation -----------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean IoU after 1 and 3 clicks on one region per validation photo (the eval protocol)."""
        from models.segmenter.evaluation_protocol import evaluation_targets, simulate

        self.decoder.eval()
        ious1, ious3 = [], []
        for photo in self.val[:self.options.validation_photos]:
            for target in evaluation_targets(photo.name, photo.segmentations, per_photo=1):
                embedding = {key: value[None].float().to(self.device) for key, value in photo.features.items()}
                trace = simulate(self.decoder, embedding, photo.padded_size, target, clicks=3)
                ious1.append(trace[0])
                ious3.append(trace[2])
        self.decoder.train()
        return {"val_iou1": float(np.mean(ious1)), "val_iou3": float(np.mean(ious3))}

    def run(self) -> PromptDecoder:
        options = self.options
        options.out.mkdir(parents=True, exist_ok=True)
        self.decoder.train()
        started = time.time()
        recent: list[dict] = []
        while self.step < options.steps:
            for group in self.optimizer.param_groups:
                group["lr"] = self._learning_rate()
            recent.append(self.train_step())
            self.step += 1
            if self.step % options.log_every == 0:
                numbers = {key: float(np.mean([row[key] for row in recent])) for key in ("loss", "answer", "candidates", "score", "keep", "iou")}
                numbers["step"] = self.step
                self.history.append(numbers)
                elapsed = time.time() - started
                self.report(f"step {self.step}/{options.steps} loss {numbers['loss']:.3f} answer {numbers['answer']:.3f} "
                            f"cand {numbers['candidates']:.3f} score {numbers['score']:.4f} keep {numbers['keep']:.3f} train-iou {numbers['iou']:.3f} "
                            f"({elapsed / len(recent):.2f} s/step)")
                recent, started = [], time.time()
            if self.step % options.validate_every == 0 or self.step == options.steps:
                numbers = self.validate()
                numbers["step"] = self.step
                self.history.append(numbers)
                self.report(f"validation at step {self.step}: 1-click IoU {numbers['val_iou1']:.3f}, 3-click {numbers['val_iou3']:.3f}")
                started = time.time()
            if self.step % options.save_every == 0 or self.step == options.steps:
                self.save()
        return self.decoder
