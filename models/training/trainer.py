"""``simnet train``: self-supervised training on BSDS500 pairs (CPU, CUDA, or several GPUs with DDP).

Pairs are built once (in parallel) and cached beside the run. The loss is Eq. 10 plus direct
supervision of the fused field and the rendered result, which synthetic edits make possible.
Adam, lr 2e-4, betas (0.5, 0.999) as in the paper. Checkpoints are written atomically and a run
resumes from its last one.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from models.deformation import EDIT_KINDS
from models.grids import coordinate_grid, warp
from models.influence import batch_envelopes
from models.losses import (boundary_loss, contextual_loss, cycle_loss, equivariance_loss, field_loss,
                           mask_loss, random_affine, reconstruction_loss)
from models.perceptual import perceptual_distance, perceptual_network
from models.serialization import from_payload, to_payload
from models.simnet import SimNet, SimNetConfig
from models.training.bsds import candidate_regions, list_samples, load_sample
from models.training.pairs import make_pair

PAIR_KEYS = ("source_mask", "target_mask", "image", "target_image", "true_field")


@dataclass
class TrainOptions:
    data: Path
    out: Path
    steps: int = 20000
    batch_size: int = 16
    lr: float = 2e-4
    device: str = "cpu"
    seed: int = 0
    train_pairs: int = 6000
    val_pairs: int = 300
    workers: int = 2
    log_every: int = 25
    save_every: int = 250
    resume: bool = True
    config: SimNetConfig = field(default_factory=SimNetConfig)
    #: Fine-tuning: the weights to start from when there is no checkpoint to resume (same config).
    initial: SimNet | None = None
    weights: dict[str, float] = field(default_factory=lambda: {
        "field": 1.0, "rec": 4.0, "output": 2.0, "mask": 2.0, "bound": 0.2, "eq": 0.5,
        "perc": 0.02, "context": 0.05, "cycle": 1.0})


def _pairs_for_image(task: tuple[Path, Path, int, int, int]) -> list[dict[str, np.ndarray]]:
    image_path, truth_path, seed, count, size = task
    rng = np.random.default_rng(seed)
    sample = load_sample(image_path, truth_path)
    regions = candidate_regions(sample)
    pairs = []
    if not regions:
        return pairs
    for index in range(count):
        region = regions[int(rng.integers(len(regions)))]
        kind = EDIT_KINDS[index % len(EDIT_KINDS)]
        pair = make_pair(sample.image, region, rng, kind, size)
        if pair is not None:
            pairs.append(pair)
    return pairs


def build_pairs(data: Path, splits: tuple[str, ...], total: int, size: int, seed: int, workers: int,
                report: Callable[[str], None] = print) -> dict[str, np.ndarray]:
    """``total`` pairs spread over the splits' photos, made by ``workers`` processes.

    Fewer pairs than photos come from evenly spaced photos (with a quarter more for photos that
    yield no usable region), so a small run does not read the whole data set.
    """
    samples = list_samples(data, splits)
    wanted_photos = math.ceil(total * 1.25) + 1
    if wanted_photos < len(samples):
        samples = [samples[index] for index in np.linspace(0, len(samples) - 1, wanted_photos).round().astype(int)]
    per_image = max(1, math.ceil(total / len(samples)))
    tasks = [(image, truth, seed * 100003 + index, per_image, size) for index, (image, truth) in enumerate(samples)]
    collected: list[dict[str, np.ndarray]] = []
    started = time.time()
    with Pool(max(1, workers)) as pool:
        for done, pairs in enumerate(pool.imap(_pairs_for_image, tasks), start=1):
            collected.extend(pairs)
            if done % 50 == 0 or done == len(tasks):
                report(f"pairs {splits}: {done}/{len(tasks)} photos, {len(collected)} pairs, {time.time() - started:.0f} s")
    collected = collected[:total]
    return {key: np.stack([pair[key] for pair in collected]) for key in PAIR_KEYS}


def load_or_build_pairs(options: TrainOptions, splits: tuple[str, ...], total: int, name: str,
                        report: Callable[[str], None]) -> dict[str, torch.Tensor]:
    cache = options.out / f"pairs_{name}_{options.config.working_size}_{total}_{options.seed}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            arrays = {key: stored[key] for key in PAIR_KEYS}
    else:
        arrays = build_pairs(options.data, splits, total, options.config.working_size, options.seed, options.workers, report)
        temporary = cache.with_suffix(".tmp.npz")
        np.savez(temporary, **arrays)
        os.replace(temporary, cache)
    # The network's fourth input, computed once per pair from its masks (not stored: it is theirs).
    arrays["envelope"] = batch_envelopes(arrays["source_mask"], arrays["target_mask"])
    return {key: torch.from_numpy(value) for key, value in arrays.items()}


def _flip(batch: dict[str, torch.Tensor], flags: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mirror some samples left-right (fields: x coordinates negate)."""
    out = {}
    for key, value in batch.items():
        if key == "true_field":
            flipped = value.flip(2) * torch.tensor([-1.0, 1.0])
        else:
            flipped = value.flip(3)
        shape = (-1,) + (1,) * (value.dim() - 1)
        out[key] = torch.where(flags.view(shape), flipped, value)
    return out


def edited_area(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Where the true edit acts: pixels it moves by more than 0.1 working pixel, or either mask."""
    size = batch["true_field"].shape[1]
    still = coordinate_grid(size, batch["true_field"].device)
    moved = ((batch["true_field"] - still).abs().amax(dim=-1) * size / 2 > 0.1).float()[:, None]
    return torch.clamp(moved + batch["source_mask"] + batch["target_mask"], 0, 1)


def compute_losses(model: SimNet, batch: dict[str, torch.Tensor], step: int, options: TrainOptions,
                   perceptual: torch.nn.Module | None) -> dict[str, torch.Tensor]:
    core = model.module if hasattr(model, "module") else model
    out = model(batch["source_mask"], batch["target_mask"], batch["image"], batch["envelope"])
    area = edited_area(batch)
    pseudo = warp(batch["image"], out.fused_field)  # Eq. 7
    losses = {
        "field": field_loss(out.fused_field, batch["true_field"], 0.2 + area[:, 0]),
        "rec": reconstruction_loss(pseudo, batch["target_image"], area),
        "output": reconstruction_loss(out.output, batch["target_image"], area),
        "mask": mask_loss(out.warped_mask, batch["target_mask"]),
        "bound": boundary_loss(out.warped_masks, batch["target_mask"]),
    }
    if step % 4 == 2:
        affine = random_affine(batch["source_mask"].shape[0], 0.08, device=batch["source_mask"].device)
        losses["eq"] = equivariance_loss(core.keypoint_detector, batch["source_mask"], out.source_keypoints,
                                         out.source_jacobians, affine)
    if perceptual is not None and step % 8 == 0:
        losses["perc"] = perceptual_distance(perceptual, pseudo, batch["target_image"])
    if perceptual is not None and step % 16 == 8:
        losses["context"] = contextual_loss(perceptual(out.output)[-1], perceptual(pseudo.detach())[-1])
    if step % 16 == 4:
        losses["cycle"] = cycle_loss(model, pseudo, batch["source_mask"], batch["target_mask"], batch["image"],
                                     batch["envelope"])
    return losses


@torch.no_grad()
def validate(model: SimNet, pairs: dict[str, torch.Tensor], device: torch.device, batch_size: int = 50) -> dict[str, float]:
    """End-point error of the fused field (working pixels) and PSNR of the result on the edited area."""
    model.eval()
    errors, squared, counts = [], 0.0, 0.0
    for start in range(0, pairs["image"].shape[0], batch_size):
        batch = {key: value[start:start + batch_size].to(device) for key, value in pairs.items()}
        out = model(batch["source_mask"], batch["target_mask"], batch["image"], batch["envelope"])
        area = edited_area(batch)
        errors.append(field_loss(out.fused_field, batch["true_field"], area[:, 0]).item())
        result = warp(batch["image"], out.fused_field)
        squared += float((((result - batch["target_image"]) ** 2) * area).sum())
        counts += float(area.sum()) * 3
    model.train()
    mse = squared / max(counts, 1.0)
    return {"field_epe": float(np.mean(errors)), "psnr_edited": 10 * math.log10(1.0 / max(mse, 1e-12))}


def _save(path: Path, payload: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def train(options: TrainOptions, report: Callable[[str], None] = print) -> dict[str, float]:
    """Run (or resume) training; returns the last validation numbers."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    distributed = world_size > 1
    if distributed:
        dist.init_process_group("nccl" if options.device.startswith("cuda") else "gloo")
    device = torch.device(options.device)
    if device.type == "cuda" and distributed:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    main_process = rank == 0
    say = report if main_process else (lambda message: None)
    options.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(options.seed + rank)

    train_pairs = load_or_build_pairs(options, ("train", "test"), options.train_pairs, "train", say)
    val_pairs = load_or_build_pairs(options, ("val",), options.val_pairs, "val", say)
    say(f"{train_pairs['image'].shape[0]} training pairs, {val_pairs['image'].shape[0]} validation pairs")

    model = SimNet(options.config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=options.lr, betas=(0.5, 0.999))
    step, best = 0, {"field_epe": float("inf")}
    last_path = options.out / "last.pt"
    if options.resume and last_path.exists():
        payload = torch.load(last_path, map_location="cpu", weights_only=False)
        model.load_state_dict(from_payload(payload).state_dict())
        optimizer.load_state_dict(payload["metadata"]["optimizer"])
        step = int(payload["metadata"]["step"])
        best = payload["metadata"].get("best", best)
        say(f"resumed from {last_path} at step {step}")
    elif options.initial is not None:
        model.load_state_dict(options.initial.state_dict())
        say("starting from the given model's weights")
    trained = model
    if distributed:
        trained = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    perceptual = perceptual_network().to(device) if (options.weights.get("perc") or options.weights.get("context")) else None

    generator = torch.Generator().manual_seed(options.seed * 7919 + rank + step)
    count = train_pairs["image"].shape[0]
    started = time.time()
    start_step = step
    metrics: dict[str, float] = {}
    while step < options.steps:
        indices = torch.randint(count, (options.batch_size,), generator=generator)
        batch = {key: value[indices] for key, value in train_pairs.items()}
        batch = _flip(batch, torch.rand(options.batch_size, generator=generator) < 0.5)
        batch = {key: value.to(device) for key, value in batch.items()}
        losses = compute_losses(trained, batch, step, options, perceptual)
        total = sum(options.weights[name] * value for name, value in losses.items())
        if not torch.isfinite(total):
            say(f"step {step}: non-finite loss, batch skipped")
            optimizer.zero_grad(set_to_none=True)
            step += 1
            continue
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        step += 1
        if main_process and step % options.log_every == 0:
            rate = (step - start_step) / max(time.time() - started, 1e-6)
            eta = (options.steps - step) / max(rate, 1e-6)
            parts = " ".join(f"{name}={value.item():.4f}" for name, value in losses.items())
            say(f"step {step}/{options.steps} loss={total.item():.4f} {parts} {rate:.2f} it/s eta {eta / 60:.1f} min")
        if main_process and (step % options.save_every == 0 or step == options.steps):
            metrics = validate(model, val_pairs, device)
            improved = metrics["field_epe"] < best["field_epe"]
            if improved:
                best = dict(metrics, step=step)
                _save(options.out / "best.pt", to_payload(model, {"step": step, "validation": metrics}))
            _save(last_path, to_payload(model, {"step": step, "best": best, "validation": metrics,
                                                "optimizer": optimizer.state_dict()}))
            say(f"validation at step {step}: field EPE {metrics['field_epe']:.3f} px, "
                f"PSNR(edited) {metrics['psnr_edited']:.2f} dB{' (best)' if improved else ''}")
    if distributed:
        dist.destroy_process_group()
    return metrics
