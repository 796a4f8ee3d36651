"""``simnet bench --interactive``: a Transform drag and a Warp drag as the editor runs them, on 1 MP, 4K and 8K
paintings.

For each size (the shipped sample resized; a region of about 10 % of the painting): the time
until live frames can be shown once the region is selected (the first plate, its footprint filled
on the screen grid) and until the full-resolution fill is ready (``engine.live_preview.prepare_live``);
then a 60-frame drag
that moves, scales and turns the region (``live_frame`` per mouse move: median and 95th
percentile); a 60-frame Warp drag (three pins across the region, one end's dragged up: the outline bent and
``bent_frame`` per mouse move, as ``app/warp_controller.py`` does; median and 95th percentile) and the bend of
the new shape at full resolution at its release (``pin_warp``); the settle after the Transform's release (the new shape at full resolution, then the refined
preview on the plate's grid, as the editor makes it); and Apply after that preview (the
full-resolution edit reusing the prepared fill, plus the history step), beside Apply without it
(settle and Apply: medians of 3, the two Applies run in turn).
The screen is a 1600-pixel-wide view of the painting. Wall clock; engine work only (what Qt adds
to show a frame is not counted).
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np

from engine.bench_end_to_end import painting, region_masks
from engine.live_preview import (PREVIEW_ALIGN_STEPS, LivePlate, PlateFill, PlateKey, bent_frame, drag_affine,
                                 live_frame, prepare_live)
from engine.manipulator import Manipulator
from engine.mask_warp import bend_outline, pin_warp, points_box
from engine.masks import mask_centroid, outline_polygons, region_affine, region_hash, transform_mask
from engine.session import make_step
from engine.shape_motion import Pins, ShapeMotion

INTERACTIVE_SIZES = ((1152, 864), (4096, 2160), (7680, 4320))
SCREEN_SIDE = 1600
DRAG_FRAMES = 60
REGION_FRACTION = 0.10


def drag_path(frames: int, width: int, height: int) -> list[tuple[float, float, float, float]]:
    """(dx, dy, scale, angle) at each mouse move: 12 % of the width across, 10 % larger, 10 degrees turned."""
    return [(0.12 * width * t, 0.05 * height * t, 1.0 + 0.10 * t, 10.0 * t)
            for t in np.linspace(1.0 / frames, 1.0, frames)]


def measure_drag(manipulator: Manipulator, width: int, height: int, *, frames: int = DRAG_FRAMES,
                 screen_side: int = SCREEN_SIDE, repeats: int = 3) -> dict[str, float]:
    """One selection and drag on a ``width`` x ``height`` painting, then the release's settle and
    Apply (with and without the prepared fill, in turn), medians of ``repeats`` (seconds)."""
    image = painting(width, height)
    source, _ = region_masks(width, height, REGION_FRACTION)
    started = time.perf_counter()
    first: list[float] = []
    live = prepare_live(image, source, PlateKey(0, region_hash(source)), screen_side,
                        quick=lambda plate: first.append(time.perf_counter() - started))
    prepare = time.perf_counter() - started
    centre = mask_centroid(source)
    path = drag_path(frames, width, height)
    times = []
    for dx, dy, scale, angle in path:
        stamp = time.perf_counter()
        live_frame(live, drag_affine(centre, dx, dy, scale, angle))
        times.append(time.perf_counter() - stamp)
    dx, dy, scale, angle = path[-1]
    warp_frames, warp_release = measure_warp(live, source, frames)

    def settle_once() -> float:
        stamp = time.perf_counter()
        target = transform_mask(source, region_affine(source, dx=dx, dy=dy, scale_x=scale, scale_y=scale,
                                                      angle_degrees=angle))
        manipulator.edit(image, source, target, max_side=live.side, align_steps=PREVIEW_ALIGN_STEPS,
                         fill=PlateFill(live))
        return time.perf_counter() - stamp

    target = transform_mask(source, region_affine(source, dx=dx, dy=dy, scale_x=scale, scale_y=scale,
                                                  angle_degrees=angle))

    def apply(fill) -> float:
        stamp = time.perf_counter()
        result = manipulator.edit(image, source, target, fill=fill)
        make_step(image, result.image, source, target, "Reshape", result.timings, within=result.box)
        return time.perf_counter() - stamp

    settle = statistics.median(settle_once() for _ in range(repeats))
    # In turn, with and without the prepared fill, so both see the machine alike.
    reused, cold = zip(*((apply(live.fill), apply(None)) for _ in range(repeats)))
    return {"width": width, "height": height, "screen_side": live.side, "first_frame_ready_s": first[0],
            "prepare_s": prepare, "frame_median_ms": statistics.median(times) * 1000,
            "frame_p95_ms": float(np.percentile(times, 95)) * 1000,
            "warp_frame_median_ms": statistics.median(warp_frames) * 1000,
            "warp_frame_p95_ms": float(np.percentile(warp_frames, 95)) * 1000, "warp_release_s": warp_release,
            "settle_s": settle,
            "apply_after_preview_s": statistics.median(reused), "apply_without_plate_s": statistics.median(cold),
            "repeats": repeats}


def measure_warp(live: LivePlate, source: np.ndarray, frames: int) -> tuple[list[float], float]:
    """A Warp drag's frames (seconds each) and the full-resolution bend at its release: pins at the region's two
    ends and middle across its width, the right end's dragged up by a third of the region's height."""
    ys, xs = np.nonzero(source)
    left, right, middle_y = float(xs.min()), float(xs.max()), float(ys.mean())
    span_y = float(ys.max() - ys.min())
    pins = [(left + 0.1 * (right - left), middle_y), ((left + right) / 2, middle_y), (right - 0.1 * (right - left), middle_y)]
    outline = outline_polygons(source)
    times = []
    for t in np.linspace(1.0 / frames, 1.0, frames):
        moved = pins[:2] + [(pins[2][0], pins[2][1] - span_y / 3 * t)]
        stamp = time.perf_counter()
        landed = points_box(np.concatenate(bend_outline(outline, pins, moved)), 2)
        bent_frame(live, ShapeMotion((Pins(tuple(pins), tuple(moved)),)).reads, landed)
        times.append(time.perf_counter() - stamp)
    stamp = time.perf_counter()
    pin_warp(source, pins, moved)
    return times, time.perf_counter() - stamp


def run_interactive(manipulator: Manipulator, report: Callable[[str], None],
                    sizes: tuple[tuple[int, int], ...] = INTERACTIVE_SIZES) -> list[dict[str, float]]:
    """:func:`measure_drag` for each size, after one warm-up drag on the smallest."""
    measure_drag(manipulator, *sizes[0], frames=5, repeats=1)
    rows = []
    for width, height in sizes:
        row = measure_drag(manipulator, width, height)
        rows.append(row)
        report(f"interactive {width}x{height}: frames from {row['first_frame_ready_s']:.2f} s after the selection, "
               f"full fill {row['prepare_s']:.2f} s, frame {row['frame_median_ms']:.1f} ms "
               f"(p95 {row['frame_p95_ms']:.1f}), Warp frame {row['warp_frame_median_ms']:.1f} ms "
               f"(p95 {row['warp_frame_p95_ms']:.1f}, release {row['warp_release_s']:.2f} s), "
               f"settle {row['settle_s']:.2f} s, Apply after preview "
               f"{row['apply_after_preview_s']:.2f} s (without the plate {row['apply_without_plate_s']:.2f} s)")
    return rows
