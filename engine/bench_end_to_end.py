"""``simnet bench --end-to-end``: edits as a user runs them, files in and files out.

(a) a 4096x2160 painting whose region covers about 10 % of it: one file edit (read the image and
both masks, edit, write the PNG) with the stages' medians, and ``simnet batch`` of six such edits
(reading and writing overlapped with the edits), its wall clock per edit; (b) ``simnet
edit`` on the shipped sample after the model has loaded; (c) the editor's PNG export of an 8K
painting (and of a noisy canvas, the hardest case for compression); (d) one small region edited
on a 1K and on an 8K canvas, to show that an edit's cost follows the edited area, not the canvas.
The paintings are the shipped sample resized; all files live in a temporary folder. Wall-clock
medians, plus the process's CPU seconds (a steadier figure on a shared machine).
"""
from __future__ import annotations

import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from engine.bench_common import Timing, ellipse, measure, peak_process_memory_mb, synthetic_canvas
from engine.imageio import load_image, save_image, save_mask
from engine.manipulator import Manipulator
from engine.batch_runner import FileEdit, run_batch
from engine.pipeline import edit_file

BATCH_SIZE = (4096, 2160)
EXPORT_SIZE = (7680, 4320)
REGION_FRACTION = 0.10
#: Edits in the measured ``simnet batch`` run.
BATCH_RUN_EDITS = 6
#: The edit's own stages (EditResult.timings) and the file stages the pipeline adds.
FILE_STAGES = ("read", "prepare", "network", "align", "render", "write")


def sample_path(name: str) -> Path:
    return Path(str(resources.files("resources").joinpath("samples", name)))


def painting(width: int, height: int) -> np.ndarray:
    """The shipped sample resized to ``width`` x ``height`` (bicubic): a painting's smooth fields and strokes."""
    sample = load_image(sample_path("starry_night.jpg")).pixels
    return cv2.resize(sample, (width, height), interpolation=cv2.INTER_CUBIC)


def region_masks(width: int, height: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """An elliptical region of about ``fraction`` of the canvas, and its new shape: moved by 3 % of
    the width, 5 % wider and 3 % flatter."""
    radius_x = 0.2 * width
    radius_y = fraction * width * height / (np.pi * radius_x)
    source = ellipse(width, height, 0.45 * width, 0.5 * height, radius_x, radius_y)
    target = ellipse(width, height, 0.48 * width, 0.48 * height, radius_x * 1.05, radius_y * 0.97)
    return source, target


def _spread(samples: list[float]) -> Timing:
    quartiles = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
    return Timing(statistics.median(samples), quartiles[2] - quartiles[0], len(samples))


def measure_file_edits(manipulator: Manipulator, image: Path, source: Path, target: Path, output: Path,
                       repeats: int, warmup: int) -> dict[str, object]:
    """``edit_file`` repeated: the whole edit (wall clock, reading and writing included) and each stage.

    The first run is always made and reported apart ("first_run_s"; the process's first edit when
    this is the first thing measured); further warm-up runs make ``warmup`` in all."""
    def one() -> tuple[float, float, dict[str, float]]:
        started, cpu = time.perf_counter(), time.process_time()
        result = edit_file(manipulator, image, source, target, output)
        if manipulator.device.type == "cuda":
            torch.cuda.synchronize(manipulator.device)
        return time.perf_counter() - started, time.process_time() - cpu, result.timings

    first, _, _ = one()
    for _ in range(warmup - 1):
        one()
    runs = [one() for _ in range(repeats)]
    stages = {stage: _spread([timings.get(stage, 0.0) for _, _, timings in runs]).as_dict() for stage in FILE_STAGES}
    return {"per_edit": _spread([whole for whole, _, _ in runs]).as_dict(),
            "per_edit_cpu_s": statistics.median(cpu for _, cpu, _ in runs), "stages": stages, "first_run_s": first,
            "output_mb": output.stat().st_size / 1e6}


def batch_benchmark(manipulator: Manipulator, folder: Path, repeats: int, warmup: int) -> dict[str, object]:
    width, height = BATCH_SIZE
    source, target = region_masks(width, height, REGION_FRACTION)
    paths = [folder / name for name in ("art.png", "source.png", "target.png", "edited.png")]
    save_image(paths[0], painting(width, height))
    save_mask(paths[1], source)
    save_mask(paths[2], target)
    row = measure_file_edits(manipulator, *paths, repeats, warmup)
    return {"width": width, "height": height, "region_fraction": float(source.mean()), **row,
            "batch_run": measure_batch_run(manipulator, *paths[:3], folder, BATCH_RUN_EDITS)}


def measure_batch_run(manipulator: Manipulator, image: Path, source: Path, target: Path, folder: Path,
                      count: int) -> dict[str, object]:
    """What ``simnet batch`` does with ``count`` such edits (files read ahead and written behind the
    edits): the whole run's wall clock, the first read and the last write included, per edit."""
    edits = [FileEdit(image, source, target, folder / f"batch_{index}.png") for index in range(count)]
    failures: list[object] = []
    started, cpu = time.perf_counter(), time.process_time()
    run_batch(manipulator, edits, lambda index, outcome: failures.append(outcome) if isinstance(outcome, Exception)
              else None)
    whole, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failures:
        raise RuntimeError(f"the benchmark's batch failed: {failures[0]}")
    return {"edits": count, "wall_s": whole, "per_edit_s": whole / count, "per_edit_cpu_s": cpu / count}


def sample_benchmark(manipulator: Manipulator, folder: Path, repeats: int, warmup: int) -> dict[str, object]:
    paths = [sample_path(name) for name in ("starry_night.jpg", "starry_night_source.png", "starry_night_target.png")]
    row = measure_file_edits(manipulator, *paths, folder / "starry_night_edited.png", repeats, warmup)
    height, width = load_image(paths[0]).pixels.shape[:2]
    return {"width": width, "height": height, **row}


def export_benchmark(folder: Path, repeats: int, warmup: int) -> dict[str, object]:
    """``save_image`` (what File > Export Image calls) of an 8K painting and of an 8K noisy canvas."""
    width, height = EXPORT_SIZE
    results: dict[str, object] = {"width": width, "height": height}
    for name, pixels in (("painting", painting(width, height)), ("noisy", synthetic_canvas(width, height))):
        path = folder / f"export_{name}.png"
        cpu = time.process_time()
        timing = measure(lambda pixels=pixels: save_image(path, pixels), torch.device("cpu"), repeats, warmup)
        cpu_per_run = (time.process_time() - cpu) / (repeats + warmup)
        results[name] = {**timing.as_dict(), "cpu_s": cpu_per_run, "output_mb": path.stat().st_size / 1e6}
        del pixels
        path.unlink()
    return results


def canvas_scaling_benchmark(manipulator: Manipulator, repeats: int, warmup: int) -> dict[str, object]:
    """One ~80x60-pixel region, edited in memory on a 1024x1024 and a 7680x4320 canvas."""
    rows = {}
    for key, (width, height) in (("canvas_1k", (1024, 1024)), ("canvas_8k", EXPORT_SIZE)):
        canvas = synthetic_canvas(width, height, seed=2)
        source = ellipse(width, height, width * 0.5, height * 0.5, 40, 30)
        target = ellipse(width, height, width * 0.5 + 12, height * 0.5, 46, 28)
        rows[key] = measure(lambda: manipulator.edit(canvas, source, target), manipulator.device, repeats,
                            warmup).as_dict()
        rows[key].update(width=width, height=height)
    rows["ratio_8k_to_1k"] = rows["canvas_8k"]["median_s"] / max(rows["canvas_1k"]["median_s"], 1e-9)
    return rows


def run_end_to_end(manipulator: Manipulator, repeats: int, warmup: int,
                   report: Callable[[str], None] = lambda line: None) -> dict[str, object]:
    """Every end-to-end figure (see the module's docstring), with the process's peak memory after them."""
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="simnet-bench-") as temporary:
        folder = Path(temporary)
        results["batch_4k"] = batch = batch_benchmark(manipulator, folder, repeats, warmup)
        report(_file_line(f"one file edit {batch['width']}x{batch['height']}, region {batch['region_fraction']:.0%}",
                          batch))
        run = batch["batch_run"]
        report(f"simnet batch of {run['edits']} such edits: {run['per_edit_s']:.2f} s per edit "
               f"({run['wall_s']:.1f} s in all, {run['per_edit_cpu_s']:.2f} s of CPU per edit)")
        results["sample_edit"] = sample = sample_benchmark(manipulator, folder, repeats, warmup)
        report(_file_line(f"simnet edit on the sample ({sample['width']}x{sample['height']})", sample))
        results["png_export_8k"] = export = export_benchmark(folder, repeats, warmup)
        report(f"PNG export {export['width']}x{export['height']}: painting {export['painting']['median_s']:.2f} s "
               f"({export['painting']['output_mb']:.0f} MB), noisy canvas {export['noisy']['median_s']:.2f} s "
               f"({export['noisy']['output_mb']:.0f} MB)")
    results["small_region"] = scaling = canvas_scaling_benchmark(manipulator, repeats, warmup)
    report(f"small region: {scaling['canvas_1k']['median_s'] * 1000:.0f} ms on 1024x1024, "
           f"{scaling['canvas_8k']['median_s'] * 1000:.0f} ms on 7680x4320 (x{scaling['ratio_8k_to_1k']:.2f})")
    results["peak_process_mb"] = peak_process_memory_mb()
    return results


def _file_line(title: str, row: dict[str, object]) -> str:
    stages = ", ".join(f"{stage} {row['stages'][stage]['median_s']:.2f}" for stage in FILE_STAGES)
    return (f"{title}: {row['per_edit']['median_s']:.2f} s per edit, {row['per_edit_cpu_s']:.2f} s of CPU ({stages}); "
            f"first run {row['first_run_s']:.2f} s")
