"""What every ``simnet bench`` measurement shares: timing with spread, the test canvases and
regions, and a description of the machine. Both engine/benchmark.py and engine/bench_end_to_end.py
build on this module, so neither imports the other at module level.
"""
from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass
class Timing:
    median: float
    spread: float  # interquartile range, seconds
    runs: int

    def as_dict(self) -> dict[str, float]:
        return {"median_s": self.median, "iqr_s": self.spread, "runs": self.runs}


#: The smallest canvas side a benchmark edits (its region is a share of the canvas).
MIN_BENCH_SIDE = 64


def parse_sizes(text: str, max_pixels: int | None = None) -> list[tuple[int, int]]:
    """'512,4096x2160' -> [(512, 512), (4096, 2160)] as (width, height). ValueError for what is not a size, a
    side under MIN_BENCH_SIDE or more than ``max_pixels`` pixels (the images' own limit)."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        width, cross, height = part.partition("x")
        try:
            if cross and not height:  # "64x": a side left out, not a square
                raise ValueError(part)
            size = (int(width), int(height or width))
        except ValueError:
            raise ValueError(f"{part!r} is not a size; use e.g. 512,1024,4096x2160") from None
        if min(size) < MIN_BENCH_SIDE:
            raise ValueError(f"{part} is smaller than {MIN_BENCH_SIDE}x{MIN_BENCH_SIDE}")
        if max_pixels is not None and size[0] * size[1] > max_pixels:
            raise ValueError(f"{part} is over the limit of {max_pixels / 1e6:g} megapixels (SIMNET_MAX_PIXELS)")
        sizes.append(size)
    return sizes


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(function: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> Timing:
    for _ in range(warmup):
        function()
    synchronise(device)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        synchronise(device)
        samples.append(time.perf_counter() - started)
    quartiles = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
    return Timing(statistics.median(samples), quartiles[2] - quartiles[0], len(samples))


def synthetic_canvas(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A painterly test canvas: smooth colour fields plus brush-like noise."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(0, 6, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 9, width, dtype=np.float32)[None, :]
    base = np.stack([np.sin(xs + ys), np.cos(xs * 0.7 - ys), np.sin(xs * 0.3 + ys * 1.3)], axis=-1)
    noise = rng.integers(-20, 20, size=(height, width, 1), dtype=np.int16)
    return np.clip(base * 90 + 128 + noise, 0, 255).astype(np.uint8)


def ellipse(width: int, height: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    ys, xs = np.ogrid[0:height, 0:width]
    return ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0


def machine_description(device: torch.device) -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    info: dict[str, object] = {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                               "torch": torch.__version__, "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def peak_process_memory_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
