"""``simnet bench``: where an edit's time goes, at several canvas sizes.

For each size: (a) the network alone at its working resolution, (b) a whole edit whose region
scales with the canvas, (c) a small fixed-size edit on the same canvas (its cost should not grow
with the canvas), and (d) the floor: one full-resolution copy of the image. Medians and spread
over repeats after warm-up; CUDA timings are synchronised. ``--end-to-end`` adds edits measured
file to file (engine/bench_end_to_end.py).
"""
from __future__ import annotations

import contextlib
import os
import time
from typing import Callable, Iterator

import numpy as np
import torch

from engine.bench_common import (ellipse, machine_description, measure, peak_process_memory_mb, synchronise,
                                 synthetic_canvas)
from engine.compiler_import import skip_compiler_import
from engine.manipulator import ALIGN_RECORD, DEFAULT_ALIGN_STEPS, Manipulator
from models.influence import influence_envelope


def run_benchmark(sizes: list[tuple[int, int]], device: str = "auto", repeats: int = 5, warmup: int = 1,
                  checkpoint: str | None = None, report: Callable[[str], None] = lambda line: None, *,
                  end_to_end: bool = False, align_steps: int = DEFAULT_ALIGN_STEPS) -> dict[str, object]:
    """The core figures for each size; with ``end_to_end``, first the file-to-file figures of
    engine/bench_end_to_end.py (so that its first edit is the process's first)."""
    skip_compiler_import()
    started = time.perf_counter()
    manipulator = Manipulator(checkpoint, device=device, align_steps=align_steps)
    dev = manipulator.device
    load_s = time.perf_counter() - started
    end_to_end_results = None
    if end_to_end:
        from engine.bench_end_to_end import run_end_to_end

        report(f"model loaded in {load_s:.2f} s")
        end_to_end_results = run_end_to_end(manipulator, repeats, max(1, warmup), report)
    size = manipulator.working_size
    masks = torch.zeros(1, 1, size, size, device=dev)
    masks[..., size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
    shifted = torch.roll(masks, shifts=size // 8, dims=3)
    envelope = torch.from_numpy(influence_envelope(masks[0, 0].cpu().numpy(), shifted[0, 0].cpu().numpy()))
    envelope = envelope[None, None].to(dev)

    def network() -> None:
        with torch.inference_mode():
            manipulator.model.correspond(masks, shifted, envelope)

    results: dict[str, object] = {"machine": machine_description(dev), "working_size": size, "model_load_s": load_s,
                                  "align_steps": manipulator.align_steps,
                                  "network": measure(network, dev, repeats, warmup).as_dict(), "sizes": []}
    if end_to_end_results is not None:
        results["end_to_end"] = end_to_end_results
    report(f"network at {size}x{size}: {results['network']['median_s'] * 1000:.1f} ms")
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    for width, height in sizes:
        canvas = synthetic_canvas(width, height)
        large_source, large_target = scaled_region(width, height)
        small_source = ellipse(width, height, width * 0.5, height * 0.5, 40, 30)
        small_target = ellipse(width, height, width * 0.5 + 12, height * 0.5, 46, 28)
        large = measure(lambda: manipulator.edit(canvas, large_source, large_target), dev, repeats, warmup)
        small = measure(lambda: manipulator.edit(canvas, small_source, small_target), dev, repeats, warmup)
        floor = measure(lambda: canvas.copy(), torch.device("cpu"), repeats, warmup)
        row = {"width": width, "height": height, "edit": large.as_dict(), "small_edit": small.as_dict(),
               "floor_copy": floor.as_dict(), "edit_over_floor": large.median / max(floor.median, 1e-9),
               "peak_process_mb": peak_process_memory_mb()}
        if dev.type == "cuda":
            row["peak_cuda_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
        results["sizes"].append(row)
        report(f"{width}x{height}: edit {large.median * 1000:.0f} ms (IQR {large.spread * 1000:.0f}), small edit "
               f"{small.median * 1000:.0f} ms, copy {floor.median * 1000:.1f} ms, peak {row['peak_process_mb']:.0f} MB")
    results["alignment"] = alignment = alignment_launches(manipulator)
    report(f"alignment of a 1024x1024 edit: {alignment['align_s'] * 1000:.0f} ms, {alignment['operators']} operator "
           f"calls, {alignment['kernel_launches']} kernel launches ({alignment['per_operator_us']:.0f} us per operator)")
    results["segmentation"] = segmentation_benchmark(repeats, warmup)
    segmentation = results["segmentation"]
    report(f"fallback segmenter on {segmentation['width']}x{segmentation['height']}: prepare "
           f"{segmentation['prepare_s']:.2f} s once, then a click {segmentation['click']['median_s'] * 1000:.0f} ms")
    from engine.segmentation.timing import bench_segmenter

    results["segmenter"] = bench_segmenter([(2000, 1500)], repeats, warmup, report=report)
    return results


def scaled_region(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's "edit": an elliptic region about a sixth of the canvas's short side, moved by
    a third of its size and grown, so that it scales with the canvas."""
    side = min(width, height)
    source = ellipse(width, height, width * 0.45, height * 0.5, side * 0.18, side * 0.14)
    target = ellipse(width, height, width * 0.52, height * 0.48, side * 0.22, side * 0.13)
    return source, target


def alignment_launches(manipulator: Manipulator, width: int = 1024, height: int = 1024) -> dict[str, object]:
    """What the test-time alignment costs in launches: one edit profiled with ``torch.profiler``.

    The alignment is many small L-BFGS steps on 128 x 128 masks; on a GPU each tensor operator is
    at least one kernel launch of a few microseconds, so the launch count times that latency bounds
    the stage from below. Counted within the edit's alignment stage: the top-level aten operators it
    dispatches (not the ones they call), and on CUDA the kernel launches (0 on the CPU)."""
    from torch.profiler import ProfilerActivity, profile

    canvas = synthetic_canvas(width, height, seed=3)
    source, target = scaled_region(width, height)
    manipulator.edit(canvas, source, target)  # warm
    align_s = float(manipulator.edit(canvas, source, target).timings["align"])  # timed without the profiler
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if manipulator.device.type == "cuda" else [])
    with _quiet_stderr(), profile(activities=activities) as profiler:
        manipulator.edit(canvas, source, target)
        synchronise(manipulator.device)

    def in_alignment(event) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name == ALIGN_RECORD:
                return True
            parent = parent.cpu_parent
        return False

    events = [event for event in profiler.events() if in_alignment(event)]
    operators = sum(1 for event in events
                    if event.name.startswith("aten::") and not event.cpu_parent.name.startswith("aten::"))
    launches = sum(1 for event in events if event.name in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"))
    return {"width": width, "height": height, "align_s": align_s, "operators": operators, "kernel_launches": launches,
            "per_operator_us": align_s / max(operators, 1) * 1e6}


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The profiler's C++ side prints its start and stop on file descriptor 2; they are not results."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def segmentation_benchmark(repeats: int, warmup: int, width: int = 2000, height: int = 1500) -> dict[str, object]:
    """The weight-free GrabCut fallback on a 2000-pixel canvas: its one-time preparation, then one click."""
    from engine.segmentation.fallback import FallbackSegmenter

    canvas = synthetic_canvas(width, height, seed=1)
    shape = ellipse(width, height, width * 0.4, height * 0.5, width * 0.12, height * 0.2)
    canvas[shape] = (canvas[shape] // 3 + np.array([150, 40, 30], np.uint8)).astype(np.uint8)
    segmenter = FallbackSegmenter()
    started = time.perf_counter()
    segmenter.set_image(canvas)
    prepare = time.perf_counter() - started
    click = measure(lambda: segmenter.predict([(width * 0.4, height * 0.5)], [1]), torch.device("cpu"), repeats, warmup)
    return {"width": width, "height": height, "prepare_s": prepare, "click": click.as_dict()}
